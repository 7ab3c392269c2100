// libFuzzer target: the decoders of `kea-lwm2m decode` (LwM2MCapture):
// pcap files, frames down to UDP, DHCP replies, DHCPv4 and DHCPv6 options
// areas.
//
// Input: a capture file when it starts with a pcap magic number (so real
// captures are seeds as they are); otherwise one byte (bit 0: family 4 or 6),
// the two option codes (DHCPv4: one octet each; DHCPv6: two), and an options
// area as `kea-lwm2m decode HEX` takes it.
//
// Properties: a capture that reads has exactly its records, end to end; the
// options of every reply, and of an options area, are what an independent
// RFC 3396 reassembly (DHCPv4) or option walk (DHCPv6) finds, with relay
// layers unwrapped independently too; an options area is refused exactly
// when it is malformed before its END; every failure is a MalformedInput with
// a reason, never a trap; the text an operator reads is produced.
import FuzzSupport
import LwM2MCapture
import LwM2MCore

private let magics: Set<[UInt8]> = [
    [0xa1, 0xb2, 0xc3, 0xd4], [0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d], [0x4d, 0x3c, 0xb2, 0xa1],
    [0x0a, 0x0d, 0x0d, 0x0a],
]

private func fuzzCapture(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput(data, size).bytes
    if bytes.count >= 4, magics.contains(Array(bytes[0..<4])) {
        capture(bytes)
    } else {
        optionsArea(FuzzInput(bytes: bytes))
    }
    return 0
}

private func capture(_ bytes: [UInt8]) {
    let file: PcapFile
    do {
        file = try PcapFile(bytes: bytes)
    } catch {
        Property.check(!error.reason.isEmpty, "a refusal without a reason")
        return
    }
    let covered = 24 + file.records.reduce(0) { $0 + 16 + $1.data.count }
    Property.check(covered == bytes.count, "records cover \(covered) of \(bytes.count) octets")
    for (index, record) in file.records.enumerated() {
        Property.check(record.number == index + 1, "record \(index) numbered \(record.number)")
        Property.check(record.data.count <= PcapFile.maxRecordLength, "record of \(record.data.count) octets")
        let context = "packet \(record.number)"
        do {
            guard let datagram = try FrameDissector.udp(record.data, linkType: file.linkType, context: context),
                  let reply = try DHCPReply.parse(datagram, codes: CodePair.defaults(for:), context: context) else { continue }
            check(reply, payload: datagram.payload)
        } catch {
            Property.check(!error.reason.isEmpty, "a refusal without a reason")
        }
    }
}

/// The reply's options against an independent reading of its payload.
private func check(_ reply: DHCPReply, payload: [UInt8]) {
    let codes = CodePair.defaults(for: reply.family)
    switch reply.family {
    case .v4:
        Property.check(reply.relayHops == 0, "a DHCPv4 reply with relay hops")
        let area = Array(payload.dropFirst(240))
        Property.check(reply.options.uri == WireOptions.v4Reassemble(UInt8(codes.uri), in: area), "DHCPv4 URI reassembly")
        Property.check(reply.options.certificate == WireOptions.v4Reassemble(UInt8(codes.certificate), in: area),
                       "DHCPv4 certificate reassembly")
    case .v6:
        var message = payload
        for _ in 0..<reply.relayHops {
            Property.check(message.first == 13, "relay hops counted over a message that is no Relay-reply")
            guard let inner = WireOptions.v6First(9, in: Array(message.dropFirst(34))) else {
                Property.fail("a Relay-reply unwrapped without a Relay Message option")
            }
            message = inner
        }
        Property.check(message.first == 2 || message.first == 7, "DHCPv6 reply of type \(message.first ?? 0)")
        let area = Array(message.dropFirst(4))
        Property.check(reply.options.uri == WireOptions.v6First(codes.uri, in: area), "DHCPv6 URI")
        Property.check(reply.options.certificate == WireOptions.v6First(codes.certificate, in: area), "DHCPv6 certificate")
    }
    Property.check(!reply.options.lines().isEmpty, "no text for a reply")
}

private func optionsArea(_ input: FuzzInput) {
    var input = input
    let family: AddressFamily = input.u8() & 1 == 0 ? .v4 : .v6
    let codes: CodePair
    switch family {
    case .v4:
        let uri = UInt16(input.u8()), certificate = UInt16(input.u8())
        guard uri >= 1, uri <= 254, certificate >= 1, certificate <= 254, uri != certificate else { return }
        codes = CodePair(uri: uri, certificate: certificate)
    case .v6:
        let uri = input.u16(), certificate = input.u16()
        guard uri != 0, certificate != 0, uri != certificate else { return }
        codes = CodePair(uri: uri, certificate: certificate)
    }
    let area = input.rest()
    let found: FoundOptions
    do {
        found = family == .v4 ? try DHCPOptions.v4(area, codes: codes, context: "HEX")
                              : try DHCPOptions.v6(area, codes: codes, context: "HEX")
    } catch {
        Property.check(!error.reason.isEmpty, "a refusal without a reason")
        Property.check(!wellFormed(area, family: family), "a well-formed \(family) options area refused: \(error.reason)")
        return
    }
    Property.check(wellFormed(area, family: family), "a malformed \(family) options area accepted")
    switch family {
    case .v4:
        Property.check(found.uri == WireOptions.v4Reassemble(UInt8(codes.uri), in: area), "DHCPv4 URI reassembly")
        Property.check(found.certificate == WireOptions.v4Reassemble(UInt8(codes.certificate), in: area),
                       "DHCPv4 certificate reassembly")
    case .v6:
        Property.check(found.uri == WireOptions.v6First(codes.uri, in: area), "DHCPv6 URI")
        Property.check(found.certificate == WireOptions.v6First(codes.certificate, in: area), "DHCPv6 certificate")
    }
    Property.check(!found.lines().isEmpty, "no text for an options area")
}

/// Whether every option up to END (DHCPv4) or the end (DHCPv6) lies within the area.
private func wellFormed(_ area: [UInt8], family: AddressFamily) -> Bool {
    var index = 0
    switch family {
    case .v4:
        while index < area.count {
            if area[index] == 0 { index += 1; continue }
            if area[index] == 255 { return true }
            guard index + 1 < area.count else { return false }
            index += 2 + Int(area[index + 1])
        }
        return index == area.count
    case .v6:
        while index < area.count {
            guard index + 4 <= area.count else { return false }
            index += 4 + (Int(area[index + 2]) << 8 | Int(area[index + 3]))
        }
        return index == area.count
    }
}

// Last: every global above is initialized before the first input.
Fuzzer.main(fuzzCapture)

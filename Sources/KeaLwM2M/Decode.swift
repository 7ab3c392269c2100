import ArgumentParser
import LwM2MCapture
import LwM2MCore

/// `kea-lwm2m decode`: our options from a payload or a packet capture.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode the LwM2M options from a hex payload or from the DHCP replies in a pcap capture.",
        discussion: """
            HEX is a DHCP options area as it appears on the wire (DHCPv4: the bytes after \
            the magic cookie, which may be included; DHCPv6: the options after the message \
            header). With --pcap, every DHCPv4 and DHCPv6 server reply in a classic pcap file \
            (Ethernet, Linux cooked or raw IP; DHCPv6 Relay-reply unwrapped) is shown. DHCPv4 \
            options split into several instances (RFC 3396) are reassembled. Exit status 0 \
            when LwM2M options were found, 1 when none, 2 when the input is malformed.
            """)

    @Argument(help: "The options area in hex (spaces and colons allowed).")
    var hex: String?

    @Option(help: "The family of HEX, or the only family shown from a capture (4 or 6; HEX default 4).")
    var family: FamilyArgument?

    @Option(help: "The server's option codes, URI,CERT (default 224,225 for DHCPv4 and 200,201 for DHCPv6).")
    var codes: CodePair?

    @Option(help: "A classic pcap file (tcpdump -w) to read the replies from.")
    var pcap: String?

    func validate() throws {
        guard (hex == nil) != (pcap == nil) else { throw ToolError("give either HEX or --pcap FILE") }
    }

    func run() throws {
        if let pcap {
            try decodeCapture(pcap)
        } else {
            try decodePayload(hex ?? "")
        }
    }

    private func decodePayload(_ hex: String) throws {
        let family = self.family?.family ?? .v4
        guard let parsed = Output.bytes(fromHex: hex) else {
            throw ToolError("HEX is not an even number of hex digits")
        }
        var bytes = parsed
        let codes = self.codes ?? CodePair.defaults(for: family)
        try check(codes, family: family)
        if family == .v4, bytes.starts(with: [0x63, 0x82, 0x53, 0x63]) { bytes.removeFirst(4) }
        let found: FoundOptions
        do {
            found = family == .v4 ? try DHCPOptions.v4(bytes, codes: codes, context: "HEX")
                                  : try DHCPOptions.v6(bytes, codes: codes, context: "HEX")
        } catch {
            throw ToolError(error.reason)
        }
        for line in found.lines() { print(line) }
        if found.isEmpty { throw ExitCode(1) }
    }

    private func check(_ codes: CodePair, family: AddressFamily) throws(ToolError) {
        if family == .v4, codes.uri > 255 || codes.certificate > 255 {
            throw ToolError("--codes: DHCPv4 option codes are 1 to 254")
        }
    }

    private func decodeCapture(_ path: String) throws {
        let contents = try Output.read(path)
        let capture: PcapFile
        do { capture = try PcapFile(bytes: contents) } catch { throw ToolError("\(path): \(error.reason)") }
        if let codes, let family { try check(codes, family: family.family) }
        let codesFor: (AddressFamily) -> CodePair = { family in
            if let codes = self.codes, self.family == nil || self.family?.family == family,
               family == .v6 || (codes.uri <= 254 && codes.certificate <= 254) { return codes }
            return CodePair.defaults(for: family)
        }
        var replies = 0, withOptions = 0
        for record in capture.records {
            let context = "packet \(record.number)"
            do {
                guard let datagram = try FrameDissector.udp(record.data, linkType: capture.linkType, context: context),
                      let reply = try DHCPReply.parse(datagram, codes: codesFor, context: context) else { continue }
                if let family, family.family != reply.family { continue }
                replies += 1
                if !reply.options.isEmpty { withOptions += 1 }
                let relayed = reply.relayHops > 0 ? " (relayed, \(reply.relayHops) hop\(reply.relayHops == 1 ? "" : "s"))" : ""
                let fraction = capture.nanosecond ? record.fraction / 1000 : record.fraction
                print("\(context) at \(record.seconds).\(sixDigits(fraction)): \(reply.family) \(reply.messageType) "
                      + "xid 0x\(String(reply.transactionID, radix: 16)) \(datagram.source) -> \(datagram.destination)\(relayed)")
                for line in reply.options.lines() { print("  \(line)") }
            } catch {
                throw ToolError("\(path): \(error.reason)")
            }
        }
        print("\(counted(replies, "server reply", "server replies")), \(withOptions) with LwM2M options")
        if withOptions == 0 { throw ExitCode(1) }
    }

    private func sixDigits(_ value: UInt32) -> String {
        let text = String(min(value, 999_999))
        return String(repeating: "0", count: 6 - text.count) + text
    }
}

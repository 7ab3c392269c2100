import LwM2MCore

/// A DHCP server reply found in a UDP datagram, with our options.
public struct DHCPReply: Sendable {
    public let family: AddressFamily
    /// "OFFER", "ACK", "ADVERTISE", "REPLY", ...
    public let messageType: String
    public let transactionID: UInt32
    /// Relay hops unwrapped (DHCPv6 Relay-reply).
    public let relayHops: Int
    public let options: FoundOptions

    private static let v4Types: [UInt8: String] = [
        1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK", 7: "RELEASE", 8: "INFORM",
    ]
    private static let v6Types: [UInt8: String] = [
        2: "ADVERTISE", 7: "REPLY", 13: "RELAY-REPL",
    ]

    /// The reply in `datagram`, or nil when the datagram is not a DHCP server reply.
    public static func parse(_ datagram: UDPDatagram, codes: (AddressFamily) -> CodePair,
                      context: String) throws(MalformedInput) -> DHCPReply? {
        switch (datagram.sourcePort, datagram.destinationPort) {
        case (67, 68), (67, 67): return try v4(datagram.payload, codes: codes(.v4), context: context)
        case (547, 546), (547, 547): return try v6(datagram.payload, codes: codes(.v6), context: context, hops: 0)
        default: return nil
        }
    }

    private static func v4(_ message: [UInt8], codes: CodePair, context: String) throws(MalformedInput) -> DHCPReply? {
        let reader = ByteReader(bytes: message, context: context + " DHCPv4")
        guard try reader.u8(0) == 2 else { return nil }   // BOOTREPLY
        guard message.count >= 240, try reader.u32(236) == 0x6382_5363 else {
            throw MalformedInput("\(context): DHCPv4 reply without the magic cookie")
        }
        let area = try reader.rest(from: 240)
        let found = try DHCPOptions.v4(area, codes: codes, context: context)
        let type = OptionEncoding.dhcpv4Value(of: 53, inOptions: area)?.first
        return DHCPReply(family: .v4, messageType: type.map { v4Types[$0] ?? "type \($0)" } ?? "BOOTREPLY",
                         transactionID: try reader.u32(4), relayHops: 0, options: found)
    }

    private static func v6(_ message: [UInt8], codes: CodePair, context: String, hops: Int) throws(MalformedInput) -> DHCPReply? {
        let reader = ByteReader(bytes: message, context: context + " DHCPv6")
        let type = try reader.u8(0)
        if type == 13 {
            // Relay-reply: msg-type, hop-count, link-address, peer-address, options.
            guard hops < 32 else { throw MalformedInput("\(context): DHCPv6 relay messages nested too deep") }
            let options = try DHCPOptions.v6List(try reader.rest(from: 34), context: context)
            guard let inner = options.first(where: { $0.code == 9 }) else {
                throw MalformedInput("\(context): DHCPv6 Relay-reply without a Relay Message option")
            }
            return try v6(inner.value, codes: codes, context: context, hops: hops + 1)
        }
        guard type == 2 || type == 7 else { return nil }
        let transaction = UInt32(try reader.u8(1)) << 16 | UInt32(try reader.u16(2))
        let found = try DHCPOptions.v6(try reader.rest(from: 4), codes: codes, context: context)
        return DHCPReply(family: .v6, messageType: v6Types[type] ?? "type \(type)", transactionID: transaction,
                         relayHops: hops, options: found)
    }
}

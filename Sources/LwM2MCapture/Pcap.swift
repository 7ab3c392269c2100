/// A classic libpcap capture file (not pcapng): its link type and records.
public struct PcapFile: Sendable {
    /// Link-layer header types this reader understands.
    public enum LinkType: UInt32, Sendable {
        case ethernet = 1
        case raw = 101
        case linuxCooked = 113
        case ipv4 = 228
        case ipv6 = 229
        case linuxCooked2 = 276
    }

    public struct Record: Sendable {
        /// Position in the file, from 1.
        public let number: Int
        public let seconds: UInt32
        public let fraction: UInt32
        public let data: [UInt8]
    }

    public let linkType: LinkType
    public let nanosecond: Bool
    public let records: [Record]

    /// Largest record accepted: far above any DHCP frame, well below memory trouble.
    public static let maxRecordLength = 262_144

    public init(bytes: [UInt8]) throws(MalformedInput) {
        guard bytes.count >= 24 else { throw MalformedInput("not a pcap file: \(bytes.count) octets, shorter than a pcap header") }
        let header = ByteReader(bytes: bytes, context: "pcap header")
        let magic = try header.u32(0)
        let little: Bool
        switch magic {
        case 0xa1b2c3d4: little = false; nanosecond = false
        case 0xd4c3b2a1: little = true; nanosecond = false
        case 0xa1b23c4d: little = false; nanosecond = true
        case 0x4d3cb2a1: little = true; nanosecond = true
        case 0x0a0d0d0a: throw MalformedInput("pcapng is not supported; convert it with 'editcap -F pcap IN OUT' or capture with 'tcpdump -w'")
        default: throw MalformedInput("not a pcap file (magic number \(String(magic, radix: 16)))")
        }
        let rawLink = try header.u32(20, littleEndian: little) & 0x0fff_ffff
        guard let linkType = LinkType(rawValue: rawLink) else {
            throw MalformedInput("unsupported link type \(rawLink) (supported: Ethernet, Linux cooked, raw IP)")
        }
        self.linkType = linkType
        var records: [Record] = []
        var offset = 24
        while offset < bytes.count {
            let number = records.count + 1
            let record = ByteReader(bytes: bytes, context: "pcap record \(number)")
            guard offset + 16 <= bytes.count else {
                throw MalformedInput("pcap record \(number) at offset \(offset): truncated header")
            }
            let length = Int(try record.u32(offset + 8, littleEndian: little))
            guard length <= Self.maxRecordLength else {
                throw MalformedInput("pcap record \(number) at offset \(offset): length \(length) is implausible")
            }
            guard offset + 16 + length <= bytes.count else {
                throw MalformedInput("pcap record \(number) at offset \(offset): truncated (\(length) octets announced)")
            }
            records.append(Record(number: number, seconds: try record.u32(offset, littleEndian: little),
                                  fraction: try record.u32(offset + 4, littleEndian: little),
                                  data: try record.slice(offset + 16, length)))
            offset += 16 + length
        }
        self.records = records
    }
}

/// A UDP datagram from a captured frame.
public struct UDPDatagram: Sendable {
    public let source: String
    public let destination: String
    public let sourcePort: UInt16
    public let destinationPort: UInt16
    public let payload: [UInt8]

    public init(source: String, destination: String, sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) {
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.payload = payload
    }
}

/// Takes frames apart down to UDP. Frames that are not UDP over IP (or are
/// IP fragments) give nil; frames that claim more than they hold throw.
public enum FrameDissector {
    public static func udp(_ frame: [UInt8], linkType: PcapFile.LinkType, context: String) throws(MalformedInput) -> UDPDatagram? {
        let reader = ByteReader(bytes: frame, context: context)
        var etherType: UInt16
        var offset: Int
        switch linkType {
        case .ethernet:
            etherType = try reader.u16(12); offset = 14
            while etherType == 0x8100 || etherType == 0x88a8 {   // VLAN tags
                etherType = try reader.u16(offset + 2); offset += 4
            }
        case .linuxCooked: etherType = try reader.u16(14); offset = 16
        case .linuxCooked2: etherType = try reader.u16(0); offset = 20
        case .raw, .ipv4, .ipv6:
            let version = try reader.u8(0) >> 4
            etherType = version == 4 ? 0x0800 : version == 6 ? 0x86dd : 0; offset = 0
        }
        switch etherType {
        case 0x0800: return try ipv4(reader, at: offset)
        case 0x86dd: return try ipv6(reader, at: offset)
        default: return nil
        }
    }

    private static func ipv4(_ reader: ByteReader, at start: Int) throws(MalformedInput) -> UDPDatagram? {
        let versionAndLength = try reader.u8(start)
        guard versionAndLength >> 4 == 4 else { return nil }
        let headerLength = Int(versionAndLength & 0x0f) * 4
        let total = Int(try reader.u16(start + 2))
        let fragment = try reader.u16(start + 6)
        guard try reader.u8(start + 9) == 17, fragment & 0x3fff == 0, headerLength >= 20, total >= headerLength else { return nil }
        let source = try reader.slice(start + 12, 4), destination = try reader.slice(start + 16, 4)
        let body = try reader.slice(start + headerLength, total - headerLength)
        return try udp(body, source: dotted(source), destination: dotted(destination), context: reader.context)
    }

    private static func ipv6(_ reader: ByteReader, at start: Int) throws(MalformedInput) -> UDPDatagram? {
        guard try reader.u8(start) >> 4 == 6 else { return nil }
        let payloadLength = Int(try reader.u16(start + 4))
        var next = try reader.u8(start + 6)
        let source = try reader.slice(start + 8, 16), destination = try reader.slice(start + 24, 16)
        var offset = start + 40
        let end = offset + payloadLength
        // Hop-by-hop, routing and destination options headers.
        while next == 0 || next == 43 || next == 60 {
            next = try reader.u8(offset)
            offset += (Int(try reader.u8(offset + 1)) + 1) * 8
        }
        guard next == 17, offset <= end else { return nil }
        let body = try reader.slice(offset, end - offset)
        return try udp(body, source: ToolSupportText.v6(source), destination: ToolSupportText.v6(destination),
                       context: reader.context)
    }

    private static func udp(_ body: [UInt8], source: String, destination: String, context: String) throws(MalformedInput) -> UDPDatagram? {
        let reader = ByteReader(bytes: body, context: context + " UDP")
        let length = Int(try reader.u16(4))
        guard length >= 8 else { throw MalformedInput("\(context): UDP length \(length) is shorter than its header") }
        return UDPDatagram(source: source, destination: destination,
                           sourcePort: try reader.u16(0), destinationPort: try reader.u16(2),
                           payload: try reader.slice(8, length - 8))
    }

    private static func dotted(_ bytes: [UInt8]) -> String {
        bytes.map(String.init).joined(separator: ".")
    }
}

import LwM2MCore

/// Address text through the core's formatter.
enum ToolSupportText {
    static func v6(_ bytes: [UInt8]) -> String { ToolSupport.addressText(bytes, family: .v6) }
}

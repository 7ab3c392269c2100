/// Bounds-checked big-endian reads from untrusted bytes: every read past the
/// end is a `MalformedInput` error, never a trap.
public struct ByteReader {
    public let bytes: [UInt8]
    /// What is being read, for error messages ("pcap record 3", ...).
    public let context: String

    public init(bytes: [UInt8], context: String) {
        self.bytes = bytes
        self.context = context
    }

    public func u8(_ offset: Int) throws(MalformedInput) -> UInt8 {
        guard offset >= 0, offset < bytes.count else { throw truncated(at: offset, need: 1) }
        return bytes[offset]
    }

    public func u16(_ offset: Int) throws(MalformedInput) -> UInt16 {
        guard offset >= 0, offset + 2 <= bytes.count else { throw truncated(at: offset, need: 2) }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    public func u32(_ offset: Int, littleEndian: Bool = false) throws(MalformedInput) -> UInt32 {
        guard offset >= 0, offset + 4 <= bytes.count else { throw truncated(at: offset, need: 4) }
        let b = bytes[offset..<(offset + 4)].map(UInt32.init)
        return littleEndian ? b[3] << 24 | b[2] << 16 | b[1] << 8 | b[0]
                            : b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]
    }

    public func slice(_ offset: Int, _ count: Int) throws(MalformedInput) -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= bytes.count, count <= bytes.count - offset else {
            throw truncated(at: offset, need: count)
        }
        return Array(bytes[offset..<(offset + count)])
    }

    public func rest(from offset: Int) throws(MalformedInput) -> [UInt8] {
        try slice(offset, bytes.count - offset)
    }

    private func truncated(at offset: Int, need: Int) -> MalformedInput {
        MalformedInput("\(context): truncated (needs \(need) octets at offset \(offset), has \(bytes.count))")
    }
}

/// Input that is not what it claims to be (a short packet, a bad capture).
public struct MalformedInput: Error {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

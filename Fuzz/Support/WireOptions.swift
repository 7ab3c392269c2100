/// An independent reader of the option bytes the core writes, so that what
/// goes on the wire is checked by code that shares nothing with the encoder.
public enum WireOptions {
    /// One DHCPv4 option as the core hands it to the shim: one or more
    /// instances of the same code (RFC 3396), each part 255 octets but the
    /// last, covering `bytes` exactly. Returns the code and the concatenated
    /// value, or nil when the bytes are not that.
    public static func v4(_ bytes: ArraySlice<UInt8>) -> (code: UInt8, value: [UInt8])? {
        guard let code = bytes.first, code != 0, code != 255 else { return nil }
        var value: [UInt8] = []
        var index = bytes.startIndex
        var lastPartShort = false
        while index < bytes.endIndex {
            guard !lastPartShort, bytes[index] == code, index + 1 < bytes.endIndex else { return nil }
            let length = Int(bytes[index + 1])
            let start = index + 2
            guard start + length <= bytes.endIndex else { return nil }
            value.append(contentsOf: bytes[start..<(start + length)])
            lastPartShort = length < 255
            index = start + length
        }
        return (code, value)
    }

    /// One DHCPv6 option: code, length, value, covering `bytes` exactly.
    public static func v6(_ bytes: ArraySlice<UInt8>) -> (code: UInt16, value: [UInt8])? {
        guard bytes.count >= 4 else { return nil }
        let base = bytes.startIndex
        let code = UInt16(bytes[base]) << 8 | UInt16(bytes[base + 1])
        let length = Int(bytes[base + 2]) << 8 | Int(bytes[base + 3])
        guard bytes.count == 4 + length else { return nil }
        return (code, Array(bytes[(base + 4)...]))
    }

    /// RFC 3396 reassembly over a whole DHCPv4 options area: every instance
    /// of `code` concatenated in order, nil when absent or when the area is
    /// malformed before its END.
    public static func v4Reassemble(_ code: UInt8, in area: [UInt8]) -> [UInt8]? {
        var value: [UInt8]? = nil
        var index = 0
        while index < area.count {
            switch area[index] {
            case 0: index += 1
            case 255: return value
            case let current:
                guard index + 1 < area.count else { return nil }
                let end = index + 2 + Int(area[index + 1])
                guard end <= area.count else { return nil }
                if current == code { value = (value ?? []) + area[(index + 2)..<end] }
                index = end
            }
        }
        return value
    }

    /// The first DHCPv6 option `code` in an options area, nil when absent or
    /// when the area is malformed.
    public static func v6First(_ code: UInt16, in area: [UInt8]) -> [UInt8]? {
        var index = 0
        var first: [UInt8]? = nil
        while index < area.count {
            guard index + 4 <= area.count else { return nil }
            let current = UInt16(area[index]) << 8 | UInt16(area[index + 1])
            let end = index + 4 + (Int(area[index + 2]) << 8 | Int(area[index + 3]))
            guard end <= area.count else { return nil }
            if current == code, first == nil { first = Array(area[(index + 4)..<end]) }
            index = end
        }
        return first
    }
}

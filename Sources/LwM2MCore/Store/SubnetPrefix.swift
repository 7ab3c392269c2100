#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 prefix, as Kea writes a subnet: `192.0.2.0/24`, `2001:db8:1::/64`.
///
/// A fixed-size value (no heap storage): a store of 100,000 subnet entries
/// holds 100,000 of these, and hashes them to find duplicates.
public struct SubnetPrefix: Hashable, Sendable, CustomStringConvertible {
    /// The address in network order, left-aligned: octets 0–7 in `high`
    /// (octet 0 in the top byte), 8–15 in `low`; an IPv4 address fills the
    /// top 32 bits of `high`.
    private let high: UInt64
    private let low: UInt64
    public let family: AddressFamily
    public let length: UInt8

    /// The network address, `family.addressLength` octets, host bits zero.
    public var address: [UInt8] {
        (0..<family.addressLength).map { index in
            UInt8(truncatingIfNeeded: (index < 8 ? high : low) >> (56 - 8 * (index % 8)))
        }
    }

    /// Parses `text`; the address must have no bits set past the prefix length.
    public init(parsing text: String) throws(SubnetPrefixError) {
        if let fast = Self.parseValid(text) {
            self = fast
            return
        }
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, let length = UInt8(pieces[1]), pieces[1].allSatisfy(\.isASCII) else {
            throw SubnetPrefixError(text: text, reason: "expected ADDRESS/LENGTH, as Kea writes a subnet")
        }
        let addressText = String(pieces[0])
        let family: AddressFamily
        var bytes: [UInt8]
        if let v4 = Self.parseAddress(addressText, family: .v4) {
            family = .v4; bytes = v4
        } else if let v6 = Self.parseAddress(addressText, family: .v6) {
            family = .v6; bytes = v6
        } else {
            throw SubnetPrefixError(text: text, reason: "'\(addressText)' is not an IPv4 or IPv6 address")
        }
        guard Int(length) <= family.addressLength * 8 else {
            throw SubnetPrefixError(text: text, reason: "prefix length \(length) is longer than a \(family) address")
        }
        let masked = Self.masked(bytes, length: Int(length))
        guard masked == bytes else {
            throw SubnetPrefixError(text: text, reason: "host bits are set; the subnet is \(Self.format(masked, family: family))/\(length)")
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high |= UInt64(byte) << (56 - 8 * index) } else { low |= UInt64(byte) << (56 - 8 * (index - 8)) }
        }
        self.family = family
        self.high = high
        self.low = low
        self.length = length
    }

    /// The common case without allocating: `ADDRESS/DIGITS`, a valid prefix.
    /// Nil for anything else, which `init(parsing:)` then reads the slow way
    /// (and explains); so both ways accept exactly the same texts.
    static func parseValid(_ text: String) -> SubnetPrefix? {
        var text = text
        return text.withUTF8 { utf8 -> SubnetPrefix? in
            guard let slash = utf8.firstIndex(of: UInt8(ascii: "/")), slash > 0, slash < 64 else { return nil }
            let digits = utf8[(slash + 1)...]
            guard (1...3).contains(digits.count) else { return nil }
            var length = 0
            for digit in digits {
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
                length = length * 10 + Int(digit - UInt8(ascii: "0"))
            }
            // A NUL-terminated copy of the address, as inet_pton reads it.
            var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
            var raw: (UInt64, UInt64) = (0, 0)
            let family: AddressFamily? = withUnsafeMutableBytes(of: &buffer) { cString in
                for index in 0..<slash { cString[index] = utf8[index] }
                cString[slash] = 0
                let source = cString.baseAddress?.assumingMemoryBound(to: CChar.self)
                return withUnsafeMutableBytes(of: &raw) { out -> AddressFamily? in
                    if inet_pton(AF_INET, source, out.baseAddress) == 1 { return .v4 }
                    if inet_pton(AF_INET6, source, out.baseAddress) == 1 { return .v6 }
                    return nil
                }
            }
            guard let family, length <= family.addressLength * 8 else { return nil }
            let high = UInt64(bigEndian: raw.0)
            let low = family == .v4 ? 0 : UInt64(bigEndian: raw.1)
            let wide = family == .v4 ? high & 0xffff_ffff_0000_0000 : high
            let highMask = length >= 64 ? UInt64.max : (length == 0 ? 0 : ~(UInt64.max >> length))
            let lowMask = length <= 64 ? 0 : (length >= 128 ? UInt64.max : ~(UInt64.max >> (length - 64)))
            guard wide & ~highMask == 0, low & ~lowMask == 0 else { return nil }
            return SubnetPrefix(family: family, high: wide, low: low, length: UInt8(truncatingIfNeeded: length))
        }
    }

    private init(family: AddressFamily, high: UInt64, low: UInt64, length: UInt8) {
        self.family = family
        self.high = high
        self.low = low
        self.length = length
    }

    public var description: String { "\(Self.format(address, family: family))/\(length)" }

    static func masked(_ bytes: [UInt8], length: Int) -> [UInt8] {
        var out = bytes
        for index in out.indices {
            let bitsHere = min(max(length - index * 8, 0), 8)
            out[index] &= bitsHere == 0 ? 0 : ~UInt8(0) << (8 - bitsHere)
        }
        return out
    }

    static func parseAddress(_ text: String, family: AddressFamily) -> [UInt8]? {
        var storage = [UInt8](repeating: 0, count: 16)
        let result = storage.withUnsafeMutableBytes { buffer in
            inet_pton(family == .v4 ? AF_INET : AF_INET6, text, buffer.baseAddress)
        }
        return result == 1 ? Array(storage.prefix(family.addressLength)) : nil
    }

    static func format(_ bytes: [UInt8], family: AddressFamily) -> String {
        var text = [CChar](repeating: 0, count: 64)
        let ok = bytes.withUnsafeBytes { source in
            inet_ntop(family == .v4 ? AF_INET : AF_INET6, source.baseAddress, &text, socklen_t(text.count)) != nil
        }
        guard ok else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A `subnet` value that is not a prefix.
public struct SubnetPrefixError: Error, Sendable, Equatable {
    public var text: String
    public var reason: String
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 prefix, as Kea writes a subnet: `192.0.2.0/24`, `2001:db8:1::/64`.
public struct SubnetPrefix: Hashable, Sendable, CustomStringConvertible {
    public let family: AddressFamily
    /// The network address, `family.addressLength` octets, host bits zero.
    public let address: [UInt8]
    public let length: UInt8

    /// Parses `text`; the address must have no bits set past the prefix length.
    public init(parsing text: String) throws(SubnetPrefixError) {
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
        self.family = family
        self.address = bytes
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The LwM2M bootstrap-server URI an entry hands out, validated.
///
/// Accepted: `scheme://host[:port][/path][?query]` (RFC 3986) with the schemes
/// of CoAP (RFC 7252) and CoAP over TCP/TLS (RFC 8323) — coap, coaps,
/// coap+tcp, coaps+tcp — at most 255 octets, the limit of the LwM2M Server URI
/// resource. Like CoAP, no user information and no fragment. The bytes go on
/// the wire exactly as written.
public struct BootstrapURI: Sendable, Equatable, CustomStringConvertible {
    public static let schemes = ["coap", "coaps", "coap+tcp", "coaps+tcp"]
    public static let maxLength = 255

    /// The URI's octets, as sent.
    public let bytes: [UInt8]

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    public init(_ text: String) throws(BootstrapURIError) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .init(reason: "is empty") }
        guard bytes.count <= Self.maxLength else {
            throw .init(reason: "is \(bytes.count) octets long; LwM2M allows at most \(Self.maxLength)")
        }
        if let bad = bytes.firstIndex(where: { $0 <= 0x20 || $0 >= 0x7f }) {
            throw .init(reason: "has a space, control or non-ASCII character at octet \(bad + 1); percent-encode it")
        }
        if !Self.isValid(bytes) {
            // Only a URI the byte check does not accept takes the slow way,
            // which says what is wrong (or accepts one of the rare forms the
            // byte check leaves to it, such as a port written "+80").
            try Self.check(Substring(text))
        }
        self.bytes = bytes
    }

    // MARK: The byte check (no allocation; every URI of a valid store)

    /// A set of ASCII octets as a 128-bit map.
    struct ASCIIClass {
        let low: UInt64
        let high: UInt64
        init(_ members: String) {
            var low: UInt64 = 0, high: UInt64 = 0
            for byte in members.utf8 {
                if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
            }
            self.low = low
            self.high = high
        }
        @inline(__always) func contains(_ byte: UInt8) -> Bool {
            byte < 64 ? low & (1 << UInt64(byte)) != 0 : (byte < 128 && high & (1 << UInt64(byte & 63)) != 0)
        }
    }

    private static let unreservedText = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
    private static let subDelimiterText = "!$&'()*+,;="
    static let hostOctets = ASCIIClass(unreservedText + subDelimiterText)
    static let pathOctets = ASCIIClass(unreservedText + subDelimiterText + ":@/")
    static let queryOctets = ASCIIClass(unreservedText + subDelimiterText + ":@/?")
    static let hexOctets = ASCIIClass("0123456789abcdefABCDEF")

    /// Whether `bytes` (already known to be 1–255 printable ASCII octets) is
    /// a URI `check` accepts. Never true for a URI `check` refuses; false
    /// for rare valid forms too, which `check` then accepts.
    static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { uri -> Bool in
            guard let colon = uri.firstIndex(of: UInt8(ascii: ":")), isScheme(UnsafeBufferPointer(rebasing: uri[..<colon])),
                  uri.count >= colon + 3, uri[colon + 1] == UInt8(ascii: "/"), uri[colon + 2] == UInt8(ascii: "/")
            else { return false }
            let start = colon + 3
            var authorityEnd = start
            while authorityEnd < uri.count, uri[authorityEnd] != UInt8(ascii: "/"), uri[authorityEnd] != UInt8(ascii: "?") {
                authorityEnd += 1
            }
            guard isAuthority(UnsafeBufferPointer(rebasing: uri[start..<authorityEnd])) else { return false }
            var inQuery = false
            var index = authorityEnd
            while index < uri.count {
                let byte = uri[index]
                if byte == UInt8(ascii: "%") {
                    guard index + 2 < uri.count, hexOctets.contains(uri[index + 1]), hexOctets.contains(uri[index + 2]) else { return false }
                    index += 3
                    continue
                }
                if byte == UInt8(ascii: "?") && !inQuery { inQuery = true }
                else if !(inQuery ? queryOctets : pathOctets).contains(byte) { return false }
                index += 1
            }
            return true
        }
    }

    /// coap, coaps, coap+tcp or coaps+tcp, in any case.
    private static func isScheme(_ scheme: UnsafeBufferPointer<UInt8>) -> Bool {
        var lower: UInt64 = 0
        guard scheme.count <= 8 || scheme.count == 9 else { return false }
        if scheme.count == 9 {
            // "coaps+tcp": one octet more than a UInt64 holds.
            guard scheme[8] | 0x20 == UInt8(ascii: "p") else { return false }
        }
        for (index, byte) in scheme.prefix(8).enumerated() {
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            lower |= UInt64(folded) << (8 * UInt64(index))
        }
        switch scheme.count {
        case 4: return lower == packed("coap")
        case 5: return lower == packed("coaps")
        case 8: return lower == packed("coap+tcp")
        case 9: return lower == packed("coaps+tc")
        default: return false
        }
    }

    private static func packed(_ text: StaticString) -> UInt64 {
        var value: UInt64 = 0
        text.withUTF8Buffer { for (index, byte) in $0.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) } }
        return value
    }

    /// host[:port] with a reg-name or IPv4 host, or [IPv6][:port].
    private static func isAuthority(_ authority: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !authority.isEmpty else { return false }
        var hostEnd = authority.count
        var portStart: Int? = nil
        if authority[0] == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")), close > 1, close < 64 else { return false }
            if close + 1 < authority.count {
                guard authority[close + 1] == UInt8(ascii: ":") else { return false }
                portStart = close + 2
            }
            var text: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
            var address: (UInt64, UInt64) = (0, 0)
            let parsed = withUnsafeMutableBytes(of: &text) { cString -> Bool in
                for index in 1..<close {
                    guard authority[index] != UInt8(ascii: "@") else { return false }
                    cString[index - 1] = authority[index]
                }
                cString[close - 1] = 0
                let source = cString.baseAddress?.assumingMemoryBound(to: CChar.self)
                return withUnsafeMutableBytes(of: &address) { inet_pton(AF_INET6, source, $0.baseAddress) == 1 }
            }
            guard parsed else { return false }
        } else {
            if let colon = authority.lastIndex(of: UInt8(ascii: ":")) {
                hostEnd = colon
                portStart = colon + 1
            }
            guard hostEnd > 0 else { return false }
            var index = 0
            while index < hostEnd {
                let byte = authority[index]
                if byte == UInt8(ascii: "%") {
                    guard index + 2 < hostEnd, hexOctets.contains(authority[index + 1]), hexOctets.contains(authority[index + 2]) else { return false }
                    index += 3
                    continue
                }
                guard hostOctets.contains(byte) else { return false }
                index += 1
            }
        }
        if let portStart {
            let digits = authority.count - portStart
            guard (1...5).contains(digits) else { return false }
            var number = 0
            for byte in authority[portStart...] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return false }
                number = number * 10 + Int(byte - UInt8(ascii: "0"))
            }
            guard number <= 65535 else { return false }
        }
        return true
    }

    static func check(_ uri: Substring) throws(BootstrapURIError) {
        guard let colon = uri.firstIndex(of: ":") else { throw .init(reason: "has no scheme (expected coap://, coaps://, coap+tcp:// or coaps+tcp://)") }
        let scheme = uri[..<colon].lowercased()
        guard schemes.contains(scheme) else {
            throw .init(reason: "scheme '\(uri[..<colon])' is not one of \(schemes.joined(separator: ", "))")
        }
        var rest = uri[uri.index(after: colon)...]
        guard rest.hasPrefix("//") else { throw .init(reason: "needs '//' and a host after '\(uri[..<colon]):'") }
        rest = rest.dropFirst(2)
        if rest.contains("#") { throw .init(reason: "has a fragment ('#'); CoAP URIs have none") }

        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        try checkAuthority(rest[..<authorityEnd])
        var tail = rest[authorityEnd...]
        var query: Substring = ""
        if let question = tail.firstIndex(of: "?") {
            query = tail[tail.index(after: question)...]
            tail = tail[..<question]
        }
        try checkCharacters(tail, allowed: pathCharacters.union(["/"]), part: "path")
        try checkCharacters(query, allowed: pathCharacters.union(["/", "?"]), part: "query")
    }

    private static func checkAuthority(_ authority: Substring) throws(BootstrapURIError) {
        if authority.contains("@") { throw .init(reason: "has user information ('@'); CoAP URIs have none") }
        var host = authority
        var port: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .init(reason: "has '[' without ']' around an IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .init(reason: "has '\(after)' after the IPv6 address") }
                port = after.dropFirst()
            }
            guard SubnetPrefix.parseAddress(String(host), family: .v6) != nil else {
                throw .init(reason: "'[\(host)]' is not an IPv6 address")
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                port = authority[authority.index(after: colon)...]
            }
            guard !host.isEmpty else { throw .init(reason: "has no host") }
            try checkCharacters(host, allowed: unreserved.union(subDelimiters), part: "host")
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCII), let number = Int(port), number <= 65535 else {
                throw .init(reason: "port '\(port)' is not a number from 0 to 65535")
            }
        }
    }

    private static func checkCharacters(_ text: Substring, allowed: Set<Character>, part: String) throws(BootstrapURIError) {
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "%" {
                let digits = text[text.index(after: index)...].prefix(2)
                guard digits.count == 2, digits.allSatisfy(\.isHexDigit) else {
                    throw .init(reason: "has '%' not followed by two hex digits in the \(part)")
                }
                index = text.index(index, offsetBy: 3)
                continue
            }
            guard allowed.contains(character) else { throw .init(reason: "has '\(character)', not allowed in the \(part)") }
            index = text.index(after: index)
        }
    }

    private static let unreserved = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
    private static let subDelimiters = Set("!$&'()*+,;=")
    private static let pathCharacters = unreserved.union(subDelimiters).union([":", "@"])
}

/// A `bootstrap-uri` that LwM2M devices could not use.
public struct BootstrapURIError: Error, Sendable, Equatable {
    public var reason: String
}

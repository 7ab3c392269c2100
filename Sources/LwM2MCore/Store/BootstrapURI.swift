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
        try Self.check(Substring(text))
        self.bytes = bytes
    }

    private static func check(_ uri: Substring) throws(BootstrapURIError) {
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

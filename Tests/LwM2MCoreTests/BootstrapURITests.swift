import Testing
@testable import LwM2MCore

@Suite("Bootstrap-server URI validation")
struct BootstrapURITests {
    @Test("accepted URIs go out byte for byte", arguments: [
        "coaps://bs.example.com:5684",
        "coap://[2001:db8::5]:5683",
        "coap://192.0.2.10",
        "coap+tcp://bs.example.com:5683/bs?ep=1",
        "coaps+tcp://bs.example.com",
        "COAPS://BS.example.com:5684/a%20b/c:d@e",
        "coap://[::1]",
    ])
    func accepted(uri: String) throws {
        #expect(try BootstrapURI(uri).bytes == Array(uri.utf8))
    }

    @Test("rejected URIs say why", arguments: [
        ("", "is empty"),
        ("http://bs.example.com", "scheme 'http' is not one of coap, coaps, coap+tcp, coaps+tcp"),
        ("bs.example.com:5684", "scheme 'bs.example.com' is not one of"),
        ("coaps:bs.example.com", "needs '//' and a host"),
        ("coaps://", "has no host"),
        ("coaps://:5684", "has no host"),
        ("coaps://bs.example.com:99999", "port '99999' is not a number"),
        ("coaps://bs.example.com:", "port '' is not a number"),
        ("coaps://user@bs.example.com", "has user information"),
        ("coaps://bs.example.com/#frag", "has a fragment"),
        ("coaps://[2001:db8::zz]:5684", "is not an IPv6 address"),
        ("coaps://[2001:db8::1", "has '[' without ']'"),
        ("coaps://bs.example.com/a b", "has a space, control or non-ASCII character at octet 25"),
        ("coaps://bs.exämple.com", "non-ASCII"),
        ("coaps://bs.example.com/%zz", "has '%' not followed by two hex digits in the path"),
        ("coaps://bs.ex<ample.com", "has '<', not allowed in the host"),
        ("noscheme", "has no scheme"),
    ])
    func rejected(uri: String, reason: String) {
        #expect(throws: BootstrapURIError.self) { try BootstrapURI(uri) }
        do { _ = try BootstrapURI(uri) } catch { #expect(error.reason.contains(reason), "\(error.reason)") }
    }

    @Test func lengthLimitIs255Octets() throws {
        let prefix = "coap://h.example/"
        let exact = prefix + String(repeating: "a", count: 255 - prefix.utf8.count)
        #expect(try BootstrapURI(exact).bytes.count == 255)
        #expect(throws: BootstrapURIError(reason: "is 256 octets long; LwM2M allows at most 255")) {
            try BootstrapURI(exact + "a")
        }
    }
}

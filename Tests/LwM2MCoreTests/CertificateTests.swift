import Crypto
import Foundation
import Testing
@testable import LwM2MCore

@Suite("Server certificates")
struct CertificateTests {
    /// Certificates made by openssl for the replay suite (Tests/replay/make_certs.sh).
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("replay/data")

    func load(_ name: String) throws -> ServerCertificate {
        try ServerCertificate(fileContents: Array(Data(contentsOf: Self.data.appendingPathComponent(name))))
    }

    @Test func readsOpensslCertificatesInPEMAndDER() throws {
        let pem = try load("large.pem")
        let der = try load("large.der")
        #expect(pem == der)
        #expect(pem.subject == "CN=bs-a.example.com,O=kea-lwm2m test", "RFC 4514 order: last RDN first")
        let notBefore = try #require(pem.notValidBefore), notAfter = try #require(pem.notValidAfter)
        #expect(notAfter.timeIntervalSince(notBefore) > 86_400 * 365)
    }

    @Test("an EC key in compressed form (RFC 5480) is forwarded like any other")
    func compressedPoint() throws {
        let compressed = try load("small-compressed.pem")
        let plain = try load("small.pem")
        #expect(compressed.der.count < plain.der.count)
        #expect(compressed.subject == plain.subject && compressed.issuer == plain.issuer)
        #expect(compressed.notValidBefore == plain.notValidBefore)
        #expect(compressed.notValidAfter == plain.notValidAfter)
    }

    @Test func fingerprintIsSHA256OfTheDER() throws {
        let certificate = try TestCertificate()
        let loaded = try ServerCertificate(fileContents: certificate.der)
        #expect(loaded.sha256Fingerprint.split(separator: ":").count == 32)
        #expect(loaded.sha256Fingerprint == loaded.sha256Fingerprint.lowercased())
        let other = try ServerCertificate(fileContents: try TestCertificate().der)
        #expect(loaded.sha256Fingerprint != other.sha256Fingerprint)
    }

    @Test func structureWithoutCertificateIsRefused() {
        // A DER SEQUENCE that is not a certificate.
        #expect(throws: CertificateError.self) { try ServerCertificate(fileContents: [0x30, 0x03, 0x02, 0x01, 0x01]) }
    }

    /// swift-crypto's errors carry a BoringSSL code that depends on the
    /// thread's error queue: a refusal never quotes them, so the same bytes
    /// are refused in the same words (found by fuzz-store).
    @Test func cryptoErrorsAreRefusedInStableWords() {
        #expect(ServerCertificate.reason(CryptoKitError.underlyingCoreCryptoError(error: 251_658_360))
                == "its public key cannot be read")
        #expect(ServerCertificate.reason(CryptoKitError.underlyingCoreCryptoError(error: 1))
                == ServerCertificate.reason(CryptoKitError.underlyingCoreCryptoError(error: 2)))
    }
}

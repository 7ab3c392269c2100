import Crypto
import SwiftASN1
import X509
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The X.509 certificate of the bootstrap server, as devices receive it.
///
/// One reference wide: the fields live in one shared object, so the many
/// entries of a store that name the same file share one certificate (a
/// store of 100,000 entries typically has a few dozen certificates).
public struct ServerCertificate: Sendable, Equatable {
    private final class Fields: Sendable {
        let der: [UInt8]
        let subject: String
        let issuer: String
        let notValidBefore: Date
        let notValidAfter: Date
        let sha256Fingerprint: String
        init(der: [UInt8], subject: String, issuer: String, notValidBefore: Date, notValidAfter: Date, sha256Fingerprint: String) {
            self.der = der
            self.subject = subject
            self.issuer = issuer
            self.notValidBefore = notValidBefore
            self.notValidAfter = notValidAfter
            self.sha256Fingerprint = sha256Fingerprint
        }
    }
    private let fields: Fields

    /// The certificate's DER, exactly as read from the file (or from PEM).
    public var der: [UInt8] { fields.der }
    /// Subject distinguished name, RFC 4514 text.
    public var subject: String { fields.subject }
    /// Issuer distinguished name, RFC 4514 text.
    public var issuer: String { fields.issuer }
    public var notValidBefore: Date { fields.notValidBefore }
    public var notValidAfter: Date { fields.notValidAfter }
    /// SHA-256 of the DER, lower-case hex, colon-separated as openssl prints it.
    public var sha256Fingerprint: String { fields.sha256Fingerprint }

    /// The same for every entry that names the same certificate file in one
    /// load (they share one `ServerCertificate`), and cheap to hash: a key
    /// for caches of per-certificate work, such as the encoded option,
    /// instead of hashing the DER.
    public var identity: ObjectIdentifier { ObjectIdentifier(fields) }

    public static func == (a: ServerCertificate, b: ServerCertificate) -> Bool {
        a.fields === b.fields
            || (a.der == b.der && a.subject == b.subject && a.issuer == b.issuer && a.notValidBefore == b.notValidBefore
                && a.notValidAfter == b.notValidAfter && a.sha256Fingerprint == b.sha256Fingerprint)
    }

    /// Parses a certificate file's contents: one PEM `CERTIFICATE` block, or DER.
    ///
    /// A PEM file that holds a private key is refused, so that a key never
    /// travels to devices by mistake.
    public init(fileContents bytes: [UInt8]) throws(CertificateError) {
        let der: [UInt8]
        if let text = String(validating: bytes, as: UTF8.self), text.contains("-----BEGIN") {
            let documents: [PEMDocument]
            do {
                documents = try PEMDocument.parseMultiple(pemString: text)
            } catch {
                throw .init(reason: "is not valid PEM: \(error)")
            }
            if documents.contains(where: { $0.discriminator.contains("PRIVATE KEY") }) {
                throw .init(reason: "holds a private key; give the server's certificate only, and keep the key away from this file")
            }
            let certificates = documents.filter { $0.discriminator == "CERTIFICATE" }
            guard certificates.count == 1, let only = certificates.first else {
                throw .init(reason: "must hold exactly one PEM CERTIFICATE block, found \(certificates.count)")
            }
            der = only.derBytes
        } else {
            der = bytes
        }
        guard !der.isEmpty else { throw .init(reason: "is empty") }
        guard der.count + 1 <= OptionEncoding.maxDHCPv6ValueLength else {
            throw .init(reason: "is \(der.count) octets; a DHCP option carries at most \(OptionEncoding.maxDHCPv6ValueLength - 1)")
        }
        let fields: (subject: DistinguishedName, issuer: DistinguishedName, notBefore: Date, notAfter: Date)
        do {
            let certificate = try Certificate(derEncoded: der)
            fields = (certificate.subject, certificate.issuer, certificate.notValidBefore, certificate.notValidAfter)
        } catch let strict {
            // A key swift-crypto cannot build (e.g. a compressed EC point) is
            // no reason to refuse a well-formed certificate the hook only forwards.
            guard let structural = try? CertificateFields(der: der) else {
                throw .init(reason: "is not an X.509 certificate (PEM or DER): \(strict)")
            }
            fields = (structural.subject, structural.issuer, structural.notValidBefore, structural.notValidAfter)
        }
        self.fields = Fields(der: der, subject: fields.subject.description, issuer: fields.issuer.description,
                             notValidBefore: fields.notBefore, notValidAfter: fields.notAfter,
                             sha256Fingerprint: SHA256.hash(data: der).map { byte in
                                 let hex = String(byte, radix: 16)
                                 return byte < 16 ? "0" + hex : hex
                             }.joined(separator: ":"))
    }
}

/// A `server-certificate` file that cannot be served.
public struct CertificateError: Error, Sendable, Equatable {
    public var reason: String
}

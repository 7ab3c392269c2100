import Crypto
import SwiftASN1
import X509
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the server-certificate option carries to devices: the bootstrap
/// server's X.509 certificate (`server-certificate`), or its raw public key
/// (`server-public-key`, RFC 7250), each with its RFC 7296 encoding octet.
///
/// One reference wide: the fields live in one shared object, so the many
/// entries of a store that name the same file share one certificate (a
/// store of 100,000 entries typically has a few dozen certificates).
public struct ServerCertificate: Sendable, Equatable {
    /// The RFC 7296 §3.6 "Cert Encoding" octet that starts the option's value.
    public enum Encoding: UInt8, Sendable {
        /// 4, "X.509 Certificate - Signature": the certificate's DER.
        case x509Certificate = 4
        /// 15, "Raw Public Key" (RFC 7670): a DER SubjectPublicKeyInfo.
        case rawPublicKey = 15
    }

    private final class Fields: Sendable {
        let encoding: Encoding
        let der: [UInt8]
        let subject: String?
        let issuer: String?
        let notValidBefore: Date?
        let notValidAfter: Date?
        let keyType: PublicKeyType?
        let sha256Fingerprint: String
        init(encoding: Encoding, der: [UInt8], subject: String?, issuer: String?, notValidBefore: Date?,
             notValidAfter: Date?, keyType: PublicKeyType?) {
            self.encoding = encoding
            self.der = der
            self.subject = subject
            self.issuer = issuer
            self.notValidBefore = notValidBefore
            self.notValidAfter = notValidAfter
            self.keyType = keyType
            self.sha256Fingerprint = SHA256.hash(data: der).map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined(separator: ":")
        }
    }
    private let fields: Fields

    /// What follows the encoding octet.
    public var encoding: Encoding { fields.encoding }
    /// The DER (the certificate's, or the SubjectPublicKeyInfo's), exactly as
    /// read from the file (or from PEM).
    public var der: [UInt8] { fields.der }
    /// Subject distinguished name, RFC 4514 text; nil for a raw public key.
    public var subject: String? { fields.subject }
    /// Issuer distinguished name, RFC 4514 text; nil for a raw public key.
    public var issuer: String? { fields.issuer }
    /// Nil for a raw public key, which has no validity.
    public var notValidBefore: Date? { fields.notValidBefore }
    /// Nil for a raw public key, which does not expire.
    public var notValidAfter: Date? { fields.notValidAfter }
    /// The kind of a raw public key; nil for a certificate.
    public var keyType: PublicKeyType? { fields.keyType }
    /// SHA-256 of the DER, lower-case hex, colon-separated as openssl prints it.
    public var sha256Fingerprint: String { fields.sha256Fingerprint }
    /// The store key that names a file of this kind.
    public var storeKey: String {
        encoding == .rawPublicKey ? Store.Key.serverPublicKey : Store.Key.serverCertificate
    }

    /// The same for every entry that names the same certificate file in one
    /// load (they share one `ServerCertificate`), and cheap to hash: a key
    /// for caches of per-certificate work, such as the encoded option,
    /// instead of hashing the DER.
    public var identity: ObjectIdentifier { ObjectIdentifier(fields) }

    public static func == (a: ServerCertificate, b: ServerCertificate) -> Bool {
        a.fields === b.fields
            || (a.encoding == b.encoding && a.der == b.der && a.subject == b.subject && a.issuer == b.issuer
                && a.notValidBefore == b.notValidBefore && a.notValidAfter == b.notValidAfter
                && a.keyType == b.keyType)
    }

    /// Parses a certificate file's contents: one PEM `CERTIFICATE` block, or DER.
    ///
    /// A PEM file that holds a private key is refused, so that a key never
    /// travels to devices by mistake.
    public init(fileContents bytes: [UInt8]) throws(CertificateError) {
        let der: [UInt8]
        if let documents = try Self.pemDocuments(bytes, privateKeyReason:
                "holds a private key; give the server's certificate only, and keep the key away from this file") {
            let certificates = documents.filter { $0.discriminator == "CERTIFICATE" }
            if certificates.isEmpty, documents.contains(where: { $0.discriminator == "PUBLIC KEY" }) {
                throw .init(reason: "holds a PUBLIC KEY, not a certificate; name a raw public key with 'server-public-key'")
            }
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
                throw .init(reason: "is not an X.509 certificate (PEM or DER): \(Self.reason(strict))")
            }
            fields = (structural.subject, structural.issuer, structural.notValidBefore, structural.notValidAfter)
        }
        self.fields = Fields(encoding: .x509Certificate, der: der, subject: fields.subject.description,
                             issuer: fields.issuer.description, notValidBefore: fields.notBefore,
                             notValidAfter: fields.notAfter, keyType: nil)
    }

    /// Parses a raw public key file's contents (`server-public-key`): one PEM
    /// `PUBLIC KEY` block, or DER; either way one SubjectPublicKeyInfo of an
    /// EC P-256, EC P-384 or Ed25519 key (`PublicKeyType`), and nothing
    /// after it. A private key is refused, as for certificates.
    public init(publicKeyFileContents bytes: [UInt8]) throws(CertificateError) {
        let der: [UInt8]
        if let documents = try Self.pemDocuments(bytes, privateKeyReason: PublicKeyInfo.privateKeyReason) {
            let keys = documents.filter { $0.discriminator == "PUBLIC KEY" }
            if keys.isEmpty, documents.contains(where: { $0.discriminator == "CERTIFICATE" }) {
                throw .init(reason: PublicKeyInfo.certificateReason)
            }
            guard keys.count == 1, let only = keys.first else {
                throw .init(reason: "must hold exactly one PEM PUBLIC KEY block (a SubjectPublicKeyInfo), found \(keys.count)"
                            + (documents.contains(where: { $0.discriminator == "RSA PUBLIC KEY" })
                                ? "; an RSA key is not accepted: give an \(PublicKeyType.acceptedList) key" : ""))
            }
            der = only.derBytes
        } else {
            der = bytes
        }
        try self.init(publicKeyDER: der)
    }

    /// A raw public key from DER only (as the option carries it): one
    /// SubjectPublicKeyInfo of an accepted type, nothing after it.
    public init(publicKeyDER der: [UInt8]) throws(CertificateError) {
        guard !der.isEmpty else { throw .init(reason: "is empty") }
        let info = try PublicKeyInfo(der: der)
        self.fields = Fields(encoding: .rawPublicKey, der: der, subject: nil, issuer: nil, notValidBefore: nil,
                             notValidAfter: nil, keyType: info.type)
    }

    /// The PEM blocks of a file; nil when it is not PEM (taken as DER). A
    /// file holding a private key is refused with `privateKeyReason`.
    private static func pemDocuments(_ bytes: [UInt8], privateKeyReason: String)
        throws(CertificateError) -> [PEMDocument]? {
        guard let text = String(validating: bytes, as: UTF8.self), text.contains("-----BEGIN") else { return nil }
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: text)
        } catch {
            throw .init(reason: "is not valid PEM: \(error)")
        }
        if documents.contains(where: { $0.discriminator.contains("PRIVATE KEY") }) {
            throw .init(reason: privateKeyReason)
        }
        return documents
    }

    /// Parses a file named by the store key of `encoding`.
    public init(fileContents bytes: [UInt8], encoding: Encoding) throws(CertificateError) {
        switch encoding {
        case .x509Certificate: try self.init(fileContents: bytes)
        case .rawPublicKey: try self.init(publicKeyFileContents: bytes)
        }
    }
}

/// A `server-certificate` or `server-public-key` file that cannot be served.
public struct CertificateError: Error, Sendable, Equatable {
    public var reason: String
}

extension ServerCertificate {
    /// The words for why swift-certificates refused a DER. swift-crypto's
    /// errors carry the code of the oldest entry in BoringSSL's per-thread
    /// error queue, which depends on what the thread did before: the same
    /// bytes would be refused in other words on the next read (found by
    /// `fuzz-store`), and a failure is reported once per distinct text.
    static func reason(_ error: any Error) -> String {
        error is CryptoKitError ? "its public key cannot be read" : "\(error)"
    }
}

// libFuzzer target: the certificate reader (ServerCertificate(fileContents:)),
// PEM and DER, and its structural fallback (CertificateFields); and, on the
// same input, the raw public key reader (ServerCertificate(publicKeyFileContents:)).
//
// Properties: an accepted certificate has DER of a size one DHCP option can
// carry; DER input is kept byte for byte; the DER read again gives the same
// certificate; the DER is exactly one ASN.1 element; the fingerprint is the
// SHA-256 of the DER; where swift-certificates and the structural reader
// both accept the DER, they read the same names and validity. An accepted
// raw public key: DER input kept byte for byte, one ASN.1 element, the same
// key when read again, a key type and no certificate fields, the SHA-256
// fingerprint, and never also accepted as a certificate.
import Crypto
import FuzzSupport
@testable import LwM2MCore
import SwiftASN1
import X509

private func fuzzCertificate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput(data, size).bytes
    publicKey(bytes)
    let certificate: ServerCertificate
    do {
        certificate = try ServerCertificate(fileContents: bytes)
    } catch {
        Property.check(!error.reason.isEmpty, "a refusal without a reason")
        structural(bytes)
        return 0
    }
    let der = certificate.der
    Property.check(!der.isEmpty && der.count <= OptionEncoding.maxDHCPv6ValueLength - 1,
                   "accepted DER of \(der.count) octets")
    let isPEM = String(validating: bytes, as: UTF8.self)?.contains("-----BEGIN") ?? false
    if !isPEM { Property.check(der == bytes, "DER input not kept as it is") }

    let derIsText = String(validating: der, as: UTF8.self)?.contains("-----BEGIN") ?? false
    if !derIsText {
        do {
            let again = try ServerCertificate(fileContents: der)
            Property.check(again == certificate, "the DER read again differs")
        } catch {
            Property.fail("the DER of an accepted certificate is refused: \(error.reason)")
        }
    }
    do {
        let root = try DER.parse(der)
        Property.check(root.encodedBytes.count == der.count,
                       "\(der.count - root.encodedBytes.count) octets after the certificate are served to devices")
    } catch {
        Property.fail("accepted DER is not one ASN.1 element: \(error)")
    }
    Property.check(certificate.sha256Fingerprint == fingerprint(der), "fingerprint \(certificate.sha256Fingerprint) is not SHA-256 of the DER")
    structural(der)
    return 0
}

private func fingerprint(_ der: [UInt8]) -> String {
    Array(SHA256.hash(data: der)).map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }.joined(separator: ":")
}

/// The raw public key reader on the same input.
private func publicKey(_ bytes: [UInt8]) {
    let key: ServerCertificate
    do {
        key = try ServerCertificate(publicKeyFileContents: bytes)
    } catch {
        Property.check(!error.reason.isEmpty, "a key refused without a reason")
        return
    }
    let der = key.der
    Property.check(key.encoding == .rawPublicKey && key.keyType != nil && key.subject == nil && key.notValidAfter == nil,
                   "a raw public key with the fields of a certificate")
    Property.check(!der.isEmpty && der.count <= 200, "accepted SubjectPublicKeyInfo of \(der.count) octets")
    let isPEM = String(validating: bytes, as: UTF8.self)?.contains("-----BEGIN") ?? false
    if !isPEM { Property.check(der == bytes, "DER key input not kept as it is") }
    do {
        let root = try DER.parse(der)
        Property.check(root.encodedBytes.count == der.count, "octets after the SubjectPublicKeyInfo")
    } catch {
        Property.fail("an accepted key is not one ASN.1 element: \(error)")
    }
    do {
        let again = try ServerCertificate(publicKeyDER: der)
        Property.check(again == key, "the key's DER read again differs")
    } catch {
        Property.fail("the DER of an accepted key is refused: \(error.reason)")
    }
    Property.check((try? ServerCertificate(fileContents: der)) == nil, "one DER accepted as a key and as a certificate")
    Property.check(key.sha256Fingerprint == fingerprint(der), "key fingerprint is not SHA-256 of the DER")
}

/// Where both readers accept `der`, they agree.
private func structural(_ der: [UInt8]) {
    guard let fields = try? CertificateFields(der: der) else { return }
    guard let full = try? Certificate(derEncoded: der) else { return }
    Property.check(fields.subject == full.subject, "subject: \(fields.subject) vs \(full.subject)")
    Property.check(fields.issuer == full.issuer, "issuer: \(fields.issuer) vs \(full.issuer)")
    Property.check(fields.notValidBefore == full.notValidBefore,
                   "notBefore: \(fields.notValidBefore) vs \(full.notValidBefore)")
    Property.check(fields.notValidAfter == full.notValidAfter,
                   "notAfter: \(fields.notValidAfter) vs \(full.notValidAfter)")
}

// Last: every global above is initialized before the first input.
Fuzzer.main(fuzzCertificate)

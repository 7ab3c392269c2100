import Crypto
import SwiftASN1

/// The kinds of raw public key (RFC 7250) a `server-public-key` may hold.
///
/// The ones LwM2M security mode 1 (Raw Public Key) deployments and the DTLS
/// stacks of constrained devices use: ECDSA on P-256 (the curve of
/// LwM2M's mandatory cipher suite, TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8),
/// ECDSA on P-384, and Ed25519 (RFC 8410). RSA is refused: a 2048-bit RSA
/// SubjectPublicKeyInfo is 294 octets against 91 for P-256, and RSA is not
/// what devices with raw public keys verify.
public enum PublicKeyType: String, Sendable, CaseIterable {
    case p256 = "EC P-256"
    case p384 = "EC P-384"
    case ed25519 = "Ed25519"

    /// The accepted kinds, as messages list them.
    public static let acceptedList = "EC P-256, EC P-384 or Ed25519"
}

/// A DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) read and checked with
/// swift-asn1 (the structure, nothing after it) and swift-crypto (the key
/// is a valid point of its curve).
struct PublicKeyInfo {
    let type: PublicKeyType

    /// Object identifiers of the algorithms and curves (RFC 5480, RFC 8410, RFC 8017).
    private enum OID {
        static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
        static let p256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 3, 1, 7]
        static let p384: ASN1ObjectIdentifier = [1, 3, 132, 0, 34]
        static let p521: ASN1ObjectIdentifier = [1, 3, 132, 0, 35]
        static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]
        static let ed448: ASN1ObjectIdentifier = [1, 3, 101, 113]
        static let x25519: ASN1ObjectIdentifier = [1, 3, 101, 110]
        static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
        static let rsaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 10]
    }

    /// Reads `der`, which must be exactly one SubjectPublicKeyInfo of an accepted type.
    /// - Throws: `CertificateError` with the reason, worded for a store problem.
    init(der: [UInt8]) throws(CertificateError) {
        let root: ASN1Node
        do {
            root = try DER.parse(der)
        } catch {
            throw .init(reason: "is not a DER SubjectPublicKeyInfo (PEM PUBLIC KEY or DER): \(error)")
        }
        guard case .constructed(let children) = root.content, root.identifier == .sequence else {
            throw .init(reason: "is not a DER SubjectPublicKeyInfo (PEM PUBLIC KEY or DER): not a SEQUENCE")
        }
        let parts = Array(children)
        // What a private key or a certificate looks like, to say so.
        if parts.first?.identifier == .integer {
            throw .init(reason: Self.privateKeyReason)
        }
        if parts.count == 2, parts[0].identifier == .sequence, parts[1].identifier == .octetString {
            throw .init(reason: Self.privateKeyReason)   // PKCS#8 EncryptedPrivateKeyInfo
        }
        if parts.count == 3, parts[0].identifier == .sequence, parts[1].identifier == .sequence,
           parts[2].identifier == .bitString {
            throw .init(reason: Self.certificateReason)
        }
        guard parts.count == 2, parts[0].identifier == .sequence, parts[1].identifier == .bitString else {
            throw .init(reason: "is not a DER SubjectPublicKeyInfo: expected SEQUENCE { algorithm, subjectPublicKey BIT STRING }")
        }
        let algorithm: ASN1ObjectIdentifier
        let parameters: ASN1Node?
        let key: ASN1BitString
        do {
            (algorithm, parameters) = try DER.sequence(parts[0], identifier: .sequence) { nodes in
                let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
                let parameters = nodes.next()
                guard nodes.next() == nil else { throw ASN1Error.invalidASN1Object(reason: "AlgorithmIdentifier has more than two fields") }
                return (oid, parameters)
            }
            key = try ASN1BitString(derEncoded: parts[1])
        } catch {
            throw .init(reason: "is not a DER SubjectPublicKeyInfo: \(error)")
        }
        guard key.paddingBits == 0 else {
            throw .init(reason: "is not a DER SubjectPublicKeyInfo: the key's BIT STRING has \(key.paddingBits) unused bits")
        }
        switch algorithm {
        case OID.ecPublicKey:
            guard let parameters, parameters.identifier == .objectIdentifier,
                  let curve = try? ASN1ObjectIdentifier(derEncoded: parameters) else {
                throw .init(reason: "is an EC key without a named curve; give an \(PublicKeyType.acceptedList) key")
            }
            switch curve {
            case OID.p256:
                type = .p256
                do { _ = try P256.Signing.PublicKey(derRepresentation: der) } catch {
                    guard (try? P256.Signing.PublicKey(compressedRepresentation: Array(key.bytes))) != nil else {
                        throw .init(reason: "is an EC P-256 key whose point is not on the curve")
                    }
                }
            case OID.p384:
                type = .p384
                do { _ = try P384.Signing.PublicKey(derRepresentation: der) } catch {
                    guard (try? P384.Signing.PublicKey(compressedRepresentation: Array(key.bytes))) != nil else {
                        throw .init(reason: "is an EC P-384 key whose point is not on the curve")
                    }
                }
            case OID.p521:
                throw .init(reason: "is an EC P-521 key; give an \(PublicKeyType.acceptedList) key (what LwM2M raw-public-key devices verify)")
            default:
                throw .init(reason: "is an EC key on curve \(curve); give an \(PublicKeyType.acceptedList) key")
            }
        case OID.ed25519:
            guard parameters == nil else {
                throw .init(reason: "is an Ed25519 key with algorithm parameters, which RFC 8410 forbids")
            }
            do { _ = try Curve25519.Signing.PublicKey(rawRepresentation: Array(key.bytes)) } catch {
                throw .init(reason: "is not a valid Ed25519 key")
            }
            type = .ed25519
        case OID.rsaEncryption, OID.rsaPSS:
            throw .init(reason: "is an RSA key (\(der.count) octets of SubjectPublicKeyInfo); give an \(PublicKeyType.acceptedList) key: "
                        + "devices with raw public keys (LwM2M security mode 1) use elliptic curves")
        case OID.ed448:
            throw .init(reason: "is an Ed448 key; give an \(PublicKeyType.acceptedList) key")
        case OID.x25519:
            throw .init(reason: "is an X25519 key, which cannot sign; give an \(PublicKeyType.acceptedList) key")
        default:
            throw .init(reason: "is a key of algorithm \(algorithm); give an \(PublicKeyType.acceptedList) key")
        }
    }

    static let privateKeyReason = "holds a private key; give the server's public key only, and keep the private key away from this file"
    static let certificateReason = "holds an X.509 certificate; name it with 'server-certificate', or give its SubjectPublicKeyInfo "
        + "(openssl x509 -pubkey -noout) as 'server-public-key'"
}

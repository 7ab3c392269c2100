import Crypto
import Foundation
import Testing
@testable import LwM2MCore

/// `server-public-key`: raw public keys (RFC 7250) sent with encoding 15 (RFC 7670).
@Suite("Server raw public keys")
struct PublicKeyTests {
    /// Keys made by openssl for the replay suite (Tests/replay/make_keys.sh).
    static let data = CertificateTests.data

    func file(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.data.appendingPathComponent(name)))
    }

    func load(_ name: String) throws -> ServerCertificate {
        try ServerCertificate(publicKeyFileContents: try file(name))
    }

    func refusal(_ bytes: [UInt8]) -> String {
        do {
            _ = try ServerCertificate(publicKeyFileContents: bytes)
            return "accepted"
        } catch {
            return error.reason
        }
    }

    @Test func readsOpensslKeysOfEveryAcceptedType() throws {
        let p256 = try load("rpk-p256.pem")
        #expect(p256.encoding == .rawPublicKey && p256.keyType == .p256 && p256.der.count == 91)
        #expect(p256.subject == nil && p256.issuer == nil && p256.notValidAfter == nil)
        #expect(p256.storeKey == "server-public-key")
        let p384 = try load("rpk-p384.pem")
        #expect(p384.keyType == .p384 && p384.der.count == 120)
        let ed25519 = try load("rpk-ed25519.pem")
        #expect(ed25519.keyType == .ed25519 && ed25519.der.count == 44)
    }

    @Test("DER input travels byte for byte; PEM as its decoded DER")
    func derAndPEMAgree() throws {
        let der = try file("rpk-p256.der")
        let fromDER = try ServerCertificate(publicKeyFileContents: der)
        let fromPEM = try load("rpk-p256.pem")
        #expect(fromDER.der == der)
        #expect(fromDER == fromPEM)
        let expected = SHA256.hash(data: der).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
        #expect(fromDER.sha256Fingerprint == expected)
    }

    @Test("a compressed EC point (RFC 5480) is a valid key, forwarded as written")
    func compressedPoint() throws {
        let der = try file("rpk-p256-compressed.der")
        let key = try ServerCertificate(publicKeyFileContents: der)
        #expect(key.keyType == .p256 && key.der == der && der.count == 59)
    }

    @Test func optionValueIsEncoding15ThenTheSPKI() throws {
        let key = try load("rpk-ed25519.pem")
        #expect(OptionEncoding.certificateValue(key) == [0x0F] + key.der)
        let certificate = try ServerCertificate(fileContents: try TestCertificate().der)
        #expect(OptionEncoding.certificateValue(certificate) == [0x04] + certificate.der)
    }

    @Test func refusalsSayWhy() throws {
        #expect(refusal(try file("rpk-rsa2048.pem")).hasPrefix("is an RSA key (294 octets of SubjectPublicKeyInfo); give an EC P-256, EC P-384 or Ed25519 key"))
        let privateKey = P256.Signing.PrivateKey()
        let privateReason = "holds a private key; give the server's public key only, and keep the private key away from this file"
        #expect(refusal(Array(privateKey.pemRepresentation.utf8)) == privateReason, "PEM PRIVATE KEY (PKCS#8)")
        #expect(refusal(Array(privateKey.derRepresentation)) == privateReason, "DER PKCS#8")
        let sec1 = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"
        #expect(refusal(Array(sec1.utf8)) == privateReason, "PEM EC PRIVATE KEY")
        let both = String(decoding: try file("rpk-p256.pem"), as: UTF8.self) + privateKey.pemRepresentation
        #expect(refusal(Array(both.utf8)) == privateReason, "a key file with the private key in it")
        let certificate = try TestCertificate()
        #expect(refusal(Array(certificate.pem.utf8)).hasPrefix("holds an X.509 certificate; name it with 'server-certificate'"))
        #expect(refusal(certificate.der).hasPrefix("holds an X.509 certificate"), "DER certificate")
        #expect(refusal(try file("rpk-p256.der") + [0]).contains("Trailing"), "nothing after the one DER element")
        #expect(refusal([]) == "is empty")
        #expect(refusal(Array("hello".utf8)).hasPrefix("is not a DER SubjectPublicKeyInfo"))
        let two = try file("rpk-p256.pem") + file("rpk-p384.pem")
        #expect(refusal(two) == "must hold exactly one PEM PUBLIC KEY block (a SubjectPublicKeyInfo), found 2")
        // X25519 (RFC 8410): 1.3.101.110, a key agreement key.
        let x25519 = Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation
        let spki: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x6E, 0x03, 0x21, 0x00] + x25519
        #expect(refusal(spki).hasPrefix("is an X25519 key, which cannot sign"))
        // A P-256 point that is not on the curve.
        var bad = try file("rpk-p256.der")
        bad[bad.count - 1] ^= 0x01
        #expect(refusal(bad).hasPrefix("is an EC P-256 key whose point is not on the curve"))
    }

    @Test("a PUBLIC KEY named as server-certificate says which key to use")
    func publicKeyAsCertificate() throws {
        let bytes = try file("rpk-p256.pem")
        do {
            _ = try ServerCertificate(fileContents: bytes)
            Issue.record("accepted")
        } catch {
            #expect(error.reason == "holds a PUBLIC KEY, not a certificate; name a raw public key with 'server-public-key'")
        }
    }
}

@Suite("Store: server-public-key entries")
struct StorePublicKeyTests {
    let keyPEM: [UInt8]

    init() throws {
        keyPEM = Array(try Data(contentsOf: CertificateTests.data.appendingPathComponent("rpk-p384.pem")))
    }

    func problems(_ json: String, files: [String: [UInt8]]) throws -> String {
        let folder = try TemporaryFolder()
        for (name, bytes) in files { try folder.write(name, bytes) }
        let path = try folder.write("store.json", json)
        do {
            _ = try Store.load(path: path)
            return "loaded"
        } catch {
            return error.description.replacingOccurrences(of: folder.path, with: "DIR")
        }
    }

    @Test func keysInEntriesAndDefaultOnBothReaders() throws {
        let certificate = try TestCertificate()
        let json = """
            { "default": { "bootstrap-uri": "coaps://default.example", "server-public-key": "keys/bs.pem" },
              "entries": [
                { "subnet-id": 1, "bootstrap-uri": "coaps://a", "server-public-key": "keys/bs.pem" },
                { "subnet-id": 2, "server-public-key": "keys/bs.pem" },
                { "subnet-id": 3, "bootstrap-uri": "coaps://c", "server-certificate": "c.der" } ] }
            """
        let folder = try TemporaryFolder()
        try folder.write("keys/bs.pem", keyPEM)
        try folder.write("c.der", certificate.der)
        let path = try folder.write("store.json", json)
        #expect(StoreDecoding.decode(Array(json.utf8)) != nil, "the fast reader reads it")
        let fast = try Store.load(path: path)
        var cache: CertificateCache = [:]
        let detailed = try Store.parseDetailed(Array(json.utf8), path: path, certificates: &cache,
                                               readFile: { file throws(FileError) in try FileContents.read(file) })
        #expect(fast == detailed)
        #expect(fast.defaultEntry?.certificate?.keyType == .p384)
        #expect(fast.entries[0].certificate?.encoding == .rawPublicKey && fast.entries[0].certificatePath == "keys/bs.pem")
        #expect(fast.entries[1].bootstrapURI == nil && fast.entries[1].certificate?.keyType == .p384, "key-only entry")
        #expect(fast.entries[2].certificate?.encoding == .x509Certificate)
        #expect(fast.entries[0].certificate?.identity == fast.defaultEntry?.certificate?.identity, "one file, read once")
    }

    @Test func certificateAndKeyInOneEntryAreRefused() throws {
        let certificate = try TestCertificate()
        let json = #"{"entries": [{"subnet-id": 4, "bootstrap-uri": "coaps://a", "server-certificate": "c.der", "server-public-key": "k.pem"}]}"#
        #expect(StoreDecoding.decode(Array(json.utf8)) == nil)
        #expect(try problems(json, files: ["c.der": certificate.der, "k.pem": keyPEM])
                == "DIR/store.json:1: subnet-id 4: give 'server-certificate' (X.509) or 'server-public-key' (raw public key), not both: "
                + "devices receive one of them in the certificate option")
        let inDefault = #"{"default": {"bootstrap-uri": "coaps://a", "server-certificate": "c.der", "server-public-key": "k.pem"}, "entries": []}"#
        #expect(try problems(inDefault, files: ["c.der": certificate.der, "k.pem": keyPEM]).hasPrefix("DIR/store.json:default: give 'server-certificate'"))
    }

    @Test func keyProblemsNameTheEntryAndTheFile() throws {
        let certificate = try TestCertificate()
        func single(_ value: String, _ files: [String: [UInt8]]) throws -> String {
            try problems(#"{"entries": [{"subnet-id": 5, "bootstrap-uri": "coaps://a", "server-public-key": \#(value)}]}"#, files: files)
        }
        #expect(try single(#""c.pem""#, ["c.pem": Array(certificate.pem.utf8)])
                .hasPrefix("DIR/store.json:1: subnet-id 5: server-public-key 'DIR/c.pem' holds an X.509 certificate"))
        #expect(try single(#""k.pem""#, ["k.pem": Array(certificate.keyPEM.utf8)])
                == "DIR/store.json:1: subnet-id 5: server-public-key 'DIR/k.pem' holds a private key; give the server's public key only, and keep the private key away from this file")
        #expect(try single(#""""#, [:]) == "DIR/store.json:1: subnet-id 5: 'server-public-key' must not be empty; leave the key out for no key")
        #expect(try single("7", [:]) == "DIR/store.json:1: subnet-id 5: 'server-public-key' must be a string (a file path), not an integer")
        #expect(try single(#""none.pem""#, [:]) == "DIR/store.json:1: subnet-id 5: server-public-key 'DIR/none.pem' cannot open: No such file or directory")
    }

    @Test("a snapshot sends 0F || SPKI in the certificate option, v4 and v6")
    func snapshotSendsEncoding15() throws {
        let folder = try TemporaryFolder()
        try folder.write("k.pem", keyPEM)
        let path = try folder.write("store.json", #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coaps://bs.example", "server-public-key": "k.pem"}]}"#)
        let store = try Store.load(path: path)
        guard let der = store.entries.first?.certificate?.der else { Issue.record("no key"); return }
        for family in [AddressFamily.v4, .v6] {
            let codes = HookParameters.defaultCodes(for: family)
            let parameters = HookParameters(storeFile: path, bootstrapURICode: codes.uri, serverCertificateCode: codes.certificate,
                                            defaultMaxMessageSize: 1500)
            let snapshot = Snapshot(store: store, parameters: parameters, family: family)
            let exchange = family == .v4 ? TestExchange()
                : TestExchange(family: .v6, queryType: 1, responseType: 2, subnetID: 1,
                               prefix: ([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 64),
                               requested: [0, 200, 0, 201])
            let (answer, bytes) = exchange.run(snapshot)
            guard let range = answer.certificate else { Issue.record("\(family): no certificate option"); continue }
            let wire = Array(bytes[range])
            let header: [UInt8] = family == .v4 ? [UInt8(codes.certificate), UInt8(der.count + 1)]
                                                : [0, UInt8(codes.certificate), 0, UInt8(der.count + 1)]
            #expect(wire == header + [0x0F] + der, "\(family)")
            #expect(snapshot.certificateCount == 1)
        }
    }
}

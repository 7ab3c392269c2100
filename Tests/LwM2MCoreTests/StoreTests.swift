import Testing
@testable import LwM2MCore

@Suite("Store loading and validation")
struct StoreTests {
    /// Loads `json` written as `store.json` in a folder that also holds `files`.
    func load(_ json: String, files: [String: [UInt8]] = [:]) throws -> (Store, TemporaryFolder) {
        let folder = try TemporaryFolder()
        for (name, bytes) in files { try folder.write(name, bytes) }
        let path = try folder.write("store.json", json)
        return (try Store.load(path: path), folder)
    }

    /// The problems `json` gives, as one string, with the folder's path shown as `DIR`.
    func problems(_ json: String, files: [String: [UInt8]] = [:]) throws -> String {
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

    @Test func loadsBothSelectorsAndRelativeCertificatePaths() throws {
        let certificate = try TestCertificate()
        let (store, _) = try load("""
            { "comment": "lab", "entries": [
                { "subnet": "192.0.2.0/24", "bootstrap-uri": "coaps://bs.example.com:5684",
                  "server-certificate": "certs/bs.pem", "comment": "meters" },
                { "subnet-id": 7, "bootstrap-uri": "coap://[2001:db8::5]:5683" },
                { "subnet": "2001:db8:1::/64", "bootstrap-uri": "coaps://bs6.example.com", "server-certificate": "bs.der" } ] }
            """, files: ["certs/bs.pem": Array(certificate.pem.utf8), "bs.der": certificate.der])
        #expect(store.entries.count == 3)
        #expect(store.entries[0].selector == .subnet(try SubnetPrefix(parsing: "192.0.2.0/24")))
        #expect(store.entries[0].certificate?.der == certificate.der)
        #expect(store.entries[0].certificate?.subject == "CN=bs.example.com")
        #expect(store.entries[0].certificate?.sha256Fingerprint.count == 32 * 3 - 1)
        #expect(store.entries[1].selector == .subnetID(7) && store.entries[1].certificate == nil)
        #expect(store.entries[2].certificate?.der == certificate.der)
        #expect(store.entries[2].applies(to: .v6) && !store.entries[2].applies(to: .v4))
        #expect(store.entries[1].applies(to: .v4) && store.entries[1].applies(to: .v6))
    }

    @Test func everyProblemNamesFileEntryAndReason() throws {
        let text = try problems("""
            { "entries": [
                { "subnet": "192.0.2.0/24", "bootstrap-uri": "http://bs.example.com" },
                { "subnet-id": 0, "bootstrap-uri": "coap://a" },
                { "bootstrap-uri": "coap://a" },
                { "subnet": "192.0.2.0/24", "subnet-id": 3, "bootstrap-uri": "coap://a" },
                { "subnet": "198.51.100.0/24", "bootstrap-uri": "coap://a", "colour": "red" },
                { "subnet": "198.51.100.0/24" },
                { "subnet": "203.0.113.0/24", "bootstrap-uri": "coap://a", "server-certificate": "missing.pem" },
                "not a map" ] }
            """)
        let lines = text.components(separatedBy: "; ")
        #expect(lines == [
            "DIR/store.json:1: subnet 192.0.2.0/24: bootstrap-uri 'http://bs.example.com' scheme 'http' is not one of coap, coaps, coap+tcp, coaps+tcp",
            "DIR/store.json:2: 'subnet-id' must be an integer from 1 to 4294967295",
            "DIR/store.json:3: needs one of 'host', 'client-class', 'subnet', 'subnet-id', 'shared-network'",
            "DIR/store.json:4: give one of 'subnet', 'subnet-id', not several",
            "DIR/store.json:5: subnet 198.51.100.0/24: unknown key 'colour' (known: always-send, bootstrap-uri, client-class, comment, host, server-certificate, server-public-key, shared-network, subnet, subnet-id)",
            "DIR/store.json:6: subnet 198.51.100.0/24: needs 'bootstrap-uri' (or, for a certificate-only entry, 'server-certificate' or 'server-public-key')",
            "DIR/store.json:7: subnet 203.0.113.0/24: server-certificate 'DIR/missing.pem' cannot open: No such file or directory",
            "DIR/store.json:8: must be a map, not a string",
        ])
    }

    @Test func duplicateKeysAreRefused() throws {
        let text = try problems("""
            { "entries": [
                { "subnet": "192.0.2.0/24", "bootstrap-uri": "coap://a" },
                { "subnet-id": 4, "bootstrap-uri": "coap://b" },
                { "subnet": "192.0.2.0/24", "bootstrap-uri": "coap://c" },
                { "subnet-id": 4, "bootstrap-uri": "coap://d" } ] }
            """)
        #expect(text == "DIR/store.json:3: subnet 192.0.2.0/24: is already given by entry 1; one entry per key; "
                + "DIR/store.json:4: subnet-id 4: is already given by entry 2; one entry per key")
    }

    @Test("file-level problems", arguments: [
        ("", "DIR/store.json: is not valid JSON"),
        ("[]", "DIR/store.json: must be a JSON map with an \"entries\" list, not a list"),
        ("{}", "DIR/store.json: has no \"entries\" list"),
        (#"{"entries": {}}"#, "DIR/store.json: \"entries\" must be a list"),
        (#"{"entries": [], "defaults": 1}"#, "DIR/store.json: unknown key 'defaults' (known: comment, default, entries)"),
        (#"{"entries": [], "default": 1}"#, "DIR/store.json:default: must be a map, not an integer"),
        (#"{"entries": [{"subnet": "192.0.2.1/24", "bootstrap-uri": "coap://a"}]}"#,
         "DIR/store.json:1: subnet '192.0.2.1/24': host bits are set; the subnet is 192.0.2.0/24"),
    ])
    func fileLevel(json: String, expected: String) throws {
        let text = try problems(json)
        #expect(text.hasPrefix(expected), "\(text)")
    }

    @Test func missingStoreFile() throws {
        let folder = try TemporaryFolder()
        #expect(throws: StoreError(problems: [StoreProblem(file: folder.path + "/none.json", entry: nil, key: nil,
                                                           reason: "cannot open: No such file or directory")])) {
            try Store.load(path: folder.path + "/none.json")
        }
    }

    @Test func certificateProblems() throws {
        let certificate = try TestCertificate()
        let second = try TestCertificate(commonName: "other")
        func single(_ file: [UInt8]) throws -> String {
            try problems(#"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a", "server-certificate": "c.pem"}]}"#,
                         files: ["c.pem": file])
        }
        let withKey = try single(Array((certificate.pem + certificate.keyPEM).utf8))
        #expect(withKey.hasSuffix(
            "server-certificate 'DIR/c.pem' holds a private key; give the server's certificate only, and keep the key away from this file"))
        let keyOnly = try single(Array(certificate.keyPEM.utf8))
        #expect(keyOnly.contains("holds a private key"))
        let two = try single(Array((certificate.pem + second.pem).utf8))
        #expect(two.hasSuffix("must hold exactly one PEM CERTIFICATE block, found 2"))
        let garbage = try single(Array("hello".utf8))
        #expect(garbage.contains("is not an X.509 certificate (PEM or DER)"), "\(garbage)")
        let empty = try single([])
        #expect(empty.hasSuffix("is empty"))
        let truncated = try single(Array(certificate.der.dropLast()))
        #expect(truncated.contains("is not an X.509 certificate"))
    }

    @Test func oneCertificateFileIsReadOnceForManyEntries() throws {
        let certificate = try TestCertificate()
        var entries: [String] = []
        for id in 1...50 { entries.append(#"{"subnet-id": \#(id), "bootstrap-uri": "coap://a", "server-certificate": "c.der"}"#) }
        let (store, _) = try load(#"{"entries": [\#(entries.joined(separator: ","))]}"#, files: ["c.der": certificate.der])
        #expect(store.entries.count == 50)
        #expect(Set(store.entries.compactMap { $0.certificate?.der }).count == 1)
    }
}

@Suite("Store: hostile files")
struct HostileStoreTests {
    @Test("deep nesting is an error, not a crash", arguments: [600, 100_000])
    func deepNesting(depth: Int) throws {
        let folder = try TemporaryFolder()
        let json = #"{"entries": "# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        let path = try folder.write("store.json", json)
        #expect(throws: StoreError.self) { try Store.load(path: path) }
    }

    @Test func binaryGarbageIsAnError() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("store.json", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) })
        #expect(throws: StoreError.self) { try Store.load(path: path) }
    }

    @Test func aFolderIsNotAStore() throws {
        let folder = try TemporaryFolder()
        do {
            _ = try Store.load(path: folder.path)
            Issue.record("loaded a folder")
        } catch {
            #expect(error.description.hasSuffix("is not a regular file"))
        }
    }
}

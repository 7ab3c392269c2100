import Foundation
import Testing
@testable import LwM2MCore
#if canImport(Glibc)
import Glibc
#endif

@Suite("store-database parameters and the store's rows")
struct DatabaseTests {
    func parse(_ json: String, _ family: AddressFamily = .v4) throws(ParameterError) -> HookParameters {
        try HookParameters.parse(json: Array(json.utf8), family: family, keaDefinedCodes: [1, 3, 6, 53, 55, 57])
    }

    func reason(_ json: String) -> String {
        do {
            _ = try parse(json)
            return "accepted"
        } catch {
            return error.description
        }
    }

    @Test func keysOfKeasLeaseDatabase() throws {
        let p = try parse(#"""
            {"store-database": {"type": "postgresql", "name": "lwm2m", "host": "/run/postgresql", "port": 5433,
             "user": "kea", "password": "secret", "connect-timeout": 3, "trust-anchor": "/etc/ca.pem",
             "cert-file": "/etc/c.pem", "key-file": "/etc/k.pem", "cache-file": "/var/lib/kea/lwm2m-cache.json"}}
            """#)
        let database = try #require(p.storeDatabase)
        #expect(database.name == "lwm2m" && database.host == "/run/postgresql" && database.port == 5433)
        #expect(database.user == "kea" && database.password == "secret" && database.connectTimeout == 3)
        #expect(database.cacheFile == "/var/lib/kea/lwm2m-cache.json")
        #expect(p.storeFile == database.label)
        let keywords = Dictionary(database.connectionKeywords(applicationName: "x"), uniquingKeysWith: { a, _ in a })
        #expect(keywords["dbname"] == "lwm2m" && keywords["sslmode"] == "verify-full" && keywords["sslrootcert"] == "/etc/ca.pem")
        #expect(keywords["sslcert"] == "/etc/c.pem" && keywords["sslkey"] == "/etc/k.pem" && keywords["connect_timeout"] == "3")
        #expect(database.certificateFolder == "lwm2m-cache.json.certs")
    }

    /// A PostgreSQL lease-database map of Kea, copied as it is: tcp-user-timeout
    /// applies, the reconnect and row-error keys are checked and have no effect.
    @Test func aCopiedLeaseDatabaseMap() throws {
        let p = try parse(#"""
            {"store-database": {"type": "postgresql", "name": "kea", "host": "db.example.net", "user": "kea",
             "password": "secret", "connect-timeout": 10, "tcp-user-timeout": 8, "max-reconnect-tries": 3,
             "reconnect-wait-time": 2000, "on-fail": "stop-retry-exit", "retry-on-startup": false, "max-row-errors": 0}}
            """#)
        let database = try #require(p.storeDatabase)
        #expect(database.tcpUserTimeout == 8)
        #expect(database.keysWithoutEffect == ["max-reconnect-tries", "reconnect-wait-time", "on-fail", "retry-on-startup", "max-row-errors"])
        let keywords = Dictionary(database.connectionKeywords(applicationName: "x"), uniquingKeysWith: { a, _ in a })
        #expect(keywords["tcp_user_timeout"] == "8000" && keywords["connect_timeout"] == "10")
        let plain = try #require(try parse(#"{"store-database": {"type": "postgresql", "name": "x", "tcp-user-timeout": 0}}"#).storeDatabase)
        #expect(plain.tcpUserTimeout == nil && plain.keysWithoutEffect.isEmpty)
        #expect(Dictionary(plain.connectionKeywords(applicationName: "x"), uniquingKeysWith: { a, _ in a })["tcp_user_timeout"] == nil)
    }

    @Test func defaults() throws {
        let database = try #require(try parse(#"{"store-database": {"type": "postgresql", "name": "x"}}"#).storeDatabase)
        #expect(database.host == "localhost" && database.port == nil && database.connectTimeout == 5 && database.cacheFile == nil)
        let keywords = Dictionary(database.connectionKeywords(applicationName: "x"), uniquingKeysWith: { a, _ in a })
        #expect(keywords["sslmode"] == nil)
    }

    @Test func invalidMaps() {
        let cases: [(String, String)] = [
            (#"{"store-file": "s", "store-database": {"type": "postgresql", "name": "x"}}"#, "not both"),
            (#"{"store-database": "postgresql://x"}"#, "must be a map"),
            (#"{"store-database": {"name": "x"}}"#, "'type' is required"),
            (#"{"store-database": {"type": "mysql", "name": "x"}}"#, "must be \"postgresql\""),
            (#"{"store-database": {"type": "postgresql"}}"#, "'name' is required"),
            (#"{"store-database": {"type": "postgresql", "name": ""}}"#, "'name' must not be empty"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "port": 70000}}"#, "'port' must be an integer"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "connect-timeout": 0}}"#, "'connect-timeout' must be an integer from 1 to 300"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "cert-file": "/c"}}"#, "go together"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "password": "a", "password-file": "/p"}}"#, "not both"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "pasword": "a"}}"#, "unknown key 'pasword'"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "password-file": "/nonexistent/pw"}}"#, "'password-file' /nonexistent/pw cannot open"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "host": 5}}"#, "'host' must be a string"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "tcp-user-timeout": -1}}"#, "'tcp-user-timeout' must be an integer from 0"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "max-reconnect-tries": -1}}"#, "'max-reconnect-tries' must be an integer from 0"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "reconnect-wait-time": "1s"}}"#, "'reconnect-wait-time' must be an integer"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "on-fail": "retry"}}"#, "'on-fail' must be one of \"stop-retry-exit\""),
            (#"{"store-database": {"type": "postgresql", "name": "x", "retry-on-startup": 1}}"#, "'retry-on-startup' must be true or false"),
            (#"{"store-database": {"type": "postgresql", "name": "x", "persist": true}}"#, "unknown key 'persist'"),
            (#"{}"#, "store-database"),
        ]
        for (json, expected) in cases {
            let text = reason(json)
            #expect(text.contains(expected), "\(json): \(text)")
        }
    }

    @Test func passwordFileFirstLine() throws {
        let path = "/tmp/lwm2m-db-test-\(getpid()).pw"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = "s3cret\nignored\n".withCString { write(fd, $0, 14) }
        close(fd)
        defer { unlink(path) }
        let database = try #require(try parse(#"{"store-database": {"type": "postgresql", "name": "x", "password-file": "\#(path)"}}"#).storeDatabase)
        #expect(database.password == "s3cret")
        chmod(path, 0o666)
        #expect(reason(#"{"store-database": {"type": "postgresql", "name": "x", "password-file": "\#(path)"}}"#).contains("writable by"))
    }

    @Test func rowsRoundTripThroughTheStoreParser() throws {
        let rows = StoreRows(entries: [
            .init(position: 0, body: #"{"bootstrap-uri": "coaps://default.example"}"#, certificate: nil),
            .init(position: 1, body: #"{"subnet-id": 7, "bootstrap-uri": "coap://seven.example"}"#, certificate: nil),
            .init(position: 2, body: #"{"client-class": "cams", "bootstrap-uri": "coaps://cams.example", "always-send": true}"#, certificate: nil),
        ], certificates: [:])
        let (store, document) = try rows.store(label: "postgresql database 'x'", certificateFolder: "certificates", comment: "revision 3 of x")
        #expect(store.entries.count == 2 && store.defaultEntry != nil)
        #expect(String(decoding: document, as: UTF8.self).hasPrefix(#"{"comment":"revision 3 of x""#))
    }

    @Test func invalidRowIsNamedByPosition() {
        let rows = StoreRows(entries: [
            .init(position: 1, body: #"{"subnet-id": 7, "bootstrap-uri": "coap://ok.example"}"#, certificate: nil),
            .init(position: 2, body: #"{"subnet-id": 8, "bootstrap-uri": "http://rogue.example"}"#, certificate: nil),
        ], certificates: [:])
        do {
            _ = try rows.store(label: "postgresql database 'x'", certificateFolder: "certificates", comment: "c")
            Issue.record("an http URI was accepted")
        } catch {
            #expect(error.description.contains("postgresql database 'x':2:"), "\(error)")
        }
    }

    @Test func missingCertificateRowIsAProblem() {
        let rows = StoreRows(entries: [
            .init(position: 1, body: #"{"subnet-id": 7, "bootstrap-uri": "coap://ok.example"}"#,
                  certificate: String(repeating: "ab", count: 32)),
        ], certificates: [:])
        do {
            _ = try rows.store(label: "db", certificateFolder: "certificates", comment: "c")
            Issue.record("a missing certificate was accepted")
        } catch {
            #expect(error.description.contains("not in the database's certificate table"), "\(error)")
        }
    }

    @Test("a raw public key goes to the rows with its encoding, and comes back as server-public-key")
    func rawPublicKeyRows() throws {
        let folder = try TemporaryFolder()
        let key = Array(try Data(contentsOf: CertificateTests.data.appendingPathComponent("rpk-ed25519.pem")))
        let certificate = try TestCertificate()
        try folder.write("k.pem", key)
        try folder.write("c.der", certificate.der)
        let path = try folder.write("store.json", """
            { "default": { "bootstrap-uri": "coaps://d.example", "server-public-key": "k.pem" },
              "entries": [ { "subnet-id": 1, "bootstrap-uri": "coaps://a.example", "server-certificate": "c.der" },
                           { "subnet-id": 2, "server-public-key": "k.pem" } ] }
            """)
        let original = try Store.load(path: path)
        let rows = try StoreRows.load(path: path)
        #expect(rows.certificates.count == 2 && rows.rawPublicKeys.count == 1)
        #expect(rows.entries.allSatisfy { !$0.body.contains("server-") }, "the keys live in the bytes table")
        let keySHA = try #require(rows.entries.first { $0.position == 0 }?.certificate)
        #expect(rows.encoding(of: keySHA) == .rawPublicKey)
        let (store, document) = try rows.store(label: "db", certificateFolder: "certificates", comment: "c")
        let text = String(decoding: document, as: UTF8.self)
        #expect(text.contains(#"{"server-public-key":"certificates/\#(keySHA).der""#))
        #expect(store.defaultEntry?.certificate?.der == original.defaultEntry?.certificate?.der)
        #expect(store.defaultEntry?.certificate?.encoding == .rawPublicKey)
        #expect(store.entries[0].certificate?.encoding == .x509Certificate)
        #expect(store.entries[1].certificate?.keyType == .ed25519 && store.entries[1].bootstrapURI == nil)
    }

    @Test func scriptSplitsOutsideFunctionBodies() {
        let statements = StoreDatabase.statements(StoreDatabase.schema1)
        #expect(statements.count == 16)   // 5 tables, 2 inserts, 1 index, 3 functions, 5 triggers
        #expect(statements.allSatisfy { !$0.hasSuffix(";") })
        #expect(statements.contains { $0.hasPrefix("CREATE FUNCTION lwm2m_bump_revision") && $0.contains("END $$") })
    }
}

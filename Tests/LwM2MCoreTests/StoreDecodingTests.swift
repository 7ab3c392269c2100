import Testing
@testable import LwM2MCore

/// The fast store reader (`StoreDecoding`) against the detailed one
/// (`Store.parseDetailed`): same stores for valid files, and for every file
/// the fast reader refuses, the detailed reader's messages.
@Suite("Store: fast and detailed readers agree")
struct StoreDecodingTests {
    /// Both readers over `json` (written as `store.json` with `files`),
    /// certificates read through the same file reader.
    func both(_ json: String, files: [String: [UInt8]] = [:])
        throws -> (fast: Result<Store, StoreError>, detailed: Result<Store, StoreError>, decoded: Bool) {
        let folder = try TemporaryFolder()
        for (name, bytes) in files { try folder.write(name, bytes) }
        let path = try folder.write("store.json", json)
        let bytes = Array(json.utf8)
        let read = { (file: String) throws(FileError) -> [UInt8] in try FileContents.read(file) }
        let fast = Result { () throws(StoreError) -> Store in try Store.parse(bytes, path: path, readFile: read) }
        var cache: CertificateCache = [:]
        let detailed = Result { () throws(StoreError) -> Store in
            try Store.parseDetailed(bytes, path: path, certificates: &cache, readFile: read)
        }
        return (fast, detailed, StoreDecoding.decode(bytes) != nil)
    }

    static let validStores = [
        #"{"entries": []}"#,
        #"{"comment": "x", "entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet": "192.0.2.0/24", "bootstrap-uri": "COAPS://bs.example.com:5684/p?q=1", "always-send": true, "comment": "c"}]}"#,
        #"{"entries": [{"subnet": "2001:db8:1::/64", "bootstrap-uri": "coap+tcp://[2001:db8::5]:5683"}]}"#,
        #"{"entries": [{"host": {"hw-address": "02:4c:57:4d:00:01"}, "bootstrap-uri": "coap://h"}, {"host": {"client-id": "01-02-03"}, "bootstrap-uri": "coap://c"}, {"host": {"duid": "000100"}, "bootstrap-uri": "coaps+tcp://d"}]}"#,
        #"{"entries": [{"client-class": "cameras", "bootstrap-uri": "coap://a", "always-send": false}, {"shared-network": "meters", "bootstrap-uri": "coap://b%41"}]}"#,
        #"{"default": {"bootstrap-uri": "coaps://default.example", "comment": "d"}, "entries": [{"subnet-id": 4294967295, "server-certificate": "c.der"}]}"#,
        #"{"entries": [{"subnet-id": 2, "bootstrap-uri": "coap://a", "server-certificate": "c.der"}, {"subnet-id": 3, "bootstrap-uri": "coap://a", "server-certificate": "./c.der"}]}"#,
    ]

    @Test("valid stores: the fast reader reads them, to the detailed reader's store", arguments: validStores)
    func validStore(json: String) throws {
        let certificate = try TestCertificate()
        let (fast, detailed, decoded) = try both(json, files: ["c.der": certificate.der])
        #expect(decoded)
        #expect(try fast.get() == detailed.get())
    }

    static let invalidStores = [
        #"[]"#,
        #"{"entries": {}}"#,
        #"{"entries": [], "colour": 1}"#,
        #"{"entries": [], "comment": 3}"#,
        #"{"entries": [], "default": 1}"#,
        #"{"entries": [], "default": {"subnet-id": 1, "bootstrap-uri": "coap://a"}}"#,
        #"{"entries": [], "default": {"server-certificate": "c.der"}}"#,
        #"{"entries": [1]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a", "colour": "red"}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": null}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a", "always-send": null}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a", "always-send": 1}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a", "comment": null}]}"#,
        #"{"entries": [{"subnet-id": "1", "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet-id": 1.5, "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet-id": 0, "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet-id": 4294967296, "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet-id": true, "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet": "192.0.2.1/24", "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet": "192.0.2.0/33", "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet": 7, "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet-id": 1, "subnet": "192.0.2.0/24", "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet-id": 1}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "http://a"}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://u@a"}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": 5}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a", "server-certificate": ""}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a", "server-certificate": "missing.pem"}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a", "server-certificate": 3}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a"}, {"subnet-id": 1, "bootstrap-uri": "coap://b"}]}"#,
        #"{"entries": [{"client-class": "", "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"host": {"hw-address": "zz"}, "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"host": {"hw-address": "01", "duid": "02"}, "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"host": {"mac": "01"}, "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"host": "01", "bootstrap-uri": "coap://a"}]}"#,
        #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a"}"#,
    ]

    @Test("invalid stores: the fast reader gives up, the messages are the detailed reader's", arguments: invalidStores)
    func invalidStore(json: String) throws {
        let certificate = try TestCertificate()
        let (fast, detailed, _) = try both(json, files: ["c.der": certificate.der])
        guard case .failure(let fastError) = fast, case .failure(let detailedError) = detailed else {
            Issue.record("loaded: \(json)")
            return
        }
        #expect(fastError == detailedError)
        #expect(StoreDecoding.decode(Array(json.utf8)) == nil || json.contains("missing.pem"))
    }

    @Test func aLargeStoreLoadsTheFastWayWithSharedCertificates() throws {
        let certificates = try (0..<3).map { try TestCertificate(commonName: "bs\($0).example.com") }
        var entries: [String] = []
        for index in 0..<20_000 {
            let key = index % 2 == 0 ? #""subnet-id": \#(index + 1)"# : #""subnet": "10.\#(index >> 12).\#((index >> 4) & 255).\#((index & 15) << 4)/28""#
            entries.append(#"{\#(key), "bootstrap-uri": "coaps://bs-\#(index).example.com:5684", "server-certificate": "c\#(index % 3).der"}"#)
        }
        var files: [String: [UInt8]] = [:]
        for (index, certificate) in certificates.enumerated() { files["c\(index).der"] = certificate.der }
        let json = #"{"entries": [\#(entries.joined(separator: ",\n"))]}"#
        #expect(StoreDecoding.decode(Array(json.utf8)) != nil)
        let (fast, detailed, _) = try both(json, files: files)
        let store = try fast.get()
        #expect(store == (try detailed.get()))
        #expect(store.entries.count == 20_000)
        #expect(store.entries[1].selector == .subnet(try SubnetPrefix(parsing: "10.0.0.16/28")))
        #expect(store.entries[19_999].bootstrapURI?.description == "coaps://bs-19999.example.com:5684")
        #expect(store.entries[4].certificate?.der == certificates[1].der)
        #expect(store.entries[4].certificatePath == "c1.der")
    }
}

@Suite("Byte-level URI and prefix checks agree with the detailed ones")
struct FastCheckTests {
    /// Every URI the byte check accepts, the detailed check accepts too;
    /// and the usual forms are accepted by the byte check itself.
    @Test func uriByteCheckIsNeverLooserThanTheDetailedCheck() {
        let common = ["coap://a", "coaps://bs.example.com:5684", "COAP+TCP://x:0", "coaps+tcp://h/p/q?x=1&y=/?",
                      "coap://[2001:db8::5]:5683", "coap://[::1]", "coap://a%41b/%7e", "coap://192.0.2.1:65535/"]
        for uri in common {
            #expect(BootstrapURI.isValid(Array(uri.utf8)), "\(uri)")
            #expect((try? BootstrapURI.check(Substring(uri))) != nil, "\(uri)")
        }
        let pieces = ["coap", "coaps", "CoAp+TcP", "coaps+tcp", "http", "coap+", ":", "//", "/", "?", "#", "@", "[", "]",
                      "::1", "a", "b.c", "%", "%4", "%41", "%zz", "80", "65536", "+1", "x", "-", "~", "'", "!", "="]
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        for _ in 0..<40_000 {
            var text = ["coap", "coaps", "coap+tcp", "coaps+tcp", "COAPS", "ftp"].randomElement(using: &generator) ?? "coap"
            text += Bool.random(using: &generator) ? "://" : ":/"
            for _ in 0..<Int.random(in: 0...6, using: &generator) { text += pieces.randomElement(using: &generator) ?? "" }
            let fast = BootstrapURI.isValid(Array(text.utf8))
            let detailed = (try? BootstrapURI.check(Substring(text))) != nil
            if fast {
                accepted += 1
                #expect(detailed, "byte check accepts \(text), the detailed check does not")
            }
        }
        #expect(accepted > 100)
    }

    @Test func prefixWithoutAllocationReadsAsTheSlowWay() throws {
        for text in ["192.0.2.0/24", "0.0.0.0/0", "10.0.0.16/28", "255.255.255.255/32", "2001:db8:1::/64",
                     "::/0", "2001:db8::1/128", "2001:db8:8000::/33", "::ffff:192.0.2.0/120"] {
            let fast = try #require(SubnetPrefix.parseValid(text), "\(text)")
            #expect(fast.description == text.replacingOccurrences(of: "::ffff:192.0.2.0", with: "::ffff:192.0.2.0"))
            #expect(fast == (try SubnetPrefix(parsing: text)))
        }
        // Left to the slow way, which accepts or explains them.
        for text in ["192.0.2.0/+24", "192.0.2.1/24", "192.0.2.0/33", "192.0.2.0", "a/8", "/8", "192.0.2.0/0024"] {
            #expect(SubnetPrefix.parseValid(text) == nil, "\(text)")
        }
        #expect((try SubnetPrefix(parsing: "192.0.2.0/+24")).length == 24)
        #expect(try SubnetPrefix(parsing: "10.0.0.16/28").address == [10, 0, 0, 16])
        #expect(try SubnetPrefix(parsing: "2001:db8:8000::/33").address
                == [0x20, 0x01, 0x0d, 0xb8, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }
}

/// Found by the store fuzz target (docs/reliability.md): a file with two
/// values the JSON decoder refuses got one message or the other, depending on
/// the order in which the decoder happened to list the keys that time.
@Suite("Store: the same broken file, the same message")
struct StoreMessageStabilityTests {
    @Test("two undecodable values: every read names the same one")
    func sameMessageEveryTime() throws {
        // A control character in the top-level comment, a NUL in an entry's key.
        let json = "{\"comment\": \"a\u{16}b\", \"entries\": [{\"subnet-id\": 1, \"bootstrap-uri\": \"coap://a\", "
            + "\"server\u{0}certificate\": \"c.pem\"}]}"
        let bytes = Array(json.utf8)
        let read = { (file: String) throws(FileError) -> [UInt8] in throw FileError(reason: "no file") }
        var messages = Set<String>()
        for _ in 0..<50 {
            do {
                _ = try Store.parse(bytes, path: "/s/store.json", readFile: read)
                Issue.record("a store with control characters was accepted")
            } catch {
                messages.insert(error.description)
            }
        }
        #expect(messages.count == 1, "\(messages)")
    }
}

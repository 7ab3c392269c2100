import Foundation
import Testing
@testable import LwM2MCore

/// Facts of an exchange with the optional selector facts, owned.
struct SelectorFacts {
    var family: AddressFamily = .v4
    var queryType: UInt8 = 1
    var responseType: UInt8 = 2
    var subnetID: UInt32? = 1
    var prefix: (address: [UInt8], length: UInt8)? = ([192, 0, 2, 0], 24)
    var requested: [UInt8]? = [1, 3, 224, 225]
    var option57: [UInt8]? = [0x05, 0xdc]
    var replySize = 300
    var hardwareAddress: [UInt8]? = nil
    var clientID: [UInt8]? = nil
    var classes: [String] = []
    var sharedNetwork: String? = nil

    func run(_ snapshot: Snapshot, now: UInt64? = nil) -> (Answer, [UInt8], Snapshot.Selection?) {
        var buffer = [UInt8](repeating: 0, count: 8192)
        let prefixKey = prefix.map { prefix in
            prefix.address.withUnsafeBufferPointer { PrefixKey(family: family, address: $0, length: prefix.length) }
        }
        let classList: [UInt8]? = classes.isEmpty ? nil : classes.flatMap { Array($0.utf8) + [0] }
        let network = sharedNetwork.map { Array($0.utf8) }
        var selection: Snapshot.Selection? = nil
        let answer = with(requested) { requested in with(option57) { option57 in with(hardwareAddress) { hw in
            with(clientID) { id in with(classList) { classes in with(network) { network in
                var facts = ExchangeFacts(family: family, queryType: queryType, responseType: responseType,
                                          subnetID: subnetID, subnetPrefix: prefixKey, requestedOptions: requested,
                                          maxMessageSize: option57, replySize: replySize)
                facts.provided = [.hardwareAddress, .clientID, .clientClasses, .sharedNetwork]
                facts.hardwareType = 1
                facts.hardwareAddress = hw
                facts.clientID = id
                facts.clientClasses = classes
                facts.sharedNetwork = network
                selection = snapshot.select(facts)
                return buffer.withUnsafeMutableBytes { snapshot.answer(facts, into: $0, now: now) }
            } } } } } }
        let used = [answer.uri, answer.certificate].compactMap { $0?.upperBound }.max() ?? 0
        return (answer, Array(buffer.prefix(used)), selection)
    }

    private func with<R>(_ bytes: [UInt8]?, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBufferPointer { body($0) }
    }
}

@Suite("Selection: precedence host > client-class > subnet-id > subnet > shared-network > default")
struct SelectionTests {
    let folder: TemporaryFolder
    let store: Store
    let certificates: [String: TestCertificate]

    /// Entry numbers below (from 1) are the store positions; every selector
    /// matches the "everything" query, so each test takes one away.
    static let storeJSON = """
        { "default": { "bootstrap-uri": "coap://default", "server-certificate": "default.der" },
          "entries": [
            { "host": { "hw-address": "02:00:00:00:00:01" }, "bootstrap-uri": "coap://hw" },
            { "host": { "client-id": "01:02:00:00:00:00:01" }, "bootstrap-uri": "coap://cid" },
            { "host": { "duid": "00:03:00:01:02:00:00:00:00:01" }, "bootstrap-uri": "coap://duid" },
            { "client-class": "meters", "bootstrap-uri": "coap://meters" },
            { "client-class": "cameras", "bootstrap-uri": "coap://cameras", "server-certificate": "cameras.der" },
            { "subnet-id": 1, "bootstrap-uri": "coap://id1" },
            { "subnet": "192.0.2.0/24", "bootstrap-uri": "coap://prefix", "server-certificate": "prefix.der" },
            { "shared-network": "plant", "bootstrap-uri": "coap://plant", "server-certificate": "plant.der" },
            { "subnet-id": 2, "server-certificate": "id2.der" },
            { "subnet": "198.51.100.0/24", "bootstrap-uri": "coap://b" },
            { "client-class": "signed", "server-certificate": "signed.der" },
            { "subnet": "2001:db8:1::/64", "bootstrap-uri": "coap://v6prefix" },
            { "shared-network": "v6net", "bootstrap-uri": "coap://v6net" } ] }
        """

    init() throws {
        folder = try TemporaryFolder()
        var certificates: [String: TestCertificate] = [:]
        for name in ["default", "cameras", "prefix", "plant", "id2", "signed"] {
            let certificate = try TestCertificate(commonName: name)
            certificates[name] = certificate
            try folder.write("\(name).der", certificate.der)
        }
        self.certificates = certificates
        store = try Store.load(path: try folder.write("store.json", Self.storeJSON))
    }

    func snapshot(_ family: AddressFamily = .v4, remember: HookParameters.RememberPolicy? = nil,
                  v6Limit: Int = 1452, in store: Store? = nil) -> Snapshot {
        let codes = HookParameters.defaultCodes(for: family)
        let store = store ?? self.store
        return Snapshot(store: store, parameters: HookParameters(storeFile: store.path, bootstrapURICode: codes.uri,
                                                                 serverCertificateCode: codes.certificate,
                                                                 defaultMaxMessageSize: 576, dhcpv6MaxReplySize: v6Limit,
                                                                 rememberRequests: remember), family: family)
    }

    /// A query every v4 selector matches.
    var everything: SelectorFacts {
        SelectorFacts(hardwareAddress: [2, 0, 0, 0, 0, 1], clientID: [1, 2, 0, 0, 0, 0, 1],
                      classes: ["ALL", "meters", "cameras"], sharedNetwork: "plant")
    }

    func uri(_ facts: SelectorFacts, _ snapshot: Snapshot? = nil) -> String? {
        let (answer, bytes, _) = facts.run(snapshot ?? self.snapshot())
        guard let range = answer.uri else { return nil }
        let wire = Array(bytes[range])
        return String(decoding: OptionEncoding.dhcpv4Value(of: 224, inOptions: wire) ?? [], as: UTF8.self)
    }

    func certificate(_ facts: SelectorFacts) -> [UInt8]? {
        let (answer, bytes, _) = facts.run(snapshot())
        guard let range = answer.certificate else { return nil }
        return OptionEncoding.dhcpv4Value(of: 225, inOptions: Array(bytes[range])).map { Array($0.dropFirst()) }
    }

    @Test func storeHasTheDefaultAndEveryKindOfSelector() {
        #expect(store.entries.count == 13)
        #expect(store.defaultEntry?.selector == .storeDefault && store.defaultEntry?.index == StoreEntry.defaultIndex)
        #expect(store.entries[0].selector == .host(.hwAddress([2, 0, 0, 0, 0, 1])))
        #expect(store.entries[8].bootstrapURI == nil && store.entries[8].certificate != nil)
        #expect(snapshot(.v4).neededFacts == [.hardwareAddress, .clientID, .clientClasses, .sharedNetwork])
    }

    @Test func eachStepOfThePrecedence() {
        var facts = everything
        #expect(uri(facts) == "coap://hw")
        facts.hardwareAddress = [2, 0, 0, 0, 0, 9]
        #expect(uri(facts) == "coap://cid")
        facts.clientID = nil
        #expect(uri(facts) == "coap://meters", "first matching class in store order")
        facts.classes = ["ALL", "cameras"]
        #expect(uri(facts) == "coap://cameras")
        facts.classes = ["ALL"]
        #expect(uri(facts) == "coap://id1")
        facts.subnetID = 7
        #expect(uri(facts) == "coap://prefix")
        facts.prefix = ([192, 0, 2, 128], 25)
        #expect(uri(facts) == "coap://plant")
        facts.sharedNetwork = "elsewhere"
        #expect(uri(facts) == "coap://default")
    }

    @Test func classOrderIsStoreOrderNotQueryOrder() {
        var facts = everything
        facts.hardwareAddress = nil; facts.clientID = nil
        facts.classes = ["cameras", "meters"]
        #expect(uri(facts) == "coap://meters")
        facts.classes = ["cameras"]
        #expect(uri(facts) == "coap://cameras")
        facts.classes = ["camera", "meter", "metersX"]
        #expect(uri(facts) == "coap://id1", "names match exactly")
    }

    @Test func hostIdentifiersOfTheOtherFamilyNeverMatch() {
        // DHCPv6: the v4 client-id bytes as a DUID match nothing; the DUID entry matches.
        let v6 = snapshot(.v6)
        var facts = SelectorFacts(family: .v6, queryType: 1, responseType: 2, subnetID: 11,
                                  prefix: ([0x20, 0x01, 0x0d, 0xb8, 0, 1] + [UInt8](repeating: 0, count: 10), 64),
                                  requested: [0, 200], clientID: [1, 2, 0, 0, 0, 0, 1])
        let (answer, _, _) = facts.run(v6)
        #expect(answer.entryIndex == 11, "the v6 subnet entry, not the v4 client-id")
        facts.clientID = [0, 3, 0, 1, 2, 0, 0, 0, 0, 1]
        #expect(facts.run(v6).0.entryIndex == 2)
        facts.clientID = nil
        facts.subnetID = 99; facts.prefix = nil; facts.sharedNetwork = "v6net"
        #expect(facts.run(v6).0.entryIndex == 12)
        // DHCPv4: a DUID entry's bytes as client-id match nothing.
        var v4 = SelectorFacts(subnetID: 9, prefix: nil, clientID: [0, 3, 0, 1, 2, 0, 0, 0, 0, 1])
        #expect(v4.run(snapshot()).0.entryIndex == StoreEntry.defaultIndex)
        v4.requested = [224]
        #expect(uri(v4) == "coap://default")
    }

    @Test func certificateComesFromTheURIEntry() {
        var facts = everything
        facts.hardwareAddress = nil; facts.clientID = nil; facts.classes = ["cameras"]
        #expect(certificate(facts) == certificates["cameras"]?.der)
        facts.classes = []; facts.subnetID = 5
        #expect(uri(facts) == "coap://prefix" && certificate(facts) == certificates["prefix"]?.der)
        facts.subnetID = 1
        // id1 has a URI and no certificate: no certificate, though less specific entries have one.
        #expect(uri(facts) == "coap://id1" && certificate(facts) == nil)
        let (answer, _, selection) = facts.run(snapshot())
        #expect(selection == Snapshot.Selection(uriEntry: 5, certificateEntry: nil))
        #expect(answer.flags == [.sentURI])
    }

    @Test func certificateOnlyEntryOverridesALessSpecificCertificate() {
        // subnet-id 2 is certificate-only; the URI comes from subnet 198.51.100.0/24.
        let facts = SelectorFacts(subnetID: 2, prefix: ([198, 51, 100, 0], 24))
        #expect(uri(facts) == "coap://b")
        #expect(certificate(facts) == certificates["id2"]?.der)
        #expect(facts.run(snapshot()).2 == Snapshot.Selection(uriEntry: 9, certificateEntry: 8))
        // A class certificate-only entry overrides the URI entry's own certificate.
        let signed = SelectorFacts(subnetID: 9, prefix: nil, classes: ["signed"], sharedNetwork: "plant")
        #expect(uri(signed) == "coap://plant" && certificate(signed) == certificates["signed"]?.der)
        #expect(signed.run(snapshot()).2 == Snapshot.Selection(uriEntry: 7, certificateEntry: 10))
    }

    @Test func certificateNeverComesFromALessSpecificEntryThanTheURI() {
        // The URI from the hw-address entry (no certificate); the default has one: not sent.
        let facts = SelectorFacts(subnetID: 9, prefix: nil, hardwareAddress: [2, 0, 0, 0, 0, 1])
        #expect(uri(facts) == "coap://hw" && certificate(facts) == nil)
        // A certificate-only entry less specific than the URI entry is ignored.
        let below = SelectorFacts(subnetID: 2, prefix: ([198, 51, 100, 0], 24), classes: ["meters"])
        #expect(uri(below) == "coap://meters" && certificate(below) == nil)
    }

    @Test func certificateOnlyEntriesAloneGiveNothing() throws {
        let folder = try TemporaryFolder()
        try folder.write("c.der", try TestCertificate().der)
        let store = try Store.load(path: try folder.write("s.json", #"{"entries": [{"subnet-id": 1, "server-certificate": "c.der"}]}"#))
        let (answer, bytes, selection) = SelectorFacts().run(snapshot(in: store))
        #expect(answer.flags == [.noEntry] && bytes.isEmpty && selection == nil)
    }

    @Test func defaultServesEveryoneElse() {
        let facts = SelectorFacts(subnetID: nil, prefix: nil)
        #expect(uri(facts) == "coap://default" && certificate(facts) == certificates["default"]?.der)
        #expect(facts.run(snapshot()).0.entryIndex == StoreEntry.defaultIndex)
    }

    @Test func alwaysSendSendsUnaskedButStillHonoursTheBudget() throws {
        let folder = try TemporaryFolder()
        let certificate = try TestCertificate()
        try folder.write("c.der", certificate.der)
        let store = try Store.load(path: try folder.write("s.json", """
            { "entries": [
              { "subnet-id": 1, "bootstrap-uri": "coap://pushed", "server-certificate": "c.der", "always-send": true },
              { "subnet-id": 2, "bootstrap-uri": "coap://asked" },
              { "subnet-id": 3, "server-certificate": "c.der", "always-send": true },
              { "subnet-id": 4, "bootstrap-uri": "coap://asked4", "server-certificate": "c.der" } ] }
            """))
        let snap = snapshot(in: store)
        let plain = SelectorFacts(requested: [1, 3, 6])
        #expect(plain.run(snap).0.flags == [.sentURI, .sentCertificate])
        #expect(SelectorFacts(requested: nil).run(snap).0.flags == [.sentURI, .sentCertificate])
        #expect(SelectorFacts(subnetID: 2, requested: [1, 3]).run(snap).0.flags == [])
        var small = plain; small.option57 = nil   // 576: the certificate does not fit
        #expect(small.run(snap).0.flags == [.sentURI, .certificateTooBig])
        // Only the certificate entry pushes: the URI needs asking.
        #expect(SelectorFacts(subnetID: 3, prefix: nil, requested: [1, 3]).run(snap).0.flags == [])
        // NAK and other message types still get nothing.
        #expect(SelectorFacts(queryType: 3, responseType: 6, requested: nil).run(snap).0.flags == [])
        #expect(SelectorFacts(subnetID: 4, requested: nil).run(snap).0.flags == [])
    }

    @Test func dhcpv6ReplyLimitDegradesCertificateFirst() {
        let cert = certificates["default"]!.der
        let v6 = SelectorFacts(family: .v6, queryType: 1, responseType: 2, subnetID: nil, prefix: nil,
                               requested: [0, 200, 0, 201], option57: nil)
        let uriWire = OptionEncoding.dhcpv6(code: 200, value: Array("coap://default".utf8))
        let certWire = OptionEncoding.dhcpv6(code: 201, value: OptionEncoding.certificateValue(der: cert))
        var fits = v6; fits.replySize = 1452 - uriWire.count - certWire.count
        #expect(fits.run(snapshot(.v6)).0.flags == [.sentURI, .sentCertificate])
        #expect(fits.run(snapshot(.v6)).0.sizeLimit == 1452)
        var over = fits; over.replySize += 1
        #expect(over.run(snapshot(.v6)).0.flags == [.sentURI, .certificateTooBig])
        var none = v6; none.replySize = 1452 - uriWire.count + 1
        #expect(none.run(snapshot(.v6)).0.flags == [.uriTooBig, .certificateTooBig])
        var constrained = fits
        constrained.replySize = 1232 - uriWire.count - certWire.count
        #expect(constrained.run(snapshot(.v6, v6Limit: 1232)).0.flags == [.sentURI, .sentCertificate])
        constrained.replySize += 1
        #expect(constrained.run(snapshot(.v6, v6Limit: 1232)).0.flags == [.sentURI, .certificateTooBig])
    }

    @Test func neededFactsFollowTheStore() throws {
        let folder = try TemporaryFolder()
        func needs(_ entries: String, remember: Bool = false, family: AddressFamily = .v4) throws -> Facts {
            let store = try Store.load(path: try folder.write("s.json", #"{"entries": [\#(entries)]}"#))
            return snapshot(family, remember: remember ? .init() : nil, in: store).neededFacts
        }
        #expect(try needs(#"{"subnet-id": 1, "bootstrap-uri": "coap://a"}"#) == [])
        #expect(try needs(#"{"client-class": "x", "bootstrap-uri": "coap://a"}"#) == [.clientClasses])
        #expect(try needs(#"{"shared-network": "x", "bootstrap-uri": "coap://a"}"#) == [.sharedNetwork])
        #expect(try needs(#"{"host": {"hw-address": "01:02"}, "bootstrap-uri": "coap://a"}"#) == [.hardwareAddress])
        #expect(try needs(#"{"host": {"hw-address": "01:02"}, "bootstrap-uri": "coap://a"}"#, family: .v6) == [])
        #expect(try needs(#"{"host": {"duid": "0102"}, "bootstrap-uri": "coap://a"}"#, family: .v6) == [.clientID])
        #expect(try needs(#"{"subnet-id": 1, "bootstrap-uri": "coap://a"}"#, remember: true) == [.hardwareAddress, .clientID])
    }
}

@Suite("Store: the new selectors and partial entries")
struct SelectorStoreTests {
    func problems(_ json: String) throws -> String {
        let folder = try TemporaryFolder()
        try folder.write("c.der", try TestCertificate().der)
        let path = try folder.write("store.json", json)
        do { _ = try Store.load(path: path); return "loaded" }
        catch { return error.description.replacingOccurrences(of: folder.path, with: "DIR") }
    }

    @Test("bad selectors", arguments: [
        (#"{"host": {"hw-address": "zz"}, "bootstrap-uri": "coap://a"}"#, "host 'hw-address' must be 1 to 20 octets in hex"),
        (#"{"host": {"client-id": "01"}, "bootstrap-uri": "coap://a"}"#, "host 'client-id' must be 2 to 255 octets in hex"),
        (#"{"host": {"duid": "01:02", "hw-address": "01"}, "bootstrap-uri": "coap://a"}"#, "'host' must hold exactly one of 'client-id', 'duid', 'hw-address', not 'duid', 'hw-address'"),
        (#"{"host": {"name": "x"}, "bootstrap-uri": "coap://a"}"#, "'host' must hold exactly one"),
        (#"{"host": "02:00:00:00:00:01", "bootstrap-uri": "coap://a"}"#, "'host' must be a map"),
        (#"{"client-class": "", "bootstrap-uri": "coap://a"}"#, "'client-class' must be a non-empty string"),
        (#"{"shared-network": 3, "bootstrap-uri": "coap://a"}"#, "'shared-network' must be a non-empty string"),
        (#"{"client-class": "a", "subnet-id": 1, "bootstrap-uri": "coap://a"}"#, "give one of 'client-class', 'subnet-id', not several"),
        (#"{"subnet-id": 1}"#, "needs 'bootstrap-uri' (or, for a certificate-only entry, 'server-certificate' or 'server-public-key')"),
        (#"{"subnet-id": 1, "bootstrap-uri": "coap://a", "always-send": "yes"}"#, "'always-send' must be true or false, not a string"),
    ])
    func badSelector(entry: String, expected: String) throws {
        let text = try problems(#"{"entries": [\#(entry)]}"#)
        #expect(text.contains(expected), "\(text)")
    }

    @Test func badDefaults() throws {
        #expect(try problems(#"{"entries": [], "default": {"server-certificate": "c.der"}}"#)
                == "DIR/store.json:default: needs 'bootstrap-uri'")
        #expect(try problems(#"{"entries": [], "default": {"subnet-id": 1, "bootstrap-uri": "coap://a"}}"#)
                == "DIR/store.json:default: the default applies to every client; remove 'subnet-id'")
        #expect(try problems(#"{"entries": [], "default": {"bootstrap-uri": "coap://a", "always-send": true}}"#) == "loaded")
    }

    @Test func duplicateSelectorsOfEveryKind() throws {
        let text = try problems("""
            {"entries": [
              {"host": {"hw-address": "02:00:00:00:00:01"}, "bootstrap-uri": "coap://a"},
              {"host": {"hw-address": "02-00-00-00-00-01"}, "bootstrap-uri": "coap://b"},
              {"client-class": "m", "bootstrap-uri": "coap://a"},
              {"client-class": "m", "server-certificate": "c.der"},
              {"shared-network": "n", "bootstrap-uri": "coap://a"},
              {"shared-network": "n", "bootstrap-uri": "coap://b"},
              {"host": {"client-id": "0102"}, "bootstrap-uri": "coap://a"},
              {"host": {"duid": "0102"}, "bootstrap-uri": "coap://a"} ]}
            """)
        #expect(text == [
            "DIR/store.json:2: host hw-address 02:00:00:00:00:01: is already given by entry 1; one entry per key",
            "DIR/store.json:4: client-class 'm': is already given by entry 3; one entry per key",
            "DIR/store.json:6: shared-network 'n': is already given by entry 5; one entry per key",
        ].joined(separator: "; "), "a client-id and a DUID of the same bytes are different keys")
    }

    @Test func hexForms() {
        #expect(HostIdentifier.hexBytes("01:02:0a") == [1, 2, 10])
        #expect(HostIdentifier.hexBytes("1:2:a") == [1, 2, 10])
        #expect(HostIdentifier.hexBytes("01-02-0A") == [1, 2, 10])
        #expect(HostIdentifier.hexBytes("01020a") == [1, 2, 10])
        #expect(HostIdentifier.hexBytes("0102a") == nil)
        #expect(HostIdentifier.hexBytes("01::02") == nil)
        #expect(HostIdentifier.hexBytes("+1") == nil)
        #expect(HostIdentifier.hexBytes("") == nil)
    }
}

@Suite("remember-requests (DHCPv4)")
struct RememberRequestsTests {
    @Test func discoverWithPRLThenRequestWithout() throws {
        let folder = try TemporaryFolder()
        let store = try Store.load(path: try folder.write("s.json", #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a"}]}"#))
        let parameters = HookParameters(storeFile: store.path, bootstrapURICode: 224, serverCertificateCode: 225,
                                        defaultMaxMessageSize: 576, rememberRequests: .init(lifetime: 60, maxClients: 8))
        let snapshot = Snapshot(store: store, parameters: parameters, family: .v4)
        let second: UInt64 = 1_000_000_000
        let mac: [UInt8] = [2, 0, 0, 0, 0, 7]
        let request = SelectorFacts(queryType: 3, responseType: 5, requested: [1, 3], hardwareAddress: mac)
        #expect(request.run(snapshot, now: 10 * second).0.flags == [], "nothing remembered yet")
        let discover = SelectorFacts(requested: [1, 3, 224], hardwareAddress: mac)
        #expect(discover.run(snapshot, now: 10 * second).0.flags == [.sentURI])
        #expect(request.run(snapshot, now: 20 * second).0.flags == [.remembered, .sentURI])
        var other = request; other.hardwareAddress = [2, 0, 0, 0, 0, 8]
        #expect(other.run(snapshot, now: 20 * second).0.flags == [], "another client")
        var withID = request; withID.clientID = [1, 2, 3]
        #expect(withID.run(snapshot, now: 20 * second).0.flags == [], "the client-id names the client when present")
        #expect(request.run(snapshot, now: 70 * second + 1).0.flags == [], "expired after the lifetime")
        // A DISCOVER without our codes does not count; INFORM is not helped.
        var inform = request; inform.queryType = 8
        _ = discover.run(snapshot, now: 100 * second)
        #expect(inform.run(snapshot, now: 101 * second).0.flags == [])
    }

    @Test func offWhenNotConfiguredAndNeverForDHCPv6() throws {
        let folder = try TemporaryFolder()
        let store = try Store.load(path: try folder.write("s.json", #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a"}]}"#))
        let off = Snapshot(store: store, parameters: HookParameters(storeFile: store.path, bootstrapURICode: 224,
                                                                    serverCertificateCode: 225, defaultMaxMessageSize: 576),
                           family: .v4)
        #expect(off.requestMemory == nil)
        let v6 = Snapshot(store: store, parameters: HookParameters(storeFile: store.path, bootstrapURICode: 200,
                                                                   serverCertificateCode: 201, defaultMaxMessageSize: 576,
                                                                   rememberRequests: .init()), family: .v6)
        #expect(v6.requestMemory == nil)
    }

    @Test func memoryIsBoundedAndEvictsTheOldest() {
        let memory = RequestMemory(policy: .init(lifetime: 60, maxClients: 4))
        #expect(memory.capacity == 4)
        let second: UInt64 = 1_000_000_000
        // One set of 4: the fifth client evicts the oldest.
        for client in UInt64(1)...5 { memory.remember(client * 4, asked: .uri, now: client * second) }
        #expect(memory.recall(4, now: 6 * second) == nil)
        #expect(memory.recall(8, now: 6 * second) == .uri)
        #expect(memory.recall(20, now: 6 * second) == .uri)
        // Refreshing a client keeps one record for it.
        memory.remember(8, asked: [.uri, .certificate], now: 7 * second)
        memory.remember(24, asked: .uri, now: 8 * second)
        #expect(memory.recall(8, now: 9 * second) == [.uri, .certificate])
        #expect(memory.recall(12, now: 9 * second) == nil, "the oldest went")
        // Expired records are replaced first.
        memory.remember(28, asked: .uri, now: 100 * second)
        #expect(memory.recall(28, now: 101 * second) == .uri)
        let big = RequestMemory(policy: .init(lifetime: 1, maxClients: 10_001))
        #expect(big.capacity == 10_004)
    }

    @Test func concurrentUseFromManyThreads() async {
        // 250000 sets of 4: no set ever holds more than 2 of these clients, so
        // nothing is evicted and every lookup must succeed.
        let memory = RequestMemory(policy: .init(lifetime: 60, maxClients: 1_000_000))
        await withTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var found = 0
                    for n in 0..<5000 {
                        let id = UInt64(worker * 100_000 + n)
                        memory.remember(id, asked: .uri)
                        if memory.recall(id) != nil { found += 1 }
                    }
                    return found
                }
            }
            var total = 0
            for await found in group { total += found }
            #expect(total == 8 * 5000, "each client is found right after it is remembered")
        }
        let all = (0..<8).allSatisfy { worker in (0..<5000).allSatisfy { memory.recall(UInt64(worker * 100_000 + $0)) == .uri } }
        #expect(all)
    }

    @Test func identityPrefersClientID() {
        let mac: [UInt8] = [2, 0, 0, 0, 0, 7]
        let id: [UInt8] = [1, 2, 0, 0, 0, 0, 7]
        let byMAC = mac.withUnsafeBufferPointer { RequestMemory.identity(clientID: nil, hardwareType: 1, hardwareAddress: $0) }
        let byID = id.withUnsafeBufferPointer { cid in mac.withUnsafeBufferPointer {
            RequestMemory.identity(clientID: cid, hardwareType: 1, hardwareAddress: $0) } }
        let onlyID = id.withUnsafeBufferPointer { RequestMemory.identity(clientID: $0, hardwareType: 1, hardwareAddress: nil) }
        #expect(byMAC != nil && byID != nil && byMAC != byID && byID == onlyID)
        #expect(RequestMemory.identity(clientID: nil, hardwareType: 1, hardwareAddress: nil) == nil)
    }
}

@Suite("BytesTable")
struct BytesTableTests {
    func lookup(_ table: BytesTable, _ text: String) -> Int? {
        Array(text.utf8).withUnsafeBufferPointer { table.slot(for: $0) }
    }

    @Test("small (linear) and large (hashed) tables find exactly their keys", arguments: [3, 8, 9, 500])
    func exactMatches(count: Int) {
        var table = BytesTable()
        for n in 0..<count { table.insert(Array("class-\(n)".utf8), slot: n * 2) }
        for n in 0..<count { #expect(lookup(table, "class-\(n)") == n * 2) }
        #expect(lookup(table, "class-") == nil && lookup(table, "class-\(count)") == nil && lookup(table, "") == nil)
        let names = Array("ALL\u{0}class-2\u{0}UNKNOWN\u{0}class-1".utf8)
        #expect(names.withUnsafeBufferPointer { table.firstSlot(amongNames: $0) } == 2, "smallest slot; last name without NUL counts")
        #expect(Array("\u{0}\u{0}".utf8).withUnsafeBufferPointer { table.firstSlot(amongNames: $0) } == nil)
    }
}

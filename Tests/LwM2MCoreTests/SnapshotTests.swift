import Foundation
import Testing
@testable import LwM2MCore

@Suite("Snapshot: selection, request gating and the DHCPv4 size budget")
struct SnapshotTests {
    let certificate: TestCertificate
    let store: Store
    let folder: TemporaryFolder

    init() throws {
        certificate = try TestCertificate()
        folder = try TemporaryFolder()
        try folder.write("c.der", certificate.der)
        let path = try folder.write("store.json", """
            { "entries": [
                { "subnet": "192.0.2.0/24", "bootstrap-uri": "coaps://a.example:5684", "server-certificate": "c.der" },
                { "subnet-id": 2, "bootstrap-uri": "coap://by-id.example" },
                { "subnet": "198.51.100.0/24", "bootstrap-uri": "coap://b.example" },
                { "subnet": "2001:db8:1::/64", "bootstrap-uri": "coap://[2001:db8::5]:5683", "server-certificate": "c.der" } ] }
            """)
        store = try Store.load(path: path)
    }

    func snapshot(_ family: AddressFamily = .v4, maxSize: Int = 576) -> Snapshot {
        let codes = HookParameters.defaultCodes(for: family)
        return Snapshot(store: store, parameters: HookParameters(storeFile: store.path, bootstrapURICode: codes.uri,
                                                                 serverCertificateCode: codes.certificate,
                                                                 defaultMaxMessageSize: maxSize), family: family)
    }

    var uriWire: [UInt8] { OptionEncoding.dhcpv4(code: 224, value: Array("coaps://a.example:5684".utf8)) }
    var certificateWire: [UInt8] { OptionEncoding.dhcpv4(code: 225, value: OptionEncoding.certificateValue(der: certificate.der)) }

    @Test func optionsTheReplyCarriesAlreadyAreNeitherAddedNorCounted() {
        let big = [UInt8](arrayLiteral: 0x05, 0xdc)   // option 57 = 1500: room for both
        var exchange = TestExchange(option57: big)
        exchange.replyCodes = [1, 3, 53, 54, 224]      // option-data gave 224 already
        let (uriTaken, bytes) = exchange.run(snapshot())
        #expect(uriTaken.uri == nil)
        #expect(uriTaken.flags == [.uriAlreadyPresent, .sentCertificate])
        #expect(bytes == certificateWire)               // the certificate alone, its URI is in the reply

        exchange.replyCodes = [53, 225]
        let (certificateTaken, only) = exchange.run(snapshot())
        #expect(certificateTaken.flags == [.sentURI, .certificateAlreadyPresent])
        #expect(only == uriWire)

        exchange.replyCodes = [224, 225]
        #expect(exchange.run(snapshot()).0.flags == [.uriAlreadyPresent, .certificateAlreadyPresent])

        exchange.replyCodes = [1, 3, 53]                // neither: both, as without the list
        #expect(exchange.run(snapshot()).0.flags == [.sentURI, .sentCertificate])
    }

    @Test func entriesOfTheOtherFamilyAreNotServed() {
        #expect(snapshot(.v4).entryCount == 3)
        #expect(snapshot(.v6).entryCount == 2)
        #expect(snapshot(.v4).certificateCount == 1)
        #expect(snapshot(.v6).certificateCount == 1, "two entries share one certificate file")
    }

    @Test func uriAndCertificateWhenBothRequestedAndTheyFit() {
        let (answer, bytes) = TestExchange(option57: [0x05, 0xdc]).run(snapshot())
        #expect(answer.flags == [.sentURI, .sentCertificate])
        #expect(answer.entryIndex == 0 && answer.sizeLimit == 1500)
        #expect(bytes == uriWire + certificateWire)
        #expect(answer.uri == 0..<uriWire.count)
    }

    @Test func onlyRequestedCodesAreSent() {
        #expect(TestExchange(requested: [1, 3, 6]).run(snapshot()).0.flags == [])
        #expect(TestExchange(requested: nil).run(snapshot()).0.flags == [])
        let (answer, bytes) = TestExchange(requested: [224]).run(snapshot())
        #expect(answer.flags == [.sentURI] && bytes == uriWire)
        let (certificateOnly, certificateBytes) = TestExchange(requested: [225], option57: [0x05, 0xdc]).run(snapshot())
        #expect(certificateOnly.flags == [.sentCertificate] && certificateBytes == certificateWire)
    }

    @Test func subnetIdWinsOverPrefixAndMissingEntriesAreReported() {
        let byID = TestExchange(subnetID: 2, requested: [224]).run(snapshot())
        #expect(byID.1 == OptionEncoding.dhcpv4(code: 224, value: Array("coap://by-id.example".utf8)))
        let byPrefix = TestExchange(subnetID: 9, prefix: ([198, 51, 100, 0], 24), requested: [224]).run(snapshot())
        #expect(byPrefix.1 == OptionEncoding.dhcpv4(code: 224, value: Array("coap://b.example".utf8)))
        let none = TestExchange(subnetID: 9, prefix: ([203, 0, 113, 0], 24)).run(snapshot())
        #expect(none.0.flags == [.noEntry] && none.1.isEmpty)
        let unselected = TestExchange(subnetID: nil, prefix: nil).run(snapshot())
        #expect(unselected.0.flags == [.noEntry])
    }


    @Test func keysNameTheBytesWithinOneSnapshot() {
        // The shim reuses the option it built for (serial, key): equal keys
        // must mean equal bytes, and another snapshot another serial.
        let v6 = snapshot(.v6)
        #expect(snapshot(.v4).serial != snapshot(.v4).serial)
        var first = TestExchange(family: .v6, queryType: 1, responseType: 2, subnetID: 7,
                                 prefix: ([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 64),
                                 requested: [0, 200, 0, 201])
        first.replySize = 100
        let (a, aBytes) = first.run(v6)
        let (b, bBytes) = first.run(v6)
        #expect(a.flags == [.sentURI, .sentCertificate])
        #expect(a.uriKey == b.uriKey && a.certificateKey == b.certificateKey && aBytes == bBytes)
        #expect(a.uriKey != a.certificateKey)

        let v4 = snapshot(.v4)
        let (byPrefix, _) = TestExchange(requested: [224]).run(v4)
        let (byID, _) = TestExchange(subnetID: 2, requested: [224]).run(v4)
        #expect(byPrefix.flags == [.sentURI] && byID.flags == [.sentURI])
        #expect(byPrefix.uriKey != byID.uriKey, "two entries' URIs differ, so must their keys")
    }
    @Test("only replies that configure a client", arguments: [
        (UInt8(1), UInt8(2), true), (3, 5, true), (8, 5, true), (3, 6, false), (7, 5, false), (4, 5, false),
    ])
    func messageTypesV4(query: UInt8, response: UInt8, carries: Bool) {
        let flags = TestExchange(queryType: query, responseType: response, requested: [224]).run(snapshot()).0.flags
        #expect(flags.contains(.sentURI) == carries)
    }

    @Test("DHCPv6: ADVERTISE and REPLY to SOLICIT, REQUEST, RENEW, REBIND, INFORMATION-REQUEST", arguments: [
        (UInt8(1), UInt8(2), true), (3, 7, true), (5, 7, true), (6, 7, true), (11, 7, true),
        (4, 7, false), (8, 7, false), (9, 7, false),
    ])
    func messageTypesV6(query: UInt8, response: UInt8, carries: Bool) {
        let exchange = TestExchange(family: .v6, queryType: query, responseType: response, subnetID: 5,
                                    prefix: ([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 64),
                                    requested: [0, 23, 0, 200, 0, 201])
        let (answer, bytes) = exchange.run(snapshot(.v6))
        #expect(answer.flags.contains(.sentURI) == carries)
        if carries {
            #expect(answer.sizeLimit == 1452, "dhcpv6-max-reply-size")
            #expect(bytes == OptionEncoding.dhcpv6(code: 200, value: Array("coap://[2001:db8::5]:5683".utf8))
                    + OptionEncoding.dhcpv6(code: 201, value: OptionEncoding.certificateValue(der: certificate.der)))
        }
    }

    @Test func certificateLeftOutWhenItDoesNotFitButURIStays() {
        let (answer, bytes) = TestExchange(option57: [0x02, 0x40]).run(snapshot())  // 576
        #expect(answer.flags == [.sentURI, .certificateTooBig])
        #expect(answer.sizeLimit == 576 && bytes == uriWire)
    }

    @Test func budgetBoundaryIsExact() {
        // The reply may reach the limit exactly, and not one octet past it.
        let limit = 1000
        let total = uriWire.count + certificateWire.count
        let option57: [UInt8] = [UInt8(limit >> 8), UInt8(limit & 0xff)]
        let fits = TestExchange(option57: option57, replySize: limit - 28 - total).run(snapshot())
        #expect(fits.0.flags == [.sentURI, .sentCertificate])
        let over = TestExchange(option57: option57, replySize: limit - 28 - total + 1).run(snapshot())
        #expect(over.0.flags == [.sentURI, .certificateTooBig])
        let nothing = TestExchange(option57: option57, replySize: limit - 28 - uriWire.count + 1).run(snapshot())
        #expect(nothing.0.flags == [.uriTooBig, .certificateTooBig] && nothing.1.isEmpty)
    }

    @Test func defaultLimitAppliesWithoutOption57() {
        #expect(TestExchange(option57: nil).run(snapshot(maxSize: 576)).0.flags == [.sentURI, .certificateTooBig])
        let large = TestExchange(option57: nil).run(snapshot(maxSize: 1500))
        #expect(large.0.flags == [.sentURI, .sentCertificate] && large.0.sizeLimit == 1500)
    }

    @Test func smallBufferAsksForMore() {
        let exchange = TestExchange(option57: [0x05, 0xdc])
        let (answer, bytes) = exchange.run(snapshot(), capacity: 10)
        #expect(answer.bytesNeeded == uriWire.count + certificateWire.count)
        #expect(answer.uri == nil && answer.certificate == nil && bytes.isEmpty)
        #expect(!answer.flags.contains(.sentURI))
    }
}

@Suite("Size budget (RFC 2131, RFC 2132 option 57)")
struct SizeBudgetTests {
    func budget(_ option57: [UInt8]?, defaultLimit: Int = 576) -> SizeBudget {
        guard let option57 else { return SizeBudget(option57: nil, defaultLimit: defaultLimit) }
        return option57.withUnsafeBufferPointer { SizeBudget(option57: $0, defaultLimit: defaultLimit) }
    }

    @Test func limits() {
        #expect(budget(nil).datagramLimit == 576 && budget(nil).messageLimit == 548)
        #expect(budget([0x04, 0x00]).datagramLimit == 1024)
        #expect(budget([0x01, 0x00]).datagramLimit == 576, "below the RFC minimum counts as 576")
        #expect(budget([0xff, 0xff]).datagramLimit == 1500, "capped at one Ethernet frame")
        #expect(budget([0x05]).datagramLimit == 576, "malformed option 57 is ignored")
        #expect(budget(nil, defaultLimit: 1200).datagramLimit == 1200)
        #expect(budget(nil).room(afterReplyOf: 600) == 0)
        #expect(budget(nil).room(afterReplyOf: 300) == 248)
    }
}

@Suite("Snapshot: rules at the edges")
struct SnapshotEdgeTests {
    func store(uri: String, certificateDER: [UInt8]?) throws -> (Store, TemporaryFolder) {
        let folder = try TemporaryFolder()
        var entry = #"{"subnet-id": 1, "bootstrap-uri": "\#(uri)""#
        if let certificateDER {
            try folder.write("c.der", certificateDER)
            entry += #", "server-certificate": "c.der""#
        }
        let path = try folder.write("store.json", #"{"entries": [\#(entry)}]}"#)
        return (try Store.load(path: path), folder)
    }

    @Test func certificateNeverGoesWithoutTheURIItBelongsTo() throws {
        // small-compressed.pem: 233 octets of DER, shorter than a 255-octet URI.
        let der = try ServerCertificate(fileContents: Array(try Data(contentsOf:
            CertificateTests.data.appendingPathComponent("small-compressed.pem")))).der
        let longURI = "coap://h.example/" + String(repeating: "p", count: 238)   // 255 octets
        let (store, _) = try store(uri: longURI, certificateDER: der)
        let snapshot = Snapshot(store: store, parameters: HookParameters(
            storeFile: store.path, bootstrapURICode: 224, serverCertificateCode: 225, defaultMaxMessageSize: 1500), family: .v4)
        // Room for the certificate option but not for the 257-octet URI option.
        let certificateWire = OptionEncoding.dhcpv4(code: 225, value: OptionEncoding.certificateValue(der: der))
        let room = certificateWire.count + 10
        #expect(room < 257)
        let (answer, bytes) = TestExchange(option57: [0x05, 0xdc], replySize: 1472 - room).run(snapshot)
        #expect(answer.flags == [.uriTooBig, .certificateTooBig] && bytes.isEmpty)
        // Asked for the certificate alone, it goes.
        let alone = TestExchange(requested: [225], option57: [0x05, 0xdc], replySize: 1472 - room).run(snapshot)
        #expect(alone.0.flags == [.sentCertificate] && alone.1 == certificateWire)
    }

    @Test func certificatesThatCanNeverFitDHCPv4AreReported() throws {
        // xlarge.pem (openssl, ~1400 octets of DER): too large for any DHCPv4 reply, fine for DHCPv6.
        let certificate = try TestCertificate()
        let (small, _) = try store(uri: "coap://a", certificateDER: certificate.der)
        let parameters = HookParameters(storeFile: small.path, bootstrapURICode: 224, serverCertificateCode: 225,
                                        defaultMaxMessageSize: 576)
        #expect(Snapshot(store: small, parameters: parameters, family: .v4).entriesWithOversizedCertificates == [])
        let oversized = try ServerCertificate(fileContents: Array(try Data(contentsOf: CertificateTests.data.appendingPathComponent("xlarge.pem"))))
        let entry = StoreEntry(index: 4, selector: .subnetID(9), bootstrapURI: try BootstrapURI("coap://b"),
                               certificate: oversized, certificatePath: "xlarge.pem")
        let mixed = Store(path: small.path, entries: small.entries + [entry])
        #expect(Snapshot(store: mixed, parameters: parameters, family: .v4).entriesWithOversizedCertificates == ["5"])
        let fallback = StoreEntry(index: StoreEntry.defaultIndex, selector: .storeDefault,
                                  bootstrapURI: try BootstrapURI("coap://c"), certificate: oversized,
                                  certificatePath: "xlarge.pem")
        let withDefault = Store(path: small.path, entries: mixed.entries, defaultEntry: fallback)
        #expect(Snapshot(store: withDefault, parameters: parameters, family: .v4).entriesWithOversizedCertificates
                == ["5", "default"])
        let v6 = HookParameters(storeFile: small.path, bootstrapURICode: 200, serverCertificateCode: 201, defaultMaxMessageSize: 576)
        #expect(Snapshot(store: mixed, parameters: v6, family: .v6).entriesWithOversizedCertificates == [])
    }
}

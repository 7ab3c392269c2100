import Crypto
import Testing
@testable import LwM2MCore

/// A change applied to the store a follower holds must give exactly the
/// store a whole read gives, or nil (the follower then reads it whole).
@Suite("store-database: applying only what changed")
struct FollowedStoreTests {
    let label = "postgresql database 'x'"
    let folder = "certificates"

    func sha(_ der: [UInt8]) -> String { StoreRows.hex(SHA256.hash(data: der)) }

    func row(_ position: Int32, _ body: String, _ certificate: String? = nil) -> StoreRows.Entry {
        StoreRows.Entry(position: position, body: body, certificate: certificate)
    }

    func subnetRow(_ position: Int32, id: Int, uri: String, _ certificate: String? = nil) -> StoreRows.Entry {
        row(position, #"{"subnet-id": \#(id), "bootstrap-uri": "\#(uri)"}"#, certificate)
    }

    /// The store read whole, as the follower holds it after a full read.
    func held(_ rows: StoreRows, revision: Int64 = 1) throws -> FollowedStore {
        let store = try rows.store(label: label, certificateFolder: folder, comment: "").store
        return FollowedStore(revision: revision, rows: rows, store: store)
    }

    /// What a whole read of `rows` gives.
    func whole(_ rows: StoreRows) throws -> Store {
        try rows.store(label: label, certificateFolder: folder, comment: "").store
    }

    func changes(_ entries: [StoreRows.Entry], deleted: [Int32] = [], certificates: [String: [UInt8]] = [:],
                 count: Int64, revision: Int64 = 2) -> StoreDatabase.Changes {
        StoreDatabase.Changes(revision: revision, entries: entries, deleted: deleted, certificates: certificates,
                              entryCount: count)
    }

    func base(_ certificate: TestCertificate) -> StoreRows {
        let digest = sha(certificate.der)
        return StoreRows(entries: [
            row(0, #"{"bootstrap-uri": "coaps://default.example"}"#),
            subnetRow(1, id: 1, uri: "coaps://one.example", digest),
            subnetRow(2, id: 2, uri: "coaps://two.example"),
            subnetRow(3, id: 3, uri: "coaps://three.example", digest),
        ], certificates: [digest: certificate.der])
    }

    @Test func changedAddedAndRemovedRowsGiveTheWholeReadsStore() throws {
        let certificate = try TestCertificate()
        let other = try TestCertificate(commonName: "other.example")
        let digest = sha(certificate.der), otherDigest = sha(other.der)
        let start = try held(base(certificate))
        #expect(start.isContiguous)

        // Entry 2 changed (a new certificate), entry 4 added.
        let changed = subnetRow(2, id: 2, uri: "coaps://two-b.example", otherDigest)
        let added = subnetRow(4, id: 4, uri: "coaps://four.example", digest)
        let next = try #require(start.applying(changes([changed, added], certificates: [otherDigest: other.der], count: 5),
                                               label: label, certificateFolder: folder))
        let expected = StoreRows(entries: [base(certificate).entries[0], base(certificate).entries[1], changed,
                                           base(certificate).entries[3], added],
                                 certificates: [digest: certificate.der, otherDigest: other.der])
        #expect(next.store == (try whole(expected)))
        #expect(next.rows == expected)
        #expect(next.revision == 2)
        // Entries naming a certificate held already share its bytes.
        let shared = try #require(next.store.entries[3].certificate)
        let first = try #require(next.store.entries[0].certificate)
        #expect(shared.der.withUnsafeBufferPointer { $0.baseAddress } == first.der.withUnsafeBufferPointer { $0.baseAddress })

        // The last two entries and the default removed (entry 2 keeps the other certificate).
        let shrunk = try #require(next.applying(changes([], deleted: [0, 3, 4], count: 2, revision: 3),
                                                label: label, certificateFolder: folder))
        let expectedShrunk = StoreRows(entries: [base(certificate).entries[1], changed],
                                       certificates: [digest: certificate.der, otherDigest: other.der])
        #expect(shrunk.store == (try whole(expectedShrunk)))
        #expect(shrunk.rows == expectedShrunk)

        // Entry 2 back to no certificate: the other one is no longer held.
        let plain = subnetRow(2, id: 2, uri: "coaps://two-c.example")
        let last = try #require(shrunk.applying(changes([plain], count: 2, revision: 4), label: label, certificateFolder: folder))
        #expect(last.certificates.keys.sorted() == [digest])
        #expect(last.store == (try whole(StoreRows(entries: [base(certificate).entries[1], plain],
                                                   certificates: [digest: certificate.der]))))
    }

    @Test func twoEntriesSwapTheirSelectors() throws {
        let start = try held(base(try TestCertificate()))
        let a = subnetRow(2, id: 3, uri: "coaps://a.example"), b = subnetRow(3, id: 2, uri: "coaps://b.example")
        let next = try #require(start.applying(changes([a, b], count: 4), label: label, certificateFolder: folder))
        #expect(next.store.entries[1].selector == .subnetID(3) && next.store.entries[2].selector == .subnetID(2))
        #expect(next.selectors[.subnetID(3)] == 1 && next.selectors[.subnetID(2)] == 2)
    }

    @Test func inDoubtGivesNil() throws {
        let certificate = try TestCertificate()
        let start = try held(base(certificate))
        let digest = sha(certificate.der)
        let cases: [(String, StoreDatabase.Changes)] = [
            ("an invalid row", changes([row(2, #"{"subnet-id": 2, "bootstrap-uri": "http://rogue.example"}"#)], count: 4)),
            ("a duplicate selector", changes([subnetRow(2, id: 1, uri: "coaps://dup.example")], count: 4)),
            ("a row removed from the middle", changes([], deleted: [2], count: 3)),
            ("a gap after the last row", changes([subnetRow(5, id: 5, uri: "coaps://five.example")], count: 5)),
            ("rows gone without tombstones", changes([subnetRow(2, id: 2, uri: "coaps://x.example")], count: 2)),
            ("a certificate rewritten in place", changes([], certificates: [digest: [0x30, 0x00]], count: 4)),
            ("a certificate not in the table", changes([subnetRow(2, id: 2, uri: "coaps://x.example", String(repeating: "0", count: 64))], count: 4)),
        ]
        for (what, change) in cases {
            #expect(start.applying(change, label: label, certificateFolder: folder) == nil, "\(what)")
        }
    }

    @Test func aWholeReadWithGapsIsNotFollowedRowByRow() throws {
        let rows = StoreRows(entries: [subnetRow(1, id: 1, uri: "coaps://one.example"),
                                       subnetRow(3, id: 3, uri: "coaps://three.example")], certificates: [:])
        #expect(!(try held(rows)).isContiguous)
    }
}

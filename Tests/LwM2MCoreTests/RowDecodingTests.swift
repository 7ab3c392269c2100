import Crypto
import Testing
@testable import LwM2MCore

/// The rows' fast reader must give the store the document reader gives, and
/// give up on whatever it does not accept exactly as that reader would.
@Suite("store-database: reading rows without a document")
struct RowDecodingTests {
    let folder = "certificates"

    func viaDocument(_ rows: StoreRows) -> Store? {
        let bytes = rows.document(certificateFolder: folder, comment: "c")
        let certificates = rows.certificates
        return try? Store.parse(bytes, path: "db", readFile: { file throws(FileError) in
            let name = String(file.split(separator: "/").last ?? "")
            guard let der = certificates[String(name.dropLast(4))] else { throw FileError(reason: "absent") }
            return der
        })
    }

    func viaRows(_ rows: StoreRows) -> Store? {
        guard let decoded = RowDecoding.decode(rows.entries, certificateFolder: folder) else { return nil }
        var loaded: CertificateCache = [:]
        let certificates = rows.certificates
        return Store.assemble(decoded, path: "db", certificates: &loaded, readFile: { file throws(FileError) in
            let name = String(file.split(separator: "/").last ?? "")
            guard let der = certificates[String(name.dropLast(4))] else { throw FileError(reason: "absent") }
            return der
        })
    }

    @Test func sameStoreAsTheDocument() throws {
        let certificate = try TestCertificate()
        let sha = StoreRows.hex(SHA256.hash(data: certificate.der))
        let rows = StoreRows(entries: [
            .init(position: 0, body: #"{"comment": "all", "bootstrap-uri": "coaps://default.example"}"#, certificate: nil),
            .init(position: 1, body: #"{"subnet-id": 7, "bootstrap-uri": "coap://seven.example"}"#, certificate: sha),
            .init(position: 2, body: #"{"always-send": true, "client-class": "cams", "bootstrap-uri": "coaps://cams.example"}"#, certificate: nil),
            .init(position: 3, body: #"{"subnet": "192.0.2.0/24"}"#, certificate: sha),
            .init(position: 4, body: #"{"host": {"hw-address": "02:4c:57:4d:00:01"}, "bootstrap-uri": "coap://[2001:db8::5]:5683"}"#, certificate: nil),
            .init(position: 5, body: #"{"shared-network": "meters", "bootstrap-uri": "coaps://m.example", "always-send": false}"#, certificate: nil),
            .init(position: 6, body: #"{"host": {"duid": "00:01:02:03"}, "bootstrap-uri": "coaps://d.example"}"#, certificate: nil),
            .init(position: 7, body: #"{"host": {"client-id": "01:02:03"}, "bootstrap-uri": "coaps://c.example"}"#, certificate: nil),
        ], certificates: [sha: certificate.der])
        let fast = try #require(viaRows(rows))
        #expect(fast == viaDocument(rows))
        #expect(try rows.store(label: "db", certificateFolder: folder, comment: "c").store == fast)
    }

    @Test func givesUpWhereTheDocumentDecides() {
        // Each either invalid (the document reader refuses it) or valid in a
        // way only the document reader reads: the fast reader gives up.
        let bodies = [
            #"{"subnet-id": 7, "bootstrap-uri": "http://rogue.example"}"#,
            #"{"subnet-id": 0, "bootstrap-uri": "coap://x.example"}"#,
            #"{"subnet-id": 7.0, "bootstrap-uri": "coap://x.example"}"#,
            #"{"subnet-id": 1e3, "bootstrap-uri": "coap://x.example"}"#,
            #"{"subnet-id": -7, "bootstrap-uri": "coap://x.example"}"#,
            #"{"subnet-id": 07, "bootstrap-uri": "coap://x.example"}"#,
            #"{"subnet-id": 7, "bootstrap-uri": "coap:\/\/x.example"}"#,
            #"{"subnet-id": 7}"#,
            #"{"subnet-id": 7, "subnet": "192.0.2.0/24", "bootstrap-uri": "coap://x.example"}"#,
            #"{"bootstrap-uri": "coap://x.example"}"#,
            #"{"subnet-id": 7, "bootstrap-uri": "coap://x.example", "colour": "red"}"#,
            #"{"subnet-id": 7, "bootstrap-uri": "coap://x.example", "server-certificate": "c.pem"}"#,
            #"{"subnet-id": 7, "bootstrap-uri": "coap://x.example", "always-send": 1}"#,
            #"{"subnet-id": 7, "bootstrap-uri": "coap://x.example", "comment": 5}"#,
            #"{"host": {"hw-address": "02:4c", "duid": "00:01"}, "bootstrap-uri": "coap://x.example"}"#,
            #"{"host": {"hw-address": "zz"}, "bootstrap-uri": "coap://x.example"}"#,
            #"{"subnet": "192.0.2.1/24", "bootstrap-uri": "coap://x.example"}"#,
            #"{"client-class": "", "bootstrap-uri": "coap://x.example"}"#,
            #"{"subnet-id": 7, "bootstrap-uri": "coap://x.example"} x"#,
            #"{"subnet-id": 7, "bootstrap-uri": "coap://x.example""#,
            #"[1]"#,
        ]
        for body in bodies {
            let rows = StoreRows(entries: [.init(position: 1, body: body, certificate: nil)], certificates: [:])
            #expect(RowDecoding.decode(rows.entries, certificateFolder: folder) == nil, "\(body)")
        }
        // Two entries with one selector, and a default with a selector.
        let duplicate = StoreRows(entries: [
            .init(position: 1, body: #"{"subnet-id": 7, "bootstrap-uri": "coap://a.example"}"#, certificate: nil),
            .init(position: 2, body: #"{"subnet-id": 7, "bootstrap-uri": "coap://b.example"}"#, certificate: nil),
        ], certificates: [:])
        #expect(RowDecoding.decode(duplicate.entries, certificateFolder: folder) == nil)
        #expect(viaDocument(duplicate) == nil)
        let selectiveDefault = StoreRows(entries: [
            .init(position: 0, body: #"{"subnet-id": 7, "bootstrap-uri": "coap://a.example"}"#, certificate: nil),
        ], certificates: [:])
        #expect(RowDecoding.decode(selectiveDefault.entries, certificateFolder: folder) == nil)
    }
}

import Testing
@testable import LwM2MCore

@Suite("Service: publishing snapshots and keeping the last good store")
struct ServiceTests {
    @Test func failedStoreKeepsTheLastGoodVersionOfTheSameFile() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("store.json", #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://good"}]}"#)
        let parameters = HookParameters(storeFile: path, bootstrapURICode: 224, serverCertificateCode: 225,
                                        defaultMaxMessageSize: 576)
        let service = Service()
        guard case .loaded(let first) = service.configure(parameters, family: .v4) else { Issue.record("not loaded"); return }
        #expect(first.entryCount == 1)

        try folder.write("store.json", #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "http://bad"}]}"#)
        service.stop()
        #expect(service.snapshot == nil)
        guard case .storeFailed(let error, let serving?) = service.configure(parameters, family: .v4) else {
            Issue.record("expected the previous store to be kept"); return
        }
        #expect(error.description.contains("scheme 'http'"))
        #expect(serving.store.entries.first?.bootstrapURI?.description == "coap://good")
        #expect(service.snapshot === serving)

        var other = parameters
        other.storeFile = folder.path + "/other.json"
        guard case .storeFailed(_, nil) = service.configure(other, family: .v4) else {
            Issue.record("a different store file must not fall back"); return
        }
        #expect(service.snapshot == nil)
    }

    @Test func newCodesReencodeTheKeptStore() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("store.json", #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://good"}]}"#)
        let service = Service()
        _ = service.configure(HookParameters(storeFile: path, bootstrapURICode: 224, serverCertificateCode: 225,
                                             defaultMaxMessageSize: 576), family: .v4)
        try folder.write("store.json", "{")
        guard case .storeFailed(_, let serving?) = service.configure(
            HookParameters(storeFile: path, bootstrapURICode: 240, serverCertificateCode: 241, defaultMaxMessageSize: 576),
            family: .v4) else { Issue.record("expected fallback"); return }
        let (_, bytes) = TestExchange(requested: [240]).run(serving)
        #expect(bytes.first == 240)
    }
}

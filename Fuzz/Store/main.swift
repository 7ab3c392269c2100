// libFuzzer target: the store reader, both ways (StoreDecoding, the fast
// way valid stores take, and Store.parseDetailed, which explains every
// problem), with the certificate files it names taken from the input.
//
// Input: the store's JSON, then any number of files, each introduced by a
// line `#file NAME` (the store is /fuzz/store.json, so "certs/a.pem" in the
// store is the file named certs/a.pem, "/etc/x.pem" the file named /etc/x.pem).
//
// Properties: whatever the fast way accepts, the detailed way accepts too,
// and both read the same store (Store.parse takes the fast way, else the
// detailed one); every certificate (or raw public key) file is read at most
// once per parse and key that names it; a raw public key has a key type and
// no names, a certificate names and no key type; a
// refused store names at least one problem, and the same ones in the same
// words when read again; an accepted store has unique
// selectors, a URI in its default, a URI or certificate in every entry, and
// encodes into a snapshot for either family with one record per entry of
// that family.
import FuzzSupport
@testable import LwM2MCore

private let storePath = "/fuzz/store.json"

private func fuzzStore(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let parts = NamedParts(FuzzInput(data, size).bytes)
    var files: [String: [UInt8]] = [:]
    for file in parts.files {
        files[FileContents.resolve(file.name, besides: storePath)] = file.body
    }
    let json = parts.first

    // Each reader with its own file reads and its own certificate cache.
    let fastReads = Reads()
    var fast: Store? = nil
    if let decoded = StoreDecoding.decode(json) {
        var cache: CertificateCache = [:]
        fast = Store.assemble(decoded, path: storePath, certificates: &cache,
                              readFile: reader(files, counting: fastReads))
    }
    checkReads(fastReads, "fast")

    let detailedReads = Reads()
    var detailedCache: CertificateCache = [:]
    let detailed = Result { () throws(StoreError) -> Store in
        try Store.parseDetailed(json, path: storePath, certificates: &detailedCache,
                                readFile: reader(files, counting: detailedReads))
    }
    checkReads(detailedReads, "detailed")

    if let fast {
        switch detailed {
        case .success(let store):
            Property.check(store == fast, "the fast and detailed readers read different stores:\n\(fast)\n\(store)")
        case .failure(let error):
            Property.fail("the fast reader accepts a store the detailed reader refuses: \(error)")
        }
    }
    switch detailed {
    case .success(let store):
        check(store)
    case .failure(let error):
        Property.check(!error.problems.isEmpty, "a refused store without a problem")
        for problem in error.problems { Property.check(!problem.description.isEmpty, "an empty problem") }
        // The same bytes read again: the same problems, in the same words.
        var cache: CertificateCache = [:]
        do {
            _ = try Store.parseDetailed(json, path: storePath, certificates: &cache, readFile: reader(files, counting: Reads()))
            Property.fail("a refused store is accepted when read again")
        } catch {
            Property.check(error == detailedError(detailed), "the same store refused in other words: \(error)")
        }
    }
    return 0
}

private func detailedError(_ result: Result<Store, StoreError>) -> StoreError? {
    if case .failure(let error) = result { return error }
    return nil
}

/// Reads per path.
private final class Reads {
    var counts: [String: Int] = [:]
}

/// Reads files from the input, counting reads per path.
private func reader(_ files: [String: [UInt8]], counting reads: Reads) -> (String) throws(FileError) -> [UInt8] {
    { (path: String) throws(FileError) -> [UInt8] in
        reads.counts[path, default: 0] += 1
        guard let body = files[path] else { throw FileError(reason: "cannot open: No such file or directory") }
        return body
    }
}

/// A file is read once as a certificate and once as a raw public key at most
/// (a store may name it both ways; each way parses it differently).
private func checkReads(_ reads: Reads, _ reader: String) {
    for (path, count) in reads.counts {
        Property.check(count <= 2, "\(reader): certificate file \(path) read \(count) times")
    }
}

/// A raw public key (encoding 15) has a key type and neither names nor
/// validity; a certificate (encoding 4) the other way round.
private func checkKeys(_ entry: StoreEntry) {
    guard let certificate = entry.certificate else { return }
    switch certificate.encoding {
    case .rawPublicKey:
        Property.check(certificate.keyType != nil && certificate.subject == nil && certificate.notValidAfter == nil,
                       "entry \(entry.index): a raw public key with certificate fields")
    case .x509Certificate:
        Property.check(certificate.keyType == nil && certificate.subject != nil && certificate.notValidAfter != nil,
                       "entry \(entry.index): a certificate without its fields")
    }
}

/// What every accepted store satisfies.
private func check(_ store: Store) {
    var selectors = Set<StoreEntry.Selector>()
    var last = -1
    for entry in store.entries {
        Property.check(selectors.insert(entry.selector).inserted, "two entries for \(entry.selector)")
        Property.check(entry.index > last, "entries out of order")
        last = entry.index
        Property.check(entry.bootstrapURI != nil || entry.certificate != nil, "entry \(entry.index) gives nothing")
        Property.check(entry.selector != .storeDefault, "a listed entry with the default's selector")
        Property.check((entry.certificate == nil) == (entry.certificatePath == nil), "certificate without its path")
        checkKeys(entry)
    }
    if let entry = store.defaultEntry {
        checkKeys(entry)
        Property.check(entry.selector == .storeDefault && entry.index == StoreEntry.defaultIndex, "default misplaced")
        Property.check(entry.bootstrapURI != nil, "a default without URI")
    }
    for family in [AddressFamily.v4, .v6] {
        let codes = HookParameters.defaultCodes(for: family)
        let parameters = HookParameters(storeFile: storePath, bootstrapURICode: codes.uri,
                                        serverCertificateCode: codes.certificate,
                                        defaultMaxMessageSize: HookParameters.maxMessageSizeRange.lowerBound)
        let snapshot = Snapshot(store: store, parameters: parameters, family: family)
        let expected = store.allEntries.filter { $0.applies(to: family) }.count
        Property.check(snapshot.entryCount == expected, "\(family) snapshot has \(snapshot.entryCount) of \(expected) entries")
        _ = snapshot.entriesWithOversizedCertificates
    }
}

// Last: every global above is initialized before the first input.
Fuzzer.main(fuzzStore)

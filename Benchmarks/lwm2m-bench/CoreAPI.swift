import LwM2MCore

/// Every call the benchmark makes into LwM2MCore, in one place: when the
/// core's API changes, this is the file to adapt. Only the stable public API
/// is used: `Store.load(path:)`, `HookParameters.parse`, `Snapshot(store:
/// parameters:family:)`, `Snapshot.answer(_:into:)`, `ExchangeFacts` and
/// `PrefixKey`.
enum CoreAPI {
    typealias Family = AddressFamily

    static func family(_ number: Int) -> Family? { AddressFamily(rawValue: UInt8(truncatingIfNeeded: number)) }

    /// Reads and validates a store file (what a load or reload does first).
    static func loadStore(_ path: String) throws -> Store {
        try Store.load(path: path)
    }

    /// The hook parameters for `storeFile` with default option codes.
    static func parameters(storeFile: String, family: Family) throws -> HookParameters {
        var escaped = ""
        for scalar in storeFile.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { escaped.append("\\") }
            escaped.unicodeScalars.append(scalar)
        }
        return try HookParameters.parse(json: Array("{\"store-file\": \"\(escaped)\"}".utf8),
                                        family: family, keaDefinedCodes: [])
    }

    /// Pre-encodes a loaded store for one family (the second half of a load),
    /// then gives the load's freed heap back, as `Service` does after
    /// publishing a snapshot.
    static func snapshot(_ store: Store, _ parameters: HookParameters, _ family: Family) -> Snapshot {
        let snapshot = Snapshot(store: store, parameters: parameters, family: family)
        HeapTrim.releaseFreedMemory()
        return snapshot
    }

    static func entryCount(_ store: Store) -> Int { store.entries.count }
    static func entryCount(_ snapshot: Snapshot) -> Int { snapshot.entryCount }

    /// One exchange as the hook's `lwm2m_core_answer` does it: facts built
    /// from raw packet values (the prefix from address bytes), then select +
    /// encode into the caller's buffer. Returns the flags and the bytes written.
    @inline(__always)
    static func answer(_ snapshot: Snapshot, _ query: RawQuery, into buffer: UnsafeMutableRawBufferPointer) -> (flags: UInt32, bytes: Int) {
        let prefix = PrefixKey(family: query.family, address: query.prefixAddress, length: query.prefixLength)
        let facts = ExchangeFacts(family: query.family, queryType: query.queryType, responseType: query.responseType,
                                  subnetID: query.subnetID, subnetPrefix: prefix,
                                  requestedOptions: query.requestedOptions,
                                  maxMessageSize: query.maxMessageSize, replySize: query.replySize)
        let answer = snapshot.answer(facts, into: buffer)
        return (answer.flags.rawValue, (answer.uri?.count ?? 0) + (answer.certificate?.count ?? 0))
    }
}

/// The raw values the shim reads from one query/response pair. Buffers
/// point into memory the benchmark keeps alive for the whole run.
struct RawQuery {
    var family: AddressFamily
    var queryType: UInt8
    var responseType: UInt8
    var subnetID: UInt32
    var prefixAddress: UnsafeBufferPointer<UInt8>
    var prefixLength: UInt8
    var requestedOptions: UnsafeBufferPointer<UInt8>
    var maxMessageSize: UnsafeBufferPointer<UInt8>?
    var replySize: Int
}

/// The operator's store: which clients get which bootstrap server, loaded
/// from a JSON file and fully validated.
///
/// ```json
/// { "default": { "bootstrap-uri": "coaps://bs.example.com:5684" },
///   "entries": [
///     { "host": { "hw-address": "02:4c:57:4d:00:01" }, "bootstrap-uri": "coap://lab.example" },
///     { "client-class": "cameras", "bootstrap-uri": "coaps://cams.example", "always-send": true },
///     { "subnet": "192.0.2.0/24", "bootstrap-uri": "coaps://bs.example.com:5684",
///       "server-certificate": "certs/bs.pem" },
///     { "subnet-id": 7, "server-certificate": "certs/site7.pem" },
///     { "subnet-id": 9, "bootstrap-uri": "coaps://rpk.example", "server-public-key": "keys/bs-p256.pem" },
///     { "shared-network": "meters", "bootstrap-uri": "coap://[2001:db8::5]:5683" } ] }
/// ```
///
/// Precedence, most specific first: host (hw-address, client-id, duid),
/// client-class, subnet-id, subnet, shared-network, default. The URI comes
/// from the most specific matching entry that has one; the certificate from
/// that entry or from a more specific certificate-only entry. A raw public
/// key (`server-public-key`) is a certificate in all of this: it fills the
/// same option, with another encoding octet; an entry gives one or the other.
public struct Store: Sendable, Equatable {
    /// The file the store was read from.
    public let path: String
    public let entries: [StoreEntry]
    /// The store-wide `default`, when the store has one.
    public let defaultEntry: StoreEntry?

    public init(path: String, entries: [StoreEntry], defaultEntry: StoreEntry? = nil) {
        self.path = path
        self.entries = entries
        self.defaultEntry = defaultEntry
    }

    /// Every entry, the default last.
    public var allEntries: [StoreEntry] { entries + (defaultEntry.map { [$0] } ?? []) }

    /// The keys of the file, as an operator writes them.
    public enum Key {
        public static let entries = "entries"
        public static let comment = "comment"
        public static let defaultEntry = "default"
        public static let host = "host"
        public static let clientClass = "client-class"
        public static let subnet = "subnet"
        public static let subnetID = "subnet-id"
        public static let sharedNetwork = "shared-network"
        public static let bootstrapURI = "bootstrap-uri"
        public static let serverCertificate = "server-certificate"
        public static let serverPublicKey = "server-public-key"
        public static let alwaysSend = "always-send"
        static let topLevel: Set = [entries, comment, defaultEntry]
        static let selectors = [host, clientClass, subnet, subnetID, sharedNetwork]
        static let values: Set = [comment, bootstrapURI, serverCertificate, serverPublicKey, alwaysSend]
        static let entry: Set = values.union(selectors)
    }

    /// Reads and validates the store at `path`, and every certificate it names
    /// (relative paths against the store's folder).
    /// - Throws: `StoreError` listing every problem found, each naming the
    ///   file, the entry and the reason.
    public static func load(path: String) throws(StoreError) -> Store {
        let bytes: [UInt8]
        do {
            bytes = try FileContents.read(path)
        } catch {
            throw StoreError(problems: [StoreProblem(file: path, entry: nil, key: nil, reason: error.reason)])
        }
        return try parse(bytes, path: path, readFile: { path throws(FileError) in try FileContents.read(path) })
    }

    /// Validates store contents already read. `readFile` reads certificate files.
    ///
    /// A valid store is read the fast way (`StoreDecoding`); a store the
    /// fast way gives up on is read again by `parseDetailed`, which finds
    /// and words every problem. Certificates are read once either way.
    static func parse(_ bytes: [UInt8], path: String,
                      readFile: (String) throws(FileError) -> [UInt8]) throws(StoreError) -> Store {
        var certificates: CertificateCache = [:]
        if let decoded = StoreDecoding.decode(bytes),
           let store = assemble(decoded, path: path, certificates: &certificates, readFile: readFile) {
            return store
        }
        return try parseDetailed(bytes, path: path, certificates: &certificates, readFile: readFile)
    }

    /// A decoded store with its certificates, or nil when one does not load.
    /// (Not private: the store fuzz target compares it with `parseDetailed`.)
    static func assemble(_ decoded: StoreDecoding.Decoded, path: String,
                                 certificates: inout CertificateCache,
                                 readFile: (String) throws(FileError) -> [UInt8]) -> Store? {
        var table: [ServerCertificate] = []
        table.reserveCapacity(decoded.certificateFiles.count)
        for written in decoded.certificateFiles {
            let resolved = CertificateFile(path: FileContents.resolve(written.path, besides: path), encoding: written.encoding)
            let result = certificates[resolved] ?? loadCertificate(resolved, readFile: readFile)
            certificates[resolved] = result
            guard case .success(let certificate) = result else { return nil }
            table.append(certificate)
        }
        func entry(_ raw: StoreDecoding.Entry) -> StoreEntry {
            let slot = Int(raw.certificate)
            let hasCertificate = slot >= 0 && slot < table.count
            return StoreEntry(index: raw.index, selector: raw.selector, bootstrapURI: raw.bootstrapURI,
                              certificate: hasCertificate ? table[slot] : nil,
                              certificatePath: hasCertificate ? decoded.certificateFiles[slot].path : nil,
                              alwaysSend: raw.alwaysSend)
        }
        var entries: [StoreEntry] = []
        entries.reserveCapacity(decoded.entries.count)
        for raw in decoded.entries { entries.append(entry(raw)) }
        return Store(path: path, entries: entries, defaultEntry: decoded.defaultEntry.map(entry))
    }

    private static func loadCertificate(_ file: CertificateFile, readFile: (String) throws(FileError) -> [UInt8])
        -> Result<ServerCertificate, CertificateError> {
        Result { () throws(CertificateError) -> ServerCertificate in
            let bytes: [UInt8]
            do { bytes = try readFile(file.path) } catch let error as FileError { throw CertificateError(reason: error.reason) }
            catch { throw CertificateError(reason: "\(error)") }
            return try ServerCertificate(fileContents: bytes, encoding: file.encoding)
        }
    }

    /// The detailed reader: walks the whole document as `JSONValue`s and
    /// reports every problem of every entry.
    static func parseDetailed(_ bytes: [UInt8], path: String,
                                      certificates: inout CertificateCache,
                                      readFile: (String) throws(FileError) -> [UInt8]) throws(StoreError) -> Store {
        var problems = StoreProblems(file: path)
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw StoreError(problems: [StoreProblem(file: path, entry: nil, key: nil, reason: "is \(error.reason)")])
        }
        guard case .object(let top) = document else {
            throw StoreError(problems: [StoreProblem(file: path, entry: nil, key: nil, reason: "must be a JSON map with an \"entries\" list, not \(document.kind)")])
        }
        for key in top.keys.sorted() where !Key.topLevel.contains(key) {
            problems.add(nil, "unknown key '\(key)' (known: \(Key.topLevel.sorted().joined(separator: ", ")))")
        }
        if let comment = top[Key.comment], !comment.isString {
            problems.add(nil, "'comment' must be a string, not \(comment.kind)")
        }
        guard case .array(let list)? = top[Key.entries] else {
            problems.add(nil, top[Key.entries] == nil ? "has no \"entries\" list" : "\"entries\" must be a list")
            throw StoreError(problems: problems.list)
        }

        var defaultEntry: StoreEntry? = nil
        if let value = top[Key.defaultEntry] {
            defaultEntry = parseEntry(value, index: StoreEntry.defaultIndex, storePath: path, problems: &problems,
                                      certificates: &certificates, readFile: readFile)
        }
        var entries: [StoreEntry] = []
        var seen: [StoreEntry.Selector: Int] = [:]
        for (index, value) in list.enumerated() {
            guard let entry = parseEntry(value, index: index, storePath: path, problems: &problems,
                                         certificates: &certificates, readFile: readFile) else { continue }
            if let first = seen[entry.selector] {
                problems.add(index, key: entry.selector.description, "is already given by entry \(first + 1); one entry per key")
                continue
            }
            seen[entry.selector] = index
            entries.append(entry)
        }
        guard problems.list.isEmpty else { throw StoreError(problems: problems.list) }
        return Store(path: path, entries: entries, defaultEntry: defaultEntry)
    }

    private static func parseEntry(_ value: JSONValue, index: Int, storePath: String,
                                   problems: inout StoreProblems,
                                   certificates: inout CertificateCache,
                                   readFile: (String) throws(FileError) -> [UInt8]) -> StoreEntry? {
        guard case .object(let map) = value else {
            problems.add(index, "must be a map, not \(value.kind)")
            return nil
        }
        let before = problems.list.count
        let isDefault = index == StoreEntry.defaultIndex
        var selector: StoreEntry.Selector? = isDefault ? .storeDefault : nil
        let given = Key.selectors.filter { map[$0] != nil }
        if isDefault {
            if !given.isEmpty {
                problems.add(index, "the default applies to every client; remove \(given.map { "'\($0)'" }.joined(separator: ", "))")
            }
        } else if given.count > 1 {
            problems.add(index, "give one of \(given.map { "'\($0)'" }.joined(separator: ", ")), not several")
        } else if let key = given.first, let value = map[key] {
            selector = parseSelector(key, value, index: index, problems: &problems)
        } else {
            problems.add(index, "needs one of 'host', 'client-class', 'subnet', 'subnet-id', 'shared-network'")
        }
        let label = selector?.description
        for key in map.keys.sorted() where !Key.entry.contains(key) {
            problems.add(index, key: label, "unknown key '\(key)' (known: \(Key.entry.sorted().joined(separator: ", ")))")
        }
        if let comment = map[Key.comment], !comment.isString {
            problems.add(index, key: label, "'comment' must be a string, not \(comment.kind)")
        }

        var uri: BootstrapURI? = nil
        switch map[Key.bootstrapURI] {
        case .string(let text)?:
            do { uri = try BootstrapURI(text) }
            catch { problems.add(index, key: label, "bootstrap-uri '\(text)' \(error.reason)") }
        case nil where (map[Key.serverCertificate] == nil && map[Key.serverPublicKey] == nil) || isDefault:
            problems.add(index, key: label, isDefault ? "needs 'bootstrap-uri'"
                         : "needs 'bootstrap-uri' (or, for a certificate-only entry, 'server-certificate' or 'server-public-key')")
        case nil:
            break   // certificate-only: overrides the certificate of a less specific entry
        case let other?:
            problems.add(index, key: label, "'bootstrap-uri' must be a string, not \(other.kind)")
        }

        var alwaysSend = false
        switch map[Key.alwaysSend] {
        case nil: break
        case .bool(let flag)?: alwaysSend = flag
        case let other?: problems.add(index, key: label, "'always-send' must be true or false, not \(other.kind)")
        }

        var certificate: ServerCertificate? = nil
        var certificatePath: String? = nil
        if map[Key.serverCertificate] != nil && map[Key.serverPublicKey] != nil {
            problems.add(index, key: label, "give 'server-certificate' (X.509) or 'server-public-key' (raw public key), not both: "
                         + "devices receive one of them in the certificate option")
        } else {
            for (key, encoding) in [(Key.serverCertificate, ServerCertificate.Encoding.x509Certificate),
                                    (Key.serverPublicKey, .rawPublicKey)] {
                switch map[key] {
                case nil:
                    break
                case .string(let relative)? where relative.isEmpty:
                    problems.add(index, key: label, "'\(key)' must not be empty; leave the key out for no "
                                 + (encoding == .rawPublicKey ? "key" : "certificate"))
                case .string(let relative)?:
                    certificatePath = relative
                    let resolved = CertificateFile(path: FileContents.resolve(relative, besides: storePath), encoding: encoding)
                    let result = certificates[resolved] ?? loadCertificate(resolved, readFile: readFile)
                    certificates[resolved] = result
                    switch result {
                    case .success(let loaded): certificate = loaded
                    case .failure(let error): problems.add(index, key: label, "\(key) '\(resolved.path)' \(error.reason)")
                    }
                case let other?:
                    problems.add(index, key: label, "'\(key)' must be a string (a file path), not \(other.kind)")
                }
            }
        }

        guard problems.list.count == before, let selector, uri != nil || certificate != nil else { return nil }
        return StoreEntry(index: index, selector: selector, bootstrapURI: uri,
                          certificate: certificate, certificatePath: certificatePath, alwaysSend: alwaysSend)
    }

    /// The selector of an entry from its one selector key.
    private static func parseSelector(_ key: String, _ value: JSONValue, index: Int,
                                      problems: inout StoreProblems) -> StoreEntry.Selector? {
        switch (key, value) {
        case (Key.subnet, .string(let text)):
            do { return .subnet(try SubnetPrefix(parsing: text)) }
            catch { problems.add(index, "subnet '\(text)': \(error.reason)") }
        case (Key.subnet, let other):
            problems.add(index, "'subnet' must be a string such as \"192.0.2.0/24\", not \(other.kind)")
        case (Key.subnetID, .integer(let id)) where id >= 1 && id <= Int64(UInt32.max):
            return .subnetID(UInt32(truncatingIfNeeded: id))
        case (Key.subnetID, _):
            problems.add(index, "'subnet-id' must be an integer from 1 to \(UInt32.max)")
        case (Key.clientClass, .string(let name)) where Self.isName(name):
            return .clientClass(name)
        case (Key.sharedNetwork, .string(let name)) where Self.isName(name):
            return .sharedNetwork(name)
        case (Key.clientClass, _), (Key.sharedNetwork, _):
            problems.add(index, "'\(key)' must be a non-empty string of at most 255 octets without NUL, as Kea names it")
        case (Key.host, .object(let host)):
            return parseHost(host, index: index, problems: &problems)
        default:
            problems.add(index, "'host' must be a map with one of 'hw-address', 'client-id' or 'duid', not \(value.kind)")
        }
        return nil
    }

    static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && !name.utf8.contains(0)
    }

    /// Lengths Kea accepts for each identifier: a hardware address of up to 20
    /// octets, a client-id of 2 to 255 (RFC 2132 §9.14), a DUID of up to 128 (RFC 8415 §11.1).
    static let hostIdentifierLengths: [String: ClosedRange<Int>] = [
        HostIdentifier.Key.hwAddress: 1...20, HostIdentifier.Key.clientID: 2...255, HostIdentifier.Key.duid: 1...128,
    ]

    private static func parseHost(_ host: [String: JSONValue], index: Int,
                                  problems: inout StoreProblems) -> StoreEntry.Selector? {
        let keys = host.keys.sorted()
        guard keys.count == 1, let key = keys.first, let lengths = hostIdentifierLengths[key] else {
            problems.add(index, "'host' must hold exactly one of 'client-id', 'duid', 'hw-address'"
                         + (keys.isEmpty ? "" : ", not \(keys.map { "'\($0)'" }.joined(separator: ", "))"))
            return nil
        }
        guard case .string(let text)? = host[key], let bytes = HostIdentifier.hexBytes(text),
              lengths.contains(bytes.count) else {
            problems.add(index, "host '\(key)' must be \(lengths.lowerBound) to \(lengths.upperBound) octets in hex, such as \"01:02:0a:0b\"")
            return nil
        }
        switch key {
        case HostIdentifier.Key.hwAddress: return .host(.hwAddress(bytes))
        case HostIdentifier.Key.clientID: return .host(.clientID(bytes))
        default: return .host(.duid(bytes))
        }
    }
}

/// One thing wrong with a store.
public struct StoreProblem: Sendable, Equatable, CustomStringConvertible {
    /// The store file.
    public var file: String
    /// Position in `entries`, from 0; nil for the file as a whole.
    public var entry: Int?
    /// The entry's key (`subnet 192.0.2.0/24`, `subnet-id 7`) when it has a valid one.
    public var key: String?
    public var reason: String

    /// Compiler style, so editors and `grep -n` habits work: `FILE:N: KEY:
    /// reason` for entry N (counted from 1 as an operator counts them; `KEY`
    /// is the entry's selector, such as `subnet 192.0.2.0/24`, when it has a
    /// valid one), `FILE:default: reason` for the store-wide default, and
    /// `FILE: reason` for the file as a whole.
    public var description: String {
        guard let entry else { return "\(file): \(reason)" }
        if entry == StoreEntry.defaultIndex { return "\(file):default: \(reason)" }
        return "\(file):\(entry + 1): \(key.map { "\($0): " } ?? "")\(reason)"
    }
}

/// A store that cannot be served, with every problem found.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [StoreProblem]
    public var description: String { problems.map(\.description).joined(separator: "; ") }
}

/// Collects problems while a store is read.
struct StoreProblems {
    let file: String
    private(set) var list: [StoreProblem] = []
    init(file: String) { self.file = file }
    mutating func add(_ entry: Int?, key: String? = nil, _ reason: String) {
        list.append(StoreProblem(file: file, entry: entry, key: key, reason: reason))
    }
}

/// A certificate or raw public key file, as the store names it and by the
/// key that names it: the same file read as both is two reads.
public struct CertificateFile: Hashable, Sendable {
    public var path: String
    public var encoding: ServerCertificate.Encoding

    public init(path: String, encoding: ServerCertificate.Encoding) {
        self.path = path
        self.encoding = encoding
    }
}

/// The files a load read, so each is parsed once per load.
typealias CertificateCache = [CertificateFile: Result<ServerCertificate, CertificateError>]

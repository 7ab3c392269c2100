/// The operator's store: which clients get which bootstrap server, loaded
/// from a JSON file and fully validated.
///
/// ```json
/// { "entries": [
///     { "subnet": "192.0.2.0/24", "bootstrap-uri": "coaps://bs.example.com:5684",
///       "server-certificate": "certs/bs.pem" },
///     { "subnet-id": 7, "bootstrap-uri": "coap://[2001:db8::5]:5683" } ] }
/// ```
public struct Store: Sendable, Equatable {
    /// The file the store was read from.
    public let path: String
    public let entries: [StoreEntry]

    /// The keys of the file, as an operator writes them.
    public enum Key {
        public static let entries = "entries"
        public static let comment = "comment"
        public static let subnet = "subnet"
        public static let subnetID = "subnet-id"
        public static let bootstrapURI = "bootstrap-uri"
        public static let serverCertificate = "server-certificate"
        static let topLevel: Set = [entries, comment]
        static let entry: Set = [comment, subnet, subnetID, bootstrapURI, serverCertificate]
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
    static func parse(_ bytes: [UInt8], path: String,
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

        var certificates: [String: Result<ServerCertificate, CertificateError>] = [:]
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
        return Store(path: path, entries: entries)
    }

    private static func parseEntry(_ value: JSONValue, index: Int, storePath: String,
                                   problems: inout StoreProblems,
                                   certificates: inout [String: Result<ServerCertificate, CertificateError>],
                                   readFile: (String) throws(FileError) -> [UInt8]) -> StoreEntry? {
        guard case .object(let map) = value else {
            problems.add(index, "must be a map, not \(value.kind)")
            return nil
        }
        let before = problems.list.count
        var selector: StoreEntry.Selector? = nil
        switch (map[Key.subnet], map[Key.subnetID]) {
        case (nil, nil):
            problems.add(index, "needs 'subnet' or 'subnet-id'")
        case (.some, .some):
            problems.add(index, "give either 'subnet' or 'subnet-id', not both")
        case (.string(let text)?, nil):
            do { selector = .subnet(try SubnetPrefix(parsing: text)) }
            catch { problems.add(index, "subnet '\(text)': \(error.reason)") }
        case (let other?, nil):
            problems.add(index, "'subnet' must be a string such as \"192.0.2.0/24\", not \(other.kind)")
        case (nil, .integer(let id)?) where id >= 1 && id <= Int64(UInt32.max):
            selector = .subnetID(UInt32(truncatingIfNeeded: id))
        case (nil, _?):
            problems.add(index, "'subnet-id' must be an integer from 1 to \(UInt32.max)")
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
        case nil:
            problems.add(index, key: label, "needs 'bootstrap-uri'")
        case let other?:
            problems.add(index, key: label, "'bootstrap-uri' must be a string, not \(other.kind)")
        }

        var certificate: ServerCertificate? = nil
        var certificatePath: String? = nil
        switch map[Key.serverCertificate] {
        case nil:
            break
        case .string(let relative)? where relative.isEmpty:
            problems.add(index, key: label, "'server-certificate' must not be empty; leave the key out for no certificate")
        case .string(let relative)?:
            certificatePath = relative
            let resolved = FileContents.resolve(relative, besides: storePath)
            let result = certificates[resolved] ?? Result { () throws(CertificateError) -> ServerCertificate in
                let bytes: [UInt8]
                do { bytes = try readFile(resolved) } catch let error as FileError { throw CertificateError(reason: error.reason) }
                catch { throw CertificateError(reason: "\(error)") }
                return try ServerCertificate(fileContents: bytes)
            }
            certificates[resolved] = result
            switch result {
            case .success(let loaded): certificate = loaded
            case .failure(let error): problems.add(index, key: label, "server-certificate '\(resolved)' \(error.reason)")
            }
        case let other?:
            problems.add(index, key: label, "'server-certificate' must be a string (a file path), not \(other.kind)")
        }

        guard problems.list.count == before, let selector, let uri else { return nil }
        return StoreEntry(index: index, selector: selector, bootstrapURI: uri,
                          certificate: certificate, certificatePath: certificatePath)
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

    /// `file: entry N (key): reason`, entries counted from 1 as an operator counts them.
    public var description: String {
        guard let entry else { return "\(file): \(reason)" }
        return "\(file): entry \(entry + 1)\(key.map { " (\($0))" } ?? ""): \(reason)"
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

import Crypto

/// A store as the database holds it: one row per entry (its JSON map
/// without `server-certificate` or `server-public-key`, and the SHA-256 of
/// the DER it refers to), and each distinct certificate or raw public key
/// once, as DER, with its encoding.
///
/// Position 0 is the store's `default`, positions 1... are the `entries`
/// in order (so "entry N" in a problem is the row at position N).
public struct StoreRows: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var position: Int32
        /// The entry's JSON map, `server-certificate` and `server-public-key` left out.
        public var body: String
        /// Lower-case hex SHA-256 of the certificate's (or raw public key's) DER.
        public var certificate: String?

        public init(position: Int32, body: String, certificate: String?) {
            self.position = position
            self.body = body
            self.certificate = certificate
        }
    }

    /// By position.
    public var entries: [Entry]
    /// DER by lower-case hex SHA-256: certificates and raw public keys alike.
    public var certificates: [String: [UInt8]]
    /// The SHA-256 of those that are raw public keys (encoding 15,
    /// `server-public-key`); the others are X.509 certificates (encoding 4).
    public var rawPublicKeys: Set<String>

    public init(entries: [Entry], certificates: [String: [UInt8]], rawPublicKeys: Set<String> = []) {
        self.entries = entries
        self.certificates = certificates
        self.rawPublicKeys = rawPublicKeys
    }

    /// The RFC 7296 encoding octet of the DER of `sha` (the database's
    /// `lwm2m_certificate.encoding`).
    public func encoding(of sha: String) -> ServerCertificate.Encoding {
        rawPublicKeys.contains(sha) ? .rawPublicKey : .x509Certificate
    }

    public static let defaultPosition: Int32 = 0

    /// The rows of the store file at `path`, which must pass exactly what
    /// `kea-lwm2m check` checks (`Store.load`): every problem is thrown.
    public static func load(path: String) throws(StoreError) -> StoreRows {
        let store = try Store.load(path: path)
        let bytes: [UInt8]
        let document: JSONValue
        do {
            bytes = try FileContents.read(path)
            document = try JSONValue.parse(bytes)
        } catch {
            throw StoreError(problems: [StoreProblem(file: path, entry: nil, key: nil, reason: "changed while it was read")])
        }
        guard case .object(let top) = document else {
            throw StoreError(problems: [StoreProblem(file: path, entry: nil, key: nil, reason: "changed while it was read")])
        }
        var byIndex: [Int: StoreEntry] = [:]
        for entry in store.allEntries { byIndex[entry.index] = entry }
        var rows: [Entry] = []
        var certificates: [String: [UInt8]] = [:]
        var rawPublicKeys: Set<String> = []
        func row(_ value: JSONValue, index: Int, position: Int32) {
            guard case .object(var map) = value else { return }
            map.removeValue(forKey: Store.Key.serverCertificate)
            map.removeValue(forKey: Store.Key.serverPublicKey)
            var sha: String? = nil
            if let certificate = byIndex[index]?.certificate {
                let digest = hex(SHA256.hash(data: certificate.der))
                certificates[digest] = certificate.der
                if certificate.encoding == .rawPublicKey { rawPublicKeys.insert(digest) }
                sha = digest
            }
            rows.append(Entry(position: position, body: JSONValue.object(map).serialized, certificate: sha))
        }
        if let value = top[Store.Key.defaultEntry] { row(value, index: StoreEntry.defaultIndex, position: defaultPosition) }
        if case .array(let list)? = top[Store.Key.entries] {
            for (index, value) in list.enumerated() { row(value, index: index, position: Int32(clamping: index + 1)) }
        }
        return StoreRows(entries: rows, certificates: certificates, rawPublicKeys: rawPublicKeys)
    }

    /// The store document the rows make: `server-certificate` (or
    /// `server-public-key`) names `folder/<sha256>.der` (relative to the
    /// document), and `comment` says where it came from.
    public func document(certificateFolder folder: String, comment: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(64) { $0 + $1.body.utf8.count + 100 })
        func append(_ text: String) { out.append(contentsOf: text.utf8) }
        append("{\"comment\":")
        append(JSONValue.string(comment).serialized)
        // Each certificate's key and quoted path once (quoting is per
        // character), found by comparing (a store names few certificates,
        // many times).
        var quotedPaths = FewKeys<[UInt8]>()
        func appendEntry(_ entry: Entry) {
            guard let sha = entry.certificate else { append(entry.body); return }
            // The key and the quoted path, once per certificate.
            out.append(contentsOf: quotedPaths.value(for: sha) {
                Array(((rawPublicKeys.contains(sha) ? "{\"server-public-key\":" : "{\"server-certificate\":")
                       + JSONValue.string("\(folder)/\(sha).der").serialized).utf8)
            })
            let body = entry.body.utf8
            // "{...}" minus its "{": what follows the added key.
            let rest = body.dropFirst().drop { $0 == UInt8(ascii: " ") }
            if rest.first != UInt8(ascii: "}") { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: rest)
        }
        if let entry = entries.first(where: { $0.position == Self.defaultPosition }) {
            append(",\n\"default\":")
            appendEntry(entry)
        }
        append(",\n\"entries\":[")
        var first = true
        for entry in entries where entry.position != Self.defaultPosition {
            append(first ? "\n" : ",\n")
            first = false
            appendEntry(entry)
        }
        append("]}\n")
        return out
    }

    /// Validates the rows exactly as a store file is validated (the same
    /// parser, the certificates read from the rows instead of files), and
    /// returns the store with the document it was read from. Problems name
    /// `label` as the file.
    public func store(label: String, certificateFolder folder: String, comment: String)
        throws(StoreError) -> (store: Store, document: [UInt8]) {
        let bytes = document(certificateFolder: folder, comment: comment)
        let certificates = self.certificates
        let readFile = { (file: String) throws(FileError) -> [UInt8] in
            let name = file.split(separator: "/").last.map(String.init) ?? file
            let sha = name.hasSuffix(".der") ? String(name.dropLast(4)) : name
            guard let der = certificates[sha] else {
                throw FileError(reason: "names certificate \(sha), which is not in the database's certificate table")
            }
            return der
        }
        // The rows' bodies read directly; the document only when that
        // gives up (it decides, and words every problem).
        if let decoded = RowDecoding.decode(entries, certificateFolder: folder, rawPublicKeys: rawPublicKeys) {
            var loaded: CertificateCache = [:]
            if let store = Store.assemble(decoded, path: label, certificates: &loaded, readFile: readFile) {
                return (store, bytes)
            }
        }
        let store = try Store.parse(bytes, path: label, readFile: readFile)
        return (store, bytes)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        StoreLoader.hex(digest)
    }
}

/// A value per string key for the few keys a store repeats many times
/// (certificate names): the first few found by comparing, which is cheaper
/// than hashing a long key, any more by hashing.
struct FewKeys<Value> {
    private var recent: [(key: String, value: Value)] = []
    private var more: [String: Value] = [:]

    mutating func value(for key: String, _ make: () -> Value) -> Value {
        for entry in recent where entry.key == key { return entry.value }
        if let found = more[key] { return found }
        let made = make()
        if recent.count < 8 { recent.append((key, made)) } else { more[key] = made }
        return made
    }
}

/// The fast way to read a store's rows: each row's body, as PostgreSQL
/// prints a `jsonb` map (`{"subnet-id": 7, "bootstrap-uri": "coap://x"}`),
/// scanned straight into the decoded entries `StoreDecoding` makes, without
/// a JSON document or a `JSONDecoder` in between.
///
/// Like `StoreDecoding`, it accepts only what the store's reader accepts
/// with no problem, with the same checks (the same URI, prefix, name and
/// identifier rules; one selector per entry, each selector once), and gives
/// up at anything else — an escape in a string, a number that is not a
/// plain integer, a value of another type, an unknown or repeated key — so
/// that the rows are read again as a store document by `Store.parse`, which
/// decides and words every problem. Giving up is never wrong, only slower.
enum RowDecoding {
    /// The rows decoded, certificates and raw public keys named
    /// `folder/<sha256>.der` (as the rows' document names them); nil when
    /// the document must be read.
    static func decode(_ rows: [StoreRows.Entry], certificateFolder folder: String,
                       rawPublicKeys: Set<String> = []) -> StoreDecoding.Decoded? {
        var decoded = StoreDecoding.Decoded()
        decoded.entries.reserveCapacity(rows.count)
        var slots: [String: Int32] = [:]
        var selectors: Set<StoreEntry.Selector> = []
        selectors.reserveCapacity(rows.count)
        var index = 0
        var sawDefault = false
        for row in rows {
            let isDefault = row.position == StoreRows.defaultPosition
            if isDefault {
                // One default, first (the rows' document puts it before the entries).
                guard !sawDefault, index == 0 else { return nil }
                sawDefault = true
            }
            var certificate: Int32 = -1
            if let sha = row.certificate {
                if let slot = slots[sha] {
                    certificate = slot
                } else {
                    certificate = Int32(truncatingIfNeeded: decoded.certificateFiles.count)
                    decoded.certificateFiles.append(CertificateFile(
                        path: "\(folder)/\(sha).der",
                        encoding: rawPublicKeys.contains(sha) ? .rawPublicKey : .x509Certificate))
                    slots[sha] = certificate
                }
            }
            var body = row.body
            let entry: StoreDecoding.Entry? = body.withUTF8 { bytes in
                var scanner = Scanner(bytes)
                return scanner.entry(index: isDefault ? StoreEntry.defaultIndex : index, certificate: certificate)
            }
            guard let entry else { return nil }
            if isDefault {
                decoded.defaultEntry = entry
            } else {
                guard selectors.insert(entry.selector).inserted else { return nil }
                decoded.entries.append(entry)
                index += 1
            }
        }
        return decoded
    }

    /// Reads one body; every method returns nil (gives up) at anything
    /// it does not accept.
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

        mutating func skipSpaces() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x09 || bytes[at] == 0x0D {
                at += 1
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpaces()
            guard at < bytes.count, bytes[at] == byte else { return false }
            at += 1
            return true
        }

        /// A string without escapes or control characters, valid UTF-8.
        mutating func string() -> String? {
            guard take(Self.quote) else { return nil }
            let start = at
            while at < bytes.count {
                let byte = bytes[at]
                if byte == Self.quote {
                    let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
                    at += 1
                    return text
                }
                guard byte != Self.backslash, byte >= 0x20 else { return nil }
                at += 1
            }
            return nil
        }

        /// A plain non-negative integer (digits only, at most 18 of them).
        mutating func integer() -> Int64? {
            skipSpaces()
            var value: Int64 = 0
            var digits = 0
            while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") {
                value = value * 10 + Int64(bytes[at] - UInt8(ascii: "0"))
                digits += 1
                at += 1
                guard digits <= 18 else { return nil }
            }
            guard digits > 0 else { return nil }
            // JSON has no leading zeros; a fraction or an exponent is not a plain integer.
            if digits > 1 && bytes[at - digits] == UInt8(ascii: "0") { return nil }
            if at < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[at]) {
                return nil
            }
            return value
        }

        mutating func boolean() -> Bool? {
            skipSpaces()
            for (word, value) in [("true", true), ("false", false)] {
                let utf8 = Array(word.utf8)
                if at + utf8.count <= bytes.count, Array(bytes[at..<at + utf8.count]) == utf8 {
                    at += utf8.count
                    return value
                }
            }
            return nil
        }

        /// The keys of a map, calling `value` after each key's colon; nil
        /// when `value` gives up, a key repeats, or the map does not close
        /// the input.
        mutating func map(nested: Bool, _ value: (inout Scanner, String) -> Bool) -> Bool {
            guard take(UInt8(ascii: "{")) else { return false }
            var keys: [String] = []
            if !take(UInt8(ascii: "}")) {
                repeat {
                    guard let key = string(), !keys.contains(key), take(UInt8(ascii: ":")) else { return false }
                    keys.append(key)
                    guard value(&self, key) else { return false }
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "}")) else { return false }
            }
            if !nested {
                skipSpaces()
                guard at == bytes.count else { return false }
            }
            return true
        }

        /// One entry, exactly as strict as `StoreDecoding`'s (the entry's
        /// `server-certificate` or `server-public-key` comes from the row,
        /// never from the body).
        mutating func entry(index: Int, certificate: Int32) -> StoreDecoding.Entry? {
            var selector: StoreEntry.Selector? = nil
            var uri: BootstrapURI? = nil
            var alwaysSend = false
            var selectorCount = 0
            let complete = map(nested: false) { scanner, key in
                switch key {
                case Store.Key.comment:
                    return scanner.string() != nil
                case Store.Key.bootstrapURI:
                    guard let text = scanner.string(), let parsed = try? BootstrapURI(text) else { return false }
                    uri = parsed
                    return true
                case Store.Key.alwaysSend:
                    guard let flag = scanner.boolean() else { return false }
                    alwaysSend = flag
                    return true
                case Store.Key.host, Store.Key.clientClass, Store.Key.subnet, Store.Key.subnetID,
                     Store.Key.sharedNetwork:
                    selectorCount += 1
                    selector = scanner.selector(key)
                    return selector != nil
                default:
                    return false   // unknown, or server-certificate / server-public-key in the body
                }
            }
            guard complete else { return nil }
            let isDefault = index == StoreEntry.defaultIndex
            if isDefault {
                guard selectorCount == 0 else { return nil }
                selector = .storeDefault
            } else {
                guard selectorCount == 1 else { return nil }
            }
            guard let selector else { return nil }
            // The default needs a URI; an entry without one needs a certificate.
            if uri == nil && (isDefault || certificate < 0) { return nil }
            return StoreDecoding.Entry(index: index, selector: selector, bootstrapURI: uri, certificate: certificate,
                                       alwaysSend: alwaysSend)
        }

        mutating func selector(_ key: String) -> StoreEntry.Selector? {
            switch key {
            case Store.Key.subnet:
                guard let text = string(), let prefix = try? SubnetPrefix(parsing: text) else { return nil }
                return .subnet(prefix)
            case Store.Key.subnetID:
                guard let id = integer(), id >= 1, id <= Int64(UInt32.max) else { return nil }
                return .subnetID(UInt32(truncatingIfNeeded: id))
            case Store.Key.clientClass, Store.Key.sharedNetwork:
                guard let name = string(), Store.isName(name) else { return nil }
                return key == Store.Key.clientClass ? .clientClass(name) : .sharedNetwork(name)
            case Store.Key.host:
                var found: (key: String, bytes: [UInt8])? = nil
                let complete = map(nested: true) { scanner, identifier in
                    guard found == nil, let lengths = Store.hostIdentifierLengths[identifier],
                          let text = scanner.string(), let bytes = HostIdentifier.hexBytes(text),
                          lengths.contains(bytes.count) else { return false }
                    found = (identifier, bytes)
                    return true
                }
                guard complete, let found else { return nil }
                switch found.key {
                case HostIdentifier.Key.hwAddress: return .host(.hwAddress(found.bytes))
                case HostIdentifier.Key.clientID: return .host(.clientID(found.bytes))
                default: return .host(.duid(found.bytes))
                }
            default:
                return nil
            }
        }
    }
}

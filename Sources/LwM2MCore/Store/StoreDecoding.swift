#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The fast way to read a store: JSONDecoder straight into compact entries,
/// with no error thrown and no string built on the way for a valid store.
///
/// It accepts only stores the detailed reader (`Store.parse`'s walk over
/// `JSONValue`) accepts with no problem, and reads them to the same entries.
/// At the first thing it does not like — a value of the wrong type, an
/// unknown key, a URI or subnet that does not check, a duplicate key, a
/// certificate that does not load — it gives up, and the detailed reader
/// reads the file again and explains every problem. So the messages are
/// the detailed reader's, always; only valid stores (the ones loaded again
/// and again) take this way.
enum StoreDecoding {
    /// Entries decoded, certificates not yet loaded: each names its
    /// `server-certificate` or `server-public-key` by its position in
    /// `certificateFiles`.
    struct Decoded {
        var entries: [Entry] = []
        var defaultEntry: Entry? = nil
        /// Each distinct `server-certificate` and `server-public-key` as
        /// written, once (with the key that names it).
        var certificateFiles: [CertificateFile] = []
    }

    struct Entry {
        var index: Int
        var selector: StoreEntry.Selector
        var bootstrapURI: BootstrapURI?
        /// Position in `certificateFiles`; -1 for none.
        var certificate: Int32
        var alwaysSend: Bool
    }

    /// Decodes `bytes`, or nil when the detailed reader must read them.
    static func decode(_ bytes: [UInt8]) -> Decoded? {
        guard let key = contextKey else { return nil }
        let context = Context()
        let decoder = JSONDecoder()
        decoder.userInfo[key] = context
        do {
            // The file's bytes as they are, without a second copy.
            try bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { throw GiveUp() }
                let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: buffer.count, deallocator: .none)
                _ = try decoder.decode(Document.self, from: data)
            }
        } catch {
            return nil
        }
        return context.decoded
    }

    private static let contextKey = CodingUserInfoKey(rawValue: "kea-lwm2m.store-decoding")

    /// Where the decode puts what it reads (JSONDecoder builds the values;
    /// the entries go here as they are read, so no tree of the whole file
    /// is ever held). Used by one decode on one thread.
    private final class Context: @unchecked Sendable {
        var decoded = Decoded()
        var certificateSlots: [CertificateFile: Int32] = [:]
        var selectors: Set<StoreEntry.Selector> = []

        func certificateSlot(_ file: CertificateFile) -> Int32 {
            if let slot = certificateSlots[file] { return slot }
            let slot = Int32(truncatingIfNeeded: decoded.certificateFiles.count)
            decoded.certificateFiles.append(file)
            certificateSlots[file] = slot
            return slot
        }
    }

    /// Anything the fast way leaves to the detailed reader.
    private struct GiveUp: Error {}

    /// Every key a store may use, at any level; `name` nil for any other.
    private struct Key: CodingKey {
        enum Name {
            case entries, comment, storeDefault, host, clientClass, subnet, subnetID, sharedNetwork
            case bootstrapURI, serverCertificate, serverPublicKey, alwaysSend, hwAddress, clientID, duid
        }
        let stringValue: String
        let name: Name?
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
        init(stringValue: String) {
            self.stringValue = stringValue
            self.name = Self.names[stringValue]
        }
        /// One hash lookup per key (a `switch` compares the strings one by one).
        private static let names: [String: Name] = [
            Store.Key.entries: .entries, Store.Key.comment: .comment, Store.Key.defaultEntry: .storeDefault,
            Store.Key.host: .host, Store.Key.clientClass: .clientClass, Store.Key.subnet: .subnet,
            Store.Key.subnetID: .subnetID, Store.Key.sharedNetwork: .sharedNetwork,
            Store.Key.bootstrapURI: .bootstrapURI, Store.Key.serverCertificate: .serverCertificate,
            Store.Key.serverPublicKey: .serverPublicKey,
            Store.Key.alwaysSend: .alwaysSend, HostIdentifier.Key.hwAddress: .hwAddress,
            HostIdentifier.Key.clientID: .clientID, HostIdentifier.Key.duid: .duid,
        ]
        static let entries = Key(stringValue: Store.Key.entries)
        static let comment = Key(stringValue: Store.Key.comment)
        static let storeDefault = Key(stringValue: Store.Key.defaultEntry)
        static let bootstrapURI = Key(stringValue: Store.Key.bootstrapURI)
        static let serverCertificate = Key(stringValue: Store.Key.serverCertificate)
        static let serverPublicKey = Key(stringValue: Store.Key.serverPublicKey)
        static let alwaysSend = Key(stringValue: Store.Key.alwaysSend)
    }

    private struct Document: Decodable {
        init(from decoder: any Decoder) throws {
            guard let key = contextKey, let context = decoder.userInfo[key] as? Context else { throw GiveUp() }
            let top = try decoder.container(keyedBy: Key.self)
            for key in top.allKeys {
                switch key.name {
                case .entries?, .comment?, .storeDefault?: continue
                default: throw GiveUp()
                }
            }
            if top.contains(.comment) { _ = try top.decode(String.self, forKey: .comment) }
            if top.contains(.storeDefault) {
                let map = try top.nestedContainer(keyedBy: Key.self, forKey: .storeDefault)
                context.decoded.defaultEntry = try Self.entry(map, index: StoreEntry.defaultIndex, context: context)
            }
            var list = try top.nestedUnkeyedContainer(forKey: .entries)
            if let count = list.count {
                context.decoded.entries.reserveCapacity(count)
                context.selectors.reserveCapacity(count)
            }
            var index = 0
            while !list.isAtEnd {
                let map = try list.nestedContainer(keyedBy: Key.self)
                let entry = try Self.entry(map, index: index, context: context)
                guard context.selectors.insert(entry.selector).inserted else { throw GiveUp() }
                context.decoded.entries.append(entry)
                index += 1
            }
        }

        /// One entry, exactly as strict as `Store.parseEntry`.
        private static func entry(_ map: KeyedDecodingContainer<Key>, index: Int, context: Context) throws -> Entry {
            // One pass over the keys: unknown ones, several selectors, and
            // which values are present (no `contains` lookups afterwards).
            var selectorKey: Key? = nil
            var comment = false, uriKey = false, certificateKey = false, publicKeyKey = false, alwaysSendKey = false
            for key in map.allKeys {
                switch key.name {
                case .comment?: comment = true
                case .bootstrapURI?: uriKey = true
                case .serverCertificate?: certificateKey = true
                case .serverPublicKey?: publicKeyKey = true
                case .alwaysSend?: alwaysSendKey = true
                case .host?, .clientClass?, .subnet?, .subnetID?, .sharedNetwork?:
                    guard selectorKey == nil else { throw GiveUp() }
                    selectorKey = key
                default: throw GiveUp()
                }
            }
            // Both: the detailed reader says which entry gives both.
            if certificateKey && publicKeyKey { throw GiveUp() }
            let selector: StoreEntry.Selector
            switch (index == StoreEntry.defaultIndex, selectorKey) {
            case (true, nil): selector = .storeDefault
            case (false, let key?): selector = try Self.selector(map, key)
            default: throw GiveUp()
            }
            if comment { _ = try map.decode(String.self, forKey: .comment) }
            var uri: BootstrapURI? = nil
            if uriKey {
                let text = try map.decode(String.self, forKey: .bootstrapURI)
                do { uri = try BootstrapURI(text) } catch { throw GiveUp() }
            } else if index == StoreEntry.defaultIndex || !(certificateKey || publicKeyKey) {
                throw GiveUp()
            }
            let alwaysSend = alwaysSendKey ? try map.decode(Bool.self, forKey: .alwaysSend) : false
            var certificate: Int32 = -1
            if certificateKey || publicKeyKey {
                let key: Key = certificateKey ? .serverCertificate : .serverPublicKey
                let path = try map.decode(String.self, forKey: key)
                guard !path.isEmpty else { throw GiveUp() }
                certificate = context.certificateSlot(
                    CertificateFile(path: path, encoding: certificateKey ? .x509Certificate : .rawPublicKey))
            }
            return Entry(index: index, selector: selector, bootstrapURI: uri, certificate: certificate, alwaysSend: alwaysSend)
        }

        /// The selector, exactly as strict as `Store.parseSelector`.
        private static func selector(_ map: KeyedDecodingContainer<Key>, _ key: Key) throws -> StoreEntry.Selector {
            switch key.name {
            case .subnet?:
                do { return .subnet(try SubnetPrefix(parsing: try map.decode(String.self, forKey: key))) }
                catch { throw GiveUp() }
            case .subnetID?:
                let id = try map.decode(Int64.self, forKey: key)
                guard id >= 1 && id <= Int64(UInt32.max) else { throw GiveUp() }
                return .subnetID(UInt32(truncatingIfNeeded: id))
            case .clientClass?, .sharedNetwork?:
                let name = try map.decode(String.self, forKey: key)
                guard Store.isName(name) else { throw GiveUp() }
                return key.name == .clientClass ? .clientClass(name) : .sharedNetwork(name)
            case .host?:
                let host = try map.nestedContainer(keyedBy: Key.self, forKey: key)
                let keys = host.allKeys
                guard keys.count == 1, let identifier = keys.first,
                      let lengths = Store.hostIdentifierLengths[identifier.stringValue],
                      let bytes = HostIdentifier.hexBytes(try host.decode(String.self, forKey: identifier)),
                      lengths.contains(bytes.count) else { throw GiveUp() }
                switch identifier.name {
                case .hwAddress?: return .host(.hwAddress(bytes))
                case .clientID?: return .host(.clientID(bytes))
                default: return .host(.duid(bytes))
                }
            default:
                throw GiveUp()
            }
        }
    }
}

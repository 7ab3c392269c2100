/// One line of the operator's intent: these clients get this bootstrap server.
public struct StoreEntry: Sendable, Equatable {
    /// Which clients the entry is for.
    public enum Selector: Hashable, Sendable, CustomStringConvertible {
        /// One client, by an identifier it sends.
        case host(HostIdentifier)
        /// Queries Kea put in this client class.
        case clientClass(String)
        /// The subnet Kea selected has this id (in either family's server).
        case subnetID(UInt32)
        /// The subnet Kea selected has this prefix (and so this family).
        case subnet(SubnetPrefix)
        /// The subnet Kea selected belongs to the shared network of this name.
        case sharedNetwork(String)
        /// The store-wide `default`: every client no other entry gives a URI.
        case storeDefault

        public var description: String {
            switch self {
            case .host(let id): "host \(id)"
            case .clientClass(let name): "client-class '\(name)'"
            case .subnetID(let id): "subnet-id \(id)"
            case .subnet(let prefix): "subnet \(prefix)"
            case .sharedNetwork(let name): "shared-network '\(name)'"
            case .storeDefault: "default"
            }
        }

        /// Where the selector stands in the precedence, most specific first
        /// (see `Precedence`).
        public var precedence: Precedence {
            switch self {
            case .host(.hwAddress): .hwAddress
            case .host(.clientID): .clientID
            case .host(.duid): .duid
            case .clientClass: .clientClass
            case .subnetID: .subnetID
            case .subnet: .subnet
            case .sharedNetwork: .sharedNetwork
            case .storeDefault: .storeDefault
            }
        }
    }

    /// The order in which selectors are tried for a query: the most specific
    /// first. A DHCPv4 host may be named by hardware address and by client-id;
    /// as in Kea's own host reservations, the hardware address is tried first.
    public enum Precedence: Int, Sendable, CaseIterable, Comparable {
        case hwAddress, clientID, duid, clientClass, subnetID, subnet, sharedNetwork, storeDefault
        public static func < (a: Precedence, b: Precedence) -> Bool { a.rawValue < b.rawValue }
    }

    /// `index` of the store-wide `default`, which is not in the `entries` list.
    /// The C ABI reports it the same way (LWM2M_ENTRY_DEFAULT).
    public static let defaultIndex = -2

    /// Position in the store's `entries` list, from 0; `defaultIndex` for the default.
    public let index: Int
    public let selector: Selector
    /// Nil for a certificate-only entry, which overrides the certificate of a
    /// less specific entry that gives the URI.
    public let bootstrapURI: BootstrapURI?
    public let certificate: ServerCertificate?
    /// The `server-certificate` path as written in the store.
    public let certificatePath: String?
    /// Send this entry's options to clients that did not ask for them.
    public let alwaysSend: Bool

    public init(index: Int, selector: Selector, bootstrapURI: BootstrapURI?, certificate: ServerCertificate?,
                certificatePath: String?, alwaysSend: Bool = false) {
        self.index = index
        self.selector = selector
        self.bootstrapURI = bootstrapURI
        self.certificate = certificate
        self.certificatePath = certificatePath
        self.alwaysSend = alwaysSend
    }

    /// Whether the entry can apply to a server of `family`.
    public func applies(to family: AddressFamily) -> Bool {
        switch selector {
        case .subnet(let prefix): prefix.family == family
        case .host(.hwAddress), .host(.clientID): family == .v4
        case .host(.duid): family == .v6
        default: true
        }
    }
}

/// How a `host` entry names its client.
public enum HostIdentifier: Hashable, Sendable, CustomStringConvertible {
    /// DHCPv4 chaddr (the hardware address Kea reads from the query).
    case hwAddress([UInt8])
    /// DHCPv4 client identifier: the value of option 61.
    case clientID([UInt8])
    /// DHCPv6 DUID: the value of the Client Identifier option (1).
    case duid([UInt8])

    /// Key names in the store.
    public enum Key {
        public static let hwAddress = "hw-address"
        public static let clientID = "client-id"
        public static let duid = "duid"
        static let all = [clientID, duid, hwAddress]
    }

    public var bytes: [UInt8] {
        switch self {
        case .hwAddress(let b), .clientID(let b), .duid(let b): b
        }
    }

    public var description: String {
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
        switch self {
        case .hwAddress: return "\(Key.hwAddress) \(hex)"
        case .clientID: return "\(Key.clientID) \(hex)"
        case .duid: return "\(Key.duid) \(hex)"
        }
    }

    /// Parses the hex forms Kea accepts: `01:02:0a`, `01-02-0a` or `01020a`.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let separators: Set<Character> = [":", "-"]
        var digits = text
        if text.contains(where: { separators.contains($0) }) {
            let groups = text.split(omittingEmptySubsequences: false, whereSeparator: { separators.contains($0) })
            guard groups.allSatisfy({ (1...2).contains($0.count) }) else { return nil }
            digits = groups.map { $0.count == 1 ? "0" + $0 : String($0) }.joined()
        }
        guard !digits.isEmpty, digits.count % 2 == 0, digits.allSatisfy(\.isHexDigit) else { return nil }
        var out: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }
}

/// One line of the operator's intent: these clients get this bootstrap server.
public struct StoreEntry: Sendable, Equatable {
    /// Which clients the entry is for.
    public enum Selector: Hashable, Sendable, CustomStringConvertible {
        /// The subnet Kea selected has this prefix (and so this family).
        case subnet(SubnetPrefix)
        /// The subnet Kea selected has this id (in either family's server).
        case subnetID(UInt32)

        public var description: String {
            switch self {
            case .subnet(let prefix): "subnet \(prefix)"
            case .subnetID(let id): "subnet-id \(id)"
            }
        }
    }

    /// Position in the store's `entries` list, from 0.
    public let index: Int
    public let selector: Selector
    public let bootstrapURI: BootstrapURI
    public let certificate: ServerCertificate?
    /// The `server-certificate` path as written in the store.
    public let certificatePath: String?

    /// Whether the entry can apply to a server of `family`.
    public func applies(to family: AddressFamily) -> Bool {
        if case .subnet(let prefix) = selector { return prefix.family == family }
        return true
    }
}

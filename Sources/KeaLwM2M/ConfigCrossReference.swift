import LwM2MCore

/// What a store entry refers to in a Kea configuration, independent of how
/// the core spells its selectors. The store of today has subnet ids and
/// subnet prefixes; client classes, shared networks and hosts are already
/// resolved against the configuration, so a new selector only needs a line
/// in `init(_:)`.
enum SelectorReference: Equatable {
    case subnetID(UInt32)
    case subnet(SubnetPrefix)
    case clientClass(String)
    case sharedNetwork(String)
    /// A host by one of its identifiers: `hw-address`, `duid`, `client-id`, ...
    case host(identifier: String, value: String)
    /// A selector that matches every client of the family.
    case everyone

    /// The reference of a core selector.
    init(_ selector: StoreEntry.Selector) {
        switch selector {
        case .subnetID(let id): self = .subnetID(id)
        case .subnet(let prefix): self = .subnet(prefix)
        case .clientClass(let name): self = .clientClass(name)
        case .sharedNetwork(let name): self = .sharedNetwork(name)
        case .host(let id):
            let key: String
            switch id {
            case .hwAddress: key = HostIdentifier.Key.hwAddress
            case .clientID: key = HostIdentifier.Key.clientID
            case .duid: key = HostIdentifier.Key.duid
            }
            self = .host(identifier: key, value: Output.hex(id.bytes))
        case .storeDefault: self = .everyone
        }
    }
}

/// Cross-references a store with a Kea configuration.
struct ConfigCrossReference {
    let config: KeaConfig

    /// How a reference resolves in the configuration.
    enum Resolution: Equatable {
        /// It names these subnets (by position in `config.subnets`).
        case subnets([Int])
        /// It names something that exists but is not tied to a subnet (a class, a host).
        case exists
        /// It names nothing in the configuration; the reason says what is missing.
        case missing(String)
    }

    func resolve(_ reference: SelectorReference) -> Resolution {
        let subnets = config.subnets
        switch reference {
        case .subnetID(let id):
            let found = subnets.indices.filter { subnets[$0].id == id }
            return found.isEmpty ? .missing("no \(config.family == .v4 ? "subnet4" : "subnet6") has id \(id)") : .subnets(found)
        case .subnet(let prefix):
            guard prefix.family == config.family else { return .subnets([]) }
            let found = subnets.indices.filter { subnets[$0].prefix == prefix }
            return found.isEmpty ? .missing("no subnet \(prefix) in the configuration") : .subnets(found)
        case .sharedNetwork(let name):
            guard config.sharedNetworks.contains(name) else { return .missing("no shared network named '\(name)'") }
            return .subnets(subnets.indices.filter { subnets[$0].sharedNetwork == name })
        case .clientClass(let name):
            // Kea's built-in classes exist without a definition.
            let builtIn = name == "KNOWN" || name == "UNKNOWN" || name == "ALL" || name.hasPrefix("VENDOR_CLASS_")
            return builtIn || config.clientClasses.contains(name) ? .exists : .missing("no client class named '\(name)'")
        case .host(let identifier, let value):
            let wanted = Self.normalized(value)
            let found = config.allReservations.contains { Self.normalized($0.identifiers[identifier] ?? "") == wanted }
            return found ? .exists : .missing("no reservation with \(identifier) \(value)")
        case .everyone:
            return .subnets(Array(subnets.indices))
        }
    }

    /// Identifiers compared as Kea compares them: case and separators ignored.
    static func normalized(_ text: String) -> String {
        String(text.lowercased().filter { $0 != ":" && $0 != "-" && $0 != " " && $0 != "." })
    }

    /// Warnings for `store` against the configuration: entries that match
    /// nothing, and subnets no entry can reach.
    func warnings(for store: Store) -> [String] {
        var lines: [String] = []
        var reached = Set<Int>()
        var unresolvedReach = false
        for entry in store.allEntries where entry.applies(to: config.family) {
            let reference = SelectorReference(entry.selector)
            switch resolve(reference) {
            case .subnets(let found):
                reached.formUnion(found)
                if found.isEmpty, case .subnet(let prefix) = reference, prefix.family != config.family { continue }
            case .exists:
                unresolvedReach = true
            case .missing(let reason):
                lines.append("\(store.path):\(entry.index + 1): \(entry.selector): warning: matches nothing in \(config.path): \(reason)")
            }
        }
        for (index, subnet) in config.subnets.enumerated() where !reached.contains(index) {
            let maybe = unresolvedReach ? " by subnet (class or host entries may still apply)" : ""
            lines.append("\(config.path): \(subnet.label): warning: no store entry names this subnet\(maybe); its clients get no LwM2M options")
        }
        return lines
    }
}

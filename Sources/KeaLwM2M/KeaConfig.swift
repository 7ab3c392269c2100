import LwM2MCore

/// What `check --kea-config` needs from a kea-dhcp4 or kea-dhcp6
/// configuration file: our hooks-libraries entry, the option definitions,
/// and the names a store can refer to (subnets, shared networks, client
/// classes, host reservations).
struct KeaConfig {
    /// The library file name that marks our hooks-libraries entry.
    static let hookFileName = "libdhcp_lwm2m.so"

    let path: String
    let family: AddressFamily
    /// The whole `Dhcp4` / `Dhcp6` map, as written.
    let server: ConfigValue
    let hooks: [HookEntry]
    let optionDefinitions: [OptionDefinition]
    let subnets: [Subnet]
    let sharedNetworks: [String]
    let clientClasses: [String]
    /// Reservations at the global level (each subnet has its own too).
    let globalReservations: [Reservation]

    /// One `hooks-libraries` entry that loads our library.
    struct HookEntry {
        /// Position in `hooks-libraries`, from 0.
        let index: Int
        let library: String
        /// The `parameters` map, nil when absent.
        let parameters: ConfigValue?
    }

    /// An `option-def` entry in the family's top-level space.
    struct OptionDefinition {
        /// Position in `option-def`, from 0.
        let index: Int
        let name: String
        let code: UInt16
    }

    /// A `subnet4` / `subnet6` entry, top-level or in a shared network.
    struct Subnet {
        let id: UInt32?
        /// As written in the file.
        let text: String
        /// Parsed; nil when the file's text is not a prefix.
        let prefix: SubnetPrefix?
        let sharedNetwork: String?
        /// The subnet's `client-class` (guard), if any.
        let clientClass: String?
        let reservations: [Reservation]

        var label: String {
            "subnet \(text)" + (id.map { " (id \($0))" } ?? " (no id)")
                + (sharedNetwork.map { " in shared network '\($0)'" } ?? "")
        }
    }

    /// A host reservation: its identifiers and what it assigns.
    struct Reservation {
        /// `hw-address`, `duid`, `client-id`, `circuit-id`, `flex-id` → value as written.
        let identifiers: [String: String]
        let hostname: String?
        let addresses: [String]
        let clientClasses: [String]
    }

    /// The identifier keys Kea 2.2 accepts in a reservation.
    static let identifierKeys = ["hw-address", "duid", "client-id", "circuit-id", "flex-id"]

    /// Reads and parses `path` as Kea does (comments allowed).
    static func load(path: String) throws(ToolError) -> KeaConfig {
        let text = KeaConfigText.stripComments(try Output.read(path))
        let document: ConfigValue
        do {
            document = try ConfigValue.parse(text)
        } catch {
            throw ToolError("\(path): \(error.message)")
        }
        let family: AddressFamily
        let server: ConfigValue
        switch (document["Dhcp4"], document["Dhcp6"]) {
        case (let map?, nil): family = .v4; server = map
        case (nil, let map?): family = .v6; server = map
        case (.some, .some): throw ToolError("\(path): has both Dhcp4 and Dhcp6; check one server's configuration at a time")
        case (nil, nil): throw ToolError("\(path): is not a kea-dhcp4 or kea-dhcp6 configuration (no \"Dhcp4\" or \"Dhcp6\" map)")
        }
        return KeaConfig(path: path, family: family, server: server)
    }

    private init(path: String, family: AddressFamily, server: ConfigValue) {
        self.path = path
        self.family = family
        self.server = server
        let space = family == .v4 ? "dhcp4" : "dhcp6"
        let subnetKey = family == .v4 ? "subnet4" : "subnet6"

        hooks = server["hooks-libraries"]?.list.enumerated().compactMap { index, item in
            guard let library = item["library"]?.string,
                  library == Self.hookFileName || library.hasSuffix("/" + Self.hookFileName) else { return nil }
            return HookEntry(index: index, library: library, parameters: item["parameters"])
        } ?? []

        optionDefinitions = server["option-def"]?.list.enumerated().compactMap { index, item in
            guard (item["space"]?.string ?? space) == space,
                  let code = item["code"]?.integer, let exact = UInt16(exactly: code) else { return nil }
            return OptionDefinition(index: index, name: item["name"]?.string ?? "?", code: exact)
        } ?? []

        var subnets: [Subnet] = []
        func collect(_ list: [ConfigValue], network: String?) {
            for item in list {
                let text = item["subnet"]?.string ?? "?"
                subnets.append(Subnet(
                    id: item["id"]?.integer.flatMap { UInt32(exactly: $0) },
                    text: text,
                    prefix: try? SubnetPrefix(parsing: text),
                    sharedNetwork: network,
                    clientClass: item["client-class"]?.string,
                    reservations: (item["reservations"]?.list ?? []).map(Self.reservation)))
            }
        }
        collect(server[subnetKey]?.list ?? [], network: nil)
        var networks: [String] = []
        for network in server["shared-networks"]?.list ?? [] {
            let name = network["name"]?.string ?? "?"
            networks.append(name)
            collect(network[subnetKey]?.list ?? [], network: name)
        }
        self.subnets = subnets
        sharedNetworks = networks
        clientClasses = server["client-classes"]?.list.compactMap { $0["name"]?.string } ?? []
        globalReservations = (server["reservations"]?.list ?? []).map(Self.reservation)
    }

    private static func reservation(_ item: ConfigValue) -> Reservation {
        var identifiers: [String: String] = [:]
        for key in identifierKeys { if let value = item[key]?.string { identifiers[key] = value } }
        var addresses: [String] = []
        if let single = item["ip-address"]?.string { addresses.append(single) }
        addresses += item["ip-addresses"]?.list.compactMap(\.string) ?? []
        addresses += item["prefixes"]?.list.compactMap(\.string) ?? []
        return Reservation(identifiers: identifiers, hostname: item["hostname"]?.string, addresses: addresses,
                           clientClasses: item["client-classes"]?.list.compactMap(\.string) ?? [])
    }

    /// Every reservation, global and per subnet.
    var allReservations: [Reservation] { globalReservations + subnets.flatMap(\.reservations) }

    /// The subnet containing `address`, the most specific when several do.
    func subnet(containing address: [UInt8]) -> Subnet? {
        subnets.filter { subnet in
            subnet.prefix.map { $0.family == family && ToolSupport.prefix($0, contains: address) } ?? false
        }.max { ($0.prefix?.length ?? 0) < ($1.prefix?.length ?? 0) }
    }
}

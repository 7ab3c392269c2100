import LwM2MCore

/// Walks a Kea configuration's maps (the server map, subnets, pools,
/// shared networks, client classes, hooks libraries, loggers, control
/// sockets, reservations, option data, databases) and checks their keys
/// against a Kea series with `KeaConfigKeys`.
struct ConfigKeyCheck {
    /// One key of one map.
    struct Use {
        /// Where the map is: "Dhcp4.subnet4[0].pools[1]".
        let location: String
        let scope: KeaConfigKeys.Scope
        let key: String
        /// The other keys of the same map.
        let siblings: Set<String>
    }

    let family: AddressFamily
    let uses: [Use]

    init(server: ConfigValue, family: AddressFamily) {
        self.family = family
        var uses: [Use] = []
        let subnetKey = family == .v4 ? "subnet4" : "subnet6"

        func visit(_ value: ConfigValue, _ scope: KeaConfigKeys.Scope, _ location: String) {
            guard case .object(let map) = value else { return }
            let keys = Set(map.keys)
            for key in map.keys.sorted() { uses.append(Use(location: location, scope: scope, key: key, siblings: keys)) }
            func each(_ key: String, _ child: KeaConfigKeys.Scope) {
                guard let item = map[key] else { return }
                if case .array(let items) = item {
                    for (index, element) in items.enumerated() { visit(element, child, "\(location).\(key)[\(index)]") }
                } else {
                    visit(item, child, "\(location).\(key)")
                }
            }
            each("option-data", .optionData)
            switch scope {
            case .server:
                each(subnetKey, .subnet)
                each("shared-networks", .sharedNetwork)
                each("client-classes", .clientClass)
                each("hooks-libraries", .hooksLibrary)
                each("loggers", .logger)
                each("control-socket", .controlSocket)
                each("control-sockets", .controlSocket)
                each("reservations", .reservation)
                each("lease-database", .database)
                each("hosts-database", .database)
                each("hosts-databases", .database)
                each("dhcp-ddns", .dhcpDDNS)
                each("compatibility", .compatibility)
            case .sharedNetwork:
                each(subnetKey, .subnet)
            case .subnet:
                each("pools", .pool)
                each("pd-pools", .pdPool)
                each("reservations", .reservation)
            default:
                break
            }
        }
        visit(server, .server, family == .v4 ? "Dhcp4" : "Dhcp6")
        self.uses = uses
    }

    /// The series every version-dependent key of the configuration allows,
    /// with the keys that narrowed it (nil when no key depends on the
    /// version, or when the keys contradict each other).
    func evidence() -> (versions: Set<KeaVersion>, because: [Use])? {
        var versions = Set(KeaVersion.allCases)
        var because: [Use] = []
        for use in uses {
            guard let rule = KeaConfigKeys.rule(use.scope, use.key, family: family) else { continue }
            let narrowed = versions.intersection(rule.accepted.versions)
            if narrowed != versions { because.append(use) }
            versions = narrowed
        }
        return because.isEmpty || versions.isEmpty ? nil : (versions, because)
    }

    /// One warning line (without the file) per key `version` does not
    /// accept, deprecates, or refuses next to another.
    func warnings(for version: KeaVersion) -> [String] {
        var lines: [String] = []
        let kea = "Kea \(version.rawValue)"
        for use in uses {
            if let rule = KeaConfigKeys.rule(use.scope, use.key, family: family), !rule.accepted.contains(version) {
                let instead = rule.instead.map { "; use \($0)" } ?? ""
                lines.append("\(use.location): warning: '\(use.key)' is not accepted by \(kea), "
                             + "only by \(rule.accepted.text)\(instead)")
            }
            if let old = KeaConfigKeys.deprecated.first(where: {
                $0.key == use.key && $0.scopes.contains(use.scope) && ($0.family ?? family) == family && version >= $0.since
            }) {
                let instead = old.replacement.map { "; use \($0)" } ?? ""
                lines.append("\(use.location): warning: '\(use.key)' is deprecated in \(kea)\(instead)")
            }
            for pair in KeaConfigKeys.exclusive
            where pair.keys.0 == use.key && pair.scopes.contains(use.scope) && version >= pair.from
                && use.siblings.contains(pair.keys.1) {
                lines.append("\(use.location): warning: '\(pair.keys.0)' and '\(pair.keys.1)' together are refused "
                             + "by \(kea); keep one")
            }
        }
        return lines
    }
}

import LwM2MCore

/// The configuration keys that some supported Kea series accept and others
/// do not, the keys a series still accepts but has deprecated, and the
/// pairs a series refuses together.
///
/// Read from Kea's configuration grammars (src/bin/dhcp4/dhcp4_parser.yy,
/// src/bin/dhcp6/dhcp6_parser.yy with their lexers) at the tags Kea-2.2.0,
/// Kea-2.6.3 and Kea-3.0.4, the deprecation messages of libdhcpsrv and
/// libprocess, and the parsers that refuse a deprecated key next to its
/// replacement. scripts/kea-version-facts.py prints the grammar differences
/// again. A key these grammars do not list in a map is refused by Kea
/// ("got unexpected keyword"); keys no supported series accepts are not
/// this table's business.
enum KeaConfigKeys {
    /// The maps of a configuration whose keys are checked.
    enum Scope: String, Sendable {
        case server, subnet, pool, pdPool, sharedNetwork, clientClass, hooksLibrary, logger
        case controlSocket, reservation, optionData, database, dhcpDDNS, compatibility
    }

    /// A key accepted by some series only.
    struct Versioned: Sendable {
        let scope: Scope
        let key: String
        let accepted: KeaVersionRange
        /// nil: both families.
        let family: AddressFamily?
        /// What to write instead where the key is not accepted.
        let instead: String?

        init(_ scope: Scope, _ key: String, _ accepted: KeaVersionRange, _ family: AddressFamily? = nil,
             instead: String? = nil) {
            self.scope = scope; self.key = key; self.accepted = accepted; self.family = family; self.instead = instead
        }
    }

    /// A key a series accepts but has deprecated.
    struct Deprecated: Sendable {
        let scopes: [Scope]
        let key: String
        let since: KeaVersion
        let family: AddressFamily?
        /// The key to use instead, as a phrase ("'output-options'").
        let replacement: String?
    }

    /// Two keys a series refuses in the same map.
    struct Exclusive: Sendable {
        let scopes: [Scope]
        let keys: (String, String)
        let from: KeaVersion
    }

    static let networks: [Scope] = [.subnet, .sharedNetwork]
    static let classGuarded: [Scope] = [.subnet, .sharedNetwork, .pool, .pdPool]

    static let versioned: [Versioned] = {
        var list: [Versioned] = [
            .init(.server, "reservation-mode", .until(.v2_2), instead: reservationFlags),
            .init(.server, "allocator", .since(.v2_6)),
            .init(.server, "ddns-conflict-resolution-mode", .since(.v2_6), instead: "'ddns-use-conflict-resolution'"),
            .init(.server, "ddns-ttl-percent", .since(.v2_6)),
            .init(.server, "offer-lifetime", .since(.v2_6), .v4),
            .init(.server, "pd-allocator", .since(.v2_6), .v6),
            .init(.server, "stash-agent-options", .since(.v2_6), .v4),
            .init(.server, "control-sockets", .since(.v3_0), instead: "one 'control-socket' map"),
            .init(.server, "ddns-ttl", .since(.v3_0)),
            .init(.server, "ddns-ttl-max", .since(.v3_0)),
            .init(.server, "ddns-ttl-min", .since(.v3_0)),
        ]
        for scope in networks {
            list += [
                Versioned(scope, "reservation-mode", .until(.v2_2), instead: reservationFlags),
                Versioned(scope, "allocator", .since(.v2_6)),
                Versioned(scope, "ddns-conflict-resolution-mode", .since(.v2_6), instead: "'ddns-use-conflict-resolution'"),
                Versioned(scope, "ddns-ttl-percent", .since(.v2_6)),
                Versioned(scope, "offer-lifetime", .since(.v2_6), .v4),
                Versioned(scope, "pd-allocator", .since(.v2_6), .v6),
                Versioned(scope, "ddns-ttl", .since(.v3_0)),
                Versioned(scope, "ddns-ttl-max", .since(.v3_0)),
                Versioned(scope, "ddns-ttl-min", .since(.v3_0)),
            ]
        }
        for scope in classGuarded {
            let family: AddressFamily? = scope == .pdPool ? .v6 : nil
            list.append(Versioned(scope, "client-classes", .since(.v3_0), family, instead: "'client-class' (one class)"))
            list.append(Versioned(scope, "evaluate-additional-classes", .since(.v3_0), family,
                                  instead: "'require-client-classes'"))
        }
        list += [
            .init(.pool, "pool-id", .since(.v2_6)),
            .init(.pdPool, "pool-id", .since(.v2_6), .v6),
            .init(.clientClass, "offer-lifetime", .since(.v2_6), .v4),
            .init(.clientClass, "template-test", .since(.v2_6)),
            .init(.clientClass, "only-in-additional-list", .since(.v3_0), instead: "'only-if-required'"),
            .init(.logger, "output-options", .since(.v2_6), instead: "'output_options'"),
            .init(.reservation, "excluded-prefixes", .since(.v3_0), .v6),
            .init(.optionData, "never-send", .since(.v2_6)),
            .init(.optionData, "client-classes", .since(.v3_0)),
            .init(.database, "read-timeout", .since(.v2_6)),
            .init(.database, "retry-on-startup", .since(.v2_6)),
            .init(.database, "tcp-user-timeout", .since(.v2_6)),
            .init(.database, "write-timeout", .since(.v2_6)),
            .init(.compatibility, "ignore-dhcp-server-identifier", .since(.v2_6), .v4),
        ]
        let poolDDNS = [
            "ddns-conflict-resolution-mode", "ddns-generated-prefix", "ddns-override-client-update",
            "ddns-override-no-update", "ddns-qualifying-suffix", "ddns-replace-client-name", "ddns-send-updates",
            "ddns-ttl", "ddns-ttl-max", "ddns-ttl-min", "ddns-ttl-percent", "ddns-update-on-renew",
            "hostname-char-replacement", "hostname-char-set",
        ]
        for key in poolDDNS {
            list.append(Versioned(.pool, key, .since(.v3_0), instead: "the subnet's or shared network's '\(key)'"))
        }
        let httpSocket = [
            "authentication", "cert-file", "cert-required", "http-headers", "key-file", "socket-address",
            "socket-port", "trust-anchor",
        ]
        for key in httpSocket { list.append(Versioned(.controlSocket, key, .since(.v3_0))) }
        for moved in movedDDNSKeys {
            list.append(Versioned(.dhcpDDNS, moved.old, .until(.v2_2), instead: "the top-level '\(moved.new)'"))
        }
        return list
    }()

    static let reservationFlags = "'reservations-global', 'reservations-in-subnet' and 'reservations-out-of-pool'"

    static let deprecated: [Deprecated] = [
        .init(scopes: [.logger], key: "output_options", since: .v2_6, family: nil, replacement: "'output-options'"),
        .init(scopes: classGuarded, key: "client-class", since: .v3_0, family: nil, replacement: "'client-classes'"),
        .init(scopes: classGuarded, key: "require-client-classes", since: .v3_0, family: nil,
              replacement: "'evaluate-additional-classes'"),
        .init(scopes: [.clientClass], key: "only-if-required", since: .v3_0, family: nil,
              replacement: "'only-in-additional-list'"),
        .init(scopes: [.server], key: "data-directory", since: .v2_6, family: .v6, replacement: nil),
    ] + movedDDNSKeys.map { moved in
        Deprecated(scopes: [.dhcpDDNS], key: moved.old, since: .v2_2, family: nil, replacement: "the top-level '\(moved.new)'")
    }

    /// The `dhcp-ddns` keys Kea 2.2 moves to the top level (and later series refuse).
    static let movedDDNSKeys: [(old: String, new: String)] = [
        ("generated-prefix", "ddns-generated-prefix"), ("hostname-char-replacement", "hostname-char-replacement"),
        ("hostname-char-set", "hostname-char-set"), ("override-client-update", "ddns-override-client-update"),
        ("override-no-update", "ddns-override-no-update"), ("qualifying-suffix", "ddns-qualifying-suffix"),
        ("replace-client-name", "ddns-replace-client-name"),
    ]

    static let exclusive: [Exclusive] = [
        .init(scopes: [.server], keys: ("control-socket", "control-sockets"), from: .v3_0),
        .init(scopes: [.server], keys: ("ddns-ttl", "ddns-ttl-percent"), from: .v3_0),
        .init(scopes: [.server], keys: ("ddns-ttl", "ddns-ttl-min"), from: .v3_0),
        .init(scopes: [.server], keys: ("ddns-ttl", "ddns-ttl-max"), from: .v3_0),
        .init(scopes: [.logger], keys: ("output_options", "output-options"), from: .v2_6),
        .init(scopes: classGuarded, keys: ("client-class", "client-classes"), from: .v3_0),
        .init(scopes: classGuarded, keys: ("require-client-classes", "evaluate-additional-classes"), from: .v3_0),
        .init(scopes: [.clientClass], keys: ("only-if-required", "only-in-additional-list"), from: .v3_0),
    ]

    /// The entry for `key` in `scope`, if the key is version-dependent.
    static func rule(_ scope: Scope, _ key: String, family: AddressFamily) -> Versioned? {
        versioned.first { $0.scope == scope && $0.key == key && ($0.family ?? family) == family }
    }
}

/// The hook's `parameters` map from `hooks-libraries` in the Kea configuration,
/// validated.
public struct HookParameters: Sendable, Equatable {
    /// Path of the store file (`store-file`). With `store-database`, how
    /// logs and status name the database (`DatabaseParameters.label`).
    public var storeFile: String
    /// The PostgreSQL store (`store-database`, exclusive with `store-file`).
    public var storeDatabase: DatabaseParameters? = nil
    /// Option code of the bootstrap-server URI option (`bootstrap-uri-code`).
    public var bootstrapURICode: UInt16
    /// Option code of the server-certificate option (`server-certificate-code`).
    public var serverCertificateCode: UInt16
    /// DHCPv4 only: the largest reply, in octets including IP and UDP headers,
    /// for a client that sent no option 57 (`default-max-message-size`).
    public var defaultMaxMessageSize: Int
    /// DHCPv6 only: the largest reply, in octets of DHCPv6 message as the server
    /// sends it, Relay-reply layers included (`dhcpv6-max-reply-size`).
    public var dhcpv6MaxReplySize: Int = HookParameters.defaultDHCPv6MaxReplySize
    /// DHCPv4 only: remember which clients asked in DISCOVER (`remember-requests`); nil when off.
    public var rememberRequests: RememberPolicy? = nil

    /// What a 1500-octet link carries: 1500 − 40 (IPv6 header) − 8 (UDP header).
    public static let defaultDHCPv6MaxReplySize = 1452
    /// From what every IPv6 link carries (1280 − 48) to the largest UDP payload.
    public static let dhcpv6MaxReplySizeRange = 1232...65527

    /// `remember-requests`: a DHCPv4 client whose DISCOVER asked for the LwM2M
    /// options gets them in the ACK to its REQUEST even if the REQUEST's PRL
    /// does not ask, for `lifetime` seconds, for at most `maxClients` clients.
    public struct RememberPolicy: Sendable, Equatable {
        public var lifetime: Int
        public var maxClients: Int
        public init(lifetime: Int = 60, maxClients: Int = 10_000) {
            self.lifetime = lifetime
            self.maxClients = maxClients
        }
        public static let lifetimeRange = 1...3600
        public static let maxClientsRange = 1...1_000_000
    }
    /// Seconds between two checks of the store and certificate files for
    /// changes (`watch-interval`); 0 turns hot reload off.
    public var watchInterval: Int = 1

    /// Default codes. DHCPv4 takes them from the site-specific range 224–254
    /// (RFC 3942); DHCPv6 has no private range, so two codes IANA has not
    /// assigned. No code was ever assigned to the draft's options.
    public static func defaultCodes(for family: AddressFamily) -> (uri: UInt16, certificate: UInt16) {
        family == .v4 ? (224, 225) : (200, 201)
    }

    /// RFC 2131: every client accepts 576 octets. The upper bound is what one
    /// 1500-byte Ethernet frame carries.
    public static let maxMessageSizeRange = 576...1500

    /// `watch-interval` in seconds: 0 (off) to one hour.
    public static let watchIntervalRange = 0...3600

    /// The parameter names, as an operator writes them.
    public enum Key {
        public static let storeFile = "store-file"
        public static let bootstrapURICode = "bootstrap-uri-code"
        public static let serverCertificateCode = "server-certificate-code"
        public static let defaultMaxMessageSize = "default-max-message-size"
        public static let dhcpv6MaxReplySize = "dhcpv6-max-reply-size"
        public static let rememberRequests = "remember-requests"
        public static let watchInterval = "watch-interval"
        public static let storeDatabase = "store-database"
        static let all = [storeFile, storeDatabase, bootstrapURICode, serverCertificateCode, defaultMaxMessageSize,
                          dhcpv6MaxReplySize, rememberRequests, watchInterval]
    }

    /// Validates the parameters Kea passed to `load()`.
    ///
    /// - Parameters:
    ///   - json: the `parameters` map serialized as JSON (absent map: `{}` or empty).
    ///   - family: the server's family.
    ///   - keaDefinedCodes: codes Kea already defines in the family's top-level space.
    /// - Throws: `ParameterError` naming the parameter and the reason.
    public static func parse(json: [UInt8], family: AddressFamily,
                             keaDefinedCodes: Set<UInt16>) throws(ParameterError) -> HookParameters {
        let document: JSONValue
        do {
            document = json.isEmpty ? .object([:]) : try JSONValue.parse(json)
        } catch {
            throw ParameterError(parameter: nil, reason: "parameters are \(error.reason)")
        }
        let map: [String: JSONValue]
        switch document {
        case .object(let members): map = members
        case .null: map = [:]
        default: throw ParameterError(parameter: nil, reason: "parameters must be a map, not \(document.kind)")
        }
        if let unknown = map.keys.sorted().first(where: { !Key.all.contains($0) }) {
            throw ParameterError(parameter: unknown,
                                 reason: "unknown; the known parameters are \(Key.all.joined(separator: ", "))")
        }

        var database: DatabaseParameters? = nil
        let storeFile: String
        if let value = map[Key.storeDatabase] {
            guard map[Key.storeFile] == nil else {
                throw ParameterError(parameter: Key.storeDatabase,
                                     reason: "give either store-file or store-database, not both")
            }
            let parsed = try DatabaseParameters.parse(value, parameter: Key.storeDatabase)
            database = parsed
            storeFile = parsed.label
        } else {
            guard case .string(let path)? = map[Key.storeFile] else {
                throw ParameterError(parameter: Key.storeFile,
                                     reason: map[Key.storeFile] == nil ? "required, the path of the store file (or store-database, a PostgreSQL store)" : "must be a string (a file path)")
            }
            guard !path.isEmpty else { throw ParameterError(parameter: Key.storeFile, reason: "must not be empty") }
            storeFile = path
        }

        let defaults = defaultCodes(for: family)
        let uriCode = try code(Key.bootstrapURICode, in: map, default: defaults.uri, family: family,
                               keaDefinedCodes: keaDefinedCodes)
        let certificateCode = try code(Key.serverCertificateCode, in: map, default: defaults.certificate,
                                       family: family, keaDefinedCodes: keaDefinedCodes)
        guard uriCode != certificateCode else {
            throw ParameterError(parameter: Key.serverCertificateCode,
                                 reason: "must differ from \(Key.bootstrapURICode) (both are \(uriCode))")
        }

        var maxMessageSize = maxMessageSizeRange.lowerBound
        if let value = map[Key.defaultMaxMessageSize] {
            guard family == .v4 else {
                throw ParameterError(parameter: Key.defaultMaxMessageSize,
                                     reason: "applies to DHCPv4 only (option 57); remove it from the DHCPv6 configuration")
            }
            guard case .integer(let size) = value, maxMessageSizeRange.contains(Int(clamping: size)) else {
                throw ParameterError(parameter: Key.defaultMaxMessageSize,
                                     reason: "must be an integer from \(maxMessageSizeRange.lowerBound) to \(maxMessageSizeRange.upperBound)")
            }
            maxMessageSize = Int(clamping: size)
        }
        var v6Limit = defaultDHCPv6MaxReplySize
        if let value = map[Key.dhcpv6MaxReplySize] {
            guard family == .v6 else {
                throw ParameterError(parameter: Key.dhcpv6MaxReplySize,
                                     reason: "applies to DHCPv6 only; DHCPv4 uses option 57 and default-max-message-size")
            }
            let range = dhcpv6MaxReplySizeRange
            guard case .integer(let size) = value, range.contains(Int(clamping: size)) else {
                throw ParameterError(parameter: Key.dhcpv6MaxReplySize,
                                     reason: "must be an integer from \(range.lowerBound) to \(range.upperBound) (octets of DHCPv6 message, relay layers included; 1452 for 1500-octet links, 1232 for 1280)")
            }
            v6Limit = Int(clamping: size)
        }
        var remember: RememberPolicy? = nil
        if let value = map[Key.rememberRequests] {
            remember = try rememberPolicy(value, family: family)
        }
        var watchInterval = 1
        if let value = map[Key.watchInterval] {
            guard case .integer(let seconds) = value, watchIntervalRange.contains(Int(clamping: seconds)) else {
                throw ParameterError(parameter: Key.watchInterval,
                                     reason: "must be an integer number of seconds from \(watchIntervalRange.lowerBound) (no hot reload) to \(watchIntervalRange.upperBound)")
            }
            watchInterval = Int(clamping: seconds)
        }
        return HookParameters(storeFile: storeFile, storeDatabase: database, bootstrapURICode: uriCode,
                              serverCertificateCode: certificateCode, defaultMaxMessageSize: maxMessageSize,
                              dhcpv6MaxReplySize: v6Limit, rememberRequests: remember, watchInterval: watchInterval)
    }

    private static func rememberPolicy(_ value: JSONValue, family: AddressFamily) throws(ParameterError) -> RememberPolicy? {
        let key = Key.rememberRequests
        guard family == .v4 else {
            throw ParameterError(parameter: key, reason: "applies to DHCPv4 only (DISCOVER then REQUEST); remove it from the DHCPv6 configuration")
        }
        guard case .object(let map) = value else {
            throw ParameterError(parameter: key, reason: "must be a map such as {\"lifetime\": 60, \"max-clients\": 10000}, not \(value.kind)")
        }
        if let unknown = map.keys.sorted().first(where: { $0 != "lifetime" && $0 != "max-clients" }) {
            throw ParameterError(parameter: key, reason: "unknown key '\(unknown)' (known: lifetime, max-clients)")
        }
        var policy = RememberPolicy()
        for (name, range) in [("lifetime", RememberPolicy.lifetimeRange), ("max-clients", RememberPolicy.maxClientsRange)] {
            guard let given = map[name] else { continue }
            guard case .integer(let number) = given, range.contains(Int(clamping: number)) else {
                throw ParameterError(parameter: key, reason: "'\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            if name == "lifetime" { policy.lifetime = Int(clamping: number) } else { policy.maxClients = Int(clamping: number) }
        }
        return policy
    }

    private static func code(_ key: String, in map: [String: JSONValue], default defaultCode: UInt16,
                             family: AddressFamily, keaDefinedCodes: Set<UInt16>) throws(ParameterError) -> UInt16 {
        var code = defaultCode
        if let value = map[key] {
            let range: ClosedRange<Int64> = family == .v4 ? 224...254 : 1...65535
            guard case .integer(let number) = value, range.contains(number), let explicit = UInt16(exactly: number) else {
                let what = family == .v4 ? "an integer from 224 to 254 (the DHCPv4 site-specific range)"
                                         : "an integer from 1 to 65535"
                throw ParameterError(parameter: key, reason: "must be \(what)")
            }
            code = explicit
        }
        // The default too: an option-def for it in the configuration is a collision.
        guard !keaDefinedCodes.contains(code) else {
            let which = map[key] == nil ? "the default option code" : "option code"
            throw ParameterError(parameter: key,
                                 reason: "\(which) \(code) is already defined in Kea's \(family) option space; choose an unused code")
        }
        return code
    }
}

/// A parameter that Kea passed to `load()` is missing or invalid.
public struct ParameterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The parameter's name, or nil when the map as a whole is wrong.
    public var parameter: String?
    public var reason: String

    public var description: String {
        parameter.map { "parameter '\($0)': \(reason)" } ?? reason
    }
}

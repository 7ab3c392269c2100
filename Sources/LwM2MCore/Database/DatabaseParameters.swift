/// The hook's `store-database` map: where the PostgreSQL store is, with the
/// keys and meanings of Kea's own `lease-database` for PostgreSQL, plus
/// `password-file` and `cache-file`.
///
/// ```json
/// "store-database": { "type": "postgresql", "name": "lwm2m", "host": "/run/postgresql",
///                     "user": "kea_lwm2m", "password-file": "/etc/kea/lwm2m-db.pw",
///                     "connect-timeout": 5, "cache-file": "/var/lib/kea/lwm2m-cache.json" }
/// ```
public struct DatabaseParameters: Sendable, Equatable {
    /// `name`: the database.
    public var name: String
    /// `host`: a host name or address, or a path (a folder holding the
    /// server's unix socket). Kea's default: localhost.
    public var host: String = "localhost"
    /// `port`; nil: libpq's default (5432).
    public var port: Int? = nil
    public var user: String? = nil
    /// `password`, or the first line of `password-file`.
    public var password: String? = nil
    /// `password-file`, when the password came from a file.
    public var passwordFile: String? = nil
    /// `connect-timeout` in seconds: the longest load() waits for the
    /// database, and for each connection attempt.
    public var connectTimeout: Int = 5
    /// `trust-anchor`: the CA file (or folder) the server's certificate must
    /// chain to; with it the connection is TLS with `sslmode` verify-full.
    public var trustAnchor: String? = nil
    /// `cert-file` and `key-file`: this client's certificate and key.
    public var certFile: String? = nil
    public var keyFile: String? = nil
    /// `cache-file`: where the last good store from the database is kept,
    /// and read at load() when the database cannot be reached.
    public var cacheFile: String? = nil
    /// `tcp-user-timeout` in seconds, as in Kea's lease-database: how long
    /// data sent may stay unacknowledged before the connection is closed
    /// (libpq's `tcp_user_timeout`); nil or 0: the system's default.
    public var tcpUserTimeout: Int? = nil
    /// Keys of Kea's lease-database for PostgreSQL that were given, checked
    /// as Kea checks them, and have no effect on the store (see
    /// `Key.withoutEffect`), in the order of `Key.withoutEffect`.
    public var keysWithoutEffect: [String] = []

    public init(name: String) {
        self.name = name
    }

    /// `connect-timeout`: Kea's own default and range (at least 1 s), capped
    /// at 5 minutes, since load() may wait that long.
    public static let defaultConnectTimeout = 5
    public static let connectTimeoutRange = 1...300

    /// The keys as an operator writes them.
    public enum Key {
        public static let type = "type"
        public static let name = "name"
        public static let host = "host"
        public static let port = "port"
        public static let user = "user"
        public static let password = "password"
        public static let passwordFile = "password-file"
        public static let connectTimeout = "connect-timeout"
        public static let trustAnchor = "trust-anchor"
        public static let certFile = "cert-file"
        public static let keyFile = "key-file"
        public static let cacheFile = "cache-file"
        public static let tcpUserTimeout = "tcp-user-timeout"
        /// Keys of Kea's own lease-database for PostgreSQL (Kea 2.2 to 3.0)
        /// that are accepted, so that a lease-database map can be copied as
        /// it is, but do not apply to a store the hook follows: it retries a
        /// lost database for as long as it runs, with its own backoff, and
        /// keeps serving the last good store meanwhile (Kea's on-fail
        /// "serve-retry-continue" with retry-on-startup, always).
        public static let maxReconnectTries = "max-reconnect-tries"
        public static let reconnectWaitTime = "reconnect-wait-time"
        public static let onFail = "on-fail"
        public static let retryOnStartup = "retry-on-startup"
        public static let maxRowErrors = "max-row-errors"
        public static let withoutEffect = [maxReconnectTries, reconnectWaitTime, onFail, retryOnStartup, maxRowErrors]
        public static let all = [type, name, host, port, user, password, passwordFile, connectTimeout,
                                 trustAnchor, certFile, keyFile, cacheFile, tcpUserTimeout] + withoutEffect
        /// Kea's values of `on-fail`.
        public static let onFailValues = ["stop-retry-exit", "serve-retry-exit", "serve-retry-continue"]
    }

    /// Validates a `store-database` map given as JSON text (the CLI's
    /// `--kea-config` hands it over as it found it).
    public static func parse(json: [UInt8], parameter: String = HookParameters.Key.storeDatabase)
        throws(ParameterError) -> DatabaseParameters {
        let value: JSONValue
        do { value = try JSONValue.parse(json) } catch {
            throw ParameterError(parameter: parameter, reason: "is \(error.reason)")
        }
        return try parse(value, parameter: parameter)
    }

    /// Validates the `store-database` map. The password file is read here,
    /// so that a missing or unsafe one is a configuration error at load().
    static func parse(_ value: JSONValue, parameter: String) throws(ParameterError) -> DatabaseParameters {
        func fail(_ reason: String) -> ParameterError { ParameterError(parameter: parameter, reason: reason) }
        guard case .object(let map) = value else {
            throw fail("must be a map such as {\"type\": \"postgresql\", \"name\": \"lwm2m\", \"host\": \"/run/postgresql\"}, not \(value.kind)")
        }
        if let unknown = map.keys.sorted().first(where: { !Key.all.contains($0) }) {
            throw fail("unknown key '\(unknown)' (known: \(Key.all.joined(separator: ", ")))")
        }
        func string(_ key: String) throws(ParameterError) -> String? {
            guard let given = map[key] else { return nil }
            guard case .string(let text) = given else { throw fail("'\(key)' must be a string, not \(given.kind)") }
            guard !text.isEmpty else { throw fail("'\(key)' must not be empty") }
            guard !text.utf8.contains(0) else { throw fail("'\(key)' must not contain NUL") }
            return text
        }
        func integer(_ key: String, _ range: ClosedRange<Int>, _ what: String) throws(ParameterError) -> Int? {
            guard let given = map[key] else { return nil }
            guard case .integer(let number) = given, range.contains(Int(clamping: number)) else {
                throw fail("'\(key)' must be an integer from \(range.lowerBound) to \(range.upperBound) (\(what))")
            }
            return Int(clamping: number)
        }
        guard let type = try string(Key.type) else {
            throw fail("'type' is required: \"postgresql\" (the only database the store lives in)")
        }
        guard type == "postgresql" else {
            throw fail("'type' must be \"postgresql\", not \"\(type)\"")
        }
        guard let name = try string(Key.name) else { throw fail("'name' is required: the database's name") }
        var parameters = DatabaseParameters(name: name)
        parameters.host = try string(Key.host) ?? "localhost"
        parameters.port = try integer(Key.port, 0...65535, "0: the default, 5432")
        if parameters.port == 0 { parameters.port = nil }
        parameters.user = try string(Key.user)
        parameters.password = try string(Key.password)
        parameters.passwordFile = try string(Key.passwordFile)
        if parameters.password != nil && parameters.passwordFile != nil {
            throw fail("give 'password' or 'password-file', not both")
        }
        if let file = parameters.passwordFile {
            parameters.password = try readPassword(file, fail: fail)
        }
        parameters.connectTimeout = try integer(Key.connectTimeout, connectTimeoutRange, "seconds") ?? defaultConnectTimeout
        parameters.trustAnchor = try string(Key.trustAnchor)
        parameters.certFile = try string(Key.certFile)
        parameters.keyFile = try string(Key.keyFile)
        if (parameters.certFile == nil) != (parameters.keyFile == nil) {
            throw fail("'cert-file' and 'key-file' go together: give both or neither")
        }
        parameters.cacheFile = try string(Key.cacheFile)
        parameters.tcpUserTimeout = try integer(Key.tcpUserTimeout, 0...Int(Int32.max / 1000), "seconds; 0: the system's default")
        if parameters.tcpUserTimeout == 0 { parameters.tcpUserTimeout = nil }
        // Kea's keys without effect here: checked as Kea checks them.
        for key in [Key.maxReconnectTries, Key.reconnectWaitTime, Key.maxRowErrors] {
            _ = try integer(key, 0...Int(Int32.max), key == Key.reconnectWaitTime ? "milliseconds" : "a count")
        }
        if let onFail = try string(Key.onFail), !Key.onFailValues.contains(onFail) {
            throw fail("'on-fail' must be one of \(Key.onFailValues.map { "\"\($0)\"" }.joined(separator: ", ")), not \"\(onFail)\"")
        }
        switch map[Key.retryOnStartup] {
        case nil, .bool?: break
        case let other?: throw fail("'retry-on-startup' must be true or false, not \(other.kind)")
        }
        parameters.keysWithoutEffect = Key.withoutEffect.filter { map[$0] != nil }
        return parameters
    }

    /// The first line of `path`, which only its owner may change.
    private static func readPassword(_ path: String, fail: (String) -> ParameterError) throws(ParameterError) -> String {
        let bytes: [UInt8]
        do {
            var stamp: FileStamp? = nil
            bytes = try FileContents.read(path, secure: true, stamp: &stamp).bytes
        } catch {
            throw fail("'password-file' \(path) \(error.reason)")
        }
        let line = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        var text = String(decoding: line, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else { throw fail("'password-file' \(path) is empty") }
        return text
    }

    /// How logs and status name the database: `postgresql database 'lwm2m' on /run/postgresql`.
    public var label: String {
        "postgresql database '\(name)' on \(host)" + (port.map { ":\($0)" } ?? "")
    }

    /// The name a store read from the database carries (problems read
    /// `postgresql database 'lwm2m':3: bootstrap-uri: ...`): no folder, so
    /// the certificate names in it stay as written.
    public var storeLabel: String {
        "postgresql database '\(name.split(separator: "/").joined(separator: "_"))'"
    }

    /// The folder, relative to the cache file, of the certificates the cache
    /// file names (`lwm2m-cache.json.certs/<sha256>.der`); `certificates`
    /// without a cache file.
    public var certificateFolder: String {
        guard let cacheFile else { return "certificates" }
        return (cacheFile.split(separator: "/").last.map(String.init) ?? cacheFile) + ".certs"
    }

    /// libpq's connection keywords and values. `applicationName` shows in
    /// `pg_stat_activity` (so `kea-lwm2m db status` can list the servers).
    public func connectionKeywords(applicationName: String) -> [(String, String)] {
        var keywords: [(String, String)] = [("dbname", name), ("host", host)]
        if let port { keywords.append(("port", String(port))) }
        if let user { keywords.append(("user", user)) }
        if let password { keywords.append(("password", password)) }
        keywords.append(("connect_timeout", String(connectTimeout)))
        keywords.append(("application_name", applicationName))
        if let trustAnchor {
            keywords.append(("sslmode", "verify-full"))
            keywords.append(("sslrootcert", trustAnchor))
        }
        if let certFile { keywords.append(("sslcert", certFile)) }
        if let keyFile { keywords.append(("sslkey", keyFile)) }
        if let tcpUserTimeout { keywords.append(("tcp_user_timeout", String(tcpUserTimeout * 1000))) }
        // A dead peer is noticed within about a minute, not after hours.
        keywords.append(("keepalives", "1"))
        keywords.append(("keepalives_idle", "20"))
        keywords.append(("keepalives_interval", "5"))
        keywords.append(("keepalives_count", "4"))
        return keywords
    }
}

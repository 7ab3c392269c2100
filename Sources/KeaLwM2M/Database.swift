import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import LwM2MCore

/// `kea-lwm2m db`: the PostgreSQL store that every server with
/// `store-database` follows (docs/fleet.md).
struct Database: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Create, fill, read and inspect the PostgreSQL store (store-database).",
        discussion: """
            The connection is the store-database map of the hook's hooks-libraries entry in \
            --kea-config FILE, exactly as the hook reads it, or the direct options (--name, \
            --host, ...). libpq's environment (PGPASSWORD, PGSSLMODE, ...) applies as usual.
            """,
        subcommands: [Init.self, Import.self, Export.self, Status.self])

    /// Where the database is.
    struct Connection: ParsableArguments {
        @Option(name: .customLong("kea-config"),
                help: "A kea-dhcp4 or kea-dhcp6 configuration whose LwM2M hook has store-database.")
        var keaConfig: String?

        @Option(help: "Database name (store-database's 'name').")
        var name: String?

        @Option(help: "Host name, address, or unix-socket folder (default: localhost).")
        var host: String?

        @Option(help: "Port (default: 5432).")
        var port: Int?

        @Option(help: "User name.")
        var user: String?

        @Option(name: .customLong("password-file"), help: "A file whose first line is the password.")
        var passwordFile: String?

        @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for the connection (default: 5).")
        var connectTimeout: Int?

        @Option(name: .customLong("trust-anchor"), help: "CA file the server's certificate must chain to (TLS, verify-full).")
        var trustAnchor: String?

        @Option(name: .customLong("cert-file"), help: "Client certificate (TLS).")
        var certFile: String?

        @Option(name: .customLong("key-file"), help: "Client key (TLS).")
        var keyFile: String?

        func parameters() throws(ToolError) -> DatabaseParameters {
            let direct: [(String, String?)] = [
                ("name", name), ("host", host), ("user", user), ("password-file", passwordFile),
                ("trust-anchor", trustAnchor), ("cert-file", certFile), ("key-file", keyFile)]
            if let keaConfig {
                guard direct.allSatisfy({ $0.1 == nil }), port == nil, connectTimeout == nil else {
                    throw ToolError("give --kea-config or the connection options (--name, --host, ...), not both")
                }
                let config = try KeaConfig.load(path: keaConfig)
                guard let hook = config.hooks.first else {
                    throw ToolError("\(keaConfig): no hooks-libraries entry loads \(KeaConfig.hookFileName)")
                }
                guard let map = hook.parameters?[HookParameters.Key.storeDatabase] else {
                    throw ToolError("\(keaConfig): hooks-libraries[\(hook.index)] has no store-database")
                }
                do {
                    return try DatabaseParameters.parse(json: Array(map.json.utf8))
                } catch {
                    throw ToolError("\(keaConfig): hooks-libraries[\(hook.index)]: \(error.description)")
                }
            }
            guard name != nil else { throw ToolError("give --kea-config FILE or --name DATABASE") }
            var members = ["\"type\":\"postgresql\""]
            for (key, value) in direct { if let value { members.append("\(ConfigValue.quoted(key)):\(ConfigValue.quoted(value))") } }
            if let port { members.append("\"port\":\(port)") }
            if let connectTimeout { members.append("\"connect-timeout\":\(connectTimeout)") }
            do {
                return try DatabaseParameters.parse(json: Array("{\(members.joined(separator: ","))}".utf8),
                                                    parameter: "connection")
            } catch {
                throw ToolError(error.description)
            }
        }

        func connect() throws(ToolError) -> (DatabaseParameters, PostgresConnection) {
            let parameters = try parameters()
            do {
                let connection = try PostgresConnection.connect(
                    parameters.connectionKeywords(applicationName: "kea-lwm2m-cli"),
                    timeout: Double(parameters.connectTimeout))
                return (parameters, connection)
            } catch {
                throw ToolError("\(parameters.label): \(error.reason)")
            }
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the store's schema, or upgrade an older one.")

        @OptionGroup var connection: Connection

        func run() throws {
            let (parameters, database) = try connection.connect()
            do {
                let (found, now) = try StoreDatabase.initialize(database)
                switch found {
                case nil: print("\(parameters.label): schema version \(now) created")
                case let version? where version == now: print("\(parameters.label): schema version \(now), up to date")
                case let version?: print("\(parameters.label): schema upgraded from version \(version) to \(now)")
                }
            } catch {
                throw ToolError("\(parameters.label): \(error.reason)")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a store file as 'check' does and make it the database's store, in one transaction.",
            discussion: """
                An invalid store (or certificate file) changes nothing: its problems are printed \
                and the exit status is 1. A valid one replaces the store in one transaction: only \
                the entries that changed are written, the revision goes up by one, and every \
                server following the database is notified.
                """)

        @OptionGroup var connection: Connection

        @Argument(help: "The store file (store JSON; certificate paths relative to it).")
        var store: String

        func run() throws {
            _ = try Output.read(store)   // an unreadable STORE argument is a usage error
            let rows: StoreRows
            do {
                rows = try StoreRows.load(path: store)
            } catch {
                for problem in error.problems { print(problem.description) }
                print("FAILED: \(counted(error.problems.count, "problem", "problems")); the database was not changed")
                Report.exit(1)
            }
            let (parameters, database) = try connection.connect()
            do {
                let revision = try StoreDatabase.replace(database, with: rows)
                let entries = rows.entries.filter { $0.position != StoreRows.defaultPosition }.count
                print("\(parameters.label): revision \(revision): \(counted(entries, "entry", "entries"))"
                      + (rows.entries.count > entries ? " and a default" : "")
                      + ", \(counted(rows.certificates.count, "certificate", "certificates"))")
            } catch {
                throw ToolError("\(parameters.label): \(error.reason); the database was not changed")
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the database's store as a store file, with its certificates as DER files.",
            discussion: """
                Prints the store JSON, or writes it to --output FILE. Its certificates are written \
                as DER files named by their SHA-256 into a folder 'certificates' beside FILE (the \
                current folder without --output), which is what the JSON names: the result \
                passes 'kea-lwm2m check' and 'kea-lwm2m db import' as it is.
                """)

        @OptionGroup var connection: Connection

        @Option(name: .shortAndLong, help: "Write the store to this file instead of standard output.")
        var output: String?

        func run() throws {
            let (parameters, database) = try connection.connect()
            let fetched: (revision: Int64, rows: StoreRows?)
            do {
                fetched = try StoreDatabase.fetch(database, unless: nil)
            } catch {
                throw ToolError("\(parameters.label): \(error.reason)")
            }
            guard let rows = fetched.rows else { throw ToolError("\(parameters.label): no store") }
            let document = rows.document(certificateFolder: "certificates",
                                         comment: "revision \(fetched.revision) of \(parameters.label)")
            let folder = output.map { ToolSupport.resolve("certificates", besides: $0) } ?? "certificates"
            do {
                if !rows.certificates.isEmpty {
                    if mkdir(folder, 0o755) != 0 && errno != EEXIST {
                        throw ToolError("cannot create \(folder): \(String(cString: strerror(errno)))")
                    }
                    for (sha, der) in rows.certificates {
                        try ToolSupport.writeFile(folder + "/" + sha + ".der", der)
                    }
                }
                if let output {
                    try ToolSupport.writeFile(output, document)
                    Output.error("\(output): revision \(fetched.revision), \(counted(rows.entries.count, "row", "rows")), "
                                 + "\(counted(rows.certificates.count, "certificate", "certificates")) in \(folder)/")
                } else {
                    document.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
                }
            } catch let error as ToolFileError {
                throw ToolError(error.description)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the store's revision, its counts and the servers following it.")

        @OptionGroup var connection: Connection

        func run() throws {
            let (parameters, database) = try connection.connect()
            let status: StoreDatabase.Status
            do {
                status = try StoreDatabase.status(database)
            } catch {
                throw ToolError("\(parameters.label): \(error.reason)")
            }
            print("\(parameters.label): schema version \(status.schemaVersion)")
            print("revision \(status.revision), changed \(status.changedAt)")
            print("\(counted(status.entries, "row", "rows")) (entries and default), \(counted(status.certificates, "certificate", "certificates"))")
            print("\(counted(status.followers.count, "server follows", "servers follow")) it:")
            for follower in status.followers {
                print("  \(follower.name) from \(follower.address.isEmpty ? "the unix socket" : follower.address) since \(follower.since)")
            }
        }
    }
}

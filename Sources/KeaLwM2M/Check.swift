import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import LwM2MCore

/// `kea-lwm2m check`: validates a store, or a whole Kea configuration with
/// the store it names, exactly as the hook's load() does.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a store file (and a Kea configuration) as the hook's load() does.",
        discussion: """
            Prints one 'file:N: key: reason' line per problem, as the hook logs them. \
            Exit status 0 when the store (and configuration) would load, 1 when not, 2 when a \
            file given on the command line cannot be read. With --kea-config, reads the \
            kea-dhcp4 or kea-dhcp6 configuration, validates the hook's parameters against \
            the option codes of the Kea version it is checked for and the file's option-def \
            entries, loads the store it names (or STORE, when given), and warns about store \
            entries that match no subnet of the configuration, subnets that get no options, \
            and keys that Kea version does not accept, has deprecated or refuses together. \
            The Kea version is --kea-version, else what the configuration shows (the hook \
            loaded from a kea-X.Y folder, keys only some versions accept), else the installed \
            kea-dhcp4/kea-dhcp6, else the newest (3.0); one line says which and why.
            """)

    @Argument(help: "The store file. With --kea-config, checked instead of the configuration's store-file.")
    var store: String?

    @Option(help: "Check for this server family only (4 or 6); default both.")
    var family: FamilyArgument?

    @Option(name: .customLong("kea-config"), help: "A kea-dhcp4 or kea-dhcp6 configuration file to check with the store.")
    var keaConfig: String?

    @Option(name: .customLong("kea-version"),
            help: "The Kea version the configuration is for (2.2, 2.6 or 3.0); default: inferred.")
    var keaVersion: KeaVersion?

    @Flag(help: "Treat warnings as problems (exit status 1).")
    var strict = false

    func run() throws {
        var report = Report()
        if let keaConfig {
            try checkConfiguration(keaConfig, report: &report)
        } else {
            guard let store else { throw ToolError("give a STORE file, or --kea-config FILE") }
            _ = try Output.read(store)   // an unreadable STORE argument is a usage error
            let families = family.map { [$0.family] } ?? [.v4, .v6]
            if let loaded = checkStore(store, report: &report) {
                for family in families {
                    let parameters = try defaultParameters(store: store, family: family)
                    summarize(Snapshot(store: loaded, parameters: parameters, family: family),
                              explicitFamily: self.family != nil, report: &report)
                }
            }
        }
        report.finish(strict: strict)
    }

    /// Loads a store as the hook does; problems go to the report.
    private func checkStore(_ path: String, report: inout Report) -> Store? {
        do {
            let store = try Store.load(path: path)
            report.info("\(path): OK, \(counted(store.entries.count, "entry", "entries"))")
            return store
        } catch {
            for problem in error.problems { report.problem(problem.description) }
            return nil
        }
    }

    private func defaultParameters(store: String, family: AddressFamily) throws(ToolError) -> HookParameters {
        do {
            return try HookParameters.parse(json: Array("{\"store-file\":\(ConfigValue.quoted(store))}".utf8),
                                            family: family,
                                            keaDefinedCodes: Set(KeaStandardOptions.codes(for: family, version: keaVersion ?? .newest).keys))
        } catch {
            throw ToolError("internal: default parameters rejected: \(error)")
        }
    }

    /// What a server of the snapshot's family would serve, and the hook's warnings.
    private func summarize(_ snapshot: Snapshot, explicitFamily: Bool, report: inout Report) {
        let family = snapshot.family
        // Raw public keys fill the certificate option too; counted apart when there are any.
        let keys = Set(snapshot.store.allEntries.filter { $0.applies(to: family) }.compactMap(\.certificate)
            .filter { $0.encoding == .rawPublicKey }.map(\.der)).count
        let served = counted(snapshot.certificateCount - keys, "certificate", "certificates")
            + (keys > 0 ? ", \(counted(keys, "raw public key", "raw public keys"))" : "")
        report.info("\(snapshot.store.path): \(family): \(counted(snapshot.entryCount, "entry", "entries")), "
                    + "\(served); option codes "
                    + "\(snapshot.parameters.bootstrapURICode) (URI), \(snapshot.parameters.serverCertificateCode) (certificate)")
        for position in snapshot.entriesWithOversizedCertificates {
            report.warning("\(snapshot.store.path):\(position): warning: the certificate cannot fit any DHCPv4 reply (even 1500 octets); devices get the URI only")
        }
        if explicitFamily {
            for entry in snapshot.store.entries where !entry.applies(to: family) {
                report.info("\(snapshot.store.path):\(entry.index + 1): \(entry.selector): note: not a \(family) subnet; ignored by this server")
            }
        }
    }

    private func checkConfiguration(_ path: String, report: inout Report) throws {
        if let store { _ = try Output.read(store) }
        let config: KeaConfig
        do {
            config = try KeaConfig.load(path: path)
        } catch {
            // A file that is not a Kea configuration is what was checked: status 1.
            _ = try Output.read(path)
            report.problem(error.message)
            return
        }
        if let family, family.family != config.family {
            throw ToolError("\(path) configures \(config.family) but --family \(family.family.rawValue) was given")
        }
        report.info("\(path): \(config.family) server configuration, \(counted(config.subnets.count, "subnet", "subnets"))")
        let keys = ConfigKeyCheck(server: config.server, family: config.family)
        let choice = KeaVersionChoice.choose(given: keaVersion, config: config, keys: keys) {
            InstalledKea.find(family: config.family)
        }
        let version = choice.version
        report.info("\(path): checked for Kea \(version.rawValue): \(choice.reason)")
        for line in keys.warnings(for: version) { report.warning("\(path): \(line)") }
        let standard = KeaStandardOptions.standard(for: config.family, version: version)
        let standardNames = Dictionary(standard.map { ($0.value, $0.key) }) { first, _ in first }
        for definition in config.optionDefinitions {
            let location = "\(path): \(config.family == .v4 ? "Dhcp4" : "Dhcp6").option-def[\(definition.index)]"
            if let owner = standard[definition.code] {
                report.warning("\(location): warning: code \(definition.code) is Kea \(version.rawValue)'s standard option "
                               + "'\(owner)'; Kea \(version.rawValue) refuses to redefine it")
            } else if let code = standardNames[definition.name] {
                report.warning("\(location): warning: name '\(definition.name)' is Kea \(version.rawValue)'s standard option "
                               + "\(code); Kea \(version.rawValue) refuses to redefine it")
            }
        }
        guard let hook = config.hooks.first else {
            report.problem("\(path): no hooks-libraries entry loads \(KeaConfig.hookFileName)")
            return
        }
        if config.hooks.count > 1 {
            report.problem("\(path): hooks-libraries loads \(KeaConfig.hookFileName) \(config.hooks.count) times; load it once")
        }
        let where_ = "\(path): hooks-libraries[\(hook.index)]"
        var defined = KeaStandardOptions.codes(for: config.family, version: version)
        for definition in config.optionDefinitions { defined[definition.code] = "option-def '\(definition.name)' of this file" }
        let parameters: HookParameters
        do {
            parameters = try HookParameters.parse(json: Array((hook.parameters?.json ?? "").utf8),
                                                  family: config.family, keaDefinedCodes: Set(defined.keys))
        } catch {
            var line = "\(where_): \(error.description)"
            if let code = collidingCode(error, hook: hook, family: config.family), let owner = defined[code] {
                line += " (code \(code) is \(owner.hasPrefix("option-def") ? owner : "Kea's standard option '\(owner)'"))"
            }
            report.problem(line)
            return
        }
        if let database = parameters.storeDatabase {
            report.info("\(where_): parameters OK: store-database \(database.label), option codes "
                        + "\(parameters.bootstrapURICode) (URI), \(parameters.serverCertificateCode) (certificate)")
            if !database.keysWithoutEffect.isEmpty {
                report.info("\(where_): store-database: \(database.keysWithoutEffect.map { "'\($0)'" }.joined(separator: ", ")) "
                            + "(Kea's lease-database keys) have no effect on the store: the hook retries a lost database "
                            + "for as long as it runs and serves the last good store meanwhile")
            }
            // The store is in the database ('kea-lwm2m db status'); a STORE
            // given, else the cache file when there is one, is checked here.
            guard let storePath = store ?? database.cacheFile.flatMap({ access($0, F_OK) == 0 ? $0 : nil }) else {
                report.info("\(where_): the store is in the database: 'kea-lwm2m db status --kea-config \(path)' shows it")
                return
            }
            guard let loaded = checkStore(storePath, report: &report) else { return }
            summarize(Snapshot(store: loaded, parameters: parameters, family: config.family), explicitFamily: false, report: &report)
            for line in ConfigCrossReference(config: config).warnings(for: loaded) { report.warning(line) }
            return
        }
        report.info("\(where_): parameters OK: store-file \(parameters.storeFile), option codes "
                    + "\(parameters.bootstrapURICode) (URI), \(parameters.serverCertificateCode) (certificate)")
        let storePath = store ?? parameters.storeFile
        guard let loaded = checkStore(storePath, report: &report) else { return }
        summarize(Snapshot(store: loaded, parameters: parameters, family: config.family), explicitFamily: false, report: &report)
        for line in ConfigCrossReference(config: config).warnings(for: loaded) { report.warning(line) }
    }

    /// The code a collision error is about, to name who defines it.
    private func collidingCode(_ error: ParameterError, hook: KeaConfig.HookEntry, family: AddressFamily) -> UInt16? {
        guard let parameter = error.parameter, error.reason.contains("already defined") else { return nil }
        if let explicit = hook.parameters?[parameter]?.integer { return UInt16(exactly: explicit) }
        let defaults = HookParameters.defaultCodes(for: family)
        return parameter == HookParameters.Key.bootstrapURICode ? defaults.uri : defaults.certificate
    }
}

/// Collects a check's output; problems and warnings are printed as found.
struct Report {
    private(set) var problems = 0
    private(set) var warnings = 0

    mutating func problem(_ line: String) { problems += 1; print(line) }
    mutating func warning(_ line: String) { warnings += 1; print(line) }
    func info(_ line: String) { print(line) }

    /// Exits 1 when there were problems (or warnings, when strict).
    func finish(strict: Bool) {
        if problems > 0 || (strict && warnings > 0) {
            print("FAILED: \(counted(problems, "problem", "problems")), \(counted(warnings, "warning", "warnings"))")
            Self.exit(1)
        }
        print("OK" + (warnings > 0 ? " (\(counted(warnings, "warning", "warnings")))" : ""))
    }

    static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }
}

/// "1 entry", "2 entries".
func counted(_ count: Int, _ one: String, _ many: String) -> String {
    "\(count) \(count == 1 ? one : many)"
}

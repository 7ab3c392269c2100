import LwM2MCore

/// Which Kea series `check --kea-config` checks a configuration for, and
/// why. In order:
///
/// 1. `--kea-version`;
/// 2. the configuration: our hook loaded from a versioned folder
///    (`.../kea-3.0/libdhcp_lwm2m.so`, as `make build KEA=3.0` lays it out),
///    else keys that only some series accept (`KeaConfigKeys`); when the
///    keys leave more than one series, the installed one if it is among
///    them, else the newest of them;
/// 3. the installed Kea (`kea-dhcp4`/`kea-dhcp6 -v` from PATH, else
///    /usr/include/kea/hooks/hooks.h);
/// 4. the newest supported series.
struct KeaVersionChoice {
    let version: KeaVersion
    /// Why, as a phrase: "given by --kea-version".
    let reason: String

    static func choose(given: KeaVersion?, config: KeaConfig, keys: ConfigKeyCheck,
                       installed: () -> InstalledKea?) -> KeaVersionChoice {
        if let given { return KeaVersionChoice(version: given, reason: "given by --kea-version") }
        if let hook = config.hooks.first, let version = versionFolder(of: hook.library) {
            return KeaVersionChoice(version: version, reason: "the hook is loaded from \(hook.library)")
        }
        if let evidence = keys.evidence() {
            let (versions, because) = (evidence.versions, evidence.because)
            let first = because[0]
            var why = "\(first.location) has '\(first.key)'"
            if let rule = KeaConfigKeys.rule(first.scope, first.key, family: config.family) {
                why += " (\(rule.accepted.text) only)"
            }
            if because.count > 1 { why += " and \(counted(because.count - 1, "other key", "other keys")) of some series only" }
            if versions.count == 1, let only = versions.first {
                return KeaVersionChoice(version: only, reason: why)
            }
            if let found = installed(), let version = KeaVersion(versionText: found.version), versions.contains(version) {
                return KeaVersionChoice(version: version, reason: "\(why); \(found.source) is \(found.version)")
            }
            let newest = versions.max() ?? KeaVersion.newest
            return KeaVersionChoice(version: newest, reason: "\(why); the newest of \(list(versions))")
        }
        if let found = installed() {
            if let version = KeaVersion(versionText: found.version) {
                return KeaVersionChoice(version: version, reason: "\(found.source) is \(found.version)")
            }
            return KeaVersionChoice(version: .newest, reason: "the newest supported series; \(found.source) is "
                                    + "\(found.version), which is not one (\(list(Set(KeaVersion.allCases))))")
        }
        return KeaVersionChoice(version: .newest, reason: "the newest supported series: no --kea-version, nothing "
                                + "version-specific in the configuration, no Kea installed")
    }

    /// The series of a `kea-X.Y` folder in a library path.
    static func versionFolder(of library: String) -> KeaVersion? {
        for folder in library.split(separator: "/").dropLast().reversed() where folder.hasPrefix("kea-") {
            if let version = KeaVersion(versionText: String(folder.dropFirst(4))) { return version }
        }
        return nil
    }

    private static func list(_ versions: Set<KeaVersion>) -> String {
        versions.sorted().map(\.rawValue).joined(separator: ", ")
    }
}

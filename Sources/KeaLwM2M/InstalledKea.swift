#if canImport(Glibc)
import Glibc
#endif
import LwM2MCore

/// The Kea installed on this machine, for `check --kea-config` when neither
/// the command line nor the configuration says which Kea will read it.
struct InstalledKea {
    /// The version text as Kea prints it ("2.6.3").
    let version: String
    /// What told: "the installed kea-dhcp4", "/usr/include/kea/hooks/hooks.h".
    let source: String

    static let hooksHeader = "/usr/include/kea/hooks/hooks.h"

    /// `kea-dhcp4` / `kea-dhcp6` on PATH (the family's own first), else
    /// Kea's hooks header.
    static func find(family: AddressFamily) -> InstalledKea? {
        let names = family == .v4 ? ["kea-dhcp4", "kea-dhcp6"] : ["kea-dhcp6", "kea-dhcp4"]
        for name in names {
            if let path = onPath(name), let version = versionOutput(path) {
                return InstalledKea(version: version, source: "the installed \(name) (\(path))")
            }
        }
        if let version = headerVersion(hooksHeader) {
            return InstalledKea(version: version, source: hooksHeader)
        }
        return nil
    }

    /// The first executable `name` in the folders of PATH.
    static func onPath(_ name: String) -> String? {
        guard let path = getenv("PATH").map({ String(cString: $0) }) else { return nil }
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// What `program -v` prints on its first line ("2.2.0"), nil when it
    /// does not run or prints something else.
    static func versionOutput(_ program: String) -> String? {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return nil }
        defer { close(pipeEnds[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let arguments = [program, "-v"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawn(&pid, program, &actions, nil, &argv, environ)
        close(pipeEnds[1])
        guard spawned == 0 else { return nil }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while output.count < 4096 {
            let count = buffer.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
            if count > 0 { output += buffer[0..<count] } else if count < 0 && errno == EINTR { continue } else { break }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let line = String(decoding: output, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        let trimmed = line.trimmingWhitespace
        return looksLikeVersion(trimmed) ? trimmed : nil
    }

    /// `KEA_HOOKS_VERSION` of the hooks header: 20603 is "2.6.3".
    static func headerVersion(_ path: String) -> String? {
        guard let bytes = try? ToolSupport.readFile(path) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("const int KEA_HOOKS_VERSION = ") {
            let digits = line.dropFirst("const int KEA_HOOKS_VERSION = ".count).prefix { $0.isNumber }
            guard let number = Int(digits), number > 0 else { return nil }
            return "\(number / 10000).\(number / 100 % 100).\(number % 100)"
        }
        return nil
    }

    static func looksLikeVersion(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count >= 2 && parts.count <= 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 6 }
            && parts.prefix(2).allSatisfy { $0.allSatisfy(\.isNumber) }
    }
}

private extension String {
    var trimmingWhitespace: String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}

import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `kea-lwm2m`: the operator's tools for the kea-lwm2m hook, on the same core
/// library as the hook (parsing, validation, encoding).
///
/// Exit status: 0 success, 1 the checked thing has problems, 2 the command
/// could not do its work (bad argument, missing file, unreadable capture).
@main
struct KeaLwM2M: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kea-lwm2m",
        abstract: "Check, encode, decode and explain the LwM2M bootstrap options of the kea-lwm2m Kea hook.",
        discussion: """
            Exit status: 0 on success, 1 when a checked store or configuration has \
            problems, 2 when the command could not run (bad argument, unreadable file, \
            malformed capture).
            """,
        version: Version.string,
        subcommands: [Check.self, Encode.self, Decode.self, Explain.self, Database.self]
    )

    /// Runs the command; every failure is one line on standard error.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            finish(error)
        }
        do {
            var runnable = command
            try runnable.run()
        } catch {
            finish(error)
        }
        Glibc.exit(0)
    }

    /// Exits for `error`: help, version and completion scripts on standard
    /// output with status 0; an explicit exit code as is; anything else as
    /// one line on standard error with status 2.
    private static func finish(_ error: any Error) -> Never {
        if let failure = error as? ToolError {
            Output.error(failure.message)
            Glibc.exit(2)
        }
        if let code = error as? ExitCode {
            Glibc.exit(code.rawValue)
        }
        let code = exitCode(for: error)
        if code == .success {
            print(fullMessage(for: error))
            Glibc.exit(0)
        }
        let message = message(for: error)
            .split(separator: "\n", omittingEmptySubsequences: true)
            .first.map(String.init) ?? "invalid arguments"
        let cleaned = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
        Output.error("\(cleaned) (see 'kea-lwm2m help')")
        Glibc.exit(2)
    }
}

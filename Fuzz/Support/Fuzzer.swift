import CFuzzDriver
#if canImport(Glibc)
import Glibc
#endif

/// The main of every fuzz target.
public enum Fuzzer {
    /// Runs libFuzzer with the command line (flags, corpus folders, or input
    /// files to run once), calling `test` for every input; exits with its status.
    public static func main(_ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv, test)
        exit(status)
    }
}

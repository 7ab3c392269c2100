/// The release, kept equal to the VERSION file at the top of the source
/// tree (the package, `make deb` and the CLI tests read it there).
enum Version {
    static let string = "0.1.0"
}

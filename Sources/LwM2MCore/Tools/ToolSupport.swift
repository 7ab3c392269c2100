/// Public entry points for the `kea-lwm2m` command, so that it reads files
/// and addresses exactly as the hook does instead of with a second
/// implementation. Nothing here is used by the hook itself.
public enum ToolSupport {
    /// Reads a whole file as the store loader does (same size limit, same
    /// reasons: "cannot open: No such file or directory", ...).
    public static func readFile(_ path: String) throws(ToolFileError) -> [UInt8] {
        do {
            return try FileContents.read(path)
        } catch {
            throw ToolFileError(path: path, reason: error.reason)
        }
    }

    /// Writes a whole file atomically (a temporary file beside it, renamed),
    /// mode 0644.
    public static func writeFile(_ path: String, _ bytes: [UInt8]) throws(ToolFileError) {
        do {
            try CacheFile.writeAtomically(bytes, to: path, mode: 0o644)
        } catch {
            throw ToolFileError(path: path, reason: error.reason)
        }
    }

    /// `relative` resolved against the folder of `file`, as the store resolves
    /// its certificate paths.
    public static func resolve(_ relative: String, besides file: String) -> String {
        FileContents.resolve(relative, besides: file)
    }

    /// The octets of an IPv4 or IPv6 address in text form, nil when `text` is
    /// not an address of `family`.
    public static func addressBytes(_ text: String, family: AddressFamily) -> [UInt8]? {
        SubnetPrefix.parseAddress(text, family: family)
    }

    /// The text form of an address of `family` (4 or 16 octets).
    public static func addressText(_ bytes: [UInt8], family: AddressFamily) -> String {
        SubnetPrefix.format(bytes, family: family)
    }

    /// Whether `address` (octets of the prefix's family) lies in `prefix`.
    public static func prefix(_ prefix: SubnetPrefix, contains address: [UInt8]) -> Bool {
        address.count == prefix.family.addressLength
            && SubnetPrefix.masked(address, length: Int(prefix.length)) == prefix.address
    }
}

/// A file the command could not read.
public struct ToolFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

#if canImport(Glibc)
import Glibc
#endif

/// Refuses store and certificate files that anyone but their owner can
/// change. Whoever can write the store, or a certificate it names, can send
/// every device that bootstraps through this server to a bootstrap server of
/// their choice; so can whoever can replace the file in its folder.
enum FileSecurity {
    /// Checks the opened file (`status` from fstat) and the folder holding
    /// `path`. Returns the reason to refuse, nil when the file is safe.
    static func problem(path: String, status: stat) -> String? {
        let mode = UInt32(status.st_mode)
        if mode & 0o022 != 0 {
            return "is writable by \(writers(mode)) (mode \(octal(mode & 0o7777))): whoever can write it "
                + "can send every device to a rogue bootstrap server; allow writing to its owner only "
                + "(chmod go-w)"
        }
        let folder = Self.folder(of: path)
        var folderStatus = stat()
        guard stat(folder, &folderStatus) == 0 else { return nil }   // open() worked: the folder exists
        let folderMode = UInt32(folderStatus.st_mode)
        if folderMode & 0o022 != 0 && folderMode & UInt32(S_ISVTX) == 0 {
            return "is in folder \(folder), which is writable by \(writers(folderMode)) without the sticky bit "
                + "(mode \(octal(folderMode & 0o7777))): whoever can write there can replace the file and send "
                + "every device to a rogue bootstrap server; allow writing to the folder's owner only (chmod go-w)"
        }
        return nil
    }

    /// Who besides the owner may write, for a mode with group or other write bits.
    private static func writers(_ mode: UInt32) -> String {
        switch (mode & 0o020 != 0, mode & 0o002 != 0) {
        case (true, true): "its group and every other user"
        case (true, false): "its group"
        default: "every user"
        }
    }

    private static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }
}

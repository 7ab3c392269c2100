#if canImport(Glibc)
import Glibc
#endif

/// The `cache-file` of a database store: the last store the hook served from
/// the database, written as an ordinary store file that `store-file` (and
/// `kea-lwm2m check`) can read, with its certificates as DER files in a
/// folder beside it (`<cache-file>.certs/<sha256>.der`). Files are written
/// to a temporary name and renamed, so a reader sees the old or the new
/// version, never half of one; certificates first, then the store, then
/// certificates no longer named are removed.
public enum CacheFile {
    static func write(_ document: [UInt8], certificates: [String: [UInt8]], to path: String,
                      folder: String) throws(FileError) {
        let certificateFolder = FileSecurity.folder(of: path) + "/" + folder
        if mkdir(certificateFolder, 0o750) != 0 && errno != EEXIST {
            throw FileError(reason: "cannot create \(certificateFolder): \(String(cString: strerror(errno)))")
        }
        for (sha, der) in certificates {
            let file = certificateFolder + "/" + sha + ".der"
            var status = stat()
            if stat(file, &status) == 0 && Int(status.st_size) == der.count { continue }
            try writeAtomically(der, to: file)
        }
        try writeAtomically(document, to: path)
        if let directory = opendir(certificateFolder) {
            defer { closedir(directory) }
            var stale: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard name.hasSuffix(".der") else { continue }
                if certificates[String(name.dropLast(4))] == nil { stale.append(name) }
            }
            for name in stale { unlink(certificateFolder + "/" + name) }
        }
    }

    /// Writes `bytes` to a temporary file beside `path` (mode 0640), syncs
    /// it and renames it over `path`.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o640) throws(FileError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(reason: "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw FileError(reason: "cannot write \(temporary): \(reason)")
            }
            written += count
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileError(reason: "cannot replace \(path): \(reason)")
        }
    }

    /// The revision a cache file says it holds (its `comment`), if any.
    static func revision(of path: String) -> Int64? {
        guard let bytes = try? FileContents.read(path) else { return nil }
        let head = String(decoding: bytes.prefix(512), as: UTF8.self)
        guard let range = head.firstRange(of: "\"revision ") else { return nil }
        return Int64(head[range.upperBound...].prefix(while: { $0.isNumber }))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole files with the operating system's own reason on failure.
enum FileContents {
    /// Files larger than this are refused: a store or certificate that big is a mistake.
    static let maxSize = 256 * 1024 * 1024

    static func read(_ path: String) throws(FileError) -> [UInt8] {
        var stamp: FileStamp? = nil
        return try read(path, secure: false, stamp: &stamp).bytes
    }

    /// Reads `path` and returns its bytes with the stamp of the file read
    /// (from the open descriptor, so it is the file whose bytes these are).
    /// With `secure`, a file or folder others can write is refused
    /// (`FileSecurity`). `stamp` is set as soon as the file is open, also
    /// when reading then fails.
    ///
    /// The stamp returned is taken again once the bytes are read: a writer
    /// that truncated or rewrote the file in between leaves a stamp modified
    /// just now (racy, so read again at the next poll), never the older stamp
    /// of a file whose bytes were not the ones read. `beforeReading` runs
    /// between the first stamp and the read; tests use it to play that writer.
    static func read(_ path: String, secure: Bool, stamp: inout FileStamp?,
                     beforeReading: () -> Void = {})
        throws(FileError) -> (bytes: [UInt8], stamp: FileStamp) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileError(reason: "cannot open: \(lastErrorText())") }
        defer { close(descriptor) }
        let status = try fileStatus(of: descriptor)
        stamp = FileStamp(status)
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw FileError(reason: "is not a regular file") }
        if secure, let problem = FileSecurity.problem(path: path, status: status) {
            throw FileError(reason: problem)
        }
        guard status.st_size <= maxSize else { throw FileError(reason: "is larger than \(maxSize) octets") }
        beforeReading()
        var bytes = [UInt8]()
        bytes.reserveCapacity(Int(status.st_size))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError(reason: "cannot read: \(lastErrorText())")
            }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= maxSize else { throw FileError(reason: "is larger than \(maxSize) octets") }
        }
        let asRead = FileStamp(try fileStatus(of: descriptor))
        stamp = asRead
        return (bytes, asRead)
    }

    private static func fileStatus(of descriptor: Int32) throws(FileError) -> stat {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw FileError(reason: "cannot stat: \(lastErrorText())") }
        return status
    }

    /// `relative` resolved against the folder of `file`; absolute paths stay as they are.
    static func resolve(_ relative: String, besides file: String) -> String {
        if relative.hasPrefix("/") { return relative }
        guard let slash = file.lastIndex(of: "/") else { return relative }
        return String(file[...slash]) + relative
    }

    private static func lastErrorText() -> String {
        guard let text = strerror(errno) else { return "error \(errno)" }
        return String(cString: text)
    }
}

/// A file that could not be read.
struct FileError: Error, Sendable {
    var reason: String
}

import Crypto

/// A store that loaded, with what `lwm2m-status` reports about it.
public struct LoadedStore: Sendable {
    public let store: Store
    /// SHA-256 of the store file's bytes, lower-case hex.
    public let sha256: String
}

/// One attempt to load the store: its outcome and every file it looked at,
/// with the stamp each had, so a poll can tell when to try again.
public struct StoreAttempt: Sendable {
    public let result: Result<LoadedStore, StoreError>
    public let files: WatchedFiles
    /// The store file's stamp when it was read (nil: it could not be opened).
    public let storeStamp: FileStamp?
}

/// Loads the store the way the hook serves it: the store and every
/// certificate file must be safe from writers other than their owner
/// (`FileSecurity`), and each file's stamp is taken from the descriptor
/// its bytes were read from, once they are read: a write that lands after
/// the read shows as a change at the next poll, and one that lands during
/// it leaves a racy stamp, so the next poll reads again.
public enum StoreLoader {
    public static func load(path: String) -> StoreAttempt {
        var files = WatchedFiles()
        let readAt = WatchedFiles.now()
        var storeStamp: FileStamp? = nil
        let bytes: [UInt8]
        do {
            bytes = try FileContents.read(path, secure: true, stamp: &storeStamp).bytes
        } catch {
            files.record(path, storeStamp ?? FileStamp.of(path), readAt: readAt)
            let problem = StoreProblem(file: path, entry: nil, key: nil, reason: error.reason)
            return StoreAttempt(result: .failure(StoreError(problems: [problem])), files: files, storeStamp: storeStamp)
        }
        files.record(path, storeStamp, readAt: readAt)
        var certificateStamps: [String: FileStamp?] = [:]
        let result: Result<LoadedStore, StoreError>
        do {
            let store = try Store.parse(bytes, path: path, readFile: { file throws(FileError) in
                var stamp: FileStamp? = nil
                defer { certificateStamps[file] = .some(stamp ?? FileStamp.of(file)) }
                return try FileContents.read(file, secure: true, stamp: &stamp).bytes
            })
            result = .success(LoadedStore(store: store, sha256: hex(SHA256.hash(data: bytes))))
        } catch {
            result = .failure(error)
        }
        for (file, stamp) in certificateStamps { files.record(file, stamp, readAt: readAt) }
        return StoreAttempt(result: result, files: files, storeStamp: storeStamp)
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}

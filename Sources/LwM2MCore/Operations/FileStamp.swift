#if canImport(Glibc)
import Glibc
#endif

/// The identity and version of a file as `stat` reports it. Two equal stamps
/// mean "the same file, unchanged": a rename gives another inode, an in-place
/// write another size or mtime, a chmod/chown another ctime.
public struct FileStamp: Sendable, Equatable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modifiedNanoseconds: Int64
    public var changedNanoseconds: Int64
    /// Mode and owner: a chmod/chown right after a write may leave ctime
    /// unchanged (the kernel's clock for it is coarse), these never.
    public var mode: UInt32
    public var owner: UInt32
    public var group: UInt32

    init(_ status: stat) {
        device = UInt64(truncatingIfNeeded: status.st_dev)
        inode = UInt64(truncatingIfNeeded: status.st_ino)
        size = Int64(truncatingIfNeeded: status.st_size)
        modifiedNanoseconds = Self.nanoseconds(status.st_mtim)
        changedNanoseconds = Self.nanoseconds(status.st_ctim)
        mode = UInt32(status.st_mode)
        owner = UInt32(status.st_uid)
        group = UInt32(status.st_gid)
    }

    /// The stamp of the file at `path` now, nil when it cannot be stat'ed
    /// (deleted, a folder on the way missing, ...).
    public static func of(_ path: String) -> FileStamp? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return FileStamp(status)
    }

    private static func nanoseconds(_ time: timespec) -> Int64 {
        let (seconds, overflow) = Int64(time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64(time.tv_sec) : seconds &+ Int64(time.tv_nsec)
    }
}

/// The files one load attempt looked at (store and certificates) with the
/// stamp each had then, nil for a file that could not be stat'ed. A poll
/// reloads only when one of them changed.
///
/// Timestamps come from a coarse kernel clock (a few milliseconds), so two
/// writes of the same size within one tick of it leave equal stamps. A file
/// changed less than `racyWindow` before it was read is therefore "racy":
/// the next poll reads everything again, and a store equal to the one served
/// is then taken as no change.
///
/// "Before it was read" is measured from the moment the attempt started
/// reading (`readAt`), never from when the stamp is recorded: a reload thread
/// that runs at low priority on a busy machine may record a stamp seconds
/// after its read, and a file truncated just before that read must still
/// count as racy.
public struct WatchedFiles: Sendable, Equatable {
    public private(set) var stamps: [String: FileStamp?] = [:]
    /// Some file was modified too shortly before it was read to trust its stamp.
    public private(set) var racy = false
    /// When the attempt that recorded these stamps started reading
    /// (`WatchedFiles.now()`); 0 before any.
    public private(set) var readAt: Int64 = 0

    static let racyWindowNanoseconds: Int64 = 2_000_000_000

    /// How long after the read before it a re-read must start to take equal
    /// stamps as "the writer is done": the racy window. Two reads closer
    /// together (ticks that bunch up behind a busy main loop, a pickup right
    /// after a slow read) may both fall within one pause of a writer that
    /// truncated the file, and a writer's `write` can be held back for a
    /// second while the kernel flushes other processes' dirty pages (seen
    /// with builds writing beside a Kea test).
    static let settleNanoseconds: Int64 = racyWindowNanoseconds

    public init() {}

    /// Records `stamp` for `path`, read by an attempt that started reading at
    /// `readAt` (`WatchedFiles.now()`, taken before its first read). A file
    /// modified after `readAt`, or less than the racy window before it, is racy.
    mutating func record(_ path: String, _ stamp: FileStamp?, readAt: Int64) {
        stamps[path] = .some(stamp)
        self.readAt = readAt
        if let stamp, readAt &- max(stamp.modifiedNanoseconds, stamp.changedNanoseconds) < Self.racyWindowNanoseconds {
            racy = true
        }
    }

    /// Asks the next poll to read these files again, as if one were racy.
    mutating func awaitReRead() {
        racy = true
    }

    /// The wall clock in nanoseconds, the clock file timestamps are taken from.
    static func now() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) &* 1_000_000_000 &+ Int64(now.tv_nsec)
    }

    /// Whether any watched file differs from its recorded stamp now. Costs one
    /// `stat` per file.
    public func changed() -> Bool {
        stamps.contains { path, stamp in FileStamp.of(path) != stamp }
    }

    /// Whether `reRead`, a later attempt, found these files as they were, and
    /// started long enough after this attempt to say the writer is done.
    func settled(by reRead: WatchedFiles) -> Bool {
        reRead.stamps == stamps && reRead.readAt &- readAt >= Self.settleNanoseconds
    }

    /// The paths watched, sorted.
    public var paths: [String] { stamps.keys.sorted() }
}

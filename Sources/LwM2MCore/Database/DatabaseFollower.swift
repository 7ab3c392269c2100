import Crypto
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Follows the store in PostgreSQL on a thread of its own: connects (never
/// longer than `connect-timeout` per attempt), `LISTEN`s on the store's
/// channel, and on each notification fetches the store if its revision
/// moved, validates and encodes it with the code a file reload uses, and
/// hands the prepared snapshot to the service, which publishes it in one
/// step. Packets and Kea's main thread never wait for it: every wait is a
/// poll() on the connection's socket and on two event descriptors, one that
/// `stop()` (unload) makes readable and one that `lwm2m-reload` does.
///
/// When the connection breaks it reports once, reconnects with backoff
/// (0.5 s doubling to 30 s), reports once when it is back, and fetches what
/// changed meanwhile. Without a notification it still compares the revision
/// every 30 s, which also finds a dead TCP connection.
final class DatabaseFollower: @unchecked Sendable {
    /// A store fetched from the database, validated and encoded.
    struct Prepared: Sendable {
        let loaded: LoadedStore
        let snapshot: Snapshot
        let certificates: [ServedCertificate]
        /// Seconds from the notification's fetch to the prepared snapshot.
        let seconds: Double
        /// CPU seconds the follower thread spent on it (the rest: waiting
        /// for the database, or for a CPU on a busy machine).
        let cpuSeconds: Double
        /// Rows read and checked for it: nil when the whole store was read,
        /// else the rows written and removed since the revision held.
        let rowsRead: Int?
    }

    enum Report: Sendable {
        /// The store at `revision` (nil: none could be read) and its outcome.
        case fetched(revision: Int64?, Result<Prepared, StoreError>)
        /// Connected; `outage` is how long the database was unreachable
        /// (nil: it never was).
        case connected(outage: Double?)
        /// The connection could not be made or broke.
        case lost(String)
        /// The cache file could not be written.
        case cacheWriteFailed(String)
    }

    let id: UInt64
    private let parameters: HookParameters
    private let database: DatabaseParameters
    private let family: AddressFamily
    private let deliver: @Sendable (UInt64, Report) -> Void
    private let stopEvent: WakePipe
    private let kickEvent: WakePipe
    private let settledEvent: WakePipe
    private var thread = pthread_t()

    /// Between two revision checks without a notification.
    static let recheckInterval = 30.0
    static let firstBackoff = 0.5
    static let maxBackoff = 30.0

    private init(id: UInt64, parameters: HookParameters, database: DatabaseParameters, family: AddressFamily,
                 events: (WakePipe, WakePipe, WakePipe), deliver: @escaping @Sendable (UInt64, Report) -> Void) {
        self.id = id
        self.parameters = parameters
        self.database = database
        self.family = family
        self.deliver = deliver
        (stopEvent, kickEvent, settledEvent) = events
    }

    /// Starts following; nil when the system refuses a thread or descriptors.
    static func start(id: UInt64, parameters: HookParameters, database: DatabaseParameters, family: AddressFamily,
                      deliver: @escaping @Sendable (UInt64, Report) -> Void) -> DatabaseFollower? {
        guard let stop = WakePipe(), let kick = WakePipe(), let settled = WakePipe() else { return nil }
        let follower = DatabaseFollower(id: id, parameters: parameters, database: database, family: family,
                                        events: (stop, kick, settled), deliver: deliver)
        let context = Unmanaged.passRetained(follower).toOpaque()
        let status = pthread_create(&follower.thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<DatabaseFollower>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<DatabaseFollower>.fromOpaque(context).release()
            return nil   // deinit closes the descriptors
        }
        return follower
    }

    /// Waits until the first attempt is over (the store fetched, refused,
    /// or the database found unreachable), at most `timeout` seconds.
    func waitSettled(timeout: Double) -> Bool {
        let deadline = Monotonic.now() + timeout
        while true {
            let left = deadline - Monotonic.now()
            if left <= 0 { return false }
            var fd = pollfd(fd: settledEvent.readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fd, 1, Int32(left * 1000) + 1)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return false }
        }
    }

    /// Asks for the store to be read again now, even at the same revision.
    func kick() { kickEvent.signal() }

    /// Stops the thread and waits for it: its connection is closed when
    /// this returns. Called once, never on the follower's own thread.
    func stop() {
        stopEvent.signal()
        pthread_join(thread, nil)
    }

    private var applicationName: String {
        var name = [CChar](repeating: 0, count: 64)
        gethostname(&name, 63)
        let host = String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String("kea-lwm2m dhcp\(family.rawValue) \(host) pid \(getpid())".prefix(63))
    }

    /// What poll() found.
    private enum Wake { case stop, kick, socket, timeout }

    private func wait(socket: Int32, timeout: Double) -> Wake {
        let deadline = Monotonic.now() + timeout
        while true {
            let left = deadline - Monotonic.now()
            if left <= 0 { return .timeout }
            var fds = [pollfd(fd: stopEvent.readEnd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: kickEvent.readEnd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: socket, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, socket >= 0 ? 3 : 2, Int32(min(left, 3600) * 1000) + 1)
            if ready < 0 && errno != EINTR { return .timeout }
            if fds[0].revents != 0 { return .stop }
            if fds[1].revents != 0 { kickEvent.drain(); return .kick }
            if socket >= 0 && fds[2].revents != 0 { return .socket }
        }
    }

    private func run() {
        let keywords = database.connectionKeywords(applicationName: applicationName)
        var connection: PostgresConnection? = nil
        var seen: Int64? = nil
        var held: FollowedStore? = nil
        var schemaChecked = false
        var backoff = Self.firstBackoff
        var lostAt: Double? = nil
        var settled = false
        func settle() {
            if !settled { settled = true; settledEvent.signal() }
        }
        func lose(_ reason: String) {
            connection = nil
            if lostAt == nil {
                lostAt = Monotonic.now()
                deliver(id, .lost(reason))
            }
        }
        defer { settle() }
        while true {
            guard let current = connection else {
                do {
                    let made = try PostgresConnection.connect(keywords, timeout: Double(database.connectTimeout),
                                                              wakeup: stopEvent.readEnd)
                    try made.execute("LISTEN \(StoreDatabase.channel)", timeout: Double(database.connectTimeout))
                    connection = made
                    schemaChecked = false
                    held = nil   // changes made meanwhile: read whole
                    deliver(id, .connected(outage: lostAt.map { Monotonic.now() - $0 }))
                    lostAt = nil
                    backoff = Self.firstBackoff
                } catch {
                    if error.interrupted { return }
                    lose(error.reason)
                    settle()
                    switch wait(socket: -1, timeout: backoff) {
                    case .stop: return
                    case .kick: backoff = Self.firstBackoff
                    default: backoff = min(backoff * 2, Self.maxBackoff)
                    }
                    continue
                }
                continue
            }
            // Connected: read the store if its revision moved.
            do {
                if !schemaChecked {
                    try StoreDatabase.requireSchema(current)
                    schemaChecked = true
                }
                try fetch(current, seen: &seen, held: &held)
            } catch {
                if error.interrupted { return }
                if error.connectionLost { lose(error.reason); continue }
                // The database answers but the store cannot be read (no
                // schema, no permission): refused like an invalid store.
                let problem = StoreProblem(file: database.storeLabel, entry: nil, key: nil, reason: error.reason)
                deliver(id, .fetched(revision: nil, .failure(StoreError(problems: [problem]))))
            }
            settle()
            // Then wait for a notification, a kick, or the next check. A
            // notification that came while the store was read is in libpq's
            // buffer already, and the socket will not show it again.
            var waiting = true
            do {
                if !(try current.takeNotifications()).isEmpty { waiting = false }
            } catch {
                lose(error.reason)
                waiting = false
            }
            while waiting {
                switch wait(socket: current.socket, timeout: Self.recheckInterval) {
                case .stop: return
                case .kick: seen = nil; held = nil; waiting = false
                case .timeout: waiting = false
                case .socket:
                    do {
                        if !(try current.takeNotifications()).isEmpty { waiting = false }
                    } catch {
                        lose(error.reason)
                        waiting = false
                    }
                }
            }
        }
    }

    /// Fetches what changed unless the revision is `seen`: only the rows
    /// written since the store `held` when it can be applied to it
    /// (`FollowedStore`), else the whole store. Prepares and delivers the
    /// store, then writes the cache file.
    private func fetch(_ connection: PostgresConnection, seen: inout Int64?,
                       held: inout FollowedStore?) throws(DatabaseError) {
        let started = Monotonic.now()
        let startedCPU = Monotonic.threadCPU()
        if let base = held {
            guard let changes = try StoreDatabase.fetchChanges(connection, since: base.revision, unless: seen) else {
                return
            }
            if let next = base.applying(changes, label: database.storeLabel,
                                        certificateFolder: database.certificateFolder) {
                seen = changes.revision
                held = next
                publish(next.store, rows: next.rows, document: nil, revision: changes.revision, started: started,
                        startedCPU: startedCPU, rowsRead: changes.entries.count + changes.deleted.count)
                return
            }
            // In doubt: the whole store, as at load().
        }
        let (revision, fetched) = try StoreDatabase.fetch(connection, unless: seen, checkSchema: false)
        guard let rows = fetched else { return }
        seen = revision
        let prepared: (store: Store, document: [UInt8])
        do {
            prepared = try rows.store(label: database.storeLabel, certificateFolder: database.certificateFolder,
                                      comment: comment(revision))
        } catch {
            deliver(id, .fetched(revision: revision, .failure(error)))
            return
        }
        let followed = FollowedStore(revision: revision, rows: rows, store: prepared.store)
        held = followed.isContiguous ? followed : nil
        publish(prepared.store, rows: rows, document: prepared.document, revision: revision, started: started,
                startedCPU: startedCPU, rowsRead: nil)
    }

    /// The cache file's comment.
    private func comment(_ revision: Int64) -> String {
        "revision \(revision) of \(database.label), as kea-lwm2m last served it"
    }

    /// Encodes `store` (read from `rows` at `revision`; `document`: the
    /// rows' store document, when made already), delivers it, then writes
    /// the cache file.
    private func publish(_ store: Store, rows: StoreRows, document: [UInt8]?, revision: Int64, started: Double,
                         startedCPU: Double, rowsRead: Int?) {
        let document = document
            ?? rows.document(certificateFolder: database.certificateFolder, comment: comment(revision))
        let snapshot = Snapshot(store: store, parameters: parameters, family: family)
        let loaded = LoadedStore(store: store, sha256: StoreLoader.hex(SHA256.hash(data: document)))
        let certificates = ServedCertificate.all(in: snapshot)
        deliver(id, .fetched(revision: revision, .success(Prepared(loaded: loaded, snapshot: snapshot,
                                                                   certificates: certificates,
                                                                   seconds: Monotonic.now() - started,
                                                                   cpuSeconds: Monotonic.threadCPU() - startedCPU,
                                                                   rowsRead: rowsRead))))
        if let cacheFile = database.cacheFile {
            do {
                try CacheFile.write(document, certificates: rows.certificates, to: cacheFile,
                                    folder: database.certificateFolder)
            } catch {
                deliver(id, .cacheWriteFailed(error.reason))
            }
        }
        HeapTrim.releaseFreedMemory()
    }
}

/// A pipe used as an event: `signal()` makes its read end readable until
/// `drain()`. Both ends are non-blocking and closed with the object.
final class WakePipe: @unchecked Sendable {
    let readEnd: Int32
    private let writeEnd: Int32

    init?() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        readEnd = ends[0]
        writeEnd = ends[1]
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    func signal() {
        var one: UInt8 = 1
        _ = write(writeEnd, &one, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }
}

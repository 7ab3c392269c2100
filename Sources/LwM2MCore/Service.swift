import Synchronization
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The hook's state in one process: the snapshot packets read, and the
/// last store that loaded, kept across reconfigurations.
///
/// Kea reloads a hook by unload(), dlclose, dlopen, load(); the library is
/// linked `nodelete`, so this state survives and a store that fails to load
/// during a reconfiguration falls back to the last good version of the same
/// file.
///
/// Packets read the snapshot through a `SnapshotPublisher`: lock-free, they
/// never wait for a load or reload. Everything else (load, unload, the watch
/// timer, control commands) runs on Kea's main thread and goes through
/// `state`, which packets never touch; a hot reload reads and encodes the
/// store on a thread of its own (`BackgroundLoad`) and only publishes on the
/// main thread.
public final class Service: Sendable {
    struct State {
        var lastGood: ServedStore?
        var operations = OperationsState()
    }

    let state = Mutex(State())
    @usableFromInline let publisher = SnapshotPublisher<Snapshot>()
    /// What packets got, counted lock-free.
    public let counters = PacketCounters()
    /// The clock (tests move it).
    let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date = Service.wallClock) {
        self.now = now
    }

    /// The snapshot in service, or nil when the hook serves nothing. Retains
    /// it: packets use `withSnapshot` instead.
    public var snapshot: Snapshot? { publisher.current }

    /// Calls `body` with the snapshot in service (nil when none), lock-free
    /// and without retaining it; do not keep the reference.
    @inlinable @inline(__always)
    public func withSnapshot<Result>(_ body: (Snapshot?) -> Result) -> Result {
        publisher.withCurrent(body)
    }

    /// The outcome of `configure`.
    public enum Outcome: Sendable {
        /// The store loaded and is served.
        case loaded(Snapshot)
        /// The store did not load; `serving` is the previous version of the
        /// same store file, or nil when nothing is served.
        case storeFailed(StoreError, serving: Snapshot?)
    }

    /// Loads the store named by valid `parameters`, pre-encodes it and
    /// publishes it in one step. Parameter errors are the caller's to report
    /// before calling: they must leave everything as it was.
    public func configure(_ parameters: HookParameters, family: AddressFamily) -> Outcome {
        stopFollower()
        if let database = parameters.storeDatabase {
            return configureDatabase(parameters, database: database, family: family)
        }
        return state.withLock { state in
            state.operations.database = nil
            state.operations.abandonLoading()
            state.operations.configured(parameters, family: family, at: now())
            let attempt = StoreLoader.load(path: parameters.storeFile)
            state.operations.attempted(attempt)
            switch attempt.result {
            case .success(let loaded):
                let snapshot = Snapshot(store: loaded.store, parameters: parameters, family: family)
                state.lastGood = ServedStore(loaded: loaded, loadedAt: now())
                state.operations.served = state.lastGood
                publisher.publish(snapshot)
                HeapTrim.releaseFreedMemory()
                state.operations.loadSucceeded(snapshot, now: now())
                return .loaded(snapshot)
            case .failure(let error):
                let previous = state.lastGood.flatMap { $0.store.path == parameters.storeFile ? $0 : nil }
                let fallback = previous.map { Snapshot(store: $0.store, parameters: parameters, family: family) }
                state.operations.served = previous
                publisher.publish(fallback)
                // The shim logs this failure from the load result; the
                // timer must not log it again.
                state.operations.loadFailed(error, attempt: attempt, serving: fallback, report: .byCaller)
                state.operations.checkCertificates(of: fallback, now: now())
                return .storeFailed(error, serving: fallback)
            }
        }
    }

    /// Stops serving. The last good store is remembered.
    public func stop() {
        stopFollower()
        state.withLock { state in
            state.operations.abandonLoading()
            state.operations.active = false
            publisher.publish(nil)
        }
    }
}

extension Service {
    /// The system's real-time clock, read directly (cheaper than Date() on
    /// every watch tick).
    public static let wallClock: @Sendable () -> Date = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Date(timeIntervalSince1970: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
    }
}

/// A store version in service, with what `lwm2m-status` reports about it.
struct ServedStore: Sendable {
    let store: Store
    let sha256: String
    let loadedAt: Date

    init(loaded: LoadedStore, loadedAt: Date) {
        store = loaded.store
        sha256 = loaded.sha256
        self.loadedAt = loadedAt
    }
}

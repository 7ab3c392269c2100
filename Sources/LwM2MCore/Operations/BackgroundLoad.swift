import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A store reload prepared away from Kea's main thread.
///
/// The watch timer ticks on Kea's main thread, which also processes every
/// packet when Kea runs single-threaded: reading and encoding a 10,000-entry
/// store there (~40 ms) held every reply that arrived meanwhile. A
/// `BackgroundLoad` does the slow part (read, parse, validate, encode the
/// snapshot, compare with what is served) on a thread of its own; the main
/// thread only starts it and, once `isFinished`, collects the result and
/// publishes it. The job never touches the service's state: it gets copies of
/// what it needs and hands back one `Prepared` value.
///
/// Memory ordering: the worker writes `prepared` and then sets `finished`
/// with release ordering; the main thread reads `prepared` only after seeing
/// `finished` with acquire ordering, or after `pthread_join`.
final class BackgroundLoad: @unchecked Sendable {
    /// What the main thread needs to finish a reload.
    struct Prepared: Sendable {
        let attempt: StoreAttempt
        /// The encoded snapshot of a store that loaded.
        let snapshot: Snapshot?
        /// The store loaded is the one served already (a re-read of a file
        /// whose stamp could not be trusted found the same content).
        let sameAsServed: Bool
        /// `ServedCertificate.all(in: snapshot)`, for the expiry checks.
        let certificates: [ServedCertificate]?
        /// A watched file had changed when the load started (false: only a
        /// re-read of a racy stamp).
        let changed: Bool
    }

    /// What the job reads: copies, so it shares nothing with the service.
    struct Request: Sendable {
        let parameters: HookParameters
        let family: AddressFamily
        /// The store served, for the comparison a racy re-read makes; nil
        /// when nothing is served or the last attempt failed.
        let served: Store?
        let changed: Bool
    }

    private let request: Request
    private var prepared: Prepared?
    private let finished = Atomic<Bool>(false)
    private var thread = pthread_t()
    private var joined = false

    private init(_ request: Request) {
        self.request = request
    }

    /// Prepares a reload on the calling thread (the fallback when no thread
    /// can be started, and `lwm2m-reload`, whose answer reports the outcome).
    static func prepare(_ request: Request) -> Prepared {
        let attempt = StoreLoader.load(path: request.parameters.storeFile)
        guard case .success(let loaded) = attempt.result else {
            return Prepared(attempt: attempt, snapshot: nil, sameAsServed: false, certificates: nil,
                            changed: request.changed)
        }
        let same = !request.changed && loaded.store == request.served
        let snapshot = same ? nil : Snapshot(store: loaded.store, parameters: request.parameters,
                                             family: request.family)
        return Prepared(attempt: attempt, snapshot: snapshot, sameAsServed: same,
                        certificates: snapshot.map { ServedCertificate.all(in: $0) }, changed: request.changed)
    }

    /// Starts preparing `request` on a new thread; nil when the system
    /// refuses a thread (the caller then prepares it itself).
    static func start(_ request: Request) -> BackgroundLoad? {
        let job = BackgroundLoad(request)
        let context = Unmanaged.passRetained(job).toOpaque()
        let status = pthread_create(&job.thread, nil, { context in
            guard let context else { return nil }
            let job = Unmanaged<BackgroundLoad>.fromOpaque(context).takeRetainedValue()
            BackgroundLoad.yieldToPackets()
            job.prepared = BackgroundLoad.prepare(job.request)
            // The load's temporaries are freed by now: give them back while
            // still off the main thread.
            HeapTrim.releaseFreedMemory()
            job.finished.store(true, ordering: .releasing)
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<BackgroundLoad>.fromOpaque(context).release()
            return nil
        }
        return job
    }

    deinit {
        // Dropped without `collect()`: let the thread's resources go when it
        // ends (it holds its own reference until then).
        if !joined { pthread_detach(thread) }
    }

    /// Lowers the calling thread's scheduling priority to the lowest (nice
    /// 19): on a server whose CPUs are busy answering packets, the reload
    /// takes longer rather than the replies. On Linux the nice value belongs
    /// to the thread (`setpriority` with `who` 0 changes the calling thread
    /// only), so Kea's own threads keep theirs.
    static func yieldToPackets() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        #endif
    }

    /// Frees `value` (the store and snapshot a reload replaced: for 100,000
    /// entries, milliseconds of deallocation) on a short-lived thread rather
    /// than the caller's. Without a thread it is freed here.
    static func dispose(_ value: sending Any) {
        final class Box: @unchecked Sendable {
            var value: Any?
            init(_ value: Any) { self.value = value }
        }
        let context = Unmanaged.passRetained(Box(value)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            BackgroundLoad.yieldToPackets()
            Unmanaged<AnyObject>.fromOpaque(context).release()
            return nil
        }, context)
        if status == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<AnyObject>.fromOpaque(context).release()
        }
    }

    /// The job has finished; `collect()` will not wait.
    var isFinished: Bool { finished.load(ordering: .acquiring) }

    /// Waits for the job (at once when `isFinished`) and returns its result.
    /// Called once, on the thread that started the job.
    func collect() -> Prepared? {
        if !joined {
            joined = true
            pthread_join(thread, nil)
        }
        return prepared
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Service {
    /// The outcome of a reload.
    public enum ReloadOutcome: Sendable, Equatable {
        /// The hook is not loaded (no load(), or after unload()).
        case inactive
        /// No watched file changed; nothing was done.
        case unchanged
        /// The store loaded and is served now, with this many entries.
        case reloaded(entries: Int)
        /// The store did not load; the previous snapshot stays. The text is
        /// the reason.
        case failed(String)
    }

    /// The watch timer's tick (main thread): reloads when the store file or a
    /// certificate file it names changed since the last attempt, and
    /// re-checks certificate expiry once a day.
    @discardableResult
    public func poll() -> ReloadOutcome {
        let outcome = reload(force: false)
        state.withLock { state in
            guard state.operations.active, let last = state.operations.lastCertificateCheck,
                  now().timeIntervalSince(last) >= OperationsState.expiryRecheck,
                  let snapshot = publisher.current else { return }
            state.operations.checkCertificates(of: snapshot, now: now())
        }
        return outcome
    }

    /// Loads the store again (`force`: even when nothing changed, as
    /// `lwm2m-reload` does) and publishes it in one step. A store that fails
    /// changes nothing that packets see.
    public func reload(force: Bool) -> ReloadOutcome {
        state.withLock { state in
            guard state.operations.active, let parameters = state.operations.parameters,
                  let family = state.operations.family else { return .inactive }
            let changed = force || state.operations.watched.changed()
            if !changed && !state.operations.watched.racy { return .unchanged }
            let attempt = StoreLoader.load(path: parameters.storeFile)
            state.operations.attempted(attempt)
            switch attempt.result {
            case .success(let loaded) where !changed && state.operations.lastError == nil
                                            && loaded.store == state.operations.served?.store:
                // A racy re-read found what is served: nothing changed.
                return .unchanged
            case .failure where !changed && state.operations.lastError != nil:
                // A racy re-read of a store that already failed: not a new attempt.
                return .unchanged
            case .success(let loaded):
                let snapshot = Snapshot(store: loaded.store, parameters: parameters, family: family)
                state.lastGood = ServedStore(loaded: loaded, loadedAt: now())
                state.operations.served = state.lastGood
                publisher.publish(snapshot)
                HeapTrim.releaseFreedMemory()
                state.operations.pendingReloadOK &+= 1
                state.operations.events.append(OperationsEvent(.reloaded, [parameters.storeFile, Self.summary(snapshot)]))
                let oversized = snapshot.entriesWithOversizedCertificates
                if !oversized.isEmpty {
                    state.operations.events.append(OperationsEvent(
                        .certificateNeverFits, [parameters.storeFile, oversized.map(String.init).joined(separator: ", ")]))
                }
                state.operations.loadSucceeded(snapshot, now: now())
                return .reloaded(entries: snapshot.entryCount)
            case .failure(let error):
                state.operations.pendingReloadFailed &+= 1
                state.operations.loadFailed(error, attempt: attempt, serving: publisher.current, report: true)
                return .failed(error.description)
            }
        }
    }

    /// What a snapshot serves, in one line (LWM2M_LOADED, LWM2M_RELOADED).
    public static func summary(_ snapshot: Snapshot) -> String {
        func counted(_ count: Int, _ one: String, _ many: String) -> String { "\(count) \(count == 1 ? one : many)" }
        return "\(counted(snapshot.entryCount, "entry", "entries")) for \(snapshot.family), "
            + "\(counted(snapshot.certificateCount, "certificate", "certificates")); "
            + "option codes \(snapshot.parameters.bootstrapURICode) (URI), "
            + "\(snapshot.parameters.serverCertificateCode) (certificate)"
    }

    /// Takes the events not yet logged, oldest first.
    public func takeEvents() -> [OperationsEvent] {
        state.withLock { state in
            defer { state.operations.events.removeAll() }
            return state.operations.events
        }
    }

    /// Takes the counts since the last call (see `PacketCounters.take`), the
    /// reloads included in the server-wide delta, and adds them to the totals
    /// `lwm2m-status` reports.
    public func takeStatistics() -> [StatisticDelta] {
        state.withLock { state in
            var deltas = counters.take()
            deltas[0].reloadOK = state.operations.pendingReloadOK
            deltas[0].reloadFailed = state.operations.pendingReloadFailed
            state.operations.pendingReloadOK = 0
            state.operations.pendingReloadFailed = 0
            let global = deltas[0]
            state.operations.totals.uriSent &+= global.uriSent
            state.operations.totals.certificateSent &+= global.certificateSent
            state.operations.totals.certificateTooBig &+= global.certificateTooBig
            state.operations.totals.uriTooBig &+= global.uriTooBig
            state.operations.totals.reloadOK &+= global.reloadOK
            state.operations.totals.reloadFailed &+= global.reloadFailed
            return deltas
        }
    }

    /// The watch timer's period in milliseconds; 0 when disabled or not loaded.
    public var watchIntervalMilliseconds: UInt32 {
        state.withLock { state in
            guard state.operations.active, let parameters = state.operations.parameters else { return 0 }
            return UInt32(clamping: parameters.watchInterval * 1000)
        }
    }
}

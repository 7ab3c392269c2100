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
        /// A changed store is being read on a thread of its own; poll again
        /// (the shim does, every few milliseconds) to publish it.
        case loading
        /// The store loaded and is served now, with this many entries.
        case reloaded(entries: Int)
        /// The store did not load; the previous snapshot stays. The text is
        /// the reason.
        case failed(String)
    }

    /// The watch timer's tick (main thread). When the store file or a
    /// certificate file it names changed since the last attempt, starts
    /// reading it on a thread of its own and returns `.loading`; a later
    /// tick publishes what that thread prepared. Re-checks certificate expiry
    /// once a day.
    @discardableResult
    public func poll() -> ReloadOutcome {
        let outcome = state.withLock { state -> ReloadOutcome in
            guard state.operations.active, let parameters = state.operations.parameters,
                  let family = state.operations.family else { return .inactive }
            // A database store arrives from its follower, not from files.
            if state.operations.database != nil { return .unchanged }
            if let job = state.operations.loading {
                guard job.isFinished else { return .loading }
                state.operations.loading = nil
                guard let prepared = job.collect() else { return .unchanged }
                return finishReload(prepared, parameters: parameters, family: family, forced: false, state: &state)
            }
            guard let request = reloadRequest(force: false, parameters: parameters, family: family,
                                              state: state) else { return .unchanged }
            guard let job = BackgroundLoad.start(request) else {
                // No thread to be had: read it here.
                return reloadHere(request, forced: false, state: &state)
            }
            state.operations.loading = job
            return .loading
        }
        state.withLock { state in
            guard state.operations.active, let last = state.operations.lastCertificateCheck,
                  now().timeIntervalSince(last) >= OperationsState.expiryRecheck else { return }
            state.operations.checkCertificates(now: now())
        }
        return outcome
    }

    /// Loads the store again now, on the calling thread (`lwm2m-reload`:
    /// its answer reports the outcome), even when nothing changed, and
    /// publishes it in one step. A reload the timer started is finished
    /// first. A store that fails changes nothing that packets see.
    public func reload() -> ReloadOutcome {
        state.withLock { state in
            guard state.operations.active, let parameters = state.operations.parameters,
                  let family = state.operations.family else { return .inactive }
            if state.operations.database != nil { return .unchanged }   // see kickFollower
            if let job = state.operations.loading {
                state.operations.loading = nil
                if let prepared = job.collect() {
                    _ = finishReload(prepared, parameters: parameters, family: family, forced: false, state: &state)
                }
            }
            guard let request = reloadRequest(force: true, parameters: parameters, family: family,
                                              state: state) else { return .unchanged }
            return reloadHere(request, forced: true, state: &state)
        }
    }

    /// The load to do now; nil when it is not forced, no watched file
    /// changed and no stamp is racy. A store whose last attempt failed is
    /// never compared with what is served: whatever loads now is published.
    private func reloadRequest(force: Bool, parameters: HookParameters, family: AddressFamily,
                               state: State) -> BackgroundLoad.Request? {
        let changed = force || state.operations.watched.changed()
        if !changed && !state.operations.watched.racy { return nil }
        let served = state.operations.lastError == nil ? state.operations.served?.store : nil
        return BackgroundLoad.Request(parameters: parameters, family: family, served: served, changed: changed)
    }

    /// Prepares and publishes `request` on the calling thread.
    private func reloadHere(_ request: BackgroundLoad.Request, forced: Bool, state: inout State) -> ReloadOutcome {
        let outcome = finishReload(BackgroundLoad.prepare(request), parameters: request.parameters,
                                   family: request.family, forced: forced, state: &state)
        HeapTrim.releaseFreedMemory()
        return outcome
    }

    /// Publishes a prepared reload (main thread, under the state lock):
    /// cheap, the parsing and encoding are done.
    ///
    /// A failure is reported (LWM2M_RELOAD_FAILED, `lwm2m-reload-failed`)
    /// once it is settled: a re-read found the files unchanged, or `forced`
    /// (`lwm2m-reload` answers with it anyway). A store read while its writer
    /// was still at work (truncated, half written) is read again at the next
    /// tick instead of being reported, so only what the writer left is.
    /// The file's times cannot tell that on their own: a reader that catches
    /// an in-place rewrite inside the kernel's truncation sees the new size
    /// (0) with the old modification time, which may be seconds ago (seen on
    /// ext4: an empty store stamped with its previous write, 2.004 s before).
    ///
    /// "Unchanged" is what the read itself found: the stamps of the files as
    /// read equal those of the attempt before. A re-read is requested when no
    /// stamp differs, but its thread reads later, and a writer may truncate
    /// the store in between: that read found a changed file, not a settled one.
    /// And the re-read must start 2 s (the racy window) or more after the
    /// read before it (`WatchedFiles.settled(by:)`): two reads close together
    /// can both see the empty file a slow writer left while it paused.
    private func finishReload(_ prepared: BackgroundLoad.Prepared, parameters: HookParameters,
                              family: AddressFamily, forced: Bool, state: inout State) -> ReloadOutcome {
        let unchangedReRead = !prepared.changed && state.operations.watched.settled(by: prepared.attempt.files)
        state.operations.attempted(prepared.attempt)
        switch prepared.attempt.result {
        case .success where prepared.sameAsServed:
            // A racy re-read found what is served: nothing changed.
            return .unchanged
        case .success(let loaded):
            let snapshot = prepared.snapshot
                ?? Snapshot(store: loaded.store, parameters: parameters, family: family)
            let replaced = (publisher.current, state.lastGood, state.operations.servedCertificates)
            state.lastGood = ServedStore(loaded: loaded, loadedAt: now())
            state.operations.served = state.lastGood
            publisher.publish(snapshot)
            state.operations.servedCertificates = []
            BackgroundLoad.dispose(replaced)
            state.operations.pendingReloadOK &+= 1
            state.operations.events.append(OperationsEvent(.reloaded, [parameters.storeFile, Self.summary(snapshot)]))
            let oversized = snapshot.entriesWithOversizedCertificates
            if !oversized.isEmpty {
                state.operations.events.append(OperationsEvent(
                    .certificateNeverFits, [parameters.storeFile, oversized.joined(separator: ", ")]))
            }
            state.operations.loadSucceeded(snapshot, certificates: prepared.certificates, now: now())
            return .reloaded(entries: snapshot.entryCount)
        case .failure(let error):
            let settled = forced || unchangedReRead
            // Not settled: the next tick reads the files again, whatever their stamps say.
            if !settled { state.operations.awaitReRead() }
            let reported = state.operations.loadFailed(error, attempt: prepared.attempt, serving: publisher.current,
                                                       report: settled ? .onceNew : .notYet)
            // A re-read of a failure already reported is not a new attempt.
            if settled && unchangedReRead && !reported { return .unchanged }
            if settled { state.operations.pendingReloadFailed &+= 1 }
            return .failed(error.description)
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
            // With a database store the timer logs the follower's events and
            // flushes the statistics: never off.
            if state.operations.database != nil { return UInt32(clamping: max(parameters.watchInterval, 1) * 1000) }
            return UInt32(clamping: parameters.watchInterval * 1000)
        }
    }
}

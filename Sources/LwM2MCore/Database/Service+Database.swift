import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the service knows about the database it follows (`store-database`).
struct DatabaseState {
    let parameters: DatabaseParameters
    let followerID: UInt64
    var follower: DatabaseFollower?
    /// The revision served (nil: none yet, or a cache file without one).
    var revision: Int64?
    /// The store served came from the cache file.
    var servingCache = false
    var connected = false
    /// Since when the connection has been lost (nil: connected).
    var staleSince: Date?
    /// When the served revision was published.
    var publishedAt: Date?
    /// The last cache-file problem reported.
    var cacheProblem: String?
}

/// Follower ids: a report from a follower that was stopped is ignored.
private let followerIDs = Atomic<UInt64>(0)

extension Service {
    /// `configure` for `store-database`: starts following the database and
    /// waits at most `connect-timeout` for its store. When it does not come,
    /// serves the cache file (or the last store of the same database this
    /// process served) and keeps following: the store is published as soon as
    /// the database answers.
    func configureDatabase(_ parameters: HookParameters, database: DatabaseParameters,
                           family: AddressFamily) -> Outcome {
        let id = followerIDs.add(1, ordering: .relaxed).newValue
        state.withLock { state in
            state.operations.abandonLoading()
            state.operations.configured(parameters, family: family, at: now())
            state.operations.watched = WatchedFiles()
            state.operations.lastError = nil
            state.operations.lastFailureKey = nil
            state.operations.database = DatabaseState(parameters: database, followerID: id, staleSince: now())
        }
        let follower = DatabaseFollower.start(id: id, parameters: parameters, database: database, family: family,
                                              deliver: { [self] id, report in databaseReport(id, report) })
        state.withLock { state in state.operations.database?.follower = follower }
        _ = follower?.waitSettled(timeout: Double(database.connectTimeout))
        return state.withLock { state -> Outcome in
            if let snapshot = publisher.current, state.operations.database?.revision != nil {
                return .loaded(snapshot)
            }
            var reason = state.operations.lastError
                ?? (follower == nil ? "no thread to follow the database" : "\(database.label) did not answer within \(database.connectTimeout) s")
            if let cacheFile = database.cacheFile {
                let attempt = StoreLoader.load(path: cacheFile)
                switch attempt.result {
                case .success(let loaded):
                    let snapshot = Snapshot(store: loaded.store, parameters: parameters, family: family)
                    let revision = CacheFile.revision(of: cacheFile)
                    state.lastGood = ServedStore(loaded: loaded, loadedAt: now())
                    state.operations.served = state.lastGood
                    publisher.publish(snapshot)
                    state.operations.database?.revision = revision
                    state.operations.database?.servingCache = true
                    state.operations.loadSucceeded(snapshot, now: now())
                    state.operations.lastError = reason
                    let which = revision.map { "revision \($0)" } ?? "no revision"
                    reason += "; serving the cache file \(cacheFile) (\(which))"
                    return .storeFailed(StoreError(problems: [StoreProblem(file: database.label, entry: nil, key: nil, reason: reason)]),
                                        serving: snapshot)
                case .failure(let error):
                    reason += "; the cache file cannot be served: \(error.description)"
                }
            }
            let previous = state.lastGood.flatMap { $0.store.path == database.storeLabel ? $0 : nil }
            let fallback = previous.map { Snapshot(store: $0.store, parameters: parameters, family: family) }
            state.operations.served = previous
            publisher.publish(fallback)
            state.operations.lastError = reason
            state.operations.checkCertificates(of: fallback, now: now())
            return .storeFailed(StoreError(problems: [StoreProblem(file: database.label, entry: nil, key: nil, reason: reason)]),
                                serving: fallback)
        }
    }

    /// Stops the database follower, if any, and waits for it (outside the
    /// state lock: the follower takes it to deliver).
    func stopFollower() {
        let follower = state.withLock { state -> DatabaseFollower? in
            defer { state.operations.database?.follower = nil }
            return state.operations.database?.follower
        }
        follower?.stop()
    }

    /// Asks the follower to read the store again (`lwm2m-reload`); false
    /// when the store is not a database's.
    func kickFollower() -> Bool {
        state.withLock { state in
            guard let database = state.operations.database else { return false }
            database.follower?.kick()
            return true
        }
    }

    /// A follower's report (on its own thread). Publishing is the same step
    /// as a file reload's: swap the snapshot, free the old one elsewhere.
    private func databaseReport(_ id: UInt64, _ report: DatabaseFollower.Report) {
        let replaced: Any? = state.withLock { state -> Any? in
            guard state.operations.active, var database = state.operations.database,
                  database.followerID == id else { return nil }
            defer { state.operations.database = database }
            let label = database.parameters.label
            switch report {
            case .fetched(let revision, .success(let prepared)):
                let replaced: Any = (publisher.current, state.lastGood, state.operations.servedCertificates)
                state.lastGood = ServedStore(loaded: prepared.loaded, loadedAt: now())
                state.operations.served = state.lastGood
                publisher.publish(prepared.snapshot)
                database.revision = revision
                database.servingCache = false
                database.publishedAt = now()
                state.operations.pendingReloadOK &+= 1
                state.operations.events.append(OperationsEvent(.databaseLoaded, [
                    label, revision.map(String.init) ?? "?",
                    Self.summary(prepared.snapshot) + "; read, checked and encoded in \(Self.whole(prepared.seconds * 1000)) ms"
                        + " (\(Self.whole(prepared.cpuSeconds * 1000)) ms CPU)"
                        + (prepared.rowsRead.map { "; \($0) changed \($0 == 1 ? "row" : "rows") read" } ?? "; whole store read")]))
                let oversized = prepared.snapshot.entriesWithOversizedCertificates
                if !oversized.isEmpty {
                    state.operations.events.append(OperationsEvent(
                        .certificateNeverFits, [label, oversized.joined(separator: ", ")]))
                }
                state.operations.loadSucceeded(prepared.snapshot, certificates: prepared.certificates, now: now())
                return replaced
            case .fetched(let revision, .failure(let error)):
                let text = error.description
                state.operations.lastError = text
                let key = (revision.map(String.init) ?? "-") + "\n" + text
                if key != state.operations.lastFailureKey {
                    state.operations.lastFailureKey = key
                    state.operations.pendingReloadFailed &+= 1
                    let kept = publisher.current.map { snapshot in
                        "revision " + (database.revision.map(String.init) ?? "?") + " (\(snapshot.entryCount) entries)"
                    } ?? "nothing"
                    state.operations.events.append(OperationsEvent(.databaseRefused, [
                        label, revision.map(String.init) ?? "?", kept, text]))
                }
                return nil
            case .connected(let outage):
                database.connected = true
                database.staleSince = nil
                if let outage {
                    state.operations.events.append(OperationsEvent(.databaseBack, [label, String(Self.whole(outage))]))
                }
                return nil
            case .lost(let reason):
                database.connected = false
                if database.staleSince == nil { database.staleSince = now() }
                let kept = publisher.current.map { snapshot in
                    "revision " + (database.revision.map(String.init) ?? "?") + " (\(snapshot.entryCount) entries)"
                } ?? "nothing"
                state.operations.events.append(OperationsEvent(.databaseLost, [label, kept, reason]))
                return nil
            case .cacheWriteFailed(let reason):
                if database.cacheProblem != reason {
                    database.cacheProblem = reason
                    state.operations.events.append(OperationsEvent(.cacheWriteFailed, [database.parameters.cacheFile ?? "", reason]))
                }
                return nil
            }
        }
        if let replaced { BackgroundLoad.dispose(replaced) }
    }

    /// `value` rounded, for messages (never traps: clamped, NaN is 0).
    static func whole(_ value: Double) -> Int {
        guard value.isFinite else { return 0 }
        return Int(min(max(value, 0), 1e12).rounded())
    }

    /// lwm2m-status's `database` map.
    func databaseStatus(_ database: DatabaseState) -> JSONValue {
        .object([
            "type": .string("postgresql"),
            "name": .string(database.parameters.name),
            "host": .string(database.parameters.host),
            "revision": database.revision.map { .integer($0) } ?? .null,
            "connected": .bool(database.connected),
            "stale-since": database.connected ? .null : (database.staleSince.map { .string(ISO8601.format($0)) } ?? .null),
            "serving-cache-file": .bool(database.servingCache),
            "cache-file": database.parameters.cacheFile.map { .string($0) } ?? .null,
            "published-at": database.publishedAt.map { .string(ISO8601.format($0)) } ?? .null,
        ])
    }

    /// For the shim's statistics: nil when the store is a file.
    public var databaseGauges: (revision: Int64, connected: Bool)? {
        state.withLock { state in
            guard state.operations.active, let database = state.operations.database else { return nil }
            return (database.revision ?? 0, database.connected)
        }
    }
}

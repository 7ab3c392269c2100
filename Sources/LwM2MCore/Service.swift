import Synchronization

/// The hook's state in one process: the snapshot packets read, and the
/// last store that loaded, kept across reconfigurations.
///
/// Kea reloads a hook by unload(), dlclose, dlopen, load(); the library is
/// linked `nodelete`, so this state survives and a store that fails to load
/// during a reconfiguration falls back to the last good version of the same
/// file.
public final class Service: Sendable {
    private struct State {
        var snapshot: Snapshot?
        var lastGoodStore: Store?
    }

    private let state = Mutex(State())

    public init() {}

    /// The snapshot in service, or nil when the hook serves nothing.
    /// Packets call this: it takes the lock only to copy one reference.
    public var snapshot: Snapshot? { state.withLock { $0.snapshot } }

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
        do {
            let store = try Store.load(path: parameters.storeFile)
            let snapshot = Snapshot(store: store, parameters: parameters, family: family)
            state.withLock {
                $0.snapshot = snapshot
                $0.lastGoodStore = store
            }
            return .loaded(snapshot)
        } catch {
            // Encode outside the lock: packets must not wait for it.
            let previous = state.withLock { $0.lastGoodStore }.flatMap { $0.path == parameters.storeFile ? $0 : nil }
            let fallback = previous.map { Snapshot(store: $0, parameters: parameters, family: family) }
            state.withLock { $0.snapshot = fallback }
            return .storeFailed(error, serving: fallback)
        }
    }

    /// Stops serving. The last good store is remembered.
    public func stop() {
        state.withLock { $0.snapshot = nil }
    }
}

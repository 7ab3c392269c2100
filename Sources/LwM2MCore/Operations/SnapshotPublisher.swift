import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Publishes one immutable object to any number of reader threads without
/// ever making a reader wait, and frees a replaced object only when no
/// reader can still be using it.
///
/// Readers (packet threads) call `withCurrent`; the single writer (Kea's main
/// thread: load, timer tick, commands; writers are serialized by a lock that
/// readers never touch) calls `publish`.
///
/// How it works: the object lives behind `pointer`, retained once by the
/// publisher. Readers announce themselves in one of two counters chosen by
/// the parity of `epoch`: increment the counter of the epoch they saw, then
/// load the epoch again; if it moved, undo and retry (this only happens while
/// a publish is under way, and the retry does not wait for it). Then they
/// load `pointer`, use the object without retaining it, and decrement.
/// `publish` swaps `pointer`, then advances `epoch`, then waits until the
/// counter of the epoch it left is zero, and only then releases the old
/// object.
///
/// Why that is memory-safe (all operations sequentially consistent): a reader
/// that loaded the old pointer did so after its epoch re-check. If the epoch
/// it saw was the one `publish` left, it is counted in the counter `publish`
/// waits for, so the old object outlives its use. If it saw a later epoch,
/// its pointer load follows the epoch advance, which follows the swap, so it
/// got the new pointer. If it saw an earlier epoch, the previous `publish`
/// (which advanced away from that epoch) waited for that reader to finish
/// before returning, and publishes do not overlap, so the reader is finished
/// before this one starts. The counters never underflow: each decrement
/// follows its own increment on the same counter.
///
/// Readers never block and never retain: two atomic increments/decrements
/// and two loads of the epoch per read. The writer spins (yielding the CPU)
/// only as long as a reader takes to answer one packet.
public final class SnapshotPublisher<Object: AnyObject & Sendable>: Sendable {
    /// The published object's address (0: none), retained once by the publisher.
    @usableFromInline let pointer = Atomic<UInt>(0)
    @usableFromInline let epoch = Atomic<UInt>(0)
    @usableFromInline let readersEven = Atomic<Int>(0)
    @usableFromInline let readersOdd = Atomic<Int>(0)
    /// Serializes writers; readers never take it.
    private let writer = Mutex(())

    public init() {}

    deinit {
        if let old = UnsafeMutableRawPointer(bitPattern: pointer.load(ordering: .sequentiallyConsistent)) {
            Unmanaged<Object>.fromOpaque(old).release()
        }
    }

    private func readers(_ parity: UInt) -> Int {
        parity & 1 == 0 ? readersEven.load(ordering: .sequentiallyConsistent)
                        : readersOdd.load(ordering: .sequentiallyConsistent)
    }

    @inlinable func enter(_ parity: UInt) {
        if parity & 1 == 0 { readersEven.wrappingAdd(1, ordering: .sequentiallyConsistent) }
        else { readersOdd.wrappingAdd(1, ordering: .sequentiallyConsistent) }
    }

    @inlinable func leave(_ parity: UInt) {
        if parity & 1 == 0 { readersEven.wrappingSubtract(1, ordering: .sequentiallyConsistent) }
        else { readersOdd.wrappingSubtract(1, ordering: .sequentiallyConsistent) }
    }

    /// Calls `body` with the current object (nil when none is published). The
    /// object is valid only inside `body`; do not keep it.
    @inlinable @inline(__always)
    public func withCurrent<Result>(_ body: (Object?) -> Result) -> Result {
        var seen = epoch.load(ordering: .sequentiallyConsistent)
        while true {
            enter(seen)
            let now = epoch.load(ordering: .sequentiallyConsistent)
            if now == seen { break }
            leave(seen)
            seen = now
        }
        defer { leave(seen) }
        guard let raw = UnsafeMutableRawPointer(bitPattern: pointer.load(ordering: .sequentiallyConsistent)) else {
            return body(nil)
        }
        return Unmanaged<Object>.fromOpaque(raw)._withUnsafeGuaranteedRef { body($0) }
    }

    /// A strong reference to the current object (retains it): for the writer
    /// side and tests, not for packets.
    public var current: Object? { withCurrent { $0 } }

    /// Replaces the current object with `object` (nil: none) in one step and
    /// releases the old one once no reader uses it.
    public func publish(_ object: Object?) {
        writer.withLock { _ in
            let new = object.map { UInt(bitPattern: Unmanaged.passRetained($0).toOpaque()) } ?? 0
            let old = UnsafeMutableRawPointer(bitPattern: pointer.exchange(new, ordering: .sequentiallyConsistent))
            let left = epoch.load(ordering: .sequentiallyConsistent)
            epoch.store(left &+ 1, ordering: .sequentiallyConsistent)
            while readers(left) != 0 { sched_yield() }
            if let old { Unmanaged<Object>.fromOpaque(old).release() }
        }
    }
}

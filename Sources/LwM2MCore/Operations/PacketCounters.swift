import Synchronization

/// What a counter delta is about: the server as a whole or one subnet.
public struct StatisticDelta: Sendable, Equatable {
    /// Kea's subnet id, nil for the server-wide counters.
    public var subnetID: UInt32?
    public var uriSent: UInt64 = 0
    public var certificateSent: UInt64 = 0
    public var certificateTooBig: UInt64 = 0
    public var uriTooBig: UInt64 = 0
    public var reloadOK: UInt64 = 0
    public var reloadFailed: UInt64 = 0

    public init(subnetID: UInt32?) { self.subnetID = subnetID }

    var isZero: Bool {
        uriSent == 0 && certificateSent == 0 && certificateTooBig == 0 && uriTooBig == 0
            && reloadOK == 0 && reloadFailed == 0
    }
}

/// Counts what packets got, from any thread, without locks: each count is an
/// atomic increment. The main loop takes the counts since its last call
/// (`take`) and adds them to Kea's statistics, so Kea's statistics lag by up
/// to one watch interval.
///
/// Per-subnet counts live in a fixed open-addressing table keyed by subnet
/// id; a slot is claimed once with a compare-and-exchange and never freed.
/// When all `capacity` slots are taken, further subnets are counted in the
/// server-wide counters only.
public final class PacketCounters: Sendable {
    @usableFromInline
    final class Slot: Sendable {
        /// The subnet id this slot counts, 0 while free (Kea subnet ids start at 1).
        @usableFromInline let subnetID = Atomic<UInt32>(0)
        @usableFromInline let uriSent = Atomic<UInt64>(0)
        @usableFromInline let certificateSent = Atomic<UInt64>(0)
        @usableFromInline let certificateTooBig = Atomic<UInt64>(0)
        init() {}
    }

    @usableFromInline let uriSent = Atomic<UInt64>(0)
    @usableFromInline let certificateSent = Atomic<UInt64>(0)
    @usableFromInline let certificateTooBig = Atomic<UInt64>(0)
    @usableFromInline let uriTooBig = Atomic<UInt64>(0)
    /// The slots, each retained once here for the life of the counters.
    private let slots: [Slot]
    /// Slots in the order they were claimed: `claimed` positions are taken,
    /// each holds its slot's index + 1 once the claiming thread wrote it (0
    /// before). `take` visits only these, not the whole table.
    @usableFromInline let claimed = Atomic<Int>(0)
    @usableFromInline let claimOrder: [ClaimCell]

    @usableFromInline
    final class ClaimCell: Sendable {
        @usableFromInline let index = Atomic<Int>(0)
        init() {}
    }
    /// The same slots, unretained, so the packet path reaches one without
    /// retain/release traffic on a shared reference count.
    @usableFromInline nonisolated(unsafe) let slotReferences: UnsafeMutablePointer<Unmanaged<Slot>>
    @usableFromInline let mask: Int

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int = 4096) {
        var size = 1
        while size < max(1, capacity) { size <<= 1 }
        let slots = (0..<size).map { _ in Slot() }
        self.slots = slots
        claimOrder = (0..<size).map { _ in ClaimCell() }
        slotReferences = UnsafeMutablePointer<Unmanaged<Slot>>.allocate(capacity: size)
        for (index, slot) in slots.enumerated() {
            (slotReferences + index).initialize(to: Unmanaged.passUnretained(slot))
        }
        mask = size - 1
    }

    deinit {
        slotReferences.deinitialize(count: mask + 1)
        slotReferences.deallocate()
    }

    /// Counts one reply's outcome (`Answer.Flags`) for the subnet Kea selected.
    @inlinable @inline(__always)
    public func record(_ flags: Answer.Flags, subnetID: UInt32?) {
        // Raw bits (Answer.Flags' values, which are the C ABI's): comparing
        // with literals costs nothing, the static members are calls across
        // modules.
        let bits = flags.rawValue
        guard bits & 0b1111 != 0 else { return }
        if bits & 0b0001 != 0 { uriSent.wrappingAdd(1, ordering: .relaxed) }
        if bits & 0b0010 != 0 { certificateSent.wrappingAdd(1, ordering: .relaxed) }
        if bits & 0b0100 != 0 { certificateTooBig.wrappingAdd(1, ordering: .relaxed) }
        if bits & 0b1000 != 0 { uriTooBig.wrappingAdd(1, ordering: .relaxed) }
        guard bits & 0b0111 != 0, let subnetID, subnetID != 0 else { return }
        let index = slotIndex(for: subnetID)
        guard index >= 0, index <= mask else { return }
        slotReferences[index]._withUnsafeGuaranteedRef { slot in
            if bits & 0b0001 != 0 { slot.uriSent.wrappingAdd(1, ordering: .relaxed) }
            if bits & 0b0010 != 0 { slot.certificateSent.wrappingAdd(1, ordering: .relaxed) }
            if bits & 0b0100 != 0 { slot.certificateTooBig.wrappingAdd(1, ordering: .relaxed) }
        }
    }

    /// The slot counting `subnetID` (claimed now if it has none), -1 when
    /// the table is full.
    @usableFromInline
    func slotIndex(for subnetID: UInt32) -> Int {
        var index = Int(truncatingIfNeeded: (UInt64(subnetID) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        for _ in 0...mask {
            let found = slotReferences[index]._withUnsafeGuaranteedRef { slot -> Bool in
                let owner = slot.subnetID.load(ordering: .acquiring)
                if owner == subnetID { return true }
                guard owner == 0 else { return false }
                let (won, current) = slot.subnetID.compareExchange(
                    expected: 0, desired: subnetID, ordering: .acquiringAndReleasing)
                if won { noteClaim(index) }
                return won || current == subnetID
            }
            if found { return index }
            index = (index + 1) & mask
        }
        return -1
    }

    /// Records that slot `index` was claimed (once per slot: only the
    /// thread whose compare-and-exchange won calls this).
    @usableFromInline
    func noteClaim(_ index: Int) {
        let position = claimed.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
        guard position >= 0, position < claimOrder.count else { return }
        claimOrder[position].index.store(index + 1, ordering: .releasing)
    }

    /// Takes (and resets) the counts since the last call: the server-wide
    /// delta first (subnetID nil, also when zero), then one per subnet with a
    /// non-zero delta. No increment is lost: each count is exchanged with 0.
    public func take() -> [StatisticDelta] {
        var global = StatisticDelta(subnetID: nil)
        global.uriSent = uriSent.exchange(0, ordering: .relaxed)
        global.certificateSent = certificateSent.exchange(0, ordering: .relaxed)
        global.certificateTooBig = certificateTooBig.exchange(0, ordering: .relaxed)
        global.uriTooBig = uriTooBig.exchange(0, ordering: .relaxed)
        var deltas = [global]
        // Only claimed slots can hold counts; a claim whose index is not
        // written yet is visited on a later call (its counts wait, none is lost).
        let claimedCount = min(claimed.load(ordering: .acquiring), claimOrder.count)
        for position in 0..<claimedCount {
            let index = claimOrder[position].index.load(ordering: .acquiring) - 1
            guard index >= 0, index < slots.count else { continue }
            let slot = slots[index]
            let id = slot.subnetID.load(ordering: .acquiring)
            guard id != 0 else { continue }
            var delta = StatisticDelta(subnetID: id)
            delta.uriSent = slot.uriSent.exchange(0, ordering: .relaxed)
            delta.certificateSent = slot.certificateSent.exchange(0, ordering: .relaxed)
            delta.certificateTooBig = slot.certificateTooBig.exchange(0, ordering: .relaxed)
            if !delta.isZero { deltas.append(delta) }
        }
        return deltas
    }
}

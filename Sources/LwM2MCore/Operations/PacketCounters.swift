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
    final class Slot: Sendable {
        /// The subnet id this slot counts, 0 while free (Kea subnet ids start at 1).
        let subnetID = Atomic<UInt32>(0)
        let uriSent = Atomic<UInt64>(0)
        let certificateSent = Atomic<UInt64>(0)
        let certificateTooBig = Atomic<UInt64>(0)
    }

    private let uriSent = Atomic<UInt64>(0)
    private let certificateSent = Atomic<UInt64>(0)
    private let certificateTooBig = Atomic<UInt64>(0)
    private let uriTooBig = Atomic<UInt64>(0)
    private let slots: [Slot]
    private let mask: Int

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int = 4096) {
        var size = 1
        while size < max(1, capacity) { size <<= 1 }
        slots = (0..<size).map { _ in Slot() }
        mask = size - 1
    }

    /// Counts one reply's outcome (`Answer.Flags`) for the subnet Kea selected.
    @inline(__always)
    public func record(_ flags: Answer.Flags, subnetID: UInt32?) {
        let counted: Answer.Flags = [.sentURI, .sentCertificate, .certificateTooBig, .uriTooBig]
        guard !flags.isDisjoint(with: counted) else { return }
        if flags.contains(.sentURI) { uriSent.wrappingAdd(1, ordering: .relaxed) }
        if flags.contains(.sentCertificate) { certificateSent.wrappingAdd(1, ordering: .relaxed) }
        if flags.contains(.certificateTooBig) { certificateTooBig.wrappingAdd(1, ordering: .relaxed) }
        if flags.contains(.uriTooBig) { uriTooBig.wrappingAdd(1, ordering: .relaxed) }
        guard let subnetID, subnetID != 0,
              !flags.isDisjoint(with: [.sentURI, .sentCertificate, .certificateTooBig]),
              let slot = slot(for: subnetID) else { return }
        if flags.contains(.sentURI) { slot.uriSent.wrappingAdd(1, ordering: .relaxed) }
        if flags.contains(.sentCertificate) { slot.certificateSent.wrappingAdd(1, ordering: .relaxed) }
        if flags.contains(.certificateTooBig) { slot.certificateTooBig.wrappingAdd(1, ordering: .relaxed) }
    }

    private func slot(for subnetID: UInt32) -> Slot? {
        var index = Int(truncatingIfNeeded: (UInt64(subnetID) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        for _ in 0...mask {
            let slot = slots[index]
            let owner = slot.subnetID.load(ordering: .acquiring)
            if owner == subnetID { return slot }
            if owner == 0 {
                let (claimed, current) = slot.subnetID.compareExchange(
                    expected: 0, desired: subnetID, ordering: .acquiringAndReleasing)
                if claimed || current == subnetID { return slot }
            }
            index = (index + 1) & mask
        }
        return nil
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
        for slot in slots {
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

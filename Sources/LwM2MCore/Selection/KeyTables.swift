#if canImport(Glibc)
import Glibc
#endif

/// Open-addressing tables from a subnet id or a subnet prefix to an entry's
/// slot, built once per snapshot and then only read, from any thread.
///
/// The keys come from the operator's store and from Kea's subnets, never
/// from clients, so a cheap multiplicative (Fibonacci) hash is enough: no
/// seed, no SipHash. Each table is one flat allocation, at most half full,
/// probed linearly; a hit reads one or two adjacent slots and no Swift
/// reference is retained or released.

/// Fibonacci hashing: the top `bits` bits of `key` × 2⁶⁴/φ.
@inline(__always)
private func fibonacci(_ key: UInt64, shift: UInt64) -> Int {
    Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
}

/// The smallest power of two ≥ 2 × `count` (at least 8), and 64 − log₂ of it.
private func tableSize(for count: Int) -> (size: Int, shift: UInt64) {
    var size = 8
    var bits: UInt64 = 3
    while size < count * 2 { size <<= 1; bits += 1 }
    return (size, 64 - bits)
}

/// Subnet id → slot. A slot of the table is one 64-bit word: the id in the
/// high half, slot + 1 in the low half (0: empty).
final class SubnetIDTable: @unchecked Sendable {
    private let memory: SnapshotMemory
    private let words: UnsafeMutablePointer<UInt64>
    private let mask: Int
    private let shift: UInt64
    let count: Int

    /// `pairs` must not repeat an id (the store refuses duplicate selectors);
    /// a repeated id keeps its first slot.
    init(_ pairs: [(id: UInt32, slot: Int)]) {
        let (size, shift) = tableSize(for: pairs.count)
        memory = SnapshotMemory(bytes: size * MemoryLayout<UInt64>.stride)
        words = memory.base.bindMemory(to: UInt64.self, capacity: size)
        words.initialize(repeating: 0, count: size)
        mask = size - 1
        self.shift = shift
        var stored = 0
        for (id, slot) in pairs where slot >= 0 && slot < Int(UInt32.max) {
            var index = fibonacci(UInt64(id), shift: shift)
            while words[index] != 0 && UInt32(truncatingIfNeeded: words[index] >> 32) != id { index = (index + 1) & mask }
            if words[index] == 0 {
                words[index] = UInt64(id) << 32 | UInt64(slot + 1)
                stored += 1
            }
        }
        count = stored
    }

    deinit { memory.release() }

    @inline(__always)
    func slot(for id: UInt32) -> Int? {
        var index = fibonacci(UInt64(id), shift: shift)
        while true {
            let word = words[index]
            if word == 0 { return nil }
            if UInt32(truncatingIfNeeded: word >> 32) == id { return Int(truncatingIfNeeded: word & 0xFFFF_FFFF) - 1 }
            index = (index + 1) & mask
        }
    }

    /// Bytes held.
    var memorySize: Int { (mask + 1) * MemoryLayout<UInt64>.stride }
}

/// Subnet prefix → slot.
final class PrefixTable: @unchecked Sendable {
    private struct Slot {
        var high: UInt64 = 0
        var low: UInt64 = 0
        /// Prefix length | family << 8; 0 with `slot` 0 when empty.
        var meta: UInt32 = 0
        /// slot + 1; 0: empty.
        var slot: UInt32 = 0
    }

    private let memory: SnapshotMemory
    private let slots: UnsafeMutablePointer<Slot>
    private let mask: Int
    private let shift: UInt64
    let count: Int

    init(_ pairs: [(key: PrefixKey, slot: Int)]) {
        let (size, shift) = tableSize(for: pairs.count)
        memory = SnapshotMemory(bytes: size * MemoryLayout<Slot>.stride)
        slots = memory.base.bindMemory(to: Slot.self, capacity: size)
        slots.initialize(repeating: Slot(), count: size)
        mask = size - 1
        self.shift = shift
        var stored = 0
        for (key, slot) in pairs where slot >= 0 && slot < Int(UInt32.max) {
            let meta = Self.meta(key)
            var index = Self.index(key, shift: shift)
            while slots[index].slot != 0 && !(slots[index].high == key.high && slots[index].low == key.low && slots[index].meta == meta) {
                index = (index + 1) & mask
            }
            if slots[index].slot == 0 {
                slots[index] = Slot(high: key.high, low: key.low, meta: meta, slot: UInt32(slot + 1))
                stored += 1
            }
        }
        count = stored
    }

    deinit { memory.release() }

    @inline(__always)
    private static func meta(_ key: PrefixKey) -> UInt32 {
        UInt32(key.length) | UInt32(key.family.rawValue) << 8
    }

    @inline(__always)
    private static func index(_ key: PrefixKey, shift: UInt64) -> Int {
        let mixed = key.high ^ (key.low &* 0xC2B2_AE3D_27D4_EB4F) ^ (UInt64(meta(key)) &* 0x1656_67B1_9E37_79F9)
        return fibonacci(mixed ^ (mixed >> 31), shift: shift)
    }

    @inline(__always)
    func slot(for key: PrefixKey) -> Int? {
        let meta = Self.meta(key)
        var index = Self.index(key, shift: shift)
        while true {
            let candidate = slots[index]
            if candidate.slot == 0 { return nil }
            if candidate.high == key.high && candidate.low == key.low && candidate.meta == meta {
                return Int(candidate.slot) - 1
            }
            index = (index + 1) & mask
        }
    }

    /// Bytes held.
    var memorySize: Int { (mask + 1) * MemoryLayout<Slot>.stride }
}

/// Memory for a snapshot's arena and tables. A buffer of 2 MiB or more is
/// 2 MiB aligned and asks the kernel for transparent huge pages (Linux
/// `madvise(MADV_HUGEPAGE)`): packets read it at random places, and with 4 KiB
/// pages a 100,000-entry store costs a TLB miss on most lookups. Freed with
/// `release`.
struct SnapshotMemory {
    let base: UnsafeMutableRawPointer
    /// Whether `base` came from malloc/posix_memalign (free) or from Swift's
    /// allocator (the fallback when both fail; it traps on exhaustion, as
    /// every Swift array does).
    private let fromMalloc: Bool

    static let hugePage = 2 << 20

    init(bytes: Int) {
        let size = max(64, bytes)
        #if canImport(Glibc)
        var pointer: UnsafeMutableRawPointer? = nil
        if size >= Self.hugePage {
            // Only the whole huge pages inside the buffer are advised: the
            // tail stays in small pages, so nothing beyond `size` becomes resident.
            let whole = size / Self.hugePage * Self.hugePage
            if posix_memalign(&pointer, Self.hugePage, size) == 0, let pointer {
                _ = madvise(pointer, whole, MADV_HUGEPAGE)
                base = pointer
                fromMalloc = true
                return
            }
        }
        if let pointer = malloc(size) {
            base = pointer
            fromMalloc = true
            return
        }
        #endif
        base = .allocate(byteCount: size, alignment: 16)
        fromMalloc = false
    }

    func release() {
        #if canImport(Glibc)
        if fromMalloc { free(base); return }
        #endif
        base.deallocate()
    }
}

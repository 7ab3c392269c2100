/// Store selectors keyed by byte strings (host identifiers, class names,
/// shared-network names), looked up with bytes borrowed from a packet
/// without allocating: a 64-bit FNV-1a hash finds the bucket, the bytes are
/// then compared.
///
/// A table of at most `linearLimit` keys (the usual handful of classes or
/// shared networks) is searched linearly instead: comparing lengths and a
/// few octets is cheaper than hashing.
struct BytesTable: Sendable {
    private var buckets: [UInt64: [(key: [UInt8], slot: Int)]] = [:]
    private var all: [(key: [UInt8], slot: Int)] = []

    static let linearLimit = 8

    var isEmpty: Bool { all.isEmpty }

    mutating func insert(_ key: [UInt8], slot: Int) {
        all.append((key, slot))
        let hash = key.withUnsafeBufferPointer { Self.hash($0) }
        buckets[hash, default: []].append((key, slot))
    }

    /// The slot stored for exactly these bytes.
    func slot(for bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        if all.count <= Self.linearLimit { return Self.find(bytes, in: all) }
        guard let bucket = buckets[Self.hash(bytes)] else { return nil }
        return Self.find(bytes, in: bucket)
    }

    private static func find(_ bytes: UnsafeBufferPointer<UInt8>, in list: [(key: [UInt8], slot: Int)]) -> Int? {
        for candidate in list where candidate.key.count == bytes.count {
            if candidate.key.withUnsafeBufferPointer({ $0.elementsEqual(bytes) }) { return candidate.slot }
        }
        return nil
    }

    /// The smallest slot stored for any of the NUL-terminated names in `list`.
    func firstSlot(amongNames list: UnsafeBufferPointer<UInt8>) -> Int? {
        var best: Int? = nil
        var start = 0
        var index = 0
        while index < list.count {
            if list[index] == 0 {
                if index > start, let slot = slot(for: UnsafeBufferPointer(rebasing: list[start..<index])) {
                    best = min(best ?? slot, slot)
                }
                start = index + 1
            }
            index += 1
        }
        if index > start, let slot = slot(for: UnsafeBufferPointer(rebasing: list[start..<index])) {
            best = min(best ?? slot, slot)
        }
        return best
    }

    /// FNV-1a, 64 bits.
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

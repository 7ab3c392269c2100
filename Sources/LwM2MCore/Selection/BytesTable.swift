/// Store selectors keyed by byte strings (host identifiers, class names,
/// shared-network names), looked up with bytes borrowed from a packet
/// without allocating: a 64-bit FNV-1a hash finds the place in an
/// open-addressing index (no SipHash: keys come from the operator's store),
/// the bytes are then compared.
///
/// A table of at most `linearLimit` keys (the usual handful of classes or
/// shared networks) is searched linearly instead: comparing lengths and a
/// few octets is cheaper than hashing.
struct BytesTable: Sendable {
    private var all: [(key: [UInt8], slot: Int)] = []
    /// Open addressing over `all`: (hash, position in `all` + 1), 0 = empty;
    /// power-of-two size, at most half full. Built when the table outgrows
    /// `linearLimit`.
    private var index: [(hash: UInt64, position: Int)] = []

    static let linearLimit = 8

    var isEmpty: Bool { all.isEmpty }

    mutating func insert(_ key: [UInt8], slot: Int) {
        all.append((key, slot))
        if all.count <= Self.linearLimit { return }
        if index.isEmpty || all.count * 2 > index.count {
            var size = 16
            while size < all.count * 2 { size <<= 1 }
            index = Array(repeating: (0, 0), count: size)
            for position in all.indices { place(position) }
        } else {
            place(all.count - 1)
        }
    }

    private mutating func place(_ position: Int) {
        let hash = all[position].key.withUnsafeBufferPointer { Self.hash($0) }
        let mask = index.count - 1
        var at = Int(truncatingIfNeeded: hash) & mask
        while index[at].position != 0 { at = (at + 1) & mask }
        index[at] = (hash, position + 1)
    }

    /// The slot stored for exactly these bytes (the first one inserted).
    func slot(for bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        if all.count <= Self.linearLimit {
            for candidate in all where Self.equal(candidate.key, bytes) { return candidate.slot }
            return nil
        }
        let hash = Self.hash(bytes)
        let mask = index.count - 1
        var at = Int(truncatingIfNeeded: hash) & mask
        // Positions are placed in insertion order, so along one probe
        // sequence the first key inserted comes first.
        while index[at].position != 0 {
            if index[at].hash == hash {
                let candidate = all[index[at].position - 1]
                if Self.equal(candidate.key, bytes) { return candidate.slot }
            }
            at = (at + 1) & mask
        }
        return nil
    }

    @inline(__always)
    private static func equal(_ key: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        key.count == bytes.count && key.withUnsafeBufferPointer { $0.elementsEqual(bytes) }
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

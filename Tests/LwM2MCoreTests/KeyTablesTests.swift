import Testing
@testable import LwM2MCore

@Suite("Subnet tables: open addressing, multiplicative hash")
struct KeyTablesTests {
    @Test("subnet ids: every id finds its slot, others miss", arguments: [0, 1, 7, 100, 20_000])
    func subnetIDs(count: Int) {
        // Sequential ids (Kea's usual numbering) and sparse ones, with 0 and the maximum.
        var pairs: [(id: UInt32, slot: Int)] = (0..<count).map { (UInt32($0 + 1), $0) }
        pairs += [(0, count), (UInt32.max, count + 1), (1 << 20, count + 2)]
        let table = SubnetIDTable(pairs)
        #expect(table.count == pairs.count)
        for pair in pairs { #expect(table.slot(for: pair.id) == pair.slot) }
        #expect(table.slot(for: UInt32(count + 1)) == nil)
        #expect(table.slot(for: 1 << 21) == nil)
    }

    @Test func aRepeatedIDKeepsItsFirstSlot() {
        let table = SubnetIDTable([(5, 0), (5, 1), (6, 2)])
        #expect(table.slot(for: 5) == 0 && table.slot(for: 6) == 2 && table.count == 2)
    }

    func key(_ family: AddressFamily, _ bytes: [UInt8], _ length: UInt8) -> PrefixKey {
        bytes.withUnsafeBufferPointer { PrefixKey(family: family, address: $0, length: length) }
    }

    @Test("prefixes: every prefix finds its slot; length and family tell keys apart", arguments: [1, 9, 30_000])
    func prefixes(count: Int) {
        var pairs: [(key: PrefixKey, slot: Int)] = []
        for n in 0..<count {
            pairs.append((key(.v4, [10, UInt8(n >> 8 & 0xff), UInt8(n & 0xff), 0], 24), pairs.count))
            pairs.append((key(.v6, [0x20, 0x01, 0x0d, 0xb8, UInt8(n >> 8 & 0xff), UInt8(n & 0xff), 0, 0] + Array(repeating: 0, count: 8), 64), pairs.count))
        }
        // Same address bits, other length or family: other keys.
        pairs.append((key(.v4, [10, 0, 0, 0], 16), pairs.count))
        pairs.append((key(.v6, [10, 0, 0, 0] + Array(repeating: 0, count: 12), 24), pairs.count))
        let table = PrefixTable(pairs)
        #expect(table.count == pairs.count)
        for pair in pairs { #expect(table.slot(for: pair.key) == pair.slot) }
        #expect(table.slot(for: key(.v4, [10, 0, 0, 0], 8)) == nil)
        #expect(table.slot(for: key(.v4, [192, 0, 2, 0], 24)) == nil)
        #expect(table.slot(for: key(.v6, [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 12), 48)) == nil)
        // Host bits are cleared: an address inside a prefix is the prefix's key.
        #expect(table.slot(for: key(.v4, [10, 0, 1, 77], 24)) == (count > 1 ? 2 : nil))
    }

    @Test func prefixKeyFromFourOrSixteenOctetsOrFewer() {
        // The shim passes 16 octets for both families; a store prefix has 4 or 16.
        #expect(key(.v4, [192, 0, 2, 9] + Array(repeating: 0xff, count: 12), 24) == key(.v4, [192, 0, 2, 0], 24))
        #expect(key(.v6, [0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 128).low == 0x0506_0708_090a_0b0c)
        #expect(key(.v6, [0x20, 0x01], 16) == key(.v6, [0x20, 0x01] + Array(repeating: 0, count: 14), 16))
    }
}

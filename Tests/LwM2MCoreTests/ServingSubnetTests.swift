import Testing
@testable import LwM2MCore

/// The subnet whose entries apply when Kea leases from another subnet of a
/// shared network than the one it selected (Tests/replay/test_shared_network.py
/// checks the same with a real Kea).
@Suite("Serving subnet: the selected subnet, or the shared-network sibling the lease is from")
struct ServingSubnetTests {
    static func subnet(_ id: UInt32, _ address: [UInt8], _ length: UInt8, _ family: AddressFamily = .v4) -> SubnetFact {
        SubnetFact(id: id, prefix: address.withUnsafeBufferPointer { PrefixKey(family: family, address: $0, length: length) })
    }

    static func address(_ bytes: [UInt8], _ family: AddressFamily = .v4) -> PrefixKey {
        bytes.withUnsafeBufferPointer { PrefixKey.address($0, family: family) }
    }

    // The lab's shared network "meters": a pool-less subnet and the sibling with the pool.
    let selected = Self.subnet(1, [192, 0, 2, 0], 25)
    let sibling = Self.subnet(2, [192, 0, 2, 128], 25)
    let other = Self.subnet(3, [198, 51, 100, 0], 24)
    var network: [SubnetFact] { [selected, sibling, other] }

    @Test func aLeaseFromTheSelectedSubnetKeepsIt() {
        let chosen = ServingSubnet.choose(selected: selected, leasedAddress: Self.address([192, 0, 2, 5]),
                                          sharedNetwork: network)
        #expect(chosen == selected)
    }

    @Test func aLeaseFromASiblingServesTheSibling() {
        let chosen = ServingSubnet.choose(selected: selected, leasedAddress: Self.address([192, 0, 2, 200]),
                                          sharedNetwork: network)
        #expect(chosen == sibling)
        let third = ServingSubnet.choose(selected: selected, leasedAddress: Self.address([198, 51, 100, 9]),
                                         sharedNetwork: network)
        #expect(third == other)
    }

    @Test func noLeaseOrALeaseOutsideTheNetworkKeepsTheSelectedSubnet() {
        #expect(ServingSubnet.choose(selected: selected, leasedAddress: nil, sharedNetwork: network) == selected)
        #expect(ServingSubnet.choose(selected: selected, leasedAddress: Self.address([203, 0, 113, 1]),
                                     sharedNetwork: network) == selected)
        // A subnet in no shared network: nothing else to choose from.
        #expect(ServingSubnet.choose(selected: selected, leasedAddress: Self.address([192, 0, 2, 200]),
                                     sharedNetwork: []) == selected)
    }

    @Test func theFirstSubnetInKeaOrderThatHoldsTheLeaseWins() {
        let wide = Self.subnet(4, [192, 0, 2, 0], 24)
        let chosen = ServingSubnet.choose(selected: other, leasedAddress: Self.address([192, 0, 2, 200]),
                                          sharedNetwork: [other, wide, sibling])
        #expect(chosen == wide)
    }

    @Test func dhcpv6() {
        let first = Self.subnet(1, [0x20, 0x01, 0x0d, 0xb8, 0, 1] + Array(repeating: 0, count: 10), 64, .v6)
        let second = Self.subnet(2, [0x20, 0x01, 0x0d, 0xb8, 0, 9] + Array(repeating: 0, count: 10), 64, .v6)
        let leased = Self.address([0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], .v6)
        #expect(ServingSubnet.choose(selected: first, leasedAddress: leased, sharedNetwork: [first, second]) == second)
        #expect(ServingSubnet.choose(selected: second, leasedAddress: leased, sharedNetwork: [first, second]) == second)
        // An IPv4 address is in no IPv6 subnet.
        #expect(ServingSubnet.choose(selected: first, leasedAddress: Self.address([192, 0, 2, 200]),
                                     sharedNetwork: [first, second]) == first)
    }

    @Test("prefix containment at every length", arguments: [0, 1, 7, 8, 25, 31, 32])
    func containmentV4(length: Int) {
        let prefix = Self.subnet(1, [192, 0, 2, 128], UInt8(length)).prefix
        #expect(prefix.contains(Self.address([192, 0, 2, 128])))
        // The last bit of the prefix flipped: outside (every length but 0).
        let flipped = UInt32(0xC000_0280) ^ (length == 0 ? 0 : UInt32(1) << (32 - length))
        let bytes = (0..<4).map { UInt8(truncatingIfNeeded: flipped >> (24 - 8 * $0)) }
        #expect(prefix.contains(Self.address(bytes)) == (length == 0))
    }

    @Test("IPv6 containment across the 64-bit halves", arguments: [0, 48, 64, 65, 127, 128])
    func containmentV6(length: Int) {
        var base = [UInt8](repeating: 0xA5, count: 16)
        base[0] = 0x20
        let prefix = Self.subnet(1, base, UInt8(length), .v6).prefix
        #expect(prefix.contains(Self.address(base, .v6)))
        if length > 0 {
            var flipped = base
            flipped[(length - 1) / 8] ^= UInt8(0x80) >> UInt8((length - 1) % 8)
            #expect(!prefix.contains(Self.address(flipped, .v6)))
        }
        // A shorter prefix never lies inside a longer one.
        if length > 0 {
            let shorter = Self.subnet(2, base, UInt8(length - 1), .v6).prefix
            #expect(!prefix.contains(shorter))
            #expect(shorter.contains(prefix))
        }
    }

    /// The chosen subnet's entries apply: by id and by prefix, as Snapshot.answer sees them.
    @Test func theSiblingsEntriesApply() throws {
        let folder = try TemporaryFolder()
        let store = try Store.load(path: try folder.write("store.json", """
            { "entries": [ { "subnet-id": 1, "bootstrap-uri": "coap://first" },
                           { "subnet": "192.0.2.128/25", "bootstrap-uri": "coap://second" } ] }
            """))
        let codes = HookParameters.defaultCodes(for: .v4)
        let snapshot = Snapshot(store: store, parameters: HookParameters(storeFile: store.path, bootstrapURICode: codes.uri,
                                                                         serverCertificateCode: codes.certificate,
                                                                         defaultMaxMessageSize: 576),
                                family: .v4)
        func entry(leased: [UInt8]) -> Int? {
            let serving = ServingSubnet.choose(selected: selected, leasedAddress: Self.address(leased), sharedNetwork: network)
            return snapshot.select(ExchangeFacts(family: .v4, queryType: 1, responseType: 2,
                                                 subnetID: serving.id, subnetPrefix: serving.prefix))?.uriEntry
        }
        #expect(entry(leased: [192, 0, 2, 5]) == 0)
        #expect(entry(leased: [192, 0, 2, 200]) == 1)
    }
}

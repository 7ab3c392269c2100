import Testing
@testable import LwM2MCore

@Suite("Subnet prefixes")
struct SubnetPrefixTests {
    @Test func parsesBothFamilies() throws {
        let v4 = try SubnetPrefix(parsing: "192.0.2.0/24")
        #expect(v4.family == .v4 && v4.address == [192, 0, 2, 0] && v4.length == 24)
        #expect(v4.description == "192.0.2.0/24")
        let v6 = try SubnetPrefix(parsing: "2001:db8:1::/64")
        #expect(v6.family == .v6 && v6.length == 64 && v6.description == "2001:db8:1::/64")
    }

    @Test("rejects what Kea would not write", arguments: [
        ("192.0.2.0", "expected ADDRESS/LENGTH"),
        ("192.0.2.0/33", "longer than a DHCPv4 address"),
        ("192.0.2.1/24", "host bits are set; the subnet is 192.0.2.0/24"),
        ("2001:db8::1/64", "host bits are set; the subnet is 2001:db8::/64"),
        ("bs.example/24", "is not an IPv4 or IPv6 address"),
        ("192.0.2.0/x", "expected ADDRESS/LENGTH"),
    ])
    func rejects(text: String, reason: String) {
        do {
            _ = try SubnetPrefix(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test func keyFromPacketMatchesKeyFromStore() throws {
        let stored = PrefixKey(try SubnetPrefix(parsing: "2001:db8:1::/64"))
        let raw: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99]
        let fromPacket = raw.withUnsafeBufferPointer { PrefixKey(family: .v6, address: $0, length: 64) }
        #expect(stored == fromPacket)
        let other = raw.withUnsafeBufferPointer { PrefixKey(family: .v6, address: $0, length: 48) }
        #expect(stored != other)
        let v4 = [UInt8]([192, 0, 2, 77]).withUnsafeBufferPointer { PrefixKey(family: .v4, address: $0, length: 24) }
        #expect(v4 == PrefixKey(try SubnetPrefix(parsing: "192.0.2.0/24")))
    }
}

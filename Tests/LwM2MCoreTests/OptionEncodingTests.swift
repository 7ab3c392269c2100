import Testing
@testable import LwM2MCore

@Suite("DHCPv4 and DHCPv6 option encoding")
struct OptionEncodingTests {
    /// Splits `wire` into its (code, length, value) instances, checking every header.
    func instances(_ wire: [UInt8]) -> [(code: UInt8, value: [UInt8])] {
        var result: [(UInt8, [UInt8])] = []
        var index = 0
        while index < wire.count {
            let length = Int(wire[index + 1])
            result.append((wire[index], Array(wire[(index + 2)..<(index + 2 + length)])))
            index += 2 + length
        }
        #expect(index == wire.count)
        return result
    }

    @Test("RFC 3396 split at the 255-octet boundaries", arguments: [0, 1, 253, 254, 255, 256, 509, 510, 511, 1000])
    func dhcpv4Split(length: Int) {
        let value = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        let wire = OptionEncoding.dhcpv4(code: 224, value: value)
        let parts = instances(wire)
        #expect(parts.count == max(1, (length + 254) / 255))
        #expect(parts.allSatisfy { $0.code == 224 })
        #expect(parts.dropLast().allSatisfy { $0.value.count == 255 })
        #expect(parts.flatMap(\.value) == value)
        #expect(wire.count == length + 2 * parts.count)
        #expect(OptionEncoding.dhcpv4Value(of: 224, inOptions: wire + [255]) == value)
    }

    @Test func dhcpv6Option() {
        let value = Array("coap://[2001:db8::5]:5683".utf8)
        let wire = OptionEncoding.dhcpv6(code: 0x1234, value: value)
        #expect(Array(wire.prefix(4)) == [0x12, 0x34, 0, UInt8(value.count)])
        #expect(Array(wire.dropFirst(4)) == value)
        let long = [UInt8](repeating: 9, count: 300)
        #expect(Array(OptionEncoding.dhcpv6(code: 201, value: long).prefix(4)) == [0, 201, 1, 44])
    }

    @Test func certificateValueStartsWithEncodingOctet() {
        #expect(OptionEncoding.certificateValue(der: [0x30, 0x82]) == [4, 0x30, 0x82])
    }
}

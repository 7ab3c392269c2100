/// Wire encoding of the draft's two options (draft-ietf-dhc-dhcpv6-lwm2m-bootstrap-options-00).
///
/// Values are encoded once, when a store is loaded; packets only copy the
/// result.
public enum OptionEncoding {
    /// RFC 7296 §3.6 Cert Encoding 4: "X.509 Certificate - Signature", DER.
    public static let x509SignatureEncoding: UInt8 = 4
    /// RFC 7670 §3 Cert Encoding 15: "Raw Public Key", a DER SubjectPublicKeyInfo.
    public static let rawPublicKeyEncoding: UInt8 = 15

    /// The largest value one DHCPv4 option instance carries.
    public static let maxDHCPv4PartLength = 255

    /// The largest DHCPv6 option value: option-len is 16 bits, and Kea's
    /// `Option::len()` (header included) is 16 bits too.
    public static let maxDHCPv6ValueLength = 65535 - 4

    /// The server-certificate option's value: the encoding octet (4 for an
    /// X.509 certificate, 15 for a raw public key), then the DER.
    public static func certificateValue(der: [UInt8], encoding: UInt8 = x509SignatureEncoding) -> [UInt8] {
        var value = [UInt8]()
        value.reserveCapacity(der.count + 1)
        value.append(encoding)
        value.append(contentsOf: der)
        return value
    }

    /// The server-certificate option's value for `certificate`, by its encoding.
    public static func certificateValue(_ certificate: ServerCertificate) -> [UInt8] {
        certificateValue(der: certificate.der, encoding: certificate.encoding.rawValue)
    }

    /// A DHCPv4 option as it goes on the wire. A value longer than 255 octets
    /// becomes consecutive instances of the same code (RFC 3396 §6): each part
    /// 255 octets but the last, and the parts concatenate to `value`. An empty
    /// value is one instance of length 0.
    public static func dhcpv4(code: UInt8, value: [UInt8]) -> [UInt8] {
        var wire = [UInt8]()
        appendDHCPv4(code: code, value: value, to: &wire)
        return wire
    }

    /// `dhcpv4(code:value:)` appended to `wire` (no intermediate array).
    public static func appendDHCPv4(code: UInt8, value: [UInt8], to wire: inout [UInt8]) {
        let parts = max(1, (value.count + maxDHCPv4PartLength - 1) / maxDHCPv4PartLength)
        wire.reserveCapacity(wire.count + value.count + 2 * parts)
        var start = 0
        repeat {
            let end = min(start + maxDHCPv4PartLength, value.count)
            wire.append(code)
            wire.append(UInt8(truncatingIfNeeded: end - start))
            wire.append(contentsOf: value[start..<end])
            start = end
        } while start < value.count
    }

    /// A DHCPv6 option as it goes on the wire: 16-bit code, 16-bit length, value
    /// (RFC 8415 §21.1). The caller keeps `value` within `maxDHCPv6ValueLength`.
    public static func dhcpv6(code: UInt16, value: [UInt8]) -> [UInt8] {
        var wire = [UInt8]()
        appendDHCPv6(code: code, value: value, to: &wire)
        return wire
    }

    /// `dhcpv6(code:value:)` appended to `wire` (no intermediate array).
    public static func appendDHCPv6(code: UInt16, value: [UInt8], to wire: inout [UInt8]) {
        wire.reserveCapacity(wire.count + value.count + 4)
        wire.append(UInt8(truncatingIfNeeded: code >> 8))
        wire.append(UInt8(truncatingIfNeeded: code))
        wire.append(UInt8(truncatingIfNeeded: value.count >> 8))
        wire.append(UInt8(truncatingIfNeeded: value.count))
        wire.append(contentsOf: value)
    }

    /// Reassembles the value of `code` from a DHCPv4 options area (the bytes
    /// after the magic cookie): all instances concatenated in order (RFC 3396).
    /// Returns nil when the code is absent or the area is malformed.
    public static func dhcpv4Value(of code: UInt8, inOptions area: [UInt8]) -> [UInt8]? {
        var value: [UInt8]? = nil
        var index = 0
        while index < area.count {
            let type = area[index]
            if type == 0 { index += 1; continue }   // Pad
            if type == 255 { break }                  // End
            guard index + 1 < area.count else { return nil }
            let length = Int(area[index + 1])
            let start = index + 2
            guard start + length <= area.count else { return nil }
            if type == code { value = (value ?? []) + area[start..<(start + length)] }
            index = start + length
        }
        return value
    }
}

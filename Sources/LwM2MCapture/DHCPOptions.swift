import LwM2MCore

/// Our two options found in one DHCP message (or options area).
public struct FoundOptions: Sendable {
    public var family: AddressFamily
    public var codes: CodePair
    /// The reassembled values (all DHCPv4 instances concatenated, RFC 3396).
    public var uri: [UInt8]?
    public var certificate: [UInt8]?
    public var uriInstances = 0
    public var certificateInstances = 0

    public init(family: AddressFamily, codes: CodePair) {
        self.family = family
        self.codes = codes
    }

    public var isEmpty: Bool { uri == nil && certificate == nil }

    /// What an operator reads.
    public func lines() -> [String] {
        var out: [String] = []
        if let uri {
            let text = String(decoding: uri, as: UTF8.self)
            var line = "bootstrap-uri (code \(codes.uri)\(instances(uriInstances)), \(uri.count) octets): \(text)"
            do { _ = try BootstrapURI(text) } catch { line += "  [the hook would refuse it: \(error.reason)]" }
            out.append(line)
        }
        if let certificate {
            let header = "server-certificate (code \(codes.certificate)\(instances(certificateInstances)), \(certificate.count) octets)"
            guard let encoding = certificate.first else {
                out.append("\(header): empty")
                return out
            }
            switch encoding {
            case OptionEncoding.x509SignatureEncoding:
                do {
                    let parsed = try ServerCertificate(fileContents: Array(certificate.dropFirst()))
                    out.append("\(header): X.509 DER, \(certificate.count - 1) octets")
                    out += CertificateSummary.lines(parsed).map { "  " + $0 }
                } catch {
                    out.append("\(header): encoding 4 but the DER \(error.reason)")
                }
            case OptionEncoding.rawPublicKeyEncoding:
                do {
                    let parsed = try ServerCertificate(publicKeyDER: Array(certificate.dropFirst()))
                    out.append("\(header): encoding 15, raw public key, \(certificate.count - 1) octets")
                    out += CertificateSummary.lines(parsed).map { "  " + $0 }
                } catch {
                    out.append("\(header): encoding 15 (raw public key) but the SubjectPublicKeyInfo \(error.reason)")
                }
            default:
                out.append("\(header): certificate encoding \(encoding), not 4 (X.509 DER) or 15 (raw public key); "
                           + "value \(Hex.text(certificate))")
            }
        }
        if out.isEmpty { out.append("no LwM2M options (codes \(codes.uri), \(codes.certificate))") }
        return out
    }

    private func instances(_ count: Int) -> String {
        family == .v4 ? ", \(count) instance\(count == 1 ? "" : "s")" : ""
    }
}

/// Walks DHCP options areas.
public enum DHCPOptions {
    /// A DHCPv4 options area (after the magic cookie): checks its layout and
    /// reassembles our options with the core's RFC 3396 reassembly.
    public static func v4(_ area: [UInt8], codes: CodePair, context: String) throws(MalformedInput) -> FoundOptions {
        var found = FoundOptions(family: .v4, codes: codes)
        var index = 0
        while index < area.count {
            let code = area[index]
            if code == 0 { index += 1; continue }
            if code == 255 { break }
            guard index + 1 < area.count, index + 2 + Int(area[index + 1]) <= area.count else {
                throw MalformedInput("\(context): DHCPv4 option \(code) at offset \(index) runs past the end of the options")
            }
            if UInt16(code) == codes.uri { found.uriInstances += 1 }
            if UInt16(code) == codes.certificate { found.certificateInstances += 1 }
            index += 2 + Int(area[index + 1])
        }
        if codes.uri <= 254, found.uriInstances > 0 {
            found.uri = OptionEncoding.dhcpv4Value(of: UInt8(codes.uri), inOptions: area)
        }
        if codes.certificate <= 254, found.certificateInstances > 0 {
            found.certificate = OptionEncoding.dhcpv4Value(of: UInt8(codes.certificate), inOptions: area)
        }
        return found
    }

    /// A DHCPv6 options area: every top-level option, code and value, in order.
    public static func v6List(_ area: [UInt8], context: String) throws(MalformedInput) -> [(code: UInt16, value: [UInt8])] {
        let reader = ByteReader(bytes: area, context: context)
        var list: [(code: UInt16, value: [UInt8])] = []
        var index = 0
        while index < area.count {
            guard index + 4 <= area.count else {
                throw MalformedInput("\(context): DHCPv6 option header at offset \(index) is truncated")
            }
            let code = try reader.u16(index)
            let length = Int(try reader.u16(index + 2))
            guard index + 4 + length <= area.count else {
                throw MalformedInput("\(context): DHCPv6 option \(code) at offset \(index) runs past the end of the options")
            }
            list.append((code, try reader.slice(index + 4, length)))
            index += 4 + length
        }
        return list
    }

    /// Our options in a DHCPv6 options area (the first instance of each code).
    public static func v6(_ area: [UInt8], codes: CodePair, context: String) throws(MalformedInput) -> FoundOptions {
        var found = FoundOptions(family: .v6, codes: codes)
        for option in try v6List(area, context: context) {
            if option.code == codes.uri, found.uri == nil { found.uri = option.value; found.uriInstances += 1 }
            if option.code == codes.certificate, found.certificate == nil {
                found.certificate = option.value; found.certificateInstances += 1
            }
        }
        return found
    }
}

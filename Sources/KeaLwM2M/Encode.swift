import ArgumentParser
import LwM2MCapture
import LwM2MCore

/// `kea-lwm2m encode`: the option bytes the hook would send for a URI and
/// certificate, and Kea's native equivalent.
struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the option payloads for a URI (and certificate or raw public key), and the equivalent Kea option-def/option-data JSON.",
        discussion: """
            The URI and certificate (or raw public key: encoding 15, RFC 7670) are validated \
            as in a store entry, and the codes as the \
            hook's parameters (against Kea 2.2's own option codes). The bytes are what the \
            hook puts in a reply: DHCPv4 options longer than 255 octets become several \
            instances of the same code (RFC 3396), shown one per line.
            """)

    @Option(help: "Server family: 4 (kea-dhcp4) or 6 (kea-dhcp6).")
    var family: FamilyArgument

    @Option(help: "The bootstrap-server URI (coap, coaps, coap+tcp or coaps+tcp).")
    var uri: String

    @Option(help: "The bootstrap server's certificate, PEM or DER.")
    var cert: String?

    @Option(name: .customLong("public-key"),
            help: "The bootstrap server's raw public key instead of a certificate: PEM PUBLIC KEY or DER SubjectPublicKeyInfo (EC P-256, EC P-384 or Ed25519).")
    var publicKey: String?

    @Option(name: .customLong("uri-code"), help: "Code of the URI option (default 224 for DHCPv4, 200 for DHCPv6).")
    var uriCode: Int?

    @Option(name: .customLong("cert-code"), help: "Code of the certificate option (default 225 for DHCPv4, 201 for DHCPv6).")
    var certCode: Int?

    @Flag(name: .customLong("kea-json"), help: "Print only Kea's option-def and option-data JSON.")
    var keaJSONOnly = false

    func run() throws {
        let family = self.family.family
        let parameters = try codes(family)
        let bootstrapURI: BootstrapURI
        do { bootstrapURI = try BootstrapURI(uri) } catch { throw ToolError("--uri '\(uri)' \(error.reason)") }
        var certificate: ServerCertificate? = nil
        switch (cert, publicKey) {
        case (let cert?, nil):
            do { certificate = try ServerCertificate(fileContents: try Output.read(cert)) }
            catch let error as CertificateError { throw ToolError("\(cert) \(error.reason)") }
        case (nil, let key?):
            do { certificate = try ServerCertificate(publicKeyFileContents: try Output.read(key)) }
            catch let error as CertificateError { throw ToolError("\(key) \(error.reason)") }
        case (_?, _?):
            throw ToolError("give --cert or --public-key, not both: the certificate option carries one of them")
        case (nil, nil):
            break
        }
        let uriCode = parameters.bootstrapURICode, certCode = parameters.serverCertificateCode
        let certificateValue = certificate.map { OptionEncoding.certificateValue($0) }

        if !keaJSONOnly {
            print("\(family), option codes \(uriCode) (URI), \(certCode) (certificate)")
            show("bootstrap-uri", code: uriCode, value: bootstrapURI.bytes, family: family)
            if let certificate, let certificateValue {
                show("server-certificate", code: certCode, value: certificateValue, family: family)
                for line in CertificateSummary.lines(certificate) { print("  \(line)") }
            }
            print("Kea option-def and option-data (Kea's own way, for comparison):")
        }
        print(KeaNativeJSON.text(family: family, uri: bootstrapURI.description, uriCode: uriCode,
                                 certificateValue: certificateValue, certificateCode: certCode))
    }

    /// The codes, validated exactly as the hook validates its parameters.
    private func codes(_ family: AddressFamily) throws(ToolError) -> HookParameters {
        var json = "{\"store-file\":\"-\""
        if let uriCode { json += ",\"\(HookParameters.Key.bootstrapURICode)\":\(uriCode)" }
        if let certCode { json += ",\"\(HookParameters.Key.serverCertificateCode)\":\(certCode)" }
        json += "}"
        do {
            return try HookParameters.parse(json: Array(json.utf8), family: family,
                                            keaDefinedCodes: Set(KeaStandardOptions.codes(for: family, version: .v2_2).keys))
        } catch {
            let flag = error.parameter == HookParameters.Key.serverCertificateCode ? "--cert-code" : "--uri-code"
            throw ToolError("\(flag): \(error.reason)")
        }
    }

    private func show(_ name: String, code: UInt16, value: [UInt8], family: AddressFamily) {
        switch family {
        case .v4:
            let wire = OptionEncoding.dhcpv4(code: UInt8(truncatingIfNeeded: code), value: value)
            let parts = DHCPv4Instances.split(wire)
            let split = parts.count > 1 ? ", \(parts.count) instances (RFC 3396)" : ""
            print("\(name): code \(code), value \(value.count) octets, wire \(wire.count) octets\(split)")
            print("  value: \(Output.hex(value))")
            if parts.count == 1 {
                print("  wire:  \(Output.hex(wire))")
            } else {
                for (number, part) in parts.enumerated() { print("  wire[\(number + 1)]: \(Output.hex(part))") }
            }
        case .v6:
            let wire = OptionEncoding.dhcpv6(code: code, value: value)
            print("\(name): code \(code), value \(value.count) octets, wire \(wire.count) octets")
            print("  value: \(Output.hex(value))")
            print("  wire:  \(Output.hex(wire))")
        }
    }
}

/// The instances of an encoded DHCPv4 option, as laid out by `OptionEncoding.dhcpv4`.
enum DHCPv4Instances {
    static func split(_ wire: [UInt8]) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        var index = 0
        while index + 1 < wire.count {
            let end = min(wire.count, index + 2 + Int(wire[index + 1]))
            parts.append(wire[index..<end])
            index = end
        }
        return parts
    }
}

/// How an operator would configure the same options with Kea alone.
enum KeaNativeJSON {
    static func text(family: AddressFamily, uri: String, uriCode: UInt16,
                     certificateValue: [UInt8]?, certificateCode: UInt16) -> String {
        let space = family == .v4 ? "dhcp4" : "dhcp6"
        var definitions = [
            "{ \"name\": \"lwm2m-bootstrap-uri\", \"code\": \(uriCode), \"space\": \"\(space)\", \"type\": \"string\" }",
        ]
        var data = [
            "{ \"name\": \"lwm2m-bootstrap-uri\", \"space\": \"\(space)\", \"data\": \(ConfigValue.quoted(uri)) }",
        ]
        if let certificateValue {
            definitions.append("{ \"name\": \"lwm2m-server-certificate\", \"code\": \(certificateCode), \"space\": \"\(space)\", \"type\": \"binary\" }")
            data.append("{ \"name\": \"lwm2m-server-certificate\", \"space\": \"\(space)\", \"csv-format\": false, \"data\": \"\(Output.hex(certificateValue))\" }")
        }
        return """
            {
              "option-def": [
                \(definitions.joined(separator: ",\n    "))
              ],
              "option-data": [
                \(data.joined(separator: ",\n    "))
              ]
            }
            """
    }
}

// libFuzzer target: the hook's parameters (HookParameters.parse), as Kea
// passes them to load(), for both families.
//
// Properties: a map that is accepted holds only values within the documented
// ranges, never a code Kea already defines, never the same code twice, and
// never a parameter of the other family; written back as JSON it reads to
// the same parameters; a refused one names a reason.
import FuzzSupport
import LwM2MCore

/// Codes Kea defines in each top-level space in a test configuration: a few
/// standard ones and one site-specific option-def, so the collision check runs.
private let defined: [AddressFamily: Set<UInt16>] = [
    .v4: [1, 3, 6, 43, 55, 57, 61, 82, 240],
    .v6: [1, 2, 6, 9, 23, 24, 300],
]

private func fuzzParameters(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let json = FuzzInput(data, size).bytes
    for family in [AddressFamily.v4, .v6] {
        let codes = defined[family] ?? []
        let parsed: HookParameters
        do {
            parsed = try HookParameters.parse(json: json, family: family, keaDefinedCodes: codes)
        } catch {
            Property.check(!error.reason.isEmpty && !error.description.isEmpty, "a refusal without a reason")
            continue
        }
        check(parsed, family: family, codes: codes)
        let again: HookParameters
        do {
            again = try HookParameters.parse(json: written(parsed, family: family), family: family, keaDefinedCodes: codes)
        } catch {
            Property.fail("accepted parameters written back are refused: \(error)")
        }
        Property.check(again == parsed, "parameters written back read differently: \(parsed) vs \(again)")
    }
    return 0
}

private func check(_ p: HookParameters, family: AddressFamily, codes: Set<UInt16>) {
    Property.check(!p.storeFile.isEmpty, "empty store-file accepted")
    Property.check(p.bootstrapURICode != p.serverCertificateCode, "both options have code \(p.bootstrapURICode)")
    for code in [p.bootstrapURICode, p.serverCertificateCode] {
        Property.check(!codes.contains(code), "code \(code) is already defined in Kea")
        switch family {
        case .v4: Property.check((224...254).contains(code), "DHCPv4 code \(code) outside 224-254")
        case .v6: Property.check(code >= 1, "DHCPv6 code 0")
        }
    }
    Property.check(HookParameters.maxMessageSizeRange.contains(p.defaultMaxMessageSize),
                   "default-max-message-size \(p.defaultMaxMessageSize)")
    Property.check(HookParameters.dhcpv6MaxReplySizeRange.contains(p.dhcpv6MaxReplySize),
                   "dhcpv6-max-reply-size \(p.dhcpv6MaxReplySize)")
    Property.check(HookParameters.watchIntervalRange.contains(p.watchInterval), "watch-interval \(p.watchInterval)")
    if let remember = p.rememberRequests {
        Property.check(family == .v4, "remember-requests accepted for DHCPv6")
        Property.check(HookParameters.RememberPolicy.lifetimeRange.contains(remember.lifetime), "lifetime \(remember.lifetime)")
        Property.check(HookParameters.RememberPolicy.maxClientsRange.contains(remember.maxClients),
                       "max-clients \(remember.maxClients)")
    }
    if family == .v6 {
        Property.check(p.defaultMaxMessageSize == HookParameters.maxMessageSizeRange.lowerBound,
                       "DHCPv6 parameters carry a DHCPv4 message size")
    } else {
        Property.check(p.dhcpv6MaxReplySize == HookParameters.defaultDHCPv6MaxReplySize,
                       "DHCPv4 parameters carry a DHCPv6 reply size")
    }
}

/// The parameters as JSON, written here (not by the product): every string
/// scalar as a \u escape.
private func written(_ p: HookParameters, family: AddressFamily) -> [UInt8] {
    var members = [
        "\"store-file\": \(quoted(p.storeFile))",
        "\"bootstrap-uri-code\": \(p.bootstrapURICode)",
        "\"server-certificate-code\": \(p.serverCertificateCode)",
        "\"watch-interval\": \(p.watchInterval)",
    ]
    switch family {
    case .v4:
        members.append("\"default-max-message-size\": \(p.defaultMaxMessageSize)")
        if let remember = p.rememberRequests {
            members.append("\"remember-requests\": {\"lifetime\": \(remember.lifetime), \"max-clients\": \(remember.maxClients)}")
        }
    case .v6:
        members.append("\"dhcpv6-max-reply-size\": \(p.dhcpv6MaxReplySize)")
    }
    return Array("{\(members.joined(separator: ", "))}".utf8)
}

private func quoted(_ text: String) -> String {
    var out = "\""
    for unit in text.utf16 {
        let hex = String(unit, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
    return out + "\""
}

// Last: every global above is initialized before the first input.
Fuzzer.main(fuzzParameters)

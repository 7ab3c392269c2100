import Testing
@testable import LwM2MCore

@Suite("Hook parameters")
struct HookParametersTests {
    func parse(_ json: String, _ family: AddressFamily = .v4, defined: Set<UInt16> = [1, 3, 6, 53, 55, 57]) throws(ParameterError) -> HookParameters {
        try HookParameters.parse(json: Array(json.utf8), family: family, keaDefinedCodes: defined)
    }

    func reason(_ json: String, _ family: AddressFamily = .v4, defined: Set<UInt16> = [1, 3, 6, 53, 55, 57]) -> String {
        do {
            _ = try parse(json, family, defined: defined)
            return "accepted"
        } catch {
            return error.description
        }
    }

    @Test func defaultsPerFamily() throws {
        let v4 = try parse(#"{"store-file": "/etc/kea/lwm2m.json"}"#)
        #expect(v4 == HookParameters(storeFile: "/etc/kea/lwm2m.json", bootstrapURICode: 224,
                                     serverCertificateCode: 225, defaultMaxMessageSize: 576))
        let v6 = try parse(#"{"store-file": "s.json"}"#, .v6)
        #expect(v6.bootstrapURICode == 200 && v6.serverCertificateCode == 201)
    }

    @Test func everyParameterSet() throws {
        let p = try parse(#"{"store-file": "s.json", "bootstrap-uri-code": 250, "server-certificate-code": 251, "default-max-message-size": 1500}"#)
        #expect(p.bootstrapURICode == 250 && p.serverCertificateCode == 251 && p.defaultMaxMessageSize == 1500)
    }

    @Test func watchInterval() throws {
        #expect(try parse(#"{"store-file": "s"}"#).watchInterval == 1)
        #expect(try parse(#"{"store-file": "s", "watch-interval": 0}"#, .v6).watchInterval == 0)
        #expect(try parse(#"{"store-file": "s", "watch-interval": 3600}"#).watchInterval == 3600)
        for bad in ["-1", "3601", "1.5", "\"1\"", "null"] {
            #expect(reason(#"{"store-file": "s", "watch-interval": "# + bad + "}")
                    .hasPrefix("parameter 'watch-interval': must be an integer number of seconds from 0"))
        }
    }

    @Test("invalid parameters name the parameter and the reason", arguments: [
        (#"{}"#, "parameter 'store-file': required"),
        (#"{"store-file": 5}"#, "parameter 'store-file': must be a string"),
        (#"{"store-file": ""}"#, "parameter 'store-file': must not be empty"),
        (#"{"store-file": "s", "store": "x"}"#, "parameter 'store': unknown"),
        (#"{"store-file": "s", "bootstrap-uri-code": 223}"#, "parameter 'bootstrap-uri-code': must be an integer from 224 to 254"),
        (#"{"store-file": "s", "bootstrap-uri-code": 255}"#, "parameter 'bootstrap-uri-code': must be an integer from 224 to 254"),
        (#"{"store-file": "s", "bootstrap-uri-code": "224"}"#, "parameter 'bootstrap-uri-code': must be an integer"),
        (#"{"store-file": "s", "bootstrap-uri-code": 224.5}"#, "parameter 'bootstrap-uri-code': must be an integer"),
        (#"{"store-file": "s", "server-certificate-code": 224}"#, "parameter 'server-certificate-code': must differ"),
        (#"{"store-file": "s", "default-max-message-size": 575}"#, "parameter 'default-max-message-size': must be an integer from 576 to 1500"),
        (#"{"store-file": "s", "default-max-message-size": 1501}"#, "parameter 'default-max-message-size': must be an integer from 576 to 1500"),
        (#"{"store-file": "s", "default-max-message-size": true}"#, "parameter 'default-max-message-size': must be an integer"),
        (#"[1]"#, "parameters must be a map"),
        (#"{"#, "parameters are not valid JSON"),
    ])
    func invalidV4(json: String, expected: String) {
        #expect(reason(json).hasPrefix(expected), "\(reason(json))")
    }

    @Test func codeKeaAlreadyDefines() {
        #expect(reason(#"{"store-file": "s", "bootstrap-uri-code": 230}"#, defined: [230])
            == "parameter 'bootstrap-uri-code': option code 230 is already defined in Kea's DHCPv4 option space; choose an unused code")
        #expect(reason(#"{"store-file": "s", "bootstrap-uri-code": 23}"#, .v6, defined: [23]).contains("already defined"))
    }

    @Test func dhcpv6Ranges() {
        #expect(reason(#"{"store-file": "s", "bootstrap-uri-code": 0}"#, .v6).contains("from 1 to 65535"))
        #expect(reason(#"{"store-file": "s", "bootstrap-uri-code": 65536}"#, .v6).contains("from 1 to 65535"))
        #expect(reason(#"{"store-file": "s", "bootstrap-uri-code": 65000}"#, .v6) == "accepted")
        #expect(reason(#"{"store-file": "s", "default-max-message-size": 1500}"#, .v6).contains("DHCPv4 only"))
    }
}

@Suite("Hook parameters: collisions with Kea's option definitions")
struct HookParameterCollisionTests {
    @Test func defaultCodesAreCheckedToo() {
        do {
            _ = try HookParameters.parse(json: Array(#"{"store-file": "s"}"#.utf8), family: .v4, keaDefinedCodes: [224])
            Issue.record("accepted a default code that Kea defines")
        } catch {
            #expect(error.description == "parameter 'bootstrap-uri-code': the default option code 224 is already defined in Kea's DHCPv4 option space; choose an unused code")
        }
    }
}

@Suite("Hook parameters: dhcpv6-max-reply-size and remember-requests")
struct SelectionParametersTests {
    func parse(_ json: String, _ family: AddressFamily) throws(ParameterError) -> HookParameters {
        try HookParameters.parse(json: Array(json.utf8), family: family, keaDefinedCodes: [])
    }

    func reason(_ json: String, _ family: AddressFamily) -> String {
        do { _ = try parse(json, family); return "accepted" } catch { return error.description }
    }

    @Test func defaultsAndValues() throws {
        let v6 = try parse(#"{"store-file": "s"}"#, .v6)
        #expect(v6.dhcpv6MaxReplySize == 1452 && v6.rememberRequests == nil)
        #expect(try parse(#"{"store-file": "s", "dhcpv6-max-reply-size": 1232}"#, .v6).dhcpv6MaxReplySize == 1232)
        #expect(try parse(#"{"store-file": "s", "dhcpv6-max-reply-size": 65527}"#, .v6).dhcpv6MaxReplySize == 65527)
        let v4 = try parse(#"{"store-file": "s", "remember-requests": {}}"#, .v4)
        #expect(v4.rememberRequests == .init(lifetime: 60, maxClients: 10_000))
        let set = try parse(#"{"store-file": "s", "remember-requests": {"lifetime": 30, "max-clients": 5}}"#, .v4)
        #expect(set.rememberRequests == .init(lifetime: 30, maxClients: 5))
    }

    @Test("invalid values", arguments: [
        (#"{"store-file": "s", "dhcpv6-max-reply-size": 1231}"#, AddressFamily.v6, "parameter 'dhcpv6-max-reply-size': must be an integer from 1232 to 65527"),
        (#"{"store-file": "s", "dhcpv6-max-reply-size": 65528}"#, .v6, "must be an integer from 1232 to 65527"),
        (#"{"store-file": "s", "dhcpv6-max-reply-size": "1452"}"#, .v6, "must be an integer"),
        (#"{"store-file": "s", "dhcpv6-max-reply-size": 1452}"#, .v4, "parameter 'dhcpv6-max-reply-size': applies to DHCPv6 only"),
        (#"{"store-file": "s", "remember-requests": {}}"#, .v6, "parameter 'remember-requests': applies to DHCPv4 only"),
        (#"{"store-file": "s", "remember-requests": true}"#, .v4, "parameter 'remember-requests': must be a map"),
        (#"{"store-file": "s", "remember-requests": {"ttl": 5}}"#, .v4, "unknown key 'ttl' (known: lifetime, max-clients)"),
        (#"{"store-file": "s", "remember-requests": {"lifetime": 0}}"#, .v4, "'lifetime' must be an integer from 1 to 3600"),
        (#"{"store-file": "s", "remember-requests": {"lifetime": 3601}}"#, .v4, "'lifetime' must be an integer from 1 to 3600"),
        (#"{"store-file": "s", "remember-requests": {"max-clients": 0}}"#, .v4, "'max-clients' must be an integer from 1 to 1000000"),
        (#"{"store-file": "s", "remember-requests": {"max-clients": 1000001}}"#, .v4, "'max-clients' must be an integer from 1 to 1000000"),
    ])
    func invalid(json: String, family: AddressFamily, expected: String) {
        let text = reason(json, family)
        #expect(text.contains(expected), "\(text)")
    }
}

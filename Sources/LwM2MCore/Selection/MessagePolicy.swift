/// Which replies carry LwM2M options: the ones that configure a client.
enum MessagePolicy {
    /// DHCPv4 message types the `remember-requests` policy looks at.
    static let discover: UInt8 = 1
    static let request: UInt8 = 3

    /// DHCPv4 (RFC 2131): OFFER (2) for DISCOVER (1), ACK (5) for REQUEST (3)
    /// and INFORM (8). Never NAK.
    /// DHCPv6 (RFC 8415): ADVERTISE (2) and REPLY (7), for SOLICIT (1),
    /// REQUEST (3), RENEW (5), REBIND (6) and INFORMATION-REQUEST (11); not
    /// for CONFIRM, RELEASE, DECLINE.
    /// A switch on the values: a few compares, no hashing.
    @inline(__always)
    static func carriesOptions(_ facts: ExchangeFacts) -> Bool {
        switch facts.family {
        case .v4:
            switch facts.queryType {
            case 1, 3, 8: break
            default: return false
            }
            return facts.responseType == 2 || facts.responseType == 5
        case .v6:
            switch facts.queryType {
            case 1, 3, 5, 6, 11: break
            default: return false
            }
            return facts.responseType == 2 || facts.responseType == 7
        }
    }
}

/// Which replies carry LwM2M options: the ones that configure a client.
enum MessagePolicy {
    /// DHCPv4 message types the `remember-requests` policy looks at.
    static let discover: UInt8 = 1
    static let request: UInt8 = 3

    /// DHCPv4 (RFC 2131): OFFER for DISCOVER, ACK for REQUEST and INFORM. Never NAK.
    private static let v4Replies: Set<UInt8> = [2, 5]
    private static let v4Queries: Set<UInt8> = [1, 3, 8]
    /// DHCPv6 (RFC 8415): ADVERTISE and REPLY, for SOLICIT, REQUEST, RENEW,
    /// REBIND and INFORMATION-REQUEST; not for CONFIRM, RELEASE, DECLINE.
    private static let v6Replies: Set<UInt8> = [2, 7]
    private static let v6Queries: Set<UInt8> = [1, 3, 5, 6, 11]

    static func carriesOptions(_ facts: ExchangeFacts) -> Bool {
        switch facts.family {
        case .v4: v4Queries.contains(facts.queryType) && v4Replies.contains(facts.responseType)
        case .v6: v6Queries.contains(facts.queryType) && v6Replies.contains(facts.responseType)
        }
    }
}

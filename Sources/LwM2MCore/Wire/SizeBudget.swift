/// How large a DHCPv4 reply may grow (RFC 2131 §2, RFC 2132 §9.10).
///
/// The client's Maximum DHCP Message Size (option 57) counts the whole IP
/// datagram: 20 octets of IP header and 8 of UDP come off before the DHCP
/// message. RFC 2131's minimum of 576 octets is 28 of headers, 236 of fixed
/// fields and 312 of options (cookie and END included).
public struct SizeBudget: Sendable, Equatable {
    /// IPv4 header without options plus UDP header.
    public static let ipAndUDPHeaders = 28

    /// The limit that applies, in octets of IP datagram.
    public let datagramLimit: Int

    /// The limit for the DHCP message itself (what the shim's `reply_size` counts).
    public var messageLimit: Int { datagramLimit - Self.ipAndUDPHeaders }

    /// - Parameters:
    ///   - option57: the raw value of the client's option 57, nil when absent.
    ///     A value that is not two octets is ignored, as if absent.
    ///   - defaultLimit: `default-max-message-size`, for clients without option 57.
    public init(option57: UnsafeBufferPointer<UInt8>?, defaultLimit: Int) {
        let range = HookParameters.maxMessageSizeRange
        if let raw = option57, raw.count == 2 {
            let asked = Int(raw[0]) << 8 | Int(raw[1])
            datagramLimit = min(max(asked, range.lowerBound), range.upperBound)
        } else {
            datagramLimit = min(max(defaultLimit, range.lowerBound), range.upperBound)
        }
    }

    /// Octets still free in a reply whose DHCP message is `replySize` octets now.
    public func room(afterReplyOf replySize: Int) -> Int {
        max(0, messageLimit - replySize)
    }
}

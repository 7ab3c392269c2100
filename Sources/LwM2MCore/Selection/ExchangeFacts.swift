/// What the shim read from one DHCP query/response pair. Borrowed buffers
/// point into Kea's packets and are valid only during one call.
public struct ExchangeFacts {
    public var family: AddressFamily
    /// DHCPv4 message type (option 53) / DHCPv6 msg-type of the client's message.
    public var queryType: UInt8
    /// The same for the reply.
    public var responseType: UInt8
    /// Kea's id of the subnet it selected, nil when none.
    public var subnetID: UInt32?
    /// The selected subnet's prefix, nil when none.
    public var subnetPrefix: PrefixKey?
    /// Raw PRL (option 55) / ORO (option 6) value, nil when absent.
    public var requestedOptions: UnsafeBufferPointer<UInt8>?
    /// Raw option 57 value, nil when absent (DHCPv4).
    public var maxMessageSize: UnsafeBufferPointer<UInt8>?
    /// Octets the reply takes now, before our options (DHCPv4: whole DHCP message).
    public var replySize: Int

    public init(family: AddressFamily, queryType: UInt8, responseType: UInt8,
                subnetID: UInt32? = nil, subnetPrefix: PrefixKey? = nil,
                requestedOptions: UnsafeBufferPointer<UInt8>? = nil,
                maxMessageSize: UnsafeBufferPointer<UInt8>? = nil, replySize: Int = 0) {
        self.family = family
        self.queryType = queryType
        self.responseType = responseType
        self.subnetID = subnetID
        self.subnetPrefix = subnetPrefix
        self.requestedOptions = requestedOptions
        self.maxMessageSize = maxMessageSize
        self.replySize = replySize
    }
}

/// A subnet prefix as a fixed-size hashable value, so that looking one up
/// for a packet allocates nothing.
public struct PrefixKey: Hashable, Sendable {
    let high: UInt64
    let low: UInt64
    let length: UInt8
    let family: AddressFamily

    /// From raw address bytes (4 or 16, network order); host bits are cleared.
    public init(family: AddressFamily, address: UnsafeBufferPointer<UInt8>, length: UInt8) {
        let bits = min(Int(length), family.addressLength * 8)
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<min(address.count, family.addressLength) {
            if index < 8 { high |= UInt64(address[index]) << (56 - 8 * index) }
            else { low |= UInt64(address[index]) << (56 - 8 * (index - 8)) }
        }
        self.high = bits >= 64 ? high : (bits == 0 ? 0 : high & ~(UInt64.max >> bits))
        self.low = bits <= 64 ? 0 : (bits >= 128 ? low : low & ~(UInt64.max >> (bits - 64)))
        self.length = UInt8(truncatingIfNeeded: bits)
        self.family = family
    }

    public init(_ prefix: SubnetPrefix) {
        self = prefix.address.withUnsafeBufferPointer {
            PrefixKey(family: prefix.family, address: $0, length: prefix.length)
        }
    }
}

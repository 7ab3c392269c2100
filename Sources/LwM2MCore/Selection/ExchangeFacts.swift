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
    /// Octets the reply takes now, before our options: DHCPv4 the whole DHCP
    /// message, DHCPv6 the message as sent, Relay-reply layers included.
    public var replySize: Int

    /// The facts below that the shim read; the others are absent because the
    /// loaded store does not need them (see `Snapshot.neededFacts`).
    public var provided: Facts = []
    /// DHCPv4: the query's hardware type and address (chaddr).
    public var hardwareType: UInt8 = 0
    public var hardwareAddress: UnsafeBufferPointer<UInt8>? = nil
    /// DHCPv4: the value of option 61; DHCPv6: the DUID (value of option 1).
    public var clientID: UnsafeBufferPointer<UInt8>? = nil
    /// The query's Kea client classes, each name followed by one NUL.
    public var clientClasses: UnsafeBufferPointer<UInt8>? = nil
    /// The name of the serving subnet's shared network; nil when none.
    public var sharedNetwork: UnsafeBufferPointer<UInt8>? = nil
    /// Codes of the options the reply carries already; nil when not read.
    public var replyCodes: UnsafeBufferPointer<UInt16>? = nil

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

/// Facts about a query that only some stores need; the shim reads them only
/// when asked to (reading client classes or copying ids costs instructions on
/// every packet). The raw values are the C ABI's LWM2M_FACT_* bits.
public struct Facts: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let hardwareAddress = Facts(rawValue: 1 << 0)
    public static let clientID = Facts(rawValue: 1 << 1)
    public static let clientClasses = Facts(rawValue: 1 << 2)
    public static let sharedNetwork = Facts(rawValue: 1 << 3)
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
        let count = min(address.count, family.addressLength)
        if count == 16, let base = address.baseAddress {
            // The usual IPv6 case: two big-endian loads instead of 16 shifts.
            let raw = UnsafeRawPointer(base)
            high = UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self))
            low = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        } else if count == 4, let base = address.baseAddress {
            high = UInt64(UInt32(bigEndian: UnsafeRawPointer(base).loadUnaligned(as: UInt32.self))) << 32
        } else {
            for index in 0..<count {
                if index < 8 { high |= UInt64(address[index]) << (56 - 8 * index) }
                else { low |= UInt64(address[index]) << (56 - 8 * (index - 8)) }
            }
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

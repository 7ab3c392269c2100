/// The client's list of wanted options: DHCPv4 Parameter Request List
/// (option 55, one octet per code) or DHCPv6 Option Request Option (option 6,
/// two octets per code, network order).
public struct RequestedOptions {
    private let raw: UnsafeBufferPointer<UInt8>?
    private let family: AddressFamily

    /// - Parameter raw: the option's value as the client sent it; nil when absent.
    public init(raw: UnsafeBufferPointer<UInt8>?, family: AddressFamily) {
        self.raw = raw
        self.family = family
    }

    /// Whether the client asked for `code`. A trailing odd octet of an ORO is ignored.
    public func contains(_ code: UInt16) -> Bool {
        guard let raw else { return false }
        switch family {
        case .v4:
            guard code <= 255 else { return false }
            return raw.contains(UInt8(truncatingIfNeeded: code))
        case .v6:
            var index = 0
            while index + 1 < raw.count {
                if UInt16(raw[index]) << 8 | UInt16(raw[index + 1]) == code { return true }
                index += 2
            }
            return false
        }
    }
}

/// The DHCP protocol family a Kea server speaks: kea-dhcp4 or kea-dhcp6.
public enum AddressFamily: UInt8, Sendable, CustomStringConvertible {
    case v4 = 4
    case v6 = 6

    public var description: String { self == .v4 ? "DHCPv4" : "DHCPv6" }

    /// Length in bytes of an address of this family.
    public var addressLength: Int { self == .v4 ? 4 : 16 }
}

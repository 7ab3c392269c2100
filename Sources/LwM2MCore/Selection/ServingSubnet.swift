/// A subnet of Kea's configuration as the core sees it: Kea's id and the
/// prefix.
public struct SubnetFact: Hashable, Sendable {
    /// Kea's id of the subnet.
    public var id: UInt32
    public var prefix: PrefixKey

    public init(id: UInt32, prefix: PrefixKey) {
        self.id = id
        self.prefix = prefix
    }
}

/// Which subnet's entries apply to an exchange.
///
/// Kea selects a subnet for the query and normally leases from it. In a
/// shared network it may lease from another subnet of the network instead
/// (when the selected one has no free address, or a reservation is there);
/// Kea's own option-data then follows the leased address, and so do the
/// store's `subnet-id` and `subnet` entries.
public enum ServingSubnet {
    /// The subnet whose entries apply: `selected`, unless `leasedAddress` is
    /// outside it and inside another subnet of `sharedNetwork` (the subnets of
    /// the selected subnet's shared network in Kea's order; the first that
    /// holds the address wins). Without a leased address (INFORM,
    /// INFORMATION-REQUEST, prefix delegation only) it is `selected`.
    /// Allocates nothing.
    @inlinable
    public static func choose<Subnets: Sequence<SubnetFact>>(selected: SubnetFact, leasedAddress: PrefixKey?,
                                                             sharedNetwork: Subnets) -> SubnetFact {
        guard let leased = leasedAddress, !selected.prefix.contains(leased) else { return selected }
        for subnet in sharedNetwork where subnet.prefix.contains(leased) {
            return subnet
        }
        return selected
    }
}

extension PrefixKey {
    /// An address as a key of full length (/32, /128): what `contains` takes.
    public static func address(_ bytes: UnsafeBufferPointer<UInt8>, family: AddressFamily) -> PrefixKey {
        PrefixKey(family: family, address: bytes, length: UInt8(truncatingIfNeeded: family.addressLength * 8))
    }

    /// Whether `other` (an address as a full-length key, or a prefix at least
    /// as long as this one) lies inside this prefix. Keys of different
    /// families never contain each other.
    public func contains(_ other: PrefixKey) -> Bool {
        guard other.family == family, other.length >= length else { return false }
        let bits = Int(length)
        let highMask: UInt64 = bits >= 64 ? .max : (bits == 0 ? 0 : ~(UInt64.max >> bits))
        let lowMask: UInt64 = bits <= 64 ? 0 : (bits >= 128 ? .max : ~(UInt64.max >> (bits - 64)))
        return other.high & highMask == high && other.low & lowMask == low
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The `remember-requests` policy's memory: which DHCPv4 clients asked for
/// the LwM2M options in their DISCOVER, so that the ACK to a REQUEST whose
/// PRL leaves them out (some small clients send the PRL in DISCOVER only)
/// still carries them.
///
/// Bounded: a fixed table allocated once, `maxClients` rounded up to a
/// multiple of 4, 4-way set associative. A client goes into the set its
/// identity hashes to, replacing an expired record or else the oldest of the
/// set. Clients are told apart by a 64-bit hash of their identity (client-id,
/// else hardware type and address); two clients would have to collide on all
/// 64 bits for one to be taken for the other. Thread-safe: one lock, held for
/// a few dozen instructions.
public final class RequestMemory: Sendable {
    /// What a client asked for.
    public struct Asked: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let uri = Asked(rawValue: 1 << 0)
        public static let certificate = Asked(rawValue: 1 << 1)
    }

    private struct Record {
        var identity: UInt64 = 0
        /// Monotonic nanoseconds after which the record is void; 0 = empty.
        var expires: UInt64 = 0
        var stored: UInt64 = 0
        var asked: UInt8 = 0
    }

    private static let ways = 4
    private let sets: Int
    private let lifetime: UInt64
    private let table: Mutex<[Record]>

    /// Records the table holds at most.
    public var capacity: Int { sets * Self.ways }

    public init(policy: HookParameters.RememberPolicy) {
        sets = max(1, (policy.maxClients + Self.ways - 1) / Self.ways)
        lifetime = UInt64(max(1, policy.lifetime)) * 1_000_000_000
        table = Mutex([Record](repeating: Record(), count: sets * Self.ways))
    }

    /// Remembers that the client `identity` asked for `asked` at `now`.
    public func remember(_ identity: UInt64, asked: Asked, now: UInt64 = RequestMemory.now()) {
        let base = Int(identity % UInt64(sets)) * Self.ways
        let expires = now &+ lifetime
        table.withLock { records in
            var victim = base
            for way in base..<(base + Self.ways) {
                if records[way].expires != 0 && records[way].identity == identity { victim = way; break }
                if records[way].expires <= now { victim = way; continue }
                if records[victim].expires > now && records[way].stored < records[victim].stored { victim = way }
            }
            records[victim] = Record(identity: identity, expires: expires, stored: now, asked: asked.rawValue)
        }
    }

    /// What `identity` asked for, if it asked less than `lifetime` ago.
    public func recall(_ identity: UInt64, now: UInt64 = RequestMemory.now()) -> Asked? {
        let base = Int(identity % UInt64(sets)) * Self.ways
        return table.withLock { records in
            for way in base..<(base + Self.ways) where records[way].identity == identity && records[way].expires > now {
                return Asked(rawValue: records[way].asked)
            }
            return nil
        }
    }

    /// The identity of a DHCPv4 client: its client-id (option 61) when it sent
    /// one, else its hardware type and address; nil when it has neither.
    public static func identity(clientID: UnsafeBufferPointer<UInt8>?, hardwareType: UInt8,
                                hardwareAddress: UnsafeBufferPointer<UInt8>?) -> UInt64? {
        if let clientID, !clientID.isEmpty { return BytesTable.hash(clientID) }
        guard let hardwareAddress, !hardwareAddress.isEmpty else { return nil }
        // A different seed, so a hardware address never equals a client-id of the same bytes.
        return BytesTable.hash(hardwareAddress) ^ (0x9e37_79b9_7f4a_7c15 &* (UInt64(hardwareType) &+ 1))
    }

    /// Monotonic clock in nanoseconds.
    public static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(max(0, time.tv_sec)) &* 1_000_000_000 &+ UInt64(max(0, time.tv_nsec))
    }
}

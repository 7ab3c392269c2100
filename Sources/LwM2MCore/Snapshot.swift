/// Everything a packet needs, built once when the store loads and never
/// changed afterwards: the entries of one family with their option bytes
/// pre-encoded, and lookup tables. Packets only read it, from any thread.
public final class Snapshot: Sendable {
    public let family: AddressFamily
    public let parameters: HookParameters
    public let store: Store
    /// Entries of this family, in store order.
    private let encoded: [EncodedEntry]
    private let bySubnetID: [UInt32: Int]
    private let byPrefix: [PrefixKey: Int]
    /// Distinct certificates this snapshot serves.
    public let certificateCount: Int

    /// One entry's options exactly as they go on the wire.
    struct EncodedEntry: Sendable {
        let storeIndex: Int
        /// URI option: DHCPv4 instances (RFC 3396) or one DHCPv6 option.
        let uri: [UInt8]
        /// Certificate option, when the entry has a certificate.
        let certificate: [UInt8]?
    }

    /// Encodes `store` for a server of `family` with the codes in `parameters`.
    public init(store: Store, parameters: HookParameters, family: AddressFamily) {
        self.family = family
        self.parameters = parameters
        self.store = store
        var certificateCache: [[UInt8]: [UInt8]] = [:]
        var encoded: [EncodedEntry] = []
        var bySubnetID: [UInt32: Int] = [:]
        var byPrefix: [PrefixKey: Int] = [:]
        for entry in store.entries where entry.applies(to: family) {
            let certificate = entry.certificate.map { certificate in
                if let cached = certificateCache[certificate.der] { return cached }
                let wire = Self.wire(OptionEncoding.certificateValue(der: certificate.der),
                                     code: parameters.serverCertificateCode, family: family)
                certificateCache[certificate.der] = wire
                return wire
            }
            let slot = encoded.count
            encoded.append(EncodedEntry(storeIndex: entry.index,
                                        uri: Self.wire(entry.bootstrapURI.bytes, code: parameters.bootstrapURICode, family: family),
                                        certificate: certificate))
            switch entry.selector {
            case .subnetID(let id): bySubnetID[id] = slot
            case .subnet(let prefix): byPrefix[PrefixKey(prefix)] = slot
            }
        }
        self.encoded = encoded
        self.bySubnetID = bySubnetID
        self.byPrefix = byPrefix
        self.certificateCount = certificateCache.count
    }

    /// Entries this snapshot serves.
    public var entryCount: Int { encoded.count }

    /// The smallest DHCPv4 reply: fixed fields, cookie, message type (3),
    /// server identifier (6), END (1). A certificate option larger than a
    /// 1500-octet datagram less this never reaches any client.
    static let minimalDHCPv4Reply = 236 + 4 + 3 + 6 + 1

    /// DHCPv4: entries whose certificate cannot fit even a 1500-octet reply
    /// (1-based store positions). Always empty for DHCPv6.
    public var entriesWithOversizedCertificates: [Int] {
        guard family == .v4 else { return [] }
        let largest = HookParameters.maxMessageSizeRange.upperBound - SizeBudget.ipAndUDPHeaders - Self.minimalDHCPv4Reply
        return encoded.filter { ($0.certificate?.count ?? 0) > largest }.map { $0.storeIndex + 1 }
    }

    private static func wire(_ value: [UInt8], code: UInt16, family: AddressFamily) -> [UInt8] {
        switch family {
        case .v4: OptionEncoding.dhcpv4(code: UInt8(truncatingIfNeeded: code), value: value)
        case .v6: OptionEncoding.dhcpv6(code: code, value: value)
        }
    }

    /// The slot of the entry for an exchange: an entry for the selected
    /// subnet's id wins over one for its prefix.
    private func select(_ facts: ExchangeFacts) -> Int? {
        if let id = facts.subnetID, let slot = bySubnetID[id] { return slot }
        if let prefix = facts.subnetPrefix, let slot = byPrefix[prefix] { return slot }
        return nil
    }

    /// Decides which options go into the reply and copies their wire bytes to
    /// the start of `buffer`. Allocates nothing.
    public func answer(_ facts: ExchangeFacts, into buffer: UnsafeMutableRawBufferPointer) -> Answer {
        var answer = Answer()
        guard facts.family == family, MessagePolicy.carriesOptions(facts) else { return answer }
        let requested = RequestedOptions(raw: facts.requestedOptions, family: family)
        let wantsURI = requested.contains(parameters.bootstrapURICode)
        let wantsCertificate = requested.contains(parameters.serverCertificateCode)
        guard wantsURI || wantsCertificate else { return answer }
        guard let slot = select(facts) else {
            answer.flags.insert(.noEntry)
            return answer
        }
        let entry = encoded[slot]
        answer.entryIndex = entry.storeIndex

        var room = Int.max
        if family == .v4 {
            let budget = SizeBudget(option57: facts.maxMessageSize, defaultLimit: parameters.defaultMaxMessageSize)
            answer.sizeLimit = budget.datagramLimit
            room = budget.room(afterReplyOf: facts.replySize)
        }
        var uriBytes: [UInt8]? = nil
        var certificateBytes: [UInt8]? = nil
        if wantsURI {
            if entry.uri.count <= room { room -= entry.uri.count; uriBytes = entry.uri }
            else { answer.flags.insert(.uriTooBig) }
        }
        if wantsCertificate, let certificate = entry.certificate {
            // A certificate without the URI it belongs to is of no use to a
            // device that asked for both: it goes only with its URI.
            let uriMissing = wantsURI && uriBytes == nil
            if certificate.count <= room && !uriMissing { certificateBytes = certificate }
            else { answer.flags.insert(.certificateTooBig) }
        }
        let needed = (uriBytes?.count ?? 0) + (certificateBytes?.count ?? 0)
        guard needed <= buffer.count else {
            answer.bytesNeeded = needed
            return answer
        }
        var offset = 0
        if let uriBytes {
            answer.uri = copy(uriBytes, to: buffer, at: &offset)
            answer.flags.insert(.sentURI)
        }
        if let certificateBytes {
            answer.certificate = copy(certificateBytes, to: buffer, at: &offset)
            answer.flags.insert(.sentCertificate)
        }
        return answer
    }

    private func copy(_ bytes: [UInt8], to buffer: UnsafeMutableRawBufferPointer, at offset: inout Int) -> Range<Int> {
        let start = offset
        bytes.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + source.count)]).copyMemory(from: source)
        }
        offset += bytes.count
        return start..<offset
    }
}

/// The core's decision for one reply.
public struct Answer: Sendable, Equatable {
    /// What happened; the raw values are the C ABI's LWM2M_* flags.
    public struct Flags: OptionSet, Sendable, Equatable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let sentURI = Flags(rawValue: 1 << 0)
        public static let sentCertificate = Flags(rawValue: 1 << 1)
        public static let certificateTooBig = Flags(rawValue: 1 << 2)
        public static let uriTooBig = Flags(rawValue: 1 << 3)
        public static let noEntry = Flags(rawValue: 1 << 4)
    }

    public var flags: Flags = []
    /// The store entry that applied.
    public var entryIndex: Int? = nil
    /// DHCPv4: the client's limit that applied, in octets of IP datagram; 0 when none.
    public var sizeLimit = 0
    /// Where the URI option's wire bytes were written.
    public var uri: Range<Int>? = nil
    /// Where the certificate option's wire bytes were written.
    public var certificate: Range<Int>? = nil
    /// Set when the buffer was too small: the capacity needed.
    public var bytesNeeded = 0

    public init() {}
}

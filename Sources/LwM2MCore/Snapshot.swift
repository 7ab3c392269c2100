/// Everything a packet needs, built once when the store loads and never
/// changed afterwards: the entries of one family with their option bytes
/// pre-encoded, and lookup tables. Packets only read it, from any thread.
public final class Snapshot: Sendable {
    public let family: AddressFamily
    public let parameters: HookParameters
    public let store: Store
    /// Entries of this family, in store order, the default last.
    private let encoded: [EncodedEntry]
    private let bySubnetID: [UInt32: Int]
    private let byPrefix: [PrefixKey: Int]
    private let byHWAddress: BytesTable
    private let byClientID: BytesTable
    private let byClass: BytesTable
    private let bySharedNetwork: BytesTable
    private let defaultSlot: Int?
    /// The first step of the precedence that has entries: a store of subnet
    /// entries starts at `subnetID` and never looks at the other facts.
    private let firstStep: Int
    /// Some entry sends its options to clients that did not ask.
    private let anyAlwaysSend: Bool
    /// DHCPv4 `remember-requests`: nil when the policy is off.
    public let requestMemory: RequestMemory?
    /// Facts the shim must read from every query for this snapshot.
    public let neededFacts: Facts
    /// Distinct certificates this snapshot serves.
    public let certificateCount: Int

    /// One entry's options exactly as they go on the wire.
    struct EncodedEntry: Sendable {
        let storeIndex: Int
        /// URI option: DHCPv4 instances (RFC 3396) or one DHCPv6 option; nil
        /// for a certificate-only entry.
        let uri: [UInt8]?
        /// Certificate option, when the entry has a certificate.
        let certificate: [UInt8]?
        let alwaysSend: Bool
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
        var byHWAddress = BytesTable(), byClientID = BytesTable(), byClass = BytesTable(), bySharedNetwork = BytesTable()
        var defaultSlot: Int? = nil
        for entry in store.allEntries where entry.applies(to: family) {
            let certificate = entry.certificate.map { certificate in
                if let cached = certificateCache[certificate.der] { return cached }
                let wire = Self.wire(OptionEncoding.certificateValue(der: certificate.der),
                                     code: parameters.serverCertificateCode, family: family)
                certificateCache[certificate.der] = wire
                return wire
            }
            let slot = encoded.count
            encoded.append(EncodedEntry(storeIndex: entry.index,
                                        uri: entry.bootstrapURI.map { Self.wire($0.bytes, code: parameters.bootstrapURICode, family: family) },
                                        certificate: certificate, alwaysSend: entry.alwaysSend))
            switch entry.selector {
            case .subnetID(let id): bySubnetID[id] = slot
            case .subnet(let prefix): byPrefix[PrefixKey(prefix)] = slot
            case .host(.hwAddress(let bytes)): byHWAddress.insert(bytes, slot: slot)
            case .host(.clientID(let bytes)), .host(.duid(let bytes)): byClientID.insert(bytes, slot: slot)
            case .clientClass(let name): byClass.insert(Array(name.utf8), slot: slot)
            case .sharedNetwork(let name): bySharedNetwork.insert(Array(name.utf8), slot: slot)
            case .storeDefault: defaultSlot = slot
            }
        }
        self.encoded = encoded
        self.bySubnetID = bySubnetID
        self.byPrefix = byPrefix
        self.byHWAddress = byHWAddress
        self.byClientID = byClientID
        self.byClass = byClass
        self.bySharedNetwork = bySharedNetwork
        self.defaultSlot = defaultSlot
        self.anyAlwaysSend = encoded.contains { $0.alwaysSend }
        self.firstStep = store.allEntries.filter { $0.applies(to: family) }.map(\.selector.precedence.rawValue).min()
            ?? StoreEntry.Precedence.storeDefault.rawValue
        self.requestMemory = family == .v4 ? parameters.rememberRequests.map(RequestMemory.init(policy:)) : nil
        var needed: Facts = []
        if !byHWAddress.isEmpty { needed.insert(.hardwareAddress) }
        if !byClientID.isEmpty { needed.insert(.clientID) }
        if !byClass.isEmpty { needed.insert(.clientClasses) }
        if !bySharedNetwork.isEmpty { needed.insert(.sharedNetwork) }
        if requestMemory != nil { needed.formUnion([.hardwareAddress, .clientID]) }
        self.neededFacts = needed
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
        return encoded.filter { ($0.certificate?.count ?? 0) > largest && $0.storeIndex >= 0 }.map { $0.storeIndex + 1 }
    }

    private static func wire(_ value: [UInt8], code: UInt16, family: AddressFamily) -> [UInt8] {
        switch family {
        case .v4: OptionEncoding.dhcpv4(code: UInt8(truncatingIfNeeded: code), value: value)
        case .v6: OptionEncoding.dhcpv6(code: code, value: value)
        }
    }

    /// Which entries apply to an exchange, as store indices
    /// (`StoreEntry.defaultIndex` for the default).
    public struct Selection: Sendable, Equatable {
        /// The entry that gives the URI: the most specific matching entry with one.
        public var uriEntry: Int
        /// The entry that gives the certificate: the URI's entry, or a more
        /// specific matching certificate-only entry; nil when neither has one.
        public var certificateEntry: Int?
    }

    /// The matching entry at one step of the precedence.
    private func match(_ step: StoreEntry.Precedence, _ facts: ExchangeFacts) -> Int? {
        switch step {
        case .hwAddress: facts.hardwareAddress.flatMap { byHWAddress.isEmpty ? nil : byHWAddress.slot(for: $0) }
        case .clientID, .duid:
            // One table: client-id entries serve DHCPv4 only, DUID entries DHCPv6 only.
            (step == .clientID) == (family == .v4) ? facts.clientID.flatMap { byClientID.isEmpty ? nil : byClientID.slot(for: $0) } : nil
        case .clientClass: facts.clientClasses.flatMap { byClass.isEmpty ? nil : byClass.firstSlot(amongNames: $0) }
        case .subnetID: facts.subnetID.flatMap { bySubnetID[$0] }
        case .subnet: facts.subnetPrefix.flatMap { byPrefix[$0] }
        case .sharedNetwork: facts.sharedNetwork.flatMap { bySharedNetwork.isEmpty ? nil : bySharedNetwork.slot(for: $0) }
        case .storeDefault: defaultSlot
        }
    }

    /// Slots of the entries that give the URI and the certificate.
    private func selectSlots(_ facts: ExchangeFacts) -> (uri: Int, certificate: Int?)? {
        var certificate: Int? = nil
        var raw = firstStep
        while let step = StoreEntry.Precedence(rawValue: raw) {
            raw += 1
            guard let slot = match(step, facts) else { continue }
            let entry = encoded[slot]
            if certificate == nil && entry.certificate != nil { certificate = slot }
            if entry.uri != nil { return (slot, certificate) }
        }
        return nil
    }

    /// The entries that apply to `facts`, or nil when no entry gives a URI.
    public func select(_ facts: ExchangeFacts) -> Selection? {
        selectSlots(facts).map { Selection(uriEntry: encoded[$0.uri].storeIndex,
                                           certificateEntry: $0.certificate.map { encoded[$0].storeIndex }) }
    }

    /// Decides which options go into the reply and copies their wire bytes to
    /// the start of `buffer`. Allocates nothing.
    public func answer(_ facts: ExchangeFacts, into buffer: UnsafeMutableRawBufferPointer,
                       now: UInt64? = nil) -> Answer {
        var answer = Answer()
        guard facts.family == family, MessagePolicy.carriesOptions(facts) else { return answer }
        let requested = RequestedOptions(raw: facts.requestedOptions, family: family)
        var wantsURI = requested.contains(parameters.bootstrapURICode)
        var wantsCertificate = requested.contains(parameters.serverCertificateCode)
        if let memory = requestMemory,
           let identity = RequestMemory.identity(clientID: facts.clientID, hardwareType: facts.hardwareType,
                                                 hardwareAddress: facts.hardwareAddress) {
            if facts.queryType == MessagePolicy.discover && (wantsURI || wantsCertificate) {
                var asked: RequestMemory.Asked = []
                if wantsURI { asked.insert(.uri) }
                if wantsCertificate { asked.insert(.certificate) }
                memory.remember(identity, asked: asked, now: now ?? RequestMemory.now())
            } else if facts.queryType == MessagePolicy.request && !wantsURI && !wantsCertificate,
                      let asked = memory.recall(identity, now: now ?? RequestMemory.now()) {
                wantsURI = asked.contains(.uri)
                wantsCertificate = asked.contains(.certificate)
                answer.flags.insert(.remembered)
            }
        }
        let asked = wantsURI || wantsCertificate
        guard asked || anyAlwaysSend else { return answer }
        guard let slots = selectSlots(facts) else {
            if asked { answer.flags.insert(.noEntry) }
            return answer
        }
        let entry = encoded[slots.uri]
        answer.entryIndex = entry.storeIndex
        let certificateEntry = slots.certificate.map { encoded[$0] }
        answer.certificateEntryIndex = certificateEntry?.storeIndex
        if entry.alwaysSend { wantsURI = true }
        if certificateEntry?.alwaysSend == true { wantsCertificate = true }
        guard wantsURI || wantsCertificate else { return answer }

        var room: Int
        switch family {
        case .v4:
            let budget = SizeBudget(option57: facts.maxMessageSize, defaultLimit: parameters.defaultMaxMessageSize)
            answer.sizeLimit = budget.datagramLimit
            room = budget.room(afterReplyOf: facts.replySize)
        case .v6:
            answer.sizeLimit = parameters.dhcpv6MaxReplySize
            room = max(0, parameters.dhcpv6MaxReplySize - facts.replySize)
        }
        var uriBytes: [UInt8]? = nil
        var certificateBytes: [UInt8]? = nil
        if wantsURI, let uri = entry.uri {
            if uri.count <= room { room -= uri.count; uriBytes = uri }
            else { answer.flags.insert(.uriTooBig) }
        }
        if wantsCertificate, let certificate = certificateEntry?.certificate {
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
        /// DHCPv4 `remember-requests`: the REQUEST did not ask; its DISCOVER did.
        public static let remembered = Flags(rawValue: 1 << 5)
    }

    public var flags: Flags = []
    /// The store entry that gave the URI (`StoreEntry.defaultIndex`: the default).
    public var entryIndex: Int? = nil
    /// The store entry that gave the certificate, when one applies.
    public var certificateEntryIndex: Int? = nil
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

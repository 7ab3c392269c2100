import Synchronization

/// Everything a packet needs, built once when the store loads and never
/// changed afterwards: the entries of one family with their option bytes
/// pre-encoded, and lookup tables. Packets only read it, from any thread.
public final class Snapshot: @unchecked Sendable {
    // @unchecked: the raw buffers below are written only in init and freed
    // in deinit; in between every thread only reads them.
    public let family: AddressFamily
    /// Distinct for every snapshot this process builds: with an option's
    /// `Answer.uriKey` / `certificateKey` it names that option's bytes, so a
    /// caller may keep what it built from them (the shim reuses the option
    /// object) until the serial changes.
    public let serial: UInt64
    public let parameters: HookParameters
    public let store: Store
    /// One allocation holding every entry of this family in store order (the
    /// default last), each a 16-octet `Record` header followed directly by its
    /// URI option's wire bytes, and each distinct certificate option once.
    /// The lookup tables map keys to an entry's offset here ("slot"), so a
    /// hit reads the table slot and then one place of the arena: header and
    /// URI share a cache line. Offsets grow in store order.
    private let arena: UnsafeMutablePointer<UInt8>
    private let arenaMemory: SnapshotMemory
    private let arenaSize: Int
    /// Entry offsets in store order (not read by packets).
    private let entryOffsets: [Int]
    private let bySubnetID: SubnetIDTable
    private let byPrefix: PrefixTable
    private let byHWAddress: BytesTable
    private let byClientID: BytesTable
    private let byClass: BytesTable
    private let bySharedNetwork: BytesTable
    private let defaultSlot: Int?
    /// The steps of the precedence that have entries, one bit per
    /// `StoreEntry.Precedence` raw value: a store of subnet entries looks at
    /// the subnet id only and never at the other facts.
    private let usedSteps: UInt32
    /// Some entry sends its options to clients that did not ask.
    private let anyAlwaysSend: Bool
    /// The option codes and limits of `parameters`, as plain values.
    public let uriCode: UInt16
    public let certificateCode: UInt16
    private let defaultMaxMessageSize: Int
    private let dhcpv6MaxReplySize: Int
    /// DHCPv4 `remember-requests`: nil when the policy is off.
    public let requestMemory: RequestMemory?
    /// Facts the shim must read from every query for this snapshot.
    public let neededFacts: Facts
    /// Distinct certificates this snapshot serves.
    public let certificateCount: Int

    /// An entry's header in the arena; its URI wire bytes follow it.
    struct Record {
        static let size = 16
        /// Store index (`StoreEntry.defaultIndex` for the default).
        var storeIndex: Int32
        /// Where the certificate option's wire bytes are; length 0: none.
        var certificateOffset: UInt32
        var certificateLength: UInt32
        /// Octets of URI wire bytes after the header; 0: no URI.
        var uriLength: UInt16
        var alwaysSend: Bool

        func write(to pointer: UnsafeMutableRawPointer) {
            pointer.storeBytes(of: storeIndex, as: Int32.self)
            pointer.storeBytes(of: certificateOffset, toByteOffset: 4, as: UInt32.self)
            pointer.storeBytes(of: certificateLength, toByteOffset: 8, as: UInt32.self)
            pointer.storeBytes(of: uriLength, toByteOffset: 12, as: UInt16.self)
            pointer.storeBytes(of: alwaysSend ? 1 : 0, toByteOffset: 14, as: UInt16.self)
        }

        @inline(__always)
        init(at pointer: UnsafeRawPointer) {
            storeIndex = pointer.loadUnaligned(as: Int32.self)
            certificateOffset = pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            certificateLength = pointer.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
            uriLength = pointer.loadUnaligned(fromByteOffset: 12, as: UInt16.self)
            alwaysSend = pointer.loadUnaligned(fromByteOffset: 14, as: UInt16.self) != 0
        }

        init(storeIndex: Int32, certificateOffset: UInt32, certificateLength: UInt32, uriLength: UInt16, alwaysSend: Bool) {
            self.storeIndex = storeIndex
            self.certificateOffset = certificateOffset
            self.certificateLength = certificateLength
            self.uriLength = uriLength
            self.alwaysSend = alwaysSend
        }
    }

    /// The header of the entry at arena offset `slot`.
    @inline(__always)
    private func record(_ slot: Int) -> Record {
        Record(at: UnsafeRawPointer(arena + slot))
    }

    /// The last serial given out.
    private static let serials = Atomic<UInt64>(0)

    /// Offsets stay below this (UInt32 in the tables; a store would need
    /// gigabytes of URIs to reach it).
    private static let arenaLimit = Int(UInt32.max) - 65_536

    /// Encodes `store` for a server of `family` with the codes in `parameters`.
    public init(store: Store, parameters: HookParameters, family: AddressFamily) {
        self.family = family
        serial = Self.serials.add(1, ordering: .relaxed).newValue
        self.parameters = parameters
        self.store = store
        uriCode = parameters.bootstrapURICode
        certificateCode = parameters.serverCertificateCode
        defaultMaxMessageSize = parameters.defaultMaxMessageSize
        dhcpv6MaxReplySize = parameters.dhcpv6MaxReplySize

        // The store's entries, then its default, without copying them.
        let listed = store.entries.count
        let estimate = listed + 1

        // Certificates are shared by identity: every entry naming the same
        // file holds the same `der` storage, so its address finds the
        // encoding without hashing ~700 octets per entry.
        var certificateCache: [UInt: (offset: Int, length: Int)] = [:]
        var certificateByValue: [[UInt8]: (offset: Int, length: Int)] = [:]
        var arena: [UInt8] = []
        arena.reserveCapacity(estimate * 64)
        var entryOffsets: [Int] = []
        entryOffsets.reserveCapacity(estimate)
        var subnetIDs: [(id: UInt32, slot: Int)] = []
        var prefixes: [(key: PrefixKey, slot: Int)] = []
        subnetIDs.reserveCapacity(estimate)
        prefixes.reserveCapacity(estimate)
        var byHWAddress = BytesTable(), byClientID = BytesTable(), byClass = BytesTable(), bySharedNetwork = BytesTable()
        var defaultSlot: Int? = nil
        var usedSteps: UInt32 = 0
        var anyAlwaysSend = false
        for position in 0..<estimate {
            guard let entry = position < listed ? store.entries[position] : store.defaultEntry,
                  entry.applies(to: family) else { continue }
            var certificateSpan = (offset: 0, length: 0)
            if let certificate = entry.certificate {
                let identity = certificate.der.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
                if let cached = certificateCache[identity] {
                    certificateSpan = cached
                } else {
                    // Keyed by the option's value (encoding octet and DER), so a
                    // certificate and a raw public key never share an encoding.
                    let value = OptionEncoding.certificateValue(certificate)
                    if let cached = certificateByValue[value] {
                        // Another copy of bytes already encoded (once per copy, not per entry).
                        certificateSpan = cached
                        certificateCache[identity] = cached
                    } else {
                        let wire = Self.wire(value, code: parameters.serverCertificateCode, family: family)
                        guard arena.count + wire.count < Self.arenaLimit else { continue }
                        certificateSpan = (arena.count, wire.count)
                        arena.append(contentsOf: wire)
                        certificateCache[identity] = certificateSpan
                        certificateByValue[value] = certificateSpan
                    }
                }
            }
            // Headers 8-aligned, the URI's wire bytes written right after
            // (a URI is at most 255 octets, its wire form 259).
            let uriValue = entry.bootstrapURI?.bytes ?? []
            let padding = (8 - arena.count % 8) % 8
            guard uriValue.count <= Int(UInt16.max) - 16,
                  arena.count + padding + Record.size + uriValue.count + 16 < Self.arenaLimit else { continue }
            arena.append(contentsOf: repeatElement(0, count: padding + Record.size))
            let slot = arena.count - Record.size
            if entry.bootstrapURI != nil {
                switch family {
                case .v4: OptionEncoding.appendDHCPv4(code: UInt8(truncatingIfNeeded: parameters.bootstrapURICode),
                                                      value: uriValue, to: &arena)
                case .v6: OptionEncoding.appendDHCPv6(code: parameters.bootstrapURICode, value: uriValue, to: &arena)
                }
            }
            let header = Record(storeIndex: Int32(clamping: entry.index),
                                certificateOffset: UInt32(truncatingIfNeeded: certificateSpan.offset),
                                certificateLength: UInt32(truncatingIfNeeded: certificateSpan.length),
                                uriLength: UInt16(truncatingIfNeeded: arena.count - slot - Record.size),
                                alwaysSend: entry.alwaysSend)
            arena.withUnsafeMutableBytes { raw in
                if let base = raw.baseAddress { header.write(to: base + slot) }
            }
            entryOffsets.append(slot)
            anyAlwaysSend = anyAlwaysSend || entry.alwaysSend
            usedSteps |= 1 << UInt32(entry.selector.precedence.rawValue)
            switch entry.selector {
            case .subnetID(let id): subnetIDs.append((id, slot))
            case .subnet(let prefix): prefixes.append((PrefixKey(prefix), slot))
            case .host(.hwAddress(let bytes)): byHWAddress.insert(bytes, slot: slot)
            case .host(.clientID(let bytes)), .host(.duid(let bytes)): byClientID.insert(bytes, slot: slot)
            case .clientClass(let name): byClass.insert(Array(name.utf8), slot: slot)
            case .sharedNetwork(let name): bySharedNetwork.insert(Array(name.utf8), slot: slot)
            case .storeDefault: defaultSlot = slot
            }
        }
        let arenaMemory = SnapshotMemory(bytes: arena.count)
        let arenaCopy = arenaMemory.base.bindMemory(to: UInt8.self, capacity: max(1, arena.count))
        arena.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { arenaCopy.initialize(from: base, count: source.count) }
        }
        self.arenaMemory = arenaMemory
        self.arena = arenaCopy
        self.arenaSize = arena.count
        self.entryOffsets = entryOffsets
        self.bySubnetID = SubnetIDTable(subnetIDs)
        self.byPrefix = PrefixTable(prefixes)
        self.byHWAddress = byHWAddress
        self.byClientID = byClientID
        self.byClass = byClass
        self.bySharedNetwork = bySharedNetwork
        self.defaultSlot = defaultSlot
        self.anyAlwaysSend = anyAlwaysSend
        self.usedSteps = usedSteps
        self.requestMemory = family == .v4 ? parameters.rememberRequests.map(RequestMemory.init(policy:)) : nil
        var needed: Facts = []
        if !byHWAddress.isEmpty { needed.insert(.hardwareAddress) }
        if !byClientID.isEmpty { needed.insert(.clientID) }
        if !byClass.isEmpty { needed.insert(.clientClasses) }
        if !bySharedNetwork.isEmpty { needed.insert(.sharedNetwork) }
        if requestMemory != nil { needed.formUnion([.hardwareAddress, .clientID]) }
        self.neededFacts = needed
        self.certificateCount = certificateByValue.count
    }

    deinit {
        arenaMemory.release()
    }

    /// Bytes of the arena, entry records and subnet tables (for the benchmark).
    public var encodedMemorySize: Int {
        arenaSize + bySubnetID.memorySize + byPrefix.memorySize
    }

    /// Entries this snapshot serves.
    public var entryCount: Int { entryOffsets.count }

    /// The smallest DHCPv4 reply: fixed fields, cookie, message type (3),
    /// server identifier (6), END (1). A certificate option larger than a
    /// 1500-octet datagram less this never reaches any client.
    static let minimalDHCPv4Reply = 236 + 4 + 3 + 6 + 1

    /// DHCPv4: entries whose certificate cannot fit even a 1500-octet reply,
    /// as the log names them: 1-based store positions, and `default` for the
    /// store's default. Always empty for DHCPv6.
    public var entriesWithOversizedCertificates: [String] {
        guard family == .v4 else { return [] }
        let largest = HookParameters.maxMessageSizeRange.upperBound - SizeBudget.ipAndUDPHeaders - Self.minimalDHCPv4Reply
        return entryOffsets.compactMap { slot in
            let record = record(slot)
            guard Int(record.certificateLength) > largest else { return nil }
            if record.storeIndex >= 0 { return String(Int(record.storeIndex) + 1) }
            return record.storeIndex == Int32(StoreEntry.defaultIndex) ? "default" : nil
        }
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
    @inline(__always)
    private func match(_ step: StoreEntry.Precedence, _ facts: ExchangeFacts) -> Int? {
        switch step {
        case .hwAddress: facts.hardwareAddress.flatMap { byHWAddress.slot(for: $0) }
        case .clientID, .duid:
            // One table: client-id entries serve DHCPv4 only, DUID entries DHCPv6 only.
            (step == .clientID) == (family == .v4) ? facts.clientID.flatMap { byClientID.slot(for: $0) } : nil
        case .clientClass: facts.clientClasses.flatMap { byClass.firstSlot(amongNames: $0) }
        case .subnetID: facts.subnetID.flatMap { bySubnetID.slot(for: $0) }
        case .subnet: facts.subnetPrefix.flatMap { byPrefix.slot(for: $0) }
        case .sharedNetwork: facts.sharedNetwork.flatMap { bySharedNetwork.slot(for: $0) }
        case .storeDefault: defaultSlot
        }
    }

    /// Slots of the entries that give the URI and the certificate.
    @inline(__always)
    private func selectSlots(_ facts: ExchangeFacts) -> (uri: Int, certificate: Int?)? {
        var certificate: Int? = nil
        var steps = usedSteps
        while steps != 0 {
            let raw = steps.trailingZeroBitCount
            steps &= steps &- 1
            guard let step = StoreEntry.Precedence(rawValue: raw), let slot = match(step, facts),
                  slot >= 0, slot <= arenaSize - Record.size else { continue }
            let record = record(slot)
            if certificate == nil && record.certificateLength > 0 { certificate = slot }
            if record.uriLength > 0 { return (slot, certificate) }
        }
        return nil
    }

    /// The entries that apply to `facts`, or nil when no entry gives a URI.
    public func select(_ facts: ExchangeFacts) -> Selection? {
        selectSlots(facts).map { Selection(uriEntry: Int(record($0.uri).storeIndex),
                                           certificateEntry: $0.certificate.map { Int(record($0).storeIndex) }) }
    }

    /// Decides which options go into the reply and copies their wire bytes to
    /// the start of `buffer`. Allocates nothing.
    public func answer(_ facts: ExchangeFacts, into buffer: UnsafeMutableRawBufferPointer,
                       now: UInt64? = nil) -> Answer {
        var answer = Answer()
        guard facts.family == family, MessagePolicy.carriesOptions(facts) else { return answer }
        let requested = RequestedOptions(raw: facts.requestedOptions, family: family)
        var wantsURI = requested.contains(uriCode)
        var wantsCertificate = requested.contains(certificateCode)
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
        let entry = record(slots.uri)
        answer.entryIndex = Int(entry.storeIndex)
        var certificateEntry: Record? = nil
        if let slot = slots.certificate {
            let record = record(slot)
            certificateEntry = record
            answer.certificateEntryIndex = Int(record.storeIndex)
            if record.alwaysSend { wantsCertificate = true }
        }
        if entry.alwaysSend { wantsURI = true }
        if let present = facts.replyCodes, !present.isEmpty {
            // Never a second option with a code the reply carries already.
            if wantsURI && present.contains(uriCode) {
                wantsURI = false
                answer.flags.insert(.uriAlreadyPresent)
            }
            if wantsCertificate && present.contains(certificateCode) {
                wantsCertificate = false
                answer.flags.insert(.certificateAlreadyPresent)
            }
        }
        guard wantsURI || wantsCertificate else { return answer }

        var room: Int
        switch family {
        case .v4:
            let budget = SizeBudget(option57: facts.maxMessageSize, defaultLimit: defaultMaxMessageSize)
            answer.sizeLimit = budget.datagramLimit
            room = budget.room(afterReplyOf: facts.replySize)
        case .v6:
            answer.sizeLimit = dhcpv6MaxReplySize
            room = max(0, dhcpv6MaxReplySize - facts.replySize)
        }
        var uriLength = 0
        var certificateLength = 0
        if wantsURI && entry.uriLength > 0 {
            let length = Int(entry.uriLength)
            if length <= room { room -= length; uriLength = length }
            else { answer.flags.insert(.uriTooBig) }
        }
        if wantsCertificate, let certificate = certificateEntry, certificate.certificateLength > 0 {
            // A certificate without the URI it belongs to is of no use to a
            // device that asked for both: it goes only with its URI.
            let uriMissing = wantsURI && uriLength == 0
            let length = Int(certificate.certificateLength)
            if length <= room && !uriMissing { certificateLength = length }
            else { answer.flags.insert(.certificateTooBig) }
        }
        let needed = uriLength + certificateLength
        guard needed <= buffer.count else {
            answer.bytesNeeded = needed
            return answer
        }
        guard needed > 0, let output = buffer.baseAddress else { return answer }
        if uriLength > 0 {
            output.copyMemory(from: arena + slots.uri + Record.size, byteCount: uriLength)
            answer.uri = 0..<uriLength
            answer.uriKey = UInt32(truncatingIfNeeded: slots.uri + Record.size)
            answer.flags.insert(.sentURI)
        }
        if certificateLength > 0, let certificate = certificateEntry {
            (output + uriLength).copyMemory(from: arena + Int(certificate.certificateOffset), byteCount: certificateLength)
            answer.certificate = uriLength..<needed
            answer.certificateKey = certificate.certificateOffset
            answer.flags.insert(.sentCertificate)
        }
        return answer
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
        /// The reply already carries an option with the URI's code (option-data,
        /// another hook): the URI is not added, nor counted as sent.
        public static let uriAlreadyPresent = Flags(rawValue: 1 << 6)
        /// The same for the certificate's code.
        public static let certificateAlreadyPresent = Flags(rawValue: 1 << 7)
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
    /// Within the snapshot (`Snapshot.serial`), equal keys mean equal wire
    /// bytes: where the URI's and the certificate's bytes were copied from.
    public var uriKey: UInt32 = 0
    public var certificateKey: UInt32 = 0
    /// Set when the buffer was too small: the capacity needed.
    public var bytesNeeded = 0

    public init() {}
}

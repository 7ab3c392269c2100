// libFuzzer target: the per-exchange decision through the C ABI the shim
// calls (lwm2m_core_answer: ExchangeFacts, ServingSubnet, Selection, the
// size budget and the wire bytes), with arbitrary facts: PRL/ORO of any
// length, option 57 of any length and value, reply sizes near every limit,
// hardware address, client-id, DUID, client classes and shared-network
// names of any bytes, reply codes, subnets and shared networks, buffers of
// any capacity.
//
// The snapshots are built once from real certificates (Tests/replay/data)
// and stores with an entry for every kind of selector; each input picks one
// and runs up to four exchanges against it (so remember-requests sees a
// DISCOVER and then a REQUEST of the same client).
//
// Properties, for every exchange: the result is the one a model written here
// (sharing no code with the core) predicts: flags, the entries that gave
// the URI and the certificate, the size limit, the bytes needed; every span
// lies inside the buffer; every option re-parses (RFC 3396 for DHCPv4) to
// the selected entry's exact URI or certificate bytes; a DHCPv4 answer never
// exceeds the budget it states, nor a DHCPv6 one dhcpv6-max-reply-size.
import FuzzSupport
import LwM2MABI
@testable import LwM2MCore
@testable import LwM2MHook
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Snapshots

/// One store served with one set of parameters.
private struct Variant {
    let store: Store
    let parameters: HookParameters
    let family: AddressFamily
    /// Built once; nil when each input needs a fresh one (remember-requests
    /// keeps state between exchanges).
    let shared: Snapshot?

    init(_ store: Store, _ parameters: HookParameters, _ family: AddressFamily) {
        self.store = store
        self.parameters = parameters
        self.family = family
        shared = parameters.rememberRequests == nil ? Snapshot(store: store, parameters: parameters, family: family) : nil
    }

    func snapshot() -> Snapshot { shared ?? Snapshot(store: store, parameters: parameters, family: family) }
}

private func certificate(_ name: String) -> ServerCertificate {
    // Fuzz/Answer/main.swift -> the repository's Tests/replay/data.
    let root = String(#filePath.dropLast("Fuzz/Answer/main.swift".count))
    do {
        return try ServerCertificate(fileContents: ToolSupport.readFile(root + "Tests/replay/data/" + name))
    } catch {
        Property.fail("fixture certificate \(name): \(error)")
    }
}

private func publicKey(_ name: String) -> ServerCertificate {
    let root = String(#filePath.dropLast("Fuzz/Answer/main.swift".count))
    do {
        return try ServerCertificate(publicKeyFileContents: ToolSupport.readFile(root + "Tests/replay/data/" + name))
    } catch {
        Property.fail("fixture public key \(name): \(error)")
    }
}

private func uri(_ text: String) -> BootstrapURI {
    do { return try BootstrapURI(text) } catch { Property.fail("fixture URI \(text): \(error.reason)") }
}

private func prefix(_ text: String) -> SubnetPrefix {
    do { return try SubnetPrefix(parsing: text) } catch { Property.fail("fixture subnet \(text): \(error.reason)") }
}

/// Known keys, so inputs can name them with one octet.
private enum Keys {
    static let hw: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]
    static let clientID: [UInt8] = [0x01, 0x02]
    static let duid: [UInt8] = [0x00, 0x01]
    static let classes = ["cameras", "a", "b"]
    static let sharedNetwork = "n"
    static let prefixes: [(bytes: [UInt8], length: UInt8)] = [
        ([192, 0, 2, 0], 24), ([10, 0, 0, 0], 8), ([192, 0, 2, 128], 25), ([0, 0, 0, 0], 0),
        ([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 12), 32),
        ([0x20, 0x01, 0x0d, 0xb8, 0, 1] + [UInt8](repeating: 0, count: 10), 48),
    ]
    static let addresses: [[UInt8]] = [
        [192, 0, 2, 10], [10, 1, 2, 3], [192, 0, 2, 200], [198, 51, 100, 1],
        [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [5],
        [0x20, 0x01, 0x0d, 0xb8, 0, 1] + [UInt8](repeating: 0, count: 9) + [9],
    ]
}

private let variants: [Variant] = {
    let small = certificate("small.pem"), large = certificate("large.der")
    let xlarge = certificate("xlarge.pem"), compressed = certificate("small-compressed.pem")
    let p384 = publicKey("rpk-p384.pem"), ed25519 = publicKey("rpk-ed25519.pem")
    let longURI = uri("coap://long.example/" + String(repeating: "p", count: 255 - 20))
    func entry(_ index: Int, _ selector: StoreEntry.Selector, _ text: String?, _ cert: ServerCertificate?,
               always: Bool = false) -> StoreEntry {
        StoreEntry(index: index, selector: selector, bootstrapURI: text.map(uri), certificate: cert,
                   certificatePath: cert.map { _ in "cert.pem" }, alwaysSend: always)
    }
    let rich = Store(path: "/fuzz/rich.json", entries: [
        entry(0, .host(.hwAddress(Keys.hw)), "coap://hw.example", small),
        entry(1, .host(.clientID(Keys.clientID)), "coaps://cid.example:5684", nil),
        entry(2, .host(.duid(Keys.duid)), "coap://duid.example", large),
        entry(3, .clientClass("cameras"), "coaps://cams.example", nil, always: true),
        entry(4, .clientClass("a"), nil, compressed),
        entry(5, .clientClass("b"), "coap://b.example", xlarge),
        entry(6, .subnetID(1), "coaps://s1.example", large),
        entry(7, .subnetID(2), nil, small),
        entry(8, .subnet(prefix("192.0.2.0/24")), "coap://v4net.example", small),
        entry(9, .subnet(prefix("2001:db8::/32")), "coap://[2001:db8::5]:5683", large),
        entry(10, .subnet(prefix("10.0.0.0/8")), nil, xlarge),
        StoreEntry(index: 11, selector: .sharedNetwork(Keys.sharedNetwork), bootstrapURI: longURI, certificate: large,
                   certificatePath: "cert.pem"),
        entry(12, .subnetID(7), "coap://x", nil, always: true),
        entry(13, .subnet(prefix("2001:db8:1::/48")), nil, xlarge, always: true),
        entry(14, .clientClass("rpk"), "coaps://rpk.example", p384),
        entry(15, .subnetID(3), nil, ed25519),
    ], defaultEntry: entry(StoreEntry.defaultIndex, .storeDefault, "coaps://bs.example.com:5684", small))
    let onlyDefault = Store(path: "/fuzz/default.json", entries: [],
                            defaultEntry: entry(StoreEntry.defaultIndex, .storeDefault, "coap://d.example", xlarge))
    let empty = Store(path: "/fuzz/empty.json", entries: [])
    let subnets = Store(path: "/fuzz/subnets.json", entries: [
        entry(0, .subnetID(1), "coap://one.example", small),
        entry(1, .subnet(prefix("2001:db8::/32")), "coap://v6.example", xlarge),
        entry(2, .subnet(prefix("192.0.2.128/25")), "coap://upper.example", large),
    ])
    func parameters(_ family: AddressFamily, codes: (UInt16, UInt16)? = nil, maxMessage: Int = 576,
                    maxReply: Int = HookParameters.defaultDHCPv6MaxReplySize,
                    remember: HookParameters.RememberPolicy? = nil) -> HookParameters {
        let defaults = HookParameters.defaultCodes(for: family)
        return HookParameters(storeFile: "/fuzz/store.json", bootstrapURICode: codes?.0 ?? defaults.uri,
                              serverCertificateCode: codes?.1 ?? defaults.certificate,
                              defaultMaxMessageSize: maxMessage, dhcpv6MaxReplySize: maxReply,
                              rememberRequests: remember)
    }
    return [
        Variant(rich, parameters(.v4), .v4),
        Variant(rich, parameters(.v4, codes: (230, 231), maxMessage: 1500,
                                 remember: .init(lifetime: 60, maxClients: 4)), .v4),
        Variant(rich, parameters(.v6), .v6),
        Variant(rich, parameters(.v6, codes: (1000, 6), maxReply: 65527), .v6),
        Variant(onlyDefault, parameters(.v4, maxMessage: 1500), .v4),
        Variant(onlyDefault, parameters(.v6, maxReply: 1232), .v6),
        Variant(empty, parameters(.v4), .v4),
        Variant(subnets, parameters(.v6), .v6),
        Variant(subnets, parameters(.v4, remember: .init(lifetime: 1, maxClients: 1)), .v4),
    ]
}()

// MARK: - Exchanges from the input

/// A subnet as the shim passes it.
private struct SubnetInput {
    var id: UInt32
    var prefix: [UInt8]   // 16 octets
    var length: UInt8
}

/// One exchange's facts as plain values.
private struct ExchangeInput {
    var family: AddressFamily
    var queryType: UInt8 = 0
    var responseType: UInt8 = 0
    var subnet: SubnetInput? = nil
    var sharedNetworkSubnets: [SubnetInput]? = nil
    var leased: [UInt8]? = nil   // 16 octets
    var requested: [UInt8]? = nil
    var option57: [UInt8]? = nil
    var replySize = 0
    var replyCodes: [UInt16]? = nil
    var provided: UInt32 = 0
    var hardwareType: UInt8 = 0
    var hardwareAddress: [UInt8]? = nil
    var clientID: [UInt8]? = nil
    var classes: [UInt8]? = nil
    var sharedNetwork: [UInt8]? = nil
    var capacity = 0
    var noBuffer = false
}

private let v4Queries: [UInt8] = [1, 3, 8, 1, 3, 2, 4, 5, 7, 0, 255]
private let v4Responses: [UInt8] = [2, 5, 5, 2, 6, 0, 1, 8, 255]
private let v6Queries: [UInt8] = [1, 3, 5, 6, 11, 1, 4, 8, 9, 12, 13, 0]
private let v6Responses: [UInt8] = [2, 7, 7, 2, 13, 0, 1, 255]
private let v4Limits = [548, 1472, 0, 312, 1000]
private let v6Limits = [1452, 1232, 65527, 0, 4000]
private let option57Values: [UInt16] = [0, 1, 575, 576, 577, 1000, 1499, 1500, 1501, 65535]

private func subnetInput(_ input: inout FuzzInput, family: AddressFamily) -> SubnetInput {
    let id = UInt32(input.u8() & 0x0f) | (input.bool() ? input.u32() : 0)
    let choice = input.u8()
    if choice < 200 {
        let known = Keys.prefixes[Int(choice) % Keys.prefixes.count]
        return SubnetInput(id: id, prefix: known.bytes + [UInt8](repeating: 0, count: 16 - known.bytes.count),
                           length: known.length)
    }
    return SubnetInput(id: id, prefix: input.take(16) + [UInt8](repeating: 0, count: 16), length: input.u8())
}

private func address(_ input: inout FuzzInput) -> [UInt8] {
    let choice = input.u8()
    let bytes = choice < 200 ? Keys.addresses[Int(choice) % Keys.addresses.count] : input.take(16)
    return Array((bytes + [UInt8](repeating: 0, count: 16)).prefix(16))
}

private func exchange(_ input: inout FuzzInput, family: AddressFamily, codes: (uri: UInt16, certificate: UInt16),
                      previous: ExchangeInput?) -> ExchangeInput {
    var x = ExchangeInput(family: family)
    let kinds = input.u8()
    switch family {
    case .v4:
        x.queryType = v4Queries[Int(kinds & 0x0f) % v4Queries.count]
        x.responseType = v4Responses[Int(kinds >> 4) % v4Responses.count]
    case .v6:
        x.queryType = v6Queries[Int(kinds & 0x0f) % v6Queries.count]
        x.responseType = v6Responses[Int(kinds >> 4) % v6Responses.count]
    }
    if kinds == 0xff { x.queryType = input.u8(); x.responseType = input.u8() }
    let flags = input.u16()
    if flags & 1 != 0 { x.subnet = subnetInput(&input, family: family) }
    if flags & 2 != 0 { x.leased = address(&input) }
    if flags & 4 != 0 {
        x.sharedNetworkSubnets = (0..<Int(input.u8() % 5)).map { _ in subnetInput(&input, family: family) }
    }
    x.provided = UInt32((flags >> 3) & 0x0f)
    if flags & 0x80 != 0 {
        // Replies that carry some codes already: ours among them or not.
        x.replyCodes = (0..<Int(input.u8() % 6)).map { _ in
            let pick = input.u8()
            switch pick % 4 {
            case 0: return codes.uri
            case 1: return codes.certificate
            default: return UInt16(pick) << 8 | UInt16(input.u8())
            }
        }
    }
    if flags & 0x100 != 0 {
        // PRL / ORO: arbitrary octets, our codes in any order, an odd octet.
        var list = input.chunk()
        let mode = input.u8()
        let width = family == .v4 ? 1 : 2
        func append(_ code: UInt16) {
            if width == 2 { list.append(UInt8(truncatingIfNeeded: code >> 8)) }
            list.append(UInt8(truncatingIfNeeded: code))
        }
        if mode & 1 != 0 { append(codes.uri) }
        if mode & 2 != 0 { append(codes.certificate) }
        if mode & 4 != 0 { list += input.chunk() }
        if mode & 8 != 0 { list = Array(repeating: list, count: Int(mode >> 4) + 1).flatMap { $0 } }
        x.requested = list
    }
    if flags & 0x200 != 0 {
        let mode = input.u8()
        if mode < 128 {
            let value = option57Values[Int(mode) % option57Values.count]
            x.option57 = [UInt8(value >> 8), UInt8(value & 0xff)]
        } else {
            x.option57 = input.take(Int(mode & 3) + (mode & 4 == 0 ? 0 : 2))
        }
    }
    let same = flags & 0x4000 != 0 ? previous : nil
    if flags & 0x400 != 0 {
        x.hardwareType = input.u8()
        let mode = input.u8()
        x.hardwareAddress = mode < 64 ? Keys.hw : Array(input.take(Int(mode)))
    }
    if flags & 0x800 != 0 {
        let mode = input.u8()
        x.clientID = mode < 40 ? Keys.clientID : mode < 80 ? Keys.duid : Array(input.take(Int(mode)))
    }
    if let same {
        x.hardwareType = same.hardwareType
        x.hardwareAddress = same.hardwareAddress
        x.clientID = same.clientID
    }
    if flags & 0x1000 != 0 {
        let mode = input.u8()
        if mode < 128 {
            x.classes = Array(Keys.classes.enumerated().filter { mode & (1 << $0.offset) != 0 }
                .map { $0.element }.joined(separator: "\0").utf8) + [0]
        } else {
            x.classes = input.chunk()
        }
    }
    if flags & 0x2000 != 0 {
        x.sharedNetwork = input.u8() < 128 ? Array(Keys.sharedNetwork.utf8) : input.chunk()
    }
    let sizeMode = input.u8()
    if sizeMode < 64 {
        x.replySize = Int(input.u16())
    } else {
        // Near a limit: the limit, less our options' sizes, give or take a few octets.
        let limits = family == .v4 ? v4Limits : v6Limits
        let base = limits[Int(sizeMode) % limits.count]
        let minus = [0, 21, 23, 259, 281, 385, 878, 1412][Int(sizeMode >> 3) % 8]
        x.replySize = max(0, base - minus + Int(Int8(bitPattern: input.u8())) / 16)
    }
    if flags & 0x8000 != 0 {
        x.capacity = Int(input.u16())
        x.noBuffer = x.capacity == 0 && input.bool()
    } else {
        x.capacity = 70_000
    }
    return x
}

// MARK: - The call

/// Copies that live for one call.
private final class Borrowed {
    private var allocations: [UnsafeMutableRawPointer] = []

    func bytes(_ value: [UInt8]?) -> lwm2m_bytes {
        guard let value else { return lwm2m_bytes(data: nil, length: 0) }
        let memory = allocate(value.count, alignment: 1).bindMemory(to: UInt8.self, capacity: max(1, value.count))
        value.withUnsafeBufferPointer { if let base = $0.baseAddress { memory.initialize(from: base, count: value.count) } }
        return lwm2m_bytes(data: UnsafePointer(memory), length: value.count)
    }

    func codes(_ value: [UInt16]) -> UnsafePointer<UInt16> {
        let memory = allocate(value.count * 2, alignment: 2).bindMemory(to: UInt16.self, capacity: max(1, value.count))
        value.withUnsafeBufferPointer { if let base = $0.baseAddress { memory.initialize(from: base, count: value.count) } }
        return UnsafePointer(memory)
    }

    func subnets(_ value: [lwm2m_subnet]) -> UnsafePointer<lwm2m_subnet> {
        let size = MemoryLayout<lwm2m_subnet>.stride
        let memory = allocate(value.count * size, alignment: MemoryLayout<lwm2m_subnet>.alignment)
            .bindMemory(to: lwm2m_subnet.self, capacity: max(1, value.count))
        value.withUnsafeBufferPointer { if let base = $0.baseAddress { memory.initialize(from: base, count: value.count) } }
        return UnsafePointer(memory)
    }

    /// Exactly `count` octets (at least one), so AddressSanitizer sees any write past them.
    func allocate(_ count: Int, alignment: Int) -> UnsafeMutableRawPointer {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(1, count), alignment: alignment)
        allocations.append(memory)
        return memory
    }

    deinit {
        for memory in allocations { memory.deallocate() }
    }
}

private func cSubnet(_ subnet: SubnetInput) -> lwm2m_subnet {
    var c = lwm2m_subnet()
    c.id = subnet.id
    c.prefix_length = subnet.length
    withUnsafeMutableBytes(of: &c.prefix) { raw in
        for index in 0..<16 { raw[index] = subnet.prefix[index] }
    }
    return c
}

/// Calls lwm2m_core_answer; returns the status, the answer and the buffer's bytes.
private func call(_ x: ExchangeInput, family: AddressFamily, capacity: Int, noBuffer: Bool)
    -> (status: Int32, answer: lwm2m_answer, buffer: [UInt8]) {
    let borrowed = Borrowed()
    var c = lwm2m_exchange()
    c.family = family.rawValue
    c.query_type = x.queryType
    c.response_type = x.responseType
    if let subnet = x.subnet {
        c.has_subnet = 1
        c.subnet = cSubnet(subnet)
    }
    if let list = x.sharedNetworkSubnets {
        c.shared_network_subnets = borrowed.subnets(list.map(cSubnet))
        c.shared_network_subnet_count = list.count
    }
    if let leased = x.leased {
        c.has_leased_address = 1
        withUnsafeMutableBytes(of: &c.leased_address) { raw in
            for index in 0..<16 { raw[index] = leased[index] }
        }
    }
    c.requested_options = borrowed.bytes(x.requested)
    c.max_message_size = borrowed.bytes(x.option57)
    c.reply_size = x.replySize
    if let codes = x.replyCodes {
        c.reply_codes = borrowed.codes(codes)
        c.reply_code_count = codes.count
    }
    c.provided_facts = x.provided
    c.hardware_type = x.hardwareType
    c.hardware_address = borrowed.bytes(x.hardwareAddress)
    c.client_id = borrowed.bytes(x.clientID)
    c.client_classes = borrowed.bytes(x.classes)
    c.shared_network = borrowed.bytes(x.sharedNetwork)

    let buffer = noBuffer ? nil : borrowed.allocate(capacity, alignment: 1).bindMemory(to: UInt8.self, capacity: max(1, capacity))
    if let buffer { buffer.initialize(repeating: 0xEE, count: max(1, capacity)) }
    var answer = lwm2m_answer()
    let status = lwm2m_core_answer(&c, buffer, capacity, &answer)
    let bytes = buffer.map { Array(UnsafeBufferPointer(start: $0, count: capacity)) } ?? []
    return (status, answer, bytes)
}

// MARK: - The model

/// Prefix arithmetic on octets, independent of PrefixKey.
private func bits(_ bytes: [UInt8], _ count: Int) -> [Bool] {
    (0..<count).map { index in bytes[index / 8] & (0x80 >> UInt8(index % 8)) != 0 }
}

private struct ModelSubnet {
    var id: UInt32
    var prefix: [Bool]   // the prefix's bits, length = prefix length (clamped)

    init(_ subnet: SubnetInput, family: AddressFamily) {
        id = subnet.id
        prefix = bits(subnet.prefix, min(Int(subnet.length), family.addressLength * 8))
    }

    func contains(_ address: [Bool]) -> Bool { Array(address.prefix(prefix.count)) == prefix }
}

private struct Expected {
    var flags: UInt32 = 0
    var entry: Int32 = LWM2M_ENTRY_NONE
    var certificateEntry: Int32 = LWM2M_ENTRY_NONE
    var subnetID: UInt32 = 0
    var sizeLimit = 0
    var uri: [UInt8]? = nil           // wire bytes
    var certificate: [UInt8]? = nil   // wire bytes
    var uriValue: [UInt8]? = nil
    var certificateValue: [UInt8]? = nil
    var room = 0
}

private func wire(_ value: [UInt8], code: UInt16, family: AddressFamily) -> [UInt8] {
    switch family {
    case .v4:
        var out: [UInt8] = []
        var rest = value[...]
        repeat {
            let part = rest.prefix(255)
            out += [UInt8(truncatingIfNeeded: code), UInt8(part.count)] + part
            rest = rest.dropFirst(part.count)
        } while !rest.isEmpty
        return out
    case .v6:
        return [UInt8(code >> 8), UInt8(code & 0xff), UInt8(value.count >> 8), UInt8(value.count & 0xff)] + value
    }
}

private func asks(_ list: [UInt8]?, for code: UInt16, family: AddressFamily) -> Bool {
    guard let list else { return false }
    switch family {
    case .v4: return code <= 255 && list.contains(UInt8(code))
    case .v6: return stride(from: 0, to: list.count - 1, by: 2).contains { UInt16(list[$0]) << 8 | UInt16(list[$0 + 1]) == code }
    }
}

private func carries(_ x: ExchangeInput) -> Bool {
    switch x.family {
    case .v4: return [1, 3, 8].contains(x.queryType) && [2, 5].contains(x.responseType)
    case .v6: return [1, 3, 5, 6, 11].contains(x.queryType) && [2, 7].contains(x.responseType)
    }
}

/// What a client asked for in a DISCOVER, by identity (remember-requests).
private typealias Memory = [[UInt8]: (uri: Bool, certificate: Bool)]

private func identity(_ x: ExchangeInput) -> [UInt8]? {
    if let id = x.clientID, !id.isEmpty { return [0] + id }
    if let hw = x.hardwareAddress, !hw.isEmpty { return [1, x.hardwareType] + hw }
    return nil
}

private func model(_ x: ExchangeInput, _ variant: Variant, memory: inout Memory) -> Expected {
    var e = Expected()
    let family = variant.family
    let parameters = variant.parameters
    let entries = variant.store.allEntries.filter { $0.applies(to: family) }

    var serving = x.subnet.map { ModelSubnet($0, family: family) }
    if let selected = serving, let leased = x.leased, let list = x.sharedNetworkSubnets {
        let address = bits(leased, family.addressLength * 8)
        if !selected.contains(address),
           let other = list.map({ ModelSubnet($0, family: family) }).first(where: { $0.contains(address) }) {
            serving = other
        }
    }
    e.subnetID = serving?.id ?? 0
    guard carries(x) else { return e }

    var wantsURI = asks(x.requested, for: parameters.bootstrapURICode, family: family)
    var wantsCertificate = asks(x.requested, for: parameters.serverCertificateCode, family: family)
    if family == .v4, parameters.rememberRequests != nil, let who = identity(x) {
        if x.queryType == 1 && (wantsURI || wantsCertificate) {
            memory[who] = (wantsURI, wantsCertificate)
        } else if x.queryType == 3 && !wantsURI && !wantsCertificate, let asked = memory[who] {
            wantsURI = asked.uri
            wantsCertificate = asked.certificate
            e.flags |= UInt32(LWM2M_ANSWER_REMEMBERED)
        }
    }
    let asked = wantsURI || wantsCertificate
    guard asked || entries.contains(where: \.alwaysSend) else { return e }

    // One matching entry per step of the precedence, the first in store order.
    let names = (x.classes ?? []).split(separator: 0).map(Array.init)
    func matches(_ entry: StoreEntry) -> Bool {
        switch entry.selector {
        case .host(.hwAddress(let bytes)): return x.hardwareAddress == bytes
        case .host(.clientID(let bytes)): return family == .v4 && x.clientID == bytes
        case .host(.duid(let bytes)): return family == .v6 && x.clientID == bytes
        case .clientClass(let name): return names.contains(Array(name.utf8))
        case .subnetID(let id): return serving?.id == id
        case .subnet(let prefix):
            guard let serving, prefix.family == family else { return false }
            return serving.prefix == bits(prefix.address, Int(prefix.length))
        case .sharedNetwork(let name): return x.sharedNetwork == Array(name.utf8)
        case .storeDefault: return true
        }
    }
    var uriEntry: StoreEntry? = nil
    var certificateEntry: StoreEntry? = nil
    for step in StoreEntry.Precedence.allCases {
        guard let hit = entries.first(where: { $0.selector.precedence == step && matches($0) }) else { continue }
        if certificateEntry == nil && hit.certificate != nil { certificateEntry = hit }
        if hit.bootstrapURI != nil { uriEntry = hit; break }
    }
    guard let uriEntry else {
        if asked { e.flags |= UInt32(LWM2M_ANSWER_NO_ENTRY) }
        return e
    }
    e.entry = Int32(uriEntry.index)
    if let certificateEntry {
        e.certificateEntry = Int32(certificateEntry.index)
        if certificateEntry.alwaysSend { wantsCertificate = true }
    }
    if uriEntry.alwaysSend { wantsURI = true }
    if let codes = x.replyCodes {
        if wantsURI && codes.contains(parameters.bootstrapURICode) {
            wantsURI = false
            e.flags |= UInt32(LWM2M_ANSWER_URI_ALREADY_PRESENT)
        }
        if wantsCertificate && codes.contains(parameters.serverCertificateCode) {
            wantsCertificate = false
            e.flags |= UInt32(LWM2M_ANSWER_CERTIFICATE_ALREADY_PRESENT)
        }
    }
    guard wantsURI || wantsCertificate else { return e }
    switch family {
    case .v4:
        var limit = parameters.defaultMaxMessageSize
        if let raw = x.option57, raw.count == 2 { limit = Int(raw[0]) << 8 | Int(raw[1]) }
        e.sizeLimit = min(max(limit, 576), 1500)
        e.room = max(0, e.sizeLimit - 28 - x.replySize)
    case .v6:
        e.sizeLimit = parameters.dhcpv6MaxReplySize
        e.room = max(0, e.sizeLimit - x.replySize)
    }
    var room = e.room
    if wantsURI, let value = uriEntry.bootstrapURI?.bytes {
        let bytes = wire(value, code: parameters.bootstrapURICode, family: family)
        if bytes.count <= room { room -= bytes.count; e.uri = bytes; e.uriValue = value }
        else { e.flags |= UInt32(LWM2M_ANSWER_URI_TOO_BIG) }
    }
    if wantsCertificate, let certificate = certificateEntry?.certificate {
        let value = [certificate.encoding.rawValue] + certificate.der
        let bytes = wire(value, code: parameters.serverCertificateCode, family: family)
        if bytes.count <= room && !(wantsURI && e.uri == nil) { e.certificate = bytes; e.certificateValue = value }
        else { e.flags |= UInt32(LWM2M_ANSWER_CERTIFICATE_TOO_BIG) }
    }
    if e.uri != nil { e.flags |= UInt32(LWM2M_ANSWER_SENT_URI) }
    if e.certificate != nil { e.flags |= UInt32(LWM2M_ANSWER_SENT_CERTIFICATE) }
    return e
}

// MARK: - The properties

private func verify(_ x: ExchangeInput, _ variant: Variant, snapshot: Snapshot, memory: inout Memory) {
    let family = variant.family
    var (status, answer, buffer) = call(x, family: family, capacity: x.capacity, noBuffer: x.noBuffer)
    Property.check(answer.needed_facts == snapshot.neededFacts.rawValue, "needed_facts \(answer.needed_facts)")
    if x.provided & answer.needed_facts != answer.needed_facts {
        Property.check(status == LWM2M_ANSWER_STATUS_NEEDS_FACTS.abiValue, "status \(status) without the facts needed")
        Property.check(answer.option_count == 0 && answer.flags == 0, "options without the facts needed")
        return
    }
    Property.check(answer.uri_code == variant.parameters.bootstrapURICode
                   && answer.certificate_code == variant.parameters.serverCertificateCode, "option codes")
    let expected = model(x, variant, memory: &memory)
    let needed = (expected.uri?.count ?? 0) + (expected.certificate?.count ?? 0)
    if needed > x.capacity {
        Property.check(status == LWM2M_ANSWER_STATUS_BUFFER_TOO_SMALL.abiValue, "status \(status) for a small buffer")
        Property.check(answer.bytes_needed == needed, "bytes_needed \(answer.bytes_needed), model \(needed)")
        Property.check(answer.option_count == 0, "spans written into a buffer too small")
        Property.check(buffer.allSatisfy { $0 == 0xEE }, "a buffer too small was written to")
        // The shim grows the buffer and asks again.
        // (With remember-requests the first call already remembered or
        // recalled; the second one does the same again, to the same outcome.)
        (status, answer, buffer) = call(x, family: family, capacity: answer.bytes_needed, noBuffer: false)
    }
    Property.check(status == LWM2M_ANSWER_STATUS_DONE.abiValue, "status \(status)")
    Property.check(answer.flags == expected.flags, "flags \(String(answer.flags, radix: 2)), model \(String(expected.flags, radix: 2))")
    Property.check(answer.entry_index == expected.entry, "entry \(answer.entry_index), model \(expected.entry)")
    Property.check(answer.certificate_entry_index == expected.certificateEntry,
                   "certificate entry \(answer.certificate_entry_index), model \(expected.certificateEntry)")
    Property.check(answer.subnet_id == expected.subnetID, "subnet \(answer.subnet_id), model \(expected.subnetID)")
    Property.check(Int(answer.size_limit) == expected.sizeLimit, "size limit \(answer.size_limit), model \(expected.sizeLimit)")

    // The spans: inside the buffer, not overlapping, each one option of the
    // right code whose value is the selected entry's bytes.
    let count = Int(answer.option_count)
    Property.check(count <= 2, "\(count) spans")
    let spans = [answer.options.0, answer.options.1].prefix(count)
    var total = 0
    var end = 0
    for span in spans {
        let offset = Int(span.offset), length = Int(span.length)
        Property.check(offset >= end && length > 0 && offset + length <= buffer.count,
                       "span \(offset)+\(length) outside the buffer of \(buffer.count) or overlapping")
        end = offset + length
        total += length
        let bytes = buffer[offset..<(offset + length)]
        let parsed: (code: UInt16, value: [UInt8])?
        switch family {
        case .v4: parsed = WireOptions.v4(bytes).map { (UInt16($0.code), $0.value) }
        case .v6: parsed = WireOptions.v6(bytes)
        }
        guard let parsed else { Property.fail("span of code \(span.code) does not parse as one option") }
        Property.check(parsed.code == span.code, "span code \(span.code), wire code \(parsed.code)")
        if span.code == variant.parameters.bootstrapURICode {
            Property.check(parsed.value == expected.uriValue, "URI bytes differ from the entry's")
        } else if span.code == variant.parameters.serverCertificateCode {
            Property.check(parsed.value == expected.certificateValue, "certificate bytes differ from the entry's")
        } else {
            Property.fail("span of unknown code \(span.code)")
        }
    }
    let modelSpans = [expected.uri, expected.certificate].compactMap { $0 }
    Property.check(count == modelSpans.count, "\(count) options, model \(modelSpans.count)")
    Property.check(total == modelSpans.reduce(0) { $0 + $1.count }, "option octets \(total)")
    if total > 0 {
        // The budget stated, and the budget kept.
        switch family {
        case .v4:
            Property.check(x.replySize + total <= Int(answer.size_limit) - 28,
                           "DHCPv4 reply of \(x.replySize)+\(total) octets over its limit \(answer.size_limit)")
        case .v6:
            Property.check(x.replySize + total <= variant.parameters.dhcpv6MaxReplySize,
                           "DHCPv6 reply of \(x.replySize)+\(total) octets over dhcpv6-max-reply-size")
        }
    }
}

private func fuzzAnswer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let variant = variants[Int(input.u8()) % variants.count]
    let snapshot = variant.snapshot()
    // What the hook's load() would have published.
    service.publisher.publish(snapshot)
    defer { service.publisher.publish(nil) }
    let codes = (variant.parameters.bootstrapURICode, variant.parameters.serverCertificateCode)
    var memory: Memory = [:]
    var previous: ExchangeInput? = nil
    for _ in 0..<4 where !input.isAtEnd {
        let x = exchange(&input, family: variant.family, codes: codes, previous: previous)
        verify(x, variant, snapshot: snapshot, memory: &memory)
        previous = x
    }
    return 0
}

// Last: every global above is initialized before the first input.
Fuzzer.main(fuzzAnswer)

import ArgumentParser
import LwM2MCapture
import LwM2MCore

/// `kea-lwm2m explain`: which store entry a client gets, why, and the bytes,
/// decided by the same Snapshot.answer the hook calls for every packet.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show which store entry a client gets, why, and the exact option bytes.",
        discussion: """
            Describe the client's exchange as Kea would see it: the subnet Kea selected, by \
            id (--subnet-id) or by address (--address with --prefix-length, or with \
            --kea-config to find the subnet, its id and prefix in the configuration). The \
            client is taken to ask for both options in a DISCOVER (DHCPv4) or SOLICIT \
            (DHCPv6). Exit status 0 when an entry applies, 1 when none does.
            """)

    @Argument(help: "The store file.")
    var store: String

    @Option(name: .customLong("subnet-id"), help: "The id of the subnet Kea selected.")
    var subnetID: UInt32?

    @Option(help: "An address in the selected subnet (or ADDRESS/LENGTH).")
    var address: String?

    @Option(name: .customLong("prefix-length"), help: "The selected subnet's prefix length, with --address.")
    var prefixLength: UInt8?

    @Option(name: .customLong("kea-config"), help: "A kea-dhcp4/6 configuration: its subnets, and the hook's option codes and parameters.")
    var keaConfig: String?

    @Option(help: "Server family (4 or 6); default from the address or configuration, else 4.")
    var family: FamilyArgument?

    @Option(help: "The option codes URI,CERT (default: the configuration's, else 224,225 / 200,201).")
    var codes: CodePair?

    @Option(name: .customLong("class"), help: "A client class of the client (repeatable).")
    var classes: [String] = []

    @Option(help: "The client's hardware address (aa:bb:cc:dd:ee:ff).")
    var hw: String?

    @Option(help: "The client's DUID in hex.")
    var duid: String?

    @Option(name: .customLong("client-id"), help: "DHCPv4: the client's client identifier (option 61) in hex.")
    var clientID: String?

    @Option(name: .customLong("shared-network"), help: "The selected subnet's shared network (default: from --kea-config).")
    var sharedNetwork: String?

    @Option(name: .customLong("max-message-size"), help: "DHCPv4: the client's option 57; default: none sent.")
    var maxMessageSize: UInt16?

    @Option(name: .customLong("reply-size"), help: "DHCPv4: octets of the reply before the LwM2M options.")
    var replySize = 300

    func validate() throws {
        guard (subnetID != nil) || (address != nil) else { throw ToolError("give --subnet-id N or --address A") }
        guard hw == nil || duid == nil else { throw ToolError("give --hw or --duid, not both") }
        if let hw, Output.bytes(fromHex: hw).map({ $0.isEmpty || $0.count > 20 }) ?? true {
            throw ToolError("--hw '\(hw)' is not a hardware address such as aa:bb:cc:dd:ee:ff")
        }
        if let duid, Output.bytes(fromHex: duid).map({ $0.count < 2 || $0.count > 130 }) ?? true {
            throw ToolError("--duid '\(duid)' is not a DUID in hex (2 to 130 octets)")
        }
        if let clientID, Output.bytes(fromHex: clientID).map({ $0.count < 2 || $0.count > 255 }) ?? true {
            throw ToolError("--client-id '\(clientID)' is not a client identifier in hex (2 to 255 octets)")
        }
        if let sharedNetwork, sharedNetwork.isEmpty { throw ToolError("--shared-network must not be empty") }
        guard (0...65_535).contains(replySize) else { throw ToolError("--reply-size must be 0 to 65535") }
    }

    func run() throws {
        _ = try Output.read(store)
        let config = try keaConfig.map { path throws(ToolError) in try KeaConfig.load(path: path) }
        let client = try ClientDescription.resolve(self, config: config)
        let family = client.family
        let parameters = try Self.parameters(store: store, family: family, config: config, codes: codes)

        let loaded: Store
        do { loaded = try Store.load(path: store) } catch {
            for problem in error.problems { print(problem.description) }
            print("FAILED: the store does not load; the hook would serve nothing from it")
            throw ExitCode(1)
        }
        let snapshot = Snapshot(store: loaded, parameters: parameters, family: family)
        print("client: \(client.summary)")
        for note in client.notes { print("note: \(note)") }

        // Why: every entry of this family, and whether its selector names this client.
        print("entries for \(family) (most specific first: host, client-class, subnet-id, subnet, shared-network, default):")
        for entry in loaded.allEntries.sorted(by: { $0.selector.precedence < $1.selector.precedence }) {
            guard entry.applies(to: family) else { continue }
            let matches = SelectorMatch.matches(entry.selector, client: client)
            let name = entry.index == StoreEntry.defaultIndex ? "default" : "entry \(entry.index + 1) (\(entry.selector))"
            print("  \(name): \(matches ? "matches" : "does not match")")
        }

        let answer = client.withFacts(parameters: parameters) { facts in
            var buffer = [UInt8](repeating: 0, count: 2 * OptionEncoding.maxDHCPv6ValueLength + 16)
            let decision = buffer.withUnsafeMutableBytes { snapshot.answer(facts, into: $0) }
            return (decision, buffer)
        }
        ExplainReport(answer: answer.0, buffer: answer.1, snapshot: snapshot, replySize: replySize).print()
        if answer.0.entryIndex == nil { throw ExitCode(1) }
    }

    /// Parameters as the hook would have them: from the configuration's hook
    /// entry when given, else the defaults; --codes overrides the codes.
    static func parameters(store: String, family: AddressFamily, config: KeaConfig?,
                           codes: CodePair?) throws(ToolError) -> HookParameters {
        var map: [String: ConfigValue] = [:]
        if let hook = config?.hooks.first, case .object(let given)? = hook.parameters { map = given }
        map[HookParameters.Key.storeFile] = .string(store)
        if let codes {
            map[HookParameters.Key.bootstrapURICode] = .integer(Int64(codes.uri))
            map[HookParameters.Key.serverCertificateCode] = .integer(Int64(codes.certificate))
        }
        var defined = Set(KeaStandardOptions.codes(for: family, version: .v2_2).keys)
        for definition in config?.optionDefinitions ?? [] { defined.insert(definition.code) }
        do {
            return try HookParameters.parse(json: Array(ConfigValue.object(map).json.utf8), family: family,
                                            keaDefinedCodes: defined)
        } catch {
            throw ToolError("hook parameters: \(error.description)")
        }
    }
}

/// `lwm2m-explain`: which store entry applies to a subnet (optionally with
/// client classes) and the exact option bytes a reply would carry. The
/// answer goes through `Snapshot.answer`, the very code packets go through,
/// so it follows every selection rule packets follow.
extension Service {
    /// The arguments `lwm2m-explain` takes.
    public enum ExplainKey {
        public static let subnetID = "subnet-id"
        public static let address = "address"
        public static let clientClasses = "client-classes"
        static let all = [subnetID, address, clientClasses]
    }

    /// The request the shim reads before resolving the subnet: the argument
    /// map checked key by key.
    struct ExplainArguments {
        var subnetID: UInt32?
        var address: String?
        var clientClasses: [String] = []
    }

    static func parseExplainArguments(_ json: [UInt8]) -> Result<ExplainArguments, CommandError> {
        let document: JSONValue
        do { document = json.isEmpty ? .null : try JSONValue.parse(json) }
        catch { return .failure(CommandError("arguments are \(error.reason)")) }
        guard case .object(let map) = document else {
            return .failure(CommandError("needs arguments {\"subnet-id\": ID} or {\"address\": \"ADDRESS\"}, optionally with \"client-classes\": [...]"))
        }
        if let unknown = map.keys.sorted().first(where: { !ExplainKey.all.contains($0) }) {
            return .failure(CommandError("unknown argument '\(unknown)' (known: \(ExplainKey.all.joined(separator: ", ")))"))
        }
        var arguments = ExplainArguments()
        switch (map[ExplainKey.subnetID], map[ExplainKey.address]) {
        case (nil, nil): return .failure(CommandError("give 'subnet-id' or 'address'"))
        case (.some, .some): return .failure(CommandError("give either 'subnet-id' or 'address', not both"))
        case (.integer(let id)?, nil) where id >= 1 && id <= Int64(UInt32.max): arguments.subnetID = UInt32(truncatingIfNeeded: id)
        case (_?, nil): return .failure(CommandError("'subnet-id' must be an integer from 1 to \(UInt32.max)"))
        case (nil, .string(let text)?): arguments.address = text
        case (nil, _?): return .failure(CommandError("'address' must be a string (an IPv4 or IPv6 address)"))
        }
        switch map[ExplainKey.clientClasses] {
        case nil: break
        case .array(let items)?:
            for item in items {
                guard case .string(let name) = item else {
                    return .failure(CommandError("'client-classes' must be a list of strings"))
                }
                arguments.clientClasses.append(name)
            }
        case _?: return .failure(CommandError("'client-classes' must be a list of strings"))
        }
        return .success(arguments)
    }

    func explainCommand(_ request: CommandRequest) -> CommandAnswer {
        let arguments: ExplainArguments
        switch Self.parseExplainArguments(request.arguments) {
        case .success(let parsed): arguments = parsed
        case .failure(let error): return CommandAnswer(result: CommandAnswer.error, text: "lwm2m-explain: \(error.reason)")
        }
        if let error = request.subnetError {
            return CommandAnswer(result: CommandAnswer.error, text: "lwm2m-explain: \(error)")
        }
        guard let subnet = request.subnet else {
            return CommandAnswer(result: CommandAnswer.error, text: "lwm2m-explain: no subnet resolved")
        }
        return withSnapshot { snapshot in
            guard let snapshot else {
                return CommandAnswer(result: CommandAnswer.error, text: "lwm2m-explain: the hook serves no store (see lwm2m-status)")
            }
            return Self.explain(subnet, classes: arguments.clientClasses, snapshot: snapshot)
        }
    }

    /// The reply the explanation assumes: DHCPv4 an OFFER to a DISCOVER that
    /// asks for both options with option 57 = 1500 and a minimal reply;
    /// DHCPv6 an ADVERTISE to a SOLICIT whose ORO asks for both.
    static func explain(_ subnet: ExplainSubnet, classes: [String], snapshot: Snapshot) -> CommandAnswer {
        let family = snapshot.family
        let uriCode = snapshot.parameters.bootstrapURICode
        let certificateCode = snapshot.parameters.serverCertificateCode
        let requested: [UInt8] = family == .v4
            ? [UInt8(truncatingIfNeeded: uriCode), UInt8(truncatingIfNeeded: certificateCode)]
            : [UInt8(truncatingIfNeeded: uriCode >> 8), UInt8(truncatingIfNeeded: uriCode),
               UInt8(truncatingIfNeeded: certificateCode >> 8), UInt8(truncatingIfNeeded: certificateCode)]
        let largest = HookParameters.maxMessageSizeRange.upperBound
        let option57: [UInt8] = [UInt8(truncatingIfNeeded: largest >> 8), UInt8(truncatingIfNeeded: largest)]
        let replySize = family == .v4 ? Snapshot.minimalDHCPv4Reply : 0
        var buffer = [UInt8](repeating: 0, count: 2 * OptionEncoding.maxDHCPv6ValueLength + 64)
        // The client's classes and the subnet's shared network, as the shim
        // would pass them (host identifiers are not part of the command).
        var classList: [UInt8] = []
        for name in classes { classList.append(contentsOf: Array(name.utf8)); classList.append(0) }
        let network: [UInt8] = subnet.sharedNetwork.map { Array($0.utf8) } ?? []
        let answer = requested.withUnsafeBufferPointer { requested in
            option57.withUnsafeBufferPointer { option57 in
                classList.withUnsafeBufferPointer { classBuffer in
                    network.withUnsafeBufferPointer { networkBuffer in
                        buffer.withUnsafeMutableBytes { output in
                            var facts = ExchangeFacts(family: family, queryType: 1, responseType: 2,
                                                      subnetID: subnet.id, subnetPrefix: subnet.prefix,
                                                      requestedOptions: requested,
                                                      maxMessageSize: family == .v4 ? option57 : nil,
                                                      replySize: replySize)
                            facts.provided = [.hardwareAddress, .clientID, .clientClasses, .sharedNetwork]
                            facts.clientClasses = classes.isEmpty ? nil : classBuffer
                            facts.sharedNetwork = subnet.sharedNetwork == nil ? nil : networkBuffer
                            return snapshot.answer(facts, into: output)
                        }
                    }
                }
            }
        }

        var arguments: [String: JSONValue] = [
            "family": .integer(Int64(family.rawValue)),
            "subnet": .object(["id": .integer(Int64(subnet.id)), "prefix": .string(subnet.prefixText),
                               "shared-network": subnet.sharedNetwork.map { .string($0) } ?? .null]),
            "client-classes": .array(classes.map { .string($0) }),
            "assumed-reply": .string(family == .v4
                ? "DHCPv4 OFFER to a DISCOVER asking for options \(uriCode) and \(certificateCode), option 57 = \(largest), "
                  + "\(replySize) octets before the LwM2M options; a client with a smaller limit may get less"
                : "DHCPv6 ADVERTISE to a SOLICIT whose ORO asks for options \(uriCode) and \(certificateCode)"),
            "size-limit": family == .v4 ? .integer(Int64(answer.sizeLimit)) : .null,
        ]
        let label = "subnet \(subnet.id) (\(subnet.prefixText))"
        guard let index = answer.entryIndex,
              let entry = snapshot.store.allEntries.first(where: { $0.index == index }) else {
            arguments["entry"] = .null
            arguments["options"] = .array([])
            return CommandAnswer(result: CommandAnswer.empty, text: "no LwM2M store entry applies to \(label)",
                                 arguments: arguments)
        }
        var certificate: JSONValue = .null
        let certificateEntry = answer.certificateEntryIndex.flatMap { index in
            snapshot.store.allEntries.first(where: { $0.index == index })
        }
        if let certificateEntry, let served = certificateEntry.certificate {
            var map: [String: JSONValue] = [
                "entry": certificateEntry.index == StoreEntry.defaultIndex ? .string("default")
                    : .integer(Int64(certificateEntry.index + 1)),
                "file": .string(certificateEntry.certificatePath.map { FileContents.resolve($0, besides: snapshot.store.path) } ?? ""),
                "store-key": .string(served.storeKey),
                "encoding": .integer(Int64(served.encoding.rawValue)),
                "sha256-fingerprint": .string(served.sha256Fingerprint),
            ]
            if let keyType = served.keyType { map["key-type"] = .string(keyType.rawValue) }
            if let subject = served.subject { map["subject"] = .string(subject) }
            if let notAfter = served.notValidAfter { map["not-after"] = .string(ISO8601.format(notAfter)) }
            certificate = .object(map)
        }
        arguments["entry"] = .object([
            "index": entry.index == StoreEntry.defaultIndex ? .string("default") : .integer(Int64(entry.index + 1)),
            "selector": .string(entry.selector.description),
            "bootstrap-uri": entry.bootstrapURI.map { .string($0.description) } ?? .null,
            "certificate": certificate,
        ])
        var options: [JSONValue] = []
        func add(_ range: Range<Int>?, code: UInt16, name: String) {
            guard let range, range.upperBound <= buffer.count else { return }
            options.append(.object(["code": .integer(Int64(code)), "name": .string(name),
                                    "length": .integer(Int64(range.count)),
                                    "wire-hex": .string(StoreLoader.hex(buffer[range]))]))
        }
        add(answer.uri, code: uriCode, name: "bootstrap-uri")
        add(answer.certificate, code: certificateCode, name: "server-certificate")
        arguments["options"] = .array(options)
        var leftOut: [JSONValue] = []
        if answer.flags.contains(.uriTooBig) { leftOut.append(.string("bootstrap-uri")) }
        if answer.flags.contains(.certificateTooBig) { leftOut.append(.string("server-certificate")) }
        arguments["left-out-for-size"] = .array(leftOut)
        let name = entry.index == StoreEntry.defaultIndex ? "the store's default" : "store entry \(entry.index + 1) (\(entry.selector))"
        return CommandAnswer(result: CommandAnswer.success,
                             text: "\(name) applies to \(label)",
                             arguments: arguments)
    }
}

/// A command whose arguments cannot be used.
struct CommandError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

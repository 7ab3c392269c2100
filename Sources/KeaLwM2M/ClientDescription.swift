import LwM2MCore

/// The client of `explain`, as facts the core's selection understands.
struct ClientDescription {
    let family: AddressFamily
    let subnetID: UInt32?
    /// The selected subnet's prefix, when known.
    let prefix: (address: [UInt8], length: UInt8)?
    let classes: [String]
    let hardwareAddress: [UInt8]?
    let duid: [UInt8]?
    /// DHCPv4 client identifier (option 61 value).
    let clientID: [UInt8]?
    /// The selected subnet's shared network.
    let sharedNetwork: String?
    let maxMessageSize: UInt16?
    let replySize: Int
    /// What the command could not use, or inferred.
    let notes: [String]

    var summary: String {
        var parts = ["\(family)"]
        if let subnetID { parts.append("subnet-id \(subnetID)") }
        if let prefix { parts.append("subnet \(ToolSupport.addressText(prefix.address, family: family))/\(prefix.length)") }
        if !classes.isEmpty { parts.append("classes \(classes.joined(separator: ","))") }
        if let hardwareAddress { parts.append("hw \(hardwareAddress.map { Output.hex([$0]) }.joined(separator: ":"))") }
        if let duid { parts.append("duid \(Output.hex(duid))") }
        if let clientID { parts.append("client-id \(Output.hex(clientID))") }
        if let sharedNetwork { parts.append("shared network '\(sharedNetwork)'") }
        if family == .v4 {
            parts.append(maxMessageSize.map { "option 57 = \($0)" } ?? "no option 57")
            parts.append("reply of \(replySize) octets before the LwM2M options")
        }
        return parts.joined(separator: ", ")
    }

    static func resolve(_ command: Explain, config: KeaConfig?) throws(ToolError) -> ClientDescription {
        var notes: [String] = []
        var addressText = command.address
        var length = command.prefixLength
        if let text = addressText, let slash = text.firstIndex(of: "/") {
            guard length == nil, let given = UInt8(text[text.index(after: slash)...]) else {
                throw ToolError("--address '\(text)': give ADDRESS/LENGTH or ADDRESS with --prefix-length")
            }
            length = given
            addressText = String(text[..<slash])
        }
        // Family: explicit, else the address's, else the configuration's, else DHCPv4.
        var family = command.family?.family ?? config?.family ?? .v4
        var address: [UInt8]? = nil
        if let addressText {
            if let v4 = ToolSupport.addressBytes(addressText, family: .v4) { address = v4; family = command.family?.family ?? .v4 }
            else if let v6 = ToolSupport.addressBytes(addressText, family: .v6) { address = v6; family = command.family?.family ?? .v6 }
            else { throw ToolError("--address '\(addressText)' is not an IPv4 or IPv6 address") }
            if let address, address.count != family.addressLength {
                throw ToolError("--address '\(addressText)' is not a \(family) address")
            }
        }
        if let config, config.family != family {
            throw ToolError("\(config.path) configures \(config.family), the client is \(family)")
        }
        var subnetID = command.subnetID
        var sharedNetwork = command.sharedNetwork
        var prefix: (address: [UInt8], length: UInt8)? = nil
        if let address {
            if let length {
                guard Int(length) <= family.addressLength * 8 else {
                    throw ToolError("--prefix-length \(length) is longer than a \(family) address")
                }
                prefix = (address, length)
            } else if let config {
                guard let subnet = config.subnet(containing: address), let found = subnet.prefix else {
                    throw ToolError("no subnet of \(config.path) contains \(addressText ?? "")")
                }
                prefix = (found.address, found.length)
                if subnetID == nil { subnetID = subnet.id }
                if sharedNetwork == nil { sharedNetwork = subnet.sharedNetwork }
                notes.append("Kea would select \(subnet.label)")
            } else {
                throw ToolError("--address needs --prefix-length (or ADDRESS/LENGTH, or --kea-config)")
            }
        } else if let subnetID, let config {
            if let subnet = config.subnets.first(where: { $0.id == subnetID }), let found = subnet.prefix {
                prefix = (found.address, found.length)
                if sharedNetwork == nil { sharedNetwork = subnet.sharedNetwork }
                notes.append("Kea would select \(subnet.label)")
            } else {
                notes.append("no subnet in \(config.path) has id \(subnetID)")
            }
        }
        let hardwareAddress = command.hw.flatMap(Output.bytes(fromHex:))
        let duid = command.duid.flatMap(Output.bytes(fromHex:))
        let clientID = command.clientID.flatMap(Output.bytes(fromHex:))
        // What the configuration knows of the client's classes and identifiers.
        if let config {
            let reference = ConfigCrossReference(config: config)
            for name in command.classes {
                if case .missing(let reason) = reference.resolve(.clientClass(name)) { notes.append("\(reason) in \(config.path)") }
            }
            for (key, value) in [("hw-address", command.hw), ("duid", command.duid), ("client-id", command.clientID)] {
                guard let value else { continue }
                let known = reference.resolve(.host(identifier: key, value: value)) == .exists
                notes.append("\(config.path) has \(known ? "a" : "no") reservation for \(key) \(value)")
            }
        }
        if family == .v6, hardwareAddress != nil { notes.append("--hw applies to DHCPv4 host entries only; ignored") }
        if family == .v4, duid != nil { notes.append("--duid applies to DHCPv6 host entries only; ignored") }
        if family == .v6, clientID != nil { notes.append("--client-id applies to DHCPv4 host entries only; ignored") }
        if family == .v6, command.maxMessageSize != nil { notes.append("--max-message-size applies to DHCPv4 only; ignored") }
        return ClientDescription(family: family, subnetID: subnetID, prefix: prefix, classes: command.classes,
                                 hardwareAddress: hardwareAddress, duid: duid,
                                 clientID: family == .v4 ? clientID : nil, sharedNetwork: sharedNetwork,
                                 maxMessageSize: family == .v4 ? command.maxMessageSize : nil,
                                 replySize: command.replySize, notes: notes)
    }

    /// The prefix as the core's lookup key.
    var prefixKey: PrefixKey? {
        prefix.map { prefix in
            prefix.address.withUnsafeBufferPointer { PrefixKey(family: family, address: $0, length: prefix.length) }
        }
    }

    /// Calls `body` with the ExchangeFacts of a client asking for both options
    /// in a DISCOVER/OFFER (DHCPv4) or SOLICIT/ADVERTISE (DHCPv6) exchange.
    /// New facts (classes, host identifiers) are mapped here.
    func withFacts<Result>(parameters: HookParameters, _ body: (ExchangeFacts) -> Result) -> Result {
        let uri = parameters.bootstrapURICode, certificate = parameters.serverCertificateCode
        let requested: [UInt8] = family == .v4
            ? [UInt8(truncatingIfNeeded: uri), UInt8(truncatingIfNeeded: certificate)]
            : [UInt8(truncatingIfNeeded: uri >> 8), UInt8(truncatingIfNeeded: uri),
               UInt8(truncatingIfNeeded: certificate >> 8), UInt8(truncatingIfNeeded: certificate)]
        let option57: [UInt8]? = maxMessageSize.map { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] }
        return requested.withUnsafeBufferPointer { requestedBuffer in
            func call(_ sizeBuffer: UnsafeBufferPointer<UInt8>?) -> Result {
                var classList: [UInt8] = []
                for name in classes { classList.append(contentsOf: Array(name.utf8)); classList.append(0) }
                let hardware: [UInt8]? = family == .v4 ? hardwareAddress : nil
                let id: [UInt8]? = family == .v6 ? duid : clientID
                let network: [UInt8]? = sharedNetwork.map { Array($0.utf8) }
                return classList.withUnsafeBufferPointer { (classBuffer: UnsafeBufferPointer<UInt8>) -> Result in
                    Self.withOptional(hardware) { (hardwareBuffer: UnsafeBufferPointer<UInt8>?) -> Result in
                        Self.withOptional(id) { (idBuffer: UnsafeBufferPointer<UInt8>?) -> Result in
                            Self.withOptional(network) { (networkBuffer: UnsafeBufferPointer<UInt8>?) -> Result in
                                body(makeFacts(requested: requestedBuffer, option57: sizeBuffer, classes: classBuffer,
                                               hardware: hardwareBuffer, id: idBuffer, network: networkBuffer))
                            }
                        }
                    }
                }
            }
            guard let option57 else { return call(nil) }
            return option57.withUnsafeBufferPointer { call($0) }
        }
    }
}

extension ClientDescription {
    /// The exchange facts of this client, the optional ones included.
    fileprivate func makeFacts(requested: UnsafeBufferPointer<UInt8>, option57: UnsafeBufferPointer<UInt8>?,
                               classes classBuffer: UnsafeBufferPointer<UInt8>,
                               hardware: UnsafeBufferPointer<UInt8>?, id: UnsafeBufferPointer<UInt8>?,
                               network: UnsafeBufferPointer<UInt8>?) -> ExchangeFacts {
        var facts = ExchangeFacts(family: family, queryType: 1, responseType: 2, subnetID: subnetID,
                                  subnetPrefix: prefixKey, requestedOptions: requested,
                                  maxMessageSize: option57, replySize: family == .v4 ? replySize : 0)
        facts.provided = [.hardwareAddress, .clientID, .clientClasses, .sharedNetwork]
        facts.hardwareType = 1
        facts.hardwareAddress = hardware
        facts.clientID = id
        facts.clientClasses = classes.isEmpty ? nil : classBuffer
        facts.sharedNetwork = network
        return facts
    }

    fileprivate static func withOptional<R>(_ bytes: [UInt8]?, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBufferPointer { body($0) }
    }
}

/// Whether an entry's selector names the client: the explanation beside the
/// core's decision (the decision itself is Snapshot.answer's).
enum SelectorMatch {
    static func matches(_ selector: StoreEntry.Selector, client: ClientDescription) -> Bool {
        switch selector {
        case .subnetID(let id): client.subnetID == id
        case .subnet(let prefix): client.prefixKey == PrefixKey(prefix)
        case .clientClass(let name): client.classes.contains(name)
        case .host(.hwAddress(let bytes)): client.family == .v4 && client.hardwareAddress == bytes
        case .host(.duid(let bytes)): client.family == .v6 && client.duid == bytes
        case .host(.clientID(let bytes)): client.family == .v4 && client.clientID == bytes
        case .sharedNetwork(let name): client.sharedNetwork == name
        case .storeDefault: true
        }
    }
}

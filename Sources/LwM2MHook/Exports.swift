import LwM2MABI
import LwM2MCore

/// The one Service of this process. The hook is linked `nodelete`, so it
/// outlives every unload/load pair of a reconfiguration.
let service = Service()

/// Implements `lwm2m_core_configure` from lwm2m_core.h.
@_cdecl("lwm2m_core_configure")
public func lwm2mCoreConfigure(_ input: UnsafePointer<lwm2m_config_input>?,
                               _ result: UnsafeMutablePointer<lwm2m_load_result>?) {
    guard let result else { return }
    result.pointee.status = LWM2M_LOAD_BAD_PARAMETERS.abiValue
    result.pointee.entry_count = 0
    result.pointee.certificate_count = 0
    result.pointee.kept_previous_store = 0
    result.pointee.needed_facts = 0
    CText.write("", into: &result.pointee.store_path)
    CText.write("", into: &result.pointee.oversized_certificates)
    guard let input, let family = AddressFamily(rawValue: input.pointee.family) else {
        CText.write("internal error: no configuration input or unknown family", into: &result.pointee.text)
        return
    }
    let json = CBytes.array(input.pointee.parameters_json.map { UnsafeRawPointer($0) }, input.pointee.parameters_json_length)
    var defined = Set<UInt16>()
    if let codes = input.pointee.kea_defined_codes {
        defined.formUnion(UnsafeBufferPointer(start: codes, count: input.pointee.kea_defined_codes_count))
    }

    let parameters: HookParameters
    do {
        parameters = try HookParameters.parse(json: json, family: family, keaDefinedCodes: defined)
    } catch {
        CText.write(error.description, into: &result.pointee.text)
        return
    }
    CText.write(parameters.storeFile, into: &result.pointee.store_path)

    switch service.configure(parameters, family: family) {
    case .loaded(let snapshot):
        result.pointee.status = LWM2M_LOAD_OK.abiValue
        report(snapshot, into: result)
        CText.write("\(counted(snapshot.entryCount, "entry", "entries")) for \(family), "
                    + "\(counted(snapshot.certificateCount, "certificate", "certificates")); "
                    + "option codes \(parameters.bootstrapURICode) (URI), \(parameters.serverCertificateCode) (certificate)",
                    into: &result.pointee.text)
    case .storeFailed(let error, let serving):
        result.pointee.status = LWM2M_LOAD_STORE_FAILED.abiValue
        if let serving {
            report(serving, into: result)
            result.pointee.kept_previous_store = 1
        }
        CText.write(error.description, into: &result.pointee.text)
    }
}

private func report(_ snapshot: Snapshot, into result: UnsafeMutablePointer<lwm2m_load_result>) {
    result.pointee.entry_count = UInt32(clamping: snapshot.entryCount)
    result.pointee.certificate_count = UInt32(clamping: snapshot.certificateCount)
    result.pointee.needed_facts = snapshot.neededFacts.rawValue
    CText.write(snapshot.entriesWithOversizedCertificates.joined(separator: ", "),
                into: &result.pointee.oversized_certificates)
}

private func counted(_ count: Int, _ one: String, _ many: String) -> String {
    "\(count) \(count == 1 ? one : many)"
}

/// Implements `lwm2m_core_unload` from lwm2m_core.h.
@_cdecl("lwm2m_core_unload")
public func lwm2mCoreUnload() {
    service.stop()
}

/// Implements `lwm2m_core_answer` from lwm2m_core.h.
@_cdecl("lwm2m_core_answer")
public func lwm2mCoreAnswer(_ exchange: UnsafePointer<lwm2m_exchange>?,
                            _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                            _ answer: UnsafeMutablePointer<lwm2m_answer>?) -> Int32 {
    let done = LWM2M_ANSWER_STATUS_DONE.abiValue
    guard let answer else { return done }
    answer.pointee = lwm2m_answer()
    answer.pointee.entry_index = LWM2M_ENTRY_NONE
    answer.pointee.certificate_entry_index = LWM2M_ENTRY_NONE
    guard let exchange, let family = AddressFamily(rawValue: exchange.pointee.family) else { return done }
    // Lock-free and without retaining: the snapshot is valid inside the closure.
    return service.withSnapshot { snapshot in
        guard let snapshot else { return done }
        return fill(answer, from: exchange.pointee, family: family, snapshot: snapshot, buffer: buffer, capacity: capacity)
    }
}

private func fill(_ answer: UnsafeMutablePointer<lwm2m_answer>, from x: lwm2m_exchange, family: AddressFamily,
                  snapshot: Snapshot, buffer: UnsafeMutablePointer<UInt8>?, capacity: Int) -> Int32 {
    let needed = snapshot.neededFacts
    answer.pointee.needed_facts = needed.rawValue
    let provided = Facts(rawValue: x.provided_facts)
    guard provided.isSuperset(of: needed) else { return LWM2M_ANSWER_STATUS_NEEDS_FACTS.abiValue }
    var subnet = x.has_subnet != 0 ? SubnetFact(x.subnet, family: family) : nil
    if let selected = subnet, x.has_leased_address != 0, let list = x.shared_network_subnets {
        // Kea may have leased from another subnet of the shared network.
        let leased = withUnsafeBytes(of: x.leased_address) { raw in
            PrefixKey.address(raw.bindMemory(to: UInt8.self), family: family)
        }
        let network = SubnetArray(UnsafeBufferPointer(start: list, count: x.shared_network_subnet_count), family: family)
        subnet = ServingSubnet.choose(selected: selected, leasedAddress: leased, sharedNetwork: network)
    }
    answer.pointee.subnet_id = subnet?.id ?? 0
    var facts = ExchangeFacts(family: family, queryType: x.query_type, responseType: x.response_type,
                              subnetID: subnet?.id, subnetPrefix: subnet?.prefix,
                              requestedOptions: CBytes.buffer(x.requested_options),
                              maxMessageSize: CBytes.buffer(x.max_message_size),
                              replySize: x.reply_size)
    if let codes = x.reply_codes, x.reply_code_count > 0 {
        facts.replyCodes = UnsafeBufferPointer(start: codes, count: x.reply_code_count)
    }
    if !needed.isEmpty {
        facts.provided = provided
        facts.hardwareType = x.hardware_type
        facts.hardwareAddress = CBytes.buffer(x.hardware_address)
        facts.clientID = CBytes.buffer(x.client_id)
        facts.clientClasses = CBytes.buffer(x.client_classes)
        facts.sharedNetwork = CBytes.buffer(x.shared_network)
    }
    let output = UnsafeMutableRawBufferPointer(start: buffer, count: buffer == nil ? 0 : max(0, capacity))
    let decision = snapshot.answer(facts, into: output)
    if decision.bytesNeeded == 0 { service.counters.record(decision.flags, subnetID: facts.subnetID) }

    answer.pointee.flags = decision.flags.rawValue
    answer.pointee.entry_index = decision.entryIndex.map { Int32(clamping: $0) } ?? LWM2M_ENTRY_NONE
    answer.pointee.certificate_entry_index = decision.certificateEntryIndex.map { Int32(clamping: $0) } ?? LWM2M_ENTRY_NONE
    answer.pointee.size_limit = UInt32(clamping: decision.sizeLimit)
    answer.pointee.bytes_needed = decision.bytesNeeded
    answer.pointee.uri_code = snapshot.uriCode
    answer.pointee.certificate_code = snapshot.certificateCode
    answer.pointee.snapshot_serial = snapshot.serial
    var count: UInt32 = 0
    if let range = decision.uri {
        answer.pointee.options.0 = span(snapshot.uriCode, range, key: decision.uriKey)
        count = 1
    }
    if let range = decision.certificate {
        let value = span(snapshot.certificateCode, range, key: decision.certificateKey)
        if count == 0 { answer.pointee.options.0 = value } else { answer.pointee.options.1 = value }
        count += 1
    }
    answer.pointee.option_count = count
    return decision.bytesNeeded > 0 ? LWM2M_ANSWER_STATUS_BUFFER_TOO_SMALL.abiValue : LWM2M_ANSWER_STATUS_DONE.abiValue
}

private func span(_ code: UInt16, _ range: Range<Int>, key: UInt32) -> lwm2m_option_span {
    lwm2m_option_span(code: code, offset: UInt32(clamping: range.lowerBound), length: UInt32(clamping: range.count),
                      key: key)
}

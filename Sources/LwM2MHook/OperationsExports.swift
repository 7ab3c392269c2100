import LwM2MABI
import LwM2MCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// The operations half of lwm2m_core.h: watch timer, events,
// statistics and control commands. All called on Kea's main thread.

/// Implements `lwm2m_core_watch_interval_ms`.
@_cdecl("lwm2m_core_watch_interval_ms")
public func lwm2mCoreWatchIntervalMs() -> UInt32 {
    service.watchIntervalMilliseconds
}

/// Implements `lwm2m_core_poll`.
@_cdecl("lwm2m_core_poll")
public func lwm2mCorePoll() -> Int32 {
    switch service.poll() {
    case .reloaded: LWM2M_POLL_RELOADED.abiValue
    case .failed: LWM2M_POLL_RELOAD_FAILED.abiValue
    case .loading: LWM2M_POLL_LOADING.abiValue
    case .inactive, .unchanged: LWM2M_POLL_UNCHANGED.abiValue
    }
}

/// Implements `lwm2m_core_next_event`: events are taken from the service in
/// batches and handed out one at a time.
@_cdecl("lwm2m_core_next_event")
public func lwm2mCoreNextEvent(_ event: UnsafeMutablePointer<lwm2m_event>?) -> Int32 {
    guard let event else { return 0 }
    guard let next = pendingEvents.next() else { return 0 }
    event.pointee.kind = next.kind.rawValue
    let count = min(next.arguments.count, Int(LWM2M_EVENT_MAX_ARGUMENTS))
    event.pointee.argument_count = UInt32(count)
    withUnsafeMutableBytes(of: &event.pointee.arguments) { raw in
        let stride = Int(LWM2M_TEXT_CAPACITY)
        for index in 0..<Int(LWM2M_EVENT_MAX_ARGUMENTS) {
            let slot = UnsafeMutableRawBufferPointer(rebasing: raw[(index * stride)..<((index + 1) * stride)])
            writeText(index < count ? next.arguments[index] : "", into: slot)
        }
    }
    return 1
}

/// Events taken from the service and not yet handed to the shim.
private let pendingEvents = EventBuffer()

private final class EventBuffer: Sendable {
    // Only the main thread calls lwm2m_core_next_event; the lock keeps that
    // assumption from ever becoming a data race.
    private let queue = Mutex<[OperationsEvent]>([])

    func next() -> OperationsEvent? {
        queue.withLock { queue in
            if queue.isEmpty { queue = service.takeEvents() }
            return queue.isEmpty ? nil : queue.removeFirst()
        }
    }
}

/// Copies as much of `text` as fits into `raw`, cut at a character boundary,
/// NUL-terminated.
private func writeText(_ text: String, into raw: UnsafeMutableRawBufferPointer) {
    guard raw.count > 0 else { return }
    let all = Array(text.utf8)
    var cut = min(all.count, raw.count - 1)
    while cut > 0, cut < all.count, all[cut] & 0xC0 == 0x80 { cut -= 1 }
    raw.copyBytes(from: all[0..<cut])
    raw[cut] = 0
}

/// Implements `lwm2m_core_take_statistics`.
@_cdecl("lwm2m_core_take_statistics")
public func lwm2mCoreTakeStatistics(_ deltas: UnsafeMutablePointer<lwm2m_statistic_delta>?, _ capacity: Int) -> Int {
    guard let deltas, capacity > 0 else { return 0 }
    return pendingDeltas.fill(deltas, capacity)
}

private let pendingDeltas = DeltaBuffer()

/// Deltas taken from the service and not yet handed out (when the shim's
/// array is smaller than the number of subnets counted).
private final class DeltaBuffer: Sendable {
    private let queue = Mutex<[StatisticDelta]>([])

    func fill(_ out: UnsafeMutablePointer<lwm2m_statistic_delta>, _ capacity: Int) -> Int {
        queue.withLock { queue in
            if queue.isEmpty { queue = service.takeStatistics() }
            let count = min(capacity, queue.count)
            for index in 0..<count {
                let delta = queue[index]
                out[index] = lwm2m_statistic_delta(
                    subnet_id: delta.subnetID ?? 0, uri_sent: delta.uriSent, certificate_sent: delta.certificateSent,
                    certificate_too_big: delta.certificateTooBig, uri_too_big: delta.uriTooBig,
                    reload_ok: delta.reloadOK, reload_failed: delta.reloadFailed)
            }
            queue.removeFirst(count)
            return count
        }
    }
}

/// Implements `lwm2m_core_database_gauges`.
@_cdecl("lwm2m_core_database_gauges")
public func lwm2mCoreDatabaseGauges(_ revision: UnsafeMutablePointer<Int64>?,
                                    _ connected: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let gauges = service.databaseGauges else { return 0 }
    revision?.pointee = gauges.revision
    connected?.pointee = gauges.connected ? 1 : 0
    return 1
}

/// Implements `lwm2m_core_command`.
@_cdecl("lwm2m_core_command")
public func lwm2mCoreCommand(_ input: UnsafePointer<lwm2m_command_input>?) -> UnsafeMutablePointer<CChar>? {
    let json: String
    if let input {
        let x = input.pointee
        let name = String(decoding: CBytes.array(x.command.map { UnsafeRawPointer($0) }, x.command_length), as: UTF8.self)
        let arguments = CBytes.array(x.arguments_json.map { UnsafeRawPointer($0) }, x.arguments_json_length)
        let subnetError = x.subnet_error.map { _ in
            String(decoding: CBytes.array(x.subnet_error.map { UnsafeRawPointer($0) }, x.subnet_error_length), as: UTF8.self)
        }
        var subnet: ExplainSubnet? = nil
        if x.has_subnet != 0, let family = service.snapshot?.family {
            let prefix = SubnetFact(x.subnet, family: family).prefix
            let text = String(decoding: CBytes.array(x.subnet_text.map { UnsafeRawPointer($0) }, x.subnet_text_length), as: UTF8.self)
            let network = x.shared_network.map { _ in
                String(decoding: CBytes.array(x.shared_network.map { UnsafeRawPointer($0) }, x.shared_network_length), as: UTF8.self)
            }
            subnet = ExplainSubnet(id: x.subnet.id, prefixText: text, prefix: prefix, sharedNetwork: network)
        } else if x.has_subnet != 0 {
            subnet = ExplainSubnet(id: x.subnet.id, prefixText: "", prefix: nil, sharedNetwork: nil)
        }
        json = service.command(CommandRequest(name: name, arguments: arguments, subnet: subnet, subnetError: subnetError))
    } else {
        json = #"{"result":1,"text":"internal error: no command input"}"#
    }
    return strdup(json)
}

/// Implements `lwm2m_core_free`.
@_cdecl("lwm2m_core_free")
public func lwm2mCoreFree(_ text: UnsafeMutablePointer<CChar>?) {
    free(text)
}

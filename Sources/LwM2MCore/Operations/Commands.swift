#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The subnet an `lwm2m-explain` is about, as the shim resolved it from Kea's
/// current configuration.
public struct ExplainSubnet: Sendable, Equatable {
    public var id: UInt32
    /// Prefix as Kea prints it (`192.0.2.0/24`).
    public var prefixText: String
    public var prefix: PrefixKey?
    /// Name of the shared network the subnet belongs to, if any.
    public var sharedNetwork: String?

    public init(id: UInt32, prefixText: String, prefix: PrefixKey?, sharedNetwork: String?) {
        self.id = id
        self.prefixText = prefixText
        self.prefix = prefix
        self.sharedNetwork = sharedNetwork
    }
}

/// One control command as the shim passes it on.
public struct CommandRequest: Sendable {
    public var name: String
    /// The command's `arguments` as JSON text; empty when absent.
    public var arguments: [UInt8]
    /// lwm2m-explain: the resolved subnet, or why none was.
    public var subnet: ExplainSubnet?
    public var subnetError: String?

    public init(name: String, arguments: [UInt8], subnet: ExplainSubnet? = nil, subnetError: String? = nil) {
        self.name = name
        self.arguments = arguments
        self.subnet = subnet
        self.subnetError = subnetError
    }
}

extension Service {
    /// The hook's control commands.
    public enum Command {
        public static let reload = "lwm2m-reload"
        public static let status = "lwm2m-status"
        public static let explain = "lwm2m-explain"
        public static let all = [reload, status, explain]
    }

    /// Answers one control command with Kea's answer as JSON text. Never fails:
    /// every problem is an answer with result 1.
    public func command(_ request: CommandRequest) -> String {
        switch request.name {
        case Command.reload: reloadCommand().json
        case Command.status: statusCommand().json
        case Command.explain: explainCommand(request).json
        default: CommandAnswer(result: CommandAnswer.error, text: "unknown LwM2M command '\(request.name)'").json
        }
    }

    private func reloadCommand() -> CommandAnswer {
        if kickFollower() {
            let (label, revision) = state.withLock { state in
                (state.operations.database?.parameters.label ?? "", state.operations.database?.revision)
            }
            return CommandAnswer(result: CommandAnswer.success,
                                 text: "LwM2M store \(label): read again requested (revision \(revision.map(String.init) ?? "none") served)",
                                 arguments: ["revision": revision.map { .integer($0) } ?? .null])
        }
        switch reload() {
        case .reloaded(let entries):
            return CommandAnswer(result: CommandAnswer.success,
                                 text: "LwM2M store reloaded: \(entries) \(entries == 1 ? "entry" : "entries")",
                                 arguments: ["entries": .integer(Int64(entries))])
        case .failed(let reason):
            return CommandAnswer(result: CommandAnswer.error, text: "LwM2M store not reloaded, the last good version stays in service: \(reason)")
        case .inactive, .unchanged, .loading:   // a forced reload is never unchanged nor left running
            return CommandAnswer(result: CommandAnswer.error, text: "the LwM2M hook is not loaded")
        }
    }

    private func statusCommand() -> CommandAnswer {
        state.withLock { state in
            let operations = state.operations
            guard operations.active, let parameters = operations.parameters, let family = operations.family else {
                return CommandAnswer(result: CommandAnswer.error, text: "the LwM2M hook is not loaded")
            }
            let snapshot = publisher.current
            let served = snapshot == nil ? nil : operations.served
            // The list kept for the expiry checks: built when the snapshot
            // was prepared, not again for every status request.
            let certificates: [JSONValue] = (snapshot == nil ? [] : operations.servedCertificates).map { served in
                var map: [String: JSONValue] = [
                    "file": .string(served.file),
                    "entries": .array(served.entries.map { .integer(Int64($0)) }),
                    "encoding": .integer(Int64(served.certificate.encoding.rawValue)),
                    "sha256-fingerprint": .string(served.certificate.sha256Fingerprint),
                ]
                Self.describe(served.certificate, into: &map, now: now())
                return .object(map)
            }
            let totals = operations.totals
            let counters: [String: JSONValue] = [
                "uri-sent": .integer(Int64(clamping: totals.uriSent)),
                "certificate-sent": .integer(Int64(clamping: totals.certificateSent)),
                "certificate-too-big": .integer(Int64(clamping: totals.certificateTooBig)),
                "uri-too-big": .integer(Int64(clamping: totals.uriTooBig)),
                "reload-ok": .integer(Int64(clamping: totals.reloadOK)),
                "reload-failed": .integer(Int64(clamping: totals.reloadFailed)),
            ]
            let entries = snapshot?.entryCount ?? 0
            var arguments: [String: JSONValue] = [
                "backend": .string(operations.database == nil ? "file" : "database"),
                "family": .integer(Int64(family.rawValue)),
                "store-file": .string(parameters.storeFile),
                "loaded-at": served.map { .string(ISO8601.format($0.loadedAt)) } ?? .null,
                "sha256": served.map { .string($0.sha256) } ?? .null,
                "entries": .integer(Int64(entries)),
                "last-error": operations.lastError.map { .string($0) } ?? .null,
                "watch-interval": .integer(Int64(parameters.watchInterval)),
                "reload-in-progress": .bool(operations.loading != nil),
                "certificates": .array(certificates),
                "counters": .object(counters),
            ]
            if let database = operations.database { arguments["database"] = databaseStatus(database) }
            var text = snapshot == nil ? "LwM2M store \(parameters.storeFile): nothing served"
                                       : "LwM2M store \(parameters.storeFile): \(entries) \(entries == 1 ? "entry" : "entries") served"
            if let error = operations.lastError { text += "; last load failed: \(error)" }
            return CommandAnswer(result: CommandAnswer.success, text: text, arguments: arguments)
        }
    }

    /// What `lwm2m-status` shows of a served certificate besides its file,
    /// entries, encoding and fingerprint: names and validity for X.509, the
    /// key type for a raw public key (which has neither, and never expires).
    static func describe(_ certificate: ServerCertificate, into map: inout [String: JSONValue], now: Date) {
        if let keyType = certificate.keyType { map["key-type"] = .string(keyType.rawValue) }
        if let subject = certificate.subject { map["subject"] = .string(subject) }
        if let issuer = certificate.issuer { map["issuer"] = .string(issuer) }
        if let notBefore = certificate.notValidBefore { map["not-before"] = .string(ISO8601.format(notBefore)) }
        if let notAfter = certificate.notValidAfter { map["not-after"] = .string(ISO8601.format(notAfter)) }
        map["expired"] = .bool(certificate.notValidAfter.map { $0 <= now } ?? false)
    }

}

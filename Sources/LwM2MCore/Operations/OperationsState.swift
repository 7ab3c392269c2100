#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The main thread's side of the service: what is configured, what the
/// watch timer compares against, what status reports, and the events the
/// shim has not logged yet. Packets never touch it.
struct OperationsState {
    var parameters: HookParameters?
    var family: AddressFamily?
    /// Between load() and unload(): polls and commands act only then.
    var active = false
    /// The files of the last load attempt, good or failed.
    var watched = WatchedFiles()
    /// The store version served now, nil when nothing is.
    var served: ServedStore?
    /// Why the last attempt failed; nil when it loaded.
    var lastError: String?
    /// The failure last reported (its text and the store file's identity):
    /// the same failure is logged once, however often it is seen. A failure
    /// not yet confirmed (`FailureReport.notYet`) does not change it.
    var lastFailureKey: String?
    /// Reloads since the last statistics flush.
    var pendingReloadOK: UInt64 = 0
    var pendingReloadFailed: UInt64 = 0
    /// Everything counted since the process started (status).
    var totals = StatisticDelta(subnetID: nil)
    var events: [OperationsEvent] = []
    /// A reload being prepared on its own thread (see `BackgroundLoad`).
    var loading: BackgroundLoad?
    /// The certificates of the snapshot in service (expiry checks).
    var servedCertificates: [ServedCertificate] = []
    /// When certificates were last checked for expiry.
    var lastCertificateCheck: Date?
    /// The database followed (`store-database`); nil for a store file.
    var database: DatabaseState?

    /// Certificates that expire within this many seconds are warned about.
    static let expiryWarning: TimeInterval = 30 * 86_400
    /// The watch timer re-checks expiry this often.
    static let expiryRecheck: TimeInterval = 86_400

    mutating func configured(_ parameters: HookParameters, family: AddressFamily, at date: Date) {
        self.parameters = parameters
        self.family = family
        active = true
    }

    /// Waits for a reload the timer started and drops what it prepared
    /// (unload, or a new configuration).
    mutating func abandonLoading() {
        if let job = loading {
            loading = nil
            _ = job.collect()
        }
    }

    mutating func attempted(_ attempt: StoreAttempt) {
        watched = attempt.files
    }

    /// The last attempt failed and is not settled: the next tick reads the
    /// files again even when their stamps did not change.
    mutating func awaitReRead() {
        watched.awaitReRead()
    }

    /// `certificates`: `ServedCertificate.all(in: snapshot)` when the caller
    /// has it already (a reload prepares it off the main thread).
    mutating func loadSucceeded(_ snapshot: Snapshot, certificates: [ServedCertificate]? = nil, now: Date) {
        lastError = nil
        lastFailureKey = nil
        servedCertificates = certificates ?? ServedCertificate.all(in: snapshot)
        checkCertificates(now: now)
    }

    /// How a failed attempt is reported.
    enum FailureReport {
        /// The caller logs it (load(), reconfiguration): only remembered, so
        /// the watch timer does not log it again.
        case byCaller
        /// LWM2M_RELOAD_FAILED, unless this failure was reported before.
        case onceNew
        /// Not yet: a file was modified just before it was read, so the
        /// writer may not have finished; a re-read that finds the files
        /// unchanged reports it.
        case notYet
    }

    /// Records a failed attempt (`last-error`) and reports it as `how` says.
    /// Returns whether LWM2M_RELOAD_FAILED was queued.
    @discardableResult
    mutating func loadFailed(_ error: StoreError, attempt: StoreAttempt, serving: Snapshot?,
                             report how: FailureReport) -> Bool {
        let text = error.description
        lastError = text
        if case .notYet = how { return false }
        let identity = attempt.storeStamp.map { "\($0.device):\($0.inode)" } ?? "absent"
        let key = identity + "\n" + text
        defer { lastFailureKey = key }
        guard case .onceNew = how, key != lastFailureKey else { return false }
        let kept = serving.map { "its last good version (\($0.entryCount) entries)" } ?? "nothing"
        events.append(OperationsEvent(.reloadFailed, [parameters?.storeFile ?? "", kept, text]))
        return true
    }

    /// Queues an expiry event for every certificate served that expired or
    /// expires within 30 days (raw public keys do not expire).
    mutating func checkCertificates(of snapshot: Snapshot?, now: Date) {
        servedCertificates = snapshot.map { ServedCertificate.all(in: $0) } ?? []
        checkCertificates(now: now)
    }

    /// The same for the certificates of the snapshot in service.
    mutating func checkCertificates(now: Date) {
        lastCertificateCheck = now
        for certificate in servedCertificates {
            guard let notValidAfter = certificate.certificate.notValidAfter else { continue }
            let left = notValidAfter.timeIntervalSince(now)
            let notAfter = ISO8601.format(notValidAfter)
            let subject = certificate.certificate.subject ?? ""
            if left <= 0 {
                events.append(OperationsEvent(.certificateExpired, [certificate.file, subject, notAfter]))
            } else if left <= Self.expiryWarning {
                let days = Int(left / 86_400)
                events.append(OperationsEvent(.certificateExpiresSoon, [certificate.file, subject, notAfter, String(days)]))
            }
        }
    }
}

/// One distinct certificate (or raw public key) a snapshot serves, with the
/// file it came from and the store entries (1-based) that use it.
struct ServedCertificate: Sendable {
    let file: String
    let certificate: ServerCertificate
    let entries: [Int]

    static func all(in snapshot: Snapshot) -> [ServedCertificate] {
        var groups: [(file: String, certificate: ServerCertificate, entries: [Int])] = []
        var slotOfFile: [String: Int] = [:]
        // Each path looked up once (a store names few files, many times).
        var slotOfPath = FewKeys<Int>()
        for entry in snapshot.store.entries where entry.applies(to: snapshot.family) {
            guard let certificate = entry.certificate, let path = entry.certificatePath else { continue }
            let slot = slotOfPath.value(for: path) {
                let file = FileContents.resolve(path, besides: snapshot.store.path)
                if let slot = slotOfFile[file] { return slot }
                groups.append((file, certificate, []))
                slotOfFile[file] = groups.count - 1
                return groups.count - 1
            }
            groups[slot].entries.append(entry.index + 1)
        }
        return groups.map { ServedCertificate(file: $0.file, certificate: $0.certificate, entries: $0.entries) }
    }
}

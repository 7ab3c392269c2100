import Crypto
import Foundation
import Synchronization
import Testing
@testable import LwM2MCore

/// Sleeps until a re-read may settle a failure (`WatchedFiles.settleNanoseconds`).
private func waitOutSettle() {
    usleep(useconds_t(WatchedFiles.settleNanoseconds / 1_000) + 50_000)
}

private func parameters(_ path: String, watch: Int = 1) -> HookParameters {
    HookParameters(storeFile: path, bootstrapURICode: 224, serverCertificateCode: 225,
                   defaultMaxMessageSize: 576, watchInterval: watch)
}

private func store(_ uri: String, certificate: String? = nil) -> String {
    let cert = certificate.map { #", "server-certificate": "\#($0)""# } ?? ""
    return #"{"entries": [{"subnet-id": 1, "bootstrap-uri": "\#(uri)"\#(cert)}]}"#
}

/// One watch tick as the shim runs it: poll, and while the changed store is
/// read on its own thread, poll again until it is published.
private func tick(_ service: Service) -> Service.ReloadOutcome {
    var outcome = service.poll()
    var polls = 0
    while outcome == .loading && polls < 20_000 {
        usleep(500)
        polls += 1
        outcome = service.poll()
    }
    return outcome
}

/// A v4 service serving a one-entry store with `uri` from
/// `folder/store.json` (at `path`), its load events taken.
private func serviceServing(_ uri: String) throws -> (folder: TemporaryFolder, path: String, service: Service) {
    let folder = try TemporaryFolder()
    let path = try folder.write("store.json", store(uri))
    let service = Service()
    _ = service.configure(parameters(path), family: .v4)
    _ = service.takeEvents()
    return (folder, path, service)
}

/// A service serving "coap://one" whose store was then rewritten with
/// "coap://two-two", and polled once: the new store is being read.
private func serviceReadingAChangedStore() throws -> (TemporaryFolder, String, Service) {
    let (folder, path, service) = try serviceServing("coap://one")
    try folder.write("store.json", store("coap://two-two"))
    #expect(service.poll() == .loading)
    #expect(servedURI(service) == "coap://one")         // packets still get the old one
    return (folder, path, service)
}

private func servedURI(_ service: Service) -> String? {
    service.snapshot?.store.entries.first?.bootstrapURI?.description
}

@Suite("Operations: change detection, reload, dedupe, permissions")
struct ReloadTests {
    @Test func pollReloadsOnlyWhenAWatchedFileChanged() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("store.json", store("coap://one"))
        let service = Service()
        _ = service.configure(parameters(path), family: .v4)
        #expect(tick(service) == .unchanged)
        #expect(tick(service) == .unchanged)

        // In place: same inode, other size.
        try folder.write("store.json", store("coap://two-two"))
        #expect(tick(service) == .reloaded(entries: 1))
        #expect(servedURI(service) == "coap://two-two")
        #expect(tick(service) == .unchanged)

        // By rename: another inode, same size.
        let other = try folder.write("new.json", store("coap://three-3"))
        #expect(rename(other, path) == 0)
        #expect(tick(service) == .reloaded(entries: 1))
        #expect(servedURI(service) == "coap://three-3")
        #expect(service.takeEvents().map(\.kind) == [.reloaded, .reloaded])
    }

    @Test func aChangedStoreIsReadOffTheCallingThreadAndPublishedByALaterPoll() throws {
        let (folder, _, service) = try serviceReadingAChangedStore()   // started, not waited for
        defer { withExtendedLifetime(folder) {} }
        #expect(service.takeEvents().isEmpty)
        #expect(tick(service) == .reloaded(entries: 1))     // a later poll publishes it
        #expect(servedURI(service) == "coap://two-two")
        #expect(service.takeEvents().map(\.kind) == [.reloaded])
        #expect(tick(service) == .unchanged)
    }

    @Test func theReloadThreadYieldsToPacketsAndOnlyIt() throws {
        let before = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let seen = Mutex<Int32?>(nil)
        let thread = Thread {
            BackgroundLoad.yieldToPackets()
            seen.withLock { $0 = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
        }
        thread.start()
        let deadline = Date().addingTimeInterval(10)
        while seen.withLock({ $0 }) == nil && Date() < deadline { usleep(1000) }
        #expect(seen.withLock { $0 } == 19)
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == before)   // the caller keeps its own
    }

    @Test func stopOrAReconfigurationWhileLoadingDropsTheLoad() throws {
        let (folder, path, service) = try serviceReadingAChangedStore()
        service.stop()                                      // waits for the thread, drops its result
        #expect(service.poll() == .inactive)
        #expect(service.snapshot == nil)

        _ = service.configure(parameters(path), family: .v4)
        #expect(servedURI(service) == "coap://two-two")
        try folder.write("store.json", store("coap://three-3"))
        #expect(service.poll() == .loading)
        _ = service.configure(parameters(path), family: .v4)   // Kea reconfigured meanwhile
        #expect(servedURI(service) == "coap://three-3")
        #expect(tick(service) == .unchanged)
    }

    @Test func aForcedReloadFinishesALoadInProgressFirst() throws {
        let (folder, _, service) = try serviceReadingAChangedStore()
        defer { withExtendedLifetime(folder) {} }
        #expect(service.reload() == .reloaded(entries: 1))
        #expect(servedURI(service) == "coap://two-two")
        #expect(service.takeEvents().map(\.kind) == [.reloaded, .reloaded])
        #expect(tick(service) == .unchanged)
    }

    @Test func certificateFileChangeAloneIsPickedUp() throws {
        let folder = try TemporaryFolder()
        let first = try TestCertificate(commonName: "first.example")
        let second = try TestCertificate(commonName: "second.example")
        try folder.write("certs/bs.pem", first.pem)
        let path = try folder.write("store.json", store("coaps://bs", certificate: "certs/bs.pem"))
        let service = Service()
        _ = service.configure(parameters(path), family: .v4)
        #expect(service.snapshot?.store.entries.first?.certificate?.der == first.der)
        #expect(tick(service) == .unchanged)
        try folder.write("certs/bs.pem", second.pem)
        #expect(tick(service) == .reloaded(entries: 1))
        #expect(service.snapshot?.store.entries.first?.certificate?.der == second.der)
    }

    @Test func failedReloadKeepsTheSnapshotAndIsReportedOncePerDistinctFailure() throws {
        let (folder, path, service) = try serviceServing("coap://good")
        let good = service.snapshot

        try folder.write("store.json", "{")
        guard case .failed(let reason) = tick(service) else { Issue.record("expected a failure"); return }
        #expect(reason.contains("not valid JSON"))
        #expect(service.snapshot === good)
        #expect(service.takeEvents().isEmpty)                      // just written: maybe not finished
        waitOutSettle()                                            // a tick later
        #expect(tick(service) == .failed(reason))                  // read again, unchanged: reported
        waitOutSettle()
        #expect(tick(service) == .unchanged)                       // nothing changed: no new attempt
        #expect(service.reload() == .failed(reason))     // same failure: attempted, not reported again
        var events = service.takeEvents()
        #expect(events.map(\.kind) == [.reloadFailed])
        #expect(events.first?.arguments == [path, "its last good version (1 entries)", reason])

        try folder.write("store.json", store("http://other"))        // a different failure is reported
        guard case .failed = tick(service) else { Issue.record("expected a failure"); return }
        waitOutSettle()
        guard case .failed = tick(service) else { Issue.record("expected a failure"); return }
        events = service.takeEvents()
        #expect(events.count == 1 && events.first?.arguments.last?.contains("scheme 'http'") == true)

        try folder.write("store.json", store("coap://fixed"))
        #expect(tick(service) == .reloaded(entries: 1))
        #expect(servedURI(service) == "coap://fixed")
        let deltas = service.takeStatistics()
        #expect(deltas.first?.reloadOK == 1 && deltas.first?.reloadFailed == 3)
    }

    @Test func storeCaughtMidWriteIsReportedOnlyAsTheWriterLeftIt() throws {
        let (folder, _, service) = try serviceServing("coap://good")

        try folder.write("store.json", "")                            // truncated, the writer not done yet
        guard case .failed(let empty) = tick(service) else { Issue.record("expected a failure"); return }
        #expect(empty.contains("not valid JSON"))
        try folder.write("store.json", store("coap://good", certificate: "certs/missing.pem"))
        guard case .failed(let missing) = tick(service) else { Issue.record("expected a failure"); return }
        #expect(missing.contains("missing.pem' cannot open"))
        #expect(service.takeEvents().isEmpty)
        #expect(tick(service) == .failed(missing))                  // re-read at once: not settled yet
        #expect(service.takeEvents().isEmpty)
        waitOutSettle()
        #expect(tick(service) == .failed(missing))                  // as the writer left it: reported once
        waitOutSettle()
        #expect(tick(service) == .unchanged)
        let events = service.takeEvents()
        #expect(events.map(\.kind) == [.reloadFailed])
        #expect(events.first?.arguments.last == missing)

        try folder.write("store.json", "")                            // truncated, then written good
        guard case .failed = tick(service) else { Issue.record("expected a failure"); return }
        try folder.write("store.json", store("coap://rewritten"))
        #expect(tick(service) == .reloaded(entries: 1))
        #expect(service.takeEvents().map(\.kind) == [.reloaded])     // the empty file was never reported
        #expect(servedURI(service) == "coap://rewritten")
        let deltas = service.takeStatistics()
        #expect(deltas.first?.reloadFailed == 1 && deltas.first?.reloadOK == 1)
    }

    /// A writer that truncated the store and pauses: two reads close together
    /// (ticks bunched up behind a busy main loop) both find the same empty
    /// file. The second is no proof the writer is done, so the empty store is
    /// never reported; what the writer leaves is, once.
    @Test func twoReadsWithinOneWriterPauseDoNotSettle() throws {
        let (folder, _, service) = try serviceServing("coap://good")
        try folder.write("store.json", "")                            // the writer's first step
        guard case .failed = tick(service) else { Issue.record("expected a failure"); return }
        guard case .failed = tick(service) else { Issue.record("expected a failure"); return }
        #expect(service.takeEvents().isEmpty)
        try folder.write("store.json", store("coap://good", certificate: "certs/gone.pem"))
        guard case .failed(let gone) = tick(service) else { Issue.record("expected a failure"); return }
        waitOutSettle()
        #expect(tick(service) == .failed(gone))
        let events = service.takeEvents()
        #expect(events.map(\.kind) == [.reloadFailed])
        #expect(events.first?.arguments.last == gone)
        #expect(servedURI(service) == "coap://good")
    }

    /// A reader that catches an in-place rewrite inside the kernel's
    /// truncation sees size 0 with the file's previous times (seen on ext4,
    /// 2 s old): by its times the empty store is not racy. It is still only
    /// reported once a re-read, long enough after, finds it the same.
    @Test func aFailureWithOldTimesIsReportedOnlyAfterAReRead() throws {
        let (folder, path, service) = try serviceServing("coap://good")
        try folder.write("store.json", "")
        var old = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &old, 0) == 0)          // empty, with times a minute old
        guard case .failed(let empty) = tick(service) else { Issue.record("expected a failure"); return }
        #expect(empty.contains("not valid JSON"))
        #expect(service.takeEvents().isEmpty)                      // not yet: the writer may be at work
        #expect(tick(service) == .failed(empty))                   // read again at once: still not settled
        #expect(service.takeEvents().isEmpty)
        waitOutSettle()
        #expect(tick(service) == .failed(empty))                   // the same files, long enough after: reported
        #expect(service.takeEvents().map(\.kind) == [.reloadFailed])
        #expect(tick(service) == .unchanged)                       // settled: no more re-reads
        #expect(service.takeStatistics().first?.reloadFailed == 1)
        #expect(servedURI(service) == "coap://good")
    }

    /// The CI failure of stop 11: a file stamped before a writer truncated it
    /// and read after. The stamp must be the file's as read (empty, modified
    /// just now: racy), not the older one, which would make an empty store a
    /// settled failure and report it.
    @Test func aFileRewrittenBetweenStampAndReadIsStampedAsRead() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("store.json", store("coap://good"))
        var old = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, path, &old, 0) == 0)          // last written a minute ago
        var before: FileStamp? = nil
        let read = try FileContents.read(path, secure: true, stamp: &before, beforeReading: {
            #expect(truncate(path, 0) == 0)                        // the writer's first step
        })
        #expect(read.bytes.isEmpty)
        #expect(read.stamp.size == 0)
        #expect(before == read.stamp)
        #expect(FileStamp.of(path) == read.stamp)
        var files = WatchedFiles()
        files.record(path, read.stamp, readAt: WatchedFiles.now())
        #expect(files.racy)
    }

    /// A reload thread starved on a busy machine records its stamps seconds
    /// after it read the files: the racy window runs from the read, so a
    /// store truncated just before it is still read again, not reported.
    @Test func aStampRecordedLateIsRacyByTheTimeOfTheRead() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("store.json", "")                  // the writer truncated it
        let stamp = try #require(FileStamp.of(path))
        let changed = max(stamp.modifiedNanoseconds, stamp.changedNanoseconds)
        // Read 0.1 s after the truncation; whenever the stamp is recorded, it is racy.
        var late = WatchedFiles()
        late.record(path, stamp, readAt: changed &+ 100_000_000)
        #expect(late.racy)
        // Read 2.5 s after it (the writer long done): settled, although the
        // wall clock now is still within 2 s of the change.
        var settled = WatchedFiles()
        settled.record(path, stamp, readAt: changed &+ 2_500_000_000)
        #expect(!settled.racy)
        #expect(WatchedFiles.now() &- changed < WatchedFiles.racyWindowNanoseconds)
    }

    @Test func deletedStoreIsAFailureUntilItComesBack() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("store.json", store("coap://good"))
        let service = Service()
        _ = service.configure(parameters(path), family: .v6)
        #expect(unlink(path) == 0)
        guard case .failed(let reason) = tick(service) else { Issue.record("expected a failure"); return }
        #expect(reason.contains("No such file"))
        #expect(tick(service) == .failed(reason))                   // looked at again: not settled yet
        waitOutSettle()
        #expect(tick(service) == .failed(reason))                   // still absent: settled, reported
        #expect(tick(service) == .unchanged)
        #expect(servedURI(service) == "coap://good")
        try folder.write("store.json", store("coap://back"))
        #expect(tick(service) == .reloaded(entries: 1))
    }

    @Test func filesOthersCanWriteAreRefused() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("store.json", store("coap://good"))
        #expect(chmod(path, 0o664) == 0)
        let service = Service()
        guard case .storeFailed(let error, nil) = service.configure(parameters(path), family: .v4) else {
            Issue.record("a group-writable store must be refused at load"); return
        }
        #expect(error.description.contains("is writable by its group (mode 0664)"))
        #expect(error.description.contains("rogue bootstrap server"))

        #expect(chmod(path, 0o644) == 0)
        #expect(tick(service) == .reloaded(entries: 1))            // chmod changes ctime: picked up

        let certificate = try TestCertificate()
        let certPath = try folder.write("bs.pem", certificate.pem)
        #expect(chmod(certPath, 0o646) == 0)
        try folder.write("store.json", store("coaps://bs", certificate: "bs.pem"))
        guard case .failed(let reason) = tick(service) else { Issue.record("expected a refusal"); return }
        #expect(reason.contains("bs.pem' is writable by every user (mode 0646)"))
        #expect(chmod(certPath, 0o644) == 0)
        #expect(tick(service) == .reloaded(entries: 1))

        #expect(chmod(folder.path, 0o777) == 0)
        try folder.write("store.json", store("coap://rogue"))
        guard case .failed(let folderReason) = tick(service) else { Issue.record("expected a refusal"); return }
        #expect(folderReason.contains("without the sticky bit (mode 0777)"))
        #expect(chmod(folder.path, 0o1777) == 0)                       // sticky: like /tmp, accepted
        #expect(tick(service) == .reloaded(entries: 1))
        #expect(chmod(folder.path, 0o755) == 0)
    }

    @Test func inactiveServiceDoesNothing() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("store.json", store("coap://good"))
        let service = Service()
        #expect(tick(service) == .inactive)
        _ = service.configure(parameters(path, watch: 3), family: .v4)
        #expect(service.watchIntervalMilliseconds == 3000)
        service.stop()
        try folder.write("store.json", store("coap://changed"))
        #expect(tick(service) == .inactive)
        #expect(service.watchIntervalMilliseconds == 0)
    }

    @Test func expiredAndExpiringCertificatesAreReportedAtLoadAndDaily() throws {
        let folder = try TemporaryFolder()
        let certificate = try TestCertificate()   // valid for 365 days
        try folder.write("bs.pem", certificate.pem)
        let path = try folder.write("store.json", store("coaps://bs", certificate: "bs.pem"))
        let clock = Mutex(Date())
        let service = Service(now: { clock.withLock { $0 } })
        _ = service.configure(parameters(path), family: .v4)
        #expect(service.takeEvents().isEmpty)

        clock.withLock { $0 = $0.addingTimeInterval(350 * 86_400) }
        #expect(tick(service) == .unchanged)
        let soon = service.takeEvents()
        #expect(soon.map(\.kind) == [.certificateExpiresSoon])
        #expect(soon.first?.arguments.first == folder.path + "/bs.pem")
        #expect(tick(service) == .unchanged)
        #expect(service.takeEvents().isEmpty)                          // once a day, not every tick

        clock.withLock { $0 = $0.addingTimeInterval(20 * 86_400) }
        #expect(tick(service) == .unchanged)
        #expect(service.takeEvents().map(\.kind) == [.certificateExpired])
        #expect(service.snapshot?.store.entries.first?.certificate != nil)   // still served
    }
}

@Suite("SnapshotPublisher: lock-free reads against a writer, real threads")
struct PublisherTests {
    final class Box: Sendable {
        let value: Int
        let alive: Atomic<Int>
        init(_ value: Int) { self.value = value; alive = Atomic(1) }
        deinit { alive.store(0, ordering: .sequentiallyConsistent) }
    }

    @Test func readersNeverSeeAReleasedObject() async throws {
        let publisher = SnapshotPublisher<Box>()
        publisher.publish(Box(0))
        let stop = Atomic<Bool>(false)
        let reads = Atomic<Int>(0)
        let bad = Atomic<Int>(0)
        let threads = (0..<4).map { _ in
            Thread {
                var last = 0
                while !stop.load(ordering: .relaxed) {
                    publisher.withCurrent { box in
                        guard let box else { return }
                        // Published values only grow; a freed box would read garbage or alive == 0.
                        if box.alive.load(ordering: .sequentiallyConsistent) != 1 || box.value < last { bad.wrappingAdd(1, ordering: .relaxed) }
                        last = box.value
                    }
                    reads.wrappingAdd(1, ordering: .relaxed)
                }
            }
        }
        threads.forEach { $0.start() }
        // On a loaded machine the readers may not have run yet: wait for them
        // (at most 10 s), so the publishes really race with reads.
        for _ in 0..<10_000 where reads.load(ordering: .relaxed) == 0 { try await Task.sleep(nanoseconds: 1_000_000) }
        for value in 1...20_000 { publisher.publish(Box(value)) }
        stop.store(true, ordering: .relaxed)
        while threads.contains(where: { !$0.isFinished }) { try await Task.sleep(nanoseconds: 1_000_000) }
        #expect(bad.load(ordering: .relaxed) == 0)
        #expect(reads.load(ordering: .relaxed) > 0)
        #expect(publisher.current?.value == 20_000)
    }

    @Test func publishReleasesTheOldObject() {
        let publisher = SnapshotPublisher<Box>()
        let first = Box(1)
        weak var weakFirst = first
        publisher.publish(first)
        _ = consume first
        #expect(weakFirst != nil)
        publisher.publish(nil)
        #expect(weakFirst == nil)
        #expect(publisher.current == nil)
    }

    @Test func countersLoseNothingUnderConcurrency() async throws {
        let counters = PacketCounters(capacity: 8)
        let threads = (0..<4).map { t in
            Thread {
                for i in 0..<10_000 {
                    counters.record([.sentURI, .sentCertificate], subnetID: UInt32(1 + (i + t) % 12))
                }
            }
        }
        threads.forEach { $0.start() }
        var total = StatisticDelta(subnetID: nil)
        var perSubnet: [UInt32: UInt64] = [:]
        func drain() {
            for delta in counters.take() {
                if let id = delta.subnetID { perSubnet[id, default: 0] += delta.uriSent }
                else { total.uriSent += delta.uriSent; total.certificateSent += delta.certificateSent }
            }
        }
        while threads.contains(where: { !$0.isFinished }) { drain(); try await Task.sleep(nanoseconds: 1_000_000) }
        drain()
        #expect(total.uriSent == 40_000 && total.certificateSent == 40_000)
        #expect(perSubnet.count == 8)                               // table full: 8 subnets counted per subnet
        #expect(perSubnet.values.reduce(0, +) <= 40_000)
    }
}

@Suite("Control commands: Kea's answer format")
struct CommandTests {
    private func answer(_ service: Service, _ name: String, _ arguments: String = "",
                        subnet: ExplainSubnet? = nil, error: String? = nil) throws -> [String: Any] {
        let text = service.command(CommandRequest(name: name, arguments: Array(arguments.utf8), subnet: subnet, subnetError: error))
        return try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func statusReloadAndExplain() throws {
        let folder = try TemporaryFolder()
        let certificate = try TestCertificate(commonName: "bs.example.com")
        try folder.write("bs.pem", certificate.pem)
        let path = try folder.write("store.json", #"{"entries": [{"subnet": "192.0.2.0/24", "bootstrap-uri": "coaps://bs", "server-certificate": "bs.pem"}]}"#)
        let service = Service()
        _ = service.configure(parameters(path), family: .v4)

        let reload = try answer(service, "lwm2m-reload")
        #expect(reload["result"] as? Int == 0)
        #expect((reload["arguments"] as? [String: Any])?["entries"] as? Int == 1)
        _ = service.takeStatistics()

        let status = try answer(service, "lwm2m-status")
        let arguments = try #require(status["arguments"] as? [String: Any])
        #expect(status["result"] as? Int == 0)
        #expect(arguments["store-file"] as? String == path)
        #expect(arguments["entries"] as? Int == 1)
        #expect(arguments["last-error"] is NSNull)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(arguments["sha256"] as? String == StoreLoader.hex(Array(SHA256.hash(data: bytes))))
        let certificates = try #require(arguments["certificates"] as? [[String: Any]])
        #expect(certificates.count == 1)
        #expect(certificates.first?["subject"] as? String == "CN=bs.example.com")
        #expect((arguments["counters"] as? [String: Any])?["reload-ok"] as? Int == 1)

        let subnet = [UInt8]([192, 0, 2, 0]).withUnsafeBufferPointer {
            ExplainSubnet(id: 5, prefixText: "192.0.2.0/24", prefix: PrefixKey(family: .v4, address: $0, length: 24), sharedNetwork: "net")
        }
        let explain = try answer(service, "lwm2m-explain", #"{"subnet-id": 5}"#, subnet: subnet)
        #expect(explain["result"] as? Int == 0)
        let details = try #require(explain["arguments"] as? [String: Any])
        #expect((details["entry"] as? [String: Any])?["index"] as? Int == 1)
        let options = try #require(details["options"] as? [[String: Any]])
        let uriHex = try #require(options.first?["wire-hex"] as? String)
        #expect(uriHex == "e00a" + Array("coaps://bs".utf8).map { String(format: "%02x", $0) }.joined())
        #expect((details["subnet"] as? [String: Any])?["shared-network"] as? String == "net")

        let elsewhere = [UInt8]([10, 0, 0, 0]).withUnsafeBufferPointer {
            ExplainSubnet(id: 6, prefixText: "10.0.0.0/8", prefix: PrefixKey(family: .v4, address: $0, length: 8), sharedNetwork: nil)
        }
        #expect(try answer(service, "lwm2m-explain", #"{"subnet-id": 6}"#, subnet: elsewhere)["result"] as? Int == 3)
        #expect(try answer(service, "lwm2m-explain", #"{"subnet-id": 7}"#, error: "no subnet with id 7")["text"] as? String
                == "lwm2m-explain: no subnet with id 7")
        #expect(try answer(service, "lwm2m-explain", #"{"subnet-id": "7"}"#)["result"] as? Int == 1)
        #expect(try answer(service, "lwm2m-explain", #"{"address": "x", "subnet-id": 7}"#)["text"] as? String
                == "lwm2m-explain: give either 'subnet-id' or 'address', not both")
        #expect(try answer(service, "lwm2m-explain", #"{"subnet-id": 7, "client-classes": [1]}"#)["result"] as? Int == 1)
        #expect(try answer(service, "lwm2m-nothing")["result"] as? Int == 1)
    }

    @Test func jsonTextIsEscaped() {
        let value = JSONValue.object(["a\"b": .string("line\nbreak\u{1}"), "n": .integer(-3), "l": .array([.null, .bool(true)])])
        #expect(value.serialized == #"{"a\"b":"line\nbreak\u0001","l":[null,true],"n":-3}"#)
    }
}

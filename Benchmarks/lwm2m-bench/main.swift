// lwm2m-bench: micro-benchmarks of the LwM2M core (docs/performance.md).
// Driven by scripts/bench/micro.py; each command prints one JSON object per
// line.
//
//   lwm2m-bench exchange --family 4 --entries 100000 --work DIR [--cert-count 50]
//                        [--runs 7] [--iterations 2000000]
//   lwm2m-bench load     --family 4 --entries 100000 --work DIR [--cert-count 50] [--runs 5]
//   lwm2m-bench malloc-selftest
//
// DIR/certs/cert-<n>.pem must exist (scripts/bench/certs.py); stores are
// written to DIR when missing.
#if canImport(Glibc)
import Glibc
#endif
import BenchMallocCounter

struct Options {
    private var values: [String: String] = [:]
    let command: String

    init(_ arguments: [String]) throws {
        guard let command = arguments.first else { throw BenchError("usage: lwm2m-bench exchange|load|malloc-selftest [--key value]...") }
        self.command = command
        var rest = arguments.dropFirst()
        while let key = rest.popFirst() {
            guard key.hasPrefix("--"), let value = rest.popFirst() else { throw BenchError("expected --key value, got \(key)") }
            values[String(key.dropFirst(2))] = value
        }
    }

    func int(_ key: String, default fallback: Int? = nil) throws -> Int {
        if let text = values[key] {
            guard let value = Int(text) else { throw BenchError("--\(key) must be an integer, not \(text)") }
            return value
        }
        guard let fallback else { throw BenchError("--\(key) is required") }
        return fallback
    }

    func string(_ key: String) throws -> String {
        guard let value = values[key] else { throw BenchError("--\(key) is required") }
        return value
    }
}

/// The store of a command's layout, written to the work dir when missing.
func storePath(_ layout: StoreLayout, work: String) throws -> String {
    let path = "\(work)/store-v\(layout.family.rawValue)-\(layout.count)-c\(layout.certificates).json"
    if access(path, F_OK) != 0 { try layout.write(to: path) }
    return path
}

func layout(_ options: Options) throws -> (StoreLayout, String) {
    let number = try options.int("family")
    guard let family = CoreAPI.family(number) else { throw BenchError("--family must be 4 or 6") }
    let work = try options.string("work")
    let layout = StoreLayout(family: family, count: try options.int("entries"),
                             certificates: try options.int("cert-count", default: 50),
                             certificateDir: "\(work)/certs")
    return (layout, try storePath(layout, work: work))
}

/// Select + encode per exchange, for lookups spread over the whole store.
func exchange(_ options: Options) throws {
    let (layout, path) = try layout(options)
    let runs = try options.int("runs", default: 7)
    let iterations = try options.int("iterations", default: 2_000_000)
    let family = layout.family
    let store = try CoreAPI.loadStore(path)
    let snapshot = CoreAPI.snapshot(store, try CoreAPI.parameters(storeFile: path, family: family), family)
    guard CoreAPI.entryCount(snapshot) == layout.count else {
        throw BenchError("snapshot has \(CoreAPI.entryCount(snapshot)) entries, want \(layout.count)")
    }

    // Distinct queries: up to 65,536 (a power of two), entries picked at
    // random (fixed seed) from the whole store.
    var slots = 1
    while slots < min(layout.count, 65_536) { slots <<= 1 }
    let addressLength = family.addressLength
    let addresses = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: slots * addressLength)
    defer { addresses.deallocate() }
    let codes: [UInt8] = family == .v4 ? [1, 3, 6, 15, 28, 224, 225]
                                       : [0, 23, 0, 24, 0, 200, 0, 201]
    let requested = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: codes.count)
    defer { requested.deallocate() }
    _ = requested.initialize(from: codes)
    let option57 = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 2)
    defer { option57.deallocate() }
    option57[0] = 0x05; option57[1] = 0xdc   // 1500
    var random: UInt64 = 0x9e37_79b9_7f4a_7c15
    var queries: [RawQuery] = []
    queries.reserveCapacity(slots)
    for slot in 0..<slots {
        random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let index = Int((random >> 33) % UInt64(layout.count))
        // Kea selected the entry's subnet: for prefix entries an id without entry.
        let prefix = layout.isPrefixEntry(index) ? layout.prefix(index) : layout.prefix(layout.count + index)
        let address = UnsafeMutableBufferPointer(rebasing: addresses[(slot * addressLength)..<((slot + 1) * addressLength)])
        _ = address.initialize(from: prefix.bytes)
        queries.append(RawQuery(family: family, queryType: 1, responseType: 2, subnetID: layout.subnetID(index),
                                prefixAddress: UnsafeBufferPointer(address), prefixLength: prefix.length,
                                requestedOptions: UnsafeBufferPointer(requested),
                                maxMessageSize: family == .v4 ? UnsafeBufferPointer(option57) : nil,
                                replySize: family == .v4 ? 300 : 120))
    }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    defer { buffer.deallocate() }
    let mask = slots - 1

    // Every query must be answered with both options (bits 0 and 1).
    var answered = 0, bytes = 0
    for query in queries {
        let result = CoreAPI.answer(snapshot, query, into: buffer)
        if result.flags & 3 == 3 { answered += 1 }
        bytes += result.bytes
    }
    guard answered == slots else { throw BenchError("only \(answered) of \(slots) queries got both options") }

    var sink: UInt64 = 0
    @inline(never) func loop(_ count: Int) {
        queries.withUnsafeBufferPointer { queries in
            for index in 0..<count {
                let result = CoreAPI.answer(snapshot, queries[index & mask], into: buffer)
                sink &+= UInt64(result.flags) &+ UInt64(result.bytes)
            }
        }
    }
    loop(min(iterations, 200_000))   // warm-up
    var nanoseconds: [Double] = []
    for _ in 0..<max(1, runs) {
        let start = nowNanoseconds()
        loop(iterations)
        nanoseconds.append(Double(nowNanoseconds() - start) / Double(iterations))
    }
    let allocationRounds = max(1, min(100_000, iterations))
    let counted = countingAllocations { loop(allocationRounds) }

    var line = JSONLine()
    line.add("kind", "exchange")
    line.add("family", Int(family.rawValue))
    line.add("entries", layout.count)
    line.add("distinct_queries", slots)
    line.add("iterations", iterations)
    line.add("ns_per_exchange_median", median(nanoseconds))
    line.add("ns_per_exchange_runs", nanoseconds)
    line.add("allocations_per_exchange", Double(counted.allocations) / Double(allocationRounds))
    line.add("bytes_per_exchange", Double(bytes) / Double(slots))
    line.add("sink", sink)
    print(line.text)
}

/// Store load (parse + validate) and pre-encoding: time, resident memory, allocations.
func load(_ options: Options) throws {
    let (layout, path) = try layout(options)
    let runs = try options.int("runs", default: 5)
    let family = layout.family
    let parameters = try CoreAPI.parameters(storeFile: path, family: family)

    // The first load, in a fresh process: what it leaves resident.
    let before = memoryKiB()
    let heapBefore = bench_heap_in_use()
    let start = nowNanoseconds()
    let store = try CoreAPI.loadStore(path)
    let loaded = nowNanoseconds()
    let snapshot = CoreAPI.snapshot(store, parameters, family)
    let encoded = nowNanoseconds()
    let after = memoryKiB()
    let heapAfter = bench_heap_in_use()
    // What is live, without the heap glibc keeps from the load's temporaries.
    bench_malloc_trim()
    let trimmed = memoryKiB()
    guard CoreAPI.entryCount(snapshot) == layout.count else {
        throw BenchError("snapshot has \(CoreAPI.entryCount(snapshot)) entries, want \(layout.count)")
    }

    var parse: [Double] = [Double(loaded - start) / 1e6]
    var encode: [Double] = [Double(encoded - loaded) / 1e6]
    var total: [Double] = [Double(encoded - start) / 1e6]
    var allocations: UInt64 = 0
    try withExtendedLifetime((store, snapshot)) {
        for run in 1..<max(1, runs + 1) {
            let counting = run == 1
            if counting { bench_malloc_counting(1) }
            let allocatedBefore = bench_malloc_count()
            let t0 = nowNanoseconds()
            let again = try CoreAPI.loadStore(path)
            let t1 = nowNanoseconds()
            let encodedAgain = CoreAPI.snapshot(again, parameters, family)
            let t2 = nowNanoseconds()
            if counting {
                bench_malloc_counting(0)
                allocations = bench_malloc_count() &- allocatedBefore
            }
            withExtendedLifetime(encodedAgain) {}
            parse.append(Double(t1 - t0) / 1e6)
            encode.append(Double(t2 - t1) / 1e6)
            total.append(Double(t2 - t0) / 1e6)
        }
    }

    // The same file read by JSONDecoder into concrete types: the floor for a
    // store parser that keeps JSONDecoder but does not probe types.
    var typed: [Double] = []
    for _ in 0..<max(1, runs) {
        let result = try typedDecode(path)
        guard result.entries == layout.count else { throw BenchError("typed decode read \(result.entries) entries") }
        typed.append(result.milliseconds)
    }

    var line = JSONLine()
    line.add("kind", "load")
    line.add("family", Int(family.rawValue))
    line.add("entries", layout.count)
    line.add("certificates", layout.certificates)
    line.add("runs", total.count)
    line.add("first_load_ms", total[0])
    line.add("parse_ms_median", median(parse))
    line.add("encode_ms_median", median(encode))
    line.add("total_ms_median", median(total))
    line.add("total_ms_runs", total)
    line.add("typed_decode_ms_median", median(typed))
    line.add("rss_before_kib", before.rss)
    line.add("rss_after_kib", after.rss)
    line.add("rss_delta_kib", after.rss - before.rss)
    line.add("hwm_delta_kib", after.hwm - before.rss)
    line.add("rss_delta_after_trim_kib", trimmed.rss - before.rss)
    line.add("heap_in_use_delta_kib", Int(heapAfter / 1024) - Int(heapBefore / 1024))
    line.add("allocations_per_load", allocations)
    line.add("allocations_per_entry", Double(allocations) / Double(max(1, layout.count)))
    print(line.text)
}

/// Proves the allocation counter sees Swift's allocations.
func mallocSelftest() throws {
    let counted = countingAllocations { () -> Int in
        var arrays: [[Int]] = []
        for index in 0..<100 { arrays.append(Array(repeating: index, count: 16 + index)) }
        return arrays.reduce(0) { $0 + $1.count }
    }
    guard counted.allocations >= 100 else {
        throw BenchError("malloc counter saw \(counted.allocations) allocations for 100 arrays: interposition does not work")
    }
    var line = JSONLine()
    line.add("kind", "malloc-selftest")
    line.add("allocations_for_100_arrays", counted.allocations)
    print(line.text)
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    switch options.command {
    case "exchange": try exchange(options)
    case "load": try load(options)
    case "malloc-selftest": try mallocSelftest()
    default: throw BenchError("unknown command \(options.command)")
    }
} catch {
    let message = "lwm2m-bench: \(error)\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

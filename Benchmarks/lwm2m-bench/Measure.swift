#if canImport(Glibc)
import Glibc
#endif
import BenchMallocCounter

/// Monotonic nanoseconds.
@inline(__always)
func nowNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Allocating calls made while `body` runs (see BenchMallocCounter).
func countingAllocations<T>(_ body: () throws -> T) rethrows -> (result: T, allocations: UInt64) {
    let before = bench_malloc_count()
    bench_malloc_counting(1)
    defer { bench_malloc_counting(0) }
    let result = try body()
    return (result, bench_malloc_count() &- before)
}

/// VmRSS and VmHWM of this process in KiB, from /proc/self/status.
func memoryKiB() -> (rss: Int, hwm: Int) {
    guard let file = fopen("/proc/self/status", "r") else { return (0, 0) }
    defer { fclose(file) }
    var rss = 0, hwm = 0
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let number = Int(text.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        if text.hasPrefix("VmRSS:") { rss = number }
        if text.hasPrefix("VmHWM:") { hwm = number }
    }
    return (rss, hwm)
}

/// A flat JSON object from ordered key/value pairs (numbers, strings, arrays of numbers).
struct JSONLine {
    private var fields: [String] = []
    mutating func add(_ key: String, _ value: Int) { fields.append("\"\(key)\": \(value)") }
    mutating func add(_ key: String, _ value: UInt64) { fields.append("\"\(key)\": \(value)") }
    mutating func add(_ key: String, _ value: Double) {
        fields.append("\"\(key)\": \(value.isFinite ? String(value) : "null")")
    }
    mutating func add(_ key: String, _ value: String) { fields.append("\"\(key)\": \"\(value)\"") }
    mutating func add(_ key: String, _ values: [Double]) {
        fields.append("\"\(key)\": [\(values.map { String($0) }.joined(separator: ", "))]")
    }
    var text: String { "{" + fields.joined(separator: ", ") + "}" }
}

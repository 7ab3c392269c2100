#if canImport(Glibc)
import Glibc
#endif

/// The benchmark's synthetic store: `count` entries for one family, even
/// positions keyed by subnet-id, odd ones by subnet prefix (v4 /28s in
/// 10.0.0.0/8, v6 /64s in 2001:db8::/32), each with its own URI and one of
/// `certificates` shared certificate files (`cert-<n>.pem` in `certificateDir`,
/// written by scripts/bench/certs.py).
struct StoreLayout {
    let family: CoreAPI.Family
    let count: Int
    let certificates: Int
    let certificateDir: String

    /// Subnet id of entry `index` in the store (even positions), or of the
    /// subnet Kea would select for it (odd positions: an id without entry).
    func subnetID(_ index: Int) -> UInt32 { UInt32(truncatingIfNeeded: index + 1) }

    func isPrefixEntry(_ index: Int) -> Bool { index % 2 == 1 }

    /// Network-order address bytes and length of entry `index`'s prefix.
    func prefix(_ index: Int) -> (bytes: [UInt8], length: UInt8) {
        switch family {
        case .v4:
            let value = UInt32(10) << 24 | UInt32(truncatingIfNeeded: index) << 4
            return ([UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                     UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)], 28)
        case .v6:
            let high = UInt16(truncatingIfNeeded: index >> 16), low = UInt16(truncatingIfNeeded: index)
            return ([0x20, 0x01, 0x0d, 0xb8, UInt8(high >> 8), UInt8(truncatingIfNeeded: high),
                     UInt8(low >> 8), UInt8(truncatingIfNeeded: low), 0, 0, 0, 0, 0, 0, 0, 0], 64)
        }
    }

    private func prefixText(_ index: Int) -> String {
        let (bytes, length) = prefix(index)
        switch family {
        case .v4:
            return bytes.map(String.init).joined(separator: ".") + "/\(length)"
        case .v6:
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/\(length)"
        }
    }

    /// The store file's JSON text.
    func json() -> String {
        var out = "{\"entries\": [\n"
        out.reserveCapacity(count * 110)
        for index in 0..<count {
            let key = isPrefixEntry(index) ? "\"subnet\": \"\(prefixText(index))\"" : "\"subnet-id\": \(subnetID(index))"
            var line = "  {\(key), \"bootstrap-uri\": \"coaps://bs-\(index).example.com:5684\""
            if certificates > 0 {
                line += ", \"server-certificate\": \"\(certificateDir)/cert-\(index % certificates).pem\""
            }
            line += index + 1 < count ? "},\n" : "}\n"
            out += line
        }
        out += "]}\n"
        return out
    }

    /// Writes the store to `path` (replacing it).
    func write(to path: String) throws {
        let text = json()
        guard let file = fopen(path, "w") else { throw BenchError("cannot write \(path)") }
        defer { fclose(file) }
        guard fputs(text, file) >= 0 else { throw BenchError("cannot write \(path)") }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

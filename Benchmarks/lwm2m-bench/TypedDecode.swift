#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An experiment, not the core: how long JSONDecoder takes to read the same
/// store file into concrete types (no type probing), for comparison with
/// `Store.load`. Evidence for docs/performance.md's recommendation.
struct TypedStoreFile: Decodable {
    struct Entry: Decodable {
        var subnet: String?
        var subnetID: Int64?
        var bootstrapURI: String?
        var serverCertificate: String?
        var comment: String?

        enum CodingKeys: String, CodingKey {
            case subnet, comment
            case subnetID = "subnet-id"
            case bootstrapURI = "bootstrap-uri"
            case serverCertificate = "server-certificate"
        }
    }

    var entries: [Entry]
    var comment: String?
}

/// Milliseconds to read and decode `path` into `TypedStoreFile`, and its entry count.
func typedDecode(_ path: String) throws -> (milliseconds: Double, entries: Int) {
    let start = nowNanoseconds()
    guard let file = fopen(path, "r") else { throw BenchError("cannot read \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    let decoded = try JSONDecoder().decode(TypedStoreFile.self, from: Data(bytes))
    return (Double(nowNanoseconds() - start) / 1e6, decoded.entries.count)
}

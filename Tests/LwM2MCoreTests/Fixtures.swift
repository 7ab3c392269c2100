import Crypto
import Foundation
import SwiftASN1
import X509
@testable import LwM2MCore

/// Real files in a fresh folder, removed when the value is released.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("lwm2m-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `contents` to `name` (sub-folders created) and returns the full path.
    @discardableResult
    func write(_ name: String, _ contents: [UInt8]) throws -> String {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(contents).write(to: URL(fileURLWithPath: full))
        return full
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, Array(text.utf8)) }
}

/// A self-signed certificate made with swift-certificates, as a bootstrap
/// server operator would have one.
struct TestCertificate {
    let der: [UInt8]
    let pem: String
    let keyPEM: String

    init(commonName: String = "bs.example.com") throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(86_400 * 365),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: Certificate.Extensions {}, issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        der = serializer.serializedBytes
        pem = try certificate.serializeAsPEM().pemString
        keyPEM = key.pemRepresentation
    }
}

/// Facts of an exchange with owned buffers, for calling `Snapshot.answer`.
struct TestExchange {
    var family: AddressFamily = .v4
    var queryType: UInt8 = 1
    var responseType: UInt8 = 2
    var subnetID: UInt32? = 1
    var prefix: (address: [UInt8], length: UInt8)? = ([192, 0, 2, 0], 24)
    var requested: [UInt8]? = [1, 3, 224, 225]
    var option57: [UInt8]? = nil
    var replySize = 300
    /// Codes of the options the reply carries already (nil: not read).
    var replyCodes: [UInt16]? = nil

    /// Runs `answer` with a buffer of `capacity` octets; returns the answer and the bytes written.
    func run(_ snapshot: Snapshot, capacity: Int = 4096) -> (Answer, [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: capacity)
        let prefixKey = prefix.map { prefix in
            prefix.address.withUnsafeBufferPointer { PrefixKey(family: family, address: $0, length: prefix.length) }
        }
        let answer = withOptional(requested) { requested in
            withOptional(option57) { option57 in
                buffer.withUnsafeMutableBytes { raw in
                    var facts = ExchangeFacts(family: family, queryType: queryType, responseType: responseType,
                                              subnetID: subnetID, subnetPrefix: prefixKey,
                                              requestedOptions: requested, maxMessageSize: option57,
                                              replySize: replySize)
                    guard let replyCodes else { return snapshot.answer(facts, into: raw) }
                    return replyCodes.withUnsafeBufferPointer { codes in
                        facts.replyCodes = codes
                        return snapshot.answer(facts, into: raw)
                    }
                }
            }
        }
        let used = [answer.uri, answer.certificate].compactMap { $0?.upperBound }.max() ?? 0
        return (answer, Array(buffer.prefix(used)))
    }

    private func withOptional<R>(_ bytes: [UInt8]?, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard let bytes else { return body(nil) }
        return bytes.withUnsafeBufferPointer { body($0) }
    }
}

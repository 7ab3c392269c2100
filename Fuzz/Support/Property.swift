#if canImport(Glibc)
import Glibc
#endif

/// A property of the code under test. A broken one aborts the process, so
/// libFuzzer records the input as a crash (with the message on stderr).
public enum Property {
    /// Aborts with `message` unless `condition` holds.
    @inline(__always)
    public static func check(_ condition: Bool, _ message: @autoclosure () -> String,
                             file: StaticString = #fileID, line: UInt = #line) {
        if !condition { fail(message(), file: file, line: line) }
    }

    /// Aborts with `message`.
    public static func fail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
        let text = Array("PROPERTY FAILED at \(file):\(line): \(message)\n".utf8)
        text.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
        abort()
    }
}

/// The fuzzer's input, read front to back. Reads past the end give zeros
/// and empty arrays, so every input means something.
public struct FuzzInput {
    public let bytes: [UInt8]
    public private(set) var position = 0

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var isAtEnd: Bool { position >= bytes.count }

    public mutating func u8() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }

    public mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }

    public mutating func bool() -> Bool { u8() & 1 == 1 }

    /// Up to `count` bytes (fewer at the end of the input).
    public mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, position + max(0, count))
        defer { position = end }
        return Array(bytes[min(position, end)..<end])
    }

    /// A length byte, then that many bytes.
    public mutating func chunk() -> [UInt8] { take(Int(u8())) }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] { take(bytes.count - position) }
}

/// Input split into named parts: `first` is everything before the first
/// `\n#file NAME\n` line, then one part per such line (its body up to the
/// next one). The store target carries its certificate files this way.
public struct NamedParts {
    public var first: [UInt8] = []
    public var files: [(name: String, body: [UInt8])] = []

    static let marker = Array("\n#file ".utf8)

    public init(_ bytes: [UInt8]) {
        var starts: [Int] = []
        var index = 0
        while index + Self.marker.count <= bytes.count {
            if bytes[index] == Self.marker[0], bytes[index..<(index + Self.marker.count)].elementsEqual(Self.marker) {
                starts.append(index)
                index += Self.marker.count
            } else {
                index += 1
            }
        }
        guard let firstStart = starts.first else {
            first = bytes
            return
        }
        first = Array(bytes[..<firstStart])
        for (number, start) in starts.enumerated() {
            let end = number + 1 < starts.count ? starts[number + 1] : bytes.count
            let header = start + Self.marker.count
            let newline = bytes[header..<end].firstIndex(of: 0x0a) ?? end
            let name = String(decoding: bytes[header..<newline], as: UTF8.self)
            let body = newline < end ? Array(bytes[(newline + 1)..<end]) : []
            files.append((name, body))
        }
    }
}

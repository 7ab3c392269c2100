#if canImport(Glibc)
import Glibc
#endif

/// Failures that stop a command before it could do its work: exit status 2.
struct ToolError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Writing results and errors.
enum Output {
    /// One line on standard error, prefixed with the command's name.
    static func error(_ line: String) {
        let bytes = Array("kea-lwm2m: \(line)\n".utf8)
        bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// Lower-case hex without separators.
    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Hex.text(bytes)
    }

    /// Parses hex digits; spaces, colons, dashes and a leading `0x` are allowed.
    static func bytes(fromHex text: String) -> [UInt8]? {
        var digits = Substring(text)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        var out = [UInt8]()
        var high: UInt8? = nil
        for scalar in digits.unicodeScalars {
            if scalar == " " || scalar == ":" || scalar == "-" || scalar == "\n" || scalar == "\t" { continue }
            guard let value = UInt8(String(scalar), radix: 16) else { return nil }
            if let first = high { out.append(first << 4 | value); high = nil } else { high = value }
        }
        return high == nil ? out : nil
    }

    /// Reads a file or fails with exit status 2.
    static func read(_ path: String) throws(ToolError) -> [UInt8] {
        do {
            return try ToolSupport.readFile(path)
        } catch {
            throw ToolError(error.description)
        }
    }
}

import LwM2MCapture
import LwM2MCore

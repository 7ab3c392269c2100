#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON document as plain values, so that parameters and the store can be
/// checked key by key with messages an operator understands.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses `bytes` as one JSON document.
    /// - Throws: `JSONSyntaxError` with the decoder's reason.
    static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch let DecodingError.dataCorrupted(context) {
            let underlying = context.underlyingError.map { " (\($0))" } ?? ""
            throw JSONSyntaxError(reason: "not valid JSON: \(context.debugDescription)\(underlying)")
        } catch {
            throw JSONSyntaxError(reason: "not valid JSON: \(error)")
        }
    }

    var isString: Bool {
        if case .string = self { return true }
        return false
    }

    /// What an operator would call this kind of value, for error messages.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "a map"
        }
    }
}

/// A document that is not JSON at all.
struct JSONSyntaxError: Error, Sendable {
    var reason: String
}

extension JSONValue: Decodable {
    /// Tries the kinds in the order they are common in a store or in hook
    /// parameters, strings and maps first: every failed try costs the
    /// decoder a `DecodingError` with its coding path, and a string used to
    /// cost five of them.
    init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
            return
        }
        if let value = try? single.decode(String.self) {
            self = .string(value)
            return
        }
        if let map = try? decoder.container(keyedBy: AnyKey.self) {
            var members: [String: JSONValue] = [:]
            // In a fixed order: the decoder lists the keys in no particular
            // order (it differs from one decode to the next), and the first
            // value that fails is the one the message names; the same bad
            // file must always get the same message.
            for key in map.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                members[key.stringValue] = try map.decode(JSONValue.self, forKey: key)
            }
            self = .object(members)
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !list.isAtEnd { items.append(try list.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        if let value = try? single.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? single.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? single.decode(Double.self) {
            self = .number(value)
        } else {
            // A number neither Int64 nor Double can hold: the decoder's own
            // words, as before (the last try was always the string).
            self = .string(try single.decode(String.self))
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

import LwM2MCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON value of a Kea configuration file, kept as written (integers stay
/// integers) so the hook's parameters can be handed to the core unchanged.
indirect enum ConfigValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([ConfigValue])
    case object([String: ConfigValue])

    init(from decoder: any Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            var items: [ConfigValue] = []
            while !list.isAtEnd { items.append(try list.decode(ConfigValue.self)) }
            self = .array(items)
            return
        }
        if let map = try? decoder.container(keyedBy: AnyKey.self) {
            var members: [String: ConfigValue] = [:]
            for key in map.allKeys { members[key.stringValue] = try map.decode(ConfigValue.self, forKey: key) }
            self = .object(members)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let value = try? single.decode(Bool.self) { self = .bool(value) }
        else if let value = try? single.decode(Int64.self) { self = .integer(value) }
        else if let value = try? single.decode(Double.self) { self = .number(value) }
        else { self = .string(try single.decode(String.self)) }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Parses a document (comments already removed).
    static func parse(_ bytes: [UInt8]) throws(ToolError) -> ConfigValue {
        do {
            return try JSONDecoder().decode(ConfigValue.self, from: Data(bytes))
        } catch let DecodingError.dataCorrupted(context) {
            let underlying = context.underlyingError.map { " (\($0))" } ?? ""
            throw ToolError("not valid JSON: \(context.debugDescription)\(underlying)")
        } catch {
            throw ToolError("not valid JSON: \(error)")
        }
    }

    subscript(key: String) -> ConfigValue? {
        if case .object(let map) = self { return map[key] }
        return nil
    }

    var string: String? { if case .string(let text) = self { text } else { nil } }
    var integer: Int64? { if case .integer(let number) = self { number } else { nil } }
    var list: [ConfigValue] { if case .array(let items) = self { items } else { [] } }

    /// The value as compact JSON text.
    var json: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .integer(let value): String(value)
        case .number(let value): value.description
        case .string(let text): Self.quoted(text)
        case .array(let items): "[" + items.map(\.json).joined(separator: ",") + "]"
        case .object(let map):
            "{" + map.keys.sorted().map { Self.quoted($0) + ":" + (map[$0]?.json ?? "null") }.joined(separator: ",") + "}"
        }
    }

    static func quoted(_ text: String) -> String { JSONText.quoted(text) }
}

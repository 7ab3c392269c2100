extension JSONValue {
    /// The value as compact JSON text, map keys sorted (so answers are stable).
    var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .integer(let value): out += String(value)
        case .number(let value): out += value.isFinite ? "\(value)" : "null"
        case .string(let value): Self.quote(value, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                Self.quote(key, to: &out)
                out += ":"
                members[key]?.write(to: &out)
            }
            out += "}"
        }
    }

    fileprivate static func quote(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// Kea's control command answer: `{"result": N, "text": "...", "arguments": {...}}`.
struct CommandAnswer {
    /// Kea's result codes.
    static let success = 0, error = 1, empty = 3

    var result: Int
    var text: String
    var arguments: [String: JSONValue]?

    var json: String {
        var members: [String: JSONValue] = ["result": .integer(Int64(result)), "text": .string(text)]
        if let arguments { members["arguments"] = .object(arguments) }
        return JSONValue.object(members).serialized
    }
}

/// JSON text helpers shared with the `kea-lwm2m` command.
public enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var out = ""
        JSONValue.quote(text, to: &out)
        return out
    }
}

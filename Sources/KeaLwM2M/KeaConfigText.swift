/// Kea's configuration files are JSON with comments: `#` and `//` to the end
/// of the line, and `/* ... */`. This removes them outside strings, keeping
/// every newline so that positions in JSON errors still match the file.
enum KeaConfigText {
    static func stripComments(_ input: [UInt8]) -> [UInt8] {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), hash = UInt8(ascii: "#")
        let slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), newline = UInt8(ascii: "\n")
        let space = UInt8(ascii: " ")
        var out = [UInt8]()
        out.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            let byte = input[index]
            let next: UInt8? = index + 1 < input.count ? input[index + 1] : nil
            if byte == quote {
                // Copy the string, escapes included, up to its closing quote.
                out.append(byte)
                index += 1
                while index < input.count {
                    let inner = input[index]
                    out.append(inner)
                    index += 1
                    if inner == backslash, index < input.count {
                        out.append(input[index])
                        index += 1
                    } else if inner == quote || inner == newline {
                        break
                    }
                }
            } else if byte == hash || (byte == slash && next == slash) {
                while index < input.count && input[index] != newline {
                    out.append(space)
                    index += 1
                }
            } else if byte == slash && next == star {
                out.append(space); out.append(space)
                index += 2
                while index < input.count {
                    if input[index] == star, index + 1 < input.count, input[index + 1] == slash {
                        out.append(space); out.append(space)
                        index += 2
                        break
                    }
                    out.append(input[index] == newline ? newline : space)
                    index += 1
                }
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }
}

/// A parsed JSON or YAML value with the position it came from, so that every error can point at the line.
/// Both readers produce this one shape; the translator never sees which syntax the spec used.
struct SpecNode: Sendable {
    indirect enum Value: Sendable {
        case null
        case bool(Bool)
        /// The number's literal text (`1`, `1.5`, `2e3`), kept exact; converted by the field that reads it.
        case number(String)
        case string(String)
        case array([SpecNode])
        /// Fields in document order (duplicates are refused by the readers).
        case object([SpecField])
    }

    var value: Value
    var line: Int
    var column: Int

    init(_ value: Value, line: Int, column: Int) {
        self.value = value
        self.line = line
        self.column = column
    }

    var isNull: Bool {
        if case .null = value { return true }
        return false
    }

    /// "a number (5)", "a string (\"x\")", "an object" — for "expected …, got …" messages.
    var kindDescription: String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "a boolean (\(b))"
        case .number(let n): return "a number (\(n))"
        case .string(let s): return "a string (\"\(SpecNode.abbreviate(s))\")"
        case .array: return "a list"
        case .object: return "an object"
        }
    }

    static func abbreviate(_ s: String, limit: Int = 40) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if out.unicodeScalars.count >= limit { return out + "…" }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                switch scalar {
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                default: out += "\\u{\(String(scalar.value, radix: 16))}"
                }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

struct SpecField: Sendable {
    var key: String
    var value: SpecNode
    /// Position of the key itself.
    var line: Int
    var column: Int
}

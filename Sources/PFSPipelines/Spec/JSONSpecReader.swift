/// Reads a JSON text holding one value or several concatenated ones (`{…}\n{…}`, the way Pachyderm's examples ship
/// several pipelines in one file). Hand-written rather than JSONSerialization because we need positions for error
/// messages, exact number literals, booleans that stay booleans, field order, and refusal of duplicate keys.
struct JSONSpecReader {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var column = 1
    private let filename: String?
    private static let maxDepth = 256

    init(_ text: String, filename: String?) {
        var b = Array(text.utf8)
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { b.removeFirst(3) }  // UTF-8 byte order mark
        bytes = b
        self.filename = filename
    }

    /// Every top-level value in order.
    mutating func readAll() throws(SpecError) -> [SpecNode] {
        var values: [SpecNode] = []
        skipWhitespace()
        while index < bytes.count {
            values.append(try readValue(depth: 0))
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: ",") {
                throw error("unexpected ',' between top-level values; concatenate pipeline specs without commas ({…}\\n{…}) or put them in a YAML file separated by ---")
            }
        }
        return values
    }

    // MARK: - Values

    private mutating func readValue(depth: Int) throws(SpecError) -> SpecNode {
        guard depth < Self.maxDepth else { throw error("nesting is deeper than \(Self.maxDepth) levels") }
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of the file; a value is missing") }
        let (l, c) = (line, column)
        switch bytes[index] {
        case UInt8(ascii: "{"): return try readObject(depth: depth)
        case UInt8(ascii: "["): return try readArray(depth: depth)
        case UInt8(ascii: "\""): return SpecNode(.string(try readString()), line: l, column: c)
        case UInt8(ascii: "t"): try expectWord("true"); return SpecNode(.bool(true), line: l, column: c)
        case UInt8(ascii: "f"): try expectWord("false"); return SpecNode(.bool(false), line: l, column: c)
        case UInt8(ascii: "n"): try expectWord("null"); return SpecNode(.null, line: l, column: c)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return SpecNode(.number(try readNumber()), line: l, column: c)
        case UInt8(ascii: "'"):
            throw error("strings must use double quotes in JSON")
        default:
            throw error("unexpected \(describeCurrent()); expected a value (an object, list, string, number, true, false or null)")
        }
    }

    private mutating func readObject(depth: Int) throws(SpecError) -> SpecNode {
        let (l, c) = (line, column)
        advance()  // {
        var fields: [SpecField] = []
        var seen: Set<String> = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            advance()
            return SpecNode(.object(fields), line: l, column: c)
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else {
                if peek == UInt8(ascii: "}") { throw error("trailing ',' before '}' is not allowed in JSON") }
                throw error("unexpected \(describeCurrent()); expected a field name in double quotes")
            }
            let (kl, kc) = (line, column)
            let key = try readString()
            guard seen.insert(key).inserted else {
                throw SpecError(path: "", message: "field \"\(SpecNode.abbreviate(key))\" appears twice in the same object; keep one",
                                filename: filename, line: kl, column: kc)
            }
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw error("unexpected \(describeCurrent()); expected ':' after field name \"\(SpecNode.abbreviate(key))\"") }
            advance()
            let value = try readValue(depth: depth + 1)
            fields.append(SpecField(key: key, value: value, line: kl, column: kc))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "}"): advance(); return SpecNode(.object(fields), line: l, column: c)
            case nil: throw error("unexpected end of the file; an object opened at line \(l) is not closed with '}'")
            default: throw error("unexpected \(describeCurrent()); expected ',' or '}' after the value of \"\(SpecNode.abbreviate(key))\"")
            }
        }
    }

    private mutating func readArray(depth: Int) throws(SpecError) -> SpecNode {
        let (l, c) = (line, column)
        advance()  // [
        var items: [SpecNode] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            advance()
            return SpecNode(.array(items), line: l, column: c)
        }
        while true {
            skipWhitespace()
            if peek == UInt8(ascii: "]") { throw error("trailing ',' before ']' is not allowed in JSON") }
            items.append(try readValue(depth: depth + 1))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "]"): advance(); return SpecNode(.array(items), line: l, column: c)
            case nil: throw error("unexpected end of the file; a list opened at line \(l) is not closed with ']'")
            default: throw error("unexpected \(describeCurrent()); expected ',' or ']' in a list")
            }
        }
    }

    private mutating func readString() throws(SpecError) -> String {
        advance()  // opening quote
        var out: [UInt8] = []
        while true {
            guard let b = peek else { throw error("unexpected end of the file inside a string") }
            switch b {
            case UInt8(ascii: "\""):
                advance()
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                advance()
                guard let e = peek else { throw error("unexpected end of the file inside a string") }
                advance()
                switch e {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try readHex4()
                    if (0xD800...0xDBFF).contains(code) {
                        // A high surrogate must be followed by \uDC00–\uDFFF.
                        guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("invalid \\u escape: a high surrogate is not followed by a low one")
                        }
                        advance(); advance()
                        let low = try readHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid \\u escape: bad low surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw error("invalid \\u escape: a lone low surrogate")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string")
                }
            case 0x00..<0x20:
                throw error(b == 0x0A ? "a string is not closed before the end of the line" : "control characters must be escaped in JSON strings")
            default:
                out.append(b)
                advance()
            }
        }
    }

    private mutating func readHex4() throws(SpecError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let b = peek else { throw error("unexpected end of the file in a \\u escape") }
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape: expected 4 hex digits")
            }
            v = v * 16 + d
            advance()
        }
        return v
    }

    private mutating func readNumber() throws(SpecError) -> String {
        let start = index
        if peek == UInt8(ascii: "-") { advance() }
        guard let first = peek, isDigit(first) else { throw error("invalid number: expected a digit after '-'") }
        if first == UInt8(ascii: "0") {
            advance()
            if let n = peek, isDigit(n) { throw error("invalid number: leading zeros are not allowed in JSON") }
        } else {
            while let d = peek, isDigit(d) { advance() }
        }
        if peek == UInt8(ascii: ".") {
            advance()
            guard let d = peek, isDigit(d) else { throw error("invalid number: expected a digit after '.'") }
            while let d = peek, isDigit(d) { advance() }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            advance()
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { advance() }
            guard let d = peek, isDigit(d) else { throw error("invalid number: expected a digit in the exponent") }
            while let d = peek, isDigit(d) { advance() }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func expectWord(_ word: StaticString) throws(SpecError) {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for b in w {
            guard peek == b else {
                throw error("unexpected \(describeCurrent()); expected \(word) (JSON words are lowercase; strings need double quotes)")
            }
            advance()
        }
        if let n = peek, isWordByte(n) { throw error("unexpected \(describeCurrent()) after \(word); strings need double quotes") }
    }

    // MARK: - Scanning

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func advance() {
        let b = bytes[index]
        index += 1
        if b == 0x0A {
            line += 1
            column = 1
        } else if b & 0xC0 != 0x80 {  // count characters, not UTF-8 continuation bytes
            column += 1
        }
    }

    private mutating func skipWhitespace() {
        while let b = peek, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { advance() }
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    private func isWordByte(_ b: UInt8) -> Bool {
        isDigit(b) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) || b == UInt8(ascii: "_")
    }

    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of the file" }
        // Show the character (not a lone byte of a multi-byte one).
        var end = index + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        let ch = String(decoding: bytes[index..<end], as: UTF8.self)
        return "'\(SpecNode.abbreviate(ch))'"
    }

    private func error(_ message: String) -> SpecError {
        SpecError(path: "", message: "invalid JSON: \(message)", filename: filename, line: line, column: column)
    }
}

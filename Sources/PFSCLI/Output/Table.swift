/// A text table with an upper-case header and left-aligned columns separated by three spaces,
/// as pachctl prints its listings. The last column is not padded.
public struct Table: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]

    public static let padding = 3

    public init(header: [String], rows: [[String]] = []) {
        self.header = header
        self.rows = rows
    }

    public mutating func append(_ row: [String]) { rows.append(row) }

    /// The table as lines ending in `\n`. Control characters in cells are escaped so a description cannot
    /// break the layout or reach the terminal raw.
    public func render() -> String {
        let cleanRows = ([header] + rows).map { row in
            (0..<header.count).map { i in i < row.count ? Self.clean(row[i]) : "" }
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in cleanRows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for row in cleanRows {
            var line = ""
            for (i, cell) in row.enumerated() {
                line += cell
                if i < row.count - 1 {
                    line += String(repeating: " ", count: widths[i] - cell.count + Self.padding)
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    static func clean(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\n", "\r", "\t": out += " "
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value >= 0x80 && scalar.value < 0xA0) {
                    out += "\\x" + String(scalar.value, radix: 16, uppercase: false).leftPad(2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

extension String {
    func leftPad(_ n: Int, with c: Character = "0") -> String {
        count >= n ? self : String(repeating: c, count: n - count) + self
    }
}

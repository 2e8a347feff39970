import Foundation

/// Durations as pipeline specs write them (`datum_timeout`, `job_timeout`, `@every`): Go's `time.ParseDuration`
/// syntax, which is what Pachyderm's protobuf Duration fields accept in practice (`"30s"`, `"1.5m"`, `"1m30s"`,
/// `"2h"`, `"500ms"`), or a plain number of seconds (`30`, `"30"`).
enum SpecDuration {
    /// Seconds, or nil if `text` is not a duration.
    static func seconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { return nil }
        if let plain = Double(t), plain.isFinite { return plain }

        var scalars = Substring(t).unicodeScalars[...]
        var negative = false
        if let first = scalars.first, first == "-" || first == "+" {
            negative = first == "-"
            scalars = scalars.dropFirst()
        }
        var total = 0.0
        var sawComponent = false
        while !scalars.isEmpty {
            // Number: digits with an optional fraction.
            var number = ""
            while let c = scalars.first, ("0"..."9").contains(c) || c == "." {
                number.unicodeScalars.append(c)
                scalars = scalars.dropFirst()
            }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            // Unit: letters up to the next digit.
            var unit = ""
            while let c = scalars.first, !("0"..."9").contains(c), c != "." {
                unit.unicodeScalars.append(c)
                scalars = scalars.dropFirst()
            }
            guard let factor = unitSeconds[unit] else { return nil }
            total += value * factor
            sawComponent = true
        }
        guard sawComponent, total.isFinite else { return nil }
        return negative ? -total : total
    }

    private static let unitSeconds: [String: Double] = [
        "ns": 1e-9, "us": 1e-6, "\u{00B5}s": 1e-6, "\u{03BC}s": 1e-6, "ms": 1e-3,
        "s": 1, "m": 60, "h": 3600,
    ]

    static let syntaxHelp = "write a duration like \"30s\", \"1.5m\", \"1m30s\", \"2h\" or a number of seconds"
}

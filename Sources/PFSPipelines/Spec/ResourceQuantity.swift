import Foundation

/// Kubernetes-style quantities as pipeline specs write resources: memory and disk in bytes with decimal
/// (`k`/`K`, `M`, `G`, `T`, `P`, `E`) or binary (`Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`) suffixes or an exponent
/// (`129e6`); CPUs as a number or in millicores (`"500m"`).
enum ResourceQuantity {
    enum Failure: Error { case message(String) }

    private static let byteSuffixes: [String: Double] = [
        "": 1,
        "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
        "Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776,
        "Pi": 1_125_899_906_842_624, "Ei": 1_152_921_504_606_846_976,
    ]

    /// Bytes, rounded up to a whole byte.
    static func bytes(_ text: String) -> Result<Int64, Failure> {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let (number, digits, suffix) = split(t) else {
            return .failure(.message("\"\(SpecNode.abbreviate(text))\" is not a quantity; write bytes with an optional suffix, e.g. \"512Mi\", \"2Gi\" or \"1G\""))
        }
        let multiplier: Double
        if let m = byteSuffixes[suffix] {
            multiplier = m
        } else if let e = exponent(suffix) {
            multiplier = pow(10, Double(e))
        } else if suffix == "m" {
            return .failure(.message("\"\(text)\" means \(digits)/1000 of a byte (m is milli); did you mean \"\(digits)M\" (megabytes) or \"\(digits)Mi\" (mebibytes)?"))
        } else {
            let upper = suffix.uppercased()
            var hint = ""
            if let first = upper.first, "KMGTPE".contains(first) {
                let unit = first == "K" ? "k" : String(first)
                hint = "; write \"\(digits)\(unit)\" (10^n bytes) or \"\(digits)\(first)i\" (2^n bytes)"
            }
            return .failure(.message("unknown suffix \"\(suffix)\" in \"\(SpecNode.abbreviate(text))\"\(hint)"))
        }
        let value = number * multiplier
        guard value.isFinite, value >= 0 else {
            return .failure(.message("\"\(SpecNode.abbreviate(text))\" must not be negative"))
        }
        guard value < 9.2e18 else {
            return .failure(.message("\"\(SpecNode.abbreviate(text))\" is too large"))
        }
        return .success(Int64(value.rounded(.up)))
    }

    /// CPUs (fractions allowed).
    static func cpu(_ text: String) -> Result<Double, Failure> {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let (number, _, suffix) = split(t) else {
            return .failure(.message("\"\(SpecNode.abbreviate(text))\" is not a CPU amount; write a number of CPUs (0.5, 2) or millicores (\"500m\")"))
        }
        let value: Double
        switch suffix {
        case "": value = number
        case "m": value = number / 1000
        default:
            if let e = exponent(suffix) {
                value = number * pow(10, Double(e))
            } else {
                return .failure(.message("unknown suffix \"\(suffix)\" in \"\(SpecNode.abbreviate(text))\"; write a number of CPUs (0.5, 2) or millicores (\"500m\")"))
            }
        }
        guard value.isFinite, value >= 0 else {
            return .failure(.message("\"\(SpecNode.abbreviate(text))\" must not be negative"))
        }
        return .success(value)
    }

    /// "1.5Gi" → (1.5, "1.5", "Gi"). The number is digits with an optional fraction and sign.
    private static func split(_ t: String) -> (Double, String, String)? {
        var end = t.startIndex
        var sawDigit = false
        if end < t.endIndex, t[end] == "+" || t[end] == "-" { end = t.index(after: end) }
        while end < t.endIndex, t[end].isASCII, t[end].isNumber || t[end] == "." {
            if t[end].isNumber { sawDigit = true }
            end = t.index(after: end)
        }
        guard sawDigit, let number = Double(t[..<end]) else { return nil }
        return (number, String(t[..<end]), String(t[end...]))
    }

    /// "e6", "E-3" → the exponent.
    private static func exponent(_ suffix: String) -> Int? {
        guard suffix.count >= 2, suffix.first == "e" || suffix.first == "E" else { return nil }
        return Int(suffix.dropFirst())
    }
}

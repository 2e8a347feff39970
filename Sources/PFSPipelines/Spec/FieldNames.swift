/// Field spellings. Every field is known by its protobuf name in snake_case (`join_on`); the protobuf JSON
/// mapping's lowerCamelCase (`joinOn`) is accepted too, as are a few historical spellings (`URL`).
enum FieldNames {
    /// Spellings other than snake_case and lowerCamelCase that real specs use.
    private static let extraSpellings: [String: [String]] = [
        "url": ["URL"],
    ]

    static func spellings(_ canonical: String) -> [String] {
        var out = [canonical]
        let camel = lowerCamel(canonical)
        if camel != canonical { out.append(camel) }
        out.append(contentsOf: extraSpellings[canonical] ?? [])
        return out
    }

    /// `join_on` → `joinOn`, `s3_out` → `s3Out`.
    static func lowerCamel(_ snake: String) -> String {
        var out = ""
        var upperNext = false
        for ch in snake {
            if ch == "_" {
                upperNext = !out.isEmpty
                continue
            }
            out.append(upperNext ? Character(ch.uppercased()) : ch)
            upperNext = false
        }
        return out
    }

    /// The spelling of `canonical` in the style the user wrote `userKey` in (for "did you mean …").
    static func spelling(_ canonical: String, like userKey: String) -> String {
        let camelStyle = !userKey.contains("_") && userKey.contains(where: { $0.isUppercase })
        return camelStyle ? lowerCamel(canonical) : canonical
    }

    /// Levenshtein distance, case-insensitive, with `_` ignored so `joinon`, `join_On` and `JoinOn` all land near
    /// `join_on`.
    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased().filter { $0 != "_" })
        let y = Array(b.lowercased().filter { $0 != "_" })
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// The closest of `candidates` (canonical names) to `key` within edit distance 2, spelled like `key`.
    static func suggestion(for key: String, among candidates: [String]) -> String? {
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let d = distance(key, candidate)
            if d <= 2, d < (best?.distance ?? Int.max) {
                best = (candidate, d)
            }
        }
        // Two-letter keys are within distance 2 of everything short; only suggest when it is plausible.
        guard let best, key.count > 2 || best.distance <= 1 else { return nil }
        return spelling(best.name, like: key)
    }
}

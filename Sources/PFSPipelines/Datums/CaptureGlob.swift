import Foundation
import PFSCore

/// A Pachyderm glob pattern with capture groups, as join and group inputs use them: `/(*)-(*).txt`.
///
/// Whether a path matches is decided by PFSCore's `Glob` on the pattern with the group parentheses removed, so
/// a pattern selects exactly the paths `pfs glob file` lists (and walks prune with `Glob.mayMatchBelow`). This
/// type adds what `Glob` has no notion of: the text each group captured, numbered by its opening parenthesis
/// from 1 (`/*/(bar-(123))/*` on `/foo/bar-123/x`: `$1` = `bar-123`, `$2` = `123`), and `$N` templates over them.
/// Like a regular expression's, each `*` takes as much as it can while the rest still matches
/// (`/(*)-(*).txt` on `/a-b-c.txt`: `$1` = `a-b`, `$2` = `c`).
public struct CaptureGlob: Sendable {
    /// The pattern as written.
    public let pattern: String
    /// The pattern without its groups: decides matches and prunes walks.
    public let glob: Glob
    /// How many groups the pattern has.
    public let groupCount: Int
    private let tokens: [Token]

    private enum Token: Sendable {
        case literal(Unicode.Scalar)
        case separator
        case star
        case one
        case charClass(CharClass)
        /// A whole `**` component with its leading `/`: nothing, or `/` and any number of whole components.
        /// `opens` are the groups opened right before the `**` (they start after the `/`).
        case globstar(opens: [Int])
        case open(Int)
        case close(Int)
    }

    private struct CharClass: Sendable {
        var negated: Bool
        var ranges: [ClosedRange<UInt32>]

        func contains(_ c: Unicode.Scalar) -> Bool {
            ranges.contains { $0.contains(c.value) } != negated
        }
    }

    public init(_ pattern: String) throws {
        self.pattern = pattern
        var stripped = String.UnicodeScalarView()
        var tokens: [Token] = []
        var groups = 0
        var openGroups: [Int] = []
        // Pattern components are relative to the root: `*.csv` is `/*.csv`; empty components do not count.
        let scalars = Array(pattern.unicodeScalars)
        var i = 0
        var atComponentStart = true
        tokens.append(.separator)
        stripped.append("/")

        func isGlobstar(at start: Int) -> (end: Int, opens: Int, closes: Int)? {
            // `(` * `**` `)` * followed by `/` or the end.
            var j = start
            var opens = 0
            while j < scalars.count, scalars[j] == "(" { j += 1; opens += 1 }
            guard j + 1 < scalars.count, scalars[j] == "*", scalars[j + 1] == "*" else { return nil }
            j += 2
            var closes = 0
            while j < scalars.count, scalars[j] == ")" { j += 1; closes += 1 }
            guard j == scalars.count || scalars[j] == "/" else { return nil }
            return (j, opens, closes)
        }

        while i < scalars.count {
            let c = scalars[i]
            if c == "/" {
                if !atComponentStart {
                    tokens.append(.separator)
                    stripped.append("/")
                    atComponentStart = true
                }
                i += 1
                continue
            }
            if atComponentStart, let g = isGlobstar(at: i) {
                // Replace the separator already emitted: the globstar carries its own optional `/`.
                tokens.removeLast()
                var opens: [Int] = []
                for _ in 0..<g.opens {
                    groups += 1
                    opens.append(groups)
                    openGroups.append(groups)
                }
                tokens.append(.globstar(opens: opens))
                stripped.append(contentsOf: "**".unicodeScalars)
                for _ in 0..<g.closes {
                    guard let g = openGroups.popLast() else {
                        throw PFSError.invalid("glob pattern \"\(pattern)\" has a ')' without a matching '('")
                    }
                    tokens.append(.close(g))
                }
                i = g.end
                atComponentStart = false
                continue
            }
            atComponentStart = false
            switch c {
            case "(":
                groups += 1
                openGroups.append(groups)
                tokens.append(.open(groups))
                i += 1
            case ")":
                guard let g = openGroups.popLast() else {
                    throw PFSError.invalid("glob pattern \"\(pattern)\" has a ')' without a matching '('")
                }
                tokens.append(.close(g))
                i += 1
            case "*":
                // `**` inside a component is two stars, as in `Glob`.
                tokens.append(.star)
                stripped.append(c)
                i += 1
            case "?":
                tokens.append(.one)
                stripped.append(c)
                i += 1
            case "\\":
                let lit = i + 1 < scalars.count ? scalars[i + 1] : "\\"
                tokens.append(.literal(lit))
                stripped.append(c)
                if i + 1 < scalars.count { stripped.append(scalars[i + 1]) }
                i += 2
            case "[":
                // Same reading as `Glob.matchComponent`: `[!x]`/`[^x]` negate, a `]` first is literal, `a-z` ranges.
                var j = i + 1
                var cls = CharClass(negated: false, ranges: [])
                if j < scalars.count, scalars[j] == "!" || scalars[j] == "^" { cls.negated = true; j += 1 }
                var first = true
                while j < scalars.count, scalars[j] != "]" || first, scalars[j] != "/" {
                    first = false
                    let lo = scalars[j]
                    j += 1
                    if j + 1 < scalars.count, scalars[j] == "-", scalars[j + 1] != "]" {
                        // A reversed range (`[z-a]`) matches nothing, as in `Glob`.
                        if lo.value <= scalars[j + 1].value { cls.ranges.append(lo.value...scalars[j + 1].value) }
                        j += 2
                    } else {
                        cls.ranges.append(lo.value...lo.value)
                    }
                }
                guard j < scalars.count, scalars[j] == "]" else {
                    throw PFSError.invalid("glob pattern \"\(pattern)\" has an unclosed '['")
                }
                tokens.append(.charClass(cls))
                stripped.append(contentsOf: scalars[i...j])
                i = j + 1
            default:
                tokens.append(.literal(c))
                stripped.append(c)
                i += 1
            }
        }
        guard openGroups.isEmpty else {
            throw PFSError.invalid("glob pattern \"\(pattern)\" has a '(' without a matching ')'")
        }
        // A trailing separator (from `/` alone or a pattern ending in `/`) matches nothing more.
        if case .separator = tokens.last { tokens.removeLast() }
        self.tokens = tokens
        self.groupCount = groups
        self.glob = try Glob(String(stripped))
    }

    /// True if the pattern is `/`: the whole commit as one match.
    public var isRoot: Bool { glob.isRoot }

    /// Does the path (clean-path components) match?
    public func matches(_ path: [String]) -> Bool { glob.matches(path) }

    /// Could a path below `prefix` match?
    public func mayMatchBelow(_ prefix: [String]) -> Bool { glob.mayMatchBelow(prefix) }

    /// The captured texts (`[0]` is group 1) if the path matches, else nil. A group that takes no part in the
    /// match (or a path that `Glob` matches but the groups cannot split, e.g. a group that empties a component)
    /// captures "".
    public func captures(_ path: [String]) -> [String]? {
        guard glob.matches(path) else { return nil }
        if groupCount == 0 { return [] }
        let text = Array(("/" + path.joined(separator: "/")).unicodeScalars)
        var starts = [Int](repeating: -1, count: groupCount + 1)
        var ends = [Int](repeating: -1, count: groupCount + 1)
        guard match(0, 0, text, &starts, &ends) else { return [String](repeating: "", count: groupCount) }
        return (1...groupCount).map { g in
            guard starts[g] >= 0, ends[g] >= starts[g] else { return "" }
            var s = String.UnicodeScalarView()
            s.append(contentsOf: text[starts[g]..<ends[g]])
            return String(s)
        }
    }

    /// The key for `template` (`join_on`/`group_by`) on a matching path: `$N` and `${N}` are group N's text
    /// (`$0` the whole path), `$$` is `$`; everything else is kept. Nil if the path does not match.
    public func key(_ template: String, for path: [String]) -> String? {
        guard let caps = captures(path) else { return nil }
        return Self.expand(template, captures: caps, whole: "/" + path.joined(separator: "/"))
    }

    /// Substitutes `$N` / `${N}` in `template` (groups beyond `captures` give "").
    public static func expand(_ template: String, captures: [String], whole: String = "") -> String {
        let t = Array(template.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func group(_ n: Int) -> String { n == 0 ? whole : (n <= captures.count ? captures[n - 1] : "") }
        while i < t.count {
            guard t[i] == "$", i + 1 < t.count else { out.append(t[i]); i += 1; continue }
            let n = t[i + 1]
            if n == "$" {
                out.append("$"); i += 2
            } else if n.properties.numericType == .decimal, n.isASCII {
                var j = i + 1
                var num = 0
                while j < t.count, t[j].isASCII, let d = Int(String(t[j])) { num = num &* 10 &+ d; j += 1 }
                out.append(contentsOf: group(num).unicodeScalars)
                i = j
            } else if n == "{", let close = t[(i + 2)...].firstIndex(of: "}"), close > i + 2,
                      t[(i + 2)..<close].allSatisfy({ $0.isASCII && $0.properties.numericType == .decimal }),
                      let num = Int(String(String.UnicodeScalarView(t[(i + 2)..<close]))) {
                out.append(contentsOf: group(num).unicodeScalars)
                i = close + 1
            } else {
                out.append(t[i]); i += 1
            }
        }
        return String(out)
    }

    // Backtracking over the tokens; the patterns and paths are short.
    private func match(_ t: Int, _ s: Int, _ text: [Unicode.Scalar], _ starts: inout [Int], _ ends: inout [Int]) -> Bool {
        guard t < tokens.count else { return s == text.count }
        switch tokens[t] {
        case .literal(let c):
            return s < text.count && text[s] == c && match(t + 1, s + 1, text, &starts, &ends)
        case .separator:
            return s < text.count && text[s] == "/" && match(t + 1, s + 1, text, &starts, &ends)
        case .one:
            return s < text.count && text[s] != "/" && match(t + 1, s + 1, text, &starts, &ends)
        case .charClass(let cls):
            return s < text.count && text[s] != "/" && cls.contains(text[s]) && match(t + 1, s + 1, text, &starts, &ends)
        case .star:
            var end = s
            while end < text.count, text[end] != "/" { end += 1 }
            while end >= s {
                if match(t + 1, end, text, &starts, &ends) { return true }
                end -= 1
            }
            return false
        case .globstar(let opens):
            // Candidate ends: each component boundary from `s` on, longest first; `s` itself is "no components".
            var ends_: [Int] = [s]
            var p = s
            while p < text.count, text[p] == "/" {
                p += 1
                while p < text.count, text[p] != "/" { p += 1 }
                ends_.append(p)
            }
            let saved = opens.map { starts[$0] }
            for end in ends_.reversed() {
                for g in opens { starts[g] = end == s ? s : s + 1 }
                if match(t + 1, end, text, &starts, &ends) { return true }
            }
            for (g, v) in zip(opens, saved) { starts[g] = v }
            return false
        case .open(let g):
            let saved = starts[g]
            starts[g] = s
            if match(t + 1, s, text, &starts, &ends) { return true }
            starts[g] = saved
            return false
        case .close(let g):
            let saved = ends[g]
            ends[g] = s
            if match(t + 1, s, text, &starts, &ends) { return true }
            ends[g] = saved
            return false
        }
    }
}

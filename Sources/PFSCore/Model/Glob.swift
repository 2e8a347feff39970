import Foundation

/// Glob patterns over commit paths, as Pachyderm uses them for `glob file` and datums:
/// `*` and `?` match within one path component, `[abc]`, `[a-z]`, `[!x]` are character classes,
/// and a `**` component matches any number of components (including none). `/` matches the root.
public struct Glob: Sendable, Equatable {
    public let pattern: String
    let components: [String]

    public init(_ pattern: String) throws {
        self.pattern = pattern
        guard !pattern.utf8.contains(0) else { throw PFSError.invalid("glob pattern contains a NUL byte") }
        // Split at `/` bytes, as paths are (see `Names.cleanPath`).
        let comps = pattern.utf8.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
        for comp in comps {
            if comp.utf8.elementsEqual("..".utf8) { throw PFSError.invalid("glob pattern \"\(pattern)\" contains \"..\"; patterns match paths inside a commit") }
            var depth = 0
            for c in comp {
                if c == "[" { depth += 1 } else if c == "]" { depth = max(0, depth - 1) }
            }
            if depth != 0 { throw PFSError.invalid("glob pattern \"\(pattern)\" has an unclosed '['") }
        }
        components = comps
    }

    /// True if the pattern is `/` (or empty): the whole commit as one match.
    public var isRoot: Bool { components.isEmpty }

    /// Does the full path (components) match?
    public func matches(_ path: [String]) -> Bool {
        Self.match(components[...], path[...])
    }

    /// Could some path below `prefix` match? (Used to prune walks.)
    public func mayMatchBelow(_ prefix: [String]) -> Bool {
        Self.prefixMatch(components[...], prefix[...])
    }

    /// Whole-path matching. Each (pattern position, path position) pair is tried at most once, so patterns
    /// with several `**` stay fast on deep paths (plain backtracking is exponential there).
    static func match(_ pat: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        let pat = Array(pat), path = Array(path)
        var failed = Set<Int>()
        func go(_ pi: Int, _ si: Int) -> Bool {
            guard pi < pat.count else { return si == path.count }
            let key = pi * (path.count + 1) + si
            if failed.contains(key) { return false }
            let ok: Bool
            if pat[pi] == "**" {
                ok = go(pi + 1, si) || (si < path.count && go(pi, si + 1))
            } else {
                ok = si < path.count && matchComponent(Array(pat[pi].unicodeScalars)[...], Array(path[si].unicodeScalars)[...])
                    && go(pi + 1, si + 1)
            }
            if !ok { failed.insert(key) }
            return ok
        }
        return go(0, 0)
    }

    static func prefixMatch(_ pat: ArraySlice<String>, _ prefix: ArraySlice<String>) -> Bool {
        // Something below `prefix` can match only if pattern components are left for it.
        guard let c = prefix.first else { return !pat.isEmpty }
        guard let p = pat.first else { return false }
        if p == "**" { return true }
        guard matchComponent(Array(p.unicodeScalars)[...], Array(c.unicodeScalars)[...]) else { return false }
        return prefixMatch(pat.dropFirst(), prefix.dropFirst())
    }

    /// fnmatch-style matching of one component. Iterative, with one backtrack point (the last `*`): every
    /// other token matches exactly one character, so this is O(pattern × name) at worst, never exponential.
    static func matchComponent(_ p: ArraySlice<Unicode.Scalar>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
        var pi = p.startIndex, si = s.startIndex
        var star: (p: Int, s: Int)?
        while si < s.endIndex {
            if pi < p.endIndex {
                switch p[pi] {
                case "*":
                    star = (pi, si)
                    pi += 1
                    continue
                case "?":
                    pi += 1; si += 1
                    continue
                case "[":
                    if let next = matchClass(p, open: pi, s[si]) {
                        pi = next; si += 1
                        continue
                    }
                case "\\":
                    let lit = pi + 1 < p.endIndex ? p[pi + 1] : "\\"
                    if s[si] == lit {
                        pi = min(pi + 2, p.endIndex); si += 1
                        continue
                    }
                default:
                    if p[pi] == s[si] {
                        pi += 1; si += 1
                        continue
                    }
                }
            }
            // Mismatch: let the last `*` take one more character, or fail.
            guard let last = star else { return false }
            star = (last.p, last.s + 1)
            pi = last.p + 1
            si = last.s + 1
        }
        while pi < p.endIndex, p[pi] == "*" { pi += 1 }
        return pi == p.endIndex
    }

    /// Matches `c` against the class `[...]` that starts at `open`; returns the index after its `]`, or nil
    /// (no match, or no closing `]`). `[!...]`/`[^...]` negate, `a-z` are ranges, a leading `]` is literal.
    private static func matchClass(_ p: ArraySlice<Unicode.Scalar>, open: Int, _ c: Unicode.Scalar) -> Int? {
        var q = open + 1
        var negate = false
        if q < p.endIndex, p[q] == "!" || p[q] == "^" {
            negate = true
            q += 1
        }
        var matched = false
        var first = true
        while q < p.endIndex, p[q] != "]" || first {
            first = false
            let lo = p[q]
            q += 1
            if q + 1 < p.endIndex, p[q] == "-", p[q + 1] != "]" {
                if lo.value <= c.value && c.value <= p[q + 1].value { matched = true }
                q += 2
            } else if lo == c {
                matched = true
            }
        }
        guard q < p.endIndex, p[q] == "]", matched != negate else { return nil }
        return q + 1
    }
}

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

    static func match(_ pat: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let p = pat.first else { return path.isEmpty }
        if p == "**" {
            if match(pat.dropFirst(), path) { return true }
            return !path.isEmpty && match(pat, path.dropFirst())
        }
        guard let c = path.first, matchComponent(Array(p.unicodeScalars)[...], Array(c.unicodeScalars)[...]) else { return false }
        return match(pat.dropFirst(), path.dropFirst())
    }

    static func prefixMatch(_ pat: ArraySlice<String>, _ prefix: ArraySlice<String>) -> Bool {
        // Something below `prefix` can match only if pattern components are left for it.
        guard let c = prefix.first else { return !pat.isEmpty }
        guard let p = pat.first else { return false }
        if p == "**" { return true }
        guard matchComponent(Array(p.unicodeScalars)[...], Array(c.unicodeScalars)[...]) else { return false }
        return prefixMatch(pat.dropFirst(), prefix.dropFirst())
    }

    /// fnmatch-style matching of one component.
    static func matchComponent(_ p: ArraySlice<Unicode.Scalar>, _ s: ArraySlice<Unicode.Scalar>) -> Bool {
        var p = p, s = s
        while let pc = p.first {
            switch pc {
            case "*":
                let rest = p.dropFirst()
                if rest.isEmpty { return true }
                var tail = s
                while true {
                    if matchComponent(rest, tail) { return true }
                    if tail.isEmpty { return false }
                    tail = tail.dropFirst()
                }
            case "?":
                guard !s.isEmpty else { return false }
                p = p.dropFirst(); s = s.dropFirst()
            case "[":
                guard let c = s.first else { return false }
                var q = p.dropFirst()
                var negate = false
                if let f = q.first, f == "!" || f == "^" { negate = true; q = q.dropFirst() }
                var matched = false
                var first = true
                while let qc = q.first, qc != "]" || first {
                    first = false
                    q = q.dropFirst()
                    if q.count >= 2, q.first == "-", let hi = q.dropFirst().first, hi != "]" {
                        if qc.value <= c.value && c.value <= hi.value { matched = true }
                        q = q.dropFirst(2)
                    } else if qc == c {
                        matched = true
                    }
                }
                guard q.first == "]", matched != negate else { return false }
                p = q.dropFirst(); s = s.dropFirst()
            case "\\":
                let lit = p.dropFirst().first ?? "\\"
                guard s.first == lit else { return false }
                p = p.dropFirst(2); s = s.dropFirst()
            default:
                guard s.first == pc else { return false }
                p = p.dropFirst(); s = s.dropFirst()
            }
        }
        return s.isEmpty
    }
}

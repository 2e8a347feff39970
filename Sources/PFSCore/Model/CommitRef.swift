import Foundation

/// How a user names a commit: `repo@branch`, `repo@<id or unique prefix>`, `repo@branch^`, `repo@branch~N`,
/// optionally followed by `:/path`. A bare `repo` means `repo@master`.
public struct CommitRef: Sendable, Equatable, CustomStringConvertible {
    public var repo: String
    /// The part after `@` without ancestry suffixes: a branch name or a commit id / prefix.
    public var base: String
    /// Number of `^`/`~N` steps back from `base`.
    public var ancestry: Int
    /// The path after `:`, if one was given.
    public var path: String?

    public init(repo: String, base: String, ancestry: Int = 0, path: String? = nil) {
        self.repo = repo; self.base = base; self.ancestry = ancestry; self.path = path
    }

    /// `base` plus the ancestry suffix, e.g. `master~2` — the form the API takes as `ref`.
    public var refString: String { ancestry == 0 ? base : "\(base)~\(ancestry)" }

    public var description: String {
        "\(repo)@\(refString)" + (path.map { ":\($0)" } ?? "")
    }

    /// Parses `repo[@ref][:path]`.
    public static func parse(_ s: String, defaultBranch: String = "master") throws -> CommitRef {
        var rest = Substring(s)
        var path: String?
        if let colon = rest.firstIndex(of: ":") {
            path = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        var repo = String(rest)
        var ref = defaultBranch
        if let at = rest.firstIndex(of: "@") {
            repo = String(rest[..<at])
            ref = String(rest[rest.index(after: at)...])
            if ref.isEmpty {
                throw PFSError.invalid("\"\(s)\" has nothing after '@'; write repo@branch or repo@commit-id")
            }
        }
        try Names.validateRepo(repo)
        var r = try parseRef(ref)
        r.repo = repo
        if let p = path { r.path = try Names.cleanPath(p) }
        return r
    }

    /// Parses the part after `@`: `branch`, `id`, with any number of `^` and `~N` suffixes.
    public static func parseRef(_ ref: String) throws -> CommitRef {
        var base = Substring(ref)
        var steps = 0
        while let last = base.last {
            var n = 1
            if last == "^" {
                base = base.dropLast()
            } else if let tilde = base.lastIndex(of: "~") {
                let digits = base[base.index(after: tilde)...]
                if !digits.isEmpty {
                    guard let v = Int(digits), v >= 0 else {
                        throw PFSError.invalid("invalid commit reference \"\(Names.printable(ref))\": '~' must be followed by a number, as in master~2")
                    }
                    n = v
                }
                base = base[..<tilde]
            } else {
                break
            }
            let (sum, overflow) = steps.addingReportingOverflow(n)
            guard !overflow else {
                throw PFSError.invalid("invalid commit reference \"\(Names.printable(ref))\": too many steps back")
            }
            steps = sum
        }
        if base.isEmpty {
            throw PFSError.invalid("invalid commit reference \"\(ref)\": name a branch or commit id before ^ or ~")
        }
        for c in base.utf8 where c < 0x21 || c == 0x7F || c == UInt8(ascii: "/") || c == UInt8(ascii: "@") {
            throw PFSError.invalid("invalid commit reference \"\(Names.printable(ref))\": use a branch name or a commit id")
        }
        return CommitRef(repo: "", base: String(base), ancestry: steps)
    }

    /// True if `s` could be a commit id or id prefix (8...32 hex digits).
    public static func looksLikeCommitID(_ s: String) -> Bool {
        let n = s.utf8.count
        return n >= 8 && n <= 32 && s.utf8.allSatisfy { Names.isHex($0) }
    }
}

public enum CommitID {
    /// A new random 32-hex commit id (a v4 UUID without dashes, as Pachyderm 2.x prints them).
    public static func generate() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}

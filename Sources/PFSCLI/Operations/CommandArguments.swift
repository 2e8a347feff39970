import Foundation
import PFSCore

/// Parsing of the positional forms both spellings use. Errors are `PFSError.invalid` (exit status 2) and say
/// what form was expected.
public enum CommandArguments {
    /// `repo[@ref][:/path]` (2.x). Without `@`, the ref is `master`.
    public static func commit(_ s: String) throws -> CommitRef {
        try CommitRef.parse(s)
    }

    /// True if `repo@…` names a ref (the part before any `:` contains `@`).
    public static func hasExplicitRef(_ s: String) -> Bool {
        let head = s.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return head.contains("@")
    }

    /// The raw text after the first `:`, or nil when there is none.
    public static func rawPath(_ s: String) -> String? {
        guard let colon = s.firstIndex(of: ":") else { return nil }
        return String(s[s.index(after: colon)...])
    }

    /// `repo@branch` where the ref must be a plain branch name (no `^`, `~N`, path).
    public static func branch(_ s: String, command: String) throws -> (repo: String, branch: String) {
        let ref = try CommitRef.parse(s)
        guard ref.ancestry == 0, ref.path == nil else {
            throw PFSError.invalid("\(command) takes repo@branch, not \"\(Names.printable(s))\"")
        }
        try Names.validateBranch(ref.base)
        return (ref.repo, ref.base)
    }

    /// The 1.x pair `repo commit-or-branch`.
    public static func legacy(repo: String, ref: String) throws -> CommitTarget {
        try Names.validateRepo(repo)
        let r = try CommitRef.parseRef(ref)
        return CommitTarget(repo: repo, ref: r.refString)
    }

    /// The 1.x pair `repo branch` where the second must be a branch name.
    public static func legacyBranch(repo: String, branch: String) throws -> (repo: String, branch: String) {
        try Names.validateRepo(repo)
        try Names.validateBranch(branch)
        return (repo, branch)
    }

    /// A path inside a commit; a missing leading `/` is added.
    public static func path(_ raw: String) throws -> String {
        try Names.cleanPath(raw)
    }

    /// A destination path: nil when omitted; `isDirectory` when omitted, empty, or ending in `/`.
    public static func destination(_ raw: String?) throws -> (path: String?, isDirectory: Bool) {
        guard let raw, !raw.isEmpty else { return (nil, true) }
        let clean = try Names.cleanPath(raw)
        return (clean, raw.hasSuffix("/") || clean == "/")
    }

    /// `--timeout 30s` as whole seconds for the API (rounded up; nil = wait forever).
    public static func timeout(_ raw: String?) throws -> Int? {
        guard let raw else { return nil }
        guard let seconds = Humanize.parseDuration(raw) else {
            throw PFSError.invalid("invalid --timeout \"\(Names.printable(raw))\"; write seconds (30) or a duration (30s, 5m, 1h)")
        }
        guard seconds < Double(Int32.max) else {
            throw PFSError.invalid("--timeout \"\(Names.printable(raw))\" is too long; leave it out to wait forever")
        }
        return Int(seconds.rounded(.up))
    }

    /// A 1.x `flush-commit` argument: `repo@ref` or `repo/ref`.
    public static func flushTarget(_ s: String) throws -> CommitTarget {
        if s.contains("@") {
            let ref = try CommitRef.parse(s)
            guard ref.path == nil else {
                throw PFSError.invalid("flush-commit takes repo@commit, not a path: \"\(Names.printable(s))\"")
            }
            return CommitTarget(repo: ref.repo, ref: ref.refString)
        }
        let parts = s.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw PFSError.invalid("flush-commit takes repo@commit, repo/commit or \"repo commit\"; got \"\(Names.printable(s))\"")
        }
        return try legacy(repo: String(parts[0]), ref: String(parts[1]))
    }

    /// The commits named by `flush-commit`'s arguments: `repo commit`, or any number of `repo@ref` / `repo/ref`.
    public static func flushTargets(_ args: [String]) throws -> [CommitTarget] {
        if args.count == 2, !args[0].contains("@"), !args[0].contains("/"), !args[1].contains("@"), !args[1].contains("/") {
            return [try legacy(repo: args[0], ref: args[1])]
        }
        guard !args.isEmpty else {
            throw PFSError.invalid("flush-commit needs a commit: repo@commit, repo/commit or \"repo commit\"")
        }
        return try args.map(flushTarget)
    }

    /// A `--head` value: a ref in `repo`, or `repo@ref` naming the same repo.
    public static func head(_ raw: String?, repo: String) throws -> String? {
        guard let raw else { return nil }
        if raw.contains("@") {
            let ref = try CommitRef.parse(raw)
            guard ref.repo == repo, ref.path == nil else {
                throw PFSError.invalid("--head must name a commit of repo \"\(repo)\" (a branch, an id, or \(repo)@ref); got \"\(Names.printable(raw))\"")
            }
            return ref.refString
        }
        return try CommitRef.parseRef(raw).refString
    }

    /// An optional ref (`--parent`), validated.
    public static func ref(_ raw: String?) throws -> String? {
        guard let raw else { return nil }
        if raw.contains("@") {
            let ref = try CommitRef.parse(raw)
            return ref.refString
        }
        return try CommitRef.parseRef(raw).refString
    }
}

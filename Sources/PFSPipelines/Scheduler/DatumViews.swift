import Foundation
import PFSCore

/// Whoever serves datum views (the filesystem): the scheduler registers a datum's inputs under a token and
/// bind-mounts `<views>/<token>/<input>` into the worker.
public protocol DatumViewRegistry: AnyObject, Sendable {
    func registerDatumView(token: String, inputs: [String: DatumInputView])
    func removeDatumView(token: String)
}

/// What one input of a datum shows at `/pfs/<input>`: the matched paths of one commit (repo paths kept),
/// their ancestors as plain directories, and nothing else.
public struct DatumInputView: Sendable, Equatable {
    public var repo: String
    public var commit: String
    /// Matched paths (components); each brings its whole subtree. Empty: an outer-join datum without this input.
    public var roots: [[String]]
    /// Show files with size 0 (names only) — `empty_files`.
    public var emptyFiles: Bool
    /// 1.x incremental views: only these files, each from a byte offset (0: the whole file). nil: everything
    /// below the roots.
    public var only: [[String]: Int64]?

    public init(repo: String, commit: String, roots: [[String]], emptyFiles: Bool = false, only: [[String]: Int64]? = nil) {
        self.repo = repo; self.commit = commit; self.roots = roots; self.emptyFiles = emptyFiles; self.only = only
    }

    public enum Place: Equatable {
        /// A directory on the way to a root.
        case ancestor
        /// At or below a root: served from the commit.
        case inside
        case hidden
    }

    public var effectiveRoots: [[String]] { only.map { Array($0.keys) } ?? roots }

    public func place(_ path: [String]) -> Place {
        if path.isEmpty { return effectiveRoots.contains([]) ? .inside : .ancestor }
        var ancestor = false
        for r in effectiveRoots {
            if path.count >= r.count, Array(path.prefix(r.count)) == r { return .inside }
            if r.count > path.count, Array(r.prefix(path.count)) == path { ancestor = true }
        }
        return ancestor ? .ancestor : .hidden
    }

    /// Names directly below an ancestor directory.
    public func childNames(_ path: [String]) -> [String] {
        var names = Set<String>()
        for r in effectiveRoots where r.count > path.count && Array(r.prefix(path.count)) == path {
            names.insert(r[path.count])
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}


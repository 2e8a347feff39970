import Foundation

/// A read-only view of one commit's files: a finished commit's tree, the live working tree of an open commit,
/// or the empty state of a branch with no commits. Cheap to make; safe to share.
public struct CommitView: Sendable {
    /// The commit viewed; nil for an empty branch.
    public let commit: CommitRow?
    let trees: TreeStore
    let root: ObjectHash?
    let tree: WorkingTree?

    public var commitID: String { commit?.id ?? "" }
    public var isOpen: Bool { tree != nil }

    /// The entry at `path` (clean-path components), or nil. `[]` is the root directory.
    public func entry(_ path: [String]) throws -> TreeEntry? {
        if let tree { return try tree.entry(path) }
        guard let root else {
            return path.isEmpty ? TreeEntry(name: "", kind: .dir, mode: TreeEntry.defaultDirMode, size: 0, mtimeNs: 0,
                                            hash: ObjectHash(w0: 0, w1: 0, w2: 0, w3: 0)) : nil
        }
        var e = try trees.lookup(root: root, components: path)
        if path.isEmpty, let f = commit?.finished { e?.mtimeNs = Int64(f.timeIntervalSince1970 * 1e9) }
        return e
    }

    /// The entries of the directory at `path`, sorted by name.
    public func list(_ path: [String]) throws -> [TreeEntry] {
        if let tree { return try tree.list(path) }
        guard let root else {
            if path.isEmpty { return [] }
            throw PFSError.notFound("/\(path.joined(separator: "/")) does not exist")
        }
        guard let e = try trees.lookup(root: root, components: path) else {
            throw PFSError.notFound("/\(path.joined(separator: "/")) does not exist in commit \(commitID)")
        }
        guard e.kind == .dir else {
            throw PFSError(.notDirectory, "/\(path.joined(separator: "/")) is a file, not a directory")
        }
        return try trees.list(e.hash)
    }

    /// The entry at `path`, or a notFound error naming the path and commit.
    public func require(_ path: [String]) throws -> TreeEntry {
        guard let e = try entry(path) else {
            let where_ = commit.map { "\($0.repo)@\($0.id)" } ?? "this branch"
            throw PFSError.notFound("/\(path.joined(separator: "/")) does not exist in \(where_)")
        }
        return e
    }

    public func info(_ e: TreeEntry, path: [String]) -> FileInfo {
        e.info(path: "/" + path.joined(separator: "/"), commit: commitID)
    }

    /// Depth-first walk of everything below `path` (not including `path` itself), in name order.
    public func walk(_ path: [String], _ body: ([String], TreeEntry) throws -> Bool) throws {
        for e in try list(path) {
            let p = path + [e.name]
            let descend = try body(p, e)
            if descend, e.kind == .dir { try walk(p, body) }
        }
    }
}

extension Store {
    /// A view of the commit `ref` names. A branch with no commits gives an empty view.
    /// With `creatingBranch`, a valid branch name that does not exist yet also gives an empty view
    /// (a write into it creates the branch).
    public func view(repo: String, ref: String, creatingBranch: Bool = false) throws -> CommitView {
        let c: CommitRow? = try meta.read { db in
            let parsed = try CommitRef.parseRef(ref)
            if parsed.ancestry == 0 {
                if let b = try MetadataStore.branch(db, repo, parsed.base) {
                    if b.head == nil { return nil }
                } else if creatingBranch, !CommitRef.looksLikeCommitID(parsed.base) {
                    // A write into a branch that does not exist yet creates it: the name must be valid.
                    _ = try requireRepo(db, repo)
                    try Names.validateBranch(parsed.base)
                    return nil
                }
            }
            return try resolve(db, repo: repo, ref: ref)
        }
        guard let c else { return CommitView(commit: nil, trees: trees, root: nil, tree: nil) }
        return view(of: c)
    }

    /// The view of a branch that had no commit (a provenance entry with an empty id): no files.
    public func emptyView() -> CommitView { CommitView(commit: nil, trees: trees, root: nil, tree: nil) }

    public func view(of c: CommitRow) -> CommitView {
        if c.state == .open, let t = openTree(c.repo, c.id) {
            return CommitView(commit: c, trees: trees, root: nil, tree: t)
        }
        return CommitView(commit: c, trees: trees, root: c.root, tree: nil)
    }

    // MARK: files

    public func listFiles(repo: String, ref: String, path: String = "/", recursive: Bool = false) throws -> [FileInfo] {
        let v = try view(repo: repo, ref: ref)
        let comps = Names.components(try Names.cleanPath(path))
        let e = try v.require(comps)
        guard e.kind == .dir else { return [v.info(e, path: comps)] }
        if !recursive { return try v.list(comps).map { v.info($0, path: comps + [$0.name]) } }
        var out: [FileInfo] = []
        try v.walk(comps) { p, e in
            out.append(v.info(e, path: p))
            return true
        }
        return out
    }

    public func inspectFile(repo: String, ref: String, path: String) throws -> FileInfo {
        let v = try view(repo: repo, ref: ref)
        let comps = Names.components(try Names.cleanPath(path))
        return v.info(try v.require(comps), path: comps)
    }

    /// Opens a file for reading: its info and chunk list.
    public func openFile(repo: String, ref: String, path: String) throws -> (FileInfo, FileContent) {
        let v = try view(repo: repo, ref: ref)
        let comps = Names.components(try Names.cleanPath(path))
        let e = try v.require(comps)
        switch e.kind {
        case .dir: throw PFSError(.isDirectory, "\(try Names.cleanPath(path)) is a directory; use `pfs list file` or `get file -r`")
        case .symlink: return (v.info(e, path: comps), FileContent(chunks: [], size: 0))
        case .file: return (v.info(e, path: comps), try trees.content(of: e))
        }
    }

    /// Reads `length` bytes at `offset` of a file's content, calling `sink` once per chunk piece — only the
    /// chunks that overlap the range are read.
    public func read(_ content: FileContent, offset: Int64 = 0, length: Int64 = .max,
                     _ sink: ([UInt8]) throws -> Void) throws {
        guard offset >= 0, length >= 0 else {
            throw PFSError.invalid("cannot read \(length) bytes at offset \(offset): both must be 0 or more")
        }
        var pos: Int64 = 0
        // `offset + length` may overflow (a caller asking for "the rest" with a huge length).
        let (sum, overflow) = offset.addingReportingOverflow(length)
        let end = overflow ? content.size : min(content.size, sum)
        for c in content.chunks {
            defer { pos += c.size }
            if pos + c.size <= offset { continue }
            if pos >= end { break }
            let from = max(offset, pos) - pos
            let to = min(end, pos + c.size) - pos
            let bytes = try objects.read(c.hash, offset: Int(from), length: Int(to - from))
            guard bytes.count == Int(to - from) else {
                throw PFSError.corrupt("chunk \(c.hash.hex) is shorter than recorded; run `pfs fsck`")
            }
            try sink(bytes)
        }
    }

    public func glob(repo: String, ref: String, pattern: String) throws -> [FileInfo] {
        let g = try Glob(pattern)
        let v = try view(repo: repo, ref: ref)
        if g.isRoot { return [v.info(try v.require([]), path: [])] }
        var out: [FileInfo] = []
        try v.walk([]) { p, e in
            if g.matches(p) { out.append(v.info(e, path: p)) }
            return g.mayMatchBelow(p)
        }
        return out
    }

    /// What changed under `path` from `old` (default: the parent of `ref`) to `ref`.
    public func diff(repo: String, ref: String, old: String? = nil, path: String = "/") throws -> [DiffEntry] {
        let newView = try view(repo: repo, ref: ref)
        let oldView: CommitView
        if let old {
            oldView = try view(repo: repo, ref: old)
        } else if let p = newView.commit?.parent, let pc = try meta.read({ try MetadataStore.commit($0, repo, p) }) {
            oldView = view(of: pc)
        } else {
            oldView = CommitView(commit: nil, trees: trees, root: nil, tree: nil)
        }
        let comps = Names.components(try Names.cleanPath(path))
        var out: [DiffEntry] = []
        try diff(comps, oldView.entry(comps), newView.entry(comps), oldView, newView, &out)
        return out
    }

    private func diff(_ path: [String], _ a: TreeEntry?, _ b: TreeEntry?, _ av: CommitView, _ bv: CommitView,
                      _ out: inout [DiffEntry]) throws {
        let zero = ObjectHash(w0: 0, w1: 0, w2: 0, w3: 0)
        switch (a, b) {
        case (nil, nil):
            return
        case (let a?, let b?) where a.kind == .dir && b.kind == .dir:
            if a.hash == b.hash && a.hash != zero { return }
            let la = try av.list(path), lb = try bv.list(path)
            var i = 0, j = 0
            while i < la.count || j < lb.count {
                if j == lb.count || (i < la.count && la[i].name.utf8Less(lb[j].name)) {
                    try diff(path + [la[i].name], la[i], nil, av, bv, &out); i += 1
                } else if i == la.count || lb[j].name.utf8Less(la[i].name) {
                    try diff(path + [lb[j].name], nil, lb[j], av, bv, &out); j += 1
                } else {
                    try diff(path + [la[i].name], la[i], lb[j], av, bv, &out); i += 1; j += 1
                }
            }
        case (let a?, let b?) where a.kind != .dir && b.kind != .dir:
            if a.hash != b.hash || a.mode != b.mode || a.kind != b.kind {
                out.append(DiffEntry(path: "/" + path.joined(separator: "/"), change: .modified,
                                     old: av.info(a, path: path), new: bv.info(b, path: path)))
            }
        default:
            if let a { try report(path, a, av, .deleted, &out) }
            if let b { try report(path, b, bv, .added, &out) }
        }
    }

    private func report(_ path: [String], _ e: TreeEntry, _ v: CommitView, _ change: DiffChange,
                        _ out: inout [DiffEntry]) throws {
        if e.kind == .dir {
            try v.walk(path) { p, sub in
                if sub.kind != .dir {
                    let info = v.info(sub, path: p)
                    out.append(DiffEntry(path: info.path, change: change, old: change == .deleted ? info : nil,
                                         new: change == .added ? info : nil))
                }
                return true
            }
            return
        }
        let info = v.info(e, path: path)
        out.append(DiffEntry(path: info.path, change: change, old: change == .deleted ? info : nil,
                             new: change == .added ? info : nil))
    }
}

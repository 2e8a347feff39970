import Foundation
import GRDB

/// One write request: a list of changes to apply to a branch or an open commit, atomically.
/// File content is chunked and stored as it streams in (outside the store's write lock); `commit()` makes
/// the objects durable, then applies every change in one step: into the branch's open commit, or into a
/// new commit that is finished at once (one request, one commit). A session that fails or is aborted
/// leaves no trace in the metadata; its objects are reclaimed by `gc`.
public final class PutSession: @unchecked Sendable {
    public let store: Store
    public let repo: String
    public let ref: String
    let batch: any ObjectBatch
    let startView: CommitView
    private var gateHeld = false
    /// The session's changes in order, kept in a temporary file rather than in memory (see `StagedOpLog`).
    let ops: StagedOpLog
    /// The paths this session already changed, each with the offset in `ops` of its last change (its state is
    /// derived from that op: see `stateAfter`), so later records see earlier ones. An offset, not the entry: a
    /// put of a million files keeps a million of these. Keyed by the paths' bytes (see `NameKey`).
    private var pending: [NameKey: Int64] = [:]
    /// Appends computed against the state at session start: path → hash of the entry they extended.
    private var appendBases: [NameKey: ObjectHash?] = [:]
    private var files = 0
    private var bytes: Int64 = 0
    private var finished = false
    /// The scheduler writing a job's output; user sessions are refused on output branches.
    let asPipeline: Bool

    init(store: Store, repo: String, ref: String, asPipeline: Bool = false) throws {
        self.store = store
        self.repo = repo
        self.ref = ref
        self.asPipeline = asPipeline
        _ = try CommitRef.parseRef(ref)
        if !asPipeline { try store.checkUserWrite(repo: repo, ref: ref) }
        self.startView = try store.view(repo: repo, ref: ref, creatingBranch: true)
        if let c = startView.commit, c.state == .finished, !(try store.isBranchRef(repo: repo, ref: ref)) {
            throw PFSError(.readOnly, "commit \(c.id) of repo \"\(repo)\" is finished and cannot change; write to a branch (\(repo)@\(c.branch ?? "master")) or an open commit")
        }
        self.batch = store.objects.makeBatch()
        self.ops = StagedOpLog(directory: store.dataDir.path)
        store.gate.enterWriter()
        gateHeld = true
    }

    deinit {
        if !finished { abort() }
    }

    /// A file being written into the session.
    public final class FileWriter {
        let path: String
        let ingester: FileIngester
        let mode: UInt32
        let mtimeNs: Int64
        var written: Int64 = 0
        init(path: String, ingester: FileIngester, mode: UInt32, mtimeNs: Int64) {
            self.path = path; self.ingester = ingester; self.mode = mode; self.mtimeNs = mtimeNs
        }
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            try ingester.write(bytes)
            written += Int64(bytes.count)
        }
        public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
    }

    /// Every ancestor of a path in `pending` (may also hold stale ones: it only decides whether to scan).
    private var pendingParents = Set<NameKey>()

    private func current(_ path: String) throws -> TreeEntry? {
        try state(path).entry
    }

    /// The entry at `path` as this session left it, and whether the session decided it: the path's own change,
    /// else the nearest changed ancestor's (below a deleted path or a file there is nothing; below a directory
    /// put by hash, its tree), else the state of the commit written into (`fromSession` false).
    private func state(_ path: String) throws -> (entry: TreeEntry?, fromSession: Bool) {
        if let i = pending[NameKey(path)] { return (try stateAfter(i), true) }
        if !pending.isEmpty {
            var above = Names.components(path)
            var below: [String] = []
            while let last = above.popLast() {
                below.insert(last, at: 0)
                guard let i = pending[NameKey("/" + above.joined(separator: "/"))] else { continue }
                guard let dir = try stateAfter(i), dir.kind == .dir, dir.hash != ObjectHash(w0: 0, w1: 0, w2: 0, w3: 0) else {
                    return (nil, true)  // deleted, a file, or a directory made empty by this session
                }
                return (try store.trees.lookup(root: dir.hash, components: below), true)
            }
        }
        return (try startView.entry(Names.components(path)), false)
    }

    /// Starts a file: `append` extends the current file (or creates it).
    public func openFile(path rawPath: String, append: Bool, mode: UInt32? = nil, mtimeNs: Int64? = nil) throws -> FileWriter {
        let path = try Names.cleanPath(rawPath)
        guard path != "/" else { throw PFSError.invalid("a file needs a path inside the commit, e.g. /data.csv") }
        var prefix: [ChunkRef] = []
        var oldMode: UInt32?
        let (old, fromSession) = try state(path)
        if let e = old {
            if e.kind == .dir {
                throw PFSError(.isDirectory, "\(path) is a directory in \(repo)@\(ref); put the file at a path inside it")
            }
            oldMode = e.mode
            if append, e.kind == .file {
                prefix = try store.trees.content(of: e).chunks
                if !fromSession { appendBases[NameKey(path)] = .some(e.hash) }
            }
        } else if append, !fromSession {
            appendBases[NameKey(path)] = .some(nil)
        }
        let ing = try FileIngester(store: store.objects, batch: batch, appendingTo: prefix)
        return FileWriter(path: path, ingester: ing, mode: (mode ?? oldMode ?? TreeEntry.defaultFileMode) & 0o7777,
                          mtimeNs: mtimeNs ?? Store.nowNs())
    }

    /// Finishes a file started with `openFile`.
    public func close(_ w: FileWriter) throws {
        let content = try w.ingester.finish()
        try store.trees.storeManifestIfNeeded(content, batch: batch)
        let name = Names.components(w.path).last!
        let entry = TreeEntry.file(name: name, content: content, mode: w.mode, mtimeNs: w.mtimeNs)
        try record(.put(path: w.path, entry: entry), path: w.path)
        files += 1
        bytes += w.written
        try stageCommitted()
    }

    /// Convenience: a whole file from memory.
    public func putFile(path: String, _ data: [UInt8], append: Bool = false, mode: UInt32? = nil, mtimeNs: Int64? = nil) throws {
        let w = try openFile(path: path, append: append, mode: mode, mtimeNs: mtimeNs)
        try w.write(data)
        try close(w)
    }

    /// Puts an entry as it is (a file by its chunks, a directory by its tree): nothing is copied.
    public func putEntry(path rawPath: String, _ entry: TreeEntry) throws {
        let path = try Names.cleanPath(rawPath)
        guard path != "/" else { throw PFSError.invalid("an entry needs a path inside the commit") }
        if entry.kind == .file, let chunks = entry.chunks {
            try store.trees.storeManifestIfNeeded(FileContent(chunks: chunks, size: entry.size), batch: batch)
        }
        let e = entry.renamed(Names.components(path).last!)
        try record(.put(path: path, entry: e), path: path)
        files += 1
        bytes += e.size
        try stageCommitted()
    }

    /// The entry at `path` as this session sees it (its own changes over the commit written into).
    public func entry(at rawPath: String) throws -> TreeEntry? {
        try current(try Names.cleanPath(rawPath))
    }

    public func delete(path rawPath: String, recursive: Bool = true) throws {
        let path = try Names.cleanPath(rawPath)
        guard try current(path) != nil else {
            throw PFSError.notFound("\(path) does not exist in \(repo)@\(ref)")
        }
        try record(.delete(path: path, recursive: recursive), path: path)
    }

    public func mkdir(path rawPath: String, mode: UInt32 = TreeEntry.defaultDirMode, mtimeNs: Int64? = nil) throws {
        let path = try Names.cleanPath(rawPath)
        let m = mtimeNs ?? Store.nowNs()
        let op = StagedOp.mkdir(path: path, mode: mode, mtimeNs: m, parents: true)
        if let e = try current(path), e.kind == .dir {
            try ops.append(op)  // already a directory: nothing changes, and what is below it stays
            return
        }
        try record(op, path: path)
    }

    public func symlink(path rawPath: String, target: String, mtimeNs: Int64? = nil) throws {
        let path = try Names.cleanPath(rawPath)
        guard !target.isEmpty, !target.utf8.contains(0) else { throw PFSError.invalid("symlink target for \(path) is empty or contains NUL") }
        let e = TreeEntry.symlink(name: Names.components(path).last ?? "", target: target, mtimeNs: mtimeNs ?? Store.nowNs())
        try record(.put(path: path, entry: e), path: path)
        files += 1
    }

    /// Copies a file or directory from any commit by reference (no data copied). `append` concatenates files.
    public func copy(srcRepo: String, srcRef: String, srcPath: String, to rawDst: String, append: Bool = false) throws {
        let src = try store.view(repo: srcRepo, ref: srcRef)
        let scomps = Names.components(try Names.cleanPath(srcPath))
        var e = try src.require(scomps)
        let dst = try Names.cleanPath(rawDst)
        guard dst != "/" || e.kind == .dir else { throw PFSError.invalid("copy a file to a path inside the commit, e.g. /name") }
        if e.kind == .dir, e.hash == ObjectHash(w0: 0, w1: 0, w2: 0, w3: 0) {
            throw PFSError.precondition("\(srcRepo)@\(srcRef):\(srcPath) is a directory changed in an open commit; finish that commit first, then copy")
        }
        if dst == "/" {
            // Copying a directory onto the root: copy each of its entries.
            for child in try src.list(scomps) {
                try copy(srcRepo: srcRepo, srcRef: srcRef, srcPath: "/" + (scomps + [child.name]).joined(separator: "/"),
                         to: "/" + child.name, append: append)
            }
            return
        }
        let name = Names.components(dst).last!
        let (existing, fromSession) = try state(dst)
        if append, e.kind == .file, let old = existing, old.kind == .file {
            let a = try store.trees.content(of: old), b = try store.trees.content(of: e)
            let content = FileContent(chunks: a.chunks + b.chunks, size: a.size + b.size)
            try store.trees.storeManifestIfNeeded(content, batch: batch)
            if !fromSession { appendBases[NameKey(dst)] = .some(old.hash) }
            e = TreeEntry.file(name: name, content: content, mode: old.mode, mtimeNs: Store.nowNs())
        } else {
            e = e.renamed(name)
        }
        try record(.put(path: dst, entry: e), path: dst)
        files += 1
        bytes += e.size
    }

    /// The entry the op at `offset` in `ops` leaves at its path (nil: deleted). Only the ops `record` indexes in
    /// `pending`.
    private func stateAfter(_ offset: Int64) throws -> TreeEntry? {
        switch try ops.op(at: offset) {
        case .put(_, let entry):
            return entry
        case .mkdir(let path, let mode, let mtimeNs, _):
            return TreeEntry(name: Names.components(path).last ?? "", kind: .dir, mode: mode & 0o7777, size: 0,
                             mtimeNs: mtimeNs, hash: ObjectHash(w0: 0, w1: 0, w2: 0, w3: 0))
        case .delete, .rename, .setAttr:
            return nil
        }
    }

    /// Bounds the memory of a put of many files: the batch remembers each staged object until it is committed, so
    /// it is committed every `Store.PutLimits.objectsPerIntermediateCommit` objects. Nothing refers to those objects until
    /// `commit()` applies the session (a crash or an abort leaves them unreferenced, for `gc`, which cannot run
    /// while the session is open: it waits for the write gate this session holds).
    private func stageCommitted() throws {
        if batch.stagedCount >= store.putLimits.objectsPerIntermediateCommit { try batch.commit() }
    }

    private func record(_ op: StagedOp, path: String) throws {
        let offset = try ops.append(op)
        // Anything below a replaced or deleted path is decided by that path now; drop stale children. Only
        // paths known to have pending children are scanned, so a put of many files stays linear.
        if path == "/" || pendingParents.contains(NameKey(path)) {
            let prefix = Array((path == "/" ? "/" : path + "/").utf8)
            for k in pending.keys where k.name.utf8.starts(with: prefix) { pending[k] = nil }
        }
        pending[NameKey(path)] = offset
        var parent = Names.components(path).dropLast()
        while !parent.isEmpty {
            guard pendingParents.insert(NameKey("/" + parent.joined(separator: "/"))).inserted else { break }
            parent = parent.dropLast()
        }
    }

    /// Makes the content durable, then applies every change atomically. Returns what was written where.
    @discardableResult
    public func commit(description: String = "") throws -> PutResult {
        precondition(!finished, "PutSession committed twice")
        defer {
            finished = true
            releaseGate()
        }
        do {
            try batch.commit()
        } catch {
            batch.abort()
            throw error
        }
        let (commit, finishedNow) = try store.apply(self, description: description)
        return PutResult(commit: commit, finished: finishedNow, files: files, bytes: bytes, newBytes: batch.newBytes)
    }

    public func abort() {
        guard !finished else { return }
        finished = true
        batch.abort()
        releaseGate()
    }

    private func releaseGate() {
        if gateHeld {
            gateHeld = false
            store.gate.leaveWriter()
        }
    }

    /// Every op, in memory (to apply them to an open commit as one batch).
    func stagedOps() throws -> [StagedOp] { try ops.all() }
    var appendChecks: [(path: String, expected: ObjectHash?)] { appendBases.map { ($0.key.name, $0.value) } }
}

extension Store {
    /// Starts a write into `ref` of `repo`: a branch (joined if it has an open commit, else a new commit is
    /// made and finished), or an open commit id. Output branches (with provenance) and the commits jobs make are
    /// refused unless `asPipeline` (the scheduler writing a job's output).
    public func beginPut(repo: String, ref: String, asPipeline: Bool = false) throws -> PutSession {
        try Names.validateRepo(repo)
        return try PutSession(store: self, repo: repo, ref: ref, asPipeline: asPipeline)
    }

    func isBranchRef(repo: String, ref: String) throws -> Bool {
        let parsed = try CommitRef.parseRef(ref)
        guard parsed.ancestry == 0 else { return false }
        return try meta.read { try MetadataStore.branch($0, repo, parsed.base) } != nil
    }

    /// Applies a session's changes under the write lock. Returns the commit id and whether it was finished.
    func apply(_ s: PutSession, description: String) throws -> (String, Bool) {
        let result: (String, Bool) = try locked {
            enum Target { case join(CommitRow), auto(branch: String, parent: CommitRow?) }
            let target: Target = try meta.read { db in
                _ = try requireRepo(db, s.repo)
                let parsed = try CommitRef.parseRef(s.ref)
                if parsed.ancestry == 0, let b = try MetadataStore.branch(db, s.repo, parsed.base) {
                    if !s.asPipeline { try refuseUserWrite(db, repo: s.repo, branch: b.name, commit: nil) }
                    if let h = b.head, let head = try MetadataStore.commit(db, s.repo, h) {
                        return head.state == .open ? .join(head) : .auto(branch: b.name, parent: head)
                    }
                    return .auto(branch: b.name, parent: nil)
                }
                if parsed.ancestry == 0, !CommitRef.looksLikeCommitID(parsed.base) {
                    try Names.validateBranch(parsed.base)
                    return .auto(branch: parsed.base, parent: nil)  // a put creates the branch, as in Pachyderm
                }
                let c = try resolve(db, repo: s.repo, ref: s.ref)
                if !s.asPipeline { try refuseUserWrite(db, repo: s.repo, branch: nil, commit: c) }
                guard c.state == .open else {
                    throw PFSError(.readOnly, "commit \(c.id) of repo \"\(s.repo)\" is finished and cannot change; write to a branch or an open commit")
                }
                return .join(c)
            }
            switch target {
            case .join(let c):
                guard let tree = openTree(c.repo, c.id) else {
                    throw PFSError(.internal, "open commit \(c.id) has no working tree; restart the daemon to restore it")
                }
                try checkAppends(s, against: tree.entry)
                // All or nothing, and invisible to readers until complete: if an op is refused or the log cannot
                // be written, the working tree is put back as it was.
                let now = Self.nowNs()
                let ops = try s.stagedOps()
                try tree.apply(ops, now: now) {
                    // A job's output (asPipeline) is not logged: after a crash the resumed job rebuilds its output
                    // commit from the parent and its datums' recorded outputs, so the log would only cost time.
                    if s.asPipeline && c.origin == .auto { return }
                    try meta.write { db in try MetadataStore.appendStagedOps(db, c.repo, c.id, ops, nowNs: now) }
                }
                return (c.id, false)
            case .auto(let branch, let parent):
                let written = try writeAutoCommitTree(s, parent: parent)
                let id = CommitID.generate()
                try meta.write { db in
                    let date = Date()
                    let row = CommitRow(id: id, repo: s.repo, branch: branch, parent: parent?.id, root: written.root,
                                        state: .finished, origin: .user, description: description, started: date,
                                        finished: date, size: written.size, commitSet: id, provenance: [],
                                        seq: try MetadataStore.nextSeq(db))
                    try MetadataStore.insertCommitAsHead(db, row)
                    try propagate(db, from: row)
                }
                return (id, true)
            }
        }
        if result.1 { finishEvents.notifyAll() }
        return result
    }

    /// The tree of a commit made from a session: the parent's tree with the session's ops, written and durable.
    /// Memory stays bounded for a session of any size: the tree nobody else sees yet is applied without undo
    /// (it is thrown away if this throws) and, every `PutLimits.opsPerTreeCheckpoint` ops, its changed directories are
    /// written and committed and become its base again (`WorkingTree.checkpoint`), so it never holds more than that
    /// many changes. Those intermediate trees are referenced by nothing until the commit row is written (a crash
    /// leaves them for `gc`); a directory changed across several checkpoints is rewritten at each (its older
    /// versions are garbage, reclaimed by `gc`).
    func writeAutoCommitTree(_ s: PutSession, parent: CommitRow?) throws -> (root: ObjectHash, size: Int64) {
        let tree = try WorkingTree(trees: trees, baseRoot: parent?.root)
        try checkAppends(s, against: tree.entry)
        let now = Self.nowNs()
        return try withBatch { batch in
            var applied = 0
            try s.ops.forEachGroup(of: putLimits.opsPerTreeCheckpoint) { group in
                if applied > 0 {
                    try tree.checkpoint(batch: batch)
                    try batch.commit()  // later reads of the checkpointed directories go to the store
                }
                try tree.apply(group[...], now: now, undoable: false)
                applied += group.count
            }
            return try tree.write(batch: batch)
        }
    }

    private func checkAppends(_ s: PutSession, against lookup: ([String]) throws -> TreeEntry?) throws {
        for (path, expected) in s.appendChecks {
            let now = try lookup(Names.components(path))
            if now?.hash != expected {
                throw PFSError.precondition("\(path) in \(s.repo)@\(s.ref) changed while this append was being uploaded; retry the append")
            }
        }
    }

    /// Rebuilds an open commit's working tree from its persisted op log. Not needed after a failed write (a
    /// batch of ops applies all or nothing); kept for recovery of a working tree in an unknown state.
    func rebuildOpenTree(_ c: CommitRow) throws {
        let tree = try WorkingTree(trees: trees, baseRoot: try parentRoot(of: c))
        try replayStagedOps(of: c, into: tree)
        openTrees.withLock { $0[Self.openKey(c.repo, c.id)] = tree }
    }
}

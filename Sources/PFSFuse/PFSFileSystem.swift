import Foundation
import Logging
import CFuse3
import PFSCore
import PFSPipelines
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The filesystem logic, independent of libfuse: the adapter translates kernel requests into these calls
/// and their results into replies, so tests can drive it without a kernel.
///
/// Namespace: `/<repo>/<branch>/…` (writable live view), `/<repo>/<commit-id or prefix ≥ 8 hex | branch^ |
/// branch~N>/…` (read-only), `/<repo>/.commits/<id>/…` (read-only, listed newest first).
///
/// Lock order: `lock` (handles, open files, activity) → an `OpenFile`'s lock → the store's locks →
/// the inode table's lock (a leaf). The store never calls back into the filesystem.
public final class PFSFileSystem: @unchecked Sendable {
    public struct Options: Sendable {
        /// How long a branch must be quiet (no open handle, no change) before its open commit is finished.
        public var settle: Duration = .milliseconds(500)
        /// Owner reported for every file (default: the daemon's user).
        public var uid: UInt32 = getuid()
        public var gid: UInt32 = getgid()
        /// Entry/attribute cache time for finished commits, which never change.
        public var immutableTimeout: Double = 3600
        /// Entry/attribute cache time for branch heads and the directories of repos (changes are also pushed
        /// to the kernel as invalidations).
        public var liveTimeout: Double = 1
        /// Serve only datum views (the scheduler's private mount): the root lists view tokens.
        public var viewsOnly = false
        public init() {}
    }

    public struct Attr: Sendable, Equatable {
        public var ino: UInt64
        /// Type bits and permissions (`S_IFDIR | 0o755`, …).
        public var mode: UInt32
        public var size: Int64
        public var mtimeNs: Int64
        public var nlink: UInt32
        /// The ctime when it differs from the mtime (chmod, rename, utimens); nil: the mtime.
        public var ctimeNs: Int64? = nil
    }

    public struct Entry: Sendable {
        public var attr: Attr
        public var timeout: Double
    }

    public struct DirEntry: Sendable {
        public var name: String
        public var key: NodeKey
        public var attr: Attr?
    }

    public struct Opened: Sendable {
        public var fh: UInt64
        public var keepCache: Bool
        public var directIO: Bool
        /// close() needs no FLUSH request (read-only content: nothing to store), saving a round trip per close.
        public var noFlush = false
    }

    enum Handle {
        case file(OpenFile, writable: Bool)
        /// Immutable content, served from byte `from` on (1.x DIFF views show a file's new tail).
        case content(ChunkReader, from: Int64)
        /// A control-tree file generated at open.
        case generated([UInt8])
        /// A pipeline spec being written into the control tree.
        case spec(SpecBuffer)
        case dir(NodeKey, [DirEntry])
    }

    final class Activity {
        var handles = 0
        var generation = 0
        /// Open commits this mount opened (only those are finished by the settle rule; a commit started
        /// with `pfs start commit` is joined and left for its owner to finish).
        var commits: Set<String> = []
    }

    public let store: Store
    public let options: Options
    let inodes = InodeTable()
    let logger: Logger
    let spoolDir: String
    private let lock = NSLock()
    private var handles: [UInt64: Handle] = [:]
    private var nextFH: UInt64 = 1
    private var openFiles: [NodeKey: OpenFile] = [:]
    private var activity: [String: Activity] = [:]
    private var branchViews: [String: (counter: UInt64, view: CommitView)] = [:]
    private var commitViews: [String: CommitView] = [:]
    private var lastOpenedHash: [UInt64: ObjectHash] = [:]
    private var datumViews: [String: [String: DatumInputView]] = [:]
    /// Pipelines, for the control tree `/.pfs` (nil: no control tree).
    public var pipelines: PipelineManager?
    let specErrors = Mutex<[String: String]>([:])

    func withDatumViews<T>(_ body: (inout [String: [String: DatumInputView]]) -> T) -> T {
        lock.withLock { body(&datumViews) }
    }
    /// Set by the adapter: tells the kernel to drop cached data of an inode / a name in a directory.
    public var invalidateInode: (@Sendable (UInt64) -> Void)?
    public var invalidateEntry: (@Sendable (UInt64, String) -> Void)?

    private let watchQueue = DispatchQueue(label: "pfs.fuse.watch")
    private var watchPending = false
    private var seenHeads: [String: String] = [:]

    public init(store: Store, options: Options = Options(), logger: Logger = Logger(label: "pfs.fuse")) throws {
        self.store = store
        self.options = options
        self.logger = logger
        spoolDir = store.dataDir.appendingPathComponent("spool").path
        try? FileManager.default.createDirectory(atPath: spoolDir, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        store.addChangeObserver { [weak self] in self?.storeChanged() }
    }

    /// Something changed in the store (maybe through the CLI or API): when a branch the kernel has cached
    /// moved to a commit this mount did not write, drop the kernel's entries and pages for that branch so
    /// `pfs put file` shows up in the mount at once. Runs on its own queue: invalidating from inside a
    /// request handler can deadlock the kernel.
    private func storeChanged() {
        let schedule = lock.withLock { () -> Bool in
            if watchPending { return false }
            watchPending = true
            return true
        }
        guard schedule else { return }
        watchQueue.async { [weak self] in
            guard let self else { return }
            self.lock.withLock { self.watchPending = false }
            self.checkBranches()
        }
    }

    private func checkBranches() {
        guard invalidateInode != nil else { return }
        // One head query per branch the kernel knows about; the (possibly many) inodes of a branch are only
        // gathered when its head moved elsewhere. (Scanning every inode on every change made `cp -r` quadratic.)
        for ref in inodes.knownBranches() {
            let branchKey = "\(ref.repo)/\(ref.branch)"
            // A cached view that is still current names the head without a query (the common case while
            // the mount itself writes: see `mutated`).
            let counter = store.changeCounter
            let head: String
            if let c = lock.withLock({ branchViews[branchKey] }), c.counter == counter {
                head = c.view.commit?.id ?? ""
            } else {
                head = (try? store.branchHead(repo: ref.repo, branch: ref.branch))?.id ?? ""
            }
            let (previous, ours) = lock.withLock { () -> (String?, Bool) in
                let p = seenHeads[branchKey]
                seenHeads[branchKey] = head
                return (p, activity[branchKey]?.commits.contains(head) ?? false)
            }
            guard let previous, previous != head, !ours else { continue }
            lock.withLock { branchViews[branchKey] = nil }
            for (ino, key) in inodes.inodes(repo: ref.repo, branch: ref.branch) {
                invalidateInode?(ino)
                if case .branch(let r, let b, let p) = key, let name = p.last,
                   let parent = inodes.existingIno(.branch(repo: r, branch: b, path: Array(p.dropLast()))) {
                    invalidateEntry?(parent, name)
                }
            }
        }
    }

    // MARK: views

    private func branchView(_ repo: String, _ branch: String) throws -> CommitView {
        let counter = store.changeCounter
        let k = "\(repo)/\(branch)"
        if let c = lock.withLock({ branchViews[k] }), c.counter == counter { return c.view }
        let v = try store.view(repo: repo, ref: branch)
        lock.withLock {
            branchViews[k] = (counter, v)
            if seenHeads[k] == nil { seenHeads[k] = v.commit?.id ?? "" }
        }
        return v
    }

    private func commitView(_ repo: String, _ id: String) throws -> CommitView {
        let key = "\(repo)@\(id)"
        if let v = lock.withLock({ commitViews[key] }) { return v }
        let v = try store.view(repo: repo, ref: id)
        if !v.isOpen {
            lock.withLock {
                if commitViews.count > 1024 { commitViews.removeAll() }
                commitViews[key] = v
            }
        }
        return v
    }

    private func view(_ key: NodeKey) throws -> (CommitView, [String], Bool)? {
        switch key {
        case .branch(let r, let b, let p): return (try branchView(r, b), p, true)
        case .commit(let r, let c, let p): return (try commitView(r, c), p, false)
        default: return nil
        }
    }

    private func isBranch(_ repo: String, _ name: String) -> Bool {
        (try? store.inspectBranch(repo: repo, name: name)) != nil
    }

    // MARK: attributes

    private func dirAttr(_ ino: UInt64, mode: UInt32 = 0o755, mtimeNs: Int64 = 0) -> Attr {
        Attr(ino: ino, mode: FileMode.ifdir | mode, size: 4096, mtimeNs: mtimeNs, nlink: 2)
    }

    private func attr(_ ino: UInt64, _ e: TreeEntry, writable: Bool) -> Attr {
        var perm = e.mode & 0o7777
        if !writable { perm &= ~0o222 }
        switch e.kind {
        case .dir: return Attr(ino: ino, mode: FileMode.ifdir | perm, size: max(e.size, 0), mtimeNs: e.mtimeNs, nlink: 2, ctimeNs: e.ctimeNs)
        case .file: return Attr(ino: ino, mode: FileMode.ifreg | perm, size: e.size, mtimeNs: e.mtimeNs, nlink: 1, ctimeNs: e.ctimeNs)
        case .symlink: return Attr(ino: ino, mode: FileMode.iflnk | 0o777, size: e.size, mtimeNs: e.mtimeNs, nlink: 1, ctimeNs: e.ctimeNs)
        }
    }

    private func timeout(_ key: NodeKey) -> Double {
        if case .datum = key { return options.immutableTimeout }
        if case .datumRoot = key { return options.immutableTimeout }
        if case .commit(let r, let c, _) = key, let v = try? commitView(r, c), !v.isOpen { return options.immutableTimeout }
        return options.liveTimeout
    }

    /// The attributes of `key` (with inode `ino`).
    func attributes(_ key: NodeKey, ino: UInt64) throws -> Attr {
        switch key {
        case .root:
            return dirAttr(ino)
        case .control(let p):
            return try controlAttr(ino, p)
        case .datumRoot(let t):
            _ = try datumInputs(t)
            return dirAttr(ino, mode: 0o555)
        case .datum(let t, let i, let p):
            guard let e = try datumEntry(try datumInput(t, i), p) else { throw FSError.notFound }
            return p.isEmpty ? dirAttr(ino, mode: 0o555) : attr(ino, e, writable: false)
        case .repo(let r):
            guard (try? store.inspectRepo(r)) != nil else { throw FSError.notFound }
            return dirAttr(ino)
        case .commitsDir(let r):
            guard (try? store.inspectRepo(r)) != nil else { throw FSError.notFound }
            return dirAttr(ino, mode: 0o555)
        case .branch, .commit:
            if let f = lock.withLock({ openFiles[key] }) {
                return f.lock.withLock {
                    Attr(ino: ino, mode: FileMode.ifreg | f.mode, size: f.size, mtimeNs: f.mtimeNs, nlink: 1, ctimeNs: f.ctimeNs)
                }
            }
            guard let (v, path, writable) = try view(key) else { throw FSError.notFound }
            guard let e = try v.entry(path) else { throw FSError.notFound }
            if path.isEmpty {
                let mt = v.commit?.finished.map { Int64($0.timeIntervalSince1970 * 1e9) } ?? e.mtimeNs
                return dirAttr(ino, mode: writable ? 0o755 : 0o555, mtimeNs: mt)
            }
            return attr(ino, e, writable: writable && !v.isOpenReadOnly(key))
        }
    }

    // MARK: lookup

    private func childKey(_ parent: NodeKey, _ name: String) throws -> NodeKey {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else { throw FSError(EINVAL) }
        switch parent {
        case .root where options.viewsOnly:
            _ = try datumInputs(name)
            return .datumRoot(name)
        case .root where name == Self.controlName && pipelines != nil:
            return .control([])
        case .control(let p):
            return .control(p + [name])
        case .datumRoot(let t):
            _ = try datumInput(t, name)
            return .datum(token: t, input: name, path: [])
        case .datum:
            return parent.child(name)!
        case .root:
            guard (try? Names.validateRepo(name)) != nil, (try? store.inspectRepo(name)) != nil else { throw FSError.notFound }
            return .repo(name)
        case .repo(let r):
            if name == ".commits" { return .commitsDir(r) }
            if (try? Names.validateBranch(name)) != nil, isBranch(r, name) { return .branch(repo: r, branch: name, path: []) }
            guard let c = try? store.resolveCommit(repo: r, ref: name) else { throw FSError.notFound }
            return .commit(repo: r, id: c.id, path: [])
        case .commitsDir(let r):
            guard name.utf8.count == 32, let c = try? store.resolveCommit(repo: r, ref: name), c.id == name else {
                throw FSError.notFound
            }
            return .commit(repo: r, id: c.id, path: [])
        case .branch, .commit:
            guard let k = parent.child(name) else { throw FSError.notFound }
            return k
        }
    }

    private func key(_ ino: UInt64) throws -> NodeKey {
        guard let k = inodes.key(ino) else { throw FSError(ESTALE, "inode \(ino) is not known") }
        return k
    }

    /// Looks `name` up in directory `parent`; counts one kernel lookup of the result.
    public func lookup(parent: UInt64, name: String) throws -> Entry {
        let pk = try key(parent)
        let k = try childKey(pk, name)
        let ino = inodes.ino(for: k, count: false)
        let a: Attr
        do { a = try attributes(k, ino: ino) } catch {
            inodes.forget(ino, 0)
            throw error
        }
        _ = inodes.ino(for: k, count: true)
        return Entry(attr: a, timeout: timeout(k))
    }

    public func forget(_ ino: UInt64, _ n: UInt64) { inodes.forget(ino, n) }

    public func getattr(_ ino: UInt64) throws -> Entry {
        let k = try key(ino)
        if let node = inodes.inode(ino), node.orphan {
            if let f = openFile(ofIno: ino) {
                return f.lock.withLock { Entry(attr: Attr(ino: ino, mode: FileMode.ifreg | f.mode, size: f.size, mtimeNs: f.mtimeNs, nlink: 0, ctimeNs: f.ctimeNs), timeout: 0) }
            }
            throw FSError.notFound
        }
        return Entry(attr: try attributes(k, ino: ino), timeout: timeout(k))
    }

    private func openFile(ofIno ino: UInt64) -> OpenFile? {
        lock.withLock {
            for h in handles.values { if case .file(let f, _) = h, inodes.existingIno(f.key) == nil || inodes.existingIno(f.key) == ino { return f } }
            return nil
        }
    }

    // MARK: directories

    public func opendir(_ ino: UInt64) throws -> UInt64 {
        let k = try key(ino)
        let entries = try list(k)
        return lock.withLock {
            let fh = nextFH
            nextFH += 1
            handles[fh] = .dir(k, entries)
            if case .branch(let r, let b, _) = k { activityLocked(r, b).handles += 1 }
            return fh
        }
    }

    /// Whether the kernel may cache the listing of directory `ino` across opens: true for directories of
    /// finished commits, which never change.
    public func directoryIsImmutable(_ ino: UInt64) -> Bool {
        switch inodes.key(ino) {
        case .commit(let r, let c, _)?:
            guard let v = try? commitView(r, c) else { return false }
            return !v.isOpen && v.commit?.state == .finished
        default:
            return false
        }
    }

    /// The snapshot of a directory taken at opendir.
    public func readdir(_ fh: UInt64) throws -> [DirEntry] {
        guard case .dir(_, let entries) = lock.withLock({ handles[fh] }) else { throw FSError(EBADF) }
        return entries
    }

    public func releasedir(_ fh: UInt64) {
        let h = lock.withLock { handles.removeValue(forKey: fh) }
        if case .dir(.branch(let r, let b, _), _) = h { released(r, b) }
    }

    private func list(_ k: NodeKey) throws -> [DirEntry] {
        do {
            switch k {
            case .root where options.viewsOnly:
                return withDatumViews { $0.keys.sorted().map { DirEntry(name: $0, key: .datumRoot($0), attr: nil) } }
            case .datumRoot(let t):
                return try datumInputs(t).keys.sorted().map { DirEntry(name: $0, key: .datum(token: t, input: $0, path: []), attr: nil) }
            case .datum(let t, let i, let p):
                return try datumList(try datumInput(t, i), p).map {
                    DirEntry(name: $0.name, key: k.child($0.name)!, attr: attr(0, $0, writable: false))
                }
            case .control(let p):
                return try controlList(p)
            case .root:
                let repos = try store.listRepos().map { DirEntry(name: $0.name, key: .repo($0.name), attr: nil) }
                return (pipelines == nil ? [] : [DirEntry(name: Self.controlName, key: .control([]), attr: nil)]) + repos
            case .repo(let r):
                let branches = try store.listBranches(repo: r).map {
                    DirEntry(name: $0.name, key: .branch(repo: r, branch: $0.name, path: []), attr: nil)
                }
                return [DirEntry(name: ".commits", key: .commitsDir(r), attr: nil)] + branches
            case .commitsDir(let r):
                return try store.commitRows(repo: r).map {
                    DirEntry(name: $0.id, key: .commit(repo: r, id: $0.id, path: []), attr: nil)
                }
            case .branch, .commit:
                guard let (v, path, writable) = try view(k) else { throw FSError.notFound }
                let entries = try v.list(path)
                var out: [DirEntry] = []
                out.reserveCapacity(entries.count)
                for e in entries {
                    let ck = k.child(e.name)!
                    out.append(DirEntry(name: e.name, key: ck, attr: attr(0, e, writable: writable)))
                }
                return out
            }
        } catch { throw FSError(error) }
    }

    /// Attributes for a readdirplus entry, counting a lookup.
    public func lookupForReaddir(_ e: DirEntry) throws -> Entry {
        let ino = inodes.ino(for: e.key, count: true)
        var a: Attr
        if let pre = e.attr, lock.withLock({ openFiles[e.key] }) == nil {
            a = pre
            a.ino = ino
        } else {
            do { a = try attributes(e.key, ino: ino) } catch {
                inodes.forget(ino, 1)
                throw error
            }
        }
        return Entry(attr: a, timeout: timeout(e.key))
    }

    // MARK: changes

    private func branchPath(_ k: NodeKey) throws -> (String, String, [String]) {
        switch k {
        case .branch(let r, let b, let p): return (r, b, p)
        case .commit: throw FSError(EROFS, "commits are read-only; write under a branch")
        case .commitsDir, .datum, .datumRoot: throw FSError(EROFS)
        default: throw FSError(EPERM)
        }
    }

    private func pathString(_ p: [String]) -> String { "/" + p.joined(separator: "/") }

    private func stage(_ r: String, _ b: String, _ ops: [StagedOp]) throws {
        do {
            let res = try store.stage(repo: r, branch: b, ops: ops)
            mutated(r, b, res)
        } catch { throw FSError(error) }
    }

    public func mkdir(parent: UInt64, name: String, mode: UInt32) throws -> Entry {
        let pk = try key(parent)
        switch pk {
        case .root:
            do {
                try store.createRepo(name)
                try store.createBranch(repo: name, name: "master")
            } catch { throw FSError(error) }
        case .repo(let r):
            do {
                let head = try store.branchHead(repo: r, branch: "master")
                try store.createBranch(repo: r, name: name, head: head?.state == .finished ? head?.id : head?.parent)
            } catch { throw FSError(error) }
        default:
            let (r, b, p) = try branchPath(pk)
            guard (try? Names.cleanPath(name)) != nil else { throw FSError(EINVAL) }
            try stage(r, b, [.mkdir(path: pathString(p + [name]), mode: mode & 0o7777, mtimeNs: Store.nowNs(), parents: false)])
        }
        return try lookup(parent: parent, name: name)
    }

    public func rmdir(parent: UInt64, name: String) throws {
        let pk = try key(parent)
        switch pk {
        case .root:
            let commits = (try? store.commitRows(repo: name)) ?? []
            if commits.contains(where: { $0.state == .finished }) {
                throw FSError(ENOTEMPTY, "repo \(name) has commits; delete it with `pfs delete repo \(name)`")
            }
            do { try store.deleteRepo(name) } catch { throw FSError(error) }
            inodes.orphan(.repo(name))
        case .repo(let r):
            guard isBranch(r, name) else { throw FSError.notFound }
            if let head = try? store.branchHead(repo: r, branch: name), head.state == .open || (try? branchView(r, name).list([]).isEmpty) == false {
                throw FSError(ENOTEMPTY)
            }
            do { try store.deleteBranch(repo: r, name: name) } catch { throw FSError(error) }
            inodes.orphan(.branch(repo: r, branch: name, path: []))
        default:
            let (r, b, p) = try branchPath(pk)
            let k = NodeKey.branch(repo: r, branch: b, path: p + [name])
            guard let e = try? branchView(r, b).entry(p + [name]) else { throw FSError.notFound }
            guard e.kind == .dir else { throw FSError(ENOTDIR) }
            try stage(r, b, [.delete(path: pathString(p + [name]), recursive: false)])
            inodes.orphan(k)
        }
    }

    public func unlink(parent: UInt64, name: String) throws {
        if case .control(["pipelines"]) = try key(parent) {
            guard case .spec(let base, _, true) = try controlNode(["pipelines", name]) else {
                if name.hasSuffix(".error") { specErrors.withLock { $0[String(name.dropLast(6))] = nil }; return }
                throw FSError.notFound
            }
            try deleteSpec(name: base)
            inodes.orphan(.control(["pipelines", name]))
            return
        }
        let (r, b, p) = try branchPath(try key(parent))
        let k = NodeKey.branch(repo: r, branch: b, path: p + [name])
        let open = lock.withLock { openFiles[k] }
        let exists = (try? branchView(r, b).entry(p + [name])) != nil
        guard exists || open != nil else { throw FSError.notFound }
        if let e = try? branchView(r, b).entry(p + [name]), e.kind == .dir { throw FSError(EISDIR) }
        if exists { try stage(r, b, [.delete(path: pathString(p + [name]), recursive: false)]) }
        if let open {
            open.lock.withLock { open.unlinked = true }
            lock.withLock { openFiles[k] = nil }
        }
        inodes.orphan(k)
    }

    public func symlink(target: String, parent: UInt64, name: String) throws -> Entry {
        let (r, b, p) = try branchPath(try key(parent))
        let path = pathString(p + [name])
        if (try? branchView(r, b).entry(p + [name])) ?? nil != nil { throw FSError(EEXIST) }
        try stage(r, b, [.put(path: path, entry: .symlink(name: name, target: target, mtimeNs: Store.nowNs()))])
        return try lookup(parent: parent, name: name)
    }

    public func readlink(_ ino: UInt64) throws -> String {
        let k = try key(ino)
        guard let (v, path, _) = try view(k), let e = try v.entry(path), e.kind == .symlink else { throw FSError(EINVAL) }
        return e.target ?? ""
    }

    public func rename(parent: UInt64, name: String, newParent: UInt64, newName: String, flags: UInt32) throws {
        let pk = try key(parent), nk = try key(newParent)
        let (r, b, p) = try branchPath(pk)
        guard case .branch(let r2, let b2, let p2) = nk else {
            if case .commit = nk { throw FSError(EROFS) }
            throw FSError(EXDEV)
        }
        guard r == r2, b == b2 else { throw FSError(EXDEV, "rename across branches or repos; mv copies instead") }
        let from = NodeKey.branch(repo: r, branch: b, path: p + [name])
        let to = NodeKey.branch(repo: r, branch: b, path: p2 + [newName])
        let view = try branchView(r, b)
        let exists = try? view.entry(p2 + [newName])
        if flags & pfs_rename_noreplace() != 0, exists ?? nil != nil { throw FSError(EEXIST) }
        if flags & pfs_rename_exchange() != 0 { throw FSError(EINVAL, "RENAME_EXCHANGE is not supported") }
        // Data still being written under the old name is stored first, so the rename moves complete content.
        if let f = lock.withLock({ openFiles[from] }) {
            do { if let res = try f.flush(repo: r, branch: b) { mutated(r, b, res) } } catch { throw FSError(error) }
        }
        try stage(r, b, [.rename(from: pathString(p + [name]), to: pathString(p2 + [newName]))])
        lock.withLock {
            if let displaced = openFiles.removeValue(forKey: to) { displaced.lock.withLock { displaced.unlinked = true } }
            var moved: [(NodeKey, OpenFile)] = []
            for (k, f) in openFiles {
                if case .branch(let kr, let kb, let kp) = k, kr == r, kb == b, kp.count >= p.count + 1,
                   Array(kp.prefix(p.count + 1)) == p + [name] {
                    moved.append((k, f))
                }
            }
            for (k, f) in moved {
                guard case .branch(_, _, let kp) = k else { continue }
                let nk = NodeKey.branch(repo: r, branch: b, path: p2 + [newName] + kp.dropFirst(p.count + 1))
                openFiles[k] = nil
                openFiles[nk] = f
                let renamedItself = kp.count == p.count + 1
                f.lock.withLock {
                    f.key = nk
                    if renamedItself { f.ctimeNs = Store.nowNs() }
                }
            }
        }
        inodes.move(from: from, to: to)
    }

    /// chmod, truncate, utimens (`cp -p`). Owner changes are refused (EPERM).
    public func setattr(_ ino: UInt64, mode: UInt32?, size: Int64?, atimeNs: Int64?, mtimeNs: Int64?,
                        uid: UInt32?, gid: UInt32?, fh: UInt64?) throws -> Entry {
        let k = try key(ino)
        if let uid, uid != options.uid { throw FSError(EPERM, "files in pfs belong to the mount's owner") }
        if let gid, gid != options.gid { throw FSError(EPERM, "files in pfs belong to the mount's group") }
        if case .root = k { if mode != nil || size != nil { throw FSError(EPERM) }; return try getattr(ino) }
        if case .control(let p) = k {
            // Truncating a spec being written (shell `>`) empties its buffer; nothing else changes here.
            if size == 0, let fh, case .spec(let b) = lock.withLock({ handles[fh] }) {
                lock.withLock { b.data = []; b.dirty = true }
            } else if mode != nil || (size != nil && p.first != "pipelines") {
                throw FSError.readOnly
            }
            return try getattr(ino)
        }
        if case .repo = k { return try getattr(ino) }
        let (r, b, p) = try branchPath(k)
        if let size {
            let f = try openForWrite(k, r, b, p)
            defer { release(file: f, r, b) }
            do {
                try f.truncate(size)
                if let mtimeNs { f.lock.withLock { f.mtimeNs = mtimeNs; f.ctimeNs = Store.nowNs() } }
                if let res = try f.flush(repo: r, branch: b) { mutated(r, b, res) }
            } catch { throw FSError(error) }
        }
        if mode != nil || mtimeNs != nil {
            if let f = lock.withLock({ openFiles[k] }) {
                f.lock.withLock {
                    if let mode { f.mode = mode & 0o7777 }
                    if let mtimeNs { f.mtimeNs = mtimeNs }
                    // What the next flush stores (the staged setAttr below records the same change).
                    f.ctimeNs = Store.nowNs()
                }
            }
            try stage(r, b, [.setAttr(path: pathString(p), mode: mode.map { $0 & 0o7777 }, mtimeNs: mtimeNs)])
        }
        _ = atimeNs
        return try getattr(ino)
    }

    // MARK: files

    private func openForWrite(_ k: NodeKey, _ r: String, _ b: String, _ p: [String]) throws -> OpenFile {
        if let f = lock.withLock({ () -> OpenFile? in
            if let f = openFiles[k] { f.handles += 1; activityLocked(r, b).handles += 1; return f }
            return nil
        }) { return f }
        // A pipeline's output branch is written by its jobs only (the write would join a job's open commit).
        do { try store.checkUserWrite(repo: r, ref: b) } catch { throw FSError(error) }
        let view = try branchView(r, b)
        guard let e = try view.entry(p) else { throw FSError.notFound }
        guard e.kind == .file else { throw FSError(e.kind == .dir ? EISDIR : EINVAL) }
        let content = try store.trees.content(of: e)
        let f = OpenFile(key: k, base: content, mode: e.mode, mtimeNs: e.mtimeNs, ctimeNs: e.ctimeNs, store: store, spoolDir: spoolDir)
        return lock.withLock {
            if let existing = openFiles[k] { existing.handles += 1; activityLocked(r, b).handles += 1; return existing }
            f.handles = 1
            openFiles[k] = f
            activityLocked(r, b).handles += 1
            return f
        }
    }

    private func release(file f: OpenFile, _ r: String, _ b: String) {
        let discarded = lock.withLock { () -> Bool in
            f.handles -= 1
            guard f.handles == 0, openFiles[f.key] === f else { return false }
            openFiles[f.key] = nil
            return f.lock.withLock { f.dirty && !f.unlinked }
        }
        if discarded {
            logger.warning("discarded writes that could not be stored (the writer's close() reported the error)",
                           metadata: ["repo": "\(r)", "branch": "\(b)", "file": "\(f.key)"])
            f.discardUnstored()
            // The kernel still caches the size the writes reached.
            if let ino = inodes.existingIno(f.key) { invalidateInode?(ino) }
        }
        released(r, b)
    }

    public func open(_ ino: UInt64, flags: Int32) throws -> Opened {
        let k = try key(ino)
        let accmode = flags & O_ACCMODE
        let writing = accmode == O_WRONLY || accmode == O_RDWR || flags & O_TRUNC != 0
        switch k {
        case .branch(let r, let b, let p):
            if writing {
                let f = try openForWrite(k, r, b, p)
                if flags & O_TRUNC != 0 {
                    do { try f.truncate(0) } catch { release(file: f, r, b); throw FSError(error) }
                }
                return lock.withLock { registerLocked(.file(f, writable: true), keepCache: false) }
            }
            if let f = lock.withLock({ () -> OpenFile? in
                if let f = openFiles[k] { f.handles += 1; activityLocked(r, b).handles += 1; return f }
                return nil
            }) {
                return lock.withLock { registerLocked(.file(f, writable: false), keepCache: false) }
            }
            return try openContent(k, ino)
        case .commit:
            if writing { throw FSError.readOnly }
            return try openContent(k, ino)
        case .control(let p):
            switch try controlNode(p) {
            case .dir: throw FSError(EISDIR)
            case .file(let gen):
                if writing { throw FSError.readOnly }
                let bytes: [UInt8]
                do { bytes = try gen() } catch { throw FSError(error) }
                return lock.withLock { var o = registerLocked(.generated(bytes), keepCache: false); o.directIO = true; return o }
            case .spec(let name, let ext, let exists):
                let current = exists && flags & O_TRUNC == 0 ? Array(try specText(name).utf8) : []
                if !writing {
                    return lock.withLock { var o = registerLocked(.generated(current), keepCache: false); o.directIO = true; return o }
                }
                let buf = SpecBuffer(name: name, ext: ext, data: current)
                buf.dirty = flags & O_TRUNC != 0
                return lock.withLock { var o = registerLocked(.spec(buf), keepCache: false); o.directIO = true; return o }
            }
        case .datum(let t, let i, let p):
            if writing { throw FSError.readOnly }
            let (content, from) = try datumContent(try datumInput(t, i), p)
            let reader = ChunkReader(content, objects: store.objects)
            return lock.withLock { var o = registerLocked(.content(reader, from: from), keepCache: true); o.noFlush = true; return o }
        default:
            throw FSError(EISDIR)
        }
    }

    private func openContent(_ k: NodeKey, _ ino: UInt64) throws -> Opened {
        guard let (v, path, _) = try view(k), let e = try v.entry(path) else { throw FSError.notFound }
        guard e.kind == .file else { throw FSError(e.kind == .dir ? EISDIR : ELOOP) }
        let content: FileContent
        do { content = try store.trees.content(of: e) } catch { throw FSError(error) }
        let reader = ChunkReader(content, objects: store.objects)
        return lock.withLock {
            // The kernel may keep its cached pages only if the content is what it cached last time.
            let same = lastOpenedHash[ino] == e.hash
            lastOpenedHash[ino] = e.hash
            if lastOpenedHash.count > 100_000 { lastOpenedHash.removeAll() }
            var o = registerLocked(.content(reader, from: 0), keepCache: same || !v.isOpen && v.commit?.state == .finished && !isBranchKey(k))
            o.noFlush = true
            return o
        }
    }

    private func isBranchKey(_ k: NodeKey) -> Bool {
        if case .branch = k { return true }
        return false
    }

    private func registerLocked(_ h: Handle, keepCache: Bool) -> Opened {
        let fh = nextFH
        nextFH += 1
        handles[fh] = h
        return Opened(fh: fh, keepCache: keepCache, directIO: false)
    }

    public func create(parent: UInt64, name: String, mode: UInt32, flags: Int32) throws -> (Entry, Opened) {
        if case .control(["pipelines"]) = try key(parent) {
            guard case .spec(let base, let ext, _) = try controlNode(["pipelines", name]) else {
                throw FSError(EINVAL, "write pipeline specs as <name>.json or <name>.yaml")
            }
            let k = NodeKey.control(["pipelines", name])
            let ino = inodes.ino(for: k, count: true)
            let buf = SpecBuffer(name: base, ext: ext, data: [])
            let opened = lock.withLock { var o = registerLocked(.spec(buf), keepCache: false); o.directIO = true; return o }
            let attr = Attr(ino: ino, mode: FileMode.ifreg | 0o644, size: 0, mtimeNs: Store.nowNs(), nlink: 1)
            return (Entry(attr: attr, timeout: 0), opened)
        }
        let (r, b, p) = try branchPath(try key(parent))
        guard (try? Names.cleanPath(name)) != nil, !name.contains("/") else { throw FSError(EINVAL) }
        let k = NodeKey.branch(repo: r, branch: b, path: p + [name])
        let existing = try? branchView(r, b).entry(p + [name])
        if existing ?? nil != nil || lock.withLock({ openFiles[k] }) != nil {
            if flags & O_EXCL != 0 { throw FSError(EEXIST) }
        } else {
            let empty = FileContent(chunks: [], size: 0)
            try stage(r, b, [.put(path: pathString(p + [name]), entry: .file(name: name, content: empty, mode: mode & 0o7777, mtimeNs: Store.nowNs()))])
        }
        let entry = try lookup(parent: parent, name: name)
        let f = try openForWrite(k, r, b, p + [name])
        if flags & O_TRUNC != 0 { do { try f.truncate(0) } catch { throw FSError(error) } }
        let opened = lock.withLock { registerLocked(.file(f, writable: true), keepCache: false) }
        return (entry, opened)
    }

    /// Reads into `buffer` (the adapter's reusable reply buffer); returns the bytes read.
    public func read(_ fh: UInt64, offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let h = lock.withLock({ handles[fh] }) else { throw FSError(EBADF) }
        do {
            switch h {
            case .file(let f, _):
                let bytes = try f.read(at: offset, count: buffer.count)
                bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
                return bytes.count
            case .content(let r, let from):
                let start = from + offset
                guard start < r.size else { return 0 }
                let n = min(buffer.count, Int(r.size - start))
                return try r.read(offset: start, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]))
            case .generated(let bytes):
                guard offset < bytes.count else { return 0 }
                let n = min(buffer.count, bytes.count - Int(offset))
                bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<Int(offset) + n])) }
                return n
            case .spec(let b):
                let bytes = lock.withLock { b.data }
                guard offset < bytes.count else { return 0 }
                let n = min(buffer.count, bytes.count - Int(offset))
                bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<Int(offset) + n])) }
                return n
            case .dir:
                throw FSError(EISDIR)
            }
        } catch { throw FSError(error) }
    }

    /// Convenience for tests: a read into a new array.
    public func read(_ fh: UInt64, offset: Int64, size: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: size) { buf, count in
            count = try read(fh, offset: offset, into: UnsafeMutableRawBufferPointer(buf))
        }
    }

    public func write(_ fh: UInt64, offset: Int64, data: UnsafeRawBufferPointer) throws -> Int {
        if case .spec(let b) = lock.withLock({ handles[fh] }) {
            guard offset + Int64(data.count) <= 1 << 20 else { throw FSError(EFBIG, "a pipeline spec is limited to 1 MiB") }
            lock.withLock {
                let end = Int(offset) + data.count
                if b.data.count < end { b.data += [UInt8](repeating: 0, count: end - b.data.count) }
                b.data.replaceSubrange(Int(offset)..<end, with: data)
                b.dirty = true
            }
            return data.count
        }
        guard case .file(let f, let writable) = lock.withLock({ handles[fh] }) else { throw FSError(EBADF) }
        guard writable else { throw FSError(EBADF) }
        do { try f.write(data, at: offset) } catch { throw FSError(error) }
        if case .branch(let r, let b, _) = f.key { lock.withLock { activityLocked(r, b).generation += 1 } }
        return data.count
    }

    /// close(): stores what was written and stages it, so a successful close is durable.
    public func flush(_ fh: UInt64) throws {
        if case .spec(let b) = lock.withLock({ handles[fh] }) {
            let (dirty, text) = lock.withLock { (b.dirty, String(decoding: b.data, as: UTF8.self)) }
            guard dirty else { return }
            lock.withLock { b.dirty = false }
            try applySpec(name: b.name, ext: b.ext, text: text)
            return
        }
        guard case .file(let f, _) = lock.withLock({ handles[fh] }) else { return }
        guard case .branch(let r, let b, _) = f.key else { return }
        do { if let res = try f.flush(repo: r, branch: b) { mutated(r, b, res) } } catch { throw FSError(error) }
    }

    /// fsync(): as close(), and also durable against power loss (the deferred objects and the op log synced).
    public func fsync(_ fh: UInt64) throws {
        guard case .file(let f, _) = lock.withLock({ handles[fh] }), case .branch(let r, let b, _) = f.key else {
            try flush(fh)
            return
        }
        do {
            if let res = try f.flush(repo: r, branch: b, durable: true) { mutated(r, b, res) } else { try store.syncStaged() }
        } catch { throw FSError(error) }
    }

    public func release(_ fh: UInt64) {
        guard let h = lock.withLock({ handles.removeValue(forKey: fh) }) else { return }
        if case .file(let f, _) = h, case .branch(let r, let b, _) = f.key {
            // A last flush for writers that never called close() cleanly (the kernel always flushes first).
            if let res = try? f.flush(repo: r, branch: b) { mutated(r, b, res) }
            release(file: f, r, b)
        }
    }

    /// `sync <dir>` on a branch's root finishes its open commit at once.
    public func fsyncdir(_ ino: UInt64) throws {
        let k = try key(ino)
        guard case .branch(let r, let b, let p) = k else { return }
        try flushFiles(r, b)
        if p.isEmpty { finish(r, b, force: true) } else { do { try store.syncStaged() } catch { throw FSError(error) } }
    }

    private func flushFiles(_ r: String, _ b: String) throws {
        let files = lock.withLock { openFiles.values.filter { if case .branch(r, b, _) = $0.key { return true }; return false } }
        for f in files { do { if let res = try f.flush(repo: r, branch: b) { mutated(r, b, res) } } catch { throw FSError(error) } }
    }

    // MARK: the commit lifecycle

    private func activityLocked(_ r: String, _ b: String) -> Activity {
        let k = "\(r)/\(b)"
        if let a = activity[k] { return a }
        let a = Activity()
        activity[k] = a
        return a
    }

    private func mutated(_ r: String, _ b: String, _ res: StageResult) {
        let now = store.changeCounter
        let schedule = lock.withLock { () -> Bool in
            let k = "\(r)/\(b)"
            seenHeads[k] = res.commit
            // The cached view of an open commit reads its live working tree, so our own stage into that same
            // commit leaves it current — provided nothing else changed the store meanwhile (the counter moved
            // by exactly this one change). Saves re-reading the branch from the metadata store per write.
            if let c = branchViews[k], c.counter &+ 1 == now, c.view.isOpen, c.view.commit?.id == res.commit {
                branchViews[k] = (now, c.view)
            }
            let a = activityLocked(r, b)
            a.generation += 1
            if res.opened { a.commits.insert(res.commit) }
            return a.handles == 0
        }
        if schedule { scheduleFinish(r, b) }
    }

    private func released(_ r: String, _ b: String) {
        let schedule = lock.withLock { () -> Bool in
            let a = activityLocked(r, b)
            a.handles -= 1
            return a.handles == 0 && !a.commits.isEmpty
        }
        if schedule { scheduleFinish(r, b) }
    }

    private func scheduleFinish(_ r: String, _ b: String) {
        let generation = lock.withLock { activityLocked(r, b).generation }
        let delay = options.settle
        let ns = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(ns))) { [weak self] in
            guard let self else { return }
            let quiet = self.lock.withLock {
                let a = self.activityLocked(r, b)
                return a.generation == generation && a.handles == 0
            }
            if quiet { self.finish(r, b, force: false) }
        }
    }

    /// Finishes the branch's open commit if this mount opened it (or, with `force`, whoever did).
    func finish(_ r: String, _ b: String, force: Bool) {
        guard let head = try? store.branchHead(repo: r, branch: b), head.state == .open else { return }
        let ours = lock.withLock { activityLocked(r, b).commits.contains(head.id) }
        guard ours || force else { return }
        do {
            let c = try store.finishCommit(repo: r, ref: head.id, discardIfEmpty: true)
            logger.debug("finished commit", metadata: ["repo": "\(r)", "branch": "\(b)", "commit": "\(c?.id ?? "(empty, discarded)")"])
        } catch {
            logger.error("finishing commit failed", metadata: ["repo": "\(r)", "branch": "\(b)", "error": "\(error)"])
        }
        lock.withLock { _ = activityLocked(r, b).commits.remove(head.id) }
    }

    /// Stores every file still being written and finishes the commits this mount opened (unmount, SIGTERM).
    public func finishAll() {
        let branches = lock.withLock { Array(activity.keys) }
        let files = lock.withLock { Array(openFiles.values) }
        for f in files {
            if case .branch(let r, let b, _) = f.key { _ = try? f.flush(repo: r, branch: b) }
        }
        for k in branches {
            let parts = k.split(separator: "/", maxSplits: 1).map(String.init)
            if parts.count == 2 { finish(parts[0], parts[1], force: false) }
        }
    }

    /// After a crash: every commit the mount had opened (its staged data restored by the store) is finished,
    /// as the writers are gone. Commits opened by `pfs start commit` stay open.
    public func finishRecoveredCommits() {
        guard let open = try? store.openCommitRows() else { return }
        for c in open where c.description == Store.mountCommitDescription {
            do {
                let done = try store.finishCommit(repo: c.repo, ref: c.id, discardIfEmpty: true)
                logger.notice("finished a commit left open by a previous mount", metadata: ["repo": "\(c.repo)", "commit": "\(done?.id ?? "(empty, discarded)")"])
            } catch {
                logger.error("could not finish recovered commit", metadata: ["commit": "\(c.id)", "error": "\(error)"])
            }
        }
    }

    public func statfs() -> statvfs {
        var s = statvfs()
        _ = pfs_statvfs(store.dataDir.path, &s)
        return s
    }
}

extension CommitView {
    /// Commit views by id are read-only even when the commit is still open (write through the branch).
    func isOpenReadOnly(_ key: NodeKey) -> Bool {
        if case .commit = key { return true }
        return false
    }
}

/// File type bits of `st_mode` (spelled out: Glibc and libfuse's headers both export the macros).
enum FileMode {
    static let ifdir: UInt32 = 0o040000
    static let ifreg: UInt32 = 0o100000
    static let iflnk: UInt32 = 0o120000
}

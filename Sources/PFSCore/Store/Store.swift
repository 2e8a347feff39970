import Foundation
import GRDB
import Logging
import Synchronization

/// The pfs store: objects (chunks, manifests, trees) in an object store, repos/branches/commits in the
/// metadata store, and the working trees of open commits. Everything the daemon, the mount and the
/// scheduler do to data goes through here.
///
/// Concurrency: reads run concurrently. Every change to metadata and to open working trees happens under
/// `writeLock` (one writer, like the database); the slow part of a write — chunking, hashing and storing
/// content — happens before, outside the lock.
public final class Store: Sendable {
    public let dataDir: URL
    public let objects: any ObjectStore
    public let trees: TreeStore
    public let meta: MetadataStore
    /// Where the mount's closed files store their objects: readable at once, made durable (in one sync for
    /// thousands of files) by the finish of the commit that references them, `syncStaged()`, or after a crash
    /// when the store is opened again (docs/storage.md, "Durability steps").
    public let deferredObjects: any ObjectBatch
    let logger: Logger
    let writeLock = NSLock()
    let openTrees = Mutex<[String: WorkingTree]>([:])
    let finishEvents = Notifier()
    let gate = WriteGate()
    let changes = Atomic<UInt64>(0)
    let observers = Mutex<[@Sendable () -> Void]>([])
    /// Bounds on what one put session holds in memory (see `PutLimits`).
    public let putLimits: PutLimits

    /// How a put session of many files keeps its memory bounded: its object batch is committed every
    /// `objectsPerIntermediateCommit` new objects, and the tree of the commit it makes is written every
    /// `opsPerTreeCheckpoint` ops (`Store.writeAutoCommitTree`). Tests make them small.
    public struct PutLimits: Sendable {
        public var objectsPerIntermediateCommit: Int
        public var opsPerTreeCheckpoint: Int

        public init(objectsPerIntermediateCommit: Int = 32_768, opsPerTreeCheckpoint: Int = 65_536) {
            precondition(objectsPerIntermediateCommit > 0 && opsPerTreeCheckpoint > 0)
            self.objectsPerIntermediateCommit = objectsPerIntermediateCommit
            self.opsPerTreeCheckpoint = opsPerTreeCheckpoint
        }
    }

    /// Opens (creating if needed) the store in `dataDir`: `objects/`, `metadata.db`. Open commits are restored
    /// from their staged-op logs.
    /// `treeCacheEntries` bounds the cache of decoded tree nodes (`TreeStore`), by the entries they hold.
    /// `packLimit`: objects up to this size go to pack files (`LocalObjectStore`); nil: `$PFS_PACK_LIMIT`, or 64 KiB.
    public init(dataDir: URL, logger: Logger = Logger(label: "pfs.store"), putLimits: PutLimits = PutLimits(),
                treeCacheEntries: Int = 400_000, packLimit: Int? = nil) throws {
        self.dataDir = dataDir
        self.logger = logger
        self.putLimits = putLimits
        try Self.makePrivateDirectory(dataDir)
        // PFS_PACK_LIMIT=0 stores every new object as a file of its own (the layout before packs; for comparisons).
        let packLimit = packLimit ?? ProcessInfo.processInfo.environment["PFS_PACK_LIMIT"].flatMap { Int($0) }
            ?? PackStore.maximumObjectSize
        self.objects = try LocalObjectStore(directory: dataDir.appendingPathComponent("objects"),
                                            syncStrategy: .default, packLimit: packLimit)
        self.trees = TreeStore(objects: objects, cacheEntries: treeCacheEntries)
        self.deferredObjects = objects.makeDeferredBatch()
        self.meta = try MetadataStore(path: dataDir.appendingPathComponent("metadata.db").path)
        try restoreOpenCommits()
    }

    /// Creates the data directory (private to this user) if it does not exist.
    public static func makeDataDirectory(_ url: URL) throws { try makePrivateDirectory(url) }

    static func makePrivateDirectory(_ url: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw PFSError.invalid("data directory \(url.path) exists and is not a directory; choose another --data-dir")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw PFSError(.failedPrecondition, "cannot create data directory \(url.path): \(error.localizedDescription); choose a writable --data-dir", cause: error)
        }
    }

    private func restoreOpenCommits() throws {
        let open = try meta.read { try MetadataStore.openCommits($0) }
        for c in open {
            // An output commit whose parent is still open gets its tree when its job starts.
            let base: ObjectHash?
            do { base = try parentRoot(of: c) } catch {
                if c.origin == .auto { continue }
                throw error
            }
            let tree = try WorkingTree(trees: trees, baseRoot: base)
            let count = try replayStagedOps(of: c, into: tree)
            openTrees.withLock { $0[Self.openKey(c.repo, c.id)] = tree }
            logger.info("restored open commit", metadata: ["repo": "\(c.repo)", "commit": "\(c.id)", "ops": "\(count)"])
        }
    }

    /// Applies an open commit's op log to `tree`, each op at the time it was first applied at (so directories
    /// get back the same mtimes). Returns the number of ops.
    ///
    /// A put whose objects are missing is skipped: only a power loss does that, to a file closed through the
    /// mount whose objects were not synced yet (its log entry became durable with a later transaction). Once one
    /// op was skipped, later ops that no longer apply (a rename of that file) are skipped too. Both are logged.
    @discardableResult
    func replayStagedOps(of c: CommitRow, into tree: WorkingTree) throws -> Int {
        let ops = try meta.read { try MetadataStore.stagedOps($0, c.repo, c.id) }
        var skipped = 0
        for (op, now) in ops {
            if case .put(let path, let entry) = op, let missing = missingObject(of: entry, path: path) {
                skipped += 1
                logger.warning("dropped a staged file whose content did not survive a power loss",
                               metadata: ["repo": "\(c.repo)", "commit": "\(c.id)", "path": "\(path)", "object": "\(missing)"])
                continue
            }
            do {
                try tree.apply(op, now: now != 0 ? now : Self.nowNs())
            } catch where skipped > 0 {
                logger.warning("dropped a staged op that depended on a dropped file",
                               metadata: ["repo": "\(c.repo)", "commit": "\(c.id)", "error": "\(error)"])
            }
        }
        return ops.count
    }

    /// The first object a staged entry needs that the store does not hold (nil: all there).
    private func missingObject(of entry: TreeEntry, path: String) -> ObjectHash? {
        guard entry.kind == .file else { return nil }
        if let chunks = entry.chunks {
            return chunks.first { !objects.exists($0.hash) }?.hash
        }
        guard entry.size > 0 else { return nil }
        guard objects.exists(entry.hash), let content = try? trees.content(of: entry) else { return entry.hash }
        return content.chunks.first { !objects.exists($0.hash) }?.hash
    }

    func parentRoot(of c: CommitRow) throws -> ObjectHash? {
        guard let p = c.parent else { return nil }
        guard let parent = try meta.read({ try MetadataStore.commit($0, c.repo, p) }) else { return nil }
        guard let root = parent.root else {
            throw PFSError.precondition("commit \(c.id)'s parent \(p) is still open; finish it first")
        }
        return root
    }

    /// The current time in nanoseconds since the epoch (file mtimes).
    public static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        writeLock.lock()
        defer {
            changes.add(1, ordering: .releasing)
            writeLock.unlock()
            for o in observers.withLock({ $0 }) { o() }
        }
        return try body()
    }

    /// Calls `f` after every change (on the changing thread, outside the store's locks: keep it short,
    /// hand work to a queue).
    public func addChangeObserver(_ f: @escaping @Sendable () -> Void) {
        observers.withLock { $0.append(f) }
    }

    /// Grows with every change to metadata or open commits: caches of branch state compare it to know
    /// whether they are still current.
    public var changeCounter: UInt64 { changes.load(ordering: .acquiring) }

    // MARK: repos

    @discardableResult
    public func createRepo(_ name: String, description: String = "", update: Bool = false) throws -> RepoInfo {
        try Names.validateRepo(name)
        try locked {
            try meta.write { db in
                if try MetadataStore.repo(db, name) != nil {
                    guard update else {
                        throw PFSError(.alreadyExists, "repo \"\(name)\" already exists; use `pfs update repo \(name) -d ...` to change its description, or choose another name")
                    }
                    try MetadataStore.setRepoDescription(db, name, description)
                } else if update {
                    // Updating names an existing repo: a typo must not create a new one.
                    throw PFSError.notFound("repo \"\(name)\" not found; list repos with `pfs list repo` or create it with `pfs create repo \(name)`")
                } else {
                    try MetadataStore.insertRepo(db, RepoRow(name: name, description: description, created: Date()))
                }
            }
        }
        return try inspectRepo(name)
    }

    public func listRepos() throws -> [RepoInfo] {
        try meta.read { db in try MetadataStore.repos(db).map { try repoInfo(db, $0) } }
    }

    public func inspectRepo(_ name: String) throws -> RepoInfo {
        try Names.validateRepo(name)
        return try meta.read { db in try repoInfo(db, try requireRepo(db, name)) }
    }

    func requireRepo(_ db: Database, _ name: String) throws -> RepoRow {
        guard let r = try MetadataStore.repo(db, name) else {
            throw PFSError.notFound("repo \"\(name)\" not found; list repos with `pfs list repo` or create it with `pfs create repo \(name)`")
        }
        return r
    }

    private func repoInfo(_ db: Database, _ r: RepoRow) throws -> RepoInfo {
        let branches = try MetadataStore.branches(db, r.name)
        let sizeBranch = branches.first { $0.name == "master" } ?? (branches.count == 1 ? branches[0] : nil)
        var size: Int64 = 0
        if let head = sizeBranch?.head, let c = try MetadataStore.commit(db, r.name, head) {
            size = c.state == .open ? (openTree(c.repo, c.id)?.size ?? c.size) : c.size
        }
        return RepoInfo(name: r.name, description: r.description, created: r.created, sizeBytes: size,
                        branches: branches.map(\.name))
    }

    /// Deletes a repo with all its branches and commits. Its objects are freed by the next `gc`.
    public func deleteRepo(_ name: String, force: Bool = false) throws {
        try Names.validateRepo(name)
        try locked {
            let ids = try meta.write { db -> [String] in
                _ = try requireRepo(db, name)
                if !force {
                    let dependents = try Row.fetchAll(db, sql: """
                        SELECT DISTINCT c.repo FROM commits c WHERE c.repo != ? AND c.provenance LIKE ?
                        """, arguments: [name, "%\"repo\":\"\(name)\"%"]).map { $0["repo"] as String }
                    if !dependents.isEmpty {
                        throw PFSError.precondition("repo \"\(name)\" is an input of \(dependents.joined(separator: ", ")); delete those first or pass --force")
                    }
                }
                let ids = try String.fetchAll(db, sql: "SELECT id FROM commits WHERE repo = ? AND state = 'open'", arguments: [name])
                try MetadataStore.deleteRepo(db, name)
                return ids
            }
            openTrees.withLock { t in for id in ids { t[Self.openKey(name, id)] = nil } }
        }
        finishEvents.notifyAll()
    }

    // MARK: branches

    @discardableResult
    public func createBranch(repo: String, name: String, head: String? = nil) throws -> BranchInfo {
        try Names.validateBranch(name)
        try locked {
            try meta.write { db in
                _ = try requireRepo(db, repo)
                var headID: String?
                if let head { headID = try resolve(db, repo: repo, ref: head).id }
                if let existing = try MetadataStore.branch(db, repo, name) {
                    guard head != nil else {
                        throw PFSError(.alreadyExists, "branch \"\(name)\" already exists in repo \"\(repo)\"; pass --head to move it")
                    }
                    if let h = existing.head, let c = try MetadataStore.commit(db, repo, h), c.state == .open {
                        throw PFSError.precondition("branch \(repo)@\(name) has an open commit \(h); finish it (`pfs finish commit \(repo)@\(name)`) before moving the branch")
                    }
                    try MetadataStore.setHead(db, repo, name, headID)
                } else {
                    try MetadataStore.insertBranch(db, BranchRow(repo: repo, name: name, head: headID, created: Date()))
                }
            }
        }
        return try inspectBranch(repo: repo, name: name)
    }

    public func listBranches(repo: String) throws -> [BranchInfo] {
        try Names.validateRepo(repo)
        return try meta.read { db in
            _ = try requireRepo(db, repo)
            return try MetadataStore.branches(db, repo).map(branchInfo)
        }
    }

    public func inspectBranch(repo: String, name: String) throws -> BranchInfo {
        try meta.read { db in branchInfo(try requireBranch(db, repo, name)) }
    }

    func requireBranch(_ db: Database, _ repo: String, _ name: String) throws -> BranchRow {
        _ = try requireRepo(db, repo)
        guard let b = try MetadataStore.branch(db, repo, name) else {
            throw PFSError.notFound("branch \"\(name)\" not found in repo \"\(repo)\"; list branches with `pfs list branch \(repo)`")
        }
        return b
    }

    private func branchInfo(_ b: BranchRow) -> BranchInfo {
        BranchInfo(repo: b.repo, name: b.name, head: b.head, created: b.created)
    }

    public func deleteBranch(repo: String, name: String) throws {
        try locked {
            try meta.write { db in
                _ = try requireBranch(db, repo, name)
                try MetadataStore.deleteBranch(db, repo, name)
            }
        }
    }

    func openTree(_ repo: String, _ id: String) -> WorkingTree? { openTrees.withLock { $0[Self.openKey(repo, id)] } }

    /// Open working trees are keyed by repo and id: the commits of one commit set share their id.
    static func openKey(_ repo: String, _ id: String) -> String { "\(repo)@\(id)" }
}

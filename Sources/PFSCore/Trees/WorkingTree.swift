import Foundation

/// One change recorded against an open commit. The staged-op log of an open commit (kept in the metadata
/// store) is a list of these; replaying it over the parent tree rebuilds the open commit after a restart.
public enum StagedOp: Codable, Sendable, Equatable {
    /// Replace (or create) the entry at `path` — a file, a symlink or a whole directory by hash; parents are created.
    case put(path: String, entry: TreeEntry)
    /// Remove the file or directory at `path` (a non-empty directory only with `recursive`).
    case delete(path: String, recursive: Bool)
    case mkdir(path: String, mode: UInt32, mtimeNs: Int64, parents: Bool)
    case rename(from: String, to: String)
    case setAttr(path: String, mode: UInt32?, mtimeNs: Int64?)
}

/// The live state of an open commit: the parent's tree plus an overlay of changed directories.
/// Only directories on the path of a change are materialised (as `DirNode`s holding their changed names);
/// everything else is read from the parent tree, and finishing rewrites only the changed directories.
/// Thread-safe: every public method takes the tree's lock. Lock order: the store's write lock, then this lock,
/// then the metadata database (see `apply(_:now:then:)`).
public final class WorkingTree: @unchecked Sendable {
    final class DirNode {
        var base: ObjectHash?
        var mode: UInt32
        var mtimeNs: Int64
        /// As `TreeEntry.ctimeNs`: nil when it equals `mtimeNs`.
        var ctimeNs: Int64?
        var size: Int64
        /// Keyed by the names' bytes: `"caf\u{e9}"` and `"cafe\u{301}"` are two entries.
        var changes: [NameKey: Change] = [:]
        init(base: ObjectHash?, mode: UInt32, mtimeNs: Int64, size: Int64, ctimeNs: Int64? = nil) {
            self.base = base; self.mode = mode; self.mtimeNs = mtimeNs; self.size = size; self.ctimeNs = ctimeNs
        }
    }

    enum Change {
        case entry(TreeEntry)
        case dir(DirNode)
        case deleted
    }

    public let trees: TreeStore
    /// The parent's root tree (nil: the commit has no parent).
    public let baseRoot: ObjectHash?
    private let root: DirNode
    private let lock = NSLock()
    public private(set) var opCount = 0
    /// While a batch is applied: what puts back each change made so far (newest last). Compact values, not
    /// closures: a batch of a million puts keeps a million of these until it is done.
    private var undo: [Undo] = []
    /// The directories whose attributes `undo` already saved in this batch (saved once, at their first change).
    private var saved = Set<ObjectIdentifier>()
    /// False while a batch that needs no undo is applied (a tree nobody else sees, thrown away on failure).
    private var recording = true

    private enum Undo {
        /// `name` in `dir` had the change `old` (nil: none).
        case change(DirNode, NameKey, OldChange?)
        case attributes(DirNode, mode: UInt32, mtimeNs: Int64, ctimeNs: Int64?, size: Int64)
    }

    /// A boxed previous change: most undo steps have none, and they stay one pointer wide.
    private final class OldChange {
        let value: Change
        init(_ value: Change) { self.value = value }
    }

    public init(trees: TreeStore, baseRoot: ObjectHash?) throws {
        self.trees = trees
        self.baseRoot = baseRoot
        var size: Int64 = 0
        if let baseRoot { size = try trees.node(baseRoot).size }
        self.root = DirNode(base: baseRoot, mode: TreeEntry.defaultDirMode, mtimeNs: 0, size: size)
    }

    /// The total bytes of files in the working tree.
    public var size: Int64 { lock.withLock { root.size } }

    /// True if no operation changed anything yet.
    public var isUnchanged: Bool { lock.withLock { root.changes.isEmpty && root.base == baseRoot } }

    // MARK: reading

    /// The entry at `path` (components of a clean path); `[]` is the root directory.
    /// Directories changed in this commit are reported with a zero hash (their hash is known only once finished).
    public func entry(_ path: [String]) throws -> TreeEntry? {
        try lock.withLock {
            if path.isEmpty { return dirEntry(name: "", root) }
            var dir = root
            for (i, name) in path.enumerated() {
                let last = i == path.count - 1
                switch try current(dir, name) {
                case nil:
                    return nil
                case .dir(let d):
                    if last { return dirEntry(name: name, d) }
                    dir = d
                case .entry(let e):
                    if last { return e }
                    guard e.kind == .dir else {
                        throw PFSError(.notDirectory, "/\(path[...i].joined(separator: "/")) is a file, not a directory")
                    }
                    // Below an unchanged directory: read straight from the tree.
                    return try trees.lookup(root: e.hash, components: Array(path[(i + 1)...]))
                case .deleted:
                    return nil
                }
            }
            return nil
        }
    }

    /// The entries of the directory at `path`, sorted by name.
    public func list(_ path: [String]) throws -> [TreeEntry] {
        try lock.withLock {
            var dir = root
            for (i, name) in path.enumerated() {
                switch try current(dir, name) {
                case .dir(let d):
                    dir = d
                case .entry(let e):
                    guard e.kind == .dir else {
                        throw PFSError(.notDirectory, "/\(path[...i].joined(separator: "/")) is a file, not a directory")
                    }
                    return try trees.lookup(root: e.hash, components: Array(path[(i + 1)...])).map { entry in
                        guard entry.kind == .dir else {
                            throw PFSError(.notDirectory, "/\(path.joined(separator: "/")) is a file, not a directory")
                        }
                        return try trees.list(entry.hash)
                    } ?? { throw PFSError.notFound("/\(path.joined(separator: "/")) does not exist") }()
                case nil, .deleted:
                    throw PFSError.notFound("/\(path[...i].joined(separator: "/")) does not exist")
                }
            }
            var byName: [NameKey: TreeEntry] = [:]
            if let base = dir.base {
                for e in try trees.list(base) { byName[NameKey(e.name)] = e }
            }
            for (key, ch) in dir.changes {
                switch ch {
                case .entry(let e): byName[key] = e
                case .dir(let d): byName[key] = dirEntry(name: key.name, d)
                case .deleted: byName[key] = nil
                }
            }
            return byName.values.sorted { $0.name.utf8Less($1.name) }
        }
    }

    private func dirEntry(name: String, _ d: DirNode) -> TreeEntry {
        let hash = d.changes.isEmpty && d.base != nil ? d.base! : ObjectHash(w0: 0, w1: 0, w2: 0, w3: 0)
        return TreeEntry(name: name, kind: .dir, mode: d.mode, size: d.size, mtimeNs: d.mtimeNs, hash: hash, ctimeNs: d.ctimeNs)
    }

    /// The current state of `name` in `dir`: its change, else its entry in the base tree.
    private func current(_ dir: DirNode, _ name: String) throws -> Change? {
        if let ch = dir.changes[NameKey(name)] { return ch }
        guard let base = dir.base, let e = try trees.lookup(base, name) else { return nil }
        return .entry(e)
    }

    // MARK: changing

    /// Applies one op. Throws (and changes nothing) if the op is not valid against the current state.
    public func apply(_ op: StagedOp, now: Int64) throws {
        try apply([op], now: now)
    }

    /// Applies `ops` in order, all or nothing: if one of them throws, or `then` throws (it runs after them, still
    /// under this tree's lock — e.g. to persist the ops), every change is undone. Readers never see part of a batch.
    public func apply(_ ops: [StagedOp], now: Int64, then: () throws -> Void = {}) throws {
        try apply(ops[...], now: now, then: then)
    }

    /// `apply` of a slice. With `undoable: false` a failure leaves the tree part-way (no undo is kept, which saves
    /// memory for big batches): only for a tree nobody else reads and that is thrown away when this throws.
    public func apply(_ ops: ArraySlice<StagedOp>, now: Int64, undoable: Bool = true, then: () throws -> Void = {}) throws {
        try lock.withLock {
            undo.removeAll(keepingCapacity: true)
            saved.removeAll(keepingCapacity: true)
            recording = undoable
            defer {
                undo.removeAll()
                saved.removeAll()
                recording = true
            }
            do {
                for op in ops { try applyLocked(op, now: now) }
                try then()
            } catch {
                for step in undo.reversed() {
                    switch step {
                    case .change(let d, let key, let old): d.changes[key] = old?.value
                    case .attributes(let d, let mode, let mtime, let ctime, let size):
                        d.mode = mode; d.mtimeNs = mtime; d.ctimeNs = ctime; d.size = size
                    }
                }
                throw error
            }
            opCount += ops.count
        }
    }

    // Every change to the overlay goes through these, so that a failed batch can be undone.

    private func setChange(_ d: DirNode, _ name: String, _ ch: Change?) {
        let key = NameKey(name)
        if recording { undo.append(.change(d, key, d.changes[key].map(OldChange.init))) }
        d.changes[key] = ch
    }

    /// Saves `d`'s attributes for undo before their first change in this batch.
    private func saveAttributes(_ d: DirNode) {
        guard recording, saved.insert(ObjectIdentifier(d)).inserted else { return }
        undo.append(.attributes(d, mode: d.mode, mtimeNs: d.mtimeNs, ctimeNs: d.ctimeNs, size: d.size))
    }

    private func setSize(_ d: DirNode, _ size: Int64) {
        saveAttributes(d)
        d.size = size
    }

    private func setMode(_ d: DirNode, _ mode: UInt32) {
        saveAttributes(d)
        d.mode = mode
    }

    private func setMtime(_ d: DirNode, _ mtime: Int64) {
        saveAttributes(d)
        d.mtimeNs = mtime
    }

    /// A status change of `d` at `now` (chmod, utimens, rename); nil: its ctime follows its mtime again.
    private func setCtime(_ d: DirNode, _ now: Int64?) {
        let new = now == d.mtimeNs ? nil : now
        guard new != d.ctimeNs else { return }
        saveAttributes(d)
        d.ctimeNs = new
    }

    private func applyLocked(_ op: StagedOp, now: Int64) throws {
        switch op {
        case .put(let path, let entry):
            let comps = try components(path)
            guard let name = comps.last else { throw PFSError.invalid("cannot replace the root directory; give a file path") }
            let chain = try dirChain(Array(comps.dropLast()), create: true, now: now)
            let parent = chain.last!
            let old = try current(parent, name)
            if case .dir = old, entry.kind != .dir {
                throw PFSError(.isDirectory, "\(path) is a directory; delete it first or choose another path")
            }
            if case .entry(let e) = old, e.kind == .dir, entry.kind != .dir {
                throw PFSError(.isDirectory, "\(path) is a directory; delete it first or choose another path")
            }
            setChange(parent, name, .entry(entry.renamed(name)))
            adjust(chain, by: entry.size - size(of: old))
            touch(parent, now)
        case .delete(let path, let recursive):
            let comps = try components(path)
            guard let name = comps.last else {
                // Deleting "/" empties the commit.
                let names = try listNames(root)
                guard recursive || names.isEmpty else { throw PFSError(.notEmpty, "/ is not empty; delete recursively") }
                for n in names { setChange(root, n, .deleted) }
                setSize(root, 0)
                touch(root, now)
                return
            }
            let chain = try dirChain(Array(comps.dropLast()), create: false, now: now)
            let parent = chain.last!
            guard let old = try current(parent, name), !isDeleted(old) else {
                throw PFSError.notFound("\(path) does not exist")
            }
            if !recursive, try isNonEmptyDir(old) {
                throw PFSError(.notEmpty, "directory \(path) is not empty; delete it recursively (-r) or empty it first")
            }
            setChange(parent, name, .deleted)
            adjust(chain, by: -size(of: old))
            touch(parent, now)
        case .mkdir(let path, let mode, let mtime, let parents):
            let comps = try components(path)
            guard let name = comps.last else {
                if parents { return }
                throw PFSError(.alreadyExists, "/ already exists")
            }
            let chain = try dirChain(Array(comps.dropLast()), create: parents, now: now)
            let parent = chain.last!
            if let old = try current(parent, name), !isDeleted(old) {
                if parents, isDir(old) { return }
                throw PFSError(.alreadyExists, "\(path) already exists")
            }
            setChange(parent, name, .dir(DirNode(base: nil, mode: mode & 0o7777, mtimeNs: mtime, size: 0)))
            touch(parent, now)
        case .rename(let from, let to):
            let src = try components(from), dst = try components(to)
            guard let sname = src.last, let dname = dst.last else {
                throw PFSError.invalid("cannot rename the root directory")
            }
            if Self.sameNames(src[...], dst[...]) { return }
            if dst.count > src.count, Self.sameNames(src[...], dst.prefix(src.count)) {
                throw PFSError.invalid("cannot move \(from) into itself (\(to))")
            }
            let schain = try dirChain(Array(src.dropLast()), create: false, now: now)
            guard let moving = try current(schain.last!, sname), !isDeleted(moving) else {
                throw PFSError.notFound("\(from) does not exist")
            }
            let dchain = try dirChain(Array(dst.dropLast()), create: false, now: now)
            let dparent = dchain.last!
            let existing = try current(dparent, dname)
            if let existing, !isDeleted(existing) {
                switch (isDir(moving), isDir(existing)) {
                case (false, true):
                    throw PFSError(.isDirectory, "cannot replace directory \(to) with a file")
                case (true, false):
                    throw PFSError(.notDirectory, "cannot replace file \(to) with a directory")
                case (true, true):
                    if try isNonEmptyDir(existing) { throw PFSError(.notEmpty, "directory \(to) is not empty") }
                default:
                    break
                }
            }
            let sz = size(of: moving)
            setChange(schain.last!, sname, .deleted)
            adjust(schain, by: -sz)
            // A rename changes the moved entry's ctime (as Linux filesystems do; `mv` and backup tools look at it).
            switch moving {
            case .entry(var e):
                e.changed(at: now)
                setChange(dparent, dname, .entry(e.renamed(dname)))
            case .dir(let d):
                setChange(dparent, dname, .dir(d))
                setCtime(d, now)
            case .deleted: break
            }
            adjust(dchain, by: sz - size(of: existing))
            touch(schain.last!, now)
            touch(dparent, now)
        case .setAttr(let path, let mode, let mtime):
            let comps = try components(path)
            if comps.isEmpty {
                if let mode { setMode(root, mode & 0o7777) }
                if let mtime { setMtime(root, mtime) }
                setCtime(root, now)
                return
            }
            let name = comps.last!
            let chain = try dirChain(Array(comps.dropLast()), create: false, now: now)
            let parent = chain.last!
            switch try current(parent, name) {
            case .entry(var e):
                // chmod and utimens change the ctime to now (POSIX), whatever mtime they set.
                if e.kind == .dir {
                    let d = DirNode(base: e.hash, mode: e.mode, mtimeNs: e.mtimeNs, size: e.size)
                    if let mode { d.mode = mode & 0o7777 }
                    if let mtime { d.mtimeNs = mtime }
                    d.ctimeNs = now == d.mtimeNs ? nil : now
                    setChange(parent, name, .dir(d))
                } else {
                    if let mode, e.kind != .symlink { e.mode = mode & 0o7777 }
                    if let mtime { e.mtimeNs = mtime }
                    e.changed(at: now)
                    setChange(parent, name, .entry(e))
                }
            case .dir(let d):
                if let mode { setMode(d, mode & 0o7777) }
                if let mtime { setMtime(d, mtime) }
                setCtime(d, now)
            case nil, .deleted:
                throw PFSError.notFound("\(path) does not exist")
            }
        }
    }

    private func components(_ path: String) throws -> [String] {
        Names.components(try Names.cleanPath(path))
    }

    private static func sameNames(_ a: ArraySlice<String>, _ b: ArraySlice<String>) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.utf8Equal($1) }
    }

    /// The chain of directory nodes from the root to `path`, materialising each one.
    private func dirChain(_ path: [String], create: Bool, now: Int64) throws -> [DirNode] {
        var chain = [root]
        for (i, name) in path.enumerated() {
            let dir = chain.last!
            let next: DirNode
            switch try current(dir, name) {
            case .dir(let d):
                next = d
            case .entry(let e):
                guard e.kind == .dir else {
                    throw PFSError(.notDirectory, "/\(path[...i].joined(separator: "/")) is a file, not a directory")
                }
                next = DirNode(base: e.hash, mode: e.mode, mtimeNs: e.mtimeNs, size: e.size, ctimeNs: e.ctimeNs)
                setChange(dir, name, .dir(next))
            case nil, .deleted:
                guard create else {
                    throw PFSError.notFound("directory /\(path[...i].joined(separator: "/")) does not exist")
                }
                next = DirNode(base: nil, mode: TreeEntry.defaultDirMode, mtimeNs: now, size: 0)
                setChange(dir, name, .dir(next))
                touch(dir, now)
            }
            chain.append(next)
        }
        return chain
    }

    private func adjust(_ chain: [DirNode], by delta: Int64) {
        if delta != 0 { for d in chain { setSize(d, d.size + delta) } }
    }

    /// A change of `d`'s entries: its mtime and ctime both become `now`.
    private func touch(_ d: DirNode, _ now: Int64) {
        setMtime(d, now)
        setCtime(d, nil)
    }

    private func size(of ch: Change?) -> Int64 {
        switch ch {
        case .entry(let e): return e.size
        case .dir(let d): return d.size
        case nil, .deleted: return 0
        }
    }

    private func isDeleted(_ ch: Change) -> Bool {
        if case .deleted = ch { return true }
        return false
    }

    private func isDir(_ ch: Change) -> Bool {
        switch ch {
        case .dir: return true
        case .entry(let e): return e.kind == .dir
        case .deleted: return false
        }
    }

    private func isNonEmptyDir(_ ch: Change) throws -> Bool {
        switch ch {
        case .dir(let d): return try !listNames(d).isEmpty
        case .entry(let e):
            guard e.kind == .dir else { return false }
            return try trees.node(e.hash).count > 0
        case .deleted: return false
        }
    }

    private func listNames(_ d: DirNode) throws -> [String] {
        var names = Set<NameKey>()
        if let base = d.base { for e in try trees.list(base) { names.insert(NameKey(e.name)) } }
        for (n, ch) in d.changes {
            if isDeleted(ch) { names.remove(n) } else { names.insert(n) }
        }
        return names.map(\.name)
    }

    // MARK: finishing

    /// Writes the changed directories (bottom up) into `batch` and returns the new root tree.
    /// Cost is proportional to the changed paths, not to the size of the tree.
    public func write(batch: any ObjectBatch) throws -> (root: ObjectHash, size: Int64) {
        try lock.withLock {
            let e = try write(root, name: "", batch: batch)
            return (e.hash, e.size)
        }
    }

    /// Writes the changed directories into `batch` (as `write`) and makes the written tree the base of the root,
    /// so the overlay no longer holds the changes: memory is given back, the content stays the same. Reads then go
    /// through the tree store, so `batch` must be committed before the tree is read or changed again (or cached
    /// nodes would be the only copy). For a tree that is finished in pieces (a put of many files); not for a
    /// published open commit (gc and fsck read its changes from the overlay).
    public func checkpoint(batch: any ObjectBatch) throws {
        try lock.withLock {
            let e = try write(root, name: "", batch: batch)
            root.base = e.hash
            root.changes = [:]
            root.size = e.size
        }
    }

    private func write(_ d: DirNode, name: String, batch: any ObjectBatch) throws -> TreeEntry {
        if d.changes.isEmpty, let base = d.base {
            return TreeEntry(name: name, kind: .dir, mode: d.mode, size: d.size, mtimeNs: d.mtimeNs, hash: base, ctimeNs: d.ctimeNs)
        }
        var changes: [(name: String, entry: TreeEntry?)] = []
        changes.reserveCapacity(d.changes.count)
        for (key, ch) in d.changes {
            switch ch {
            case .entry(let e): changes.append((key.name, e))
            case .dir(let sub): changes.append((key.name, try write(sub, name: key.name, batch: batch)))
            case .deleted: changes.append((key.name, nil))
            }
        }
        let result = try trees.update(d.base, changes: changes, batch: batch)
        return TreeEntry(name: name, kind: .dir, mode: d.mode, size: result.size, mtimeNs: d.mtimeNs, hash: result.hash,
                         ctimeNs: d.ctimeNs)
    }

    /// Every entry the staged changes reference, with its path (for GC and fsck while the commit is open): the
    /// files, symlinks and directories put, and the base tree of every changed directory — which need not come
    /// from the parent commit (a directory copied from another commit and then changed). Together with
    /// `baseRoot` they reach every object the open commit needs.
    public func forEachReferencedEntry(_ body: (String, TreeEntry) throws -> Void) throws {
        try lock.withLock {
            func visit(_ d: DirNode, _ path: String) throws {
                if d !== root, let base = d.base {
                    try body(path, TreeEntry(name: Names.components(path).last ?? "", kind: .dir, mode: d.mode,
                                             size: d.size, mtimeNs: d.mtimeNs, hash: base, ctimeNs: d.ctimeNs))
                }
                for (key, ch) in d.changes {
                    let p = path == "/" ? "/" + key.name : path + "/" + key.name
                    switch ch {
                    case .entry(let e): try body(p, e)
                    case .dir(let sub): try visit(sub, p)
                    case .deleted: break
                    }
                }
            }
            try visit(root, "/")
        }
    }
}

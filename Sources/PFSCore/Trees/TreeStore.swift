import Foundation
import Synchronization

/// Reads and writes Merkle directory trees in an object store, with a bounded cache of decoded nodes
/// (finished trees never change, so a node cached by hash is always right).
public final class TreeStore: Sendable {
    public let objects: any ObjectStore
    private let cache: NodeCache

    public init(objects: any ObjectStore, cacheEntries: Int = 400_000) {
        self.objects = objects
        self.cache = NodeCache(limit: cacheEntries)
    }

    // MARK: reading

    public func node(_ hash: ObjectHash) throws -> TreeNode {
        if let n = cache.get(hash) { return n }
        let bytes: [UInt8]
        do {
            bytes = try objects.read(hash)
        } catch let e as PFSError where e.code == .notFound {
            throw PFSError.corrupt("tree object \(hash.hex) is missing from the object store; run `pfs fsck` to see what is affected")
        }
        let n = try TreeNode.decode(bytes, hash: hash)
        cache.put(hash, n)
        return n
    }

    /// The entry `name` of directory `dir`, or nil.
    public func lookup(_ dir: ObjectHash, _ name: String) throws -> TreeEntry? {
        var current = dir
        var route: ObjectHash?
        while true {
            switch try node(current) {
            case .leaf(let entries):
                return Self.search(entries, name).map { entries[$0] }
            case .index(let depth, let children):
                if route == nil { route = TreeNode.route(name) }
                let nib = route!.nibble(at: depth)
                guard let child = children.first(where: { $0.nibble == nib }) else { return nil }
                current = child.hash
            }
        }
    }

    /// Every entry of directory `dir`, sorted by name (bytewise).
    public func list(_ dir: ObjectHash) throws -> [TreeEntry] {
        switch try node(dir) {
        case .leaf(let entries):
            return entries
        case .index:
            var all: [TreeEntry] = []
            try collect(dir, into: &all)
            all.sort { $0.name.utf8Less($1.name) }
            return all
        }
    }

    private func collect(_ h: ObjectHash, into out: inout [TreeEntry]) throws {
        switch try node(h) {
        case .leaf(let e): out.append(contentsOf: e)
        case .index(_, let children): for c in children { try collect(c.hash, into: &out) }
        }
    }

    /// Looks a path up from a root tree. `components` empty means the root itself (returned as a dir entry).
    public func lookup(root: ObjectHash, components: [String]) throws -> TreeEntry? {
        var entry = TreeEntry(name: "", kind: .dir, mode: TreeEntry.defaultDirMode, size: 0, mtimeNs: 0, hash: root)
        if components.isEmpty {
            let n = try node(root)
            entry.size = n.size
            return entry
        }
        for (i, comp) in components.enumerated() {
            guard entry.kind == .dir else {
                throw PFSError(.notDirectory, "/\(components[..<i].joined(separator: "/")) is a file, not a directory")
            }
            guard let next = try lookup(entry.hash, comp) else { return nil }
            entry = next
        }
        return entry
    }

    /// The chunk list of a file entry (inline, or from its manifest object).
    public func content(of entry: TreeEntry) throws -> FileContent {
        precondition(entry.kind == .file)
        if let chunks = entry.chunks { return FileContent(chunks: chunks, size: entry.size) }
        let bytes: [UInt8]
        do { bytes = try objects.read(entry.hash) } catch let e as PFSError where e.code == .notFound {
            throw PFSError.corrupt("the manifest of \(entry.name) (\(entry.hash.hex)) is missing; run `pfs fsck`")
        }
        return try FileManifest.decode(bytes)
    }

    // MARK: writing

    /// Stores a file's manifest object when its chunk list is too long to live inline in a tree.
    public func storeManifestIfNeeded(_ content: FileContent, batch: any ObjectBatch) throws {
        if content.chunks.count > TreeEntry.inlineChunkLimit {
            let bytes = FileManifest.encode(content)
            let h = ObjectHash.of(bytes)
            try bytes.withUnsafeBytes { _ = try batch.put(h, $0) }
        }
    }

    @discardableResult
    func write(_ node: TreeNode, batch: any ObjectBatch) throws -> ObjectHash {
        let bytes = node.encode()
        let h = ObjectHash.of(bytes)
        try bytes.withUnsafeBytes { _ = try batch.put(h, $0) }
        cache.put(h, node)
        return h
    }

    /// Writes a directory from a complete entry list (any order). Returns the node summary.
    public func build(_ entries: [TreeEntry], batch: any ObjectBatch) throws -> TreeChild {
        let sorted = entries.sorted { $0.name.utf8Less($1.name) }
        return try build(sorted: sorted, depth: 0, batch: batch)
    }

    private func build(sorted entries: [TreeEntry], depth: Int, batch: any ObjectBatch) throws -> TreeChild {
        if entries.count <= TreeNode.leafLimit {
            let node = TreeNode.leaf(entries)
            let h = try write(node, batch: batch)
            return TreeChild(nibble: 0, hash: h, count: entries.count, size: node.size)
        }
        return try build(routed: entries.map { (TreeNode.route($0.name), $0) }, depth: depth, batch: batch)
    }

    /// `build` for a directory that splits: each name is routed (hashed) once, not once per level.
    private func build(routed items: [(route: ObjectHash, entry: TreeEntry)], depth: Int,
                       batch: any ObjectBatch) throws -> TreeChild {
        if items.count <= TreeNode.leafLimit {
            return try build(sorted: items.map(\.entry), depth: depth, batch: batch)
        }
        var buckets = [[(route: ObjectHash, entry: TreeEntry)]](repeating: [], count: 16)
        for item in items { buckets[item.route.nibble(at: depth)].append(item) }
        var children: [TreeChild] = []
        for (nib, bucket) in buckets.enumerated() where !bucket.isEmpty {
            var c = try build(routed: bucket, depth: depth + 1, batch: batch)
            c.nibble = nib
            children.append(c)
        }
        let node = TreeNode.index(depth: depth, children: children)
        let h = try write(node, batch: batch)
        return TreeChild(nibble: 0, hash: h, count: node.count, size: node.size)
    }

    /// Applies `changes` (name → new entry, or nil to remove) to directory `dir` (nil = empty directory).
    /// Cost: the leaves the changed names route to plus the index nodes above them — never the whole directory.
    public func update(_ dir: ObjectHash?, changes: [String: TreeEntry?], batch: any ObjectBatch) throws -> TreeChild {
        try update(dir, changes: changes.map { (name: $0.key, entry: $0.value) }, batch: batch)
    }

    /// `update` with the changes as a list (any order; names distinct as bytes). Unlike a `[String: …]`
    /// dictionary, a list can hold two names that Swift's `==` considers equal (`"caf\u{e9}"`, `"cafe\u{301}"`).
    public func update(_ dir: ObjectHash?, changes: [(name: String, entry: TreeEntry?)],
                       batch: any ObjectBatch) throws -> TreeChild {
        let list = changes.sorted { $0.name.utf8Less($1.name) }
        return try update(dir, depth: 0, changes: list, batch: batch)
    }

    private func update(_ dir: ObjectHash?, depth: Int, changes: [(name: String, entry: TreeEntry?)],
                        batch: any ObjectBatch) throws -> TreeChild {
        guard let dir else {
            return try build(sorted: changes.compactMap { $0.entry }, depth: depth, batch: batch)
        }
        switch try node(dir) {
        case .leaf(let entries):
            return try build(sorted: Self.merge(entries, changes), depth: depth, batch: batch)
        case .index(_, let children):
            var groups = [[(name: String, entry: TreeEntry?)]](repeating: [], count: 16)
            for c in changes { groups[TreeNode.route(c.name).nibble(at: depth)].append(c) }
            var newChildren: [TreeChild] = []
            for nib in 0..<16 {
                let old = children.first { $0.nibble == nib }
                if groups[nib].isEmpty {
                    if let old { newChildren.append(old) }
                    continue
                }
                var c = try update(old?.hash, depth: depth + 1, changes: groups[nib], batch: batch)
                c.nibble = nib
                if c.count > 0 { newChildren.append(c) }
            }
            let total = newChildren.reduce(0) { $0 + $1.count }
            if total <= TreeNode.leafLimit {
                // Shrunk below the split threshold: collapse back into one leaf (keeps the shape canonical).
                var all: [TreeEntry] = []
                for c in newChildren { try collect(c.hash, into: &all) }
                all.sort { $0.name.utf8Less($1.name) }
                return try build(sorted: all, depth: depth, batch: batch)
            }
            let node = TreeNode.index(depth: depth, children: newChildren)
            let h = try write(node, batch: batch)
            return TreeChild(nibble: 0, hash: h, count: total, size: node.size)
        }
    }

    /// Merges sorted entries with sorted changes.
    static func merge(_ entries: [TreeEntry], _ changes: [(name: String, entry: TreeEntry?)]) -> [TreeEntry] {
        var out: [TreeEntry] = []
        out.reserveCapacity(entries.count + changes.count)
        var i = 0, j = 0
        while i < entries.count || j < changes.count {
            if j == changes.count || (i < entries.count && entries[i].name.utf8Less(changes[j].name)) {
                out.append(entries[i]); i += 1
            } else if i == entries.count || changes[j].name.utf8Less(entries[i].name) {
                if let e = changes[j].entry { out.append(e) }
                j += 1
            } else {
                if let e = changes[j].entry { out.append(e) }
                i += 1; j += 1
            }
        }
        return out
    }

    static func search(_ entries: [TreeEntry], _ name: String) -> Int? {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let n = entries[mid].name
            if n.utf8Equal(name) { return mid }
            if n.utf8Less(name) { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    /// The hash of the empty directory.
    static let emptyTreeHash = ObjectHash.of(TreeNode.leaf([]).encode())

    /// The hash of the empty directory (written into `batch` so it exists).
    public func emptyTree(batch: any ObjectBatch) throws -> ObjectHash {
        try write(.leaf([]), batch: batch)
    }

    // MARK: walking

    /// Visits every object reachable from `root` (tree nodes, manifests, chunks) once per call, depth first.
    /// `seen` lets several walks share their work: a tree node already seen is not descended again.
    /// A tree node or manifest that cannot be read (missing or damaged) throws, unless `unreadable` is given:
    /// then it is told (object, path, error) and the walk goes on with the rest (fsck reports everything at once;
    /// GC must stop instead).
    public func walkObjects(root: ObjectHash, seen: inout Set<ObjectHash>,
                            unreadable: Unreadable? = nil,
                            visit: (ObjectHash, ObjectKind, String) throws -> Void) throws {
        try walkNode(root, path: "/", seen: &seen, unreadable: unreadable, visit: visit)
    }

    public typealias Unreadable = (ObjectHash, String, PFSError) throws -> Void

    public enum ObjectKind: Sendable { case tree, manifest, chunk, symlink }

    private func walkNode(_ h: ObjectHash, path: String, seen: inout Set<ObjectHash>, unreadable: Unreadable?,
                          visit: (ObjectHash, ObjectKind, String) throws -> Void) throws {
        guard seen.insert(h).inserted else { return }
        try visit(h, .tree, path)
        let n: TreeNode
        do {
            n = try node(h)
        } catch let e as PFSError where e.code == .corrupt && unreadable != nil {
            try unreadable?(h, path, e)
            return
        }
        switch n {
        case .index(_, let children):
            for c in children { try walkNode(c.hash, path: path, seen: &seen, unreadable: unreadable, visit: visit) }
        case .leaf(let entries):
            for e in entries {
                let p = path == "/" ? "/\(e.name)" : "\(path)/\(e.name)"
                try walkEntry(e, path: p, seen: &seen, unreadable: unreadable, visit: visit)
            }
        }
    }

    /// Visits the objects of one entry (and, for a directory, everything below it).
    public func walkEntry(_ e: TreeEntry, path: String, seen: inout Set<ObjectHash>, unreadable: Unreadable? = nil,
                          visit: (ObjectHash, ObjectKind, String) throws -> Void) throws {
        switch e.kind {
        case .dir:
            try walkNode(e.hash, path: path, seen: &seen, unreadable: unreadable, visit: visit)
        case .symlink:
            break  // the target is stored inline
        case .file:
            if e.chunks == nil || (e.chunks?.count ?? 0) > TreeEntry.inlineChunkLimit {
                if seen.insert(e.hash).inserted { try visit(e.hash, .manifest, path) }
            }
            let content: FileContent
            do {
                content = try self.content(of: e)
            } catch let err as PFSError where err.code == .corrupt && unreadable != nil {
                try unreadable?(e.hash, path, err)
                return
            }
            for c in content.chunks where seen.insert(c.hash).inserted {
                try visit(c.hash, .chunk, path)
            }
        }
    }
}

/// Two-generation cache of decoded tree nodes, bounded by the number of entries they hold.
final class NodeCache: Sendable {
    private struct State {
        var young: [ObjectHash: TreeNode] = [:]
        var old: [ObjectHash: TreeNode] = [:]
        var youngEntries = 0
    }
    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func get(_ h: ObjectHash) -> TreeNode? {
        state.withLock { s in
            if let n = s.young[h] { return n }
            if let n = s.old[h] {
                s.young[h] = n
                s.youngEntries += max(1, n.entryWeight)
                rotate(&s)
                return n
            }
            return nil
        }
    }

    func put(_ h: ObjectHash, _ n: TreeNode) {
        state.withLock { s in
            if s.young[h] == nil {
                s.young[h] = n
                s.youngEntries += max(1, n.entryWeight)
                rotate(&s)
            }
        }
    }

    private func rotate(_ s: inout State) {
        if s.youngEntries > limit / 2 {
            s.old = s.young
            s.young = [:]
            s.youngEntries = 0
        }
    }
}

extension TreeNode {
    var entryWeight: Int {
        switch self {
        case .leaf(let e): return e.count
        case .index(_, let c): return c.count
        }
    }
}

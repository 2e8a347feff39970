import Foundation
import PFSCore

// 1.x incremental inputs: what a datum shows of its paths, compared with the previous job's input commit.
extension Incrementality {
    /// What a 1.x incremental datum of `paths` shows, from `previous` (the input commit of the previous
    /// successful job; nil: none) to `current`. `trees` is the store's tree store (`store.trees`), for file
    /// chunk lists.
    ///
    /// - `.diff`: for each file (or symlink) below the paths, `whole` when it is new or rewritten, `appended(from:)`
    ///   when the old content is a prefix of the new one (only the bytes from the old size on are new), nothing
    ///   when it is unchanged. Unchanged directories are not opened (their tree hashes are equal).
    /// - `.file`: `whole` for each path (a top-level object: a file or a directory with its subtree) that is new
    ///   or changed in any way, nothing for the others.
    /// - `.none`: `whole` for every path.
    ///
    /// Paths missing from `current` show nothing; the result is in path walk order, each path once.
    public static func incrementalPaths(_ mode: PFSInput.Incremental = .diff, current: CommitView,
                                        previous: CommitView?, paths: [String],
                                        trees: TreeStore) throws -> [IncrementalPiece] {
        var walker = IncrementalWalker(current: current, previous: previous, trees: trees)
        for raw in paths {
            let clean = try Names.cleanPath(raw)
            let comps = Names.components(clean)
            guard let cur = try current.entry(comps) else { continue }
            switch mode {
            case .none:
                walker.emit(clean, .whole)
            case .file:
                if try walker.changed(comps, cur, try previous?.entry(comps)) { walker.emit(clean, .whole) }
            case .diff:
                try walker.diff(comps, cur, try previous?.entry(comps))
            }
        }
        return walker.out
    }

    /// Whether `new` is `old` with bytes appended; if so, the offset the new bytes start at (the old size).
    /// Equal leading chunks decide it; the old file's last chunk was cut at its end, so when the new file has a
    /// different chunk there, the bytes of that one chunk are compared.
    static func appendOffset(old: TreeEntry, new: TreeEntry, trees: TreeStore) throws -> Int64? {
        let o = try trees.content(of: old), n = try trees.content(of: new)
        guard o.size > 0, n.size > o.size, let last = o.chunks.last, n.chunks.count >= o.chunks.count - 1 else {
            return nil
        }
        for i in 0..<(o.chunks.count - 1) where o.chunks[i] != n.chunks[i] { return nil }
        if n.chunks.count >= o.chunks.count, n.chunks[o.chunks.count - 1] == last { return o.size }
        let start = o.size - last.size
        let oldBytes = try trees.objects.read(last.hash)
        guard Int64(oldBytes.count) == last.size else {
            throw PFSError.corrupt("chunk \(last.hash.hex) is shorter than recorded; run `pfs fsck`")
        }
        var newBytes: [UInt8] = []
        newBytes.reserveCapacity(oldBytes.count)
        var pos: Int64 = 0
        for c in n.chunks {
            defer { pos += c.size }
            if pos + c.size <= start { continue }
            if pos >= o.size { break }
            let from = max(start, pos) - pos
            let to = min(o.size, pos + c.size) - pos
            newBytes += try trees.objects.read(c.hash, offset: Int(from), length: Int(to - from))
        }
        return newBytes == oldBytes ? o.size : nil
    }
}

/// The state of one `incrementalPaths` call.
private struct IncrementalWalker {
    let current: CommitView
    let previous: CommitView?
    let trees: TreeStore
    var out: [IncrementalPiece] = []
    var seen = Set<[UInt8]>()

    init(current: CommitView, previous: CommitView?, trees: TreeStore) {
        self.current = current
        self.previous = previous
        self.trees = trees
    }

    mutating func emit(_ path: String, _ kind: IncrementalPiece.Kind) {
        // Datum paths may overlap (a group of `/**` matches): each path once.
        if seen.insert(Array(path.utf8)).inserted { out.append(IncrementalPiece(path: path, kind: kind)) }
    }

    private static let zero = ObjectHash(w0: 0, w1: 0, w2: 0, w3: 0)

    /// Whether anything at or below `comps` differs from the previous commit.
    func changed(_ comps: [String], _ cur: TreeEntry, _ prev: TreeEntry?) throws -> Bool {
        guard let prev, let previous, prev.kind == cur.kind else { return true }
        if cur.kind != .dir { return cur.hash != prev.hash }
        if cur.hash != Self.zero, cur.hash == prev.hash { return false }
        // Tree hashes also differ for touched files: compare contents (what datum hashes see).
        return try ContentDigest.of(current, comps, cur) != ContentDigest.of(previous, comps, prev)
    }

    mutating func diff(_ comps: [String], _ cur: TreeEntry, _ prev: TreeEntry?) throws {
        let path = "/" + comps.joined(separator: "/")
        switch cur.kind {
        case .dir:
            if let prev, prev.kind == .dir, cur.hash != Self.zero, cur.hash == prev.hash { return }
            var before: [[UInt8]: TreeEntry] = [:]
            if let prev, prev.kind == .dir, let previous {
                for e in try previous.list(comps) { before[Array(e.name.utf8)] = e }
            }
            for child in try current.list(comps) {
                try diff(comps + [child.name], child, before[Array(child.name.utf8)])
            }
        case .symlink:
            if prev?.kind != .symlink || prev?.hash != cur.hash { emit(path, .whole) }
        case .file:
            guard let prev, prev.kind == .file else { return emit(path, .whole) }
            if prev.hash == cur.hash { return }
            if let from = try Incrementality.appendOffset(old: prev, new: cur, trees: trees) {
                emit(path, .appended(from: from))
            } else {
                emit(path, .whole)
            }
        }
    }
}

import Foundation
import PFSCore
import Synchronization

/// The content hash of a matched path, as datum hashes use it: a file's content hash (its manifest hash), a
/// symlink's target hash, and for a directory a digest of its names, kinds and their content hashes, recursively.
///
/// Not the directory's tree hash: a tree records mtimes and modes, and a datum must not run again because a file
/// was copied again unchanged (`cp -r` without `-p`) or touched. A directory's digest depends only on its tree,
/// so digests are memoized by tree hash: planning a commit again opens only the directories that changed.
enum ContentDigest {
    private static let zero = ObjectHash(w0: 0, w1: 0, w2: 0, w3: 0)
    private static let tag = Array("pfs.datum.dir.v1\n".utf8)
    /// Tree hash → digest. Bounded: emptied when full (a miss costs one directory listing per directory).
    private static let memo = Mutex<[ObjectHash: ObjectHash]>([:])
    private static let memoLimit = 250_000

    static func of(_ view: CommitView, _ comps: [String], _ e: TreeEntry) throws -> ObjectHash {
        guard e.kind == .dir else { return e.hash }
        // An open commit has no tree hash yet for the directories it changed: those are not memoized.
        let memoizable = e.hash != zero
        if memoizable, let d = memo.withLock({ $0[e.hash] }) { return d }
        var buf = tag
        for child in try view.list(comps) {
            let n = UInt32(truncatingIfNeeded: child.name.utf8.count)
            buf.append(contentsOf: [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)])
            buf.append(contentsOf: child.name.utf8)
            buf.append(child.kind.rawValue)
            buf.append(contentsOf: try of(view, comps + [child.name], child).bytes)
        }
        let digest = ObjectHash.of(buf)
        if memoizable {
            memo.withLock {
                if $0.count >= memoLimit { $0.removeAll(keepingCapacity: true) }
                $0[e.hash] = digest
            }
        }
        return digest
    }
}

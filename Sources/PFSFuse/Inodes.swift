import Foundation
import PFSCore

/// What an inode stands for. Paths inside a branch or commit are clean-path components.
public enum NodeKey: Hashable, Sendable, CustomStringConvertible {
    case root
    case repo(String)
    /// `<repo>/.commits`
    case commitsDir(String)
    /// A path in the live, writable view of a branch.
    case branch(repo: String, branch: String, path: [String])
    /// A path in one commit (read-only).
    case commit(repo: String, id: String, path: [String])
    /// The control tree `/.pfs/…` (pipelines and jobs as files).
    case control([String])
    /// The directory of one registered datum view (lists its inputs).
    case datumRoot(String)
    /// A path in one input of a datum view (read-only): only the datum's files are there.
    case datum(token: String, input: String, path: [String])

    public var description: String {
        switch self {
        case .root: return "/"
        case .repo(let r): return "/\(r)"
        case .commitsDir(let r): return "/\(r)/.commits"
        case .branch(let r, let b, let p): return "/\(r)/\(b)/" + p.joined(separator: "/")
        case .commit(let r, let c, let p): return "/\(r)/\(c)/" + p.joined(separator: "/")
        case .datumRoot(let t): return "/\(t)"
        case .control(let p): return "/.pfs/" + p.joined(separator: "/")
        case .datum(let t, let i, let p): return "/\(t)/\(i)/" + p.joined(separator: "/")
        }
    }

    func child(_ name: String) -> NodeKey? {
        switch self {
        case .branch(let r, let b, let p): return .branch(repo: r, branch: b, path: p + [name])
        case .commit(let r, let c, let p): return .commit(repo: r, id: c, path: p + [name])
        case .datum(let t, let i, let p): return .datum(token: t, input: i, path: p + [name])
        default: return nil
        }
    }
}

/// The inode table: stable numbers for keys, with the kernel's lookup counts. A node is dropped when the
/// kernel forgets it (its count reaches 0). Lock order: the table's lock is a leaf — nothing else is taken
/// while it is held.
final class InodeTable: @unchecked Sendable {
    struct Inode {
        var key: NodeKey
        var lookups: UInt64
        /// Unlinked or renamed-over while the kernel still knew it: no longer reachable by path.
        var orphan: Bool
    }

    /// A branch of a repo, for the per-branch count of inodes.
    struct BranchRef: Hashable {
        var repo: String
        var branch: String
    }

    static let rootIno: UInt64 = 1
    private let lock = NSLock()
    private var byIno: [UInt64: Inode] = [rootIno: Inode(key: .root, lookups: 1, orphan: false)]
    private var byKey: [NodeKey: UInt64] = [.root: rootIno]
    private var next: UInt64 = 2
    /// How many live inodes each branch has (so a store change checks each branch once, not each inode).
    private var branchCounts: [BranchRef: Int] = [:]

    private static func branchRef(_ key: NodeKey) -> BranchRef? {
        if case .branch(let r, let b, _) = key { return BranchRef(repo: r, branch: b) }
        return nil
    }

    /// The inode for `key`, created if needed; counts one kernel lookup when `count` is set.
    func ino(for key: NodeKey, count: Bool) -> UInt64 {
        lock.withLock {
            if let ino = byKey[key] {
                if count { byIno[ino]!.lookups += 1 }
                return ino
            }
            let ino = next
            next += 1
            byIno[ino] = Inode(key: key, lookups: count ? 1 : 0, orphan: false)
            byKey[key] = ino
            if let b = Self.branchRef(key) { branchCounts[b, default: 0] += 1 }
            return ino
        }
    }

    func key(_ ino: UInt64) -> NodeKey? { lock.withLock { byIno[ino]?.key } }

    func inode(_ ino: UInt64) -> Inode? { lock.withLock { byIno[ino] } }

    func existingIno(_ key: NodeKey) -> UInt64? { lock.withLock { byKey[key] } }

    func forget(_ ino: UInt64, _ n: UInt64) {
        lock.withLock {
            guard ino != Self.rootIno, var node = byIno[ino] else { return }
            precondition(node.lookups >= n, "inode \(ino) forgotten \(n) times but looked up only \(node.lookups)")
            node.lookups -= n
            if node.lookups == 0 {
                byIno[ino] = nil
                if byKey[node.key] == ino { byKey[node.key] = nil }
                if let b = Self.branchRef(node.key), let n = branchCounts[b] {
                    branchCounts[b] = n > 1 ? n - 1 : nil
                }
            } else {
                byIno[ino] = node
            }
        }
    }

    /// The node at `key` is gone (unlink/rmdir): later lookups of that path get a new inode.
    func orphan(_ key: NodeKey) {
        lock.withLock {
            guard let ino = byKey.removeValue(forKey: key) else { return }
            byIno[ino]?.orphan = true
        }
    }

    /// Moves every inode at or below `from` to the same place below `to` (rename within a branch).
    func move(from: NodeKey, to: NodeKey) {
        guard case .branch(let r, let b, let fp) = from, case .branch(_, _, let tp) = to else { return }
        lock.withLock {
            if let old = byKey.removeValue(forKey: to) { byIno[old]?.orphan = true }
            var moves: [(NodeKey, UInt64, NodeKey)] = []
            for (key, ino) in byKey {
                guard case .branch(let kr, let kb, let kp) = key, kr == r, kb == b, kp.count >= fp.count,
                      Array(kp.prefix(fp.count)) == fp else { continue }
                moves.append((key, ino, .branch(repo: r, branch: b, path: tp + kp.dropFirst(fp.count))))
            }
            for (oldKey, _, _) in moves { byKey[oldKey] = nil }
            for (_, ino, newKey) in moves {
                if let displaced = byKey[newKey], displaced != ino { byIno[displaced]?.orphan = true }
                byKey[newKey] = ino
                byIno[ino]?.key = newKey
            }
        }
    }

    /// Inodes currently known below a branch (for cache invalidation when the branch moves elsewhere).
    func inodes(repo: String, branch: String) -> [(UInt64, NodeKey)] {
        lock.withLock {
            byKey.compactMap { key, ino in
                if case .branch(let r, let b, _) = key, r == repo, b == branch { return (ino, key) }
                return nil
            }
        }
    }

    /// The branches that have inodes the kernel may cache (checked for head moves on store changes).
    func knownBranches() -> [BranchRef] {
        lock.withLock { Array(branchCounts.keys) }
    }

    var count: Int { lock.withLock { byIno.count } }
}

import Foundation
import GRDB

/// Writers (put sessions) and garbage collection exclude each other: a session may dedup against an
/// object that is unreachable at that moment, so GC must not run while any session is in flight.
final class WriteGate: @unchecked Sendable {
    private let cond = NSCondition()
    private var writers = 0
    private var collecting = false

    func enterWriter() {
        cond.lock()
        while collecting { cond.wait() }
        writers += 1
        cond.unlock()
    }

    func leaveWriter() {
        cond.lock()
        writers -= 1
        cond.broadcast()
        cond.unlock()
    }

    func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        cond.lock()
        while collecting { cond.wait() }
        collecting = true
        while writers > 0 { cond.wait() }
        cond.unlock()
        defer {
            cond.lock()
            collecting = false
            cond.broadcast()
            cond.unlock()
        }
        return try body()
    }
}

extension Store {
    /// Runs `body` as a writer that garbage collection waits for. Whoever stores objects — or finds them already
    /// stored and skips them (dedup) — and then references them in a commit must do both inside one `writing`
    /// call: otherwise a GC in between could remove an object that was unreachable at that moment. Put sessions
    /// do this on their own. Do not call `gc()` inside (it would wait for itself).
    public func writing<T>(_ body: () throws -> T) rethrows -> T {
        gate.enterWriter()
        defer { gate.leaveWriter() }
        return try body()
    }

    /// Removes every object not reachable from a commit (finished or open). Waits for in-flight writes.
    public func gc() throws -> GCReport {
        try gate.exclusive {
            try locked {
                var live = Set<ObjectHash>()
                for c in try meta.read({ try MetadataStore.allCommits($0) }) {
                    if let root = c.root {
                        try trees.walkObjects(root: root, seen: &live) { _, _, _ in }
                    }
                }
                for tree in openTrees.withLock({ Array($0.values) }) {
                    if let base = tree.baseRoot { try trees.walkObjects(root: base, seen: &live) { _, _, _ in } }
                    try tree.forEachReferencedEntry { path, e in
                        try trees.walkEntry(e, path: path, seen: &live) { _, _, _ in }
                    }
                }
                var kept = 0, removed = 0
                var freed: Int64 = 0
                var doomed: [(ObjectHash, Int64)] = []
                try objects.forEachObject { h, size, _ in
                    if live.contains(h) { kept += 1 } else { doomed.append((h, size)) }
                }
                for (h, size) in doomed {
                    try objects.delete(h)
                    removed += 1
                    freed += size
                }
                try objects.finishDeletes()
                logger.info("gc", metadata: ["kept": "\(kept)", "removed": "\(removed)", "bytes": "\(freed)"])
                return GCReport(objectsKept: kept, objectsRemoved: removed, bytesRemoved: freed)
            }
        }
    }

    /// Checks that every object reachable from every commit (for an open commit: its parent's tree and its staged
    /// changes) exists and (with `verify`) re-hashes to its name; also checks the commit graph and branch heads.
    /// A missing or damaged tree is reported with the path that reaches it, and the check goes on with the rest.
    public func fsck(verify: Bool = true) throws -> FsckReport {
        // Open commits may refer to deferred objects: move them into place so they are checked like the rest.
        try writing { try deferredObjects.commit() }
        var problems: [FsckProblem] = []
        var seen = Set<ObjectHash>()
        var objectsChecked = 0
        var bytes: Int64 = 0
        let (commits, branches) = try meta.read { db in
            (try MetadataStore.allCommits(db), try Row.fetchAll(db, sql: "SELECT repo, name, head FROM branches"))
        }
        let ids = Set(commits.map(\.id))
        for b in branches {
            if let head: String = b["head"], !ids.contains(head) {
                problems.append(FsckProblem(object: head, problem: "branch head points at a missing commit",
                                            referencedBy: "\(b["repo"] as String)@\(b["name"] as String)"))
            }
        }
        var reported = Set<ObjectHash>()
        for c in commits {
            let commit = "\(c.repo)@\(c.id)"
            if let p = c.parent, !ids.contains(p) {
                problems.append(FsckProblem(object: p, problem: "parent commit is missing", referencedBy: commit))
            }
            var roots: [ObjectHash] = []
            var staged: [(path: String, entry: TreeEntry)] = []
            if c.state == .finished {
                guard let root = c.root else {
                    problems.append(FsckProblem(object: c.id, problem: "finished commit has no root tree", referencedBy: commit))
                    continue
                }
                roots.append(root)
            } else {
                guard let tree = openTree(c.repo, c.id) else {
                    // A pipeline's output commit gets its working tree when its job starts (`prepareOutputCommit`);
                    // until then it holds nothing but its parent, which is checked as a commit of its own. Not
                    // damage: scripts/torture found fsck reporting every queued job's output commit.
                    if c.origin == .auto { continue }
                    problems.append(FsckProblem(object: c.id, problem: "open commit has no working tree", referencedBy: commit))
                    continue
                }
                if let base = tree.baseRoot { roots.append(base) }
                try tree.forEachReferencedEntry { staged.append(($0, $1)) }
            }
            func visit(_ h: ObjectHash, _ kind: TreeStore.ObjectKind, _ path: String) throws {
                objectsChecked += 1
                if let p = try check(h, kind: kind, verify: verify, bytes: &bytes), reported.insert(h).inserted {
                    problems.append(FsckProblem(object: h.hex, problem: p, referencedBy: "\(commit):\(path)"))
                }
            }
            // A tree or manifest that cannot be decoded: reported once (a missing one was already, by `visit`).
            func unreadable(_ h: ObjectHash, _ path: String, _ e: PFSError) {
                if reported.insert(h).inserted {
                    problems.append(FsckProblem(object: h.hex, problem: e.message, referencedBy: "\(commit):\(path)"))
                }
            }
            for root in roots {
                try trees.walkObjects(root: root, seen: &seen, unreadable: unreadable, visit: visit)
            }
            for (path, entry) in staged {
                try trees.walkEntry(entry, path: path, seen: &seen, unreadable: unreadable, visit: visit)
            }
        }
        return FsckReport(commitsChecked: commits.count, objectsChecked: objectsChecked, bytesChecked: bytes,
                          problems: problems)
    }

    private func check(_ h: ObjectHash, kind: TreeStore.ObjectKind, verify: Bool, bytes: inout Int64) throws -> String? {
        guard objects.exists(h) else { return "\(kind) object is missing" }
        guard verify || kind == .tree else { return nil }
        let data: [UInt8]
        do { data = try objects.read(h) } catch { return "\(kind) object cannot be read: \(error)" }
        bytes += Int64(data.count)
        if ObjectHash.of(data) != h { return "\(kind) object is damaged: its content does not hash to its name" }
        return nil
    }
}

import Foundation
import GRDB

extension Store {
    // MARK: resolving references

    /// Resolves `ref` (branch, id or unique id prefix ≥ 8 hex, with `^`/`~N` suffixes) to a commit of `repo`.
    public func resolveCommit(repo: String, ref: String) throws -> CommitRow {
        try meta.read { db in try resolve(db, repo: repo, ref: ref) }
    }

    func resolve(_ db: Database, repo: String, ref: String) throws -> CommitRow {
        let parsed = try CommitRef.parseRef(ref)
        _ = try requireRepo(db, repo)
        var commit: CommitRow
        if let b = try MetadataStore.branch(db, repo, parsed.base) {
            guard let head = b.head, let c = try MetadataStore.commit(db, repo, head) else {
                throw PFSError.notFound("branch \(repo)@\(b.name) has no commits yet; put a file into it first (`pfs put file \(repo)@\(b.name):/path -f FILE`)")
            }
            commit = c
        } else if CommitRef.looksLikeCommitID(parsed.base) {
            let prefix = parsed.base.lowercased()
            let matches = try MetadataStore.commits(db, repo: repo, idPrefix: prefix, limit: 5)
            if matches.isEmpty {
                throw PFSError.notFound("no commit \(prefix) in repo \"\(repo)\"; list commits with `pfs list commit \(repo)`")
            }
            if matches.count > 1 {
                throw PFSError(.ambiguous, "commit prefix \(prefix) is ambiguous in repo \"\(repo)\": it matches \(matches.map(\.id).joined(separator: ", ")); give more digits")
            }
            commit = matches[0]
        } else if (try? Names.validateBranch(parsed.base)) != nil {
            throw PFSError.notFound("branch \"\(parsed.base)\" does not exist in repo \"\(repo)\"; list branches with `pfs list branch \(repo)`, or put a file into \(repo)@\(parsed.base) to create it")
        } else {
            throw PFSError.notFound("\"\(parsed.base)\" is neither a branch of repo \"\(repo)\" nor a commit id; list branches with `pfs list branch \(repo)`")
        }
        for step in 0..<parsed.ancestry {
            guard let p = commit.parent, let parent = try MetadataStore.commit(db, repo, p) else {
                throw PFSError.notFound("\(repo)@\(ref): commit \(commit.id) has no parent (\(step) step(s) back is the first commit)")
            }
            commit = parent
        }
        return commit
    }

    // MARK: commit info

    public func inspectCommit(repo: String, ref: String) throws -> CommitInfo {
        try meta.read { db in try commitInfo(db, try resolve(db, repo: repo, ref: ref)) }
    }

    func commitInfo(_ db: Database, _ c: CommitRow) throws -> CommitInfo {
        var size = c.size
        if c.state == .open, let t = openTree(c.repo, c.id) { size = t.size }
        return CommitInfo(id: c.id, repo: c.repo, branch: c.branch, parent: c.parent,
                          children: try MetadataStore.children(db, c.repo, c.id), state: c.state, origin: c.origin,
                          description: c.description, started: c.started, finished: c.finished, sizeBytes: size,
                          root: c.root?.hex, commitSet: c.commitSet, provenance: c.provenance)
    }

    /// Commits newest first: the history of `branch` (default `master` if it exists), or every commit with `all`.
    public func listCommits(repo: String, branch: String? = nil, all: Bool = false, limit: Int? = nil) throws -> [CommitInfo] {
        try meta.read { db in
            _ = try requireRepo(db, repo)
            var rows: [CommitRow] = []
            let max = limit.map { $0 <= 0 ? Int.max : $0 } ?? Int.max
            var start: String?
            if let branch {
                // A branch without commits has an empty history (as `master` does below), not a missing commit.
                let parsed = try CommitRef.parseRef(branch)
                if parsed.ancestry == 0, let b = try MetadataStore.branch(db, repo, parsed.base), b.head == nil { return [] }
                start = try resolve(db, repo: repo, ref: branch).id
            } else if !all, let master = try MetadataStore.branch(db, repo, "master") {
                start = master.head
                if start == nil { return [] }
            }
            if let s = start {
                var cur: String? = s
                while let id = cur, rows.count < max, let c = try MetadataStore.commit(db, repo, id) {
                    rows.append(c)
                    cur = c.parent
                }
            } else {
                rows = Array(try MetadataStore.commits(db, repo: repo).prefix(max))
            }
            return try rows.map { try commitInfo(db, $0) }
        }
    }

    // MARK: lifecycle

    /// Opens a commit on `branch` (creating the branch if needed). Its parent is the branch head, or `parent`.
    @discardableResult
    public func startCommit(repo: String, branch: String, parent: String? = nil, description: String = "",
                            origin: CommitOrigin = .user, commitSet: String? = nil,
                            provenance: [CommitRefInfo] = []) throws -> CommitInfo {
        try Names.validateBranch(branch)
        return try locked {
            let parentRow = try meta.read { db -> CommitRow? in
                _ = try requireRepo(db, repo)
                if origin == .user { try refuseUserWrite(db, repo: repo, branch: branch, commit: nil) }
                let b = try MetadataStore.branch(db, repo, branch)
                if let h = b?.head, let head = try MetadataStore.commit(db, repo, h), head.state == .open {
                    throw PFSError.precondition("branch \(repo)@\(branch) already has an open commit \(h); write into it, or finish it first with `pfs finish commit \(repo)@\(branch)`")
                }
                var parentRow: CommitRow?
                if let parent {
                    parentRow = try resolve(db, repo: repo, ref: parent)
                } else if let h = b?.head {
                    parentRow = try MetadataStore.commit(db, repo, h)
                }
                if let p = parentRow, p.state == .open {
                    throw PFSError.precondition("parent commit \(p.id) is still open; finish it first")
                }
                return parentRow
            }
            let row = try openCommitLocked(repo: repo, branch: branch, parent: parentRow, description: description,
                                           origin: origin, commitSet: commitSet, provenance: provenance)
            return try meta.read { db in try commitInfo(db, row) }
        }
    }

    /// Finishes an open commit: writes its changed directories, makes them durable, then records the root and
    /// moves nothing else (the branch head already points at it). With `discardIfEmpty`, a commit with no
    /// changes is deleted instead and nil is returned.
    @discardableResult
    public func finishCommit(repo: String, ref: String, description: String? = nil,
                             discardIfEmpty: Bool = false, asPipeline: Bool = false) throws -> CommitInfo? {
        let result: CommitRow? = try locked {
            let c = try meta.read { db in
                let c = try resolve(db, repo: repo, ref: ref)
                // A job's output commit is finished by its job (a user finishing it would cut the job short).
                if !asPipeline, c.origin == .auto, c.state == .open { try refuseUserWrite(db, repo: repo, branch: nil, commit: c) }
                return c
            }
            guard c.state == .open else {
                throw PFSError(.readOnly, "commit \(c.id) of repo \"\(repo)\" is already finished")
            }
            guard let tree = openTree(c.repo, c.id) else {
                throw PFSError(.internal, "open commit \(c.id) has no working tree; restart the daemon to restore it")
            }
            let parent = tree.baseRoot
            // Objects of files closed through the mount first: the tree written next refers to them.
            try deferredObjects.commit()
            let written = try writeTree(tree)
            // No change: the parent's tree again or, without a parent, an empty tree (e.g. a directory made and
            // removed again).
            let unchanged = parent.map { written.root == $0 } ?? (written.root == TreeStore.emptyTreeHash)
            if discardIfEmpty, unchanged {
                try meta.write { db in
                    if let b = c.branch { try MetadataStore.setHead(db, repo, b, c.parent) }
                    try MetadataStore.deleteCommit(db, repo, c.id)
                }
                openTrees.withLock { $0[Self.openKey(c.repo, c.id)] = nil }
                return nil
            }
            try meta.write { db in
                try MetadataStore.markFinished(db, repo, c.id, root: written.root, size: written.size, finished: Date(),
                                               description: description)
                try propagate(db, from: c)
            }
            openTrees.withLock { $0[Self.openKey(c.repo, c.id)] = nil }
            return try meta.read { db in try MetadataStore.commit(db, repo, c.id) }
        }
        finishEvents.notifyAll()
        guard let row = result else { return nil }
        return try meta.read { db in try commitInfo(db, row) }
    }

    /// Deletes a commit that has no children. Branches pointing at it move back to its parent.
    public func deleteCommit(repo: String, ref: String) throws {
        try locked {
            try meta.write { db in
                let c = try resolve(db, repo: repo, ref: ref)
                let kids = try MetadataStore.children(db, repo, c.id)
                if !kids.isEmpty {
                    throw PFSError.precondition("commit \(c.id) has \(kids.count) child commit(s) (\(kids.joined(separator: ", "))); delete them first, newest first")
                }
                for b in try MetadataStore.branchesPointingAt(db, repo, c.id) {
                    try MetadataStore.setHead(db, b.repo, b.name, c.parent)
                }
                try MetadataStore.deleteCommit(db, repo, c.id)
                openTrees.withLock { $0[Self.openKey(c.repo, c.id)] = nil }
            }
        }
        finishEvents.notifyAll()
    }

    /// Waits until the commit named by `ref` and every commit of its commit set are finished.
    public func waitCommit(repo: String, ref: String, timeout: Duration? = nil) async throws -> [CommitInfo] {
        let id = try resolveCommit(repo: repo, ref: ref).id
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            let generation = finishEvents.generation
            let set = try meta.read { db -> [CommitRow] in
                guard let c = try MetadataStore.commit(db, repo, id) else {
                    throw PFSError.notFound("commit \(id) was deleted while waiting for it")
                }
                return try MetadataStore.commits(db, commitSet: c.commitSet)
            }
            if set.allSatisfy({ $0.state == .finished }) {
                return try meta.read { db in try set.map { try commitInfo(db, $0) } }
            }
            if let deadline, ContinuousClock.now >= deadline {
                throw PFSError(.timeout, "commit \(id) is still open after the timeout; finish it with `pfs finish commit \(repo)@\(id)`")
            }
            var wait = Duration.seconds(5)
            if let deadline { wait = min(wait, deadline - ContinuousClock.now) }
            await finishEvents.wait(after: generation, timeout: wait)
        }
    }
}

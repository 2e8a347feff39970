import Foundation
import GRDB

/// Where staged ops went: the open commit, and whether this call opened it.
public struct StageResult: Sendable, Equatable {
    public var commit: String
    public var opened: Bool
}

extension Store {
    /// The description of commits opened by `stage` (the mount): after a crash, the mount finishes these.
    public static let mountCommitDescription = "written through the pfs mount"

    /// Applies `ops` to the open commit of `repo@branch`, opening one first if the branch has none
    /// (parent = the branch head; the branch is created if missing). Returns the open commit's id.
    /// The ops are validated against the live tree and persisted in one transaction: either all apply or
    /// none. This is how the mount writes: each mutating filesystem operation becomes staged ops.
    ///
    /// With `durable: false` (the mount's default) the log entry survives a crash of the daemon at once and a
    /// power loss once `syncStaged()` or the commit's finish ran; objects the ops reference must be in
    /// `deferredObjects` or stored. With `durable: true` they are synced first and the log entry too.
    @discardableResult
    public func stage(repo: String, branch: String, ops: [StagedOp], durable: Bool = false) throws -> StageResult {
        try Names.validateBranch(branch)
        return try locked {
            let open: CommitRow? = try meta.read { db in
                _ = try requireRepo(db, repo)
                try refuseUserWrite(db, repo: repo, branch: branch, commit: nil)
                guard let b = try MetadataStore.branch(db, repo, branch), let h = b.head,
                      let head = try MetadataStore.commit(db, repo, h), head.state == .open else { return nil }
                return head
            }
            let commit: CommitRow
            if let open {
                commit = open
            } else {
                let parent = try meta.read { db in
                    try MetadataStore.branch(db, repo, branch)?.head.flatMap { try MetadataStore.commit(db, repo, $0) }
                }
                commit = try openCommitLocked(repo: repo, branch: branch, parent: parent, description: Self.mountCommitDescription)
            }
            guard let tree = openTree(commit.repo, commit.id) else {
                throw PFSError(.internal, "open commit \(commit.id) has no working tree; restart the daemon to restore it")
            }
            do {
                // All or nothing: a refused op or a failed log write leaves the working tree as it was.
                let now = Self.nowNs()
                if durable { try deferredObjects.commit() }
                try tree.apply(ops, now: now) {
                    if durable {
                        try meta.write { db in try MetadataStore.appendStagedOps(db, repo, commit.id, ops, nowNs: now) }
                    } else {
                        try meta.writeUnsynced { db in try MetadataStore.appendStagedOps(db, repo, commit.id, ops, nowNs: now) }
                    }
                }
            } catch {
                if open == nil {
                    // The commit was opened for these ops only: remove it again.
                    try? meta.write { db in
                        try MetadataStore.setHead(db, repo, branch, commit.parent)
                        try MetadataStore.deleteCommit(db, repo, commit.id)
                    }
                    openTrees.withLock { $0[Self.openKey(commit.repo, commit.id)] = nil }
                }
                throw error
            }
            return StageResult(commit: commit.id, opened: open == nil)
        }
    }

    /// Makes everything staged so far durable against power loss: the deferred objects, then the op logs
    /// (`fsync()` of a file in the mount).
    public func syncStaged() throws {
        try writing {
            try deferredObjects.commit()
            try meta.syncWAL()
        }
    }

    /// Opens a commit on `branch` as its new head, with its working tree (caller holds the write lock and has
    /// checked the branch has no open commit and `parent` is finished).
    func openCommitLocked(repo: String, branch: String, parent: CommitRow?, description: String,
                          origin: CommitOrigin = .user, commitSet: String? = nil,
                          provenance: [CommitRefInfo] = []) throws -> CommitRow {
        let row = try meta.write { db -> CommitRow in
            let id = CommitID.generate()
            let row = CommitRow(id: id, repo: repo, branch: branch, parent: parent?.id, root: nil, state: .open,
                                origin: origin, description: description, started: Date(), finished: nil,
                                size: parent?.size ?? 0, commitSet: commitSet ?? id, provenance: provenance,
                                seq: try MetadataStore.nextSeq(db))
            try MetadataStore.insertCommitAsHead(db, row)
            return row
        }
        let tree = try WorkingTree(trees: trees, baseRoot: parent?.root)
        openTrees.withLock { $0[Self.openKey(row.repo, row.id)] = tree }
        return row
    }

    /// Writes a working tree's changed directories and makes them durable; returns the root and size.
    func writeTree(_ tree: WorkingTree) throws -> (root: ObjectHash, size: Int64) {
        try withBatch { try tree.write(batch: $0) }
    }

    /// Runs `body` with a new object batch and commits the batch (its objects durable) after it; aborted if it throws.
    func withBatch<T>(_ body: (any ObjectBatch) throws -> T) throws -> T {
        let batch = objects.makeBatch()
        do {
            let result = try body(batch)
            try batch.commit()
            return result
        } catch {
            batch.abort()
            throw error
        }
    }

    /// The head commit of a branch (nil: no such branch, or no commits yet).
    public func branchHead(repo: String, branch: String) throws -> CommitRow? {
        try meta.read { db in
            guard let b = try MetadataStore.branch(db, repo, branch), let h = b.head else { return nil }
            return try MetadataStore.commit(db, repo, h)
        }
    }

    /// Every commit of a repo, newest first (rows, for the mount's `.commits/`).
    public func commitRows(repo: String) throws -> [CommitRow] {
        try meta.read { db in
            _ = try requireRepo(db, repo)
            return try MetadataStore.commits(db, repo: repo)
        }
    }

    /// The open commits of every branch (for the mount to finish at unmount).
    public func openCommitRows() throws -> [CommitRow] {
        try meta.read { db in try MetadataStore.openCommits(db) }
    }
}

import Foundation
import GRDB

/// Branch provenance and commit sets. A branch with provenance (a pipeline's output branch) gets a commit
/// whenever one of the branches it comes from gets one: finishing a user commit opens, in the same
/// transaction, a commit on every branch downstream of it — all with the finished commit's id, so one id names
/// the whole commit set (`pfs wait commit <id>`), and each records the exact upstream commits it is computed from.
extension Store {
    /// Sets the branches `repo@branch` is computed from (creating the branch if needed). Refuses cycles.
    public func setBranchProvenance(repo: String, branch: String, upstream: [BranchRef]) throws {
        try Names.validateBranch(branch)
        try locked {
            try meta.write { db in
                _ = try requireRepo(db, repo)
                for u in upstream { _ = try requireRepo(db, u.repo) }
                if try MetadataStore.branch(db, repo, branch) == nil {
                    try MetadataStore.insertBranch(db, BranchRow(repo: repo, name: branch, head: nil, created: Date()))
                }
                // A cycle: some upstream (transitively) comes from this branch.
                let me = BranchRef(repo: repo, branch: branch)
                let all = try MetadataStore.allBranches(db)
                var byRef: [BranchRef: [BranchRef]] = [:]
                for b in all { byRef[BranchRef(repo: b.repo, branch: b.name)] = b.provenance }
                byRef[me] = upstream
                var stack = upstream, seen = Set<BranchRef>()
                while let u = stack.popLast() {
                    if u == me {
                        throw PFSError.invalid("\(me) cannot come from \(upstream.map(\.description).joined(separator: ", ")): that would make a cycle")
                    }
                    if seen.insert(u).inserted { stack += byRef[u] ?? [] }
                }
                try MetadataStore.setProvenance(db, repo, branch, upstream)
            }
        }
    }

    /// Branches that come (transitively) from `source`, each after every one of its upstreams in the set.
    func downstream(_ db: Database, of source: BranchRef) throws -> [BranchRow] {
        let all = try MetadataStore.allBranches(db)
        // Everything reachable downstream of the source.
        var reached: Set<BranchRef> = [source]
        var grew = true
        while grew {
            grew = false
            for b in all where !reached.contains(BranchRef(repo: b.repo, branch: b.name)) {
                if b.provenance.contains(where: reached.contains) {
                    reached.insert(BranchRef(repo: b.repo, branch: b.name))
                    grew = true
                }
            }
        }
        // Topological order inside that set.
        var pending = all.filter { reached.contains(BranchRef(repo: $0.repo, branch: $0.name)) && !($0.repo == source.repo && $0.name == source.branch) }
        var placed: Set<BranchRef> = [source]
        var result: [BranchRow] = []
        while !pending.isEmpty {
            guard let i = pending.firstIndex(where: { b in b.provenance.allSatisfy { !reached.contains($0) || placed.contains($0) } }) else {
                throw PFSError.corrupt("branch provenance has a cycle below \(source); fix it with `pfs create branch --provenance`")
            }
            let b = pending.remove(at: i)
            placed.insert(BranchRef(repo: b.repo, branch: b.name))
            result.append(b)
        }
        return result
    }

    /// Opens the commits of `finished`'s commit set on every downstream branch (caller: inside the transaction
    /// that finished it). Their working trees are made when their job starts (`prepareOutputCommit`).
    func propagate(_ db: Database, from finished: CommitRow) throws {
        guard finished.origin == .user, let branch = finished.branch else { return }
        try openDownstream(db, of: BranchRef(repo: finished.repo, branch: branch), commit: finished)
    }

    /// Opens a commit of `commit`'s set on every branch downstream of `source` that has none in it yet.
    func openDownstream(_ db: Database, of source: BranchRef, commit finished: CommitRow) throws {
        let branch = source.branch
        let down = try downstream(db, of: source)
        guard !down.isEmpty else { return }
        var heads: [BranchRef: String] = [BranchRef(repo: finished.repo, branch: branch): finished.id]
        for d in down {
            let prov = try d.provenance.map { u -> CommitRefInfo in
                let head = try heads[u] ?? MetadataStore.branch(db, u.repo, u.branch)?.head ?? ""
                return CommitRefInfo(repo: u.repo, branch: u.branch, id: head)
            }
            let id = finished.commitSet
            if try MetadataStore.commit(db, d.repo, id) != nil { continue }
            let parent = try d.head.flatMap { try MetadataStore.commit(db, d.repo, $0) }
            let row = CommitRow(id: id, repo: d.repo, branch: d.name, parent: parent?.id, root: nil, state: .open,
                                origin: .auto, description: "", started: Date(), finished: nil, size: parent?.size ?? 0,
                                commitSet: finished.commitSet, provenance: prov, seq: try MetadataStore.nextSeq(db))
            try MetadataStore.insertCommitAsHead(db, row)
            heads[BranchRef(repo: d.repo, branch: d.name)] = id
        }
    }

    /// Makes the working tree of an output commit opened by propagation (its parent must be finished).
    /// With `empty`, the commit starts from an empty tree instead of its parent's.
    public func prepareOutputCommit(repo: String, id: String, empty: Bool = false) throws {
        try locked {
            guard let c = try meta.read({ try MetadataStore.commit($0, repo, id) }), c.state == .open else {
                throw PFSError.notFound("no open commit \(id) in repo \"\(repo)\"")
            }
            let base = empty ? nil : try parentRoot(of: c)
            let tree = try WorkingTree(trees: trees, baseRoot: base)
            openTrees.withLock { $0[Self.openKey(repo, id)] = tree }
        }
    }

    /// Open commits made by propagation, oldest first (the scheduler's queue after a restart).
    public func openAutoCommits() throws -> [CommitRow] {
        try meta.read { db in try MetadataStore.openCommits(db).filter { $0.origin == .auto } }
    }

    /// Every branch with provenance (pipeline outputs) and what it comes from.
    public func branchesWithProvenance() throws -> [BranchRow] {
        try meta.read { db in try MetadataStore.allBranches(db).filter { !$0.provenance.isEmpty } }
    }
}

extension Store {
    /// Opens a commit on a branch with provenance from the current heads of its upstream branches (a pipeline
    /// was created or updated: process what is already there). Returns the new commit's id, or nil when no
    /// upstream has a finished commit yet or the branch already has an open commit.
    @discardableResult
    public func triggerBranch(repo: String, branch: String) throws -> String? {
        try locked {
            try meta.write { db -> String? in
                guard let b = try MetadataStore.branch(db, repo, branch), !b.provenance.isEmpty else { return nil }
                if let h = b.head, let head = try MetadataStore.commit(db, repo, h), head.state == .open { return nil }
                var prov: [CommitRefInfo] = []
                // The commit joins the commit set of an upstream head, so `wait commit <input>` (1.x
                // `flush-commit`) also waits for the jobs a new pipeline runs on data that was already there:
                // an open pipeline output upstream (its finish will not propagate), else the newest upstream head.
                var join: CommitRow?
                for u in b.provenance {
                    let head = try MetadataStore.branch(db, u.repo, u.branch)?.head
                    if let head, let c = try MetadataStore.commit(db, u.repo, head) {
                        // An open user commit opens this branch's commit itself when it finishes.
                        if c.state == .open && c.origin == .user { return nil }
                        if let j = join {
                            if (c.state == .open) != (j.state == .open) ? c.state == .open : c.seq > j.seq { join = c }
                        } else {
                            join = c
                        }
                    }
                    prov.append(CommitRefInfo(repo: u.repo, branch: u.branch, id: head ?? ""))
                }
                guard let join else { return nil }
                var id = join.commitSet
                if try MetadataStore.commit(db, repo, id) != nil {
                    // Already computed from these inputs (`run pipeline`, `update pipeline --reprocess`): a new set,
                    // unless an upstream job of that set is still to come (it brings this branch's commit along).
                    if join.state == .open { return nil }
                    id = CommitID.generate()
                }
                let parent = try b.head.flatMap { try MetadataStore.commit(db, repo, $0) }
                let row = CommitRow(id: id, repo: repo, branch: branch, parent: parent?.id, root: nil,
                                    state: .open, origin: .auto, description: "", started: Date(),
                                    finished: nil, size: parent?.size ?? 0, commitSet: id,
                                    provenance: prov, seq: try MetadataStore.nextSeq(db))
                try MetadataStore.insertCommitAsHead(db, row)
                // Pipelines downstream compute from this output: they get their commits in the same set.
                try openDownstream(db, of: BranchRef(repo: repo, branch: branch), commit: row)
                return id
            }
        }
    }
}

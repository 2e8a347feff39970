import Foundation
import GRDB

/// Output branches — branches with provenance, such as a pipeline's output — are written only by the jobs that
/// compute them. A user write (`pfs put file`, `delete file`, `copy file`, `start commit`, a write through the
/// mount) into one is refused: while a job's commit is open it would otherwise join that commit, and outside a job
/// it would make the branch disagree with its inputs. The scheduler writes with `asPipeline: true`.
extension Store {
    /// Refuses a user write into `repo@branch` when the branch has provenance, or into `commit` when it was made by
    /// the system (a job's output commit). Caller: inside a read or write transaction.
    func refuseUserWrite(_ db: Database, repo: String, branch: String?, commit: CommitRow?) throws {
        let name = branch ?? commit?.branch
        var upstream: [BranchRef] = []
        if let name, let b = try MetadataStore.branch(db, repo, name) { upstream = b.provenance }
        guard !upstream.isEmpty || commit?.origin == .auto else { return }
        let what = name.map { "\(repo)@\($0)" } ?? "commit \(commit?.id ?? "") of repo \"\(repo)\""
        let from = upstream.isEmpty ? "" : " (computed from \(upstream.map(\.description).joined(separator: ", ")))"
        let isPipeline = try Row.fetchOne(db, sql: "SELECT 1 FROM pipelines WHERE name = ?", arguments: [repo]) != nil
        let fix = isPipeline
            ? "write to the pipeline's inputs instead, or delete the pipeline first (`pfs delete pipeline \(repo)`)"
            : "write to its upstream branches instead, or remove its provenance with `pfs create branch \(repo)@\(name ?? "master")`"
        throw PFSError(.readOnly, "\(what) is an output branch\(from); only \(isPipeline ? "the pipeline's jobs write" : "the system writes") to it; \(fix)")
    }

    /// Whether `repo@branch` refuses user writes (it has provenance); the mount asks before opening a file for writing.
    public func isOutputBranch(repo: String, branch: String) throws -> Bool {
        try meta.read { db in !(try MetadataStore.branch(db, repo, branch)?.provenance.isEmpty ?? true) }
    }

    /// Throws the error a user write into `repo@ref` gets, if any (a branch with provenance, or a job's commit).
    public func checkUserWrite(repo: String, ref: String) throws {
        try meta.read { db in
            guard try MetadataStore.repo(db, repo) != nil else { return }
            let parsed = try CommitRef.parseRef(ref)
            if parsed.ancestry == 0, try MetadataStore.branch(db, repo, parsed.base) != nil {
                try refuseUserWrite(db, repo: repo, branch: parsed.base, commit: nil)
            } else if let c = try? resolve(db, repo: repo, ref: ref) {
                try refuseUserWrite(db, repo: repo, branch: nil, commit: c)
            }
        }
    }
}

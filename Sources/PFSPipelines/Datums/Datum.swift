import Foundation

/// One input's piece of a datum: what `/pfs/<name>` shows the worker for this datum.
public struct DatumInput: Codable, Sendable, Equatable {
    /// The PFSInput name (`/pfs/<name>`).
    public var name: String
    public var repo: String
    public var branch: String
    /// The input commit id ("" for a branch with no commits).
    public var commit: String
    /// Paths (clean, absolute) matched by the glob, in byte order; each is a file or a directory with its whole
    /// subtree. Empty for a join or group datum that has nothing of this input (outer join, group).
    public var paths: [String]
    /// Content hashes (64 hex) of those paths, same order: a file's content hash, a directory's content digest
    /// (names and contents below it, not mtimes or modes; see `ContentDigest`).
    public var hashes: [String]
    /// The join key (`join_on` with the glob's captures substituted) for inputs that set `join_on`.
    public var joinOn: String?
    /// The group key (`group_by` with the glob's captures substituted) for inputs that set `group_by`.
    public var groupBy: String?

    public init(name: String, repo: String, branch: String, commit: String, paths: [String], hashes: [String],
                joinOn: String? = nil, groupBy: String? = nil) {
        self.name = name; self.repo = repo; self.branch = branch; self.commit = commit
        self.paths = paths; self.hashes = hashes; self.joinOn = joinOn; self.groupBy = groupBy
    }
}

/// One unit of work of a job: a set of input paths the user code sees together.
public struct Datum: Codable, Sendable, Equatable {
    /// Stable across commits: SHA-256 over the input names, repos, branches and paths (hex, 64).
    public var id: String
    /// `id` + the content hashes + the pipeline's salt: changes when the data changes.
    public var hash: String
    /// One piece per pfs input taking part, in the order the inputs appear in the spec.
    public var inputs: [DatumInput]

    public init(id: String, hash: String, inputs: [DatumInput]) {
        self.id = id; self.hash = hash; self.inputs = inputs
    }
}

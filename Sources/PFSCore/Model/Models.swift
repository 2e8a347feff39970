import Foundation

// The public model of pfs: what the API returns and the CLI prints.
// JSON uses snake_case keys (see `PFSJSON`), times as ISO 8601 with milliseconds.

public struct RepoInfo: Codable, Sendable, Equatable {
    public var name: String
    public var description: String
    public var created: Date
    /// Logical bytes in the head of `master` (or of the only branch), as Pachyderm reports it.
    public var sizeBytes: Int64
    public var branches: [String]
    public init(name: String, description: String, created: Date, sizeBytes: Int64, branches: [String]) {
        self.name = name; self.description = description; self.created = created
        self.sizeBytes = sizeBytes; self.branches = branches
    }
}

public struct BranchInfo: Codable, Sendable, Equatable {
    public var repo: String
    public var name: String
    /// The head commit id; nil for a branch with no commits yet.
    public var head: String?
    public var created: Date
    public init(repo: String, name: String, head: String?, created: Date) {
        self.repo = repo; self.name = name; self.head = head; self.created = created
    }
}

public enum CommitState: String, Codable, Sendable {
    case open, finished
}

public enum CommitOrigin: String, Codable, Sendable {
    /// Made by a user (CLI, API, mount).
    case user
    /// Made by the system (e.g. a pipeline's output, a branch created with provenance).
    case auto
}

/// A branch of a repo.
public struct BranchRef: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var repo: String
    public var branch: String
    public init(repo: String, branch: String) { self.repo = repo; self.branch = branch }
    public var description: String { "\(repo)@\(branch)" }
}

public struct CommitRefInfo: Codable, Sendable, Equatable, Hashable {
    public var repo: String
    public var branch: String?
    public var id: String
    public init(repo: String, branch: String?, id: String) { self.repo = repo; self.branch = branch; self.id = id }
}

public struct CommitInfo: Codable, Sendable, Equatable {
    public var id: String
    public var repo: String
    /// The branch the commit was made on.
    public var branch: String?
    public var parent: String?
    public var children: [String]
    public var state: CommitState
    public var origin: CommitOrigin
    public var description: String
    public var started: Date
    public var finished: Date?
    /// Logical bytes of all files in the commit (for an open commit: as of now).
    public var sizeBytes: Int64
    /// Root tree hash (64 hex); nil while the commit is open.
    public var root: String?
    /// All commits of one commit set share this id (the id of the commit that started the set).
    public var commitSet: String
    /// The exact input commits this commit was computed from (pipelines).
    public var provenance: [CommitRefInfo]
    public init(id: String, repo: String, branch: String?, parent: String?, children: [String], state: CommitState,
                origin: CommitOrigin, description: String, started: Date, finished: Date?, sizeBytes: Int64,
                root: String?, commitSet: String, provenance: [CommitRefInfo]) {
        self.id = id; self.repo = repo; self.branch = branch; self.parent = parent; self.children = children
        self.state = state; self.origin = origin; self.description = description; self.started = started
        self.finished = finished; self.sizeBytes = sizeBytes; self.root = root; self.commitSet = commitSet
        self.provenance = provenance
    }
}

public enum FileType: String, Codable, Sendable {
    case file, dir, symlink
}

public struct FileInfo: Codable, Sendable, Equatable {
    /// Absolute path inside the commit, e.g. `/sales/2024.csv`; the root is `/`.
    public var path: String
    public var type: FileType
    /// Bytes for a file; total bytes below it for a directory.
    public var sizeBytes: Int64
    /// POSIX permission bits (e.g. 0o644).
    public var mode: UInt32
    /// Modification time in nanoseconds since the epoch.
    public var mtimeNs: Int64
    /// Content hash (64 hex): the file's chunk list hash, the directory's tree hash, the symlink target's hash.
    public var hash: String
    /// The commit the entry was read from.
    public var commit: String
    /// Symlink target, for symlinks.
    public var target: String?
    /// Number of chunks (files only).
    public var chunks: Int?
    public init(path: String, type: FileType, sizeBytes: Int64, mode: UInt32, mtimeNs: Int64, hash: String,
                commit: String, target: String? = nil, chunks: Int? = nil) {
        self.path = path; self.type = type; self.sizeBytes = sizeBytes; self.mode = mode; self.mtimeNs = mtimeNs
        self.hash = hash; self.commit = commit; self.target = target; self.chunks = chunks
    }
}

public enum DiffChange: String, Codable, Sendable {
    case added, deleted, modified
}

public struct DiffEntry: Codable, Sendable, Equatable {
    public var path: String
    public var change: DiffChange
    public var old: FileInfo?
    public var new: FileInfo?
    public init(path: String, change: DiffChange, old: FileInfo?, new: FileInfo?) {
        self.path = path; self.change = change; self.old = old; self.new = new
    }
}

public struct PutResult: Codable, Sendable, Equatable {
    /// The commit written into.
    public var commit: String
    /// True when this put opened and finished its own commit.
    public var finished: Bool
    public var files: Int
    /// Logical bytes received.
    public var bytes: Int64
    /// Bytes of chunks that were not already in the store (what the put really added).
    public var newBytes: Int64
    public init(commit: String, finished: Bool, files: Int, bytes: Int64, newBytes: Int64) {
        self.commit = commit; self.finished = finished; self.files = files; self.bytes = bytes; self.newBytes = newBytes
    }
}

public struct FsckProblem: Codable, Sendable, Equatable {
    public var object: String
    public var problem: String
    /// Where it was reached from, e.g. `data@3f2a…:/sales/a.csv`.
    public var referencedBy: String
    public init(object: String, problem: String, referencedBy: String) {
        self.object = object; self.problem = problem; self.referencedBy = referencedBy
    }
}

public struct FsckReport: Codable, Sendable, Equatable {
    public var commitsChecked: Int
    public var objectsChecked: Int
    public var bytesChecked: Int64
    public var problems: [FsckProblem]
    public var ok: Bool { problems.isEmpty }
    public init(commitsChecked: Int, objectsChecked: Int, bytesChecked: Int64, problems: [FsckProblem]) {
        self.commitsChecked = commitsChecked; self.objectsChecked = objectsChecked
        self.bytesChecked = bytesChecked; self.problems = problems
    }
}

public struct GCReport: Codable, Sendable, Equatable {
    public var objectsKept: Int
    public var objectsRemoved: Int
    public var bytesRemoved: Int64
    public init(objectsKept: Int, objectsRemoved: Int, bytesRemoved: Int64) {
        self.objectsKept = objectsKept; self.objectsRemoved = objectsRemoved; self.bytesRemoved = bytesRemoved
    }
}

public struct VersionInfo: Codable, Sendable, Equatable {
    public var version: String
    public var apiVersion: Int
    public init(version: String, apiVersion: Int) { self.version = version; self.apiVersion = apiVersion }
}

/// The JSON body of every API error.
public struct APIErrorBody: Codable, Sendable {
    public struct Inner: Codable, Sendable {
        public var code: String
        public var message: String
        public init(code: String, message: String) { self.code = code; self.message = message }
    }
    public var error: Inner
    public init(code: String, message: String) { error = Inner(code: code, message: message) }
}

/// What the daemon is: reported by `GET /v1/status`.
public struct DaemonStatus: Codable, Sendable, Equatable {
    public var pid: Int
    public var dataDir: String
    /// nil when running with --no-mount.
    public var mountpoint: String?
    public var version: String
    public init(pid: Int, dataDir: String, mountpoint: String?, version: String) {
        self.pid = pid; self.dataDir = dataDir; self.mountpoint = mountpoint; self.version = version
    }
}

public enum PFSVersion {
    public static let version = "0.1.0"
    public static let apiVersion = 1
}

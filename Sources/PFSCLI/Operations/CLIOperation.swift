import PFSCore

/// What a command line asks for, fully parsed and validated, before anything is sent.
///
/// Both spellings of a verb (`create repo` and `create-repo`, `put file` and `put-file`) produce the same
/// `CLIOperation`, and `OperationRunner` is the one implementation behind them. Tests compare these values.
public enum CLIOperation: Sendable, Equatable {
    case version
    case listRepos
    case createRepo(name: String, description: String?, update: Bool)
    case inspectRepo(String)
    case deleteRepos(DeleteRepoRequest)
    case listBranches(repo: String)
    case createBranch(repo: String, branch: String, head: String?)
    case inspectBranch(repo: String, branch: String)
    case deleteBranch(repo: String, branch: String)
    case startCommit(repo: String, branch: String, parent: String?, description: String?)
    case finishCommit(repo: String, ref: String, description: String?)
    case listCommits(repo: String, branch: String?, all: Bool, limit: Int?)
    case inspectCommit(repo: String, ref: String)
    case deleteCommit(repo: String, ref: String)
    case waitCommits([CommitTarget], timeoutSeconds: Int?)
    case putFiles(PutFileRequest)
    case getFile(GetFileRequest)
    case listFiles(repo: String, ref: String, path: String, recursive: Bool)
    case globFiles(repo: String, ref: String, pattern: String)
    case diffFiles(repo: String, ref: String, old: String?, path: String?)
    case inspectFile(repo: String, ref: String, path: String)
    case deleteFiles(repo: String, ref: String, paths: [String], recursive: Bool)
    case copyFile(CopyFileRequest)
    case fsck(verify: Bool)
    case gc
    case unmount
    // Pipelines, jobs, datums, logs, images (OperationRunner+Pipelines.swift).
    case createPipelines(CreatePipelineRequest)
    case listPipelines
    case inspectPipeline(String)
    case deletePipelines(names: [String], all: Bool, keepRepo: Bool)
    case startPipeline(String)
    case stopPipeline(String)
    case runPipeline(String)
    case listJobs(pipeline: String?)
    case inspectJob(JobTarget)
    case waitJob(JobTarget, timeoutSeconds: Int?)
    case listDatums(JobTarget)
    case stopJob(JobTarget)
    case inspectDatum(JobTarget, datum: String)
    case restartDatums(JobTarget, datums: [String])
    case logs(LogsRequest)
    case listImages
    case aliasImage(name: String, target: String)
    case unaliasImage(String)
    // Secrets (OperationRunner+Secrets.swift).
    case createSecret(CreateSecretRequest)
    case listSecrets
    case inspectSecret(String)
    case deleteSecret(String)
    case importImage(name: String, path: String)
    case inspectImage(String)
    case deleteImage(String)
}

/// `create secret`: a Kubernetes Secret file (read when the command runs) or KEY=VALUE literals.
public struct CreateSecretRequest: Sendable, Equatable, CustomStringConvertible {
    public var name: String?
    public var file: String?
    public var literals: [String]
    public var overwrite: Bool
    public init(name: String?, file: String?, literals: [String], overwrite: Bool) {
        self.name = name; self.file = file; self.literals = literals; self.overwrite = overwrite
    }
    /// Never the literals' values.
    public var description: String {
        "CreateSecretRequest(name: \(name ?? "nil"), file: \(file ?? "nil"), keys: \(literals.map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "" }), overwrite: \(overwrite))"
    }
}

/// `create pipeline` / `update pipeline`: spec files (paths, URLs, `-` for stdin), read when the command runs.
public struct CreatePipelineRequest: Sendable, Equatable {
    public var sources: [String]
    public var update: Bool
    public var reprocess: Bool
    public init(sources: [String], update: Bool, reprocess: Bool = false) {
        self.sources = sources; self.update = update; self.reprocess = reprocess
    }
}

/// A job: `PIPELINE@ID`, or a bare `ID` (the jobs of every pipeline in that commit set). The id may be a prefix.
public struct JobTarget: Sendable, Equatable, CustomStringConvertible {
    public var pipeline: String?
    public var id: String
    public init(pipeline: String?, id: String) { self.pipeline = pipeline; self.id = id }
    public var description: String { pipeline.map { "\($0)@\(id)" } ?? id }
}

/// `logs` / `get-logs`.
public struct LogsRequest: Sendable, Equatable {
    public var pipeline: String
    public var job: String?
    public var datum: String?
    /// `-f`: keep printing new lines until the job (or every running job of the pipeline) finishes.
    public var follow: Bool
    public init(pipeline: String, job: String? = nil, datum: String? = nil, follow: Bool = false) {
        self.pipeline = pipeline; self.job = job; self.datum = datum; self.follow = follow
    }
}

/// A commit named by repo and ref (a branch, an id or prefix, with optional `^`/`~N`).
public struct CommitTarget: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var repo: String
    public var ref: String
    public init(repo: String, ref: String) { self.repo = repo; self.ref = ref }
    public var description: String { "\(repo)@\(ref)" }
}

public struct DeleteRepoRequest: Sendable, Equatable {
    /// The repos to delete; empty with `all`.
    public var names: [String]
    public var all: Bool
    public var force: Bool
    public init(names: [String], all: Bool, force: Bool) { self.names = names; self.all = all; self.force = force }
}

/// `put file` / `put-file`, before the sources are looked at (see `PutPlanner`).
public struct PutFileRequest: Sendable, Equatable {
    public var repo: String
    /// A branch, or an open commit's id.
    public var ref: String
    /// The destination in the commit, clean (`/a/b`); nil when omitted.
    public var path: String?
    /// True when the destination was omitted, is `/`, or ends with `/`: each source keeps its base name under it.
    public var pathIsDirectory: Bool
    /// `-f` values in order: local paths, URLs, `-` for stdin. Empty (with no `inputFile`) means stdin.
    public var sources: [String]
    /// `-i`: a file listing sources one per line (`-` = stdin).
    public var inputFile: String?
    public var recursive: Bool
    /// Append to existing files instead of replacing them.
    public var append: Bool
    /// 1.x `-c`: start a commit, put, finish it.
    public var startCommit: Bool
    public var description: String?

    public init(repo: String, ref: String, path: String?, pathIsDirectory: Bool, sources: [String],
                inputFile: String? = nil, recursive: Bool = false, append: Bool = false,
                startCommit: Bool = false, description: String? = nil) {
        self.repo = repo; self.ref = ref; self.path = path; self.pathIsDirectory = pathIsDirectory
        self.sources = sources; self.inputFile = inputFile; self.recursive = recursive; self.append = append
        self.startCommit = startCommit; self.description = description
    }
}

/// `get file` / `get-file`.
public struct GetFileRequest: Sendable, Equatable {
    public var repo: String
    public var ref: String
    public var path: String
    /// `-o`: a file to write (or, with `recursive`, a directory); nil writes to stdout.
    public var output: String?
    public var recursive: Bool
    public init(repo: String, ref: String, path: String, output: String?, recursive: Bool) {
        self.repo = repo; self.ref = ref; self.path = path; self.output = output; self.recursive = recursive
    }
}

/// `copy file` / `copy-file`.
public struct CopyFileRequest: Sendable, Equatable {
    public var srcRepo: String
    public var srcRef: String
    public var srcPath: String
    public var dstRepo: String
    public var dstRef: String
    public var dstPath: String
    public var append: Bool
    public init(srcRepo: String, srcRef: String, srcPath: String, dstRepo: String, dstRef: String, dstPath: String, append: Bool) {
        self.srcRepo = srcRepo; self.srcRef = srcRef; self.srcPath = srcPath
        self.dstRepo = dstRepo; self.dstRef = dstRef; self.dstPath = dstPath; self.append = append
    }
}

import Foundation

/// One pipeline, in the internal model every spec dialect is translated to (Pachyderm 2.x fields; 1.x and 1.7
/// forms are mapped onto it by `SpecParser`, see docs/pipeline-spec.md).
public struct PipelineSpec: Codable, Sendable, Equatable {
    public var name: String
    public var description: String = ""
    public var transform: Transform
    public var input: Input
    /// Concurrent datum workers (`parallelism_spec.constant`, 1.x `parallelism`).
    public var parallelism: Int = 1
    /// Attempts per datum before it counts as failed (`datum_tries`, default 3).
    public var datumTries: Int = 3
    /// Seconds a datum may run (`datum_timeout`); nil: no limit.
    public var datumTimeout: Double?
    /// Seconds a job may run (`job_timeout`); nil: no limit.
    public var jobTimeout: Double?
    /// The branch of the output repo (named like the pipeline) that receives output commits.
    public var outputBranch: String = "master"
    public var resourceRequests: Resources?
    public var resourceLimits: Resources?
    /// `until_success` (default: a datum that succeeded is skipped) or `every_job` (never skip).
    public var reprocessSpec: ReprocessSpec = .untilSuccess
    public var egress: Egress?
    /// 1.x: the output commit starts empty instead of from the previous output (`transform.overwrite`, and
    /// implied by 1.x `reduce`/`global` methods without incrementality).
    public var overwriteOutput: Bool = false
    /// Which dialect the spec was written in (for `inspect pipeline` and docs).
    public var dialect: Dialect = .v2
    /// The spec file's text as the user wrote it (read back through `~/pfs/.pfs/pipelines/<name>.json`).
    public var sourceText: String?
    /// The spec file's format: "json" or "yaml".
    public var sourceFormat: String?

    public init(name: String, transform: Transform, input: Input) {
        self.name = name
        self.transform = transform
        self.input = input
    }

    public enum Dialect: String, Codable, Sendable { case v2, v1, v17 }
    public enum ReprocessSpec: String, Codable, Sendable { case untilSuccess = "until_success", everyJob = "every_job" }
}

public struct Transform: Codable, Sendable, Equatable {
    /// Container image; nil or "host" runs in the host sandbox.
    public var image: String?
    public var cmd: [String] = []
    /// Lines fed to the command's standard input.
    public var stdin: [String] = []
    public var env: [String: String] = [:]
    public var secrets: [SecretRef] = []
    /// Run when a datum fails for good; if it exits 0 the datum counts as recovered.
    public var errCmd: [String] = []
    public var errStdin: [String] = []
    /// Exit codes other than 0 that count as success.
    public var acceptReturnCode: [Int32] = []
    public var user: String?
    public var workingDir: String?
    /// `transform.runner` (a pfs extension): which runner runs the datums; nil: the daemon's choice by image.
    public var runner: RunnerKind?
    public init() {}
}

/// The runners a pipeline can ask for with `transform.runner`.
public enum RunnerKind: String, Codable, Sendable, CaseIterable {
    /// Bubblewrap over the host's root (images `host`, none, or aliases of host).
    case host
    /// crun with an image from `pfs image import`.
    case oci
    /// podman, images from podman's store.
    case podman
    /// A Docker engine (`docker` CLI, `DOCKER_HOST`), images from its store.
    case docker

    /// Also accepts the tools' names: `crun` for oci, `bwrap`/`bubblewrap` for host.
    public init?(spelling: String) {
        switch spelling.lowercased() {
        case "crun": self = .oci
        case "bwrap", "bubblewrap": self = .host
        default: self.init(rawValue: spelling.lowercased())
        }
    }

    public static var spellings: String { allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ") }
}

public struct SecretRef: Codable, Sendable, Equatable {
    public var name: String
    public var mountPath: String?
    public var envVar: String?
    public var key: String?
    public init(name: String, mountPath: String? = nil, envVar: String? = nil, key: String? = nil) {
        self.name = name; self.mountPath = mountPath; self.envVar = envVar; self.key = key
    }
}

public struct Resources: Codable, Sendable, Equatable {
    /// CPUs (fractions allowed).
    public var cpu: Double?
    /// Bytes.
    public var memory: Int64?
    /// Bytes.
    public var disk: Int64?
    public var gpu: GPU?
    public init() {}

    public struct GPU: Codable, Sendable, Equatable {
        public var type: String
        public var number: Int
        public init(type: String, number: Int) { self.type = type; self.number = number }
    }
}

public struct Egress: Codable, Sendable, Equatable {
    public var url: String
    public init(url: String) { self.url = url }
}

/// A pipeline's input tree.
public indirect enum Input: Codable, Sendable, Equatable {
    case pfs(PFSInput)
    case cross([Input])
    case union([Input])
    case join([Input])
    case group([Input])
    case cron(CronInput)

    /// Every pfs input below this one, depth first.
    public var pfsInputs: [PFSInput] {
        switch self {
        case .pfs(let p): return [p]
        case .cross(let l), .union(let l), .join(let l), .group(let l): return l.flatMap(\.pfsInputs)
        case .cron: return []
        }
    }

    // Encoded as Pachyderm writes inputs, `{"pfs": {…}}`, `{"cross": […]}`, so `inspect pipeline --raw` reads
    // like a spec. Decoding also takes the synthesized form `{"pfs": {"_0": {…}}}` that specs were stored in
    // before.
    private enum Kind: String, CodingKey { case pfs, cross, union, join, group, cron }
    private struct Legacy<T: Decodable>: Decodable {
        var value: T
        enum CodingKeys: String, CodingKey { case value = "_0" }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Kind.self)
        guard c.allKeys.count == 1, let kind = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                                                    debugDescription: "an input holds exactly one of pfs, cross, union, join, group, cron"))
        }
        func value<T: Decodable>(_ type: T.Type) throws -> T {
            if let legacy = try? c.decode(Legacy<T>.self, forKey: kind) { return legacy.value }
            return try c.decode(T.self, forKey: kind)
        }
        switch kind {
        case .pfs: self = .pfs(try value(PFSInput.self))
        case .cross: self = .cross(try value([Input].self))
        case .union: self = .union(try value([Input].self))
        case .join: self = .join(try value([Input].self))
        case .group: self = .group(try value([Input].self))
        case .cron: self = .cron(try value(CronInput.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Kind.self)
        switch self {
        case .pfs(let p): try c.encode(p, forKey: .pfs)
        case .cross(let l): try c.encode(l, forKey: .cross)
        case .union(let l): try c.encode(l, forKey: .union)
        case .join(let l): try c.encode(l, forKey: .join)
        case .group(let l): try c.encode(l, forKey: .group)
        case .cron(let x): try c.encode(x, forKey: .cron)
        }
    }
}

public struct PFSInput: Codable, Sendable, Equatable {
    /// The name the worker sees: `/pfs/<name>` (default: the repo name).
    public var name: String
    public var repo: String
    public var branch: String = "master"
    public var glob: String
    /// Read through the view on demand instead of prefetching (all views are lazy here; kept for fidelity).
    public var lazy: Bool = false
    /// Present files as empty (names only).
    public var emptyFiles: Bool = false
    /// For join inputs: the key built from glob captures, e.g. `$1`.
    public var joinOn: String?
    /// For group inputs: the key built from glob captures.
    public var groupBy: String?
    /// For join inputs: datums of this input without a partner still run.
    public var outerJoin: Bool = false
    /// 1.x incrementality of this input: what the datum shows of a changed input.
    public var incremental: Incremental = .none

    public init(name: String, repo: String, branch: String = "master", glob: String) {
        self.name = name; self.repo = repo; self.branch = branch; self.glob = glob
    }

    /// 1.x `incremental`: `none` shows everything, `diff` only what is new since the previous job (appended
    /// bytes of appended files, whole new or changed files), `file` whole changed top-level objects.
    public enum Incremental: String, Codable, Sendable { case none, diff, file }
}

public struct CronInput: Codable, Sendable, Equatable {
    public var name: String
    /// A cron expression or `@every 10s`.
    public var spec: String
    public var overwrite: Bool = false
    /// The repo that receives the ticks (`input.cron.repo`); nil: `<pipeline>_<name>`, as in Pachyderm.
    public var repo: String?
    /// Count ticks from this time (`input.cron.start`, RFC 3339); nil: from the pipeline's creation.
    public var start: Date?
    public init(name: String, spec: String) { self.name = name; self.spec = spec }
}

import Foundation

/// What a runner needs to run one datum: the command, its environment and the directories to show it.
public struct WorkerInvocation: Sendable {
    public struct Mount: Sendable, Equatable {
        public var source: String
        public var target: String
        public var readOnly: Bool
        public init(source: String, target: String, readOnly: Bool) {
            self.source = source; self.target = target; self.readOnly = readOnly
        }
    }

    public var image: String?
    public var cmd: [String]
    public var stdin: [String]
    public var env: [String: String]
    /// `/pfs/<input>` views (read-only), `/pfs/prev`, and `/pfs/out` (writable).
    public var mounts: [Mount]
    public var workingDir: String?
    public var user: String?
    /// Seconds; nil: no limit.
    public var timeout: Double?
    /// Host paths the command must not see (the data directory, user mounts of pfs).
    public var hidden: [String]
    /// A writable scratch directory on the host, shown as /tmp.
    public var scratch: String
    public var network: Bool
    /// Device nodes to pass in (GPUs: `GPUAllocation.devices`): host node → path in the worker, read-write.
    public var devices: [Mount] = []
    /// Host files the worker needs at the same path (the GPU driver's libraries and tools), read-only. Runners
    /// over the host's root already see them; runners with an image's root bind them in.
    public var driverFiles: [String] = []
    /// Environment variables from secrets (`transform.secrets[].env_var`): set like `env`, but never written to a
    /// command line, a log or a file other users can read.
    public var secretEnv: [String: String] = [:]
    /// `resource_limits.memory` (bytes) and `.cpu` (CPUs), enforced with cgroups where the host allows.
    public var memoryLimit: Int64? = nil
    public var cpuLimit: Double? = nil
    /// Environment keys the scheduler filled with a default (PATH, HOME, LANG): an image's own value wins.
    public var defaultedEnv: Set<String> = []
    /// Lets the scheduler kill the command before it ends (`stop job`, `restart datum`); runners install the kill.
    public var cancel: WorkerCancel? = nil
    /// The job the datum belongs to: runners that keep warm containers share them between the job's datums and
    /// remove them at `jobFinished`. Nil: nothing is kept.
    public var job: String? = nil
    /// The spec's `transform.runner`; nil: the daemon picks by image.
    public var runner: RunnerKind? = nil

    public init(image: String?, cmd: [String], stdin: [String], env: [String: String], mounts: [Mount],
                workingDir: String?, user: String?, timeout: Double?, hidden: [String], scratch: String,
                network: Bool = false) {
        self.image = image; self.cmd = cmd; self.stdin = stdin; self.env = env; self.mounts = mounts
        self.workingDir = workingDir; self.user = user; self.timeout = timeout; self.hidden = hidden
        self.scratch = scratch; self.network = network
    }
}

public struct WorkerResult: Sendable, Equatable {
    public var exitCode: Int32
    public var timedOut: Bool
    public var seconds: Double
    /// Killed by the kernel for exceeding `resource_limits.memory`.
    public var oomKilled: Bool = false
    public init(exitCode: Int32, timedOut: Bool, seconds: Double) {
        self.exitCode = exitCode; self.timedOut = timedOut; self.seconds = seconds
    }
}

/// Runs a datum's command in some kind of sandbox (bubblewrap over the host root, an OCI runtime, a pod…).
public protocol Runner: Sendable {
    /// Checked when a pipeline is created: can this runner run `image`? Throws a clear error if not.
    func validate(image: String?) throws
    /// Runs the command to completion (or timeout), writing its stdout and stderr to `log`. Blocks the calling
    /// thread (the scheduler runs datums on threads of its own).
    func run(_ w: WorkerInvocation, log: FileHandle) throws -> WorkerResult
    /// Checked when a pipeline is created: what of `limits` this runner cannot enforce for `image` (one line each).
    func unenforceable(_ limits: Resources?, image: String?) -> [String]
    /// The command line that runs `w`, for the datum's log (to rerun a datum by hand, and the pipeline
    /// benchmarks' reference loop); secrets' values are replaced by `***`. Nil where there is no single one.
    func commandLine(_ w: WorkerInvocation) -> [String]?
    /// Called when every datum of `job` has run: whatever the runner kept for it (warm containers) goes.
    func jobFinished(_ job: String)
    /// `validate(image:)` for a spec that names its runner (`transform.runner`); a runner that is one kind only
    /// ignores the choice (DispatchRunner, the daemon's, honours it).
    func validate(image: String?, runner: RunnerKind?) throws
    /// `unenforceable(_:image:)` for a spec that names its runner.
    func unenforceable(_ limits: Resources?, image: String?, runner: RunnerKind?) -> [String]
    /// The daemon is stopping (its services have ended): undo what the runner set up on the host.
    func shutdown()
}

extension Runner {
    public func shutdown() {}

    public func validate(image: String?, runner: RunnerKind?) throws { try validate(image: image) }

    public func unenforceable(_ limits: Resources?, image: String?, runner: RunnerKind?) -> [String] {
        unenforceable(limits, image: image)
    }

    public func commandLine(_ w: WorkerInvocation) -> [String]? { nil }

    public func jobFinished(_ job: String) {}

    public func unenforceable(_ limits: Resources?, image: String?) -> [String] {
        var out: [String] = []
        if limits?.memory != nil { out.append("resource_limits.memory is not enforced by this runner") }
        if limits?.cpu != nil { out.append("resource_limits.cpu is not enforced by this runner") }
        return out
    }
}

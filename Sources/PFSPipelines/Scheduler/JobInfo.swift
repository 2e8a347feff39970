import Foundation
import PFSCore

/// What `inspect job` shows (stored as the job row's info JSON).
public struct JobInfo: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case starting, running, success, failure, killed }
    public var pipeline: String
    /// The commit set's id: also the id of the output commit.
    public var id: String
    public var state: State
    public var reason: String = ""
    public var inputCommits: [CommitRefInfo]
    public var outputCommit: String
    public var started: Date
    public var finished: Date?
    public var datumsTotal = 0
    public var processed = 0
    public var skipped = 0
    public var failed = 0
    public var recovered = 0
    /// Seconds spent planning datums (and deciding what to skip).
    public var planSeconds: Double = 0
    public var pipelineVersion: Int = 1
    /// Output paths this job must rebuild (kept so a job resumed after a crash still rebuilds them).
    public var touched: [String] = []

    public init(pipeline: String, id: String, state: State, inputCommits: [CommitRefInfo], outputCommit: String, started: Date) {
        self.pipeline = pipeline; self.id = id; self.state = state; self.inputCommits = inputCommits
        self.outputCommit = outputCommit; self.started = started
    }
}

/// What `list datum` shows for one datum of a job.
public struct DatumInfo: Codable, Sendable, Equatable {
    /// `starting` (planned, not run yet) and `running` are shown only while the job runs; the store records
    /// the other four.
    public enum State: String, Codable, Sendable { case success, failed, skipped, recovered, starting, running }
    public var id: String
    public var job: String
    public var state: State
    public var attempts: Int
    public var seconds: Double
    public var inputs: [DatumInput]
    public var reason: String = ""
    /// When its command was first started (after its views were set up), and when the datum was done; nil for
    /// skipped datums and rows written before these were recorded.
    public var started: Date?
    public var finished: Date?
    public init(id: String, job: String, state: State, attempts: Int, seconds: Double, inputs: [DatumInput]) {
        self.id = id; self.job = job; self.state = state; self.attempts = attempts; self.seconds = seconds; self.inputs = inputs
    }

    var succeeded: Bool { state == .success || state == .skipped || state == .recovered }
}

/// What `inspect pipeline` shows.
public struct PipelineInfo: Codable, Sendable, Equatable {
    public var name: String
    public var version: Int
    public var state: String
    public var reason: String
    public var created: Date
    public var updated: Date
    public var spec: PipelineSpec
    public var lastJob: JobInfo?
    /// Set by create/update: limits of the spec the runner cannot enforce on this host.
    public var warnings: [String]? = nil
}

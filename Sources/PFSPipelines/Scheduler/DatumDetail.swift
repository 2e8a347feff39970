import Foundation

/// What `inspect datum` shows: the datum's row (as `list datum` has it) plus its input files one by one, its
/// log and what it contributes to the pipeline's output.
public struct DatumDetail: Codable, Sendable, Equatable {
    /// One input file or directory the datum shows at `/pfs/<input>/<path>`.
    public struct File: Codable, Sendable, Equatable {
        public var input: String
        public var repo: String
        public var branch: String
        public var commit: String
        public var path: String
        /// The content hash (64 hex) of the file, or the content digest of the directory.
        public var hash: String
    }

    /// One path the datum wrote to /pfs/out, as the pipeline keeps it now.
    public struct Output: Codable, Sendable, Equatable {
        public var path: String
        public var kind: String
        public var size: Int64
    }

    public var pipeline: String
    public var job: String
    public var id: String
    /// The datum's hash (id + contents + salt); nil while it is only planned in a live job and for skipped datums of
    /// old rows.
    public var hash: String?
    public var state: DatumInfo.State
    public var attempts: Int
    public var seconds: Double
    public var reason: String
    public var started: Date?
    public var finished: Date?
    public var inputs: [DatumInput]
    public var files: [File]
    /// The datum's log on the daemon's host (nil: nothing was logged, e.g. a skipped datum).
    public var logFile: String?
    /// The command that prints that log.
    public var logsCommand: String
    /// The outputs this datum contributes to the pipeline's output now. Outputs are kept per datum id, not per job:
    /// for a datum that ran again in a later job, these are that run's.
    public var currentOutputs: [Output]

    /// The same datum as `list datum` shows it.
    public var info: DatumInfo {
        var d = DatumInfo(id: id, job: job, state: state, attempts: attempts, seconds: seconds, inputs: inputs)
        d.reason = reason
        d.started = started
        d.finished = finished
        return d
    }
}

/// What `restart datum` did to each datum it named.
public struct DatumRestartResult: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        /// It was running: its command was killed and starts again (the killed attempt is not counted).
        case restarted
        /// It had failed in this running job: it runs again, with new tries, before the job ends.
        case queued
        /// It had not started yet: it runs anyway.
        case pending
        /// The job had finished: a new job of the pipeline runs it (and every other failed datum) again.
        case newJob = "new_job"
    }
    public struct Datum: Codable, Sendable, Equatable {
        public var id: String
        public var outcome: Outcome
    }
    public var pipeline: String
    public var job: String
    public var datums: [Datum]
    /// The job started for a finished job's failed datums.
    public var newJob: String?
}

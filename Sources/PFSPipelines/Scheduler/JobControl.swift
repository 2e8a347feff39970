import Foundation

/// What the API asks of running jobs (`stop job`, `restart datum`) and what it can see of them that is not in the
/// store yet (the planned datums and which of them are running). Shared by the scheduler, which registers its
/// jobs and datums here, and the `PipelineManager`, which serves the API.
public final class JobControl: @unchecked Sendable {
    struct Live {
        var planned: [String: Datum] = [:]
        /// The kill of each datum whose command runs now.
        var running: [String: WorkerCancel] = [:]
        /// Datums whose current attempt was killed by `restart datum`: their next attempt does not count.
        var restarted: Set<String> = []
        /// Failed datums `restart datum` asked to run again before the job ends.
        var rerun: Set<String> = []
        var stopped = false
    }

    private let lock = NSLock()
    private var live: [String: Live] = [:]
    /// Jobs stopped before the scheduler started them (their output commit is open, earlier jobs still run).
    private var stopBeforeStart: Set<String> = []

    public init() {}

    static func key(_ pipeline: String, _ job: String) -> String { pipeline + "@" + job }

    // MARK: the scheduler's side

    /// A job starts; true if it was stopped before it started (it must not run).
    func begin(_ pipeline: String, _ job: String) -> Bool {
        let k = Self.key(pipeline, job)
        return lock.withLock {
            live[k] = Live()
            if stopBeforeStart.remove(k) != nil {
                live[k]!.stopped = true
                return true
            }
            return false
        }
    }

    func planned(_ pipeline: String, _ job: String, _ datums: [Datum]) {
        let map = Dictionary(datums.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        lock.withLock { live[Self.key(pipeline, job)]?.planned = map }
    }

    func end(_ pipeline: String, _ job: String) {
        _ = lock.withLock { live.removeValue(forKey: Self.key(pipeline, job)) }
    }

    func isStopped(_ pipeline: String, _ job: String) -> Bool {
        lock.withLock { live[Self.key(pipeline, job)]?.stopped ?? false }
    }

    /// A datum's command is about to start with `cancel`; false if the job was stopped (it must not start).
    func attach(_ pipeline: String, _ job: String, datum: String, _ cancel: WorkerCancel) -> Bool {
        lock.withLock {
            let k = Self.key(pipeline, job)
            guard live[k]?.stopped == false else { return false }
            live[k]?.running[datum] = cancel
            return true
        }
    }

    /// The datum's command has ended; true if `restart datum` killed it (run it again, not counted as a try).
    func detach(_ pipeline: String, _ job: String, datum: String) -> Bool {
        lock.withLock {
            let k = Self.key(pipeline, job)
            live[k]?.running[datum] = nil
            return live[k]?.restarted.remove(datum) != nil && live[k]?.stopped == false
        }
    }

    /// The failed datums `restart datum` asked to run again (cleared).
    func takeReruns(_ pipeline: String, _ job: String) -> Set<String> {
        lock.withLock {
            let k = Self.key(pipeline, job)
            guard live[k]?.stopped == false else { return [] }
            let r = live[k]?.rerun ?? []
            live[k]?.rerun = []
            return r
        }
    }

    // MARK: the API's side

    /// Whether the scheduler runs this job now.
    public func isLive(_ pipeline: String, _ job: String) -> Bool {
        lock.withLock { live[Self.key(pipeline, job)] != nil }
    }

    /// Stops a running job: its running datums are killed, no more start. False if the scheduler does not run it.
    public func stop(_ pipeline: String, _ job: String) -> Bool {
        let kills = lock.withLock { () -> [WorkerCancel]? in
            let k = Self.key(pipeline, job)
            guard live[k] != nil else { return nil }
            live[k]!.stopped = true
            return Array(live[k]!.running.values)
        }
        guard let kills else { return false }
        for c in kills { c.cancel() }
        return true
    }

    /// Marks a job that has not started yet: the scheduler records it killed, without running it, when its turn comes.
    public func stopWhenStarting(_ pipeline: String, _ job: String) {
        _ = lock.withLock { stopBeforeStart.insert(Self.key(pipeline, job)) }
    }

    public func isStoppedBeforeStart(_ pipeline: String, _ job: String) -> Bool {
        lock.withLock { stopBeforeStart.contains(Self.key(pipeline, job)) }
    }

    /// The datums a live job planned (nil if it is not live or has not planned yet) and which of them run now.
    public func plan(_ pipeline: String, _ job: String) -> (planned: [String: Datum], running: Set<String>)? {
        lock.withLock {
            guard let l = live[Self.key(pipeline, job)] else { return nil }
            return (l.planned, Set(l.running.keys))
        }
    }

    public enum Restart: String, Sendable, Codable { case restarted, queued, pending }

    /// `restart datum` on a live job: a running datum's command is killed and run again; a failed one runs again
    /// before the job ends; one not started yet runs anyway (`pending`). Nil if the job is not live.
    public func restart(_ pipeline: String, _ job: String, datum: String, failed: Bool) -> Restart? {
        let (outcome, kill) = lock.withLock { () -> (Restart?, WorkerCancel?) in
            let k = Self.key(pipeline, job)
            guard live[k] != nil, !live[k]!.stopped else { return (nil, nil) }
            if let c = live[k]!.running[datum] {
                live[k]!.restarted.insert(datum)
                return (.restarted, c)
            }
            if failed {
                live[k]!.rerun.insert(datum)
                return (.queued, nil)
            }
            return (.pending, nil)
        }
        kill?.cancel()
        return outcome
    }
}

import Foundation

/// What a job does with each datum of its plan, given what the previous successful job recorded
/// (see docs/datums.md, "Incrementality").
public enum Incrementality {
    /// What happens to one datum of the new plan.
    public enum Decision: String, Codable, Sendable {
        /// The same hash succeeded in the previous job: its outputs carry over, nothing runs.
        case skip
        /// A datum id the previous job did not have: it runs.
        case run
        /// The id existed, but with another hash (or it failed, or the pipeline reprocesses every job): its old
        /// outputs are removed and it runs again.
        case rerun
    }

    /// A datum of the previous job as the metadata store keeps it.
    public typealias Record = (id: String, hash: String, succeeded: Bool)

    /// The decisions for a plan.
    public struct Classification: Sendable, Equatable {
        /// One decision per datum of the plan, in the plan's order.
        public var decisions: [Decision]
        /// Ids of the previous job that the plan no longer has: their outputs are removed. Sorted.
        public var vanished: [String]

        public init(decisions: [Decision], vanished: [String]) {
            self.decisions = decisions
            self.vanished = vanished
        }

        public var skipped: Int { decisions.lazy.filter { $0 == .skip }.count }
        public var toRun: Int { decisions.lazy.filter { $0 == .run }.count }
        public var toRerun: Int { decisions.lazy.filter { $0 == .rerun }.count }
    }

    /// Classifies each datum of `plan` against the records of the previous successful job.
    /// `reprocess == .everyJob` skips nothing: a datum seen before is a `.rerun` (its old outputs go first).
    public static func classify(previous: [Record], plan: [Datum],
                                reprocess: PipelineSpec.ReprocessSpec = .untilSuccess) -> Classification {
        var old: [String: (hash: String, succeeded: Bool)] = [:]
        old.reserveCapacity(previous.count)
        for r in previous { old[r.id] = (r.hash, r.succeeded) }
        var decisions: [Decision] = []
        decisions.reserveCapacity(plan.count)
        var current = Set<String>()
        current.reserveCapacity(plan.count)
        for d in plan {
            current.insert(d.id)
            guard let o = old[d.id] else {
                decisions.append(.run)
                continue
            }
            let same = o.succeeded && o.hash == d.hash && reprocess != .everyJob
            decisions.append(same ? .skip : .rerun)
        }
        let vanished = old.keys.filter { !current.contains($0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return Classification(decisions: decisions, vanished: vanished)
    }
}

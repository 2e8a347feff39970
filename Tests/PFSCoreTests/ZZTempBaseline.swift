@testable import PFSCore
extension WorkingTree {
    func apply(_ ops: [StagedOp], now: Int64, then: () throws -> Void = {}) throws {
        for op in ops { try apply(op, now: now) }
        try then()
    }
}

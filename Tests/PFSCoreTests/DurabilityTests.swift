import Foundation
import GRDB
import XCTest
@testable import PFSCore

/// The settings every durability claim of docs/reliability.md rests on. The end-to-end proof is
/// `scripts/torture --power-loss` (a power cut of the disk under the data directory); this pins the cause of the
/// defect it found, so a dependency update that changes it again fails here first.
final class DurabilityTests: StoreTestCase {
    /// SQLite commits in WAL mode are durable only with synchronous=FULL on the writer connection; GRDB's
    /// DatabasePool sets NORMAL when it enables WAL, after `prepareDatabase`.
    func testMetadataWriterSyncsEveryTransaction() throws {
        let meta = try MetadataStore(path: dataDir.appendingPathComponent("metadata.db").path)
        let (mode, journal) = try meta.pool.writeWithoutTransaction { db in
            (try Int.fetchOne(db, sql: "PRAGMA synchronous"), try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        XCTAssertEqual(journal, "wal")
        XCTAssertEqual(mode, 2, "the metadata writer must run with PRAGMA synchronous = FULL (2), not \(mode ?? -1)")
    }

    /// An output commit whose job has not started has no working tree yet: that is a queued job, not damage, and
    /// fsck must stay clean (scripts/torture found it reported right after every restart with jobs queued).
    func testFsckIsCleanWhileAnOutputCommitWaitsForItsJob() throws {
        let store = try openStore()
        for r in ["in", "out"] { try store.createRepo(r) }
        try store.setBranchProvenance(repo: "out", branch: "master", upstream: [BranchRef(repo: "in", branch: "master")])
        let s = try store.beginPut(repo: "in", ref: "master")
        try s.putFile(path: "/a", Array("a".utf8))
        let id = try s.commit().commit
        XCTAssertEqual(try store.inspectCommit(repo: "out", ref: "master").state, .open)
        let report = try store.fsck()
        XCTAssertEqual(report.problems, [], "\(report.problems)")
        try store.prepareOutputCommit(repo: "out", id: id)
        XCTAssertEqual(try store.fsck().problems, [])
    }
}

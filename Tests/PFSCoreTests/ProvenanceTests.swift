import Foundation
import XCTest
@testable import PFSCore

final class ProvenanceTests: StoreTestCase {
    private func put(_ store: Store, _ repo: String, _ ref: String, _ path: String, _ text: String,
                     asPipeline: Bool = false) throws -> PutResult {
        let s = try store.beginPut(repo: repo, ref: ref, asPipeline: asPipeline)
        try s.putFile(path: path, Array(text.utf8))
        return try s.commit()
    }

    func testFinishingAnInputCommitOpensTheWholeCommitSetWithOneId() async throws {
        let store = try openStore()
        for r in ["a", "b", "out1", "out2"] { try store.createRepo(r) }
        _ = try put(store, "b", "master", "/b.txt", "bee")
        let bHead = try store.inspectCommit(repo: "b", ref: "master").id
        try store.setBranchProvenance(repo: "out1", branch: "master", upstream: [BranchRef(repo: "a", branch: "master")])
        try store.setBranchProvenance(repo: "out2", branch: "master",
                                      upstream: [BranchRef(repo: "out1", branch: "master"), BranchRef(repo: "b", branch: "master")])
        let x = try put(store, "a", "master", "/a.txt", "ay").commit

        let o1 = try store.inspectCommit(repo: "out1", ref: "master")
        let o2 = try store.inspectCommit(repo: "out2", ref: "master")
        XCTAssertEqual(o1.id, x, "downstream commits share the input commit's id")
        XCTAssertEqual(o2.id, x)
        XCTAssertEqual(o1.state, .open)
        XCTAssertEqual(o1.origin, .auto)
        XCTAssertEqual(o1.provenance, [CommitRefInfo(repo: "a", branch: "master", id: x)])
        XCTAssertEqual(Set(o2.provenance), [CommitRefInfo(repo: "out1", branch: "master", id: x),
                                            CommitRefInfo(repo: "b", branch: "master", id: bHead)])
        // The set is not done until the outputs are.
        await assertTimesOut(store, "a", x)

        for repo in ["out1", "out2"] {
            try store.prepareOutputCommit(repo: repo, id: x)
            _ = try put(store, repo, x, "/result", "done", asPipeline: true)
            try store.finishCommit(repo: repo, ref: x, asPipeline: true)
        }
        let set = try await store.waitCommit(repo: "a", ref: x, timeout: .seconds(5))
        XCTAssertEqual(Set(set.map(\.repo)), ["a", "out1", "out2"])
        XCTAssertTrue(set.allSatisfy { $0.state == .finished && $0.id == x })
        // A commit to b alone opens out2 only (out1 does not come from b).
        let y = try put(store, "b", "master", "/b2.txt", "more").commit
        XCTAssertEqual(try store.inspectCommit(repo: "out2", ref: "master").id, y)
        XCTAssertEqual(try store.inspectCommit(repo: "out1", ref: "master").id, x)
    }

    private func assertTimesOut(_ store: Store, _ repo: String, _ id: String, file: StaticString = #filePath, line: UInt = #line) async {
        do {
            _ = try await store.waitCommit(repo: repo, ref: id, timeout: .milliseconds(100))
            XCTFail("wait returned while outputs were open", file: file, line: line)
        } catch let e as PFSError {
            XCTAssertEqual(e.code, .timeout, file: file, line: line)
        } catch { XCTFail("\(error)", file: file, line: line) }
    }

    func testProvenanceCyclesAreRefused() throws {
        let store = try openStore()
        for r in ["a", "b"] { try store.createRepo(r) }
        try store.setBranchProvenance(repo: "b", branch: "master", upstream: [BranchRef(repo: "a", branch: "master")])
        assertPFSError(.invalidArgument,
                       try store.setBranchProvenance(repo: "a", branch: "master", upstream: [BranchRef(repo: "b", branch: "master")]))
    }

    func testOutputCommitWhoseParentIsOpenWaitsForItsJob() throws {
        let store = try openStore()
        for r in ["in", "out"] { try store.createRepo(r) }
        try store.setBranchProvenance(repo: "out", branch: "master", upstream: [BranchRef(repo: "in", branch: "master")])
        let x = try put(store, "in", "master", "/1", "one").commit
        let y = try put(store, "in", "master", "/2", "two").commit
        let oy = try store.inspectCommit(repo: "out", ref: y)
        XCTAssertEqual(oy.parent, x, "the second output commit's parent is the first, still open")
        // Restarting with both open must work (the second has no tree until its job).
        let reopened = try openStore()
        try reopened.prepareOutputCommit(repo: "out", id: x)
        try reopened.finishCommit(repo: "out", ref: x, asPipeline: true)
        try reopened.prepareOutputCommit(repo: "out", id: y)
        try reopened.finishCommit(repo: "out", ref: y, asPipeline: true)
        XCTAssertEqual(try reopened.inspectCommit(repo: "out", ref: "master").state, .finished)
    }

    /// A triggered branch (a pipeline created or run on data already there) joins the commit set of its newest
    /// input head, so waiting for that input commit waits for it; branches downstream of it get their commits in
    /// the same set; triggering again on the same inputs makes a new set.
    func testTriggeredBranchJoinsItsInputsCommitSetAndOpensDownstream() async throws {
        let store = try openStore()
        for r in ["data", "filter", "sum"] { try store.createRepo(r) }
        let x = try put(store, "data", "master", "/sales", "apple 1\n").commit
        try store.setBranchProvenance(repo: "filter", branch: "master", upstream: [BranchRef(repo: "data", branch: "master")])
        XCTAssertEqual(try store.triggerBranch(repo: "filter", branch: "master"), x)
        // sum is created while filter's first output is still to come: it joins that set.
        try store.setBranchProvenance(repo: "sum", branch: "master", upstream: [BranchRef(repo: "filter", branch: "master")])
        XCTAssertEqual(try store.triggerBranch(repo: "sum", branch: "master"), x)
        XCTAssertEqual(try store.inspectCommit(repo: "sum", ref: "master").provenance,
                       [CommitRefInfo(repo: "filter", branch: "master", id: x)])
        await assertTimesOut(store, "data", x)
        for repo in ["filter", "sum"] {
            try store.prepareOutputCommit(repo: repo, id: x)
            _ = try put(store, repo, x, "/apple", "1", asPipeline: true)
            try store.finishCommit(repo: repo, ref: x, asPipeline: true)
        }
        let set = try await store.waitCommit(repo: "data", ref: x, timeout: .seconds(5))
        XCTAssertEqual(Set(set.map(\.repo)), ["data", "filter", "sum"])

        // Again on the same inputs (`run pipeline filter`): a new set, and sum gets its commit in it.
        let again = try XCTUnwrap(try store.triggerBranch(repo: "filter", branch: "master"))
        XCTAssertNotEqual(again, x)
        let sum = try store.inspectCommit(repo: "sum", ref: "master")
        XCTAssertEqual(sum.id, again)
        XCTAssertEqual(sum.provenance, [CommitRefInfo(repo: "filter", branch: "master", id: again)])
        // While it is open, another trigger does nothing.
        XCTAssertNil(try store.triggerBranch(repo: "filter", branch: "master"))
        XCTAssertNil(try store.triggerBranch(repo: "sum", branch: "master"))
    }

    /// An output branch refuses user writes — puts, deletes, `start commit`, the mount's staged ops, finishing the
    /// job's commit — while its job's commit is open and after it finished; the scheduler (`asPipeline`) writes.
    func testOutputBranchesRefuseUserWritesButNotTheirJobs() throws {
        let store = try openStore()
        for r in ["in", "out"] { try store.createRepo(r) }
        try store.setBranchProvenance(repo: "out", branch: "master", upstream: [BranchRef(repo: "in", branch: "master")])
        let x = try put(store, "in", "master", "/1", "one").commit
        XCTAssertEqual(try store.inspectCommit(repo: "out", ref: "master").state, .open)
        func refused(_ body: @autoclosure () throws -> Any, _ line: UInt = #line) {
            do {
                _ = try body()
                XCTFail("a user write into the output branch was accepted", line: line)
            } catch let e as PFSError {
                XCTAssertEqual(e.code, .readOnly, "\(e)", line: line)
                XCTAssertTrue(e.message.contains("out@master is an output branch (computed from in@master)"), e.message, line: line)
            } catch { XCTFail("\(error)", line: line) }
        }
        try store.prepareOutputCommit(repo: "out", id: x)
        refused(try self.put(store, "out", "master", "/user.txt", "no"))
        refused(try self.put(store, "out", x, "/user.txt", "no"))
        refused(try store.stage(repo: "out", branch: "master", ops: [.delete(path: "/anything", recursive: false)]))
        refused(try store.finishCommit(repo: "out", ref: x) as Any)
        // The job writes and finishes; nothing of the refused writes is in its commit.
        _ = try put(store, "out", x, "/result", "done", asPipeline: true)
        try store.finishCommit(repo: "out", ref: x, asPipeline: true)
        XCTAssertEqual(try store.view(repo: "out", ref: x).list([]).map(\.name), ["result"])
        // Between jobs as well.
        refused(try self.put(store, "out", "master", "/user.txt", "no"))
        refused(try store.startCommit(repo: "out", branch: "master"))
        refused(try store.stage(repo: "out", branch: "master", ops: [.delete(path: "/result", recursive: false)]))
        XCTAssertTrue(try store.isOutputBranch(repo: "out", branch: "master"))
        XCTAssertFalse(try store.isOutputBranch(repo: "in", branch: "master"))
        // Other branches of the output repo and the input are ordinary.
        _ = try put(store, "out", "scratch", "/mine.txt", "ok")
        _ = try put(store, "in", "master", "/2", "two")
    }
}

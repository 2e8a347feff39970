import Foundation
import PFSCore
import PFSPipelines
import XCTest

final class IncrementalityTests: DatumStoreTestCase {
    private func records(_ datums: [Datum], succeeded: Bool = true) -> [Incrementality.Record] {
        datums.map { (id: $0.id, hash: $0.hash, succeeded: succeeded) }
    }

    private func thousandFiles() throws -> [Datum] {
        try ensureRepo("data")
        let s = try store.beginPut(repo: "data", ref: "master")
        for i in 0..<1_000 { try s.putFile(path: "/f\(i)", Array("content \(i)".utf8)) }
        try s.commit()
        return try plan(pfs("data", "/*"))
    }

    // MARK: classification

    func testAddingOneFileToAThousandRunsOneDatum() throws {
        let before = try thousandFiles()
        XCTAssertEqual(before.count, 1_000)
        try commit("data", ["/new": "new"])
        let after = try plan(pfs("data", "/*"))
        let c = Incrementality.classify(previous: records(before), plan: after)
        XCTAssertEqual(c.decisions.count, 1_001)
        XCTAssertEqual(c.toRun, 1)
        XCTAssertEqual(c.skipped, 1_000)
        XCTAssertEqual(c.toRerun, 0)
        XCTAssertEqual(c.vanished, [])
        let run = zip(after, c.decisions).filter { $0.1 == .run }.map(\.0)
        XCTAssertEqual(run.map { $0.inputs[0].paths }, [["/new"]])
    }

    func testChangingOneFileRerunsItsDatum() throws {
        let before = try thousandFiles()
        try commit("data", ["/f500": "changed"])
        let after = try plan(pfs("data", "/*"))
        let c = Incrementality.classify(previous: records(before), plan: after)
        XCTAssertEqual(c.toRerun, 1)
        XCTAssertEqual(c.skipped, 999)
        XCTAssertEqual(c.toRun, 0)
        let rerun = zip(after, c.decisions).filter { $0.1 == .rerun }.map(\.0)
        XCTAssertEqual(rerun.map { $0.inputs[0].paths }, [["/f500"]])
        XCTAssertEqual(rerun.first?.id, before.first { $0.inputs[0].paths == ["/f500"] }?.id)
    }

    func testDeletingOneFileVanishesItsDatum() throws {
        let before = try thousandFiles()
        try commit("data", delete: ["/f7"])
        let after = try plan(pfs("data", "/*"))
        let c = Incrementality.classify(previous: records(before), plan: after)
        XCTAssertEqual(c.skipped, 999)
        XCTAssertEqual(c.toRun + c.toRerun, 0)
        XCTAssertEqual(c.vanished, [try XCTUnwrap(before.first { $0.inputs[0].paths == ["/f7"] }).id])
    }

    func testFailedDatumsAndEveryJobRunAgain() throws {
        try commit("data", ["/a": "1", "/b": "2"])
        let datums = try plan(pfs("data", "/*"))
        var prev = records(datums)
        prev[0].succeeded = false
        let c = Incrementality.classify(previous: prev, plan: datums)
        XCTAssertEqual(c.decisions, [.rerun, .skip])
        let every = Incrementality.classify(previous: records(datums), plan: datums, reprocess: .everyJob)
        XCTAssertEqual(every.decisions, [.rerun, .rerun])
        XCTAssertEqual(Incrementality.classify(previous: [], plan: datums).decisions, [.run, .run])
        // A new salt (`update pipeline --reprocess`) changes every hash: everything runs again.
        let resalted = try plan(pfs("data", "/*"), salt: "other")
        XCTAssertEqual(Incrementality.classify(previous: records(datums), plan: resalted).decisions, [.rerun, .rerun])
    }

    func testGroupDatumRerunsWhenAMemberChanges() throws {
        try commit("labs", ["/x-1": "1", "/x-2": "2", "/y-1": "3"])
        let input = Input.group([pfs("labs", "/(*)-*", groupBy: "$1")])
        let before = try plan(input)
        try commit("labs", ["/x-3": "4"])
        let after = try plan(input)
        let c = Incrementality.classify(previous: records(before), plan: after)
        // The x group gained a path: a new id (its old outputs go with the vanished id); y is untouched.
        XCTAssertEqual(c.skipped, 1)
        XCTAssertEqual(c.toRun, 1)
        XCTAssertEqual(c.vanished.count, 1)
    }

    /// The target: planning and classifying 10,000 datums with one changed well under a second (release); the
    /// bound here is generous for debug builds and loaded machines.
    func testPlanningAndClassifyingTenThousandDatumsIsFast() throws {
        try ensureRepo("big")
        // In batches: one put session of 10,000 files costs PFSCore quadratic bookkeeping (PutSession.record).
        for batch in 0..<100 {
            let s = try store.beginPut(repo: "big", ref: "master")
            for i in (batch * 100)..<(batch * 100 + 100) { try s.putFile(path: "/f\(i)", Array("content \(i)".utf8)) }
            try s.commit()
        }
        let input = pfs("big", "/*")
        let first = try plan(input)
        XCTAssertEqual(first.count, 10_000)
        let previous = records(first)
        try commit("big", ["/f1234": "changed"])
        try reopenStore()  // cold tree caches, as after a daemon restart
        let v = try view("big")
        let clock = ContinuousClock()
        let t0 = clock.now
        let second = try DatumPlanner.plan(input, views: ["big": v], salt: "salt")
        let t1 = clock.now
        let c = Incrementality.classify(previous: previous, plan: second)
        let t2 = clock.now
        XCTAssertEqual(c.toRerun, 1)
        XCTAssertEqual(c.skipped, 9_999)
        let total = t2 - t0
        print("datum planning: 10,000 datums planned in \(t1 - t0), classified in \(t2 - t1), total \(total)")
        XCTAssertLessThan(total, .seconds(5))
    }

    // MARK: 1.x incremental pieces

    func testDiffPieces() throws {
        let v1 = try commit("logs", ["/a.log": "line1\n", "/b.log": "x", "/dir/c.log": "c", "/same": "s",
                                      "/short": "longer text", "/link-target": "t"])
        let s = try store.beginPut(repo: "logs", ref: "master")
        try s.putFile(path: "/a.log", Array("line2\n".utf8), append: true)
        try s.putFile(path: "/b.log", Array("y".utf8))
        try s.putFile(path: "/dir/d.log", Array("d".utf8))
        try s.putFile(path: "/short", Array("short".utf8))
        try s.commit()
        let v2 = try view("logs")
        let pieces = try Incrementality.incrementalPaths(.diff, current: v2, previous: v1, paths: ["/"], trees: store.trees)
        XCTAssertEqual(pieces, [
            IncrementalPiece(path: "/a.log", kind: .appended(from: 6)),
            IncrementalPiece(path: "/b.log", kind: .whole),
            IncrementalPiece(path: "/dir/d.log", kind: .whole),
            IncrementalPiece(path: "/short", kind: .whole),
        ])
        // Only what is under the datum's paths; paths missing from the commit show nothing.
        XCTAssertEqual(try Incrementality.incrementalPaths(.diff, current: v2, previous: v1, paths: ["/dir", "/gone", "/same"],
                                                           trees: store.trees),
                       [IncrementalPiece(path: "/dir/d.log", kind: .whole)])
        // No previous job: everything is whole.
        XCTAssertEqual(try Incrementality.incrementalPaths(.diff, current: v2, previous: nil, paths: ["/dir"], trees: store.trees),
                       [IncrementalPiece(path: "/dir/c.log", kind: .whole), IncrementalPiece(path: "/dir/d.log", kind: .whole)])
        // A rewrite that keeps the old bytes as a prefix is an append too (one chunk: the bytes are compared).
        let v3 = try commit("logs", ["/a.log": "line1\nline2\nline3\n"])
        XCTAssertEqual(try Incrementality.incrementalPaths(current: v3, previous: v2, paths: ["/a.log"], trees: store.trees),
                       [IncrementalPiece(path: "/a.log", kind: .appended(from: 12))])
        let v4 = try commit("logs", ["/a.log": "LINE1\nline2\nline3\nline4\n"])
        XCTAssertEqual(try Incrementality.incrementalPaths(current: v4, previous: v3, paths: ["/a.log"], trees: store.trees),
                       [IncrementalPiece(path: "/a.log", kind: .whole)])
        // Overlapping datum paths (a group) show each file once.
        XCTAssertEqual(try Incrementality.incrementalPaths(current: v2, previous: v1, paths: ["/dir", "/dir/d.log"],
                                                           trees: store.trees),
                       [IncrementalPiece(path: "/dir/d.log", kind: .whole)])
    }

    func testFileAndNonePieces() throws {
        let v1 = try commit("data", ["/a": "1", "/dir/x": "2", "/dir/y": "3", "/same": "s"], mtimeNs: 1_000)
        let v2 = try commit("data", ["/dir/y": "changed", "/new": "n", "/same": "s"], mtimeNs: 2_000)
        let paths = ["/a", "/dir", "/new", "/same"]
        XCTAssertEqual(try Incrementality.incrementalPaths(.file, current: v2, previous: v1, paths: paths, trees: store.trees),
                       [IncrementalPiece(path: "/dir", kind: .whole), IncrementalPiece(path: "/new", kind: .whole)])
        XCTAssertEqual(try Incrementality.incrementalPaths(.none, current: v2, previous: v1, paths: paths, trees: store.trees),
                       paths.map { IncrementalPiece(path: $0, kind: .whole) })
        // A directory whose files were rewritten unchanged (new mtimes) has not changed.
        let v3 = try commit("data", ["/dir/x": "2", "/dir/y": "changed"], mtimeNs: 3_000)
        XCTAssertNotEqual(try v3.entry(["dir"])?.hash, try v2.entry(["dir"])?.hash)
        XCTAssertEqual(try Incrementality.incrementalPaths(.file, current: v3, previous: v2, paths: ["/dir"], trees: store.trees), [])
        XCTAssertEqual(try Incrementality.incrementalPaths(.diff, current: v3, previous: v2, paths: ["/dir"], trees: store.trees), [])
    }

    func testAppendDetectionAcrossChunks() throws {
        var rng = SplitMix(seed: 42)
        var data = [UInt8]()
        data.reserveCapacity(6 << 20)
        while data.count < 6 << 20 {
            let w = rng.next()
            for s in stride(from: 0, to: 64, by: 8) { data.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) }
        }
        let extra = Array(data[0..<(200 << 10)].reversed())
        try ensureRepo("big")
        func put(_ bytes: [UInt8], append: Bool = false) throws -> CommitView {
            let s = try store.beginPut(repo: "big", ref: "master")
            try s.putFile(path: "/f", bytes, append: append)
            try s.commit()
            return try view("big")
        }
        let v1 = try put(data)
        let old = try XCTUnwrap(try v1.entry(["f"]))
        XCTAssertGreaterThan(try store.trees.content(of: old).chunks.count, 2, "the test needs several chunks")
        // Written whole again with bytes added: chunking ends the same up to the old last chunk.
        let v2 = try put(data + extra)
        XCTAssertEqual(try Incrementality.incrementalPaths(current: v2, previous: v1, paths: ["/f"], trees: store.trees),
                       [IncrementalPiece(path: "/f", kind: .appended(from: Int64(data.count)))])
        // Appended through the store.
        let v3 = try put(extra, append: true)
        XCTAssertEqual(try Incrementality.incrementalPaths(current: v3, previous: v2, paths: ["/f"], trees: store.trees),
                       [IncrementalPiece(path: "/f", kind: .appended(from: Int64(data.count + extra.count)))])
        // One byte changed early (and bytes added): the old content is not a prefix.
        var changed = data + extra + extra + extra
        changed[1000] ^= 0xFF
        let v4 = try put(changed)
        XCTAssertEqual(try Incrementality.incrementalPaths(current: v4, previous: v3, paths: ["/f"], trees: store.trees),
                       [IncrementalPiece(path: "/f", kind: .whole)])
        // One byte changed in the old last chunk: the chunk lists agree until there, the bytes do not.
        var tail = data + extra
        tail[data.count - 10] ^= 0xFF
        let v5 = try put(data)
        let v6 = try put(tail)
        XCTAssertEqual(try Incrementality.incrementalPaths(current: v6, previous: v5, paths: ["/f"], trees: store.trees),
                       [IncrementalPiece(path: "/f", kind: .whole)])
    }
}

/// A deterministic generator (SplitMix64) so the test data is the same on every run.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

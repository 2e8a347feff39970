import Foundation
import PFSCore
import PFSPipelines
import XCTest

/// Base of the datum tests: a fresh store in a temporary directory per test (in /dev/shm when there is one, as
/// PFSCoreTests' StoreTestCase does: commits sync, and a VM disk makes each sync slow), removed in tearDown.
class DatumStoreTestCase: XCTestCase {
    private(set) var dataDir: URL!
    private(set) var store: Store!
    private var repos = Set<String>()

    override func setUpWithError() throws {
        try super.setUpWithError()
        let base: URL
        if let dir = ProcessInfo.processInfo.environment["PFS_TEST_DIR"] {
            base = URL(fileURLWithPath: dir)
        } else if access("/dev/shm", W_OK) == 0 {
            base = URL(fileURLWithPath: "/dev/shm")
        } else {
            base = FileManager.default.temporaryDirectory
        }
        dataDir = base.appendingPathComponent("pfs-datum-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        store = try Store(dataDir: dataDir.appendingPathComponent("store", isDirectory: true))
    }

    override func tearDownWithError() throws {
        store = nil
        if let dataDir { try? FileManager.default.removeItem(at: dataDir) }
        dataDir = nil
        try super.tearDownWithError()
    }

    /// Reopens the store (empty caches).
    func reopenStore() throws {
        store = nil
        store = try Store(dataDir: dataDir.appendingPathComponent("store", isDirectory: true))
    }

    /// Creates `repo` with an empty `master` (as `mkdir` in the mount does) the first time it is named.
    func ensureRepo(_ repo: String) throws {
        guard repos.insert(repo).inserted else { return }
        try store.createRepo(repo)
        try store.createBranch(repo: repo, name: "master")
    }

    /// One commit on `branch` of `repo`: `files` (path → text) written, `delete` removed, `dirs` made.
    /// Returns the view of the branch head after it.
    @discardableResult
    func commit(_ repo: String, _ files: [String: String] = [:], delete: [String] = [], dirs: [String] = [],
                branch: String = "master", mtimeNs: Int64? = nil) throws -> CommitView {
        try ensureRepo(repo)
        let s = try store.beginPut(repo: repo, ref: branch)
        do {
            for p in delete { try s.delete(path: p) }
            for d in dirs { try s.mkdir(path: d) }
            for (p, text) in files.sorted(by: { $0.key < $1.key }) {
                try s.putFile(path: p, Array(text.utf8), mtimeNs: mtimeNs)
            }
            try s.commit()
        } catch {
            s.abort()
            throw error
        }
        return try store.view(repo: repo, ref: branch)
    }

    func view(_ repo: String, _ ref: String = "master") throws -> CommitView {
        try store.view(repo: repo, ref: ref)
    }

    /// Each datum as one line: its inputs as `name:path,path` (`name:-` for an input shown empty), sorted.
    func describe(_ datums: [Datum]) -> [String] {
        datums.map { d in
            d.inputs.map { "\($0.name):" + ($0.paths.isEmpty ? "-" : $0.paths.joined(separator: ",")) }
                .joined(separator: " ")
        }.sorted()
    }

    func pfs(_ name: String, _ glob: String, repo: String? = nil, joinOn: String? = nil, groupBy: String? = nil,
             outer: Bool = false) -> Input {
        var p = PFSInput(name: name, repo: repo ?? name, glob: glob)
        p.joinOn = joinOn
        p.groupBy = groupBy
        p.outerJoin = outer
        return .pfs(p)
    }

    /// The datums of `input` over the master heads of the repos its pfs inputs name (branches with no commits
    /// give empty views).
    func plan(_ input: Input, salt: String = "salt") throws -> [Datum] {
        var views: [String: CommitView] = [:]
        for p in input.pfsInputs {
            try ensureRepo(p.repo)
            views[p.name] = try store.view(repo: p.repo, ref: p.branch)
        }
        return try DatumPlanner.plan(input, views: views, salt: salt)
    }
}

final class DatumPlannerTests: DatumStoreTestCase {
    // MARK: pfs inputs and globs

    private func sampleRepo() throws {
        try commit("data", ["/a.txt": "a", "/b.csv": "b", "/dir/x": "x", "/dir/y/z": "z", "/dir/y/w.csv": "w"],
                   dirs: ["/empty", "/dir/hollow"])
    }

    func testRootGlobIsTheWholeCommitAsOneDatum() throws {
        try sampleRepo()
        for glob in ["/", ""] {
            let datums = try plan(pfs("data", glob))
            XCTAssertEqual(describe(datums), ["data:/"], glob)
        }
    }

    func testStarIsEachTopLevelEntryButNotEmptyDirectories() throws {
        try sampleRepo()
        XCTAssertEqual(describe(try plan(pfs("data", "/*"))), ["data:/a.txt", "data:/b.csv", "data:/dir"])
        // A pattern without the leading slash, or with a trailing one, means the same.
        XCTAssertEqual(describe(try plan(pfs("data", "*"))), ["data:/a.txt", "data:/b.csv", "data:/dir"])
        XCTAssertEqual(describe(try plan(pfs("data", "/*/"))), ["data:/a.txt", "data:/b.csv", "data:/dir"])
    }

    func testDeeperGlobs() throws {
        try sampleRepo()
        XCTAssertEqual(describe(try plan(pfs("data", "/*/*"))), ["data:/dir/x", "data:/dir/y"])
        XCTAssertEqual(describe(try plan(pfs("data", "/*/*/*"))), ["data:/dir/y/w.csv", "data:/dir/y/z"])
        XCTAssertEqual(describe(try plan(pfs("data", "/**"))), [
            "data:/a.txt", "data:/b.csv", "data:/dir", "data:/dir/x", "data:/dir/y", "data:/dir/y/w.csv", "data:/dir/y/z",
        ])
        XCTAssertEqual(describe(try plan(pfs("data", "/*.csv"))), ["data:/b.csv"])
        XCTAssertEqual(describe(try plan(pfs("data", "/**/*.csv"))), ["data:/b.csv", "data:/dir/y/w.csv"])
        // `**` also matches no component at all, as `pfs glob file` does: `/dir/**` includes `/dir`.
        XCTAssertEqual(describe(try plan(pfs("data", "/dir/**"))),
                       ["data:/dir", "data:/dir/x", "data:/dir/y", "data:/dir/y/w.csv", "data:/dir/y/z"])
        XCTAssertEqual(describe(try plan(pfs("data", "/dir/y"))), ["data:/dir/y"])
        XCTAssertEqual(describe(try plan(pfs("data", "/nothing/*"))), [])
    }

    func testCharacterClassesAndQuestionMark() throws {
        try commit("data", ["/f1": "1", "/f2": "2", "/fa": "a", "/g1": "g", "/f10": "10", "/]x": "b"])
        XCTAssertEqual(describe(try plan(pfs("data", "/f[0-9]"))), ["data:/f1", "data:/f2"])
        XCTAssertEqual(describe(try plan(pfs("data", "/f[!0-9]"))), ["data:/fa"])
        XCTAssertEqual(describe(try plan(pfs("data", "/f[^a]"))), ["data:/f1", "data:/f2"])
        XCTAssertEqual(describe(try plan(pfs("data", "/[!f]*"))), ["data:/]x", "data:/g1"])
        XCTAssertEqual(describe(try plan(pfs("data", "/f?"))), ["data:/f1", "data:/f2", "data:/fa"])
        XCTAssertEqual(describe(try plan(pfs("data", "/f??"))), ["data:/f10"])
        XCTAssertEqual(describe(try plan(pfs("data", "/[]]x"))), ["data:/]x"])
        XCTAssertEqual(describe(try plan(pfs("data", "/[a-f][0-9]*"))), ["data:/f1", "data:/f10", "data:/f2"])
    }

    /// Planning must not list directories the glob cannot match below: with a directory's tree object gone,
    /// globs that cannot match inside it still plan (they never open it); `/*/*` fails (it has to).
    func testGlobDoesNotOpenSubtreesItCannotMatch() throws {
        var files: [String: String] = ["/top.txt": "t", "/keep/k": "k"]
        for i in 0..<50 { files["/big/sub\(i % 5)/f\(i)"] = "content \(i)" }
        try commit("data", files)
        let big = try XCTUnwrap(try view("data").entry(["big"]))
        try store.objects.delete(big.hash)
        try reopenStore()
        XCTAssertEqual(describe(try plan(pfs("data", "/*.txt"))), ["data:/top.txt"])
        XCTAssertEqual(describe(try plan(pfs("data", "/keep/*"))), ["data:/keep/k"])
        XCTAssertEqual(describe(try plan(pfs("data", "/k*/*"))), ["data:/keep/k"])
        XCTAssertThrowsError(try plan(pfs("data", "/*/*")))
    }

    func testEmptyBranchAndEmptyCommitGiveNoDatums() throws {
        try ensureRepo("data")
        for glob in ["/", "/*", "/**"] {
            XCTAssertEqual(try plan(pfs("data", glob)), [], "branch with no commits, \(glob)")
        }
        try commit("data", ["/a": "1"])
        try commit("data", delete: ["/a"], dirs: ["/left-empty"])
        XCTAssertNotNil(try view("data").commit)
        for glob in ["/", "/*", "/**"] {
            XCTAssertEqual(try plan(pfs("data", glob)), [], "empty commit, \(glob)")
        }
    }

    func testErrorsNameTheInput() throws {
        try commit("data", ["/a": "1"])
        XCTAssertThrowsError(try DatumPlanner.plan(pfs("data", "/*"), views: [:], salt: "")) { e in
            XCTAssertTrue("\(e)".contains("\"data\""), "\(e)")
        }
        XCTAssertThrowsError(try plan(pfs("data", "/[a"))) { e in XCTAssertTrue("\(e)".contains("data"), "\(e)") }
        XCTAssertThrowsError(try plan(pfs("data", "/(*"))) { e in XCTAssertTrue("\(e)".contains("'('"), "\(e)") }
        XCTAssertThrowsError(try plan(pfs("data", "/*)"))) { e in XCTAssertTrue("\(e)".contains("')'"), "\(e)") }
    }

    func testDatumInputFields() throws {
        let v = try commit("data", ["/a.txt": "hello", "/d/b": "x"], branch: "dev")
        var p = PFSInput(name: "in", repo: "data", branch: "dev", glob: "/*")
        p.emptyFiles = true  // affects the worker's view only
        let datums = try DatumPlanner.plan(.pfs(p), views: ["in": v], salt: "s")
        XCTAssertEqual(datums.count, 2)
        let file = try XCTUnwrap(datums.first { $0.inputs[0].paths == ["/a.txt"] })
        XCTAssertEqual(file.inputs, [DatumInput(name: "in", repo: "data", branch: "dev", commit: v.commitID,
                                                paths: ["/a.txt"], hashes: [try store.inspectFile(repo: "data", ref: "dev", path: "/a.txt").hash])])
        XCTAssertEqual(file.id.count, 64)
        XCTAssertEqual(file.hash.count, 64)
        XCTAssertTrue(file.id.allSatisfy { $0.isHexDigit })
        XCTAssertEqual(datums.map(\.id), datums.map(\.id).sorted(), "sorted by id")
        // Datums round-trip through JSON (the scheduler stores them).
        let data = try JSONEncoder().encode(datums)
        XCTAssertEqual(try JSONDecoder().decode([Datum].self, from: data), datums)
    }

    // MARK: ids and hashes

    func testIdsAreStableAcrossCommitsAndHashesFollowContent() throws {
        try commit("data", ["/a": "1", "/b": "2", "/d/x": "3"])
        let first = Dictionary(uniqueKeysWithValues: try plan(pfs("data", "/*")).map { ($0.inputs[0].paths[0], $0) })
        try commit("data", ["/b": "changed", "/c": "new"])
        let second = Dictionary(uniqueKeysWithValues: try plan(pfs("data", "/*")).map { ($0.inputs[0].paths[0], $0) })
        XCTAssertEqual(Set(second.keys), ["/a", "/b", "/c", "/d"])
        for p in ["/a", "/b", "/d"] { XCTAssertEqual(first[p]?.id, second[p]?.id, p) }
        XCTAssertEqual(first["/a"]?.hash, second["/a"]?.hash)
        XCTAssertEqual(first["/d"]?.hash, second["/d"]?.hash)
        XCTAssertNotEqual(first["/b"]?.hash, second["/b"]?.hash)
        XCTAssertNotEqual(first["/a"]?.inputs[0].commit, second["/a"]?.inputs[0].commit)
        // A change deep in a directory changes the directory datum's hash, not its id.
        try commit("data", ["/d/x": "4"])
        let third = try plan(pfs("data", "/*")).first { $0.inputs[0].paths == ["/d"] }
        XCTAssertEqual(third?.id, first["/d"]?.id)
        XCTAssertNotEqual(third?.hash, first["/d"]?.hash)
    }

    func testRewritingTheSameContentKeepsHashes() throws {
        try commit("data", ["/a": "1", "/d/x": "2", "/d/e/y": "3"], mtimeNs: 1_000)
        let before = try plan(pfs("data", "/**"))
        let rootBefore = try plan(pfs("data", "/"))
        // Same bytes, new mtimes (a `cp -r` without `-p`): the tree hashes change, the datum hashes must not.
        let rootEntry = try view("data").entry([])
        try commit("data", ["/a": "1", "/d/x": "2", "/d/e/y": "3"], mtimeNs: 2_000)
        XCTAssertNotEqual(try view("data").entry([])?.hash, rootEntry?.hash)
        let commitID = try view("data").commitID
        XCTAssertEqual(try plan(pfs("data", "/**")), before.map { d in
            var d = d
            for i in d.inputs.indices { d.inputs[i].commit = commitID }
            return d
        })
        XCTAssertEqual(try plan(pfs("data", "/")).map(\.hash), rootBefore.map(\.hash))
    }

    func testSaltBranchAndNameEnterTheIdentity() throws {
        try commit("data", ["/a": "1"])
        try commit("data", ["/a": "1"], branch: "dev")
        let base = try XCTUnwrap(try plan(pfs("data", "/*"), salt: "s1").first)
        let salted = try XCTUnwrap(try plan(pfs("data", "/*"), salt: "s2").first)
        XCTAssertEqual(base.id, salted.id)
        XCTAssertNotEqual(base.hash, salted.hash)
        let renamed = try XCTUnwrap(try plan(pfs("other", "/*", repo: "data"), salt: "s1").first)
        XCTAssertNotEqual(base.id, renamed.id)
        var dev = PFSInput(name: "data", repo: "data", glob: "/*")
        dev.branch = "dev"
        let onDev = try XCTUnwrap(try DatumPlanner.plan(.pfs(dev), views: ["data": try view("data", "dev")], salt: "s1").first)
        XCTAssertNotEqual(base.id, onDev.id)
    }

    // MARK: cross and union

    func testCrossIsTheCartesianProduct() throws {
        try commit("A", ["/1": "a1", "/2": "a2"])
        try commit("B", ["/x": "bx", "/y": "by", "/z": "bz"])
        XCTAssertEqual(describe(try plan(.cross([pfs("A", "/*"), pfs("B", "/*")]))), [
            "A:/1 B:/x", "A:/1 B:/y", "A:/1 B:/z",
            "A:/2 B:/x", "A:/2 B:/y", "A:/2 B:/z",
        ])
        XCTAssertEqual(describe(try plan(.cross([pfs("A", "/*"), pfs("B", "/")]))), ["A:/1 B:/", "A:/2 B:/"])
        // An input without datums empties the product; so does a cross of nothing.
        try ensureRepo("C")
        XCTAssertEqual(try plan(.cross([pfs("A", "/*"), pfs("C", "/*")])), [])
        XCTAssertEqual(try plan(.cross([])), [])
    }

    func testUnionIsTheConcatenation() throws {
        try commit("A", ["/1": "a1", "/2": "a2"])
        try commit("B", ["/x": "bx"])
        XCTAssertEqual(describe(try plan(.union([pfs("A", "/*"), pfs("B", "/*")]))), ["A:/1", "A:/2", "B:/x"])
        XCTAssertEqual(describe(try plan(.union([pfs("A", "/*"), pfs("B", "/")]))), ["A:/1", "A:/2", "B:/"])
        // Identical datums reached twice count once.
        XCTAssertEqual(describe(try plan(.union([pfs("A", "/*"), pfs("A", "/1")]))), ["A:/1", "A:/2"])
    }

    /// Union inputs sharing a name (as Pachyderm recommends) read their own repos: views keyed by
    /// `DatumPlanner.viewKey(repo:branch:)` win over views keyed by name.
    func testUnionInputsSharingANameReadTheirOwnRepos() throws {
        try commit("A", ["/1": "a1", "/2": "a2"])
        try commit("B", ["/x": "bx"])
        let input = Input.union([pfs("in", "/*", repo: "A"), pfs("in", "/*", repo: "B")])
        let views = ["in": try view("B"), DatumPlanner.viewKey(repo: "A", branch: "master"): try view("A"),
                     DatumPlanner.viewKey(repo: "B", branch: "master"): try view("B")]
        let datums = try DatumPlanner.plan(input, views: views, salt: "s")
        XCTAssertEqual(describe(datums), ["in:/1", "in:/2", "in:/x"])
        XCTAssertEqual(Set(datums.map { $0.inputs[0].repo + $0.inputs[0].paths[0] }), ["A/1", "A/2", "B/x"])
        XCTAssertEqual(Set(datums.map(\.id)).count, 3)
    }

    // MARK: join

    /// The example of Pachyderm's join documentation: readings `/ID1234/file1..5.txt`, parameters
    /// `/file1..8.txt`, globs `/*/(*).txt` and `/(*).txt`, `join_on: $1`.
    private func readingsAndParameters() throws {
        var readings: [String: String] = [:], parameters: [String: String] = [:]
        for i in 1...5 { readings["/ID1234/file\(i).txt"] = "reading \(i)" }
        for i in 1...8 { parameters["/file\(i).txt"] = "parameter \(i)" }
        try commit("readings", readings)
        try commit("parameters", parameters)
    }

    func testInnerJoinDocumentationExample() throws {
        try readingsAndParameters()
        let datums = try plan(.join([pfs("readings", "/*/(*).txt", joinOn: "$1"),
                                     pfs("parameters", "/(*).txt", joinOn: "$1")]))
        XCTAssertEqual(describe(datums), (1...5).map { "readings:/ID1234/file\($0).txt parameters:/file\($0).txt" })
        for d in datums {
            XCTAssertEqual(d.inputs.map(\.joinOn), [d.inputs[1].joinOn, d.inputs[1].joinOn])
            XCTAssertEqual(d.inputs[0].joinOn, String(d.inputs[1].paths[0].dropFirst().dropLast(4)))
        }
    }

    func testOuterJoinDocumentationExample() throws {
        try readingsAndParameters()
        let datums = try plan(.join([pfs("readings", "/*/(*).txt", joinOn: "$1"),
                                     pfs("parameters", "/(*).txt", joinOn: "$1", outer: true)]))
        XCTAssertEqual(describe(datums),
                       ((1...5).map { "readings:/ID1234/file\($0).txt parameters:/file\($0).txt" }
                        + (6...8).map { "readings:- parameters:/file\($0).txt" }).sorted())
        // The input shown empty carries the key it had no partner for.
        let lone = try XCTUnwrap(datums.first { $0.inputs[0].paths.isEmpty && $0.inputs[1].paths == ["/file7.txt"] })
        XCTAssertEqual(lone.inputs[0].joinOn, "file7")
        XCTAssertEqual(lone.inputs[0].hashes, [])
        // Outer on the side that has no unmatched files adds nothing.
        XCTAssertEqual(try plan(.join([pfs("readings", "/*/(*).txt", joinOn: "$1", outer: true),
                                       pfs("parameters", "/(*).txt", joinOn: "$1")])).count, 5)
    }

    /// The retail example of Pachyderm's joins example (stores, purchases, returns by store id).
    func testJoinStoresPurchasesReturns() throws {
        try commit("stores", ["/STOREID1.txt": "{\"zipcode\":\"02108\"}", "/STOREID2.txt": "{\"zipcode\":\"90210\"}",
                              "/STOREID3.txt": "{\"zipcode\":\"02108\"}", "/STOREID4.txt": "{\"zipcode\":\"94107\"}"])
        try commit("purchases", ["/ORDERW080520_STOREID1.txt": "p1", "/ORDERW080521_STOREID1.txt": "p2",
                                 "/ORDERW078929_STOREID2.txt": "p3", "/ORDERW080231_STOREID3.txt": "p4",
                                 "/ORDERW080528_STOREID5.txt": "p5"])
        try commit("returns", ["/ORDERW080520_STOREID1.txt": "r1", "/ORDERW080528_STOREID5.txt": "r2"])
        let stores = pfs("stores", "/STOREID(*).txt", joinOn: "$1")
        let purchases = pfs("purchases", "/*_STOREID(*).txt", joinOn: "$1")
        XCTAssertEqual(describe(try plan(.join([stores, purchases]))), [
            "stores:/STOREID1.txt purchases:/ORDERW080520_STOREID1.txt",
            "stores:/STOREID1.txt purchases:/ORDERW080521_STOREID1.txt",
            "stores:/STOREID2.txt purchases:/ORDERW078929_STOREID2.txt",
            "stores:/STOREID3.txt purchases:/ORDERW080231_STOREID3.txt",
        ])
        // Case 1: outer join on returns only: every return, with its store when there is one.
        XCTAssertEqual(describe(try plan(.join([stores, pfs("returns", "/*_STOREID(*).txt", joinOn: "$1", outer: true)]))), [
            "stores:- returns:/ORDERW080528_STOREID5.txt",
            "stores:/STOREID1.txt returns:/ORDERW080520_STOREID1.txt",
        ])
        // Case 2: outer join on stores only: every store, with its returns.
        XCTAssertEqual(describe(try plan(.join([pfs("stores", "/STOREID(*).txt", joinOn: "$1", outer: true),
                                                pfs("returns", "/*_STOREID(*).txt", joinOn: "$1")]))), [
            "stores:/STOREID1.txt returns:/ORDERW080520_STOREID1.txt",
            "stores:/STOREID2.txt returns:-", "stores:/STOREID3.txt returns:-", "stores:/STOREID4.txt returns:-",
        ])
        // Case 3: outer join on both.
        XCTAssertEqual(describe(try plan(.join([pfs("stores", "/STOREID(*).txt", joinOn: "$1", outer: true),
                                                pfs("returns", "/*_STOREID(*).txt", joinOn: "$1", outer: true)]))), [
            "stores:- returns:/ORDERW080528_STOREID5.txt",
            "stores:/STOREID1.txt returns:/ORDERW080520_STOREID1.txt",
            "stores:/STOREID2.txt returns:-", "stores:/STOREID3.txt returns:-", "stores:/STOREID4.txt returns:-",
        ])
    }

    func testJoinCrossesWithinAKeyAndUsesSeveralCaptures() throws {
        try commit("A", ["/x-1.txt": "1", "/x-2.txt": "2", "/y-1.txt": "3"])
        try commit("B", ["/1/x.csv": "4", "/1/y.csv": "5", "/2/x.csv": "6", "/3/x.csv": "7"])
        // Key on both captures: `$1-$2` against B's `$2-$1`.
        XCTAssertEqual(describe(try plan(.join([pfs("A", "/(*)-(*).txt", joinOn: "$1-$2"),
                                                pfs("B", "/(*)/(*).csv", joinOn: "$2-$1")]))), [
            "A:/x-1.txt B:/1/x.csv", "A:/x-2.txt B:/2/x.csv", "A:/y-1.txt B:/1/y.csv",
        ])
        // Key on the number only: within key 1, every pair.
        XCTAssertEqual(describe(try plan(.join([pfs("A", "/*-(*).txt", joinOn: "$1"),
                                                pfs("B", "/(*)/*.csv", joinOn: "$1")]))), [
            "A:/x-1.txt B:/1/x.csv", "A:/x-1.txt B:/1/y.csv", "A:/x-2.txt B:/2/x.csv",
            "A:/y-1.txt B:/1/x.csv", "A:/y-1.txt B:/1/y.csv",
        ])
        // Three inputs: a datum needs all three (C has only key 1).
        try commit("C", ["/1": "c"])
        XCTAssertEqual(describe(try plan(.join([pfs("A", "/x-(*).txt", joinOn: "$1"), pfs("B", "/(*)/x.csv", joinOn: "$1"),
                                                pfs("C", "/(*)", joinOn: "$1")]))), ["A:/x-1.txt B:/1/x.csv C:/1"])
        // Outer on A only in a three-way join: where a partner is missing, only A's path stays.
        XCTAssertEqual(describe(try plan(.join([pfs("A", "/x-(*).txt", joinOn: "$1", outer: true),
                                                pfs("B", "/(*)/x.csv", joinOn: "$1"), pfs("C", "/(*)", joinOn: "$1")]))), [
            "A:/x-1.txt B:/1/x.csv C:/1", "A:/x-2.txt B:- C:-",
        ])
    }

    func testJoinOnDirectories() throws {
        // A glob matching directories: each directory (with its subtree) joins.
        try commit("A", ["/k1/a": "1", "/k1/b": "2", "/k2/a": "3"])
        try commit("B", ["/k1.json": "x", "/k3.json": "y"])
        XCTAssertEqual(describe(try plan(.join([pfs("A", "/(*)", joinOn: "$1"), pfs("B", "/(*).json", joinOn: "$1")]))),
                       ["A:/k1 B:/k1.json"])
    }

    // MARK: group

    /// The example of Pachyderm's group documentation: lab results grouped by patient.
    func testGroupDocumentationExample() throws {
        try commit("labresults", ["/LIPID-patientID1-labID1.txt": "1", "/LIPID-patientID2-labID1.txt": "2",
                                  "/LIPID-patientID1-labID2.txt": "3", "/LIPID-patientID3-labID3.txt": "4",
                                  "/LIPID-patientID1-labID3.txt": "5", "/LIPID-patientID2-labID3.txt": "6"])
        let datums = try plan(.group([pfs("labresults", "/*-(*)-lab*.txt", groupBy: "$1")]))
        XCTAssertEqual(describe(datums), [
            "labresults:/LIPID-patientID1-labID1.txt,/LIPID-patientID1-labID2.txt,/LIPID-patientID1-labID3.txt",
            "labresults:/LIPID-patientID2-labID1.txt,/LIPID-patientID2-labID3.txt",
            "labresults:/LIPID-patientID3-labID3.txt",
        ])
        XCTAssertEqual(Set(datums.compactMap { $0.inputs[0].groupBy }), ["patientID1", "patientID2", "patientID3"])
        for d in datums { XCTAssertEqual(d.inputs[0].hashes.count, d.inputs[0].paths.count) }
        // Grouped by lab instead (capture 2 of `/*-(*)-(*).txt`).
        XCTAssertEqual(describe(try plan(.group([pfs("labresults", "/*-(*)-(*).txt", groupBy: "$2")]))), [
            "labresults:/LIPID-patientID1-labID1.txt,/LIPID-patientID2-labID1.txt",
            "labresults:/LIPID-patientID1-labID2.txt",
            "labresults:/LIPID-patientID1-labID3.txt,/LIPID-patientID2-labID3.txt,/LIPID-patientID3-labID3.txt",
        ])
    }

    func testGroupAcrossInputs() throws {
        try commit("images", ["/p1/scan1.png": "a", "/p1/scan2.png": "b", "/p2/scan1.png": "c"])
        try commit("notes", ["/p1.txt": "n1", "/p3.txt": "n3"])
        let datums = try plan(.group([pfs("images", "/(*)/*.png", groupBy: "$1"), pfs("notes", "/(*).txt", groupBy: "$1")]))
        XCTAssertEqual(describe(datums), [
            "images:- notes:/p3.txt",
            "images:/p1/scan1.png,/p1/scan2.png notes:/p1.txt",
            "images:/p2/scan1.png notes:-",
        ].sorted())
        let p3 = try XCTUnwrap(datums.first { $0.inputs[1].paths == ["/p3.txt"] })
        XCTAssertEqual(p3.inputs[0].groupBy, "p3")
    }

    // MARK: nesting

    func testCrossOfAUnionAndAPFSInput() throws {
        try commit("A", ["/a1": "1", "/a2": "2"])
        try commit("B", ["/b1": "3"])
        try commit("C", ["/c1": "4", "/c2": "5"])
        XCTAssertEqual(describe(try plan(.cross([.union([pfs("A", "/*"), pfs("B", "/*")]), pfs("C", "/*")]))), [
            "A:/a1 C:/c1", "A:/a1 C:/c2", "A:/a2 C:/c1", "A:/a2 C:/c2", "B:/b1 C:/c1", "B:/b1 C:/c2",
        ])
        XCTAssertEqual(describe(try plan(.union([.cross([pfs("A", "/*"), pfs("B", "/*")]), pfs("C", "/*")]))), [
            "A:/a1 B:/b1", "A:/a2 B:/b1", "C:/c1", "C:/c2",
        ])
    }

    func testJoinAndGroupInsideCrossAndUnion() throws {
        try readingsAndParameters()
        try commit("model", ["/weights": "w"])
        let join = Input.join([pfs("readings", "/*/(*).txt", joinOn: "$1"), pfs("parameters", "/(*).txt", joinOn: "$1")])
        XCTAssertEqual(describe(try plan(.cross([join, pfs("model", "/")]))),
                       (1...5).map { "readings:/ID1234/file\($0).txt parameters:/file\($0).txt model:/" })
        try commit("labs", ["/x-1": "1", "/y-1": "2", "/x-2": "3"])
        let group = Input.group([pfs("labs", "/(*)-*", groupBy: "$1")])
        XCTAssertEqual(describe(try plan(.union([group, pfs("model", "/*")]))),
                       ["labs:/x-1,/x-2", "labs:/y-1", "model:/weights"])
        XCTAssertEqual(describe(try plan(.cross([group, pfs("model", "/*")]))),
                       ["labs:/x-1,/x-2 model:/weights", "labs:/y-1 model:/weights"])
    }

    func testUnionInsideJoinAndGroupTakesPathsApart() throws {
        try commit("A", ["/k1.a": "1", "/k2.a": "2"])
        try commit("B", ["/k1.b": "3"])
        try commit("C", ["/k1.c": "4", "/k2.c": "5"])
        // join(union(A, B), C): each path of the union joins on its own key.
        XCTAssertEqual(describe(try plan(.join([.union([pfs("A", "/(*).a", joinOn: "$1"), pfs("B", "/(*).b", joinOn: "$1")]),
                                                pfs("C", "/(*).c", joinOn: "$1")]))), [
            "A:/k1.a C:/k1.c", "A:/k2.a C:/k2.c", "B:/k1.b C:/k1.c",
        ])
        // group(cross(A, B)): as in Pachyderm, the cross's datums are taken apart into paths and regrouped.
        XCTAssertEqual(describe(try plan(.group([.cross([pfs("A", "/(*).a", groupBy: "$1"), pfs("B", "/(*).b", groupBy: "$1")]),
                                                 pfs("C", "/(*).c", groupBy: "$1")]))), [
            "A:/k1.a B:/k1.b C:/k1.c", "A:/k2.a C:/k2.c",
        ])
    }

    // MARK: cron

    func testCronInputIsEachTickFile() throws {
        try commit("pipe_tick", ["/2024-01-01T00:00:00Z": "", "/2024-01-01T00:01:00Z": ""])
        let v = try view("pipe_tick")
        let datums = try DatumPlanner.plan(.cron(CronInput(name: "tick", spec: "@every 1m")), views: ["tick": v], salt: "")
        XCTAssertEqual(describe(datums), ["tick:/2024-01-01T00:00:00Z", "tick:/2024-01-01T00:01:00Z"])
        XCTAssertEqual(datums.first?.inputs.first?.repo, "pipe_tick")
        // With the tick repo named in the spec.
        var named = CronInput(name: "tick", spec: "@every 1m")
        named.repo = "pipe_tick"
        XCTAssertEqual(try DatumPlanner.plan(.cron(named), views: ["tick": v], salt: ""), datums)
    }

    // MARK: capture globs

    func testCaptureGroupsOfTheDocumentationTable() throws {
        // Pachyderm's table, for the path /foo/bar-123/ABC.txt (each glob matched at its own depth).
        XCTAssertEqual(try CaptureGlob("/(*)").captures(["foo"]), ["foo"])
        XCTAssertEqual(try CaptureGlob("/*/bar-(*)").captures(["foo", "bar-123"]), ["123"])
        XCTAssertEqual(try CaptureGlob("/(*)/*/(??)*.txt").captures(["foo", "bar-123", "ABC.txt"]), ["foo", "AB"])
        XCTAssertEqual(try CaptureGlob("/*/(bar-(123))/*").captures(["foo", "bar-123", "ABC.txt"]), ["bar-123", "123"])
        XCTAssertNil(try CaptureGlob("/(*)").captures(["foo", "bar-123"]))
    }

    func testCaptureGlobEdgeCases() throws {
        // Greedy stars, as a regular expression's.
        XCTAssertEqual(try CaptureGlob("/(*)-(*).txt").captures(["a-b-c.txt"]), ["a-b", "c"])
        XCTAssertEqual(try CaptureGlob("/**/(*).txt").captures(["a", "b", "c.txt"]), ["c"])
        XCTAssertEqual(try CaptureGlob("/**/(*).txt").captures(["c.txt"]), ["c"])
        XCTAssertEqual(try CaptureGlob("/(**)/x").captures(["a", "b", "x"]), ["a/b"])
        XCTAssertEqual(try CaptureGlob("/(**)/x").captures(["x"]), [""])
        XCTAssertEqual(try CaptureGlob("/(*/*)").captures(["a", "b"]), ["a/b"])
        XCTAssertEqual(try CaptureGlob("/([a-c])([!a-c]*)").captures(["bzz"]), ["b", "zz"])
        XCTAssertEqual(try CaptureGlob("/\\((*)\\)").captures(["(k)"]), ["k"])
        XCTAssertEqual(try CaptureGlob("[(]*").captures(["(x"]), [])
        XCTAssertEqual(try CaptureGlob("/(*)").groupCount, 1)
        XCTAssertTrue(try CaptureGlob("/").isRoot)
        XCTAssertEqual(try CaptureGlob("/(*)/(*)").glob.pattern, "/*/*")
        XCTAssertTrue(try CaptureGlob("/(a)/*").mayMatchBelow(["a"]))
        XCTAssertFalse(try CaptureGlob("/(a)/*").mayMatchBelow(["b"]))
        XCTAssertEqual(try CaptureGlob("/(*).txt").key("$1", for: ["k.txt"]), "k")
        XCTAssertNil(try CaptureGlob("/(*).txt").key("$1", for: ["k.csv"]))
    }

    func testKeyTemplates() {
        let caps = ["a", "b"]
        XCTAssertEqual(CaptureGlob.expand("$1", captures: caps), "a")
        XCTAssertEqual(CaptureGlob.expand("$1$2", captures: caps), "ab")
        XCTAssertEqual(CaptureGlob.expand("$2-$1", captures: caps), "b-a")
        XCTAssertEqual(CaptureGlob.expand("${1}x", captures: caps), "ax")
        XCTAssertEqual(CaptureGlob.expand("$1x", captures: caps), "ax")
        XCTAssertEqual(CaptureGlob.expand("$$1", captures: caps), "$1")
        XCTAssertEqual(CaptureGlob.expand("$9", captures: caps), "")
        XCTAssertEqual(CaptureGlob.expand("$0", captures: caps, whole: "/p"), "/p")
        XCTAssertEqual(CaptureGlob.expand("cost$", captures: caps), "cost$")
        XCTAssertEqual(CaptureGlob.expand("${x}", captures: caps), "${x}")
        XCTAssertEqual(CaptureGlob.expand("plain", captures: caps), "plain")
    }

    func testJoinWithoutJoinOnMatchesEverythingWithTheEmptyKey() throws {
        try commit("A", ["/1": "a"])
        try commit("B", ["/x": "b", "/y": "c"])
        XCTAssertEqual(describe(try plan(.join([pfs("A", "/*"), pfs("B", "/*")]))), ["A:/1 B:/x", "A:/1 B:/y"])
    }
}

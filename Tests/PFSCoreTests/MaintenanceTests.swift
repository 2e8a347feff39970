import Foundation
import XCTest
@testable import PFSCore

/// Diff, garbage collection and fsck.
final class MaintenanceTests: StoreTestCase {
    var store: Store!

    override func setUpWithError() throws {
        try super.setUpWithError()
        store = try openStore()
    }

    override func tearDownWithError() throws {
        store = nil
        try super.tearDownWithError()
    }

    var objectsDir: URL { dataDir.appendingPathComponent("store/objects") }

    /// One file per object, so a test can remove or damage one (packed objects: PackStoreTests).
    override var packLimit: Int? { 0 }

    func objectURL(_ h: ObjectHash) -> URL {
        objectsDir.appendingPathComponent(String(h.hex.prefix(2))).appendingPathComponent(String(h.hex.dropFirst(2)))
    }

    func allObjects() throws -> Set<ObjectHash> {
        var out = Set<ObjectHash>()
        try store.objects.forEachObject { h, _, _ in out.insert(h) }
        return out
    }

    func chunk(_ repo: String, _ ref: String, _ path: String) throws -> ObjectHash {
        try XCTUnwrap(store.openFile(repo: repo, ref: ref, path: path).1.chunks.first?.hash)
    }

    func treeHash(_ repo: String, _ ref: String, _ path: String) throws -> ObjectHash {
        try XCTUnwrap(ObjectHash(hex: store.inspectFile(repo: repo, ref: ref, path: path).hash))
    }

    // MARK: diff

    func summary(_ d: [DiffEntry]) -> [String] { d.map { "\($0.change.rawValue) \($0.path)" } }

    func testDiff() throws {
        try store.createRepo("r")
        try store.putFiles("r", "master", ["/a": "1", "/d/x": "x", "/d/y": "y", "/same/deep/f": "f", "/f2d": "file",
                                          "/m": "mode"])
        try store.put("r", "master") { s in
            try s.putFile(path: "/a", Array("changed".utf8))
            try s.delete(path: "/d/y")
            try s.putFile(path: "/d/z", Array("z".utf8))
            try s.putFile(path: "/new/dir/f", Array("n".utf8))
            try s.delete(path: "/f2d")
            try s.putFile(path: "/f2d/inner", Array("i".utf8))
            try s.putFile(path: "/m", Array("mode".utf8), mode: 0o600)
        }
        let d = try store.diff(repo: "r", ref: "master")
        XCTAssertEqual(summary(d), ["modified /a", "deleted /d/y", "added /d/z", "deleted /f2d", "added /f2d/inner",
                                    "modified /m", "added /new/dir/f"])
        let a = try XCTUnwrap(d.first)
        XCTAssertEqual(a.old?.sizeBytes, 1)
        XCTAssertEqual(a.new?.sizeBytes, 7)
        XCTAssertNil(d[1].new)
        XCTAssertEqual(d[1].old?.path, "/d/y")
        XCTAssertNil(d[2].old)
        // Reversed, explicit old, and limited to a path.
        XCTAssertEqual(summary(try store.diff(repo: "r", ref: "master^", old: "master")),
                       ["modified /a", "added /d/y", "deleted /d/z", "deleted /f2d/inner", "added /f2d",
                        "modified /m", "deleted /new/dir/f"])
        XCTAssertEqual(summary(try store.diff(repo: "r", ref: "master", path: "/d")), ["deleted /d/y", "added /d/z"])
        XCTAssertEqual(try store.diff(repo: "r", ref: "master", old: "master"), [])
        // The first commit: everything is added.
        XCTAssertEqual(summary(try store.diff(repo: "r", ref: "master^")),
                       ["added /a", "added /d/x", "added /d/y", "added /f2d", "added /m", "added /same/deep/f"])

        // An open commit against its parent; a directory changed and changed back reports nothing.
        try store.startCommit(repo: "r", branch: "master")
        try store.put("r", "master") { s in
            try s.putFile(path: "/same/deep/g", Array("g".utf8))
            try s.delete(path: "/same/deep/g")
            try s.putFile(path: "/d/x", Array("x2".utf8))
        }
        XCTAssertEqual(summary(try store.diff(repo: "r", ref: "master")), ["modified /d/x"])
    }

    /// Equal subtrees are not descended: diff works even when an unchanged subtree's objects are gone.
    func testDiffPrunesUnchangedSubtrees() throws {
        try store.createRepo("r")
        var files: [String: String] = ["/small/x": "1"]
        for i in 0..<50 { files["/big/sub\(i % 5)/f\(i)"] = "content \(i)" }
        try store.putFiles("r", "master", files)
        try store.putFiles("r", "master", ["/small/x": "2"])
        let big = try treeHash("r", "master", "/big")
        XCTAssertEqual(big, try treeHash("r", "master^", "/big"))
        try FileManager.default.removeItem(at: objectURL(big))
        // A fresh store has nothing cached: anything that reads /big fails now…
        store = nil
        store = try openStore()
        assertPFSError(.corrupt, try store.listFiles(repo: "r", ref: "master", path: "/big"))
        // …but diff never needs it.
        XCTAssertEqual(summary(try store.diff(repo: "r", ref: "master")), ["modified /small/x"])
        // fsck reports the missing tree, with the commits and path that reach it.
        let report = try store.fsck()
        XCTAssertFalse(report.ok)
        XCTAssertTrue(report.problems.contains { $0.object == big.hex && $0.referencedBy.hasSuffix(":/big") }, "\(report.problems)")
    }

    // MARK: glob

    func testGlobOverCommit() throws {
        try store.createRepo("r")
        try store.putFiles("r", "master", ["/a.csv": "1", "/b.csv": "2", "/c.txt": "3", "/a/x.csv": "4", "/a/y/z.csv": "5",
                                          "/b/q": "6", "/x": "7"])
        func g(_ p: String) throws -> [String] { try store.glob(repo: "r", ref: "master", pattern: p).map(\.path) }
        XCTAssertEqual(try g("/"), ["/"])
        XCTAssertEqual(try store.glob(repo: "r", ref: "master", pattern: "/").first?.type, .dir)
        XCTAssertEqual(try g("/*"), ["/a", "/a.csv", "/b", "/b.csv", "/c.txt", "/x"])
        XCTAssertEqual(try g("/*/*"), ["/a/x.csv", "/a/y", "/b/q"])
        XCTAssertEqual(try g("/**"), ["/a", "/a/x.csv", "/a/y", "/a/y/z.csv", "/a.csv", "/b", "/b/q", "/b.csv", "/c.txt", "/x"])
        XCTAssertEqual(try g("/*.csv"), ["/a.csv", "/b.csv"])
        XCTAssertEqual(try g("/**/*.csv"), ["/a/x.csv", "/a/y/z.csv", "/a.csv", "/b.csv"])
        XCTAssertEqual(try g("/[ab]*"), ["/a", "/a.csv", "/b", "/b.csv"])
        XCTAssertEqual(try g("/[!a]*"), ["/b", "/b.csv", "/c.txt", "/x"])
        XCTAssertEqual(try g("/?"), ["/a", "/b", "/x"])
        XCTAssertEqual(try g("/a/**"), ["/a", "/a/x.csv", "/a/y", "/a/y/z.csv"], "** also matches no component")
        XCTAssertEqual(try g("/nothing*"), [])
        assertPFSError(.invalidArgument, try g("/[ab"))
        assertPFSError(.invalidArgument, try g("/../x"))
        // Globs see an open commit's live state.
        try store.startCommit(repo: "r", branch: "master")
        try store.putFiles("r", "master", ["/new.csv": "n"])
        XCTAssertEqual(try g("/*.csv"), ["/a.csv", "/b.csv", "/new.csv"])
    }

    // MARK: gc

    func testGCRemovesOnlyUnreachableObjects() throws {
        try store.createRepo("keep")
        try store.createRepo("drop")
        try store.putFiles("keep", "master", ["/shared": "same bytes in both repos", "/k": "keep only", "/dir/k2": "k2"])
        try store.putFiles("keep", "master", ["/k": "keep v2"])   // the old /k stays reachable from master^
        try store.putFiles("drop", "master", ["/shared": "same bytes in both repos", "/d": "drop only", "/dir/d2": "d2"])
        let shared = try chunk("keep", "master", "/shared")
        let keepOld = try chunk("keep", "master^", "/k")
        let dropOnly = try chunk("drop", "master", "/d")
        let dropTree = try treeHash("drop", "master", "/dir")
        let dropRoot = try XCTUnwrap(ObjectHash(hex: try XCTUnwrap(store.inspectCommit(repo: "drop", ref: "master").root)))

        // Nothing is unreachable yet.
        let before = try allObjects()
        let first = try store.gc()
        XCTAssertEqual(first.objectsRemoved, 0)
        XCTAssertEqual(first.objectsKept, before.count)
        XCTAssertEqual(try allObjects(), before)

        // An open commit's staged files are live too.
        try store.startCommit(repo: "keep", branch: "master")
        try store.putFiles("keep", "master", ["/staged": "only staged so far"])
        let staged = try chunk("keep", "master", "/staged")
        // An aborted session's objects are garbage (they were never committed to the store at all).
        let aborted = try store.beginPut(repo: "keep", ref: "master")
        try aborted.putFile(path: "/nope", Array("aborted".utf8))
        aborted.abort()

        try store.deleteRepo("drop")
        let report = try store.gc()
        let after = try allObjects()
        XCTAssertFalse(after.contains(dropOnly))
        XCTAssertFalse(after.contains(dropTree))
        XCTAssertFalse(after.contains(dropRoot))
        XCTAssertTrue(after.contains(shared))
        XCTAssertTrue(after.contains(keepOld))
        XCTAssertTrue(after.contains(staged))
        XCTAssertGreaterThanOrEqual(report.objectsRemoved, 4)  // /d, /dir/d2 chunks, /dir tree, root
        XCTAssertEqual(report.objectsKept, after.count)
        XCTAssertGreaterThan(report.bytesRemoved, 0)
        XCTAssertTrue(try store.fsck().ok)

        try store.finishCommit(repo: "keep", ref: "master")
        XCTAssertEqual(try store.text("keep", "master", "/staged"), "only staged so far")
        XCTAssertEqual(try store.text("keep", "master~2", "/k"), "keep only")
        XCTAssertEqual(try store.text("keep", "master", "/shared"), "same bytes in both repos")
        // A second gc finds nothing more, and fsck (re-hashing everything) is clean.
        XCTAssertEqual(try store.gc().objectsRemoved, 0)
        let fsck = try store.fsck()
        XCTAssertTrue(fsck.ok, "\(fsck.problems)")
        XCTAssertEqual(fsck.commitsChecked, 3)
    }

    /// Data copied into an open commit from a repo that is deleted before the commit finishes must survive GC,
    /// also once the copied directory was changed (it then lives in the working tree as an overlay).
    func testGCKeepsDirectoriesCopiedIntoOpenCommit() throws {
        try store.createRepo("src")
        try store.createRepo("dst")
        try store.putFiles("src", "master", ["/dir/a": "copied a", "/dir/sub/b": "copied b", "/file": "copied file"])
        try store.putFiles("dst", "master", ["/x": "x"])
        try store.startCommit(repo: "dst", branch: "master")
        try store.put("dst", "master") { s in
            try s.copy(srcRepo: "src", srcRef: "master", srcPath: "/dir", to: "/dir")
            try s.copy(srcRepo: "src", srcRef: "master", srcPath: "/dir/sub", to: "/sub2")
            try s.copy(srcRepo: "src", srcRef: "master", srcPath: "/file", to: "/file")
        }
        try store.putFiles("dst", "master", ["/dir/added": "new"])
        try store.deleteRepo("src")
        _ = try store.gc()
        try assertFsckClean(store)
        try store.finishCommit(repo: "dst", ref: "master")
        XCTAssertEqual(try store.text("dst", "master", "/dir/a"), "copied a")
        XCTAssertEqual(try store.text("dst", "master", "/dir/sub/b"), "copied b")
        XCTAssertEqual(try store.text("dst", "master", "/sub2/b"), "copied b")
        XCTAssertEqual(try store.text("dst", "master", "/file"), "copied file")
        XCTAssertEqual(try store.text("dst", "master", "/dir/added"), "new")
        let fsck = try store.fsck()
        XCTAssertTrue(fsck.ok, "\(fsck.problems)")
    }

    func testGCWaitsForSessionsInFlight() throws {
        try store.createRepo("r")
        let session = try store.beginPut(repo: "r", ref: "master")
        try session.putFile(path: "/a", Array("in flight".utf8))
        let gcDone = DispatchSemaphore(value: 0)
        let store = self.store!
        Thread {
            _ = try? store.gc()
            gcDone.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(gcDone.wait(timeout: .now()), .timedOut, "gc must wait for the session")
        try session.commit()
        XCTAssertEqual(gcDone.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(try store.text("r", "master", "/a"), "in flight")
        try assertFsckClean(store)

        // The same for any writer that stores objects and then stages them (as the mount does).
        let gcDone2 = DispatchSemaphore(value: 0)
        try store.writing {
            let batch = store.objects.makeBatch()
            let hash = try batch.put(Array("staged by hand".utf8))
            try batch.commit()
            Thread {
                _ = try? store.gc()
                gcDone2.signal()
            }.start()
            Thread.sleep(forTimeInterval: 0.2)
            XCTAssertEqual(gcDone2.wait(timeout: .now()), .timedOut, "gc must wait for the writer")
            XCTAssertTrue(store.objects.contains(hash))
            let entry = TreeEntry.file(name: "b", content: FileContent(chunks: [ChunkRef(hash: hash, size: 14)], size: 14),
                                       mtimeNs: 1)
            try store.stage(repo: "r", branch: "master", ops: [.put(path: "/b", entry: entry)])
        }
        XCTAssertEqual(gcDone2.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(try store.text("r", "master", "/b"), "staged by hand")
        try assertFsckClean(store)
    }

    // MARK: fsck

    func testFsckFindsDamagedAndMissingObjects() throws {
        try store.createRepo("r")
        try store.putFiles("r", "master", ["/data/good": "good content", "/zzz/bad": "content to damage",
                                          "/other/dir/f": "f"])
        let commit = try store.resolveCommit(repo: "r", ref: "master").id
        let clean = try store.fsck()
        XCTAssertTrue(clean.ok, "\(clean.problems)")
        XCTAssertEqual(clean.commitsChecked, 1)
        XCTAssertGreaterThanOrEqual(clean.objectsChecked, 7)  // root, 3 trees, 3 chunks
        XCTAssertGreaterThan(clean.bytesChecked, 0)

        // Damage one chunk on disk (same length, other bytes).
        let bad = try chunk("r", "master", "/zzz/bad")
        let url = objectURL(bad)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
        try Data("CONTENT TO DAMAGE".utf8).write(to: url)
        var report = try store.fsck()
        XCTAssertEqual(report.problems.count, 1, "\(report.problems)")
        let p = try XCTUnwrap(report.problems.first)
        XCTAssertEqual(p.object, bad.hex)
        XCTAssertEqual(p.referencedBy, "r@\(commit):/zzz/bad")
        XCTAssertTrue(p.problem.contains("damaged"), p.problem)
        // Without verification, content is not re-hashed.
        XCTAssertTrue(try store.fsck(verify: false).ok)

        // Delete a tree object: reported, with the path that references it, from a cold cache too.
        let tree = try treeHash("r", "master", "/other/dir")
        try FileManager.default.removeItem(at: objectURL(tree))
        for fresh in [false, true] {
            if fresh {
                store = nil
                store = try openStore()
            }
            report = try store.fsck()
            XCTAssertTrue(report.problems.contains { $0.object == bad.hex }, "\(report.problems)")
            XCTAssertTrue(report.problems.contains { $0.object == tree.hex && $0.referencedBy == "r@\(commit):/other/dir" },
                          "cold cache: \(fresh): \(report.problems)")
            XCTAssertTrue(try store.fsck(verify: false).problems.contains { $0.object == tree.hex })
        }
        // /zzz/bad comes after the missing /other/dir: the walk went on past it.
        XCTAssertEqual(try store.text("r", "master", "/data/good"), "good content")
    }

    func testFsckChecksOpenCommitsStagedObjects() throws {
        try store.createRepo("r")
        try store.putFiles("r", "master", ["/a": "base"])
        try store.startCommit(repo: "r", branch: "master")
        try store.putFiles("r", "master", ["/staged": "staged content"])
        XCTAssertTrue(try store.fsck().ok)
        let staged = try chunk("r", "master", "/staged")
        try FileManager.default.removeItem(at: objectURL(staged))
        let report = try store.fsck()
        XCTAssertTrue(report.problems.contains { $0.object == staged.hex && $0.referencedBy.hasSuffix(":/staged") },
                      "\(report.problems)")
    }

    func testFsckReportsBrokenMetadata() throws {
        try store.createRepo("r")
        let c = try store.putFiles("r", "master", ["/a": "1"]).commit
        try store.meta.write { db in
            try db.execute(sql: "UPDATE commits SET parent = 'ffffffffffffffffffffffffffffffff' WHERE id = ?", arguments: [c])
            try db.execute(sql: "INSERT INTO branches (repo, name, head, created) VALUES ('r', 'dangling', 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 0)")
        }
        let report = try store.fsck()
        XCTAssertEqual(Set(report.problems.map(\.object)), ["ffffffffffffffffffffffffffffffff", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"])
        XCTAssertTrue(report.problems.contains { $0.referencedBy == "r@dangling" })
    }
}

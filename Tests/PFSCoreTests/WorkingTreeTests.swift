import Foundation
import XCTest
@testable import PFSCore

final class WorkingTreeTests: StoreTestCase {
    let now: Int64 = 1_700_000_000_000_000_000
    var trees: TreeStore!

    override func setUpWithError() throws {
        try super.setUpWithError()
        trees = try openTrees()
    }

    override func tearDownWithError() throws {
        trees = nil
        try super.tearDownWithError()
    }

    // MARK: helpers

    func comps(_ p: String) -> [String] { Names.components(try! Names.cleanPath(p)) }

    func put(_ t: WorkingTree, _ path: String, _ content: String, mode: UInt32 = 0o644) throws {
        try t.apply(.put(path: path, entry: fakeFile(comps(path).last ?? "", content, mode: mode)), now: now)
    }

    /// A finished tree holding `files` (path → content; a path ending in `/` is an empty directory).
    func makeBase(_ files: [String: String]) throws -> ObjectHash {
        let t = try WorkingTree(trees: trees, baseRoot: nil)
        for (p, c) in files.sorted(by: { $0.key < $1.key }) {
            if p.hasSuffix("/") {
                try t.apply(.mkdir(path: p, mode: 0o755, mtimeNs: 42, parents: true), now: 42)
            } else {
                try t.apply(.put(path: p, entry: fakeFile(comps(p).last!, c)), now: 42)
            }
        }
        return try write(t).root
    }

    func write(_ t: WorkingTree) throws -> (root: ObjectHash, size: Int64) {
        let batch = trees.objects.makeBatch()
        let r = try t.write(batch: batch)
        try batch.commit()
        return r
    }

    /// Everything a reader can see: each entry below the root (depth first, name order) and the totals.
    func dump(_ t: WorkingTree) throws -> [String] {
        var out = ["size \(t.size)"]
        func walk(_ path: [String]) throws {
            for e in try t.list(path) {
                let p = "/" + (path + [e.name]).joined(separator: "/")
                let h = e.kind == .dir && e.hash == zeroHash ? "changed" : e.hash.hex
                out.append("\(p) \(e.kind) \(String(e.mode, radix: 8)) \(e.size) \(e.mtimeNs) \(h) \(e.target ?? "")")
                if e.kind == .dir { try walk(path + [e.name]) }
            }
        }
        try walk([])
        return out
    }

    /// The tree built from scratch (TreeStore.build, bottom up) out of what the working tree lists.
    func buildFromListing(_ t: WorkingTree, _ path: [String] = []) throws -> TreeChild {
        var entries: [TreeEntry] = []
        for var e in try t.list(path) {
            if e.kind == .dir {
                let sub = try buildFromListing(t, path + [e.name])
                e.hash = sub.hash
                XCTAssertEqual(e.size, sub.size, "size of /\((path + [e.name]).joined(separator: "/"))")
            }
            entries.append(e)
        }
        let batch = trees.objects.makeBatch()
        defer { batch.abort() }
        return try trees.build(entries, batch: batch)
    }

    func assertUnchanged(_ t: WorkingTree, _ op: StagedOp, _ code: PFSError.Code,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try dump(t)
        let unchanged = t.isUnchanged
        let ops = t.opCount
        assertPFSError(code, try t.apply(op, now: now + 999), "\(op)", file: file, line: line)
        XCTAssertEqual(try dump(t), before, "a failed \(op) changed the tree", file: file, line: line)
        XCTAssertEqual(t.isUnchanged, unchanged, "a failed \(op) changed isUnchanged", file: file, line: line)
        XCTAssertEqual(t.opCount, ops, file: file, line: line)
    }

    // MARK: put

    func testPutCreatesParentsAndMaintainsSizes() throws {
        let t = try WorkingTree(trees: trees, baseRoot: nil)
        XCTAssertTrue(t.isUnchanged)
        XCTAssertEqual(try t.list([]), [])
        try put(t, "/a/b/c.txt", "12345")
        try put(t, "a/d.txt", "123")
        try put(t, "/e", "12")
        XCTAssertFalse(t.isUnchanged)
        XCTAssertEqual(t.size, 10)
        XCTAssertEqual(try t.entry(["a"])?.size, 8)
        XCTAssertEqual(try t.entry(["a", "b"])?.size, 5)
        XCTAssertEqual(try t.entry(["a", "b"])?.mode, 0o755)
        XCTAssertEqual(try t.entry(["a", "b"])?.mtimeNs, now)
        XCTAssertEqual(try t.entry(["a", "b", "c.txt"]), fakeFile("c.txt", "12345"))
        XCTAssertEqual(try t.entry([])?.size, 10)
        XCTAssertNil(try t.entry(["zz"]))
        XCTAssertNil(try t.entry(["a", "zz", "y"]))
        assertPFSError(.notDirectory, try t.entry(["e", "x"]))
        XCTAssertEqual(try t.list(["a"]).map(\.name), ["b", "d.txt"])

        // Replacing a file adjusts every ancestor.
        try put(t, "/a/d.txt", "1234567890")
        XCTAssertEqual(try t.entry(["a"])?.size, 15)
        XCTAssertEqual(t.size, 17)
        // The entry is stored under the name of its path, whatever name it came with.
        try t.apply(.put(path: "/a/renamed", entry: fakeFile("other", "x")), now: now)
        XCTAssertEqual(try t.entry(["a", "renamed"])?.name, "renamed")
        XCTAssertEqual(try t.list(["a"]).map(\.name), ["b", "d.txt", "renamed"])

        try t.apply(.put(path: "/ln", entry: .symlink(name: "ln", target: "a/d.txt", mtimeNs: 3)), now: now)
        XCTAssertEqual(try t.entry(["ln"])?.target, "a/d.txt")
        XCTAssertEqual(t.size, 18 + 7)

        try assertUnchanged(t, .put(path: "/e/x", entry: fakeFile("x", "1")), .notDirectory)
        try assertUnchanged(t, .put(path: "/a/b", entry: fakeFile("b", "1")), .isDirectory)
        try assertUnchanged(t, .put(path: "/", entry: fakeFile("", "1")), .invalidArgument)
        try assertUnchanged(t, .put(path: "/a/../x", entry: fakeFile("x", "1")), .invalidArgument)
    }

    func testPutIntoBaseTree() throws {
        let base = try makeBase(["/d/sub/f": "abc", "/d/g": "12", "/top": "1"])
        let t = try WorkingTree(trees: trees, baseRoot: base)
        XCTAssertEqual(t.size, 6)
        XCTAssertTrue(t.isUnchanged)
        // Unchanged directories report their real tree hash.
        let dBefore = try XCTUnwrap(try t.entry(["d"]))
        XCTAssertNotEqual(dBefore.hash, zeroHash)
        XCTAssertEqual(dBefore.mtimeNs, 42)

        try assertUnchanged(t, .put(path: "/d/sub", entry: fakeFile("sub", "x")), .isDirectory)
        try assertUnchanged(t, .put(path: "/d/g/x", entry: fakeFile("x", "x")), .notDirectory)
        try assertUnchanged(t, .put(path: "/top/x/y", entry: fakeFile("y", "x")), .notDirectory)
        XCTAssertEqual(try t.entry(["d"]), dBefore)
        XCTAssertTrue(t.isUnchanged)
        XCTAssertEqual(try write(t).root, base, "nothing changed: the same root")

        try put(t, "/d/sub/new", "4444")
        XCTAssertEqual(try t.entry(["d"])?.hash, zeroHash, "a changed directory has no hash until written")
        XCTAssertEqual(try t.entry(["d"])?.size, 9)
        XCTAssertEqual(try t.entry(["d", "sub"])?.size, 7)
        XCTAssertEqual(t.size, 10)
        XCTAssertEqual(try t.list(["d", "sub"]).map(\.name), ["f", "new"])
        // Putting a directory entry by hash (a copy by reference) over a file is allowed.
        let sub = try XCTUnwrap(try trees.lookup(root: base, components: ["d", "sub"]))
        try t.apply(.put(path: "/top", entry: sub), now: now)
        XCTAssertEqual(try t.entry(["top", "f"])?.size, 3)
        XCTAssertEqual(t.size, 12)
        XCTAssertEqual(try write(t).root, try buildFromListing(t).hash)
    }

    // MARK: delete

    func testDelete() throws {
        let base = try makeBase(["/d/sub/f": "abc", "/d/g": "12", "/top": "1", "/empty/": ""])
        let t = try WorkingTree(trees: trees, baseRoot: base)
        try assertUnchanged(t, .delete(path: "/d", recursive: false), .notEmpty)
        try assertUnchanged(t, .delete(path: "/d/sub", recursive: false), .notEmpty)
        try assertUnchanged(t, .delete(path: "/nope", recursive: true), .notFound)
        try assertUnchanged(t, .delete(path: "/nope/x", recursive: true), .notFound)
        try assertUnchanged(t, .delete(path: "/top/x", recursive: true), .notDirectory)
        try assertUnchanged(t, .delete(path: "/", recursive: false), .notEmpty)

        try t.apply(.delete(path: "/d/g", recursive: false), now: now)
        XCTAssertNil(try t.entry(["d", "g"]))
        XCTAssertEqual(try t.entry(["d"])?.size, 3)
        XCTAssertEqual(t.size, 4)
        try t.apply(.delete(path: "/empty", recursive: false), now: now)
        XCTAssertEqual(try t.list([]).map(\.name), ["d", "top"])
        try assertUnchanged(t, .delete(path: "/d/g", recursive: false), .notFound)
        try t.apply(.delete(path: "/d", recursive: true), now: now)
        XCTAssertEqual(t.size, 1)
        XCTAssertNil(try t.entry(["d", "sub", "f"]))
        assertPFSError(.notFound, try t.list(["d"]))
        // A directory emptied in this commit may be removed without recursion.
        try put(t, "/n/x", "1")
        try t.apply(.delete(path: "/n/x", recursive: false), now: now)
        try t.apply(.delete(path: "/n", recursive: false), now: now)
        XCTAssertEqual(try t.list([]).map(\.name), ["top"])
        XCTAssertEqual(try write(t).root, try buildFromListing(t).hash)
    }

    func testDeleteRoot() throws {
        // Only empty directories below the root: the root has size 0 but is not empty.
        let base = try makeBase(["/e1/": "", "/e2/x/": ""])
        let t = try WorkingTree(trees: trees, baseRoot: base)
        XCTAssertEqual(t.size, 0)
        try assertUnchanged(t, .delete(path: "/", recursive: false), .notEmpty)
        try t.apply(.delete(path: "/", recursive: true), now: now)
        XCTAssertEqual(try t.list([]), [])
        let empty = try WorkingTree(trees: trees, baseRoot: nil)
        XCTAssertEqual(try write(t).root, try write(empty).root)
        // Deleting an empty root non-recursively is fine.
        try t.apply(.delete(path: "/", recursive: false), now: now)

        let full = try WorkingTree(trees: trees, baseRoot: try makeBase(["/a/b": "123", "/c": "4"]))
        try full.apply(.delete(path: "/", recursive: true), now: now)
        XCTAssertEqual(full.size, 0)
        XCTAssertEqual(try full.list([]), [])
        try put(full, "/again", "55")
        XCTAssertEqual(try full.list([]).map(\.name), ["again"])
        XCTAssertEqual(full.size, 2)
    }

    // MARK: mkdir

    func testMkdir() throws {
        let base = try makeBase(["/d/f": "abc"])
        let t = try WorkingTree(trees: trees, baseRoot: base)
        try t.apply(.mkdir(path: "/new", mode: 0o40750, mtimeNs: 77, parents: false), now: now)
        let e = try XCTUnwrap(try t.entry(["new"]))
        XCTAssertEqual(e.kind, .dir)
        XCTAssertEqual(e.mode, 0o750, "only permission bits are kept")
        XCTAssertEqual(e.mtimeNs, 77)
        XCTAssertEqual(e.size, 0)
        XCTAssertEqual(try t.list(["new"]), [])
        XCTAssertEqual(try t.entry([])?.mtimeNs, now, "the parent is touched")

        try assertUnchanged(t, .mkdir(path: "/new", mode: 0o755, mtimeNs: 1, parents: false), .alreadyExists)
        try assertUnchanged(t, .mkdir(path: "/d", mode: 0o755, mtimeNs: 1, parents: false), .alreadyExists)
        try assertUnchanged(t, .mkdir(path: "/d/f", mode: 0o755, mtimeNs: 1, parents: true), .alreadyExists)
        try assertUnchanged(t, .mkdir(path: "/x/y", mode: 0o755, mtimeNs: 1, parents: false), .notFound)
        try assertUnchanged(t, .mkdir(path: "/d/f/y", mode: 0o755, mtimeNs: 1, parents: true), .notDirectory)
        try assertUnchanged(t, .mkdir(path: "/", mode: 0o755, mtimeNs: 1, parents: false), .alreadyExists)

        // With parents: existing directories are fine, missing ones are made.
        let before = try dump(t)
        try t.apply(.mkdir(path: "/d", mode: 0o700, mtimeNs: 1, parents: true), now: now)
        try t.apply(.mkdir(path: "/", mode: 0o700, mtimeNs: 1, parents: true), now: now)
        XCTAssertEqual(try dump(t), before)
        try t.apply(.mkdir(path: "/p/q/r", mode: 0o700, mtimeNs: 5, parents: true), now: now)
        XCTAssertEqual(try t.entry(["p", "q", "r"])?.mode, 0o700)
        XCTAssertEqual(try t.entry(["p"])?.mode, 0o755)
        XCTAssertEqual(try write(t).root, try buildFromListing(t).hash)
    }

    // MARK: rename

    func testRename() throws {
        let base = try makeBase(["/d/sub/f": "abc", "/d/g": "12", "/top": "1", "/empty/": "", "/full/x": "xx"])
        let t = try WorkingTree(trees: trees, baseRoot: base)
        XCTAssertEqual(t.size, 8)

        // Errors first, each leaving everything as it was.
        try assertUnchanged(t, .rename(from: "/d", to: "/d/sub/inside"), .invalidArgument)
        try assertUnchanged(t, .rename(from: "/d", to: "/d/new"), .invalidArgument)
        try assertUnchanged(t, .rename(from: "/d", to: "/full"), .notEmpty)
        try assertUnchanged(t, .rename(from: "/top", to: "/empty"), .isDirectory)
        try assertUnchanged(t, .rename(from: "/d", to: "/top"), .notDirectory)
        try assertUnchanged(t, .rename(from: "/missing", to: "/x"), .notFound)
        try assertUnchanged(t, .rename(from: "/top", to: "/nodir/x"), .notFound)
        try assertUnchanged(t, .rename(from: "/d/sub/f", to: "/top/x"), .notDirectory)
        try assertUnchanged(t, .rename(from: "/", to: "/x"), .invalidArgument)
        try assertUnchanged(t, .rename(from: "/top", to: "/"), .invalidArgument)
        XCTAssertTrue(t.isUnchanged)

        // A file within its directory, then across directories.
        try t.apply(.rename(from: "/d/g", to: "/d/h"), now: now)
        XCTAssertNil(try t.entry(["d", "g"]))
        XCTAssertEqual(try t.entry(["d", "h"])?.hash, fakeFile("h", "12").hash)
        XCTAssertEqual(try t.entry(["d", "h"])?.name, "h")
        try t.apply(.rename(from: "/d/h", to: "/full/h"), now: now)
        XCTAssertEqual(try t.entry(["d"])?.size, 3)
        XCTAssertEqual(try t.entry(["full"])?.size, 4)
        XCTAssertEqual(t.size, 8)

        // A directory from the base, with its whole subtree.
        try t.apply(.rename(from: "/d/sub", to: "/moved"), now: now)
        XCTAssertEqual(try t.entry(["moved", "f"])?.size, 3)
        XCTAssertEqual(try t.entry(["d"])?.size, 0)
        XCTAssertEqual(try t.list(["d"]), [])
        // A directory over an empty directory replaces it.
        try t.apply(.rename(from: "/moved", to: "/empty"), now: now)
        XCTAssertNil(try t.entry(["moved"]))
        XCTAssertEqual(try t.list(["empty"]).map(\.name), ["f"])
        // A directory made in this commit, with content made in this commit.
        try put(t, "/fresh/a/b", "1234")
        try t.apply(.rename(from: "/fresh", to: "/empty/fresh"), now: now)
        XCTAssertEqual(try t.entry(["empty", "fresh", "a", "b"])?.size, 4)
        XCTAssertEqual(try t.entry(["empty"])?.size, 7)
        XCTAssertNil(try t.entry(["fresh"]))
        // A file over a file replaces it; sizes follow.
        try t.apply(.rename(from: "/top", to: "/full/x"), now: now)
        XCTAssertEqual(try t.entry(["full", "x"])?.size, 1)
        XCTAssertEqual(try t.entry(["full"])?.size, 3)
        XCTAssertEqual(t.size, 3 + 4 + 3)
        // Renaming onto itself changes nothing.
        let before = try dump(t)
        try t.apply(.rename(from: "/full/x", to: "/full//x/"), now: now)
        XCTAssertEqual(try dump(t), before)
        // A renamed directory is still a directory that can be changed.
        try put(t, "/empty/fresh/c", "1")
        XCTAssertEqual(try t.entry(["empty"])?.size, 8)
        XCTAssertEqual(try write(t).root, try buildFromListing(t).hash)
    }

    // MARK: setAttr

    func testSetAttr() throws {
        let base = try makeBase(["/d/f": "abc", "/g": "1"])
        let t = try WorkingTree(trees: trees, baseRoot: base)
        try t.apply(.put(path: "/ln", entry: .symlink(name: "ln", target: "g", mtimeNs: 3)), now: now)
        try t.apply(.setAttr(path: "/g", mode: 0o100600, mtimeNs: 5), now: now)
        XCTAssertEqual(try t.entry(["g"])?.mode, 0o600)
        XCTAssertEqual(try t.entry(["g"])?.mtimeNs, 5)
        XCTAssertEqual(try t.entry(["g"])?.hash, fakeFile("g", "1").hash, "content is untouched")
        try t.apply(.setAttr(path: "/g", mode: nil, mtimeNs: 6), now: now)
        XCTAssertEqual(try t.entry(["g"])?.mode, 0o600)
        XCTAssertEqual(try t.entry(["g"])?.mtimeNs, 6)
        // A directory of the base.
        try t.apply(.setAttr(path: "/d", mode: 0o700, mtimeNs: nil), now: now)
        XCTAssertEqual(try t.entry(["d"])?.mode, 0o700)
        XCTAssertEqual(try t.entry(["d"])?.mtimeNs, 42)
        XCTAssertEqual(try t.entry(["d", "f"])?.size, 3)
        // Symlinks keep 0777; their mtime can change.
        try t.apply(.setAttr(path: "/ln", mode: 0o600, mtimeNs: 9), now: now)
        XCTAssertEqual(try t.entry(["ln"])?.mode, 0o777)
        XCTAssertEqual(try t.entry(["ln"])?.mtimeNs, 9)
        try assertUnchanged(t, .setAttr(path: "/nope", mode: 0o600, mtimeNs: nil), .notFound)
        try assertUnchanged(t, .setAttr(path: "/g/x", mode: 0o600, mtimeNs: nil), .notDirectory)
        try assertUnchanged(t, .setAttr(path: "/d/nope/x", mode: 0o600, mtimeNs: nil), .notFound)

        let written = try write(t)
        XCTAssertEqual(written.root, try buildFromListing(t).hash)
        let again = try WorkingTree(trees: trees, baseRoot: written.root)
        XCTAssertEqual(try again.entry(["d"])?.mode, 0o700)
        XCTAssertEqual(try again.entry(["g"])?.mode, 0o600)
        XCTAssertEqual(try again.entry(["g"])?.mtimeNs, 6)
    }

    // MARK: listing

    func testListingMergesBaseAndOverlay() throws {
        let base = try makeBase(["/a": "1", "/b": "22", "/d/x": "333", "/d/y": "4444", "/z/": ""])
        let t = try WorkingTree(trees: trees, baseRoot: base)
        try put(t, "/c", "55555")
        try t.apply(.delete(path: "/b", recursive: false), now: now)
        try put(t, "/d/w", "6")
        try t.apply(.delete(path: "/d/y", recursive: false), now: now)
        try put(t, "/a", "replaced")
        XCTAssertEqual(try t.list([]).map(\.name), ["a", "c", "d", "z"])
        XCTAssertEqual(try t.list([]).first?.size, 8)
        XCTAssertEqual(try t.list(["d"]).map(\.name), ["w", "x"])
        XCTAssertEqual(try t.list(["z"]), [])
        assertPFSError(.notFound, try t.list(["b"]))
        assertPFSError(.notFound, try t.list(["q", "r"]))
        assertPFSError(.notDirectory, try t.list(["a"]))
        assertPFSError(.notDirectory, try t.list(["a", "x"]))
        // Listing below an unchanged directory reads the base tree.
        let t2 = try WorkingTree(trees: trees, baseRoot: try makeBase(["/p/q/r/s": "1", "/p/q/f": "2"]))
        try put(t2, "/other", "x")
        XCTAssertEqual(try t2.list(["p", "q"]).map(\.name), ["f", "r"])
        XCTAssertEqual(try t2.list(["p", "q", "r"]).map(\.name), ["s"])
        assertPFSError(.notDirectory, try t2.list(["p", "q", "f"]))
        assertPFSError(.notFound, try t2.list(["p", "nope"]))
        // entry() agrees with list() everywhere.
        for tree in [t, t2] {
            func check(_ path: [String]) throws {
                for e in try tree.list(path) {
                    XCTAssertEqual(try tree.entry(path + [e.name]), e)
                    if e.kind == .dir { try check(path + [e.name]) }
                }
            }
            try check([])
        }
    }

    func testUnicodeNamesAreDistinctByBytes() throws {
        let nfc = "caf\u{e9}", nfd = "cafe\u{301}"
        let t = try WorkingTree(trees: trees, baseRoot: nil)
        try put(t, "/" + nfc, "1")
        try put(t, "/" + nfd, "22")
        try put(t, "/d/" + nfc + "/x", "333")
        XCTAssertEqual(try t.list([]).count, 3)
        XCTAssertEqual(t.size, 6)
        XCTAssertEqual(try t.entry([nfc])?.size, 1)
        XCTAssertEqual(try t.entry([nfd])?.size, 2)
        XCTAssertNil(try t.entry(["d", nfd]))
        try t.apply(.rename(from: "/" + nfc, to: "/" + nfd), now: now)
        XCTAssertEqual(try t.list([]).map { Array($0.name.utf8) }, [Array(nfd.utf8), Array("d".utf8)])
        XCTAssertEqual(try t.entry([nfd])?.size, 1)
        XCTAssertEqual(t.size, 4)
        try t.apply(.delete(path: "/d/" + nfc, recursive: true), now: now)
        let written = try write(t)
        XCTAssertEqual(written.root, try buildFromListing(t).hash)
        let again = try WorkingTree(trees: trees, baseRoot: written.root)
        try put(again, "/" + nfc, "4444")
        XCTAssertEqual(try again.list([]).count, 3)
        XCTAssertEqual(try again.entry([nfd])?.size, 1)
        XCTAssertEqual(try again.entry([nfc])?.size, 4)
    }

    // MARK: batches

    func testBatchApplyIsAllOrNothing() throws {
        let base = try makeBase(["/d/f": "abc", "/g": "1"])
        let t = try WorkingTree(trees: trees, baseRoot: base)
        try put(t, "/staged", "zz")
        let before = try dump(t)
        let ops: [StagedOp] = [
            .put(path: "/d/new", entry: fakeFile("new", "1234")),
            .delete(path: "/g", recursive: false),
            .rename(from: "/d/f", to: "/moved"),
            .setAttr(path: "/d", mode: 0o700, mtimeNs: 1),
            .mkdir(path: "/m/n", mode: 0o755, mtimeNs: 2, parents: true),
            .delete(path: "/does-not-exist", recursive: false),
        ]
        assertPFSError(.notFound, try t.apply(ops, now: now + 5))
        XCTAssertEqual(try dump(t), before)
        XCTAssertEqual(t.opCount, 1)
        // A failure of the follow-up step undoes the ops too.
        struct Boom: Error {}
        XCTAssertThrowsError(try t.apply(Array(ops.dropLast()), now: now + 5) { throw Boom() }) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(try dump(t), before)
        try t.apply(Array(ops.dropLast()), now: now + 5)
        XCTAssertEqual(t.opCount, 6)
        XCTAssertEqual(try t.list([]).map(\.name), ["d", "m", "moved", "staged"])
    }

    // MARK: GC roots

    func testReferencedEntriesIncludeCopiedDirectories() throws {
        let other = try makeBase(["/src/a": "from another commit", "/src/b/c": "deep"])
        let src = try XCTUnwrap(try trees.lookup(root: other, components: ["src"]))
        let t = try WorkingTree(trees: trees, baseRoot: try makeBase(["/x": "1"]))
        try t.apply(.put(path: "/copy", entry: src), now: now)
        // Changing something inside the copy turns it into an overlay directory whose base is the copied tree.
        try put(t, "/copy/new", "n")
        try t.apply(.setAttr(path: "/copy/b", mode: 0o700, mtimeNs: nil), now: now)
        var seen = Set<ObjectHash>()
        var paths: [String] = []
        try t.forEachReferencedEntry { path, e in
            paths.append(path)
            try trees.walkEntry(e, path: path, seen: &seen) { _, _, _ in }
        }
        XCTAssertEqual(Set(paths), ["/copy", "/copy/new", "/copy/b"])
        var needed = Set<ObjectHash>()
        try trees.walkObjects(root: other, seen: &needed) { _, _, _ in }
        needed.remove(other)  // the other root itself is not referenced, only its /src subtree
        XCTAssertTrue(needed.isSubset(of: seen), "objects of the copied directory are not reported: \(needed.subtracting(seen))")
    }

    // MARK: op log

    func testStagedOpsRoundTripThroughJSON() throws {
        let big = FileContent(chunks: (0..<40).map { ChunkRef(hash: ObjectHash.of([UInt8($0)]), size: 7) }, size: 280)
        let ops: [StagedOp] = [
            .put(path: "/a/b", entry: fakeFile("b", "xyz", mode: 0o600, mtimeNs: -5)),
            .put(path: "/big", entry: .file(name: "big", content: big, mtimeNs: 1)),
            .put(path: "/l", entry: .symlink(name: "l", target: "../ü", mtimeNs: 2)),
            .put(path: "/dir", entry: TreeEntry(name: "dir", kind: .dir, mode: 0o755, size: 9, mtimeNs: 3, hash: ObjectHash.of([1]))),
            .delete(path: "/x", recursive: true),
            .mkdir(path: "/m", mode: 0o700, mtimeNs: 4, parents: false),
            .rename(from: "/a", to: "/c"),
            .setAttr(path: "/c", mode: nil, mtimeNs: 8),
            .setAttr(path: "/c", mode: 0o644, mtimeNs: nil),
        ]
        let data = try JSONEncoder().encode(ops)
        XCTAssertEqual(try JSONDecoder().decode([StagedOp].self, from: data), ops)
    }

    // MARK: random sequences

    /// Random operations on a small namespace, applied (1) to one working tree and (2) to a chain of working
    /// trees written and reopened every few operations. Both must accept and refuse the same operations, a
    /// refused operation must change nothing, what is written must equal a from-scratch build of what is
    /// listed, and directory sizes must add up.
    func testRandomOperationsAgainstRewrittenChain() throws {
        let names = ["a", "b", "c", "caf\u{e9}"]
        for seed in UInt64(1)...6 {
            var rng = StoreTestRNG(seed: seed)
            let base = try makeBase(["/a/a": "base", "/a/b/c": "deep", "/b": "file", "/c/": ""])
            let single = try WorkingTree(trees: trees, baseRoot: base)
            var chain = try WorkingTree(trees: trees, baseRoot: base)
            let sub = try XCTUnwrap(try trees.lookup(root: base, components: ["a"]))
            func randomPath() -> String {
                "/" + (0..<Int.random(in: 1...3, using: &rng)).map { _ in names.randomElement(using: &rng)! }.joined(separator: "/")
            }
            for step in 0..<120 {
                let op: StagedOp
                switch Int.random(in: 0..<10, using: &rng) {
                case 0, 1, 2:
                    let p = randomPath()
                    op = .put(path: p, entry: fakeFile("", String(repeating: "x", count: Int.random(in: 0...9, using: &rng))))
                case 3:
                    op = .put(path: randomPath(), entry: .symlink(name: "", target: "t", mtimeNs: 1))
                case 4:
                    op = .put(path: randomPath(), entry: sub)
                case 5:
                    op = .delete(path: randomPath(), recursive: Bool.random(using: &rng))
                case 6:
                    op = .mkdir(path: randomPath(), mode: 0o750, mtimeNs: 11, parents: Bool.random(using: &rng))
                case 7, 8:
                    op = .rename(from: randomPath(), to: randomPath())
                default:
                    op = .setAttr(path: randomPath(), mode: Bool.random(using: &rng) ? 0o700 : nil, mtimeNs: 12)
                }
                let before = try dump(single)
                var singleError: PFSError.Code?
                do { try single.apply(op, now: now) } catch let e as PFSError { singleError = e.code }
                var chainError: PFSError.Code?
                do { try chain.apply(op, now: now) } catch let e as PFSError { chainError = e.code }
                XCTAssertEqual(singleError, chainError, "seed \(seed) step \(step): \(op)")
                if singleError != nil {
                    XCTAssertEqual(try dump(single), before, "seed \(seed) step \(step): refused \(op) changed the tree")
                }
                if step % 7 == 6 {
                    let listed = try dump(chain)
                    let w = try write(chain)
                    XCTAssertEqual(w.root, try buildFromListing(chain).hash, "seed \(seed) step \(step)")
                    chain = try WorkingTree(trees: trees, baseRoot: w.root)
                    XCTAssertEqual(try dump(chain).map(stripHash), listed.map(stripHash), "seed \(seed) step \(step)")
                }
            }
            XCTAssertEqual(try dump(single).map(stripHash), try dump(chain).map(stripHash), "seed \(seed)")
            let a = try write(single), b = try write(chain)
            XCTAssertEqual(a.root, b.root, "seed \(seed)")
            XCTAssertEqual(a.size, b.size)
            XCTAssertEqual(a.root, try buildFromListing(single).hash)
        }
    }

    private func stripHash(_ line: String) -> String {
        // Directory hashes differ between "changed" and written; everything else must match.
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count > 5, parts[1] == "dir" else { return line }
        return parts.prefix(5).joined(separator: " ")
    }
}

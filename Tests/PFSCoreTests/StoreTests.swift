import Foundation
import XCTest
@testable import PFSCore

final class StoreTests: StoreTestCase {
    var store: Store!

    override func setUpWithError() throws {
        try super.setUpWithError()
        store = try openStore()
    }

    override func tearDownWithError() throws {
        store = nil
        try super.tearDownWithError()
    }

    // MARK: repos

    func testRepoLifecycle() throws {
        XCTAssertEqual(try store.listRepos(), [])
        let info = try store.createRepo("images", description: "pictures")
        XCTAssertEqual(info.name, "images")
        XCTAssertEqual(info.description, "pictures")
        XCTAssertEqual(info.sizeBytes, 0)
        XCTAssertEqual(info.branches, [])
        try store.createRepo("a-repo_2")
        XCTAssertEqual(try store.listRepos().map(\.name), ["a-repo_2", "images"])
        assertPFSError(.alreadyExists, try store.createRepo("images"))
        XCTAssertEqual(try store.createRepo("images", description: "new", update: true).description, "new")
        XCTAssertEqual(try store.inspectRepo("images").description, "new")

        try store.putFiles("images", "master", ["/a": "12345"])
        let inspected = try store.inspectRepo("images")
        XCTAssertEqual(inspected.branches, ["master"])
        XCTAssertEqual(inspected.sizeBytes, 5)

        try store.deleteRepo("images")
        XCTAssertEqual(try store.listRepos().map(\.name), ["a-repo_2"])
        assertPFSError(.notFound, try store.inspectRepo("images"))
        assertPFSError(.notFound, try store.deleteRepo("images"))
        assertPFSError(.notFound, try store.listBranches(repo: "images"))
        assertPFSError(.notFound, try store.listCommits(repo: "images"))
        // The name can be used again, and starts empty.
        try store.createRepo("images")
        XCTAssertEqual(try store.listCommits(repo: "images", all: true), [])
    }

    func testInvalidRepoNames() throws {
        let bad = ["", ".hidden", "a/b", "..", ".", "a\u{1}b", "tab\there", "a b", "ü", "a@b", "a:b",
                   String(repeating: "x", count: 201)]
        for name in bad {
            assertPFSError(.invalidArgument, try store.createRepo(name), "create \(name.debugDescription)")
            assertPFSError(.invalidArgument, try store.inspectRepo(name), "inspect \(name.debugDescription)")
            assertPFSError(.invalidArgument, try store.deleteRepo(name), "delete \(name.debugDescription)")
            assertPFSError(.invalidArgument, try store.beginPut(repo: name, ref: "master"), "put \(name.debugDescription)")
        }
        let e = assertPFSError(.invalidArgument, try store.createRepo("a\u{1b}[31mred"))
        XCTAssertFalse(e?.message.contains("\u{1b}") ?? true, "control characters are escaped in messages")
        XCTAssertEqual(try store.listRepos(), [])
        try store.createRepo(String(repeating: "x", count: 200))
        try store.createRepo("A-Z_0-9")
    }

    func testDeleteRepoThatIsAnInput() throws {
        try store.createRepo("in")
        try store.createRepo("out")
        let c = try store.putFiles("in", "master", ["/x": "1"])
        try store.startCommit(repo: "out", branch: "master", origin: .auto,
                              provenance: [CommitRefInfo(repo: "in", branch: "master", id: c.commit)])
        assertPFSError(.failedPrecondition, try store.deleteRepo("in"))
        XCTAssertEqual(try store.listRepos().count, 2)
        try store.deleteRepo("in", force: true)
        XCTAssertEqual(try store.listRepos().map(\.name), ["out"])
    }

    // MARK: branches

    func testBranches() throws {
        try store.createRepo("r")
        let dev = try store.createBranch(repo: "r", name: "dev")
        XCTAssertNil(dev.head)
        XCTAssertEqual(try store.listBranches(repo: "r").map(\.name), ["dev"])
        // An empty branch reads as an empty directory, but names no commit.
        XCTAssertEqual(try store.listFiles(repo: "r", ref: "dev"), [])
        let e = assertPFSError(.notFound, try store.resolveCommit(repo: "r", ref: "dev"))
        XCTAssertTrue(e?.message.contains("no commits") ?? false, e?.message ?? "")
        assertPFSError(.alreadyExists, try store.createBranch(repo: "r", name: "dev"))

        let c1 = try store.putFiles("r", "master", ["/a": "1"]).commit
        let c2 = try store.putFiles("r", "master", ["/b": "2"]).commit
        XCTAssertEqual(try store.createBranch(repo: "r", name: "v1.0", head: "master").head, c2)
        XCTAssertEqual(try store.createBranch(repo: "r", name: "old", head: "master^").head, c1)
        XCTAssertEqual(try store.createBranch(repo: "r", name: "byid", head: String(c1.prefix(8))).head, c1)
        // Moving an existing branch needs a head.
        XCTAssertEqual(try store.createBranch(repo: "r", name: "dev", head: c2).head, c2)
        XCTAssertEqual(try store.createBranch(repo: "r", name: "dev", head: c1).head, c1)
        XCTAssertEqual(try store.inspectBranch(repo: "r", name: "dev").head, c1)
        XCTAssertEqual(try store.text("r", "dev", "/a"), "1")
        assertPFSError(.notFound, try store.openFile(repo: "r", ref: "dev", path: "/b"))
        XCTAssertEqual(try store.listBranches(repo: "r").map(\.name), ["byid", "dev", "master", "old", "v1.0"])
        assertPFSError(.notFound, try store.createBranch(repo: "r", name: "x", head: "nope"))
        assertPFSError(.notFound, try store.createBranch(repo: "missing", name: "x"))
        for bad in ["", ".dot", "a..b", "a/b", "a b", "0123456789abcdef0123456789abcdef", "br~1", "br^"] {
            assertPFSError(.invalidArgument, try store.createBranch(repo: "r", name: bad), bad)
        }

        // A branch with an open commit does not move.
        try store.startCommit(repo: "r", branch: "dev")
        assertPFSError(.failedPrecondition, try store.createBranch(repo: "r", name: "dev", head: c2))

        try store.deleteBranch(repo: "r", name: "old")
        XCTAssertFalse(try store.listBranches(repo: "r").map(\.name).contains("old"))
        assertPFSError(.notFound, try store.deleteBranch(repo: "r", name: "old"))
        assertPFSError(.notFound, try store.inspectBranch(repo: "r", name: "old"))
        // Its commits stay, reachable by id.
        XCTAssertEqual(try store.text("r", c1, "/a"), "1")
    }

    // MARK: commits

    func testStartAndFinishCommit() throws {
        try store.createRepo("r")
        let open = try store.startCommit(repo: "r", branch: "master", description: "first")
        XCTAssertEqual(open.state, .open)
        XCTAssertNil(open.parent)
        XCTAssertNil(open.root)
        XCTAssertNil(open.finished)
        XCTAssertEqual(open.description, "first")
        XCTAssertEqual(open.commitSet, open.id)
        XCTAssertEqual(open.id.count, 32)
        XCTAssertEqual(try store.inspectBranch(repo: "r", name: "master").head, open.id)
        let e = assertPFSError(.failedPrecondition, try store.startCommit(repo: "r", branch: "master"))
        XCTAssertTrue(e?.message.contains(open.id) ?? false)
        // Other branches are independent.
        let other = try store.startCommit(repo: "r", branch: "other")
        XCTAssertEqual(try store.inspectBranch(repo: "r", name: "other").head, other.id)

        try store.putFiles("r", "master", ["/f": "abc"])
        XCTAssertEqual(try store.inspectCommit(repo: "r", ref: "master").sizeBytes, 3)
        let done = try XCTUnwrap(try store.finishCommit(repo: "r", ref: "master", description: "done"))
        XCTAssertEqual(done.id, open.id)
        XCTAssertEqual(done.state, .finished)
        XCTAssertEqual(done.description, "done")
        XCTAssertEqual(done.sizeBytes, 3)
        XCTAssertNotNil(done.root)
        XCTAssertNotNil(done.finished)
        assertPFSError(.readOnly, try store.finishCommit(repo: "r", ref: "master"))
        assertPFSError(.readOnly, try store.finishCommit(repo: "r", ref: open.id))

        let second = try store.startCommit(repo: "r", branch: "master")
        XCTAssertEqual(second.parent, open.id)
        XCTAssertEqual(second.sizeBytes, 3)
        XCTAssertEqual(try store.text("r", "master", "/f"), "abc", "an open commit starts from its parent")
        XCTAssertEqual(try store.inspectCommit(repo: "r", ref: open.id).children, [second.id])
        assertPFSError(.notFound, try store.startCommit(repo: "missing", branch: "master"))
        assertPFSError(.invalidArgument, try store.startCommit(repo: "r", branch: ".bad"))
        // An explicit parent that is still open is refused.
        assertPFSError(.failedPrecondition, try store.startCommit(repo: "r", branch: "x", parent: second.id))
        let fromParent = try store.startCommit(repo: "r", branch: "y", parent: open.id)
        XCTAssertEqual(fromParent.parent, open.id)
        XCTAssertEqual(try store.text("r", "y", "/f"), "abc")
    }

    func testCommitReferences() throws {
        try store.createRepo("r")
        let c1 = try store.putFiles("r", "master", ["/v": "1"]).commit
        let c2 = try store.putFiles("r", "master", ["/v": "2"]).commit
        let c3 = try store.putFiles("r", "master", ["/v": "3"]).commit
        func id(_ ref: String) throws -> String { try store.resolveCommit(repo: "r", ref: ref).id }
        XCTAssertEqual(try id("master"), c3)
        XCTAssertEqual(try id("master^"), c2)
        XCTAssertEqual(try id("master~1"), c2)
        XCTAssertEqual(try id("master~"), c2)
        XCTAssertEqual(try id("master~2"), c1)
        XCTAssertEqual(try id("master^^"), c1)
        XCTAssertEqual(try id("master~1^"), c1)
        XCTAssertEqual(try id("master~0"), c3)
        XCTAssertEqual(try id(c2), c2)
        XCTAssertEqual(try id(c2.uppercased()), c2)
        XCTAssertEqual(try id(String(c1.prefix(8))), c1)
        XCTAssertEqual(try id(String(c1.prefix(20))), c1)
        XCTAssertEqual(try id(c3 + "^"), c2)
        XCTAssertEqual(try id(String(c3.prefix(8)) + "~2"), c1)
        XCTAssertEqual(try store.text("r", "master~2", "/v"), "1")
        XCTAssertEqual(try store.text("r", "master^", "/v"), "2")

        let e = assertPFSError(.notFound, try id("master~3"))
        XCTAssertTrue(e?.message.contains("no parent") ?? false, e?.message ?? "")
        XCTAssertTrue(e?.message.contains(c1) ?? false, e?.message ?? "")
        assertPFSError(.notFound, try id("master^^^^"))
        assertPFSError(.notFound, try id("master~9223372036854775807"))
        assertPFSError(.notFound, try id("nope"))
        assertPFSError(.notFound, try id("0000000000000000"))
        assertPFSError(.notFound, try id(String(c1.prefix(7))), "7 hex digits are too short for a prefix")
        assertPFSError(.invalidArgument, try id("master~x"))
        assertPFSError(.invalidArgument, try id("^"))
        assertPFSError(.invalidArgument, try id("a/b"))
        assertPFSError(.invalidArgument, try id("master~9223372036854775807^"))
        assertPFSError(.notFound, try store.resolveCommit(repo: "missing", ref: "master"))
    }

    func testAmbiguousCommitPrefix() throws {
        try store.createRepo("r")
        try store.createRepo("other")
        let base = try store.putFiles("r", "master", ["/a": "1"])
        let row = try store.resolveCommit(repo: "r", ref: base.commit)
        // Two commits whose ids share 8 hex digits cannot be made by chance in a test: insert them directly.
        let ids = ["abcdef01" + String(repeating: "0", count: 24), "abcdef01" + String(repeating: "1", count: 24)]
        try store.meta.write { db in
            for (i, id) in ids.enumerated() {
                var r = row
                r.id = id
                r.parent = base.commit
                r.commitSet = id
                r.seq = try MetadataStore.nextSeq(db)
                r.description = "inserted \(i)"
                try MetadataStore.insertCommit(db, r)
            }
            // The same prefix in another repo does not count.
            var r = row
            r.id = "abcdef02" + String(repeating: "0", count: 24)
            r.repo = "other"
            r.seq = try MetadataStore.nextSeq(db)
            try MetadataStore.insertCommit(db, r)
        }
        let e = assertPFSError(.ambiguous, try store.resolveCommit(repo: "r", ref: "abcdef01"))
        XCTAssertTrue(e?.message.contains(ids[0]) ?? false)
        XCTAssertTrue(e?.message.contains(ids[1]) ?? false)
        assertPFSError(.ambiguous, try store.resolveCommit(repo: "r", ref: "ABCDEF01"))
        assertPFSError(.ambiguous, try store.resolveCommit(repo: "r", ref: "abcdef01^"))
        XCTAssertEqual(try store.resolveCommit(repo: "r", ref: "abcdef011").id, ids[1])
        XCTAssertEqual(try store.resolveCommit(repo: "r", ref: "abcdef010").id, ids[0])
        assertPFSError(.notFound, try store.resolveCommit(repo: "r", ref: "abcdef02"))
        XCTAssertEqual(try store.resolveCommit(repo: "other", ref: "abcdef02").repo, "other")
        XCTAssertEqual(try store.resolveCommit(repo: "r", ref: "abcdef01" + String(repeating: "1", count: 24) + "^").id,
                       base.commit)
    }

    func testListCommits() throws {
        try store.createRepo("r")
        XCTAssertEqual(try store.listCommits(repo: "r"), [])
        let c1 = try store.putFiles("r", "master", ["/a": "1"]).commit
        let c2 = try store.putFiles("r", "master", ["/a": "22"]).commit
        let d1 = try store.putFiles("r", "dev", ["/d": "x"]).commit
        let c3 = try store.putFiles("r", "master", ["/b": "333"]).commit
        let open = try store.startCommit(repo: "r", branch: "dev").id
        let master = try store.listCommits(repo: "r")
        XCTAssertEqual(master.map(\.id), [c3, c2, c1])
        XCTAssertEqual(master.map(\.sizeBytes), [5, 2, 1])
        XCTAssertEqual(master.map(\.branch), ["master", "master", "master"])
        XCTAssertEqual(master.map(\.parent), [c2, c1, nil])
        XCTAssertEqual(try store.listCommits(repo: "r", limit: 2).map(\.id), [c3, c2])
        XCTAssertEqual(try store.listCommits(repo: "r", branch: "master^").map(\.id), [c2, c1])
        XCTAssertEqual(try store.listCommits(repo: "r", branch: "dev").map(\.id), [open, d1])
        XCTAssertEqual(try store.listCommits(repo: "r", all: true).map(\.id), [open, c3, d1, c2, c1])
        XCTAssertEqual(try store.listCommits(repo: "r", all: true, limit: 1).map(\.id), [open])
        XCTAssertEqual(try store.listCommits(repo: "r", all: true).first?.state, .open)
        assertPFSError(.notFound, try store.listCommits(repo: "r", branch: "nope"))
    }

    func testDeleteCommit() throws {
        try store.createRepo("r")
        let c1 = try store.putFiles("r", "master", ["/a": "1"]).commit
        let c2 = try store.putFiles("r", "master", ["/a": "2"]).commit
        try store.createBranch(repo: "r", name: "pin", head: c2)
        let e = assertPFSError(.failedPrecondition, try store.deleteCommit(repo: "r", ref: c1))
        XCTAssertTrue(e?.message.contains(c2) ?? false)
        try store.deleteCommit(repo: "r", ref: "master")
        XCTAssertEqual(try store.inspectBranch(repo: "r", name: "master").head, c1)
        XCTAssertEqual(try store.inspectBranch(repo: "r", name: "pin").head, c1, "every branch on it moves back")
        XCTAssertEqual(try store.text("r", "master", "/a"), "1")
        assertPFSError(.notFound, try store.inspectCommit(repo: "r", ref: c2))
        XCTAssertEqual(try store.inspectCommit(repo: "r", ref: c1).children, [])
        // An open commit can be deleted; its branch goes back.
        let open = try store.startCommit(repo: "r", branch: "master").id
        try store.putFiles("r", "master", ["/staged": "x"])
        try store.deleteCommit(repo: "r", ref: open)
        XCTAssertEqual(try store.inspectBranch(repo: "r", name: "master").head, c1)
        assertPFSError(.notFound, try store.openFile(repo: "r", ref: "master", path: "/staged"))
        // The first commit: the branch becomes empty.
        try store.deleteCommit(repo: "r", ref: c1)
        XCTAssertNil(try store.inspectBranch(repo: "r", name: "master").head)
        XCTAssertEqual(try store.listCommits(repo: "r", all: true), [])
        XCTAssertTrue(try store.fsck().ok)
    }

    func testFinishDiscardIfEmpty() throws {
        try store.createRepo("r")
        // A new branch with nothing written: discarded, the branch stays empty.
        let first = try store.startCommit(repo: "r", branch: "master").id
        XCTAssertNil(try store.finishCommit(repo: "r", ref: "master", discardIfEmpty: true))
        XCTAssertNil(try store.inspectBranch(repo: "r", name: "master").head)
        assertPFSError(.notFound, try store.inspectCommit(repo: "r", ref: first))
        // The same when what was made is gone again.
        try store.startCommit(repo: "r", branch: "master")
        try store.put("r", "master") { try $0.mkdir(path: "/tmp") }
        try store.put("r", "master") { try $0.delete(path: "/tmp") }
        XCTAssertNil(try store.finishCommit(repo: "r", ref: "master", discardIfEmpty: true))
        XCTAssertNil(try store.inspectBranch(repo: "r", name: "master").head)

        let c1 = try store.putFiles("r", "master", ["/a": "1"]).commit
        let empty = try store.startCommit(repo: "r", branch: "master").id
        XCTAssertNil(try store.finishCommit(repo: "r", ref: "master", discardIfEmpty: true))
        XCTAssertEqual(try store.inspectBranch(repo: "r", name: "master").head, c1)
        assertPFSError(.notFound, try store.inspectCommit(repo: "r", ref: empty))
        XCTAssertEqual(try store.inspectCommit(repo: "r", ref: c1).children, [])

        // Changes that cancel out are no change either.
        try store.startCommit(repo: "r", branch: "master")
        try store.putFiles("r", "master", ["/tmp": "x"])
        try store.put("r", "master") { try $0.delete(path: "/tmp") }
        XCTAssertNil(try store.finishCommit(repo: "r", ref: "master", discardIfEmpty: true))
        XCTAssertEqual(try store.inspectBranch(repo: "r", name: "master").head, c1)

        // A real change is kept.
        let kept = try store.startCommit(repo: "r", branch: "master").id
        try store.putFiles("r", "master", ["/b": "2"])
        XCTAssertEqual(try store.finishCommit(repo: "r", ref: "master", discardIfEmpty: true)?.id, kept)
        // Without discardIfEmpty an empty commit is recorded.
        let recorded = try store.startCommit(repo: "r", branch: "master").id
        XCTAssertEqual(try store.finishCommit(repo: "r", ref: "master")?.id, recorded)
        XCTAssertEqual(try store.listCommits(repo: "r").map(\.id), [recorded, kept, c1])
    }

    // MARK: put sessions

    func testPutSessionMakesOneCommit() throws {
        try store.createRepo("r")
        let result = try store.put("r", "master") { s in
            try s.putFile(path: "/a.txt", Array("alpha".utf8))
            try s.putFile(path: "/dir/b.txt", Array("beta".utf8), mode: 0o600, mtimeNs: 123)
            try s.mkdir(path: "/empty/inner")
            try s.symlink(path: "/link", target: "a.txt")
        }
        XCTAssertTrue(result.finished)
        XCTAssertEqual(result.files, 3)
        XCTAssertEqual(result.bytes, 9)
        XCTAssertEqual(result.newBytes, 9, "two small chunks; trees are written with the commit")
        XCTAssertEqual(try store.listCommits(repo: "r").map(\.id), [result.commit])
        let c = try store.inspectCommit(repo: "r", ref: "master")
        XCTAssertEqual(c.state, .finished)
        XCTAssertEqual(c.sizeBytes, 9 + 5)
        XCTAssertEqual(try store.paths("r", "master"), ["/a.txt", "/dir/", "/dir/b.txt", "/empty/", "/empty/inner/", "/link"])
        XCTAssertEqual(try store.text("r", "master", "/a.txt"), "alpha")
        let b = try store.inspectFile(repo: "r", ref: "master", path: "dir/b.txt")
        XCTAssertEqual(b.mode, 0o600)
        XCTAssertEqual(b.mtimeNs, 123)
        XCTAssertEqual(b.sizeBytes, 4)
        XCTAssertEqual(b.commit, result.commit)
        let link = try store.inspectFile(repo: "r", ref: "master", path: "/link")
        XCTAssertEqual(link.type, .symlink)
        XCTAssertEqual(link.target, "a.txt")
        XCTAssertEqual(try store.inspectFile(repo: "r", ref: "master", path: "/dir").sizeBytes, 4)
        XCTAssertEqual(try store.inspectFile(repo: "r", ref: "master", path: "/").sizeBytes, 9 + 5)
        assertPFSError(.isDirectory, try store.openFile(repo: "r", ref: "master", path: "/dir"))

        // The next session is the next commit, with the previous one as parent.
        let second = try store.put("r", "master") { s in
            try s.delete(path: "/dir")
            try s.putFile(path: "/a.txt", Array("ALPHA!".utf8))
        }
        XCTAssertEqual(try store.inspectCommit(repo: "r", ref: second.commit).parent, result.commit)
        XCTAssertEqual(try store.paths("r", "master"), ["/a.txt", "/empty/", "/empty/inner/", "/link"])
        XCTAssertEqual(try store.text("r", "master^", "/dir/b.txt"), "beta")
        XCTAssertEqual(try store.text("r", "master", "/a.txt"), "ALPHA!")
        assertPFSError(.notFound, try store.put("r", "master") { try $0.delete(path: "/dir") })
        assertPFSError(.invalidArgument, try store.put("r", "master") { try $0.putFile(path: "/", [1]) })
        assertPFSError(.invalidArgument, try store.put("r", "master") { try $0.symlink(path: "/l", target: "") })
        assertPFSError(.invalidArgument, try store.put("r", "master") { try $0.putFile(path: "/../x", [1]) })
        assertPFSError(.isDirectory, try store.put("r", "master") { try $0.putFile(path: "/empty", [1]) })
        XCTAssertEqual(try store.listCommits(repo: "r").count, 2, "failed sessions make no commit")
    }

    func testPutCreatesMissingBranch() throws {
        try store.createRepo("r")
        let r = try store.putFiles("r", "feature", ["/x": "1"])
        XCTAssertEqual(try store.inspectBranch(repo: "r", name: "feature").head, r.commit)
        XCTAssertEqual(try store.inspectCommit(repo: "r", ref: "feature").branch, "feature")
        XCTAssertNil(try store.inspectCommit(repo: "r", ref: "feature").parent)
        assertPFSError(.notFound, try store.putFiles("missing", "master", ["/x": "1"]))
        assertPFSError(.invalidArgument, try store.putFiles("r", ".hidden", ["/x": "1"]))
        // A prefix-looking ref names a commit, not a new branch.
        assertPFSError(.notFound, try store.putFiles("r", "deadbeef", ["/x": "1"]))
        // An empty existing branch gets its first commit.
        try store.createBranch(repo: "r", name: "empty")
        let e = try store.putFiles("r", "empty", ["/y": "2"])
        XCTAssertEqual(try store.inspectBranch(repo: "r", name: "empty").head, e.commit)
    }

    func testAbortedSessionLeavesNothing() throws {
        try store.createRepo("r")
        let c1 = try store.putFiles("r", "master", ["/a": "1"]).commit
        let s = try store.beginPut(repo: "r", ref: "master")
        try s.putFile(path: "/b", Array("never".utf8))
        s.abort()
        s.abort()
        let s2 = try store.beginPut(repo: "r", ref: "newbranch")
        try s2.putFile(path: "/b", Array("never".utf8))
        s2.abort()
        // A session dropped without commit aborts too.
        do {
            let s3 = try store.beginPut(repo: "r", ref: "master")
            try s3.putFile(path: "/c", Array("dropped".utf8))
        }
        XCTAssertEqual(try store.listCommits(repo: "r", all: true).map(\.id), [c1])
        XCTAssertEqual(try store.listBranches(repo: "r").map(\.name), ["master"])
        XCTAssertEqual(try store.paths("r", "master"), ["/a"])
        // GC is not blocked by aborted sessions (the write gate was released).
        let report = try store.gc()
        XCTAssertEqual(report.objectsRemoved, 0, "aborted sessions' objects never became visible")
    }

    func testAppend() throws {
        try store.createRepo("r")
        try store.putFiles("r", "master", ["/log": "hello "])
        try store.put("r", "master") { try $0.putFile(path: "/log", Array("world".utf8), append: true) }
        XCTAssertEqual(try store.text("r", "master", "/log"), "hello world")
        XCTAssertEqual(try store.text("r", "master^", "/log"), "hello ")
        // Several appends in one session, and an append that creates the file.
        try store.put("r", "master") { s in
            try s.putFile(path: "/log", Array("!".utf8), append: true)
            try s.putFile(path: "/log", Array("?".utf8), append: true)
            try s.putFile(path: "/new", Array("a".utf8), append: true)
            try s.putFile(path: "/new", Array("b".utf8), append: true)
        }
        XCTAssertEqual(try store.text("r", "master", "/log"), "hello world!?")
        XCTAssertEqual(try store.text("r", "master", "/new"), "ab")
        // Overwrite then append in one session: only the new bytes.
        try store.put("r", "master") { s in
            try s.putFile(path: "/log", Array("fresh".utf8))
            try s.putFile(path: "/log", Array("+more".utf8), append: true)
        }
        XCTAssertEqual(try store.text("r", "master", "/log"), "fresh+more")
        // Append keeps the mode.
        try store.put("r", "master") { try $0.putFile(path: "/x", [1], mode: 0o600) }
        try store.put("r", "master") { try $0.putFile(path: "/x", [2], append: true) }
        XCTAssertEqual(try store.readAll(repo: "r", ref: "master", path: "/x"), [1, 2])
        XCTAssertEqual(try store.inspectFile(repo: "r", ref: "master", path: "/x").mode, 0o600)

        // Large content spanning several chunks; the append re-chunks only the tail.
        var rng = StoreTestRNG(seed: 7)
        let first = (0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let second = (0..<(1 << 20 + 12345)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try store.put("r", "master") { try $0.putFile(path: "/big", first) }
        let before = try store.inspectFile(repo: "r", ref: "master", path: "/big")
        let r = try store.put("r", "master") { try $0.putFile(path: "/big", second, append: true) }
        XCTAssertEqual(try store.readAll(repo: "r", ref: "master", path: "/big"), first + second)
        XCTAssertLessThan(r.newBytes, Int64(first.count + second.count), "an append stores only what changed")
        XCTAssertGreaterThan(try store.inspectFile(repo: "r", ref: "master", path: "/big").chunks ?? 0, 1)
        XCTAssertGreaterThan(before.chunks ?? 0, 1)
        // The same bytes written at once give the same file.
        try store.put("r", "master") { try $0.putFile(path: "/big2", first + second) }
        XCTAssertEqual(try store.inspectFile(repo: "r", ref: "master", path: "/big").hash,
                       try store.inspectFile(repo: "r", ref: "master", path: "/big2").hash)
        // Ranged reads across chunk boundaries.
        let (_, content) = try store.openFile(repo: "r", ref: "master", path: "/big")
        let all = first + second
        let n = Int64(all.count), boundary = Int64(first.count)
        let ranges: [(Int64, Int64)] = [(0, 10), (boundary - 5, 10), (1 << 20, 3 << 20), (n - 1, 100), (n, 10), (12345, 0),
                                        (10, Int64.max - 5), (n + 9, Int64.max)]
        for (offset, length) in ranges {
            var got: [UInt8] = []
            try store.read(content, offset: offset, length: length) { got += $0 }
            let lo = Int(min(offset, Int64(all.count)))
            let (sum, overflow) = offset.addingReportingOverflow(length)
            let hi = Int(overflow ? Int64(all.count) : min(sum, Int64(all.count)))
            XCTAssertEqual(got, Array(all[min(lo, hi)..<hi]), "offset \(offset) length \(length)")
        }
        assertPFSError(.invalidArgument, try store.read(content, offset: -1, length: 10) { _ in })
        assertPFSError(.invalidArgument, try store.read(content, offset: 0, length: -1) { _ in })
    }

    func testAppendAfterDeletingTheDirectoryInTheSameSession() throws {
        try store.createRepo("r")
        try store.putFiles("r", "master", ["/d/log": "old content", "/keep": "k"])
        try store.put("r", "master") { s in
            try s.delete(path: "/d")
            try s.putFile(path: "/d/log", Array("new".utf8), append: true)
        }
        XCTAssertEqual(try store.text("r", "master", "/d/log"), "new", "deleted content came back")
        try store.put("r", "master") { s in
            try s.delete(path: "/")
            try s.putFile(path: "/keep", Array("!".utf8), append: true)
        }
        XCTAssertEqual(try store.paths("r", "master"), ["/keep"])
        XCTAssertEqual(try store.text("r", "master", "/keep"), "!")
        // Deleting something below a deleted directory in the same session is refused at once.
        try store.putFiles("r", "master", ["/e/f": "1"])
        assertPFSError(.notFound, try store.put("r", "master") { s in
            try s.delete(path: "/e")
            try s.delete(path: "/e/f")
        })
    }

    func testPutIntoPathUnderAFile() throws {
        try store.createRepo("r")
        try store.putFiles("r", "master", ["/f": "1"])
        let before = try store.listCommits(repo: "r").count
        assertPFSError(.notDirectory, try store.putFiles("r", "master", ["/f/x": "2"]))
        // The same within one session: the file is put first.
        assertPFSError(.notDirectory, try store.put("r", "master") { s in
            try s.putFile(path: "/g", [1])
            try s.putFile(path: "/g/x", [2])
        })
        assertPFSError(.notDirectory, try store.put("r", "master") { try $0.mkdir(path: "/f/sub") })
        XCTAssertEqual(try store.listCommits(repo: "r").count, before)
        // Joined into an open commit, the open commit stays as it was.
        try store.startCommit(repo: "r", branch: "master")
        try store.putFiles("r", "master", ["/staged": "s"])
        assertPFSError(.notDirectory, try store.putFiles("r", "master", ["/f/x": "2"]))
        XCTAssertEqual(try store.paths("r", "master"), ["/f", "/staged"])
    }

    func testCopy() throws {
        try store.createRepo("src")
        try store.createRepo("dst")
        try store.putFiles("src", "master", ["/dir/a": "AAA", "/dir/sub/b": "BB", "/top": "T"])
        try store.putFiles("dst", "master", ["/existing": "E-"])
        let r = try store.put("dst", "master") { s in
            try s.copy(srcRepo: "src", srcRef: "master", srcPath: "/dir", to: "/copied")
            try s.copy(srcRepo: "src", srcRef: "master", srcPath: "/top", to: "/t2")
            try s.copy(srcRepo: "src", srcRef: "master", srcPath: "/top", to: "/existing", append: true)
        }
        XCTAssertEqual(r.newBytes, 0, "a copy stores no data")
        XCTAssertEqual(try store.paths("dst", "master"),
                       ["/copied/", "/copied/a", "/copied/sub/", "/copied/sub/b", "/existing", "/t2"])
        XCTAssertEqual(try store.text("dst", "master", "/copied/sub/b"), "BB")
        XCTAssertEqual(try store.text("dst", "master", "/existing"), "E-T")
        XCTAssertEqual(try store.inspectFile(repo: "dst", ref: "master", path: "/copied").hash,
                       try store.inspectFile(repo: "src", ref: "master", path: "/dir").hash)
        // A directory onto the root copies its entries.
        try store.put("dst", "master") { try $0.copy(srcRepo: "src", srcRef: "master", srcPath: "/dir/sub", to: "/") }
        XCTAssertEqual(try store.text("dst", "master", "/b"), "BB")
        assertPFSError(.notFound, try store.put("dst", "master") {
            try $0.copy(srcRepo: "src", srcRef: "master", srcPath: "/nope", to: "/x")
        })
        assertPFSError(.invalidArgument, try store.put("dst", "master") {
            try $0.copy(srcRepo: "src", srcRef: "master", srcPath: "/top", to: "/")
        })
        // A directory changed in an open commit has no hash yet.
        try store.startCommit(repo: "src", branch: "master")
        try store.putFiles("src", "master", ["/dir/c": "C"])
        assertPFSError(.failedPrecondition, try store.put("dst", "master") {
            try $0.copy(srcRepo: "src", srcRef: "master", srcPath: "/dir", to: "/x")
        })
        try store.put("dst", "master") { try $0.copy(srcRepo: "src", srcRef: "master", srcPath: "/dir/c", to: "/c") }
        XCTAssertEqual(try store.text("dst", "master", "/c"), "C")
    }

    func testJoinOpenCommit() throws {
        try store.createRepo("r")
        let base = try store.putFiles("r", "master", ["/a": "1"]).commit
        let open = try store.startCommit(repo: "r", branch: "master").id
        let r1 = try store.putFiles("r", "master", ["/b": "2"])
        XCTAssertEqual(r1.commit, open)
        XCTAssertFalse(r1.finished)
        let r2 = try store.put("r", open) { try $0.putFile(path: "/c", [3]) }
        XCTAssertEqual(r2.commit, open)
        let r3 = try store.put("r", String(open.prefix(8))) { try $0.delete(path: "/a") }
        XCTAssertEqual(r3.commit, open)
        XCTAssertEqual(try store.listCommits(repo: "r").map(\.id), [open, base])
        XCTAssertEqual(try store.inspectCommit(repo: "r", ref: open).state, .open)
        XCTAssertEqual(try store.paths("r", "master"), ["/b", "/c"], "readers see the open commit")
        XCTAssertEqual(try store.inspectCommit(repo: "r", ref: "master").sizeBytes, 2)
        XCTAssertEqual(try store.inspectRepo("r").sizeBytes, 2)
        try store.finishCommit(repo: "r", ref: "master")
        XCTAssertEqual(try store.paths("r", "master"), ["/b", "/c"])
        XCTAssertEqual(try store.inspectCommit(repo: "r", ref: open).sizeBytes, 2)
        // A finished commit id, or an ancestor, is read-only.
        assertPFSError(.readOnly, try store.beginPut(repo: "r", ref: open))
        assertPFSError(.readOnly, try store.beginPut(repo: "r", ref: base))
        assertPFSError(.readOnly, try store.beginPut(repo: "r", ref: "master^"))
        assertPFSError(.readOnly, try store.beginPut(repo: "r", ref: String(base.prefix(10))))
    }

    func testFailedJoinLeavesOpenCommitAsItWas() throws {
        try store.createRepo("r")
        try store.putFiles("r", "master", ["/dir/file": "1", "/x": "x"])
        let open = try store.startCommit(repo: "r", branch: "master").id
        try store.putFiles("r", "master", ["/staged": "s"])
        // A session validated against the state when it began…
        let late = try store.beginPut(repo: "r", ref: "master")
        try late.putFile(path: "/late-file", Array("late".utf8))
        try late.delete(path: "/dir/file")
        // …meets a state that changed meanwhile.
        try store.put("r", "master") { try $0.delete(path: "/dir") }
        let before = try store.listFiles(repo: "r", ref: "master", recursive: true)
        assertPFSError(.notFound, try late.commit())
        XCTAssertEqual(try store.listFiles(repo: "r", ref: "master", recursive: true), before)
        XCTAssertEqual(try store.paths("r", "master"), ["/staged", "/x"])
        // The op log was not extended either: a restart restores the same state.
        store = nil
        store = try openStore()
        XCTAssertEqual(try store.listFiles(repo: "r", ref: "master", recursive: true).map(\.path), before.map(\.path))
        try store.finishCommit(repo: "r", ref: open)
        XCTAssertEqual(try store.paths("r", "master"), ["/staged", "/x"])

        // An append whose base changed meanwhile is refused.
        try store.startCommit(repo: "r", branch: "master")
        let append = try store.beginPut(repo: "r", ref: "master")
        try append.putFile(path: "/x", Array("+tail".utf8), append: true)
        try store.putFiles("r", "master", ["/x": "replaced"])
        assertPFSError(.failedPrecondition, try append.commit())
        XCTAssertEqual(try store.text("r", "master", "/x"), "replaced")
    }

    func testWaitCommit() async throws {
        let store = try XCTUnwrap(self.store)
        try store.createRepo("r")
        let finished = try store.putFiles("r", "master", ["/a": "1"]).commit
        // A finished commit returns at once.
        let done = try await store.waitCommit(repo: "r", ref: "master", timeout: .seconds(5))
        XCTAssertEqual(done.map(\.id), [finished])

        let open = try store.startCommit(repo: "r", branch: "master").id
        let t0 = ContinuousClock.now
        let e = await assertAsyncPFSError(.timeout) { try await store.waitCommit(repo: "r", ref: open, timeout: .milliseconds(150)) }
        XCTAssertTrue(e?.message.contains(open) ?? false)
        let waited = ContinuousClock.now - t0
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(140))
        XCTAssertLessThan(waited, .seconds(3))

        // Another thread finishes it while we wait.
        let finisher = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            _ = try? store.finishCommit(repo: "r", ref: open)
        }
        let t1 = ContinuousClock.now
        finisher.start()
        let result = try await store.waitCommit(repo: "r", ref: "master", timeout: .seconds(20))
        XCTAssertEqual(result.map(\.id), [open])
        XCTAssertEqual(result.first?.state, .finished)
        XCTAssertLessThan(ContinuousClock.now - t1, .seconds(4), "woken by the finish, not by polling")

        // Deleting the commit wakes the waiter with notFound.
        let doomed = try store.startCommit(repo: "r", branch: "master").id
        let deleter = Thread {
            Thread.sleep(forTimeInterval: 0.1)
            try? store.deleteCommit(repo: "r", ref: doomed)
        }
        deleter.start()
        await assertAsyncPFSError(.notFound) { try await store.waitCommit(repo: "r", ref: doomed, timeout: .seconds(20)) }
        // Very short timeouts do not hang.
        let short = try store.startCommit(repo: "r", branch: "master").id
        for _ in 0..<50 {
            await assertAsyncPFSError(.timeout) { try await store.waitCommit(repo: "r", ref: short, timeout: .microseconds(1)) }
        }
    }

    // MARK: restart

    func testRestartRestoresOpenCommit() throws {
        try store.createRepo("r")
        try store.createRepo("other")
        let c1 = try store.putFiles("r", "master", ["/base/a": "A", "/base/b": "B", "/gone": "G"]).commit
        try store.putFiles("other", "master", ["/o": "other"])
        let open = try store.startCommit(repo: "r", branch: "master", description: "in progress").id
        try store.putFiles("r", "master", ["/new/file": "staged 1"])
        try store.put("r", "master") { s in
            try s.putFile(path: "/base/a", Array("+appended".utf8), append: true)
            try s.delete(path: "/gone")
            try s.mkdir(path: "/emptydir", mode: 0o700)
            try s.symlink(path: "/link", target: "base/b")
            try s.copy(srcRepo: "other", srcRef: "master", srcPath: "/o", to: "/copied")
        }
        let openFinished = try store.startCommit(repo: "r", branch: "dev").id
        try store.putFiles("r", "dev", ["/d": "dev"])
        let expectPaths = try store.paths("r", "master")
        let expectInfos = try store.listFiles(repo: "r", ref: "master", recursive: true)
        let expectRoot = try store.inspectFile(repo: "r", ref: "master", path: "/")
        let expectSize = try store.inspectCommit(repo: "r", ref: "master").sizeBytes
        XCTAssertEqual(expectPaths, ["/base/", "/base/a", "/base/b", "/copied", "/emptydir/", "/link", "/new/", "/new/file"])

        weak let old = store
        store = nil
        XCTAssertNil(old, "the store is released")
        store = try openStore()

        let info = try store.inspectCommit(repo: "r", ref: "master")
        XCTAssertEqual(info.id, open)
        XCTAssertEqual(info.state, .open)
        XCTAssertEqual(info.description, "in progress")
        XCTAssertEqual(info.parent, c1)
        XCTAssertEqual(info.sizeBytes, expectSize)
        XCTAssertEqual(try store.paths("r", "master"), expectPaths)
        // Everything as it was, directory mtimes included.
        XCTAssertEqual(try store.listFiles(repo: "r", ref: "master", recursive: true), expectInfos)
        XCTAssertEqual(try store.inspectFile(repo: "r", ref: "master", path: "/"), expectRoot)
        XCTAssertEqual(try store.text("r", "master", "/base/a"), "A+appended")
        XCTAssertEqual(try store.text("r", "master", "/new/file"), "staged 1")
        XCTAssertEqual(try store.text("r", "master", "/copied"), "other")
        XCTAssertEqual(try store.inspectFile(repo: "r", ref: "master", path: "/emptydir").mode, 0o700)
        XCTAssertEqual(try store.inspectFile(repo: "r", ref: "master", path: "/link").target, "base/b")
        XCTAssertEqual(try store.text("r", "dev", "/d"), "dev")
        // Still one open commit per branch, and it can be written and finished.
        assertPFSError(.failedPrecondition, try store.startCommit(repo: "r", branch: "master"))
        try store.putFiles("r", "master", ["/after": "restart"])
        try assertFsckClean(store)
        try store.finishCommit(repo: "r", ref: "master")
        try store.finishCommit(repo: "r", ref: openFinished)
        XCTAssertEqual(try store.paths("r", "master"), ["/after"] + expectPaths)
        XCTAssertEqual(try store.text("r", "master", "/base/a"), "A+appended")
        XCTAssertEqual(try store.text("r", c1, "/base/a"), "A")
        XCTAssertEqual(try store.text("r", c1, "/gone"), "G")
        XCTAssertEqual(try store.listCommits(repo: "r").map(\.id), [open, c1])

        // And once more: nothing open is left to restore, everything finished is intact.
        store = nil
        store = try openStore()
        XCTAssertEqual(try store.paths("r", "master"), ["/after"] + expectPaths)
        XCTAssertEqual(try store.inspectCommit(repo: "r", ref: "master").state, .finished)
        let report = try store.fsck()
        XCTAssertTrue(report.ok, "\(report.problems)")
        XCTAssertEqual(report.commitsChecked, 4)
    }

    // MARK: deferred objects (the mount's closed files)

    /// Stages a file whose one chunk is in the store's deferred batch, as the mount's close() does.
    private func stageDeferred(_ store: Store, _ path: String, _ text: String) throws -> ObjectHash {
        try store.writing {
            let hash = try store.deferredObjects.put(Array(text.utf8))
            let entry = TreeEntry.file(name: String(path.split(separator: "/").last!),
                                       content: FileContent(chunks: [ChunkRef(hash: hash, size: Int64(text.utf8.count))],
                                                            size: Int64(text.utf8.count)), mtimeNs: 1)
            try store.stage(repo: "r", branch: "master", ops: [.put(path: path, entry: entry)])
            return hash
        }
    }

    func testDeferredStagesAreReadableSurviveARestartAndAreDurableOnceFinished() throws {
        try store.createRepo("r")
        let hash = try stageDeferred(store, "/a", "closed through the mount")
        XCTAssertFalse(store.objects.contains(hash), "not synced yet")
        XCTAssertEqual(try store.text("r", "master", "/a"), "closed through the mount")
        try assertFsckClean(store)   // fsck moves deferred objects into place first
        XCTAssertTrue(store.objects.contains(hash))

        _ = try stageDeferred(store, "/b", "closed just before the daemon stopped")
        store = nil
        store = try openStore()
        XCTAssertEqual(try store.text("r", "master", "/b"), "closed just before the daemon stopped")
        let finished = try XCTUnwrap(store.finishCommit(repo: "r", ref: "master"))
        XCTAssertEqual(try store.text("r", finished.id, "/a"), "closed through the mount")
        try assertFsckClean(store)
    }

    func testARestoredOpenCommitDropsFilesWhoseObjectsAPowerLossTook() throws {
        try store.createRepo("r")
        _ = try stageDeferred(store, "/kept", "synced by fsync")
        try store.syncStaged()
        // Above the pack limit, so it is a temp file of its own that the "power loss" can take.
        let lost = try stageDeferred(store, "/lost", String(repeating: "never synced\n", count: 6000))
        try store.stage(repo: "r", branch: "master", ops: [.rename(from: "/lost", to: "/renamed")])
        // A power loss: the log entries reached the disk (a later synced transaction carried them), the
        // deferred object did not.
        let staging = dataDir.appendingPathComponent("store/objects/tmp")
        let leftovers = FileManager.default.enumerator(atPath: staging.path)!.compactMap { $0 as? String }
        let temp = try XCTUnwrap(leftovers.first { $0.contains("p-\(lost.hex)") })
        try FileManager.default.removeItem(at: staging.appendingPathComponent(temp))
        store = nil
        store = try openStore()
        XCTAssertEqual(try store.text("r", "master", "/kept"), "synced by fsync")
        assertPFSError(.notFound, try store.text("r", "master", "/renamed"))
        let finished = try XCTUnwrap(store.finishCommit(repo: "r", ref: "master"))
        XCTAssertEqual(try store.listFiles(repo: "r", ref: finished.id).map(\.path), ["/kept"])
        try assertFsckClean(store)
    }
}

@discardableResult
func assertAsyncPFSError<T>(_ code: PFSError.Code, file: StaticString = #filePath, line: UInt = #line,
                            _ body: () async throws -> T) async -> PFSError? {
    do {
        let v = try await body()
        XCTFail("expected \(code), got \(v)", file: file, line: line)
        return nil
    } catch let e as PFSError {
        XCTAssertEqual(e.code, code, e.message, file: file, line: line)
        return e
    } catch {
        XCTFail("expected PFSError \(code), got \(error)", file: file, line: line)
        return nil
    }
}

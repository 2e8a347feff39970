import Foundation
import XCTest

/// Commits through the CLI, both spellings, and every way of naming a commit (`master^`, `master~2`, an 8-hex
/// prefix, a full id) wherever a command takes one.
final class CommitCLITests: CLITestCase {
    /// Makes `data` with four commits, each with the description "commit <i>", `/n.txt` = "<i>\n" and
    /// `/dir/n<i>.txt` = "<i>\n" added to the files before; returns their ids, oldest first.
    func fourCommits() throws -> [String] {
        try quiet(["create", "repo", "data"])
        var ids: [String] = []
        for i in 1...4 {
            try local("c\(i)/n.txt", "\(i)\n")
            try local("c\(i)/dir/n\(i).txt", "\(i)\n")
            try quiet(["put", "file", "data@master", "-r", "-f", "c\(i)/.", "-m", "commit \(i)"])
            ids.append(try commitID("data"))
        }
        XCTAssertEqual(try commitIDs(["list", "commit", "data"]), ids.reversed())
        return ids
    }

    func trimmed(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }

    func testStartPutFinishBothSpellings() throws {
        try quiet(["create", "repo", "data"])
        // 2.x: start prints the id alone; writes join the open commit; finish sets the description.
        let id = trimmed(try out(["start", "commit", "data@master", "-m", "nightly import"]))
        XCTAssertEqual(id.count, 32)
        XCTAssertTrue(id.allSatisfy(\.isHexDigit), id)
        try fails(["start", "commit", "data@master"], status: 4, mentions: ["already has an open commit", id])
        try local("a.csv", "a\n")
        let put = try object(["put", "file", "data@master:/a.csv", "-f", "a.csv"])
        XCTAssertEqual(put["commit"] as? String, id)
        XCTAssertEqual(put["finished"] as? Bool, false)
        try quiet(["put", "file", "data@\(id):/b.csv", "-f", "a.csv"])  // by id, too
        try quiet(["put", "file", "data@\(id.prefix(8)):/c.csv", "-f", "a.csv"])  // and by prefix
        var c = try object(["inspect", "commit", "data@master"])
        XCTAssertEqual(c["state"] as? String, "open")
        XCTAssertEqual(c["size_bytes"] as? Int, 6)
        XCTAssertEqual(c["description"] as? String, "nightly import")
        // An open commit reads its live state and is listed as not finished.
        XCTAssertEqual(try content("data@master:/b.csv"), "a\n")
        let row = try table(["list", "commit", "data"], columns: ["REPO", "BRANCH", "COMMIT", "FINISHED", "SIZE", "ORIGIN",
                                                                  "PARENT", "DESCRIPTION"])
        XCTAssertEqual(row, [["data", "master", id, "-", "6B", "USER", "<none>", "nightly import"]])
        try quiet(["finish", "commit", "data@master"])
        c = try object(["inspect", "commit", "data@\(id)"])
        XCTAssertEqual(c["state"] as? String, "finished")
        XCTAssertEqual(c["description"] as? String, "nightly import")
        XCTAssertEqual(try paths(["list", "file", "data@master"]), ["/a.csv", "/b.csv", "/c.csv"])
        try fails(["finish", "commit", "data@master"], status: 4, mentions: ["already finished", id])
        try fails(["finish-commit", "data", id], status: 4, mentions: ["already finished"], binary: "pachctl")

        // 1.x: the branch defaults to master; -p names the parent; finish by prefix with -m.
        let id2 = trimmed(try out(["start-commit", "data"], binary: "pachctl"))
        XCTAssertEqual(try object(["inspect-commit", "data", id2])["parent"] as? String, id)
        try quiet(["put-file", "data", "master", "/a.csv", "-f", "a.csv"], binary: "pachctl")  // appends
        try quiet(["finish-commit", "data", String(id2.prefix(12)), "-m", "second"], binary: "pachctl")
        XCTAssertEqual(try content("data@master:/a.csv"), "a\na\n")
        XCTAssertEqual(try object(["inspect", "commit", "data@master"])["description"] as? String, "second")

        let id3 = trimmed(try out(["start-commit", "data", "patch", "-p", "master^", "--message", "fix"]))
        XCTAssertEqual(try object(["inspect", "commit", "data@patch"])["parent"] as? String, id)
        try quiet(["delete", "file", "data@patch:/c.csv"])
        try quiet(["finish", "commit", "data@\(id3)", "--description", "fixed"])
        XCTAssertEqual(try paths(["list", "file", "data@patch"]), ["/a.csv", "/b.csv"])
        XCTAssertEqual(try object(["inspect", "commit", "data@patch"])["description"] as? String, "fixed")
        XCTAssertEqual(try content("data@patch:/a.csv"), "a\n")

        // start commit on a new branch creates it; an empty commit still finishes (made explicitly).
        let id4 = trimmed(try out(["start", "commit", "data@fresh"]))
        XCTAssertEqual(try object(["inspect", "branch", "data@fresh"])["head"] as? String, id4)
        XCTAssertEqual(try object(["finish", "commit", "data@fresh"])["state"] as? String, "finished")

        // Errors naming things that do not exist.
        for bin in ["pfs", "pachctl"] {
            try fails(["start", "commit", "nope@master"], status: 3, mentions: ["repo \"nope\" not found"], binary: bin)
            try fails(["start-commit", "nope"], status: 3, mentions: ["repo \"nope\" not found"], binary: bin)
            try fails(["start", "commit", "data@x", "-p", "deadbeef"], status: 3, mentions: ["deadbeef"], binary: bin)
            try fails(["finish", "commit", "data@nope"], status: 3, mentions: ["\"nope\""], binary: bin)
            try fails(["finish-commit", "data", "deadbeef"], status: 3, mentions: ["no commit deadbeef"], binary: bin)
            try fails(["start", "commit", "data@master^"], status: 2, mentions: ["repo@branch"], binary: bin)
        }
        XCTAssertNil(try array(["list", "branch", "data"]).first { $0["name"] as? String == "x" }, "a failed start made a branch")
    }

    func testListAndInspectCommit() throws {
        let ids = try fourCommits()
        // list commit: newest first; -n; 1.x with branch; -a across branches.
        XCTAssertEqual(try commitIDs(["list", "commit", "data"]), ids.reversed())
        XCTAssertEqual(try commitIDs(["list", "commit", "data@master", "-n", "2"]), [ids[3], ids[2]])
        XCTAssertEqual(try commitIDs(["list", "commit", "data", "--number", "0"]), ids.reversed())
        XCTAssertEqual(try commitIDs(["list-commit", "data", "master", "-n", "1"]), [ids[3]])
        XCTAssertEqual(try commitIDs(["list-commit", "data"]), ids.reversed())
        try quiet(["put", "file", "data@dev:/x"], stdin: Data("x".utf8))
        let dev = try commitID("data", "dev")
        XCTAssertEqual(try commitIDs(["list", "commit", "data"]), ids.reversed(), "without a branch: master's history")
        XCTAssertEqual(try commitIDs(["list", "commit", "data@dev"]), [dev])
        XCTAssertEqual(try commitIDs(["list", "commit", "data", "-a"]), [dev] + ids.reversed())
        XCTAssertEqual(try commitIDs(["list-commit", "data", "--all", "-n", "2"]), [dev, ids[3]])
        XCTAssertEqual(try commitIDs(["list", "commit", "data@master~2"]), [ids[1], ids[0]])
        try fails(["list", "commit", "data@master", "-a"], status: 2, mentions: ["--all"])
        try fails(["list", "commit", "data", "-n", "-1"], status: 2)
        try fails(["list", "commit", "data", "-n", "many"], status: 2)
        // A repo without master lists every commit.
        try quiet(["create", "repo", "nomaster"])
        try quiet(["put", "file", "nomaster@a:/x"], stdin: Data("x".utf8))
        try quiet(["put", "file", "nomaster@b:/x"], stdin: Data("y".utf8))
        XCTAssertEqual(try commitIDs(["list", "commit", "nomaster"]), [try commitID("nomaster", "b"), try commitID("nomaster", "a")])
        XCTAssertEqual(try out(["list", "commit", "data@dev", "-n", "1"]).split(separator: "\n").count, 2)
        // A branch without commits has an empty history, like an empty listing (not "not found").
        try quiet(["create", "branch", "data@empty"])
        XCTAssertEqual(try commitIDs(["list", "commit", "data@empty"]), [])
        XCTAssertEqual(try commitIDs(["list-commit", "data", "empty"]), [])
        XCTAssertEqual(try paths(["list", "file", "data@empty"]), [])
        try fails(["list", "commit", "data@empty^"], status: 3, mentions: ["no commits yet"])

        // The table: every commit with its parent and description.
        let rows = try table(["list", "commit", "data"], columns: ["REPO", "BRANCH", "COMMIT", "FINISHED", "SIZE", "ORIGIN",
                                                                   "PARENT", "DESCRIPTION"])
        XCTAssertEqual(rows.map { $0[2] }, ids.reversed())
        XCTAssertEqual(rows.map { $0[6] }, Array(ids.dropLast().reversed()) + ["<none>"])
        XCTAssertEqual(rows.map { $0[7] }, ["commit 4", "commit 3", "commit 2", "commit 1"])
        XCTAssertEqual(try object(["inspect", "commit", "data@master~1"])["description"] as? String, "commit 3")
        XCTAssertEqual(try object(["inspect", "commit", "data@\(ids[2])^"])["description"] as? String, "commit 2")

        // inspect commit, both spellings
        let c = try object(["inspect", "commit", "data@master^"])
        XCTAssertEqual(c["id"] as? String, ids[2])
        XCTAssertEqual(c["parent"] as? String, ids[1])
        XCTAssertEqual(c["children"] as? [String], [ids[3]])
        XCTAssertEqual(c["branch"] as? String, "master")
        XCTAssertEqual(c["origin"] as? String, "user")
        XCTAssertEqual(c["size_bytes"] as? Int, 2 + 6)
        let text = try out(["inspect-commit", "data", "master^"], binary: "pachctl")
        XCTAssertTrue(text.hasPrefix("Commit: data@\(ids[2])\nOriginal Branch: master\nParent: \(ids[1])\nChildren: \(ids[3])\nState: finished\nOrigin: USER\n"), text)
        XCTAssertTrue(text.contains("Size: 8B\n"), text)
        XCTAssertTrue(text.contains("Commit Set: \(ids[2])\n"), text)
    }

    func testDeleteCommitBothSpellings() throws {
        let ids = try fourCommits()
        try fails(["delete", "commit", "data@master^"], status: 4, mentions: ["child", ids[3]])
        try fails(["delete-commit", "data", ids[0]], status: 4, mentions: ["child"])
        // The head goes; master moves back to its parent.
        try quiet(["delete", "commit", "data@master"])
        XCTAssertEqual(try commitID("data"), ids[2])
        XCTAssertEqual(try content("data@master:/n.txt"), "3\n")
        try quiet(["delete-commit", "data", String(ids[2].prefix(8))], binary: "pachctl")
        XCTAssertEqual(try commitID("data"), ids[1])
        try fails(["inspect", "commit", "data@\(ids[2])"], status: 3, mentions: ["no commit \(ids[2])"])
        // An open commit is discarded.
        let open = trimmed(try out(["start", "commit", "data@master"]))
        try quiet(["put", "file", "data@master:/tmp"], stdin: Data("tmp".utf8))
        try quiet(["delete", "commit", "data@\(open)"])
        XCTAssertEqual(try commitID("data"), ids[1])
        try fails(["get", "file", "data@master:/tmp"], status: 3)
        // A branch whose only commit goes is left empty.
        try quiet(["put", "file", "data@solo:/x"], stdin: Data("x".utf8))
        try quiet(["delete", "commit", "data@solo"])
        XCTAssertEqual(try array(["list", "branch", "data"]).first { $0["name"] as? String == "solo" }?["head"] as? String, nil)
        try fails(["delete", "commit", "data@deadbeef"], status: 3, mentions: ["no commit deadbeef"])
        try fails(["delete-commit", "nope", "master"], status: 3, mentions: ["repo \"nope\" not found"])
        try fails(["delete", "commit", "data@master:/x"], status: 2, mentions: ["without a path"])
        XCTAssertEqual(try commitIDs(["list", "commit", "data"]), [ids[1], ids[0]])
    }

    func testWaitAndFlushCommit() throws {
        let ids = try fourCommits()
        // Finished commits: returns at once with the commit set (here the commit alone).
        let rows = try table(["wait", "commit", "data@master"], columns: ["REPO", "BRANCH", "COMMIT", "FINISHED", "SIZE", "ORIGIN",
                                                                          "PARENT", "DESCRIPTION"])
        XCTAssertEqual(rows.map { $0[2] }, [ids[3]])
        XCTAssertEqual(try commitIDs(["wait", "commit", "data@master^", "--timeout", "5s"]), [ids[2]])
        XCTAssertEqual(try commitIDs(["flush-commit", "data@master"]), [ids[3]])
        XCTAssertEqual(try commitIDs(["flush-commit", "data/master~2"]), [ids[1]])
        XCTAssertEqual(try commitIDs(["flush-commit", "data", String(ids[0].prefix(8))]), [ids[0]])
        XCTAssertEqual(try commitIDs(["flush-commit", "data/master", "data@\(ids[0])", "data/master"]), [ids[3], ids[0]])

        // An open commit: the timeout runs out (status 7); finishing it releases a waiter.
        let open = trimmed(try out(["start", "commit", "data@master"]))
        let t0 = Date()
        try fails(["wait", "commit", "data@master", "--timeout", "1"], status: 7, mentions: [open, "still open"])
        XCTAssertLessThan(Date().timeIntervalSince(t0), 5)
        try fails(["flush-commit", "data/master", "--timeout", "1s"], status: 7, mentions: [open], binary: "pachctl")

        let waiter = Process()
        waiter.executableURL = Harness.binDir.appendingPathComponent("pachctl")
        waiter.arguments = ["flush-commit", "data/\(open)", "--raw"]
        waiter.environment = ["PFS_DATA_DIR": h.dataDir.path, "PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        waiter.standardOutput = pipe
        waiter.standardError = FileHandle.nullDevice
        try waiter.run()
        helpers.append(waiter)
        usleep(300_000)
        XCTAssertTrue(waiter.isRunning, "flush-commit returned while the commit was open")
        try quiet(["put", "file", "data@master:/late"], stdin: Data("late".utf8))
        try quiet(["finish", "commit", "data@master"])
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        waiter.waitUntilExit()
        XCTAssertEqual(waiter.terminationStatus, 0)
        let set = try JSONSerialization.jsonObject(with: output) as? [[String: Any]]
        XCTAssertEqual(set?.compactMap { $0["id"] as? String }, [open])
        XCTAssertEqual(set?.first?["state"] as? String, "finished")

        // Errors
        try fails(["wait", "commit", "data@master", "--timeout", "soon"], status: 2, mentions: ["--timeout"])
        try fails(["wait", "commit", "data@deadbeef"], status: 3, mentions: ["no commit deadbeef"])
        try fails(["flush-commit", "nope/master"], status: 3, mentions: ["repo \"nope\" not found"])
        try fails(["flush-commit", "data"], status: 2, mentions: ["repo@commit"])
        try fails(["flush-commit"], status: 2)
        try fails(["wait", "commit", "data@nope"], status: 3, mentions: ["\"nope\""])
    }

    /// `master^`, `master~2`, an 8-hex prefix, a full id and a prefix with `^` work wherever a commit is named.
    func testAncestryAndPrefixRefsEverywhere() throws {
        let ids = try fourCommits()
        // (ref, the commit it names)
        let refs: [(String, Int)] = [("master^", 2), ("master~2", 1), ("master^^^", 0), (String(ids[1].prefix(8)), 1),
                                     (ids[3], 3), (String(ids[3].prefix(8)) + "~1^", 1)]
        for (ref, i) in refs {
            let n = "\(i + 1)\n"
            let listing = (1...(i + 1)).map { "/dir/n\($0).txt" }
            XCTAssertEqual(try content("data@\(ref):/n.txt"), n, ref)
            XCTAssertEqual(try out(["get-file", "data", ref, "n.txt"], binary: "pachctl"), n, ref)
            try h.ok(["get", "file", "data@\(ref):/n.txt", "-o", "got.txt"])
            XCTAssertEqual(try readLocal("got.txt"), n, ref)
            XCTAssertEqual(try paths(["list", "file", "data@\(ref):/dir"]), listing, ref)
            XCTAssertEqual(try paths(["list-file", "data", ref, "dir"]), listing, ref)
            XCTAssertEqual(try paths(["glob", "file", "data@\(ref):/dir/*.txt"]), listing, ref)
            XCTAssertEqual(try paths(["glob-file", "data", ref, "/dir/*"]), listing, ref)
            XCTAssertEqual(try object(["inspect", "file", "data@\(ref):/n.txt"])["size_bytes"] as? Int, 2, ref)
            XCTAssertEqual(try object(["inspect-file", "data", ref, "/dir"])["size_bytes"] as? Int, 2 * (i + 1), ref)
            XCTAssertEqual(try commitID("data", ref), ids[i], ref)
            XCTAssertEqual(try object(["inspect-commit", "data", ref])["id"] as? String, ids[i], ref)
            XCTAssertEqual(try commitIDs(["list", "commit", "data@\(ref)"]), ids[0...i].reversed(), ref)
            XCTAssertEqual(try commitIDs(["list-commit", "data", ref]), ids[0...i].reversed(), ref)
            XCTAssertEqual(try commitIDs(["wait", "commit", "data@\(ref)"]), [ids[i]], ref)
            XCTAssertEqual(try commitIDs(["flush-commit", "data/\(ref)"]), [ids[i]], ref)
            XCTAssertEqual(try commitIDs(["flush-commit", "data", ref]), [ids[i]], ref)
            // diff against the parent: the commit's /dir file was added and /n.txt changed (added in the first)
            let diff = try array(["diff", "file", "data@\(ref)"])
            XCTAssertEqual(diff.compactMap { $0["path"] as? String }, ["/dir/n\(i + 1).txt", "/n.txt"], ref)
            XCTAssertEqual(diff.compactMap { $0["change"] as? String }, ["added", i == 0 ? "added" : "modified"], ref)
            XCTAssertEqual(try array(["diff-file", "data", ref, "/dir"]).compactMap { $0["path"] as? String },
                           ["/dir/n\(i + 1).txt"], ref)
            // diff against the first commit
            let changes = try array(["diff", "file", "data@\(ref)", "data@\(ids[0])"]).compactMap { $0["path"] as? String }
            XCTAssertEqual(changes, i == 0 ? [] : Array(listing.dropFirst()) + ["/n.txt"], ref)
            XCTAssertEqual(try array(["diff-file", "data", ref, "data", String(ids[0].prefix(9))])
                .compactMap { $0["path"] as? String }, changes, ref)
            // copy from it; branch from it; start a commit on it
            try quiet(["copy", "file", "data@\(ref):/n.txt", "data@copies:/\(i).txt"])
            try quiet(["copy-file", "data", ref, "/dir", "data", "copies", "/dir\(i)"], binary: "pachctl")
            try quiet(["create", "branch", "data@b\(i)", "--head", ref])
            XCTAssertEqual(try commitID("data", "b\(i)"), ids[i], ref)
            try quiet(["set-branch", "data", ref, "s\(i)"])
            XCTAssertEqual(try commitID("data", "s\(i)"), ids[i], ref)
            let started = trimmed(try out(["start", "commit", "data@p\(i)", "-p", ref]))
            XCTAssertEqual(try object(["finish", "commit", "data@\(started)"])["parent"] as? String, ids[i], ref)
        }
        XCTAssertEqual(try content("data@copies:/0.txt"), "1\n")
        XCTAssertEqual(try content("data@copies:/3.txt"), "4\n")
        XCTAssertEqual(try paths(["list", "file", "data@copies:/dir2"]), ["/dir2/n1.txt", "/dir2/n2.txt", "/dir2/n3.txt"])
        // More spellings of the same commits, and refs after the ones above were resolved.
        for (ref, i) in [("master", 3), ("master~1^", 1), (ids[3] + "~3", 0), (String(ids[2].prefix(8)) + "^^", 0)] {
            XCTAssertEqual(try content("data@\(ref):/n.txt"), "\(i + 1)\n", ref)
            XCTAssertEqual(try out(["get-file", "data", ref, "n.txt"]), "\(i + 1)\n", ref)
            XCTAssertEqual(try commitID("data", ref), ids[i], ref)
        }
        // The tables print the resolved ids.
        XCTAssertTrue(try out(["inspect", "branch", "data@b1"]).contains("Head Commit: data@\(ids[1])"))
    }

    func testMissingAndInvalidRefsAreReported() throws {
        let ids = try fourCommits()
        let missing: [(String, [String])] = [("deadbeef", ["no commit deadbeef", "\"data\""]),
                                             ("0123456789abcdef0123456789abcdef", ["no commit 0123456789abcdef0123456789abcdef"]),
                                             ("nope", ["branch \"nope\"", "\"data\""]),
                                             ("master~4", ["no parent"]), ("master^^^^", ["no parent"]),
                                             (ids[0] + "^", ["no parent"])]
        for (ref, mentions) in missing {
            // Every command that names a commit, for two refs; the common ones for the rest (keeps the suite fast).
            let everywhere = ref == "deadbeef" || ref == "master~4"
            for args in [["get", "file", "data@\(ref):/n.txt"], ["get-file", "data", ref, "n.txt"],
                         ["list", "file", "data@\(ref)"], ["list-file", "data", ref],
                         ["glob", "file", "data@\(ref):/*"], ["glob-file", "data", ref, "*"],
                         ["diff", "file", "data@\(ref)"], ["diff-file", "data", ref],
                         ["diff", "file", "data@master", "data@\(ref)"],
                         ["inspect", "file", "data@\(ref):/n.txt"], ["inspect-file", "data", ref, "n.txt"],
                         ["inspect", "commit", "data@\(ref)"], ["inspect-commit", "data", ref],
                         ["list", "commit", "data@\(ref)"], ["list-commit", "data", ref],
                         ["wait", "commit", "data@\(ref)"], ["flush-commit", "data/\(ref)"],
                         ["delete", "commit", "data@\(ref)"], ["delete-commit", "data", ref],
                         ["finish", "commit", "data@\(ref)"],
                         ["create", "branch", "data@x", "--head", ref], ["set-branch", "data", ref, "x"],
                         ["start", "commit", "data@x", "-p", ref],
                         ["copy", "file", "data@\(ref):/n.txt", "data@master:/c"],
                         ["copy-file", "data", ref, "n.txt", "data", "master", "c"]]
                where everywhere || args[0] == "get" || args[0] == "inspect-commit" || args[0] == "create" {
                try fails(args, status: 3, mentions: mentions)
            }
        }
        // Missing files and directories name the path.
        try fails(["get", "file", "data@master:/nope.txt"], status: 3, mentions: ["/nope.txt"])
        try fails(["get-file", "data", "master^", "dir/n4.txt"], status: 3, mentions: ["/dir/n4.txt"])
        try fails(["list", "file", "data@master:/nodir"], status: 3, mentions: ["/nodir"])
        try fails(["inspect", "file", "data@master:/nope"], status: 3, mentions: ["/nope"])
        // Malformed refs are usage errors.
        for ref in ["master~x", "~2", "^", "a b"] {
            try fails(["inspect", "commit", "data@\(ref)"], status: 2, mentions: ["reference"])
            try fails(["inspect-commit", "data", ref], status: 2, mentions: ["reference"])
        }
        try fails(["get", "file", "data@master:/../etc/passwd"], status: 2, mentions: ["\"..\""])
        try fails(["get", "file", "data@master"], status: 2, mentions: ["needs a path"])
        // Nothing was changed by any of that.
        XCTAssertEqual(try commitIDs(["list", "commit", "data", "--all"]), ids.reversed())
        XCTAssertEqual(try array(["list", "branch", "data"]).count, 1)
    }

    /// Writing into a finished commit — by id, prefix or ancestry — is READ_ONLY (status 4) and changes nothing.
    func testWritingIntoAFinishedCommitIsReadOnly() throws {
        let ids = try fourCommits()
        try local("x.txt", "x\n")
        for ref in [ids[3], String(ids[3].prefix(8)), ids[1], "master^", "master~2"] {
            let m = ["is finished and cannot change"]
            try fails(["put", "file", "data@\(ref):/x.txt", "-f", "x.txt"], status: 4, mentions: m)
            try fails(["put", "file", "data@\(ref):/x.txt"], status: 4, mentions: m, stdin: Data("x".utf8))
            try fails(["put-file", "data", ref, "x.txt", "-f", "x.txt"], status: 4, mentions: m, binary: "pachctl")
            try fails(["put-file", "data", ref, "x.txt", "-o", "-f", "x.txt"], status: 4, mentions: m)
            try fails(["delete", "file", "data@\(ref):/n.txt"], status: 4, mentions: m)
            try fails(["delete-file", "data", ref, "n.txt"], status: 4, mentions: m)
            try fails(["copy", "file", "data@master:/n.txt", "data@\(ref):/c.txt"], status: 4, mentions: m)
            try fails(["copy-file", "data", "master", "n.txt", "data", ref, "c.txt"], status: 4, mentions: m)
            try fails(["finish", "commit", "data@\(ref)"], status: 4, mentions: ["already finished"])
            try fails(["finish-commit", "data", ref], status: 4, mentions: ["already finished"])
        }
        // put-file -c needs a branch, not a commit.
        try fails(["put-file", "data", ids[3], "x.txt", "-c", "-f", "x.txt"], status: 2, mentions: ["branch"])
        XCTAssertEqual(try commitIDs(["list", "commit", "data", "--all"]), ids.reversed())
        XCTAssertEqual(try content("data@master:/n.txt"), "4\n")
        XCTAssertTrue(try out(["fsck"]).contains("no problems found"))
    }

    /// Two commits whose ids share their first 8 hex digits: the prefix is AMBIGUOUS (status 4), a longer one works.
    func testAmbiguousCommitPrefix() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@a:/x"], stdin: Data("a".utf8))
        try quiet(["put", "file", "data@b:/x"], stdin: Data("b".utf8))
        let a = try commitID("data", "a"), b = try commitID("data", "b")
        // Give b an id that starts like a's (ids are random; the daemon is stopped while the metadata is edited).
        let newB = String(a.prefix(8)) + (a.dropFirst(8).first == "0" ? "1" : "0") + String(b.suffix(23))
        h.stop()
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            old, new = sys.argv[2], sys.argv[3]
            db.execute("UPDATE commits SET id = ?, commit_set = ? WHERE id = ?", (new, new, old))
            db.execute("UPDATE branches SET head = ? WHERE head = ?", (new, old))
            db.commit()
            print("ok", flush=True)
            """
        let (p, said) = try startPython(script, [h.dataDir.appendingPathComponent("metadata.db").path, b, newB])
        p.waitUntilExit()
        guard said == "ok" else { throw XCTSkip("python3 sqlite3 could not edit the metadata: \(said)") }
        try h.start()
        XCTAssertEqual(try commitID("data", "b"), newB)

        let prefix = String(a.prefix(8))
        for args in [["inspect", "commit", "data@\(prefix)"], ["inspect-commit", "data", prefix],
                     ["get", "file", "data@\(prefix):/x"], ["get-file", "data", prefix, "x"],
                     ["list", "file", "data@\(prefix)"], ["create", "branch", "data@c", "--head", prefix],
                     ["flush-commit", "data/\(prefix)"], ["delete", "commit", "data@\(prefix)"]] {
            try fails(args, status: 4, mentions: ["ambiguous", a, newB, "give more digits"])
        }
        XCTAssertEqual(try content("data@\(a.prefix(9)):/x"), "a")
        XCTAssertEqual(try content("data@\(newB.prefix(9)):/x"), "b")
        XCTAssertEqual(try allCommits("data").count, 2)
    }
}

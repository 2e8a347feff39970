import Foundation
import XCTest

/// Files through the CLI, both spellings: put (local files, directories, lists, stdin, URLs; replace and append),
/// get, list, glob, diff, inspect, delete and copy, with exact content checks and their errors.
final class FileCLITests: CLITestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try quiet(["create", "repo", "data"])
    }

    // MARK: put file (2.x)

    func testPutFileLocalSourcesAndNaming() throws {
        let a = try local("a.csv", "a,1\n")
        try local("sub/b.csv", "b,2\n")
        chmod(a, 0o640)
        // One source, a destination that names the file.
        try quiet(["put", "file", "data@master:/sales.csv", "-f", "a.csv"])
        XCTAssertEqual(try content("data@master:/sales.csv"), "a,1\n")
        XCTAssertEqual(try object(["inspect", "file", "data@master:/sales.csv"])["mode"] as? Int, 0o640)
        // No leading slash; the destination omitted (base name); several sources under a directory; one commit each.
        try quiet(["put", "file", "data@master:nested/x.csv", "-f", "sub/b.csv"])
        try quiet(["put", "file", "data@master", "-f", "sub/b.csv"])
        try quiet(["put", "file", "data@master:/in/", "-f", "a.csv", "-f", h.work.appendingPathComponent("sub/b.csv").path,
                   "-m", "two files"])
        XCTAssertEqual(try paths(["list", "file", "data@master:/in"]), ["/in/a.csv", "/in/b.csv"])
        XCTAssertEqual(try content("data@master:/in/b.csv"), "b,2\n")
        XCTAssertEqual(try content("data@master:/nested/x.csv"), "b,2\n")
        XCTAssertEqual(try content("data@master:/b.csv"), "b,2\n")
        XCTAssertEqual(try commitIDs(["list", "commit", "data"]).count, 4)
        XCTAssertEqual(try object(["inspect", "commit", "data@master"])["description"] as? String, "two files")
        // Replaces (2.x); -a appends.
        try quiet(["put", "file", "data@master:/sales.csv", "-f", "sub/b.csv"])
        XCTAssertEqual(try content("data@master:/sales.csv"), "b,2\n")
        try quiet(["put", "file", "data@master:/sales.csv", "-a", "-f", "a.csv"])
        try quiet(["put", "file", "data@master:/sales.csv", "--append", "-f", "a.csv"])
        XCTAssertEqual(try content("data@master:/sales.csv"), "b,2\na,1\na,1\n")
        try quiet(["put", "file", "data@master:/new.csv", "-a", "-f", "a.csv"])  // append creates
        XCTAssertEqual(try content("data@master:/new.csv"), "a,1\n")

        // An empty file, and binary content with NULs and no trailing newline, byte for byte.
        try local("empty", "")
        try quiet(["put", "file", "data@master:/empty", "-f", "empty"])
        XCTAssertEqual(try h.ok(["get", "file", "data@master:/empty"]).out, Data())
        let binary = Harness.randomData(70_000, seed: 7) + Data([0, 0, 255])
        try h.write("bin.dat", binary)
        try quiet(["put", "file", "data@master:/bin.dat", "-f", "bin.dat"])
        XCTAssertEqual(try h.ok(["get", "file", "data@master:/bin.dat"]).out, binary)
        XCTAssertEqual(try object(["inspect", "file", "data@master:/bin.dat"])["size_bytes"] as? Int, binary.count)
    }

    func testPutFileRecursiveListAndStdin() throws {
        try local("tree/a.csv", "1\n")
        try local("tree/sub/b.csv", "22\n")
        try local("tree/sub/deep/c.txt", "333\n")
        try FileManager.default.createDirectory(at: h.work.appendingPathComponent("tree/empty"), withIntermediateDirectories: true)
        let tree = h.work.appendingPathComponent("tree")
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("link.csv").path, withDestinationPath: "a.csv")
        try FileManager.default.createSymbolicLink(atPath: tree.appendingPathComponent("dirlink").path, withDestinationPath: "sub")
        chmod(tree.appendingPathComponent("sub/deep/c.txt").path, 0o750)

        // -r: the tree under the destination, in one commit; a symlink to a file is followed, one to a directory kept.
        let result = try object(["put", "file", "data@master:/raw", "-r", "-f", "tree"])
        XCTAssertEqual(result["files"] as? Int, 5)
        XCTAssertEqual(try paths(["glob", "file", "data@master:/raw/**"]),
                       ["/raw", "/raw/a.csv", "/raw/dirlink", "/raw/empty", "/raw/link.csv", "/raw/sub", "/raw/sub/b.csv",
                        "/raw/sub/deep", "/raw/sub/deep/c.txt"])
        let rows = try table(["list", "file", "data@master:/raw"], columns: ["NAME", "TYPE", "SIZE"])
        XCTAssertEqual(rows, [["/raw/a.csv", "file", "2B"], ["/raw/dirlink", "symlink", "-> sub"], ["/raw/empty/", "dir", "0B"],
                              ["/raw/link.csv", "file", "2B"], ["/raw/sub/", "dir", "7B"]])
        XCTAssertEqual(try content("data@master:/raw/link.csv"), "1\n")
        XCTAssertEqual(try object(["inspect", "file", "data@master:/raw/sub/deep/c.txt"])["mode"] as? Int, 0o750)
        XCTAssertEqual(try commitIDs(["list", "commit", "data"]).count, 1)
        // `dir/.` puts the contents directly under the destination; a trailing / keeps the base name.
        try quiet(["put", "file", "data@master:/flat", "-r", "-f", "tree/sub/."])
        XCTAssertEqual(try paths(["list", "file", "data@master:/flat"]), ["/flat/b.csv", "/flat/deep"])
        try quiet(["put", "file", "data@master:/under/", "-r", "-f", "tree/sub"])
        XCTAssertEqual(try paths(["list", "file", "data@master:/under"]), ["/under/sub"])
        // A directory without -r is refused, naming it and the fix.
        try fails(["put", "file", "data@master:/x", "-f", "tree"], status: 2, mentions: ["\"tree\" is a directory", "-r"])

        // -i: a list of sources (blank lines ignored); -i - reads it from stdin.
        try local("list.txt", "tree/a.csv\n\n  tree/sub/b.csv  \n")
        try quiet(["put", "file", "data@master:/listed/", "-i", "list.txt"])
        XCTAssertEqual(try paths(["list", "file", "data@master:/listed"]), ["/listed/a.csv", "/listed/b.csv"])
        try quiet(["put", "file", "data@master:/fromstdin/", "-i", "-"], stdin: Data("tree/sub/deep/c.txt\n".utf8))
        XCTAssertEqual(try content("data@master:/fromstdin/c.txt"), "333\n")
        try fails(["put", "file", "data@master:/x/", "-i", "missing-list.txt"], status: 6, mentions: ["missing-list.txt"])
        try local("blank.txt", "\n\n")
        try fails(["put", "file", "data@master:/x/", "-i", "blank.txt"], status: 2, mentions: ["lists no sources"])

        // stdin: without -f, or -f -; with -a it appends.
        try quiet(["put", "file", "data@master:/notes.txt"], stdin: Data("one\n".utf8))
        try quiet(["put", "file", "data@master:/notes.txt", "-a", "-f", "-"], stdin: Data("two\n".utf8))
        XCTAssertEqual(try content("data@master:/notes.txt"), "one\ntwo\n")
        try h.sh("printf 'piped\\n' | pfs put file data@master:/piped.txt && test \"$(pfs get file data@master:/piped.txt)\" = piped")
        try fails(["put", "file", "data@master"], status: 2, mentions: ["destination file name"], stdin: Data("x".utf8))
        try fails(["put", "file", "data@master:/dir/"], status: 2, mentions: ["destination file name"], stdin: Data("x".utf8))
        try fails(["put", "file", "data@master:/x", "-f", "-", "-f", "-"], status: 2, mentions: ["standard input"], stdin: Data("x".utf8))
        try fails(["put", "file", "data@master:/x/", "-i", "-", "-f", "-"], status: 2, mentions: ["standard input"],
                  stdin: Data("tree/a.csv\n".utf8))
        // A FIFO (as `-f <(command)` gives) is streamed.
        try h.sh("pfs put file data@master:/fifo.txt -f <(printf 'from a fifo\\n')")
        XCTAssertEqual(try content("data@master:/fifo.txt"), "from a fifo\n")
    }

    func testPutFileErrorsCommitNothing() throws {
        try local("a.csv", "a\n")
        try quiet(["put", "file", "data@master:/a.csv", "-f", "a.csv"])
        try quiet(["put", "file", "data@master:/dir/f", "-f", "a.csv"])
        let before = try allCommits("data")

        // Unreadable local sources: a missing path, a path through a file, even next to good ones.
        try fails(["put", "file", "data@master:/x", "-f", "/nonexistent/file.csv"], status: 6,
                  mentions: ["\"/nonexistent/file.csv\"", "No such file"])
        try fails(["put", "file", "data@master:/x", "-f", "a.csv/inside"], status: 6, mentions: ["a.csv/inside"])
        try fails(["put", "file", "data@master:/in/", "-f", "a.csv", "-f", "missing.csv"], status: 6, mentions: ["missing.csv"])
        try fails(["put-file", "data", "master", "x", "-c", "-f", "missing.csv"], status: 6, mentions: ["missing.csv"])
        try fails(["put-file", "data", "master", "x", "-f", "missing.csv"], status: 6, mentions: ["missing.csv"], binary: "pachctl")
        // Destinations the tree refuses.
        try fails(["put", "file", "data@master:/dir", "-f", "a.csv"], status: 4, mentions: ["/dir is a directory"])
        try fails(["put", "file", "data@master:/a.csv/x", "-f", "a.csv"], status: 4, mentions: ["/a.csv"])
        try fails(["put", "file", "data@master:/", "-f", "-"], status: 2, stdin: Data("x".utf8))
        try fails(["put", "file", "data@master:/x", "-f", "s3://bucket/key"], status: 2, mentions: ["s3://bucket/key", "http"])
        try fails(["put", "file", "data@master:/x/../y", "-f", "a.csv"], status: 2, mentions: ["\"..\""])
        // Missing repo; invalid branch names.
        try fails(["put", "file", "nope@master:/x", "-f", "a.csv"], status: 3, mentions: ["repo \"nope\" not found"])
        try fails(["put-file", "nope", "master", "x", "-f", "a.csv"], status: 3, mentions: ["repo \"nope\" not found"])
        try fails(["put", "file", "data@.hidden:/x", "-f", "a.csv"], status: 2, mentions: ["reserved"])
        try fails(["put", "file", "data@\(String(repeating: "b", count: 201)):/x", "-f", "a.csv"], status: 2, mentions: ["limit"])

        XCTAssertEqual(try allCommits("data"), before)
        XCTAssertEqual(try array(["list", "branch", "data"]).count, 1)
        XCTAssertEqual(try paths(["list", "file", "data@master"]), ["/a.csv", "/dir"])
        XCTAssertEqual(try content("data@master:/a.csv"), "a\n")
    }

    // MARK: put-file (1.x)

    func testLegacyPutFileAppendsOverwritesAndCommits() throws {
        try local("set1.txt", "1\n")
        try local("set2.txt", "2\n")
        // Appends by default, with or without -c.
        try quiet(["put-file", "data", "master", "sales", "-c", "-f", "set1.txt"], binary: "pachctl")
        try quiet(["put-file", "data", "master", "/sales", "-f", "set2.txt"], binary: "pachctl")
        try quiet(["put-file", "data", "master", "sales", "--commit", "-f", "set1.txt", "-m", "third"])
        XCTAssertEqual(try content("data@master:/sales"), "1\n2\n1\n")
        XCTAssertEqual(try commitIDs(["list", "commit", "data"]).count, 3)
        XCTAssertEqual(try object(["inspect", "commit", "data@master"])["description"] as? String, "third")
        // -o replaces.
        try quiet(["put-file", "data", "master", "sales", "-o", "-f", "set2.txt"], binary: "pachctl")
        XCTAssertEqual(try content("data@master:/sales"), "2\n")
        try quiet(["put-file", "data", "master", "sales", "--overwrite", "-c", "-f", "set1.txt"])
        XCTAssertEqual(try content("data@master:/sales"), "1\n")
        // Path omitted: base names; a directory path keeps base names; stdin; -r; -i.
        try quiet(["put-file", "data", "master", "-f", "set1.txt", "-f", "set2.txt"], binary: "pachctl")
        try quiet(["put-file", "data", "master", "/sets/", "-f", "set1.txt"])
        try quiet(["put-file", "data", "master", "notes"], stdin: Data("n1\n".utf8))
        try quiet(["put-file", "data", "master", "notes", "-f", "-"], stdin: Data("n2\n".utf8))
        try local("tree/x/y.txt", "y\n")
        try quiet(["put-file", "data", "master", "/t", "-r", "-f", "tree"])
        try quiet(["put-file", "data", "master", "/t", "-r", "-f", "tree"])  // appends file by file
        try local("list.txt", "set1.txt\nset2.txt\n")
        try quiet(["put-file", "data", "master", "/listed/", "-i", "list.txt"])
        XCTAssertEqual(try content("data@master:/set1.txt"), "1\n")
        XCTAssertEqual(try content("data@master:/set2.txt"), "2\n")
        XCTAssertEqual(try content("data@master:/sets/set1.txt"), "1\n")
        XCTAssertEqual(try content("data@master:/notes"), "n1\nn2\n")
        XCTAssertEqual(try content("data@master:/t/x/y.txt"), "y\ny\n")
        XCTAssertEqual(try paths(["list-file", "data", "master", "listed"]), ["/listed/set1.txt", "/listed/set2.txt"])

        // Without -c, a put joins the branch's open commit; -c on a branch with an open commit is refused.
        let open = try out(["start-commit", "data", "master"], binary: "pachctl").trimmingCharacters(in: .whitespacesAndNewlines)
        try quiet(["put-file", "data", "master", "joined", "-f", "set1.txt"], binary: "pachctl")
        try quiet(["put-file", "data", open, "joined", "-f", "set2.txt"], binary: "pachctl")  // by id too
        try fails(["put-file", "data", "master", "x", "-c", "-f", "set1.txt"], status: 4, mentions: ["open commit"],
                  binary: "pachctl")
        XCTAssertEqual(try object(["inspect", "commit", "data@master"])["state"] as? String, "open")
        try quiet(["finish-commit", "data", "master"], binary: "pachctl")
        XCTAssertEqual(try content("data@\(open):/joined"), "1\n2\n")
        try fails(["get", "file", "data@master:/x"], status: 3)

        // -c on a new branch makes it; a failing -c put deletes its commit and the branch it made.
        try quiet(["put-file", "data", "side", "s", "-c", "-f", "set1.txt"], binary: "pachctl")
        XCTAssertEqual(try content("data@side:/s"), "1\n")
        let before = try allCommits("data")
        let bad = "http://127.0.0.1:\(try closedPort())/x.csv"
        try fails(["put-file", "data", "master", "x", "-c", "-f", bad], status: 6, mentions: [bad], binary: "pachctl")
        try fails(["put-file", "data", "newbranch", "x", "-c", "-f", bad], status: 6, mentions: [bad], binary: "pachctl")
        XCTAssertEqual(try allCommits("data"), before)
        XCTAssertEqual(try array(["list", "branch", "data"]).compactMap { $0["name"] as? String }, ["master", "side"])
        XCTAssertEqual(try object(["inspect", "commit", "data@master"])["state"] as? String, "finished")
        // …and leaves the branch free for the next start.
        let next = try out(["start", "commit", "data@master"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try quiet(["finish", "commit", "data@\(next)"])
    }

    // MARK: URLs

    func testPutFileFromHTTPURLs() throws {
        let www = h.work.appendingPathComponent("www")
        try FileManager.default.createDirectory(at: www.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("remote,1\n".utf8).write(to: www.appendingPathComponent("remote.csv"))
        let big = Harness.randomData(5 << 20 + 123, seed: 42)
        try big.write(to: www.appendingPathComponent("sub/big.bin"))
        try Data("with space\n".utf8).write(to: www.appendingPathComponent("sub/a b.txt"))
        let base = try serveHTTP(www)

        try quiet(["put", "file", "data@master:/remote.csv", "-f", "\(base)/remote.csv"])
        XCTAssertEqual(try content("data@master:/remote.csv"), "remote,1\n")
        // The URL's last path component names the file when the destination is a directory.
        try quiet(["put", "file", "data@master", "-f", "\(base)/sub/big.bin", "-f", "\(base)/sub/a%20b.txt?x=1"])
        XCTAssertEqual(try h.ok(["get", "file", "data@master:/big.bin"]).out, big)
        XCTAssertEqual(try content("data@master:/a b.txt"), "with space\n")
        // 1.x appends from a URL; 2.x -a too; -i lists URLs and local files together.
        try quiet(["put-file", "data", "master", "remote.csv", "-f", "\(base)/remote.csv"], binary: "pachctl")
        try quiet(["put", "file", "data@master:/remote.csv", "-a", "-f", "\(base)/remote.csv"])
        XCTAssertEqual(try content("data@master:/remote.csv"), "remote,1\nremote,1\nremote,1\n")
        try local("local.txt", "local\n")
        try local("list.txt", "\(base)/remote.csv\nlocal.txt\n")
        try quiet(["put", "file", "data@master:/mixed/", "-i", "list.txt"])
        XCTAssertEqual(try paths(["list", "file", "data@master:/mixed"]), ["/mixed/local.txt", "/mixed/remote.csv"])
        try quiet(["put-file", "data", "master", "/c.csv", "-c", "-f", "\(base)/remote.csv"])
        XCTAssertEqual(try content("data@master:/c.csv"), "remote,1\n")

        // Failing URLs name the URL and commit nothing, even with good sources in the same put.
        let before = try allCommits("data")
        try fails(["put", "file", "data@master:/x.csv", "-f", "\(base)/missing.csv"], status: 6,
                  mentions: ["\(base)/missing.csv", "404", "nothing was put"])
        try fails(["put", "file", "data@master:/in/", "-f", "local.txt", "-f", "\(base)/sub/big.bin", "-f", "\(base)/nope"],
                  status: 6, mentions: ["\(base)/nope", "404"])
        let closed = "http://127.0.0.1:\(try closedPort())/data.csv"
        try fails(["put", "file", "data@master:/x.csv", "-f", closed], status: 6, mentions: [closed, "refused"])
        try fails(["put-file", "data", "master", "x.csv", "-f", closed], status: 6, mentions: [closed], binary: "pachctl")
        try fails(["put", "file", "data@master:/in/", "-f", "local.txt", "-f", closed], status: 6, mentions: [closed])
        try local("badlist.txt", "local.txt\n\(closed)\n")
        try fails(["put", "file", "data@master:/in/", "-i", "badlist.txt"], status: 6, mentions: [closed])
        // Into an open commit, a failed put leaves the commit as it was.
        let open = try out(["start", "commit", "data@master"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try quiet(["put", "file", "data@master:/in-open.txt", "-f", "local.txt"])
        try fails(["put", "file", "data@master:/in/", "-f", "local.txt", "-f", closed], status: 6, mentions: [closed])
        try quiet(["finish", "commit", "data@master"])
        XCTAssertEqual(try allCommits("data"), [open] + before)
        XCTAssertEqual(try array(["diff", "file", "data@master"]).compactMap { $0["path"] as? String }, ["/in-open.txt"])
        XCTAssertEqual(try paths(["list", "file", "data@master:/mixed"]), ["/mixed/local.txt", "/mixed/remote.csv"])
        XCTAssertTrue(try out(["fsck"]).contains("no problems found"))
    }

    // MARK: get file

    func testGetFileBothSpellings() throws {
        try local("tree/a.csv", "a\n")
        try local("tree/sub/b.csv", "bb\n")
        let c = h.work.appendingPathComponent("tree/sub/c.sh")
        try Data("#!/bin/sh\n".utf8).write(to: c)
        chmod(c.path, 0o755)
        var times = [timespec(tv_sec: 1_600_000_000, tv_nsec: 0), timespec(tv_sec: 1_600_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, h.work.appendingPathComponent("tree/sub/b.csv").path, &times, 0)
        try FileManager.default.createSymbolicLink(atPath: h.work.appendingPathComponent("tree/dirlink").path,
                                                   withDestinationPath: "sub")
        try FileManager.default.createDirectory(at: h.work.appendingPathComponent("tree/empty"), withIntermediateDirectories: true)
        try quiet(["put", "file", "data@master:/t", "-r", "-f", "tree"])

        // stdout, -o FILE (replacing an existing local file), 1.x the same
        XCTAssertEqual(try content("data@master:/t/sub/b.csv"), "bb\n")
        XCTAssertEqual(try out(["get-file", "data", "master", "t/a.csv"], binary: "pachctl"), "a\n")
        try local("out.csv", "old content that is longer\n")
        try quiet(["get", "file", "data@master:/t/sub/b.csv", "-o", "out.csv"])
        XCTAssertEqual(try readLocal("out.csv"), "bb\n")
        try quiet(["get-file", "data", "master", "/t/a.csv", "--output", "out2.csv"], binary: "pachctl")
        XCTAssertEqual(try readLocal("out2.csv"), "a\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: h.work.path).filter { $0.contains("partial") }, [])

        // -r -o DIR: the tree with modes, mtimes, symlinks and empty directories.
        try quiet(["get", "file", "data@master:/t", "-r", "-o", "copy"])
        let copy = h.work.appendingPathComponent("copy")
        XCTAssertEqual(try readLocal("copy/a.csv"), "a\n")
        XCTAssertEqual(try readLocal("copy/sub/b.csv"), "bb\n")
        let attrs = try FileManager.default.attributesOfItem(atPath: copy.appendingPathComponent("sub/c.sh").path)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o755)
        let bAttrs = try FileManager.default.attributesOfItem(atPath: copy.appendingPathComponent("sub/b.csv").path)
        XCTAssertEqual((bAttrs[.modificationDate] as? Date)?.timeIntervalSince1970, 1_600_000_000)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: copy.appendingPathComponent("dirlink").path), "sub")
        var isDir: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: copy.appendingPathComponent("empty").path, isDirectory: &isDir) && isDir.boolValue)
        // A file with -r lands in DIR under its own name; 1.x -r the same; a commit by ancestry.
        try quiet(["get", "file", "data@master:/t/sub/b.csv", "-r", "-o", "one"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: h.work.appendingPathComponent("one").path), ["b.csv"])
        try quiet(["put", "file", "data@master:/t/a.csv", "-f", "tree/sub/b.csv"])
        try quiet(["get-file", "data", "master^", "/t/sub", "-r", "-o", "legacy"], binary: "pachctl")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: h.work.appendingPathComponent("legacy").path).sorted(),
                       ["b.csv", "c.sh"])
        XCTAssertEqual(try content("data@master^:/t/a.csv"), "a\n")
        XCTAssertEqual(try content("data@master:/t/a.csv"), "bb\n")
        // A symlink's content is its target.
        XCTAssertEqual(try content("data@master:/t/dirlink"), "sub")

        // A reader that stops early: quiet success.
        try h.write("big.bin", Harness.randomData(8 << 20, seed: 3))
        try quiet(["put", "file", "data@master:/big.bin", "-f", "big.bin"])
        let r = try h.sh("set -o pipefail; pfs get file data@master:/big.bin | head -c 10 | wc -c")
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "10")
        XCTAssertEqual(r.stderr, "")

        // Errors
        try fails(["get", "file", "data@master:/t"], status: 4, mentions: ["/t is a directory", "-r"])
        try fails(["get", "file", "data@master:/t", "-r"], status: 2, mentions: ["-o DIR"])
        try fails(["get-file", "data", "master", "t", "-r"], status: 2, mentions: ["-o DIR"])
        try fails(["get", "file", "data@master:/t/a.csv", "-o", "no/such/dir/x"], status: 6, mentions: ["no/such/dir/x"])
        try fails(["get", "file", "data@master:/t/a.csv", "-o", "copy"], status: 6, mentions: ["copy", "is a directory"])
        try fails(["get", "file", "data@master:/t/none.csv"], status: 3, mentions: ["/t/none.csv"])
        try fails(["get-file", "data", "master", "/t/none.csv", "-o", "never.csv"], status: 3, mentions: ["/t/none.csv"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.work.appendingPathComponent("never.csv").path))
        try fails(["get", "file", "data@master:/t/a.csv/x"], status: 4, mentions: ["/t/a.csv"])
    }

    // MARK: list, glob, diff, inspect

    func testListGlobDiffInspectBothSpellings() throws {
        try local("t/a.csv", "a\n")
        try local("t/b.csv", "bb\n")
        try local("t/c.txt", "ccc\n")
        try local("t/sub/d.csv", "dddd\n")
        try quiet(["put", "file", "data@master", "-r", "-f", "t/."])
        let first = try commitID("data")
        try FileManager.default.createDirectory(at: h.work.appendingPathComponent("t2"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: h.work.appendingPathComponent("t2/link").path,
                                                   withDestinationPath: "a.csv")
        try quiet(["put", "file", "data@master:/b.csv", "-f", "t/a.csv"])
        try quiet(["delete", "file", "data@master:/c.txt"])
        try quiet(["put", "file", "data@master", "-r", "-f", "t2/."])
        try quiet(["put", "file", "data@master:/sub/e.csv", "-f", "t/c.txt"])

        // list file: root by default, a directory, a single file; 1.x
        XCTAssertEqual(try table(["list", "file", "data@master"], columns: ["NAME", "TYPE", "SIZE"]),
                       [["/a.csv", "file", "2B"], ["/b.csv", "file", "2B"], ["/link", "symlink", "-> a.csv"],
                        ["/sub/", "dir", "9B"]])
        XCTAssertEqual(try table(["list-file", "data", "master", "sub"], columns: ["NAME", "TYPE", "SIZE"], binary: "pachctl"),
                       [["/sub/d.csv", "file", "5B"], ["/sub/e.csv", "file", "4B"]])
        XCTAssertEqual(try paths(["list", "file", "data@master:/sub/d.csv"]), ["/sub/d.csv"])
        XCTAssertEqual(try paths(["list-file", "data", first]), ["/a.csv", "/b.csv", "/c.txt", "/sub"])
        let entry = try array(["list", "file", "data@master:/sub"]).first ?? [:]
        XCTAssertEqual(entry["type"] as? String, "file")
        XCTAssertEqual(entry["size_bytes"] as? Int, 5)

        // glob: *, ?, [..], **, no match
        let globs: [(String, [String])] = [("/*.csv", ["/a.csv", "/b.csv"]), ("/?.csv", ["/a.csv", "/b.csv"]),
                                           ("/[a]*", ["/a.csv"]), ("/sub/*", ["/sub/d.csv", "/sub/e.csv"]),
                                           ("/**/*.csv", ["/a.csv", "/b.csv", "/sub/d.csv", "/sub/e.csv"]),
                                           ("/*", ["/a.csv", "/b.csv", "/link", "/sub"]), ("/nothing*", [])]
        for (pattern, expected) in globs {
            XCTAssertEqual(try paths(["glob", "file", "data@master:\(pattern)"]), expected, pattern)
            XCTAssertEqual(try paths(["glob-file", "data", "master", pattern], binary: "pachctl"), expected, pattern)
        }
        XCTAssertEqual(try out(["glob", "file", "data@master:/nothing*"]), "NAME   TYPE   SIZE\n")
        XCTAssertEqual(try paths(["glob", "file", "data@\(first):/*.txt"]), ["/c.txt"])
        XCTAssertEqual(try paths(["glob-file", "data", "master~4", "*.txt"]), ["/c.txt"])  // no leading slash

        // diff: against the parent, an explicit old commit, under a path; 1.x forms
        XCTAssertEqual(try table(["diff", "file", "data@master"], columns: ["CHANGE", "PATH", "TYPE", "OLD SIZE", "NEW SIZE"]),
                       [["added", "/sub/e.csv", "file", "-", "4B"]])
        XCTAssertEqual(try table(["diff-file", "data", "master", "data", first], columns: ["CHANGE", "PATH", "TYPE", "OLD SIZE", "NEW SIZE"],
                                 binary: "pachctl"),
                       [["modified", "/b.csv", "file", "3B", "2B"], ["deleted", "/c.txt", "file", "4B", "-"],
                        ["added", "/link", "symlink", "-", "5B"], ["added", "/sub/e.csv", "file", "-", "4B"]]
                        .sorted { $0[1] < $1[1] })
        XCTAssertEqual(try array(["diff", "file", "data@master:/sub", "data@\(first)"]).compactMap { $0["path"] as? String },
                       ["/sub/e.csv"])
        XCTAssertEqual(try array(["diff", "file", "data@master:/sub", "data@\(first):/sub"]).count, 1)
        XCTAssertEqual(try array(["diff-file", "data", "master", "/sub", "data", first]).count, 1)
        XCTAssertEqual(try array(["diff-file", "data", "master", "/sub", "data", first, "/sub"]).count, 1)
        XCTAssertEqual(try array(["diff-file", "data", "master~2", "/"]).compactMap { $0["change"] as? String }, ["deleted"])
        XCTAssertEqual(try array(["diff", "file", "data@master", "data@master"]).count, 0)
        let firstDiff = try array(["diff", "file", "data@\(first)"])
        XCTAssertEqual(firstDiff.compactMap { $0["path"] as? String }, ["/a.csv", "/b.csv", "/c.txt", "/sub/d.csv"])
        XCTAssertEqual(Set(firstDiff.compactMap { $0["change"] as? String }), ["added"])
        try fails(["diff", "file", "data@master", "other@master"], status: 2, mentions: ["one repo"])
        try fails(["diff", "file", "data@master:/a", "data@master^:/b"], status: 2, mentions: ["same path"])
        try fails(["diff-file", "data", "master", "/", "other", "master"], status: 2, mentions: ["one repo"])
        try fails(["diff-file", "data"], status: 2, mentions: ["diff-file takes"])

        // inspect file: file, directory, symlink; 1.x
        let f = try object(["inspect", "file", "data@master:/sub/d.csv"])
        XCTAssertEqual(f["path"] as? String, "/sub/d.csv")
        XCTAssertEqual(f["type"] as? String, "file")
        XCTAssertEqual(f["size_bytes"] as? Int, 5)
        XCTAssertEqual(f["mode"] as? Int, 0o644)
        XCTAssertEqual((f["hash"] as? String)?.count, 64)
        XCTAssertEqual(f["chunks"] as? Int, 1)
        let text = try out(["inspect-file", "data", "master", "sub/d.csv"], binary: "pachctl")
        XCTAssertTrue(text.hasPrefix("Path: /sub/d.csv\nType: file\nSize: 5B (5 bytes)\nMode: -rw-r--r-- (0644)\nModified: "), text)
        XCTAssertTrue(text.contains("Hash: \(f["hash"] as? String ?? "?")\n"), text)
        XCTAssertTrue(text.hasSuffix("Chunks: 1\n"), text)
        XCTAssertEqual(try object(["inspect", "file", "data@master:/sub"])["type"] as? String, "dir")
        XCTAssertEqual(try object(["inspect", "file", "data@master:/sub"])["size_bytes"] as? Int, 9)
        XCTAssertTrue(try out(["inspect", "file", "data@master:/link"]).contains("Type: symlink\n"))
        XCTAssertTrue(try out(["inspect", "file", "data@master:/link"]).contains("Target: a.csv\n"))
        XCTAssertEqual(try object(["inspect-file", "data", first, "b.csv"])["size_bytes"] as? Int, 3)
        try fails(["inspect", "file", "data@master:/nope.csv"], status: 3, mentions: ["/nope.csv"])
        try fails(["inspect-file", "data", "master", "nope.csv"], status: 3, mentions: ["/nope.csv"])
        try fails(["list", "file", "data@master:/nodir"], status: 3, mentions: ["/nodir"])
        try fails(["list-file", "data", "master", "nodir"], status: 3, mentions: ["/nodir"])
        try fails(["glob", "file", "data@master"], status: 2, mentions: ["pattern"])
        try fails(["glob", "file", "nope@master:/*"], status: 3, mentions: ["repo \"nope\" not found"])
    }

    // MARK: delete file

    func testDeleteFileBothSpellings() throws {
        try local("t/a.csv", "a\n")
        try local("t/b.csv", "b\n")
        try local("t/dir/x.csv", "x\n")
        try local("t/dir/deeper/y.csv", "y\n")
        try local("t/other/z.csv", "z\n")
        try quiet(["put", "file", "data@master", "-r", "-f", "t/."])
        var count = 1

        try quiet(["delete", "file", "data@master:/a.csv"])
        count += 1
        XCTAssertEqual(try paths(["list", "file", "data@master"]), ["/b.csv", "/dir", "/other"])
        XCTAssertEqual(try content("data@master^:/a.csv"), "a\n")
        // A non-empty directory needs -r (NOT_EMPTY, status 4) and nothing is committed.
        try fails(["delete", "file", "data@master:/dir"], status: 4, mentions: ["/dir is not empty", "-r"])
        try fails(["delete", "file", "data@master:/b.csv", "data@master:/dir"], status: 4, mentions: ["not empty"])
        XCTAssertEqual(try allCommits("data").count, count)
        XCTAssertEqual(try content("data@master:/b.csv"), "b\n")
        try quiet(["delete", "file", "data@master:/dir", "-r"])
        count += 1
        XCTAssertEqual(try paths(["list", "file", "data@master"]), ["/b.csv", "/other"])
        // Several paths: one commit. An empty directory goes without -r.
        try quiet(["put", "file", "data@master:/empty/", "-r", "-f", "t/dir/deeper"])
        try quiet(["delete", "file", "data@master:/empty/deeper/y.csv"])
        try quiet(["delete", "file", "data@master:/empty/deeper"])
        XCTAssertEqual(try paths(["list", "file", "data@master:/empty"]), [])
        count += 3
        try quiet(["delete", "file", "data@master:/b.csv", "data@master:/empty", "--recursive"])
        count += 1
        XCTAssertEqual(try paths(["list", "file", "data@master"]), ["/other"])
        XCTAssertEqual(try allCommits("data").count, count)
        // 1.x delete-file removes directories with their contents.
        try quiet(["delete-file", "data", "master", "other"], binary: "pachctl")
        count += 1
        XCTAssertEqual(try paths(["list", "file", "data@master"]), [])
        XCTAssertEqual(try content("data@master~2:/other/z.csv"), "z\n")
        // Into an open commit: joins it.
        let open = try out(["start", "commit", "data@master"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try quiet(["put", "file", "data@master:/tmp/a"], stdin: Data("a".utf8))
        try quiet(["put", "file", "data@master:/tmp/b"], stdin: Data("b".utf8))
        try quiet(["delete", "file", "data@\(open):/tmp/a"])
        try quiet(["delete-file", "data", open, "tmp/b"])
        try quiet(["finish", "commit", "data@master"])
        count += 1
        XCTAssertEqual(try paths(["list", "file", "data@master:/tmp"]), [])

        // Errors: missing path, repo or branch; several branches at once; no path. Nothing committed.
        try fails(["delete", "file", "data@master:/nope.csv"], status: 3, mentions: ["/nope.csv"])
        try fails(["delete-file", "data", "master", "nope.csv"], status: 3, mentions: ["/nope.csv"], binary: "pachctl")
        try fails(["delete", "file", "data@master:/tmp", "data@master:/nope"], status: 3, mentions: ["/nope"])
        try fails(["delete", "file", "nope@master:/x"], status: 3, mentions: ["repo \"nope\" not found"])
        try fails(["delete", "file", "data@master:/tmp", "data@dev:/tmp"], status: 2, mentions: ["one repo@branch"])
        try fails(["delete", "file", "data@master"], status: 2, mentions: ["needs a path"])
        try fails(["delete", "file"], status: 2)
        XCTAssertEqual(try allCommits("data").count, count)
        XCTAssertEqual(try array(["list", "branch", "data"]).count, 1)
    }

    // MARK: copy file

    func testCopyFileBothSpellings() throws {
        try local("t/a.csv", "a\n")
        try local("t/dir/x.csv", "x\n")
        try local("t/dir/y.csv", "y\n")
        try quiet(["put", "file", "data@master", "-r", "-f", "t/."])
        try quiet(["create", "repo", "backup"])

        // 2.x replaces; -a appends; the destination path defaults to the source path; across repos; directories.
        try quiet(["copy", "file", "data@master:/a.csv", "data@master:/b.csv"])
        XCTAssertEqual(try content("data@master:/b.csv"), "a\n")
        try quiet(["copy", "file", "data@master:/dir/x.csv", "data@master:/b.csv"])
        XCTAssertEqual(try content("data@master:/b.csv"), "x\n")
        try quiet(["copy", "file", "data@master:/a.csv", "data@master:/b.csv", "-a"])
        try quiet(["copy", "file", "data@master:/a.csv", "data@master:/b.csv", "--append"])
        XCTAssertEqual(try content("data@master:/b.csv"), "x\na\na\n")
        try quiet(["copy", "file", "data@master:/dir", "backup@master"])
        XCTAssertEqual(try paths(["list", "file", "backup@master:/dir"]), ["/dir/x.csv", "/dir/y.csv"])
        try quiet(["copy", "file", "data@master^:/b.csv", "backup@master:/2024/b.csv"])
        XCTAssertEqual(try content("backup@master:/2024/b.csv"), "x\na\n")
        // By reference: no new data stored.
        let copied = try object(["copy", "file", "data@master:/dir", "backup@master:/dir-again"])
        XCTAssertEqual(copied["new_bytes"] as? Int, 0)
        XCTAssertEqual(try object(["inspect", "file", "backup@master:/dir-again/x.csv"])["hash"] as? String,
                       try object(["inspect", "file", "data@master:/dir/x.csv"])["hash"] as? String)

        // 1.x appends; -o replaces.
        try quiet(["copy-file", "data", "master", "a.csv", "backup", "master", "/log"], binary: "pachctl")
        try quiet(["copy-file", "data", "master", "/dir/y.csv", "backup", "master", "log"], binary: "pachctl")
        XCTAssertEqual(try content("backup@master:/log"), "a\ny\n")
        try quiet(["copy-file", "data", "master", "a.csv", "backup", "master", "log", "-o"])
        XCTAssertEqual(try content("backup@master:/log"), "a\n")
        try quiet(["copy-file", "data", "master", "dir", "backup", "master", "dir2", "--overwrite"])
        XCTAssertEqual(try paths(["list", "file", "backup@master:/dir2"]), ["/dir2/x.csv", "/dir2/y.csv"])
        // Into an open commit: joins it.
        let open = try out(["start", "commit", "backup@master"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let joined = try object(["copy", "file", "data@master:/a.csv", "backup@\(open):/open.csv"])
        XCTAssertEqual(joined["commit"] as? String, open)
        XCTAssertEqual(joined["finished"] as? Bool, false)
        try quiet(["finish", "commit", "backup@master"])
        XCTAssertEqual(try content("backup@master:/open.csv"), "a\n")

        // Errors
        let before = try allCommits("backup")
        try fails(["copy", "file", "data@master:/nope", "backup@master:/x"], status: 3, mentions: ["/nope"])
        try fails(["copy-file", "data", "master", "nope", "backup", "master", "x"], status: 3, mentions: ["/nope"], binary: "pachctl")
        try fails(["copy", "file", "nope@master:/a.csv", "backup@master:/x"], status: 3, mentions: ["repo \"nope\" not found"])
        try fails(["copy", "file", "data@master:/a.csv", "nope@master:/x"], status: 3, mentions: ["repo \"nope\" not found"])
        try fails(["copy", "file", "data@master", "backup@master:/x"], status: 2, mentions: ["source path"])
        try fails(["copy", "file", "data@master:/a.csv", "backup@master:/dir"], status: 4, mentions: ["/dir"])
        try fails(["copy-file", "data", "master", "a.csv", "backup", "master"], status: 2)
        XCTAssertEqual(try allCommits("backup"), before)
    }
}

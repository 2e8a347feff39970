import Foundation
import XCTest

// End-to-end tests of the `pfs` / `pachctl` command line against a real `pfsmount --no-mount` daemon:
// every verb of docs/cli.md in both spellings, its success path with exact content checks, and its errors
// (exit status and a message that names the problem). Split by noun:
//   CLITests.swift            shared helpers; the fruit-stand tutorial; pachctl = pfs; JSON/table output;
//                             version, fsck, gc, unmount; the daemon not running
//   CLIRepoBranchTests.swift  repos and branches
//   CLICommitTests.swift      commits and the ways a commit is named
//   CLIFileTests.swift        files: put (local, URL, -r, -i, stdin, append), get, list, glob, diff, inspect,
//                             delete, copy

/// The base of the CLI end-to-end test classes: a harness with a running daemon per test, and helpers.
class CLITestCase: XCTestCase {
    var h: Harness!
    /// Processes a test started besides the daemon (an HTTP server), stopped in tearDown.
    var helpers: [Process] = []

    override func setUpWithError() throws {
        h = try Harness()
        try h.start()
    }

    override func tearDown() {
        for p in helpers where p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        helpers.removeAll()
        h?.cleanup()
    }

    // MARK: running commands

    /// Runs a command that must fail with `status`; its stderr must contain every string of `mentions`.
    /// Returns the result for further checks.
    @discardableResult
    func fails(_ args: [String], status: Int32, mentions: [String] = [], binary: String = "pfs", stdin: Data? = nil,
               file: StaticString = #filePath, line: UInt = #line) throws -> Harness.Result {
        let r = try h.run(args, binary: binary, stdin: stdin)
        let cmd = "\(binary) \(args.joined(separator: " "))"
        XCTAssertEqual(r.status, status, "\(cmd): expected exit \(status), got \(r.status); stderr: \(r.stderr)",
                       file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix("pfs: "), "\(cmd): the error should start with 'pfs: ': \(r.stderr)",
                      file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("Stack dump"),
                       "\(cmd) crashed: \(r.stderr)", file: file, line: line)
        for m in mentions {
            XCTAssertTrue(r.stderr.contains(m), "\(cmd): the error should mention \"\(m)\": \(r.stderr)",
                          file: file, line: line)
        }
        return r
    }

    /// Runs a command that must succeed and returns its stdout.
    @discardableResult
    func out(_ args: [String], binary: String = "pfs", stdin: Data? = nil,
             file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try h.ok(args, binary: binary, stdin: stdin, file: file, line: line).stdout
    }

    /// Runs a command that creates or changes something: it must succeed and, in table mode, print nothing on
    /// stdout (as pachctl).
    func quiet(_ args: [String], binary: String = "pfs", stdin: Data? = nil,
               file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try h.ok(args, binary: binary, stdin: stdin, file: file, line: line)
        XCTAssertEqual(r.stdout, "", "\(binary) \(args.joined(separator: " ")) printed on stdout", file: file, line: line)
    }

    /// Runs a command with `--raw` and decodes its JSON (an object).
    func object(_ args: [String], binary: String = "pfs", file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let r = try h.ok(args + ["--raw"], binary: binary, file: file, line: line)
        guard let o = try JSONSerialization.jsonObject(with: r.out) as? [String: Any] else {
            XCTFail("\(args.joined(separator: " ")) --raw did not print a JSON object: \(r.stdout)", file: file, line: line)
            return [:]
        }
        return o
    }

    /// Runs a command with `--raw` and decodes its JSON (an array of objects).
    func array(_ args: [String], binary: String = "pfs", file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let r = try h.ok(args + ["--raw"], binary: binary, file: file, line: line)
        guard let a = try JSONSerialization.jsonObject(with: r.out) as? [[String: Any]] else {
            XCTFail("\(args.joined(separator: " ")) --raw did not print a JSON array: \(r.stdout)", file: file, line: line)
            return []
        }
        return a
    }

    /// A file's content in a commit, as `pfs get file` prints it.
    func content(_ target: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try out(["get", "file", target], file: file, line: line)
    }

    /// The id of the commit `ref` names.
    func commitID(_ repo: String, _ ref: String = "master", file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try object(["inspect", "commit", "\(repo)@\(ref)"], file: file, line: line)["id"] as? String ?? ""
    }

    /// The ids of `list commit` (newest first).
    func commitIDs(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        try array(args, file: file, line: line).compactMap { $0["id"] as? String }
    }

    /// The paths of a `list file` / `glob file` listing.
    func paths(_ args: [String], binary: String = "pfs", file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        try array(args, binary: binary, file: file, line: line).compactMap { $0["path"] as? String }
    }

    /// Every commit of a repo (all branches), for "nothing was committed" checks.
    func allCommits(_ repo: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        try commitIDs(["list", "commit", repo, "--all"], file: file, line: line)
    }

    // MARK: table output

    /// The columns of a table's header line (cells are separated by at least two spaces).
    func header(_ table: String) -> [String] {
        let first = table.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return first.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The rows of a table below its header, each split into cells.
    func rows(_ table: String) -> [[String]] {
        table.split(separator: "\n").dropFirst().map { line in
            line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// Checks a listing's header and returns its rows.
    @discardableResult
    func table(_ args: [String], columns: [String], binary: String = "pfs",
               file: StaticString = #filePath, line: UInt = #line) throws -> [[String]] {
        let text = try out(args, binary: binary, file: file, line: line)
        XCTAssertEqual(header(text), columns, "\(args.joined(separator: " ")): table header\n\(text)", file: file, line: line)
        return rows(text)
    }

    // MARK: local helpers

    /// A local file with `text`, relative to the work directory; returns its absolute path.
    @discardableResult
    func local(_ name: String, _ text: String) throws -> String { try h.write(name, text) }

    func readLocal(_ path: String) throws -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : h.work.appendingPathComponent(path)
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// Runs `python3 -c script args…` and returns the process once it printed its first line (returned too).
    func startPython(_ script: String, _ args: [String]) throws -> (Process, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        helpers.append(p)
        var line = Data()
        let reader = pipe.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let d = reader.availableData
            if d.isEmpty { break }
            line.append(d)
        }
        return (p, String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Serves `directory` over HTTP on 127.0.0.1 (python3's http.server on a free port); returns the base URL.
    func serveHTTP(_ directory: URL) throws -> String {
        let script = """
            import http.server, os, sys
            os.chdir(sys.argv[1])
            class Quiet(http.server.SimpleHTTPRequestHandler):
                def log_message(self, *args): pass
            srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
            print(srv.server_address[1], flush=True)
            srv.serve_forever()
            """
        let (_, port) = try startPython(script, [directory.path])
        guard let n = Int(port), n > 0 else { throw XCTSkip("python3 http.server did not start (\(port))") }
        return "http://127.0.0.1:\(n)"
    }

    /// A TCP port on 127.0.0.1 nobody listens on.
    func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                bind(fd, p, len) == 0 && getsockname(fd, p, &len) == 0
            }
        }
        XCTAssertTrue(bound)
        // Bound but never listening: connections are refused, and no one else gets the port meanwhile.
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// The tutorial flow, pachctl = pfs, output formats, maintenance verbs, and the daemon not running.
final class CLITests: CLITestCase {
    /// Pachyderm 1.x's fruit-stand tutorial, verbatim: 1.x put-file appends, so two puts of different sets give
    /// their concatenation; the 2.x `put file` then replaces.
    func testFruitStandTutorialVerbatim() throws {
        try local("set1.txt", "orange\t4\nbanana\t2\n")
        try local("set2.txt", "apple\t5\nkiwi\t3\n")
        let r = try h.sh("""
            pachctl create-repo data
            pachctl list-repo
            pachctl put-file data master sales -c -f set1.txt
            pachctl list-commit data
            pachctl get-file data master sales > after1.txt
            pachctl put-file data master sales -c -f set2.txt
            pachctl get-file data master sales
            """)
        XCTAssertEqual(r.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("orange") || $0.hasPrefix("apple") }.count, 2)
        XCTAssertTrue(r.stdout.hasSuffix("orange\t4\nbanana\t2\napple\t5\nkiwi\t3\n"), r.stdout)
        XCTAssertEqual(try readLocal("after1.txt"), "orange\t4\nbanana\t2\n")
        XCTAssertEqual(try commitIDs(["list", "commit", "data"]).count, 2)
        // The 1.x results at each commit stay readable.
        XCTAssertEqual(try out(["get-file", "data", "master^", "sales"], binary: "pachctl"), "orange\t4\nbanana\t2\n")

        // 2.x put file replaces.
        try quiet(["put", "file", "data@master:/sales", "-f", "set2.txt"])
        XCTAssertEqual(try content("data@master:/sales"), "apple\t5\nkiwi\t3\n")
        XCTAssertEqual(try content("data@master^:/sales"), "orange\t4\nbanana\t2\napple\t5\nkiwi\t3\n")
        XCTAssertEqual(try commitIDs(["list", "commit", "data"]).count, 3)
    }

    /// The same commands through `pachctl` and `pfs` give the same output, errors and exit statuses.
    func testPachctlBehavesExactlyLikePfs() throws {
        try local("a.txt", "alpha\n")
        try quiet(["create", "repo", "data", "-d", "the data"])
        try quiet(["put", "file", "data@master:/dir/a.txt", "-f", "a.txt"])
        try quiet(["put", "file", "data@master:/b.txt", "-f", "a.txt"])
        try quiet(["create", "branch", "data@dev", "--head", "master^"])
        let commands: [[String]] = [
            ["list", "repo", "--raw"], ["list-repo", "--raw"], ["inspect", "repo", "data", "--raw"],
            ["list", "branch", "data", "--raw"], ["list-branch", "data", "--raw"],
            ["inspect", "branch", "data@dev", "--raw"],
            ["list", "commit", "data", "--raw"], ["list-commit", "data", "master", "-n", "1", "--raw"],
            ["inspect", "commit", "data@master^", "--raw"], ["inspect-commit", "data", "master", "--raw"],
            ["list", "file", "data@master", "--raw"], ["list-file", "data", "master", "/dir", "--raw"],
            ["glob", "file", "data@master:/**", "--raw"], ["glob-file", "data", "master", "/*.txt", "--raw"],
            ["diff", "file", "data@master", "--raw"], ["diff-file", "data", "master", "--raw"],
            ["inspect", "file", "data@master:/b.txt", "--raw"], ["inspect-file", "data", "master", "b.txt", "--raw"],
            ["get", "file", "data@master:/dir/a.txt"], ["get-file", "data", "master^", "dir/a.txt"],
            ["wait", "commit", "data@master", "--raw"], ["flush-commit", "data/master", "--raw"],
            ["fsck", "--raw"], ["version", "--raw"],
            // errors
            ["inspect", "repo", "nope"], ["inspect-repo", "bad/name"], ["get", "file", "data@master:/nope"],
            ["get-file", "data", "deadbeef", "x"], ["list", "commit", "data@nope"], ["create", "repo", "data"],
            ["no-such-verb"], ["list"],
        ]
        for args in commands {
            let p = try h.run(args)
            let q = try h.run(args, binary: "pachctl")
            let cmd = args.joined(separator: " ")
            XCTAssertEqual(p.status, q.status, "\(cmd): exit status differs")
            if args != ["list"] && args != ["no-such-verb"] {
                XCTAssertEqual(p.stdout, q.stdout, "\(cmd): stdout differs")
                XCTAssertEqual(p.stderr, q.stderr, "\(cmd): stderr differs")
            } else {
                // Help and usage texts name the program as it was invoked; otherwise identical.
                XCTAssertEqual(p.stdout, q.stdout.replacingOccurrences(of: "pachctl", with: "pfs"), "\(cmd): stdout differs")
                XCTAssertEqual(p.stderr, q.stderr.replacingOccurrences(of: "pachctl", with: "pfs"), "\(cmd): stderr differs")
            }
        }
        // Writes through pachctl land in the same store.
        try quiet(["put", "file", "data@master:/c.txt", "-f", "a.txt"], binary: "pachctl")
        XCTAssertEqual(try content("data@master:/c.txt"), "alpha\n")
        XCTAssertEqual(try out(["get-file", "data", "master", "c.txt"], binary: "pachctl"), "alpha\n")
    }

    /// Every listing has the documented columns; `--raw`, `-o json` and `--output json` print JSON with
    /// snake_case keys; JSON mode of a creating command prints the created object.
    func testTableColumnsAndJSONOutput() throws {
        try local("a.csv", "1,2\n")
        try quiet(["create", "repo", "data", "-d", "sales"])
        try quiet(["put", "file", "data@master:/a.csv", "-f", "a.csv"])
        try quiet(["put", "file", "data@master:/raw/b.csv", "-f", "a.csv"])

        let repos = try table(["list", "repo"], columns: ["NAME", "CREATED", "SIZE (MASTER)", "DESCRIPTION"])
        XCTAssertEqual(repos.first?.first, "data")
        XCTAssertEqual(repos.first?.last, "sales")
        XCTAssertEqual(repos.first?[2], "8B")
        XCTAssertEqual(try table(["list", "branch", "data"], columns: ["BRANCH", "HEAD"]),
                       [["master", try commitID("data")]])
        let commits = try table(["list", "commit", "data"],
                                columns: ["REPO", "BRANCH", "COMMIT", "FINISHED", "SIZE", "ORIGIN", "PARENT", "DESCRIPTION"])
        XCTAssertEqual(commits.count, 2)
        XCTAssertEqual(commits.last?.last, "<none>")  // the first commit has no parent (and no description)
        XCTAssertEqual(commits.first?[5], "USER")
        XCTAssertEqual(try table(["list", "file", "data@master"], columns: ["NAME", "TYPE", "SIZE"]),
                       [["/a.csv", "file", "4B"], ["/raw/", "dir", "4B"]])
        XCTAssertEqual(try table(["glob", "file", "data@master:/raw/*.csv"], columns: ["NAME", "TYPE", "SIZE"]),
                       [["/raw/b.csv", "file", "4B"]])
        XCTAssertEqual(try table(["diff", "file", "data@master"], columns: ["CHANGE", "PATH", "TYPE", "OLD SIZE", "NEW SIZE"]),
                       [["added", "/raw/b.csv", "file", "-", "4B"]])
        XCTAssertEqual(try table(["version"], columns: ["COMPONENT", "VERSION"]).map(\.first), ["pfs", "pfsmount"])
        XCTAssertEqual(try table(["wait", "commit", "data@master"],
                                 columns: ["REPO", "BRANCH", "COMMIT", "FINISHED", "SIZE", "ORIGIN", "PARENT", "DESCRIPTION"]).count, 1)

        // The inspect commands print the documented fields.
        let fields: [([String], [String])] = [
            (["inspect", "repo", "data"], ["Name", "Description", "Created", "Size of HEAD on master", "Branches"]),
            (["inspect", "branch", "data@master"], ["Name", "Head Commit", "Created"]),
            (["inspect", "commit", "data@master"], ["Commit", "Original Branch", "Parent", "Children", "State", "Origin",
                                                    "Started", "Finished", "Size", "Root", "Commit Set", "Description"]),
            (["inspect", "file", "data@master:/a.csv"], ["Path", "Type", "Size", "Mode", "Modified", "Hash", "Commit", "Chunks"]),
        ]
        for (args, names) in fields {
            let text = try out(args)
            let got = text.split(separator: "\n").compactMap { $0.split(separator: ":", maxSplits: 1).first.map(String.init) }
            XCTAssertEqual(got, names, "\(args.joined(separator: " "))\n\(text)")
        }

        // JSON: the three spellings agree and parse; keys are snake_case.
        for flags in [["--raw"], ["-o", "json"], ["--output", "json"], ["--output=json"]] {
            let r = try h.ok(["list", "commit", "data"] + flags)
            let a = try JSONSerialization.jsonObject(with: r.out) as? [[String: Any]]
            XCTAssertEqual(a?.count, 2, flags.joined(separator: " "))
            XCTAssertNotNil(a?.first?["size_bytes"], r.stdout)
            XCTAssertNotNil(a?.first?["commit_set"], r.stdout)
        }
        XCTAssertEqual(try object(["inspect", "file", "data@master:/a.csv"])["size_bytes"] as? Int, 4)
        // Global flags before the command, as pachctl's.
        XCTAssertEqual((try JSONSerialization.jsonObject(with: h.ok(["--raw", "list", "repo"]).out) as? [Any])?.count, 1)
        XCTAssertEqual(try h.ok(["--data-dir", h.dataDir.path, "list", "repo", "--raw"]).status, 0)
        try fails(["list", "repo", "-o", "yaml"], status: 2, mentions: ["yaml"])

        // Creating commands print the created object in JSON mode.
        XCTAssertEqual(try object(["create", "repo", "other", "-d", "x"])["name"] as? String, "other")
        XCTAssertEqual(try object(["update", "repo", "other", "-d", "y"])["description"] as? String, "y")
        XCTAssertEqual(try object(["create", "branch", "data@dev", "--head", "master"])["head"] as? String, try commitID("data"))
        let put = try object(["put", "file", "data@dev:/c.csv", "-f", "a.csv"])
        XCTAssertEqual(put["files"] as? Int, 1)
        XCTAssertEqual(put["bytes"] as? Int, 4)
        XCTAssertEqual(put["finished"] as? Bool, true)
        XCTAssertEqual(put["commit"] as? String, try commitID("data", "dev"))
        let started = try object(["start", "commit", "data@dev"])
        XCTAssertEqual(started["state"] as? String, "open")
        let finished = try object(["finish", "commit", "data@dev", "-m", "done"])
        XCTAssertEqual(finished["state"] as? String, "finished")
        XCTAssertEqual(finished["description"] as? String, "done")
        XCTAssertEqual(finished["id"] as? String, started["id"] as? String)
    }

    func testVersionFsckGcBothSpellings() throws {
        try local("a.txt", "a\n")
        let v = try object(["version"])
        XCTAssertNotNil((v["client"] as? [String: Any])?["version"])
        XCTAssertEqual((v["daemon"] as? [String: Any])?["api_version"] as? Int, 1)
        XCTAssertTrue(try out(["version"], binary: "pachctl").contains("(API v1)"))

        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt", "-f", "a.txt"])
        try quiet(["put", "file", "data@master:/b.txt", "-f", "a.txt"])
        XCTAssertTrue(try out(["fsck"]).contains("no problems found"))
        XCTAssertTrue(try out(["fsck", "--fast"]).contains("structure only"))
        let report = try object(["fsck"])
        XCTAssertEqual(report["commits_checked"] as? Int, 2)
        XCTAssertEqual((report["problems"] as? [Any])?.count, 0)

        // Objects of a deleted repo are unreachable: gc removes them, and fsck is still clean afterwards.
        try quiet(["create-repo", "scratch"], binary: "pachctl")
        try local("big.txt", String(repeating: "scratch data\n", count: 1000))
        try quiet(["put", "file", "scratch@master:/big.txt", "-f", "big.txt"])
        try quiet(["delete", "repo", "scratch"])
        // Data only an open commit references survives gc.
        let open = try out(["start", "commit", "data@master"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try local("pending.txt", String(repeating: "pending\n", count: 500))
        try quiet(["put", "file", "data@master:/pending.txt", "-f", "pending.txt"])
        let gc = try object(["gc"])
        XCTAssertGreaterThan(gc["objects_removed"] as? Int ?? 0, 0, "\(gc)")
        XCTAssertGreaterThan(gc["bytes_removed"] as? Int ?? 0, 0, "\(gc)")
        XCTAssertTrue(try out(["garbage-collect"], binary: "pachctl").hasPrefix("removed 0 unreachable objects"))
        XCTAssertTrue(try out(["gc"]).hasPrefix("removed 0 unreachable objects"))
        XCTAssertEqual(try content("data@master:/b.txt"), "a\n")
        try quiet(["finish", "commit", "data@\(open)"])
        XCTAssertEqual(try content("data@master:/pending.txt"), String(repeating: "pending\n", count: 500))
        XCTAssertTrue(try out(["fsck"]).contains("no problems found"))
        XCTAssertEqual(try object(["fsck"])["commits_checked"] as? Int, 3)

        // Damage an object: fsck finds it, prints the problem table and exits 8.
        let objects = h.dataDir.appendingPathComponent("objects")
        let files = (FileManager.default.enumerator(at: objects, includingPropertiesForKeys: [.isRegularFileKey])?
            .compactMap { $0 as? URL }
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }) ?? []
        XCTAssertFalse(files.isEmpty)
        for f in files { try Data("garbage".utf8).write(to: f) }
        let bad = try h.run(["fsck"])
        XCTAssertEqual(bad.status, 8, bad.stdout + bad.stderr)
        XCTAssertTrue(bad.stdout.contains("problem"), bad.stdout)
        XCTAssertTrue(bad.stdout.contains("OBJECT") && bad.stdout.contains("PROBLEM") && bad.stdout.contains("REFERENCED BY"),
                      bad.stdout)
        XCTAssertEqual(try h.run(["fsck", "--raw"]).status, 8)
    }

    /// `pfs unmount` stops a `--no-mount` daemon too; afterwards commands say the daemon is not running.
    func testUnmountStopsANoMountDaemon() throws {
        try quiet(["create", "repo", "data"])
        let id = try out(["start", "commit", "data@master"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("kept\n".utf8))
        let pid = h.daemon!.processIdentifier
        let r = try h.ok(["unmount"], binary: "pachctl")
        XCTAssertTrue(r.stdout.contains("daemon \(pid) stopped"), r.stdout)
        let deadline = Date().addingTimeInterval(10)
        while h.daemonIsRunning && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(h.daemonIsRunning, "the daemon is still running after `pfs unmount`")
        XCTAssertEqual(h.daemon?.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.dataDir.appendingPathComponent("pfs.sock").path))
        try fails(["list", "repo"], status: 5, mentions: ["pfsmount --no-mount"])
        try fails(["unmount"], status: 5)

        // Nothing was lost: the open commit is still there (open or finished) with its file.
        try h.start()
        XCTAssertEqual(try content("data@\(id):/a.txt"), "kept\n")
    }

    /// Without a daemon every command fails with exit 5 and says how to start it; `version` still succeeds.
    func testDaemonNotRunning() throws {
        // kill -9 leaves the socket file behind: nobody listens on it.
        h.stop(signal: SIGKILL)
        try fails(["list", "repo"], status: 5, mentions: ["nothing is listening", "pfsmount --no-mount"])
        try? FileManager.default.removeItem(at: h.dataDir.appendingPathComponent("pfs.sock"))
        try local("a.txt", "a")
        let commands: [[String]] = [
            ["list", "repo"], ["list-repo"], ["create", "repo", "data"], ["create-repo", "data"],
            ["inspect", "repo", "data"], ["delete", "repo", "data"], ["update", "repo", "data", "-d", "x"],
            ["list", "branch", "data"], ["create", "branch", "data@dev"], ["set-branch", "data", "master", "dev"],
            ["start", "commit", "data@master"], ["finish", "commit", "data@master"], ["list", "commit", "data"],
            ["inspect", "commit", "data@master^"], ["delete", "commit", "data@master"], ["wait", "commit", "data@master"],
            ["flush-commit", "data/master"],
            ["put", "file", "data@master:/a.txt", "-f", "a.txt"], ["put-file", "data", "master", "a.txt", "-c", "-f", "a.txt"],
            ["get", "file", "data@master:/a.txt"], ["get-file", "data", "master", "a.txt"],
            ["list", "file", "data@master"], ["glob", "file", "data@master:/*"], ["diff", "file", "data@master"],
            ["inspect", "file", "data@master:/a.txt"], ["delete", "file", "data@master:/a.txt"],
            ["copy", "file", "data@master:/a.txt", "data@master:/b.txt"], ["fsck"], ["gc"], ["garbage-collect"], ["unmount"],
        ]
        for args in commands {
            let r = try fails(args, status: 5, mentions: ["cannot reach the pfs daemon", h.dataDir.path, "$PFS_DATA_DIR",
                                                          "pfsmount --no-mount"])
            XCTAssertEqual(r.stdout, "", args.joined(separator: " "))
        }
        try fails(["list", "repo"], status: 5, mentions: ["pfsmount --no-mount"], binary: "pachctl")
        let v = try out(["version"])
        XCTAssertTrue(v.contains("not reachable"), v)
        let json = try object(["version"])
        XCTAssertNil(json["daemon"] as? [String: Any])
        XCTAssertNotNil(json["daemon_error"] as? String)
        // --socket naming a regular file.
        let notSocket = try local("not-a-socket", "x")
        try fails(["list", "repo", "--socket", notSocket], status: 5, mentions: ["is not a socket", "--socket"])
    }
}

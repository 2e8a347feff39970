import Foundation
import XCTest

/// Pipelines end to end: a real `pfsmount` with its FUSE mount and bubblewrap workers, driven through the
/// `pfs` / `pachctl` command line and the mount. Covers the CLI of docs/cli.md ("Pipelines and jobs"), the
/// datum rules of docs/datums.md (glob views, cross, union, join, incrementality), the worker contract of
/// docs/pipeline-spec.md (environment, retries, err_cmd, accept_return_code, datum_timeout, the sandbox),
/// commit sets across chained pipelines, and Pachyderm 1.1's fruit-stand tutorial verbatim.
final class PipelineTests: CLITestCase {
    override func setUpWithError() throws {
        guard FileManager.default.isReadableFile(atPath: "/dev/fuse") else { throw XCTSkip("no /dev/fuse") }
        guard ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"].contains(where: FileManager.default.isExecutableFile)
        else { throw XCTSkip("no bubblewrap (scripts/install-deps.sh installs it)") }
        // Workers get a private /tmp, so only a data directory and a mount outside /tmp show that the sandbox
        // hides them.
        let varTmp = URL(fileURLWithPath: "/var/tmp")
        h = try Harness(under: access(varTmp.path, W_OK) == 0 ? varTmp : nil)
        try h.startMounted()
    }

    override func tearDown() {
        // A clean stop unmounts the datum views as well as the mount (cleanup would detach them otherwise).
        h?.stop()
        if let h {
            let views = h.dataDir.appendingPathComponent("run/views").path
            XCTAssertFalse(Harness.isMounted(views), "the daemon left its datum views mounted at \(views)")
            XCTAssertFalse(Harness.isMounted(h.mnt.path), "the daemon left its mount behind")
        }
        super.tearDown()
    }

    // MARK: helpers

    /// Waits until the commit set of `repo@ref` is finished (every pipeline job on it has run).
    func wait(_ target: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try h.ok(["wait", "commit", target, "--timeout", "120"], file: file, line: line)
    }

    func job(_ pipeline: String, _ id: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        try object(["inspect", "job", "\(pipeline)@\(id)"], file: file, line: line)
    }

    /// processed, skipped, failed, total.
    func counts(_ job: [String: Any]) -> [Int] {
        ["processed", "skipped", "failed", "datums_total"].map { job[$0] as? Int ?? -1 }
    }

    func datums(_ pipeline: String, _ id: String, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        try array(["list", "datum", "\(pipeline)@\(id)"], file: file, line: line)
    }

    /// The paths a datum shows, as `input:path`.
    func files(_ datum: [String: Any]) -> [String] {
        (datum["inputs"] as? [[String: Any]] ?? []).flatMap { i in
            (i["paths"] as? [String] ?? []).map { "\(i["name"] as? String ?? "?"):\($0)" }
        }
    }

    func glob(_ target: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        try paths(["glob", "file", target], file: file, line: line)
    }

    func occurrences(of needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    // MARK: the CLI

    /// create / list / inspect / update (with and without --reprocess) / stop / start / run / delete, in both
    /// spellings, with their errors.
    func testPipelineLifecycleInBothSpellings() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("a\n".utf8))
        let upper = """
            {"pipeline": {"name": "upper"}, "description": "upper-cases each file",
             "transform": {"cmd": ["sh", "-c", "tr a-z A-Z < $data > /pfs/out/$(basename $data)"]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """
        try local("upper.json", upper)
        try quiet(["create", "pipeline", "-f", "upper.json"])
        // The first job runs on the data already there and joins its commit set.
        let first = try commitID("data")
        try wait("data@\(first)")
        XCTAssertEqual(try content("upper@master:/a.txt"), "A\n")
        XCTAssertEqual(try commitID("upper"), first)
        XCTAssertEqual(counts(try job("upper", first)), [1, 0, 0, 1])

        let columns = ["NAME", "VERSION", "INPUT", "CREATED", "STATE / LAST JOB", "DESCRIPTION"]
        let rows = try table(["list", "pipeline"], columns: columns)
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows.first.map { [$0[0], $0[1], $0[2], $0[4], $0[5]] },
                       ["upper", "1", "data:/*", "running / success", "upper-cases each file"])
        XCTAssertEqual(try table(["list-pipeline"], columns: columns, binary: "pachctl").map { $0[0] }, ["upper"])
        let info = try object(["inspect", "pipeline", "upper"])
        XCTAssertEqual(info["name"] as? String, "upper")
        XCTAssertEqual(info["version"] as? Int, 1)
        XCTAssertEqual(info["state"] as? String, "running")
        let spec = info["spec"] as? [String: Any]
        // The input is shown as a spec writes it ({"pfs": {...}}).
        XCTAssertEqual(((spec?["input"] as? [String: Any])?["pfs"] as? [String: Any])?["glob"] as? String, "/*", "\(info)")
        XCTAssertEqual((info["last_job"] as? [String: Any])?["state"] as? String, "success")
        let text = try out(["inspect-pipeline", "upper"], binary: "pachctl")
        for s in ["Name: upper", "Version: 1", "State: running", "Input: data:/*", "Image: host", "Last Job: \(first) success"] {
            XCTAssertTrue(text.contains(s), "inspect-pipeline should show \(s):\n\(text)")
        }

        // Errors name the problem and the fix; a bad second file creates nothing.
        try fails(["create", "pipeline", "-f", "upper.json"], status: 4, mentions: ["already exists", "update pipeline"])
        try local("bad.json", #"{"pipeline": {"name": "bad"}, "transform": {"cmd": ["true"]}, "input": {"pfs": {"repo": "data", "glb": "/*"}}}"#)
        try local("count.yaml", """
            pipeline:
              name: count
            transform:
              cmd: [sh, -c, "wc -c < $data > /pfs/out/$(basename $data)"]
            input:
              pfs: {repo: data, glob: "/*"}
            """)
        try fails(["create", "pipeline", "-f", "count.yaml", "-f", "bad.json"], status: 2,
                  mentions: ["input.pfs.glb", "did you mean \"glob\"", "bad.json:1"])
        try fails(["inspect", "pipeline", "count"], status: 3, mentions: ["pipeline \"count\" not found"])
        try fails(["create-pipeline", "-f", "nope.json"], status: 6, mentions: ["nope.json"], binary: "pachctl")
        try fails(["create", "pipeline"], status: 2, mentions: ["-f"])
        try local("orphan.json", #"{"pipeline": {"name": "orphan"}, "transform": {"cmd": ["true"]}, "input": {"pfs": {"repo": "nothere", "glob": "/"}}}"#)
        try fails(["create", "pipeline", "-f", "orphan.json"], status: 3, mentions: ["nothere", "pfs create repo nothere"])
        try fails(["inspect", "pipeline", "nope"], status: 3, mentions: ["pipeline \"nope\" not found"])
        try fails(["inspect", "job", "not-hex"], status: 2, mentions: ["invalid job id"])
        try fails(["logs"], status: 2, mentions: ["--pipeline"])

        // A YAML spec from stdin.
        try quiet(["create", "pipeline", "-f", "-"], stdin: try Data(contentsOf: h.work.appendingPathComponent("count.yaml")))
        try wait("data@master")
        XCTAssertEqual(try content("count@master:/a.txt"), "2\n")

        // update: new and changed data gets the new code; what succeeded is kept…
        try local("upper.json", upper.replacingOccurrences(of: "tr a-z A-Z < $data", with: "tr a-z A-Z < $data | sed s/$/!/"))
        try quiet(["update", "pipeline", "-f", "upper.json"])
        XCTAssertEqual(try object(["inspect", "pipeline", "upper"])["version"] as? Int, 2)
        XCTAssertEqual(try array(["list", "job", "-p", "upper"]).count, 1, "an update alone runs nothing")
        try quiet(["put", "file", "data@master:/b.txt"], stdin: Data("b\n".utf8))
        let second = try commitID("data")
        try wait("data@\(second)")
        XCTAssertEqual(try content("upper@master:/a.txt"), "A\n")
        XCTAssertEqual(try content("upper@master:/b.txt"), "B!\n")
        XCTAssertEqual(counts(try job("upper", second)), [1, 1, 0, 2])
        XCTAssertEqual((try job("upper", second))["pipeline_version"] as? Int, 2)
        // …unless --reprocess, which runs everything again now.
        try quiet(["update-pipeline", "-f", "upper.json", "--reprocess"], binary: "pachctl")
        XCTAssertEqual(try object(["inspect", "pipeline", "upper"])["version"] as? Int, 3)
        try wait("upper@master")
        XCTAssertEqual(try content("upper@master:/a.txt"), "A!\n")
        XCTAssertEqual(counts(try job("upper", try commitID("upper"))), [2, 0, 0, 2])

        // stop: the commit set stays open until start.
        try quiet(["stop", "pipeline", "upper"])
        XCTAssertEqual(try object(["inspect", "pipeline", "upper"])["state"] as? String, "paused")
        try quiet(["put", "file", "data@master:/c.txt"], stdin: Data("c\n".utf8))
        try fails(["wait", "commit", "data@master", "--timeout", "1"], status: 7)
        XCTAssertEqual(try object(["inspect", "commit", "upper@master"])["state"] as? String, "open")
        try quiet(["start-pipeline", "upper"], binary: "pachctl")
        XCTAssertEqual(try object(["inspect", "pipeline", "upper"])["state"] as? String, "running")
        try wait("data@master")
        XCTAssertEqual(try content("upper@master:/c.txt"), "C!\n")

        // run: a job on the same inputs skips everything.
        let before = try array(["list", "job", "-p", "upper"]).count
        try quiet(["run", "pipeline", "upper"])
        try wait("upper@master")
        XCTAssertEqual(counts(try job("upper", try commitID("upper"))), [0, 3, 0, 3])
        try quiet(["run-pipeline", "upper"], binary: "pachctl")
        try wait("upper@master")
        let jobs = try array(["list", "job", "-p", "upper"])
        XCTAssertEqual(jobs.count, before + 2)
        XCTAssertEqual(Set(jobs.compactMap { $0["pipeline"] as? String }), ["upper"])
        XCTAssertEqual(jobs.first?["id"] as? String, try commitID("upper"), "newest first")
        let jobRows = try table(["list-job"], columns: ["ID", "PIPELINE", "STARTED", "DURATION", "STATE", "DATUMS"],
                                binary: "pachctl")
        XCTAssertEqual(jobRows.count, jobs.count + 3, "upper's jobs and count's three")
        XCTAssertTrue(jobRows.contains { $0[1] == "upper" && $0[4] == "success" && $0[5] == "0/3/0/3" }, "\(jobRows)")
        try fails(["list", "job", "-p", "nope"], status: 3, mentions: ["pipeline \"nope\" not found"])

        // delete: the output repo goes too, unless --keep-repo.
        try quiet(["delete", "pipeline", "count"])
        try fails(["inspect", "repo", "count"], status: 3)
        try quiet(["delete-pipeline", "upper", "--keep-repo"], binary: "pachctl")
        try fails(["inspect", "pipeline", "upper"], status: 3)
        XCTAssertEqual(try content("upper@master:/a.txt"), "A!\n")
        XCTAssertEqual(try array(["list", "pipeline"]).count, 0)

        // Every command has help with examples.
        for (binary, args) in [("pfs", ["create", "pipeline"]), ("pachctl", ["create-pipeline"]), ("pfs", ["update", "pipeline"]),
                               ("pfs", ["list", "pipeline"]), ("pfs", ["inspect", "job"]), ("pfs", ["wait", "job"]),
                               ("pfs", ["list", "datum"]), ("pfs", ["logs"]), ("pachctl", ["get-logs"]),
                               ("pfs", ["image", "alias"]), ("pachctl", ["list-job"]), ("pfs", ["run", "pipeline"])] {
            let help = try out(args + ["--help"], binary: binary)
            XCTAssertTrue(help.contains("Examples:"), "\(binary) \(args.joined(separator: " ")) --help:\n\(help)")
        }
    }

    // MARK: datums

    /// With glob `/*`, each datum's view holds exactly its own top-level entry (a listing of /pfs/data written
    /// to /pfs/out proves it), and the environment names the job, the datum, the pipeline and the input.
    func testGlobDatumsSeeExactlyTheirFilesAndTheirEnvironment() throws {
        try h.sh("mkdir $MNT/data")
        try local("view.json", """
            {"pipeline": {"name": "view"},
             "transform": {"cmd": ["sh"], "stdin": [
                "n=$(basename $data)",
                "(cd /pfs/data && find . | LC_ALL=C sort) > /pfs/out/$n.ls",
                "env | grep -E '^(PACH_JOB_ID|PACH_DATUM_ID|PACH_OUTPUT_COMMIT_ID|PPS_PIPELINE_NAME|data|data_COMMIT)=' | LC_ALL=C sort > /pfs/out/$n.env"
             ]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        try quiet(["create", "pipeline", "-f", "view.json"])
        // Data written through the mount; finishing the commit starts the job.
        try h.sh("""
            mkdir $MNT/data/master/dir
            echo a > $MNT/data/master/a.txt
            echo b > $MNT/data/master/b.txt
            echo c > $MNT/data/master/dir/c.txt
            echo d > $MNT/data/master/dir/d.txt
            sync $MNT/data/master
            """)
        let id = try commitID("data")
        try wait("data@\(id)")
        XCTAssertEqual(try glob("view@master:/*"), ["/a.txt.env", "/a.txt.ls", "/b.txt.env", "/b.txt.ls", "/dir.env", "/dir.ls"])
        XCTAssertEqual(try content("view@master:/a.txt.ls"), ".\n./a.txt\n")
        XCTAssertEqual(try content("view@master:/b.txt.ls"), ".\n./b.txt\n")
        XCTAssertEqual(try content("view@master:/dir.ls"), ".\n./dir\n./dir/c.txt\n./dir/d.txt\n")

        let ds = try datums("view", id)
        XCTAssertEqual(ds.count, 3)
        XCTAssertEqual(Set(ds.compactMap { $0["state"] as? String }), ["success"])
        for (name, path) in [("a.txt", "/a.txt"), ("dir", "/dir")] {
            let datum = try XCTUnwrap(ds.first { files($0) == ["data:\(path)"] }, "\(ds)")
            let env = try content("view@master:/\(name).env")
            XCTAssertEqual(env, """
                PACH_DATUM_ID=\(datum["id"] as? String ?? "?")
                PACH_JOB_ID=\(id)
                PACH_OUTPUT_COMMIT_ID=\(id)
                PPS_PIPELINE_NAME=view
                data=/pfs/data\(path)
                data_COMMIT=\(id)

                """)
        }
        let rows = try table(["list", "datum", "view@\(id)"], columns: ["ID", "FILES", "STATE", "ATTEMPTS", "TIME"])
        XCTAssertEqual(rows.map { $0[1] }.sorted(), ["data:/a.txt", "data:/b.txt", "data:/dir"])
        // A bare job id works when one pipeline has a job with it.
        XCTAssertEqual(try array(["list-datum", id], binary: "pachctl").count, 3)
    }

    /// Adding one file to 1,000 runs one datum and skips the rest; changing one reruns it and removes its old
    /// output; deleting one removes its output.
    func testIncrementalRunsProcessOnlyWhatChanged() throws {
        let dir = h.work.appendingPathComponent("thousand")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for i in 1...1000 {
            let n = String(format: "%04d", i)
            try Data("v\(n)".utf8).write(to: dir.appendingPathComponent("f\(n)"))
        }
        try quiet(["create", "repo", "many"])
        try quiet(["put", "file", "many@master:/", "-r", "-f", "thousand/."])
        // Each output is named after its input's content, so a stale output would show.
        try local("inc.json", """
            {"pipeline": {"name": "inc"},
             "transform": {"cmd": ["sh", "-c", "cp $many /pfs/out/$(basename $many)-$(cat $many)"]},
             "parallelism_spec": {"constant": 4},
             "input": {"pfs": {"repo": "many", "glob": "/*"}}}
            """)
        try quiet(["create", "pipeline", "-f", "inc.json"])
        try wait("many@master")
        XCTAssertEqual(counts(try job("inc", try commitID("many"))), [1000, 0, 0, 1000])
        XCTAssertEqual(try glob("inc@master:/*").count, 1000)

        try quiet(["put", "file", "many@master:/f1001"], stdin: Data("v1001".utf8))
        var id = try commitID("many")
        try wait("many@\(id)")
        XCTAssertEqual(counts(try job("inc", id)), [1, 1000, 0, 1001])
        XCTAssertEqual(try glob("inc@master:/*").count, 1001)
        let datum5 = try XCTUnwrap(try datums("inc", id).first { files($0) == ["many:/f0005"] })
        XCTAssertEqual(datum5["state"] as? String, "skipped")

        try quiet(["put", "file", "many@master:/f0005"], stdin: Data("changed".utf8))
        id = try commitID("many")
        try wait("many@\(id)")
        XCTAssertEqual(counts(try job("inc", id)), [1, 1000, 0, 1001])
        let rerun = try datums("inc", id).filter { $0["state"] as? String == "success" }
        XCTAssertEqual(rerun.map(files), [["many:/f0005"]])
        XCTAssertEqual(rerun.first?["id"] as? String, datum5["id"] as? String, "a datum keeps its id when its content changes")
        var outputs = try glob("inc@master:/*")
        XCTAssertEqual(outputs.count, 1001)
        XCTAssertTrue(outputs.contains("/f0005-changed"))
        XCTAssertFalse(outputs.contains("/f0005-v0005"), "the changed datum's old output is gone")

        try quiet(["delete", "file", "many@master:/f0007"])
        id = try commitID("many")
        try wait("many@\(id)")
        XCTAssertEqual(counts(try job("inc", id)), [0, 1000, 0, 1000])
        outputs = try glob("inc@master:/*")
        XCTAssertEqual(outputs.count, 1000)
        XCTAssertFalse(outputs.contains("/f0007-v0007"), "the deleted datum's output is gone")
        XCTAssertTrue(outputs.contains("/f0008-v0008"))
    }

    /// Incrementality at 10,000 files (fast enough for CI: 100 directory datums of 100 files): adding one file
    /// reruns only its datum; changing one reruns it and its old output is gone; deleting a file or a whole
    /// datum takes its outputs with it; everything else is skipped and carried over.
    func testIncrementalRunsOverTenThousandFiles() throws {
        let dir = h.work.appendingPathComponent("tenk")
        for d in 0..<100 {
            let sub = dir.appendingPathComponent(String(format: "d%02d", d))
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            for f in 0..<100 { try Data("v".utf8).write(to: sub.appendingPathComponent(String(format: "f%03d", f))) }
        }
        try quiet(["create", "repo", "tenk"])
        try quiet(["put", "file", "tenk@master:/", "-r", "-f", "tenk/."])
        // One process per datum (a copy of its directory), so the first job stays fast.
        try local("tenk.json", """
            {"pipeline": {"name": "tenkout"},
             "transform": {"cmd": ["cp", "-r", "/pfs/tenk/.", "/pfs/out/"]},
             "parallelism_spec": {"constant": 4},
             "input": {"pfs": {"repo": "tenk", "glob": "/*"}}}
            """)
        try quiet(["create", "pipeline", "-f", "tenk.json"])
        var id = try commitID("tenk")
        try wait("tenk@\(id)")
        XCTAssertEqual(counts(try job("tenkout", id)), [100, 0, 0, 100])
        XCTAssertEqual(try glob("tenkout@master:/*/*").count, 10_000)

        func step(_ change: [String], expect: [Int], outputs: Int, line: UInt = #line) throws -> Set<String> {
            try quiet(change, stdin: change[0] == "put" ? Data("changed".utf8) : nil, line: line)
            id = try commitID("tenk")
            try wait("tenk@\(id)", line: line)
            XCTAssertEqual(counts(try job("tenkout", id)), expect, "after \(change.joined(separator: " "))", line: line)
            let all = Set(try glob("tenkout@master:/*/*"))
            XCTAssertEqual(all.count, outputs, "after \(change.joined(separator: " "))", line: line)
            return all
        }
        var all = try step(["put", "file", "tenk@master:/d07/new"], expect: [1, 99, 0, 100], outputs: 10_001)
        XCTAssertTrue(all.contains("/d07/new"))
        let ran = try datums("tenkout", id).filter { $0["state"] as? String == "success" }
        XCTAssertEqual(ran.map(files), [["tenk:/d07"]], "only the datum with the new file ran")
        _ = try step(["put", "file", "tenk@master:/d42/f005"], expect: [1, 99, 0, 100], outputs: 10_001)
        XCTAssertEqual(try content("tenkout@master:/d42/f005"), "changed", "the changed file's old output is gone")
        XCTAssertEqual(try content("tenkout@master:/d42/f004"), "v")
        all = try step(["delete", "file", "tenk@master:/d42/f006"], expect: [1, 99, 0, 100], outputs: 10_000)
        XCTAssertFalse(all.contains("/d42/f006"), "the deleted file's output is gone")
        all = try step(["delete", "file", "-r", "tenk@master:/d99"], expect: [0, 99, 0, 99], outputs: 9_900)
        XCTAssertFalse(all.contains { $0.hasPrefix("/d99/") }, "the vanished datum's outputs are gone")
        XCTAssertTrue(all.contains("/d98/f099"))
    }

    /// cross, union and join (`joinOn: "$1"`, camelCase as Pachyderm's examples write it), from one spec
    /// file holding three pipelines.
    func testCrossUnionAndJoinInputs() throws {
        for repo in ["letters", "numbers", "readings", "params"] { try quiet(["create", "repo", repo]) }
        for (repo, names) in [("letters", ["a", "b"]), ("numbers", ["1", "2", "3"]),
                              ("readings", ["r1.txt", "r2.txt", "r3.txt"]), ("params", ["p1.txt", "p2.txt", "p4.txt"])] {
            for n in names { try local("\(repo)/\(n)", "\(n)\n") }
            try quiet(["put", "file", "\(repo)@master:/", "-r", "-f", "\(repo)/."])
        }
        try local("inputs.json", """
            {"pipeline": {"name": "crossed"},
             "transform": {"cmd": ["sh", "-c", "cat $letters $numbers > /pfs/out/$(basename $letters)$(basename $numbers)"]},
             "input": {"cross": [{"pfs": {"repo": "letters", "glob": "/*"}}, {"pfs": {"repo": "numbers", "glob": "/*"}}]}}
            {"pipeline": {"name": "unioned"},
             "transform": {"cmd": ["sh", "-c", "cp $in /pfs/out/"]},
             "input": {"union": [{"pfs": {"repo": "letters", "glob": "/*", "name": "in"}},
                                 {"pfs": {"repo": "numbers", "glob": "/*", "name": "in"}}]}}
            {"pipeline": {"name": "joined"},
             "transform": {"cmd": ["sh", "-c", "cat $readings $params > /pfs/out/key$PACH_DATUM_readings_JOIN_ON"]},
             "input": {"join": [{"pfs": {"repo": "readings", "glob": "/r(*).txt", "joinOn": "$1"}},
                                {"pfs": {"repo": "params", "glob": "/p(*).txt", "joinOn": "$1"}}]}}
            """)
        try quiet(["create", "pipeline", "-f", "inputs.json"])
        for p in ["crossed", "unioned", "joined"] { try wait("\(p)@master") }

        XCTAssertEqual(try glob("crossed@master:/*"), ["/a1", "/a2", "/a3", "/b1", "/b2", "/b3"])
        XCTAssertEqual(try content("crossed@master:/b2"), "b\n2\n")
        XCTAssertEqual(try glob("unioned@master:/*"), ["/1", "/2", "/3", "/a", "/b"])
        XCTAssertEqual(try glob("joined@master:/*"), ["/key1", "/key2"])
        XCTAssertEqual(try content("joined@master:/key2"), "r2.txt\np2.txt\n")

        let rows = try table(["list", "pipeline"], columns: ["NAME", "VERSION", "INPUT", "CREATED", "STATE / LAST JOB", "DESCRIPTION"])
        let inputs = Dictionary(uniqueKeysWithValues: rows.map { ($0[0], $0[2]) })
        XCTAssertEqual(inputs["crossed"], "(letters:/* ⨯ numbers:/*)")
        XCTAssertEqual(inputs["unioned"], "(letters:/* as in ∪ numbers:/* as in)")
        XCTAssertEqual(inputs["joined"], "(readings:/r(*).txt ⋈ params:/p(*).txt)")

        // One more number: two new cross datums, the six old ones skipped; the union gains one.
        try quiet(["put", "file", "numbers@master:/4"], stdin: Data("4\n".utf8))
        let id = try commitID("numbers")
        try wait("numbers@\(id)")
        XCTAssertEqual(counts(try job("crossed", id)), [2, 6, 0, 8])
        XCTAssertEqual(counts(try job("unioned", id)), [1, 5, 0, 6])
        XCTAssertEqual(try glob("crossed@master:/*").count, 8)
        // A param with a partner at last: the join gains key 3.
        try quiet(["put", "file", "params@master:/p3.txt"], stdin: Data("p3.txt\n".utf8))
        try wait("params@master")
        XCTAssertEqual(try glob("joined@master:/*"), ["/key1", "/key2", "/key3"])
    }

    /// The workshop order: a cross created while one input repo has no commit yet (no branch until the first
    /// put). The job of the other input's commit set runs on an empty cross (no datums) instead of waiting for a
    /// commit that does not exist, and the first commit of the empty input then runs its datums.
    func testCrossWithAnInputThatHasNoCommitYet() throws {
        try quiet(["create", "repo", "model"])
        try quiet(["create", "repo", "attributes"])
        try quiet(["put", "file", "model@master:/m"], stdin: Data("2\n".utf8))
        try local("predict.json", """
            {"pipeline": {"name": "predict"},
             "transform": {"cmd": ["sh", "-c", "cat $attributes /pfs/model/m > /pfs/out/$(basename $attributes)"]},
             "input": {"cross": [{"pfs": {"repo": "attributes", "glob": "/*"}}, {"pfs": {"repo": "model", "glob": "/"}}]}}
            """)
        try quiet(["create", "pipeline", "-f", "predict.json"])
        let first = try commitID("model")
        try wait("model@\(first)")
        XCTAssertEqual(counts(try job("predict", first)), [0, 0, 0, 0])
        XCTAssertEqual(try object(["inspect", "commit", "predict@\(first)"])["state"] as? String, "finished")
        try quiet(["put", "file", "attributes@master:/a"], stdin: Data("1\n".utf8))
        let second = try commitID("attributes")
        try wait("attributes@\(second)")
        XCTAssertEqual(counts(try job("predict", second)), [1, 0, 0, 1])
        XCTAssertEqual(try content("predict@master:/a"), "1\n2\n")
    }

    // MARK: the worker contract

    /// datum_tries with a failing command: the job fails, the datum is failed after every attempt, and the
    /// logs hold the command's stderr; err_cmd recovers; accept_return_code accepts; datum_timeout cuts a
    /// `sleep 30` short.
    func testFailuresRetriesRecoveryAcceptedCodesAndTimeouts() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("a\n".utf8))
        try local("failing.json", """
            {"pipeline": {"name": "fail"}, "datum_tries": 2,
             "transform": {"cmd": ["sh", "-c", "echo boom-$(basename $data) >&2; exit 3"]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "rec"}, "datum_tries": 1,
             "transform": {"cmd": ["false"], "err_cmd": ["sh", "-c", "echo recovering >&2"]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "acc"},
             "transform": {"cmd": ["sh", "-c", "echo ok > /pfs/out/x; exit 3"], "accept_return_code": [3]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "slow"}, "datum_tries": 1, "datum_timeout": "1s",
             "transform": {"cmd": ["sleep", "30"]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        let started = Date()
        try quiet(["create", "pipeline", "-f", "failing.json"])
        let id = try commitID("data")
        try wait("data@\(id)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "the 1 s datum_timeout should stop `sleep 30`")

        // Failing: every attempt made, the job failed, the output commit still finished.
        let failed = try job("fail", id)
        XCTAssertEqual(failed["state"] as? String, "failure")
        XCTAssertEqual(counts(failed), [0, 0, 1, 1])
        XCTAssertTrue((failed["reason"] as? String ?? "").contains("pfs logs --pipeline fail"), "\(failed)")
        let datum = try XCTUnwrap(try datums("fail", id).first)
        XCTAssertEqual(datum["state"] as? String, "failed")
        XCTAssertEqual(datum["attempts"] as? Int, 2)
        XCTAssertEqual(datum["reason"] as? String, "exit code 3")
        XCTAssertEqual(try object(["inspect", "commit", "fail@\(id)"])["state"] as? String, "finished")
        let logs = try out(["logs", "--pipeline", "fail"])
        XCTAssertEqual(occurrences(of: "boom-a.txt\n", in: logs), 2, logs)
        XCTAssertTrue(logs.contains("exit code 3"), logs)
        let datumID = try XCTUnwrap(datum["id"] as? String)
        XCTAssertTrue(try out(["logs", "-p", "fail", "--job", id, "--datum", String(datumID.prefix(12))]).contains("boom-a.txt"))
        XCTAssertTrue(try out(["get-logs", "--pipeline=fail", "--job=\(id)", "-f"], binary: "pachctl").contains("boom-a.txt"))
        try fails(["logs", "-p", "nope"], status: 3, mentions: ["pipeline \"nope\" not found"])
        try fails(["logs", "-p", "fail", "--job", "0123abcd"], status: 3, mentions: ["no job 0123abcd"])

        // err_cmd: recovered, and the job succeeds.
        let recovered = try job("rec", id)
        let recLogs = try out(["logs", "-p", "rec"])
        XCTAssertEqual(recovered["state"] as? String, "success", "\(recovered)\n\(recLogs)\n\(h.daemonLogText)")
        XCTAssertEqual(recovered["recovered"] as? Int, 1)
        XCTAssertEqual(try datums("rec", id).first?["state"] as? String, "recovered")
        XCTAssertTrue(recLogs.contains("recovering"))

        // accept_return_code: a success, with its output.
        XCTAssertEqual(counts(try job("acc", id)), [1, 0, 0, 1])
        XCTAssertEqual(try content("acc@master:/x"), "ok\n")

        // datum_timeout.
        let slow = try job("slow", id)
        XCTAssertEqual(slow["state"] as? String, "failure")
        XCTAssertTrue((try datums("slow", id).first?["reason"] as? String ?? "").contains("timed out"))
        XCTAssertTrue(try out(["logs", "-p", "slow"]).contains("timed out"))

        let rows = try table(["list", "job"], columns: ["ID", "PIPELINE", "STARTED", "DURATION", "STATE", "DATUMS"])
        let byPipeline = Dictionary(uniqueKeysWithValues: rows.map { ($0[1], [$0[4], $0[5]]) })
        XCTAssertEqual(byPipeline["fail"], ["failure", "0/0/1/1"])
        XCTAssertEqual(byPipeline["rec"], ["success", "0/0/0/1 (1 recovered)"])
        XCTAssertEqual(byPipeline["acc"], ["success", "1/0/0/1"])
        XCTAssertEqual(byPipeline["slow"], ["failure", "0/0/1/1"])
    }

    /// The command cannot write its input view, cannot see the data directory or the user's mount, and
    /// cannot write anywhere but /pfs/out and /tmp.
    /// job_timeout: the datum running when it is reached is stopped, datums not started fail without running,
    /// the job fails saying why, and its output commit still finishes (so `wait commit` returns).
    func testJobTimeoutStopsTheJob() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/", "-r", "-f", try {
            for n in ["a", "b", "c", "d"] { _ = try local("four/\(n)", n) }
            return "four/."
        }()])
        try local("capped.json", """
            {"pipeline": {"name": "capped"}, "job_timeout": "3s", "datum_tries": 1,
             "transform": {"cmd": ["sh", "-c", "sleep 2; cp $data /pfs/out/"]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        let t0 = Date()
        try quiet(["create", "pipeline", "-f", "capped.json"])
        let id = try commitID("data")
        try wait("data@\(id)")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 15, "the job was not cut short")
        let j = try job("capped", id)
        XCTAssertEqual(j["state"] as? String, "failure")
        XCTAssertTrue((j["reason"] as? String ?? "").contains("job_timeout (3.0 s) reached"), "\(j)")
        XCTAssertEqual(counts(j), [1, 0, 3, 4])
        let reasons = try datums("capped", id).compactMap { $0["reason"] as? String }.filter { !$0.isEmpty }.sorted()
        XCTAssertEqual(reasons, ["job_timeout (3.0 s) reached before the datum started",
                                 "job_timeout (3.0 s) reached before the datum started",
                                 "stopped: job_timeout (3.0 s) reached"], "\(reasons)")
        XCTAssertEqual(try glob("capped@master:/*").count, 1)
    }

    /// `parallelism_spec` bounds the commands running at once (docs/pipeline-spec.md): a datum's views are made
    /// and its outputs stored outside its worker slot, so more datums than that are in flight, but never more
    /// commands. Each command records when it ran; the intervals of one pipeline overlap at most `parallelism` deep.
    func testParallelismBoundsTheCommandsRunningAtOnce() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/", "-r", "-f", try {
            for n in 0..<8 { _ = try local("eight/f\(n)", "\(n)") }
            return "eight/."
        }()])
        for width in [1, 2] {
            try local("p\(width).json", """
                {"pipeline": {"name": "p\(width)"}, "parallelism_spec": {"constant": \(width)},
                 "transform": {"cmd": ["sh", "-c", "s=$(date +%s%N); sleep 0.3; echo $s $(date +%s%N) > /pfs/out/$(basename $data)"]},
                 "input": {"pfs": {"repo": "data", "glob": "/*"}}}
                """)
            try quiet(["create", "pipeline", "-f", "p\(width).json"])
        }
        let id = try commitID("data")
        try wait("data@\(id)")
        for width in [1, 2] {
            var edges: [(Int64, Int)] = []
            for n in 0..<8 {
                let f = try content("p\(width)@master:/f\(n)").split(separator: " ").compactMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                XCTAssertEqual(f.count, 2, "p\(width)@master:/f\(n)")
                guard f.count == 2 else { continue }
                edges += [(f[0], 1), (f[1], -1)]
            }
            var running = 0, deepest = 0
            for e in edges.sorted(by: { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }) {
                running += e.1
                deepest = max(deepest, running)
            }
            XCTAssertEqual(deepest, width, "parallelism \(width): \(deepest) commands ran at once")
        }
    }

    /// stop job, inspect datum and restart datum on one pipeline whose datums the test holds up: a running datum
    /// is restarted (its attempt killed, not counted) and a failed one re-run inside the running job; the job is
    /// stopped (datums killed, state killed, output commit finished with what had finished) while a later job waits
    /// and another is stopped before it starts; the next job skips what the killed job finished; a finished job's
    /// failed datum runs again in a new job. Every error: unknown job, unknown datum, finished job, succeeded datum.
    func testStopJobInspectAndRestartDatums() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/", "-r", "-f", try {
            for n in ["a.txt", "b.txt", "fail.txt", "slow.txt"] { _ = try local("four/\(n)", n) }
            return "four/."
        }()])
        let go = h.work.appendingPathComponent("go"), fixed = h.work.appendingPathComponent("fixed")
        defer { _ = FileManager.default.createFile(atPath: go.path, contents: nil) }
        // slow.txt waits for `go`; fail.txt fails until `fixed` exists.
        try local("ctl.json", """
            {"pipeline": {"name": "ctl"}, "datum_tries": 1, "parallelism_spec": {"constant": 4},
             "transform": {"cmd": ["sh", "-c", "case $(basename $data) in slow.txt) while [ ! -e \(go.path) ]; do sleep 0.05; done;; fail.txt) [ -e \(fixed.path) ] || exit 3;; esac; cp $data /pfs/out/"]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        try quiet(["create", "pipeline", "-f", "ctl.json"])
        let first = try commitID("data")
        func byFile(_ job: String) throws -> [String: [String: Any]] {
            var m: [String: [String: Any]] = [:]
            for d in try datums("ctl", job) { m[files(d).first ?? "?"] = d }
            return m
        }
        func until(_ what: String, _ check: () throws -> Bool) throws {
            let deadline = Date().addingTimeInterval(60)
            while try !check() {
                guard Date() < deadline else {
                    XCTFail("gave up waiting for \(what): \(try datums("ctl", first))\n\(try out(["logs", "-p", "ctl"]))")
                    throw CocoaError(.userCancelled)
                }
                usleep(50_000)
            }
        }
        try until("a, b done, fail failed, slow running") {
            let m = try byFile(first)
            return m["data:/a.txt"]?["state"] as? String == "success" && m["data:/b.txt"]?["state"] as? String == "success"
                && m["data:/fail.txt"]?["state"] as? String == "failed" && m["data:/slow.txt"]?["state"] as? String == "running"
        }
        var m = try byFile(first)
        let failID = try XCTUnwrap(m["data:/fail.txt"]?["id"] as? String), slowID = try XCTUnwrap(m["data:/slow.txt"]?["id"] as? String)
        let aID = try XCTUnwrap(m["data:/a.txt"]?["id"] as? String)

        // inspect datum: what list datum says, plus the input file, the log and the outputs.
        let failed = try object(["inspect", "datum", "ctl@\(first)", String(failID.prefix(10))])
        for key in ["id", "state", "attempts", "reason"] {
            XCTAssertEqual("\(failed[key] ?? "nil")", "\(m["data:/fail.txt"]?[key] ?? "nil")", "inspect and list datum differ on \(key)")
        }
        XCTAssertEqual(failed["state"] as? String, "failed")
        XCTAssertEqual(failed["reason"] as? String, "exit code 3")
        let file = try XCTUnwrap((failed["files"] as? [[String: Any]])?.first)
        XCTAssertEqual([file["input"], file["repo"], file["path"], file["commit"]].map { $0 as? String }, ["data", "data", "/fail.txt", first])
        XCTAssertEqual((file["hash"] as? String)?.count, 64, "\(file)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: failed["log_file"] as? String ?? "/nonexistent"), "\(failed)")
        XCTAssertEqual(failed["logs_command"] as? String, "pfs logs --pipeline ctl --job \(first) --datum \(failID)")
        let done = try object(["inspect-datum", "ctl@\(first)", aID], binary: "pachctl")
        XCTAssertEqual(done["state"] as? String, "success")
        XCTAssertEqual((done["current_outputs"] as? [[String: Any]])?.compactMap { $0["path"] as? String }, ["/a.txt"])
        XCTAssertNotNil(done["started"] as? String)
        let text = try out(["inspect", "datum", "ctl@\(first)", failID])
        for s in ["ID: \(failID)", "State: failed (exit code 3)", "Attempts: 1", "Input Files:", "/fail.txt", "Current Outputs:"] {
            XCTAssertTrue(text.contains(s), "inspect datum should show \(s):\n\(text)")
        }
        XCTAssertEqual(try object(["inspect", "datum", "ctl@\(first)", slowID])["state"] as? String, "running")
        try fails(["inspect", "datum", "ctl@\(first)", "0000abcd"], status: 3, mentions: ["has no datum 0000abcd", "pfs list datum ctl@"])
        try fails(["inspect", "datum", "ctl@0123abcd", failID], status: 3, mentions: ["no job 0123abcd"])
        try fails(["inspect", "datum", "ctl@\(first)", "not-hex"], status: 2, mentions: ["invalid datum id"])

        // restart datum: a succeeded one is refused; the running one is killed and starts again (not a try);
        // the failed one runs again inside this job (now that it can succeed).
        try fails(["restart", "datum", "ctl@\(first)", aID], status: 4, mentions: ["is success", "only running or failed datums"])
        try fails(["restart", "datum", "ctl@\(first)", "0000abcd"], status: 3, mentions: ["has no datum 0000abcd"])
        try fails(["restart", "datum", "ctl@\(first)", "/nope.txt"], status: 3, mentions: ["no datum has all of these input paths"])
        _ = FileManager.default.createFile(atPath: fixed.path, contents: nil)
        XCTAssertEqual(try out(["restart-datum", "ctl@\(first)", "/fail.txt"], binary: "pachctl"),
                       "datum \(failID) had failed: runs again before job \(first) ends\n")
        let restarted = try object(["restart", "datum", "ctl@\(first)", slowID])
        XCTAssertEqual((restarted["datums"] as? [[String: Any]])?.first?["outcome"] as? String, "restarted", "\(restarted)")
        try until("fail re-run and slow restarted") {
            try byFile(first)["data:/fail.txt"]?["state"] as? String == "success"
                && out(["logs", "-p", "ctl", "--job", first, "--datum", slowID]).contains("killed by `pfs restart datum`")
        }
        XCTAssertEqual(try byFile(first)["data:/slow.txt"]?["state"] as? String, "running")

        // Two more input commits: their jobs wait for this one. The last is stopped before it starts (1.x spelling).
        try quiet(["put", "file", "data@master:/c.txt"], stdin: Data("c".utf8))
        let second = try commitID("data")
        try quiet(["put", "file", "data@master:/d.txt"], stdin: Data("d".utf8))
        let third = try commitID("data")
        // Jobs whose turn has not come are listed, starting.
        XCTAssertEqual(try job("ctl", second)["state"] as? String, "starting")
        let listed = try array(["list", "job", "-p", "ctl"]).compactMap { $0["id"] as? String }
        XCTAssertEqual(listed, [third, second, first])
        let queued = try array(["stop-job", "ctl@\(third)"], binary: "pachctl")
        XCTAssertEqual(queued.first?["state"] as? String, "starting", "\(queued)")
        XCTAssertTrue((queued.first?["reason"] as? String ?? "").contains("when its turn comes"), "\(queued)")

        // stop job: the running datum is killed, the job ends killed, its output commit holds what had finished.
        let t0 = Date()
        let stopped = try array(["stop", "job", "ctl@\(first)"])
        XCTAssertLessThan(Date().timeIntervalSince(t0), 10)
        XCTAssertEqual(stopped.first?["state"] as? String, "killed", "\(stopped)")
        let killed = try job("ctl", first)
        XCTAssertEqual(killed["state"] as? String, "killed")
        XCTAssertTrue((killed["reason"] as? String ?? "").contains("stopped by a user"), "\(killed)")
        XCTAssertEqual(counts(killed), [3, 0, 1, 4])
        m = try byFile(first)
        XCTAssertEqual(m["data:/slow.txt"]?["state"] as? String, "failed")
        XCTAssertTrue((m["data:/slow.txt"]?["reason"] as? String ?? "").contains("killed: the job was stopped"), "\(m)")
        XCTAssertEqual(m["data:/slow.txt"]?["attempts"] as? Int, 1, "the restart did not count as a try")
        let out1 = try object(["inspect", "commit", "ctl@\(first)"])
        XCTAssertEqual(out1["state"] as? String, "finished")
        XCTAssertTrue((out1["description"] as? String ?? "").contains("job killed"), "\(out1)")
        XCTAssertEqual(try glob("ctl@\(first):/*"), ["/a.txt", "/b.txt", "/fail.txt"])
        try fails(["stop", "job", "ctl@\(first)"], status: 4, mentions: ["is killed", "already finished"])
        try fails(["stop", "job", "ctl@0123abcd"], status: 3, mentions: ["no job 0123abcd"])
        try fails(["stop", "job", "nope@\(first)"], status: 3, mentions: ["pipeline \"nope\" not found"])

        // The pipeline goes on: the next job skips what the killed job finished and runs the rest.
        _ = FileManager.default.createFile(atPath: go.path, contents: nil)
        try wait("data@\(third)")
        XCTAssertEqual(counts(try job("ctl", second)), [2, 3, 0, 5])
        XCTAssertEqual(try glob("ctl@\(second):/*"), ["/a.txt", "/b.txt", "/c.txt", "/fail.txt", "/slow.txt"])
        let never = try job("ctl", third)
        XCTAssertEqual(never["state"] as? String, "killed")
        XCTAssertTrue((never["reason"] as? String ?? "").contains("before it started"), "\(never)")
        XCTAssertEqual(try glob("ctl@\(third):/*").count, 5, "a job stopped before it started leaves the output as it was")
        try fails(["stop", "job", third], status: 4, mentions: ["already finished"])

        // A finished job's failed datum runs again in a new job (only it runs; the rest is skipped).
        try? FileManager.default.removeItem(at: fixed)
        try quiet(["put", "file", "data@master:/fail.txt"], stdin: Data("changed".utf8))
        let fourth = try commitID("data")
        try wait("data@\(fourth)")
        XCTAssertEqual(counts(try job("ctl", fourth)), [1, 4, 1, 6], "d.txt new, fail.txt changed and failing")
        try fails(["restart", "datum", "ctl@\(second)", failID], status: 4, mentions: ["is skipped", "only running or failed"])
        _ = FileManager.default.createFile(atPath: fixed.path, contents: nil)
        let again = try object(["restart", "datum", "ctl@\(fourth)", failID])
        XCTAssertEqual((again["datums"] as? [[String: Any]])?.first?["outcome"] as? String, "new_job", "\(again)")
        let fifth = try XCTUnwrap(again["new_job"] as? String)
        try wait("ctl@\(fifth)")
        XCTAssertEqual(counts(try job("ctl", fifth)), [1, 5, 0, 6])
        XCTAssertEqual(try content("ctl@master:/fail.txt"), "changed")
        try fails(["restart", "datum", "ctl@\(fourth)", failID], status: 4, mentions: ["newer job"])
    }

    func testWorkersAreSandboxed() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("a\n".utf8))
        let d = h.dataDir.path, m = h.mnt.path, w = h.work.path
        try local("probe.json", """
            {"pipeline": {"name": "probe"},
             "transform": {"cmd": ["sh"], "env": {"D": "\(d)", "M": "\(m)", "W": "\(w)"}, "stdin": [
                "exec > /pfs/out/report 2>&1",
                "for dir in $D $M; do if ls -A $dir 2>/dev/null | grep -q .; then echo SEES $dir; fi; done",
                "touch /pfs/data/x 2>/dev/null && echo WROTE /pfs/data/x",
                "for f in /etc/pfs-probe /usr/pfs-probe /var/tmp/pfs-probe-$PACH_JOB_ID /pfs-probe /pfs/pfs-probe /run/pfs-probe $W/pfs-probe $D/pfs-probe $M/pfs-probe /root/pfs-probe; do touch $f 2>/dev/null && echo WROTE $f; done",
                "touch /tmp/ok && echo tmp-ok",
                "touch /pfs/out/ok && echo out-ok"
             ]},
             "input": {"pfs": {"repo": "data", "glob": "/"}}}
            """)
        try quiet(["create", "pipeline", "-f", "probe.json"])
        let id = try commitID("data")
        try wait("data@\(id)")
        XCTAssertEqual(try content("probe@master:/report"), "tmp-ok\nout-ok\n")
        // Nothing reached the host.
        for f in ["/etc/pfs-probe", "/usr/pfs-probe", "/var/tmp/pfs-probe-\(id)", "/pfs-probe", "\(w)/pfs-probe",
                  "\(d)/pfs-probe", "/root/pfs-probe"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: f), "\(f) was written from the sandbox")
        }
        XCTAssertEqual(try glob("data@master:/*"), ["/a.txt"])
    }

    /// A pipeline's output branch is written by its jobs only: user writes through the CLI and through the mount
    /// are refused (exit 4 / EROFS) while the job's commit is open — they would join it — and after it finished.
    func testOutputBranchesRefuseUserWrites() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("a\n".utf8))
        let go = h.work.appendingPathComponent("go")
        defer { _ = FileManager.default.createFile(atPath: go.path, contents: nil) }
        // A datum of a file holding "block" waits for the test, so its job's output commit stays open while the
        // writes are tried.
        try local("held.json", """
            {"pipeline": {"name": "held"},
             "transform": {"cmd": ["sh", "-c", "if grep -q block $data; then while [ ! -e \(go.path) ]; do sleep 0.05; done; fi; cp $data /pfs/out/"]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        try quiet(["create", "pipeline", "-f", "held.json"])
        let first = try commitID("data")
        try wait("data@\(first)")
        try quiet(["put", "file", "data@master:/b.txt"], stdin: Data("block\n".utf8))
        let id = try commitID("data")
        XCTAssertEqual(try commitID("held"), id)
        let why = ["held@master is an output branch (computed from data@master)", "only the pipeline's jobs write to it",
                   "pfs delete pipeline held"]
        func refusedEverywhere(_ when: String, line: UInt = #line) throws {
            try fails(["put", "file", "held@master:/user.txt"], status: 4, mentions: why, stdin: Data("no".utf8), line: line)
            try fails(["put-file", "held", "master", "/user.txt", "-f", "user.txt"], status: 4, mentions: why, binary: "pachctl",
                      line: line)
            try fails(["put", "file", "held@\(id):/user.txt"], status: 4, mentions: ["output branch"], stdin: Data("no".utf8), line: line)
            try fails(["delete", "file", "held@master:/a.txt"], status: 4, mentions: why, line: line)
            try fails(["copy", "file", "data@master:/a.txt", "held@master:/c.txt"], status: 4, mentions: why, line: line)
            try fails(["start", "commit", "held@master"], status: 4, mentions: why, line: line)
            for script in ["echo no > $MNT/held/master/user.txt", "touch $MNT/held/master/user.txt", "mkdir $MNT/held/master/dir",
                           "rm $MNT/held/master/a.txt", "mv $MNT/held/master/a.txt $MNT/held/master/c.txt",
                           "echo no > $MNT/held/master/a.txt", "echo no >> $MNT/held/master/a.txt"] {
                let r = try h.sh(script, check: false)
                XCTAssertNotEqual(r.status, 0, "\(when): `\(script)` succeeded", line: line)
                XCTAssertTrue(r.stderr.contains("Read-only file system"), "\(when): `\(script)`: \(r.stderr)", line: line)
            }
            XCTAssertEqual(try h.sh("cat $MNT/held/master/a.txt").stdout, "a\n", "\(when): reading is unaffected", line: line)
        }
        try local("user.txt", "no")
        try refusedEverywhere("while the job runs")
        try fails(["finish", "commit", "held@master"], status: 4, mentions: ["output branch"])
        _ = FileManager.default.createFile(atPath: go.path, contents: nil)
        try wait("data@\(id)")
        // The job's commit holds what the jobs wrote and nothing else.
        XCTAssertEqual(try glob("held@master:/**"), ["/a.txt", "/b.txt"])
        XCTAssertEqual(try content("held@master:/b.txt"), "block\n")
        XCTAssertEqual(try h.sh("ls $MNT/held/master").stdout, "a.txt\nb.txt\n")
        try refusedEverywhere("after the job")
        XCTAssertEqual(try commitIDs(["list", "commit", "held@master"]), [id, first], "no commit was made on the output branch")
        // The inputs and the output repo's other branches are ordinary.
        try quiet(["put", "file", "held@scratch:/mine.txt"], stdin: Data("ok".utf8))
        try h.sh("echo c > $MNT/data/master/c.txt")
    }

    /// kill -9 of the daemon in the middle of a job: on restart the job resumes — the datums that had finished are
    /// kept (not run again), the unfinished one runs, the output commit finishes with every datum's output.
    func testJobResumesAfterKillWithoutRerunningFinishedDatums() throws {
        try quiet(["create", "repo", "data"])
        for n in ["a", "b", "c"] { try quiet(["put", "file", "data@master:/\(n).txt"], stdin: Data("\(n)\n".utf8)) }
        try quiet(["put", "file", "data@master:/block.txt"], stdin: Data("block\n".utf8))
        let go = h.work.appendingPathComponent("go")
        defer { _ = FileManager.default.createFile(atPath: go.path, contents: nil) }
        try local("resume.json", """
            {"pipeline": {"name": "resume"},
             "transform": {"cmd": ["sh", "-c", "if grep -q block $data; then while [ ! -e \(go.path) ]; do sleep 0.05; done; fi; cp $data /pfs/out/"]},
             "parallelism_spec": {"constant": 4},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        try quiet(["create", "pipeline", "-f", "resume.json"])
        let id = try commitID("data")
        // Wait until the three other datums are recorded, then crash.
        let deadline = Date().addingTimeInterval(60)
        while try datums("resume", id).filter({ $0["state"] as? String == "success" }).count < 3 {
            guard Date() < deadline else { return XCTFail("the three unblocked datums did not finish: \(try datums("resume", id))") }
            usleep(50_000)
        }
        h.stop(signal: SIGKILL)
        _ = FileManager.default.createFile(atPath: go.path, contents: nil)
        // The kernel ends the dead daemon's FUSE connections a moment after the process is gone; the restart
        // detaches mounts that answer ENOTCONN, so wait for them to say so (at most 10 s).
        for path in [h.mnt.path, h.dataDir.appendingPathComponent("run/views").path] {
            let until = Date().addingTimeInterval(10)
            var st = stat()
            while Harness.isMounted(path), lstat(path, &st) == 0, Date() < until { usleep(20_000) }
        }
        try h.startMounted()
        try wait("data@\(id)")
        XCTAssertEqual(counts(try job("resume", id)), [4, 0, 0, 4])
        XCTAssertEqual(try glob("resume@master:/*"), ["/a.txt", "/b.txt", "/block.txt", "/c.txt"])
        XCTAssertEqual(try content("resume@master:/block.txt"), "block\n")
        let logs = try out(["logs", "--pipeline", "resume", "--job", id])
        XCTAssertTrue(logs.contains("resuming: 3 datum(s) finished before the restart are kept"), logs)
        // Each finished datum ran once; the blocked one started twice (before the crash and after) and finished once.
        XCTAssertEqual(occurrences(of: "[pfs] success in", in: logs), 4, logs)
        XCTAssertEqual(occurrences(of: "[pfs] attempt 1 of", in: logs), 5, logs)
        XCTAssertEqual(try commitIDs(["list", "commit", "resume@master"]), [id], "the job ran once for its commit set")
    }

    // MARK: commit sets

    /// data → a → b → c: one put makes one commit set; `wait commit data@<id>` returns all four commits with
    /// that id, provenance records the exact input commits, and the job commands see the set by that id.
    func testChainedPipelinesShareOneCommitSet() throws {
        try quiet(["create", "repo", "data"])
        try local("chain.yaml", """
            pipeline: {name: a}
            transform: {cmd: [sh, -c, "sed s/^/a/ /pfs/data/x > /pfs/out/x"]}
            input: {pfs: {repo: data, glob: /}}
            ---
            pipeline: {name: b}
            transform: {cmd: [sh, -c, "sed s/^/b/ /pfs/a/x > /pfs/out/x"]}
            input: {pfs: {repo: a, glob: /}}
            ---
            pipeline: {name: c}
            transform: {cmd: [sh, -c, "sed s/^/c/ /pfs/b/x > /pfs/out/x"]}
            input: {pfs: {repo: b, glob: /}}
            """)
        try quiet(["create", "pipeline", "-f", "chain.yaml"])
        XCTAssertEqual(try array(["list", "job"]).count, 0, "no data, no jobs")
        try quiet(["put", "file", "data@master:/x"], stdin: Data("1\n".utf8))
        let id = try commitID("data")
        // wait job finds the set even before its jobs have started.
        let waited = try table(["wait", "job", id], columns: ["ID", "PIPELINE", "STARTED", "DURATION", "STATE", "DATUMS"])
        XCTAssertEqual(waited.map { $0[1] }.sorted(), ["a", "b", "c"])
        XCTAssertEqual(Set(waited.map { $0[0] }), [id])
        XCTAssertEqual(Set(waited.map { $0[4] }), ["success"])

        let set = try array(["wait", "commit", "data@\(id)"])
        XCTAssertEqual(set.compactMap { $0["repo"] as? String }.sorted(), ["a", "b", "c", "data"])
        XCTAssertEqual(Set(set.compactMap { $0["id"] as? String }), [id])
        XCTAssertEqual(try content("c@master:/x"), "cba1\n")
        let c = try object(["inspect", "commit", "c@\(id)"])
        let provenance = (c["provenance"] as? [[String: Any]] ?? []).map { "\($0["repo"] as? String ?? "")@\($0["id"] as? String ?? "")" }
        XCTAssertEqual(provenance, ["b@\(id)"])
        XCTAssertTrue(try out(["inspect", "commit", "c@\(id)"]).contains("Provenance: b@\(id)"))
        let flushed = try out(["flush-commit", "data/\(id)"], binary: "pachctl")
        XCTAssertEqual(occurrences(of: id, in: flushed), 4, flushed)

        // A bare id names every job of the set; pipeline@id one of them.
        let jobs = try h.ok(["inspect", "job", id, "--raw"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: jobs.out) as? [[String: Any]])?.count, 3)
        XCTAssertEqual(try object(["inspect-job", "c@\(String(id.prefix(10)))"], binary: "pachctl")["pipeline"] as? String, "c")
        let text = try out(["inspect", "job", "b@\(id)"])
        XCTAssertTrue(text.contains("Input Commits: a@\(id) (master)") && text.contains("Output Commit: b@\(id)"), text)
        try fails(["list", "datum", id], status: 2, mentions: ["a@\(id)"])

        // The next put: a new set; logs -f of its last job ends when that job does.
        try quiet(["put", "file", "data@master:/x"], stdin: Data("2\n".utf8))
        let next = try commitID("data")
        let followed = try out(["logs", "--pipeline", "c", "--job", next, "-f"])
        XCTAssertTrue(followed.contains("job \(next) of pipeline c"), followed)
        XCTAssertTrue(followed.contains("job success"), followed)
        XCTAssertEqual(try content("c@\(next):/x"), "cba2\n")
        XCTAssertEqual(try content("c@\(id):/x"), "cba1\n")
    }

    // MARK: Pachyderm's tutorials

    /// Pachyderm 1.1's fruit stand, verbatim: its pipeline.json (two specs, image "fruit_stand", 1.x `map` and
    /// `reduce` inputs), its data and its commands. The image is mapped to the host sandbox first, as the error
    /// says. The totals are the tutorial's (133 apples, then 324) and awk's over the input files.
    func testFruitStand11TutorialVerbatim() throws {
        try local("set1.txt", Self.set1)
        try local("set2.txt", Self.set2)
        try local("pipeline.json", Self.fruitStand11Pipeline)
        try h.sh("""
            pachctl create-repo data
            pachctl put-file data master sales -c -f set1.txt
            """)
        try fails(["create-pipeline", "-f", "pipeline.json"], status: 2,
                  mentions: ["image \"fruit_stand\"", "pfs image alias fruit_stand host"], binary: "pachctl")
        try quiet(["image", "alias", "fruit_stand", "host"])

        var r = try h.sh("""
            pachctl create-pipeline -f pipeline.json
            pachctl flush-commit data/master
            pachctl list-job
            """)
        let first = try commitID("data")
        // flush-commit printed the commit set: the data commit and the filter and sum outputs, one id.
        XCTAssertEqual(occurrences(of: first, in: r.stdout), 3 + 2, r.stdout)
        for fruit in ["apple", "banana", "orange"] {
            let expected = try h.sh("awk '$1 == \"\(fruit)\" {s += $2} END {print s}' set1.txt").stdout
            XCTAssertEqual(try out(["get-file", "sum", first, fruit], binary: "pachctl"), expected, fruit)
        }
        XCTAssertEqual(try out(["get-file", "sum", first, "apple"], binary: "pachctl"), "133\n")

        r = try h.sh("""
            pachctl put-file data master sales -c -f set2.txt
            pachctl flush-commit data/master
            """)
        let second = try commitID("data")
        XCTAssertEqual(occurrences(of: second, in: r.stdout), 3, r.stdout)
        // 1.x put-file appends, so the totals are cumulative.
        for fruit in ["apple", "banana", "orange"] {
            let expected = try h.sh("cat set1.txt set2.txt | awk '$1 == \"\(fruit)\" {s += $2} END {print s}'").stdout
            XCTAssertEqual(try out(["get-file", "sum", second, fruit], binary: "pachctl"), expected, fruit)
            let lines = try h.sh("cat set1.txt set2.txt | grep \(fruit)").stdout
            XCTAssertEqual(try out(["get-file", "filter", second, fruit], binary: "pachctl"), lines, fruit)
        }
        XCTAssertEqual(try out(["get-file", "sum", second, "apple"], binary: "pachctl"), "324\n")
        XCTAssertEqual(try out(["get-file", "sum", first, "apple"], binary: "pachctl"), "133\n", "old results stay")
        let jobs = try table(["list-job"], columns: ["ID", "PIPELINE", "STARTED", "DURATION", "STATE", "DATUMS"], binary: "pachctl")
        XCTAssertEqual(jobs.map { [$0[0], $0[1], $0[4]] }, [[second, "sum", "success"], [second, "filter", "success"],
                                                            [first, "sum", "success"], [first, "filter", "success"]])

        // The alias is kept in <data-dir>/images.json, across restarts, and cannot go while pipelines use it.
        XCTAssertTrue(FileManager.default.fileExists(atPath: h.dataDir.appendingPathComponent("images.json").path))
        try fails(["image", "unalias", "fruit_stand"], status: 4, mentions: ["\"filter\"", "\"sum\""])
        h.stop()
        try h.startMounted()
        let images = try array(["image", "list"])
        XCTAssertEqual(images.map { [$0["name"] as? String, $0["kind"] as? String, $0["target"] as? String] },
                       [["host", "builtin", nil], ["fruit_stand", "alias", "host"]])
        try quiet(["delete-pipeline", "--all"], binary: "pachctl")
        try quiet(["image", "unalias", "fruit_stand"])
        XCTAssertEqual(try table(["image", "list"], columns: ["NAME", "KIND", "RUNS AS", "CREATED"]).map { $0[0] }, ["host"])
        try fails(["image", "alias", "x", "nothing"], status: 2, mentions: ["does not exist"])
    }

    /// The same tutorial in the 2.x spelling with a 2.x spec (YAML, glob inputs): each sales file is a datum,
    /// so adding set2 runs one datum of filter and skips the other; outputs of datums writing the same path
    /// are concatenated.
    func testFruitStand2xSpelling() throws {
        try local("set1.txt", Self.set1)
        try local("set2.txt", Self.set2)
        try local("fruit.yaml", """
            pipeline:
              name: filter
            transform:
              image: host
              cmd: [sh]
              stdin:
                - "for fruit in apple banana orange; do grep $fruit $data > /pfs/out/$fruit || true; done"
            input:
              pfs: {repo: data, glob: "/*"}
            ---
            pipeline:
              name: sum
            transform:
              cmd: [sh]
              stdin:
                - "for fruit in apple banana orange; do cut -f 2 /pfs/filter/$fruit | awk '{s+=$1} END {print s}' > /pfs/out/$fruit; done"
            input:
              pfs: {repo: filter, glob: "/"}
            """)
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/set1.txt", "-f", "set1.txt"])
        try quiet(["create", "pipeline", "-f", "fruit.yaml"])
        try wait("data@master")
        XCTAssertEqual(try content("sum@master:/apple"), "133\n")
        try quiet(["put", "file", "data@master:/set2.txt", "-f", "set2.txt"])
        let id = try commitID("data")
        try wait("data@\(id)")
        XCTAssertEqual(counts(try job("filter", id)), [1, 1, 0, 2])
        for fruit in ["apple", "banana", "orange"] {
            let expected = try h.sh("cat set1.txt set2.txt | awk '$1 == \"\(fruit)\" {s += $2} END {print s}'").stdout
            XCTAssertEqual(try content("sum@master:/\(fruit)"), expected, fruit)
            let lines = try h.sh("cat set1.txt set2.txt | grep \(fruit) | sort").stdout
            let filtered = try content("filter@master:/\(fruit)")
            XCTAssertEqual(filtered.split(separator: "\n").sorted().joined(separator: "\n") + "\n", lines, fruit)
        }
        XCTAssertEqual(try content("sum@master:/apple"), "324\n")
        let rows = try table(["list", "job"], columns: ["ID", "PIPELINE", "STARTED", "DURATION", "STATE", "DATUMS"])
        XCTAssertEqual(rows.map { "\($0[1]) \($0[4]) \($0[5])" },
                       ["sum success 1/0/0/1", "filter success 1/1/0/2", "sum success 1/0/0/1", "filter success 1/0/0/1"])
    }

    // MARK: the tutorial's files

    /// examples/fruit_stand/pipeline.json of Pachyderm 1.1, as shipped.
    static let fruitStand11Pipeline = """
        {
          "pipeline": {
            "name": "filter"
          },
          "transform": {
            "image": "fruit_stand",
            "cmd": [ "sh" ],
            "stdin": [
                "grep apple  /pfs/data/sales >/pfs/out/apple",
                "grep banana /pfs/data/sales >/pfs/out/banana",
                "grep orange /pfs/data/sales >/pfs/out/orange"
            ]
          },
          "parallelism": "1",
          "inputs": [
            {
              "repo": {
                "name": "data"
              },
              "method": "map"
            }
          ]
        }
        {
          "pipeline": {
            "name": "sum"
          },
          "transform": {
            "image": "fruit_stand",
            "cmd": [ "sh" ],
            "stdin": [
                "cut -f 2 /pfs/filter/apple | awk '{s+=$1} END {print s}' >/pfs/out/apple",
                "cut -f 2 /pfs/filter/banana | awk '{s+=$1} END {print s}' >/pfs/out/banana",
                "cut -f 2 /pfs/filter/orange | awk '{s+=$1} END {print s}' >/pfs/out/orange"
            ]
          },
          "parallelism": "1",
          "inputs": [
            {
              "repo": {
                "name": "filter"
              },
              "method": "reduce"
            }
          ]
        }

        """

    /// The tutorial's set1.txt and set2.txt (`fruit<TAB>count` lines), written here as "fruit count" pairs.
    static let set1 = tabbed("""
        orange 4 banana 2 banana 9 orange 9 apple 6 orange 4 apple 9 apple 4 orange 2 orange 5 apple 5 orange 7 apple 4
        apple 2 apple 2 orange 6 banana 6 banana 6 banana 5 orange 5 banana 3 orange 5 orange 3 orange 8 orange 3 orange
        4 banana 2 orange 3 banana 2 orange 6 apple 5 orange 6 orange 3 banana 4 orange 1 banana 4 apple 6 orange 6
        orange 2 apple 8 banana 5 banana 1 apple 5 apple 4 banana 2 apple 9 orange 5 apple 3 banana 5 orange 2 orange 4
        apple 9 apple 4 banana 3 orange 6 apple 6 orange 6 apple 3 banana 2 banana 7 apple 1 banana 9 banana 2 apple 4
        orange 9 orange 6 banana 1 banana 8 apple 8 apple 8 orange 4 orange 7 orange 8 orange 8 banana 6 banana 2 orange
        2 banana 8 banana 9 orange 6 banana 3 orange 9 banana 8 orange 7 orange 7 apple 2 orange 3 banana 7 banana 7
        orange 6 banana 4 banana 5 banana 4 apple 3 apple 7 orange 3 orange 5 banana 5 banana 9 apple 6
        """)

    static let set2 = tabbed("""
        orange 4 apple 5 banana 5 apple 6 apple 1 orange 5 banana 1 orange 6 banana 5 orange 1 orange 2 apple 1 apple 2
        orange 4 banana 4 apple 3 banana 1 banana 9 orange 9 apple 5 orange 8 banana 7 apple 3 apple 6 apple 7 banana 8
        apple 5 orange 5 orange 8 banana 4 apple 4 apple 5 banana 3 banana 8 orange 7 apple 7 orange 6 banana 1 banana 1
        orange 2 orange 4 orange 8 orange 7 apple 5 orange 3 banana 9 apple 2 apple 9 apple 6 apple 4 orange 8 orange 2
        apple 5 banana 8 banana 2 orange 4 orange 7 banana 2 apple 8 orange 3 apple 8 apple 6 apple 1 orange 3 banana 1
        banana 4 orange 4 banana 8 apple 5 orange 9 orange 4 orange 2 orange 4 banana 8 orange 7 apple 7 orange 8 apple
        4 apple 7 apple 8 apple 3 banana 8 orange 1 orange 3 banana 7 orange 2 banana 4 orange 3 apple 8 apple 5 apple 9
        apple 7 orange 2 orange 8 banana 4 apple 9 banana 5 banana 9 apple 4 apple 1
        """)

    static func tabbed(_ pairs: String) -> String {
        let words = pairs.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return stride(from: 0, to: words.count - 1, by: 2).map { "\(words[$0])\t\(words[$0 + 1])\n" }.joined()
    }
}

import Foundation
import XCTest

/// Secrets and GPUs end to end: a real `pfsmount` with its mount and bubblewrap workers. Covers docs/secrets.md:
/// `pfs create/list/inspect/delete secret` from Kubernetes Secret files and literals, the store's permissions,
/// `transform.secrets` as read-only files and as environment variables, the values absent from every output,
/// log, spec read back, `inspect` and the control tree, a pipeline without the secret unable to see it; and a
/// GPU pipeline on a host without a GPU failing at once with the reason.
///
/// The daemon runs with `PFS_GPU_DEVICE_DIR` set to an empty directory, so the GPU test means "no GPU" on every
/// machine, including one that has a GPU. No test here runs anything on a GPU.
final class SecretTests: CLITestCase {
    override func setUpWithError() throws {
        guard FileManager.default.isReadableFile(atPath: "/dev/fuse") else { throw XCTSkip("no /dev/fuse") }
        guard ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"].contains(where: FileManager.default.isExecutableFile)
        else { throw XCTSkip("no bubblewrap (scripts/install-deps.sh installs it)") }
        let varTmp = URL(fileURLWithPath: "/var/tmp")
        h = try Harness(under: access(varTmp.path, W_OK) == 0 ? varTmp : nil)
        let noDevices = h.work.appendingPathComponent("no-gpu-devices")
        try FileManager.default.createDirectory(at: noDevices, withIntermediateDirectories: true)
        setenv("PFS_GPU_DEVICE_DIR", noDevices.path, 1)
        defer { unsetenv("PFS_GPU_DEVICE_DIR") }
        try h.startMounted()
    }

    override func tearDown() {
        h?.stop()
        if let h { XCTAssertFalse(Harness.isMounted(h.mnt.path), "the daemon left its mount behind") }
        super.tearDown()
    }

    func wait(_ target: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try h.ok(["wait", "commit", target, "--timeout", "120"], file: file, line: line)
    }

    /// The pipeline's jobs, newest first, once `count` of them have finished (at most 30 s).
    func finishedJobs(_ pipeline: String, count: Int, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(30)
        var jobs: [[String: Any]] = []
        while Date() < deadline {
            jobs = try array(["list", "job", "-p", pipeline], file: file, line: line)
            if jobs.count >= count, jobs.allSatisfy({ $0["finished"] != nil }) { return jobs }
            usleep(100_000)
        }
        XCTFail("\(pipeline): \(count) finished job(s) expected, got \(jobs)", file: file, line: line)
        return jobs
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// Every regular file under `dir`, with its text.
    func texts(under dir: URL) -> [(String, String)] {
        var out: [(String, String)] = []
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: dir.path) else { return out }
        while let rel = e.nextObject() as? String {
            let path = dir.appendingPathComponent(rel).path
            guard (try? fm.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular else { continue }
            out.append((path, (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""))
        }
        return out
    }

    func sha256(_ s: String) throws -> String {
        let r = try h.sh("printf '%s' '\(s)' | sha256sum | cut -d' ' -f1")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testSecretReadableInsideAsFileAndEnvAndNowhereElse() throws {
        let password = "pw-\(UUID().uuidString)"
        let token = "tok-\(UUID().uuidString)"
        let user = "user-\(UUID().uuidString.prefix(8))"
        // A Kubernetes Secret as Pachyderm users have them: base64 under data, plain text under stringData.
        try local("db.json", """
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-credentials"}, "type": "Opaque",
             "data": {"password": "\(Data(password.utf8).base64EncodedString())"},
             "stringData": {"user": "\(user)"}}
            """)
        try quiet(["create", "secret", "-f", "db.json"])
        try quiet(["create", "secret", "api", "--from-literal", "token=\(token)"])

        // The store: 0700 directory, 0600 files, under the data directory.
        let dir = h.dataDir.appendingPathComponent("secrets")
        XCTAssertEqual(try mode(dir.path), 0o700)
        let stored = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(stored, ["api.json", "db-credentials.json"])
        for f in stored { XCTAssertEqual(try mode(dir.appendingPathComponent(f).path), 0o600, f) }

        // Names and keys only.
        let list = try out(["list", "secret"])
        XCTAssertEqual(header(list), ["NAME", "KEYS", "CREATED", "UPDATED"])
        XCTAssertEqual(rows(list).map { $0[0] }, ["api", "db-credentials"])
        XCTAssertTrue(list.contains("password, user"), list)
        let inspected = try object(["inspect", "secret", "db-credentials"])
        XCTAssertEqual(inspected["keys"] as? [String], ["password", "user"])
        let listRaw = try h.ok(["list", "secret", "--raw"]).stdout
        let inspectText = try out(["inspect", "secret", "api"])
        for text in [list, listRaw, inspectText, "\(inspected)"] {
            for v in [password, token, user] { XCTAssertFalse(text.contains(v), "a secret value is shown: \(text)") }
        }

        // Errors: a second create without --overwrite, a pipeline naming a missing secret or key.
        try fails(["create", "secret", "api", "--from-literal", "token=x"], status: 4, mentions: ["already exists", "--overwrite"])
        try fails(["create", "secret", "x", "--from-literal", "novalue"], status: 2, mentions: ["KEY=VALUE"])
        try local("bad.json", #"{"kind": "Secret", "metadata": {"name": "bad"}, "data": {"k": "not base64 \#(password)"}}"#)
        let bad = try fails(["create", "secret", "-f", "bad.json"], status: 2, mentions: ["data.k", "base64", "stringData"])
        XCTAssertFalse(bad.stderr.contains(password), "an error shows a value: \(bad.stderr)")

        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("a\n".utf8))
        try local("missing.json", """
            {"pipeline": {"name": "missing"}, "transform": {"cmd": ["true"], "secrets": [{"name": "nope", "mount_path": "/secrets/nope"}]},
             "input": {"pfs": {"repo": "data", "glob": "/"}}}
            """)
        try fails(["create", "pipeline", "-f", "missing.json"], status: 4, mentions: ["secret \"nope\"", "does not exist", "pfs create secret nope"])
        try local("nokey.json", """
            {"pipeline": {"name": "nokey"}, "transform": {"cmd": ["true"], "secrets": [{"name": "api", "env_var": "T", "key": "tok"}]},
             "input": {"pfs": {"repo": "data", "glob": "/"}}}
            """)
        try fails(["create", "pipeline", "-f", "nokey.json"], status: 4, mentions: ["no key \"tok\"", "its keys: token"])
        XCTAssertEqual(try array(["list", "pipeline"]).count, 0)

        // One pipeline with the secrets (files under a path the host does not have, below read-only /var; one
        // key in an env var), one without.
        let d = h.dataDir.path
        try local("sec.json", """
            {"pipeline": {"name": "sec"},
             "transform": {"cmd": ["sh"], "stdin": [
                "sha() { printf '%s' \\"$1\\" | sha256sum | cut -d' ' -f1; }",
                "sha \\"$(cat /var/secrets/db/password)\\" > /pfs/out/password.sha",
                "sha \\"$(cat /var/secrets/db/user)\\" > /pfs/out/user.sha",
                "sha \\"$API_TOKEN\\" > /pfs/out/token.sha",
                "ls /var/secrets/db > /pfs/out/keys",
                "touch /var/secrets/db/x 2>/dev/null && echo WROTE >> /pfs/out/keys",
                "ls /var/log >/dev/null && echo host-var-ok > /pfs/out/var",
                "env | grep -c -- \\"$API_TOKEN\\" > /pfs/out/env-count",
                "echo processing a datum"
             ], "secrets": [{"name": "db-credentials", "mount_path": "/var/secrets/db"},
                            {"name": "api", "env_var": "API_TOKEN", "key": "token"}]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        try local("nosec.json", """
            {"pipeline": {"name": "nosec"},
             "transform": {"cmd": ["sh"], "env": {"D": "\(d)"}, "stdin": [
                "exec > /pfs/out/report 2>&1",
                "test -e /var/secrets && echo SEES-MOUNT",
                "test -n \\"$API_TOKEN\\" && echo SEES-ENV",
                "ls $D/secrets 2>/dev/null | grep -q . && echo SEES-STORE",
                "grep -rl \(password) /tmp /run $D 2>/dev/null && echo SEES-FILE",
                "echo done"
             ]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        try quiet(["create", "pipeline", "-f", "sec.json"])
        try quiet(["create", "pipeline", "-f", "nosec.json"])
        let id = try commitID("data")
        try wait("data@\(id)")

        let job = try object(["inspect", "job", "sec@\(id)"])
        let secLogs = try out(["logs", "-p", "sec"])
        XCTAssertEqual(job["state"] as? String, "success", "\(job)\n\(secLogs)")
        XCTAssertEqual(try content("sec@master:/password.sha"), try sha256(password) + "\n")
        XCTAssertEqual(try content("sec@master:/user.sha"), try sha256(user) + "\n")
        XCTAssertEqual(try content("sec@master:/token.sha"), try sha256(token) + "\n")
        XCTAssertEqual(try content("sec@master:/keys"), "password\nuser\n", "one file per key, read-only")
        XCTAssertEqual(try content("sec@master:/var"), "host-var-ok\n", "the rest of /var is still the host's")
        XCTAssertEqual(try content("sec@master:/env-count"), "1\n")
        XCTAssertEqual(try content("nosec@master:/report"), "done\n")

        // The values appear nowhere: outputs, logs, inspect, the stored spec read back, the control tree, the
        // daemon's log, and nothing is left in the daemon's run directory.
        var seen: [(String, String)] = []
        for f in ["password.sha", "user.sha", "token.sha", "keys", "var", "env-count"] { seen.append((f, try content("sec@master:/\(f)"))) }
        seen.append(("logs sec", try out(["logs", "-p", "sec"])))
        seen.append(("logs nosec", try out(["logs", "-p", "nosec"])))
        seen.append(("inspect pipeline", try out(["inspect", "pipeline", "sec"])))
        seen.append(("inspect pipeline --raw", try h.ok(["inspect", "pipeline", "sec", "--raw"]).stdout))
        seen.append(("inspect job --raw", try h.ok(["inspect", "job", "sec@\(id)", "--raw"]).stdout))
        seen.append(("list job", try out(["list", "job"])))
        seen.append(("list datum", try h.ok(["list", "datum", "sec@\(id)", "--raw"]).stdout))
        let control = h.mnt.appendingPathComponent(".pfs")
        seen += texts(under: control)
        for f in ["pipelines/sec.json", "pipelines/sec/state", "jobs/\(id)/info.json", "jobs/\(id)/logs"] {
            seen.append((f, try String(contentsOf: control.appendingPathComponent(f), encoding: .utf8)))
        }
        seen += texts(under: h.dataDir.appendingPathComponent("logs"))
        seen.append(("daemon log", h.daemonLogText))
        XCTAssertTrue(seen.contains { $0.1.contains("processing a datum") }, "the datum's log was read")
        XCTAssertTrue(seen.contains { $0.0.hasSuffix("sec.json") && $0.1.contains("db-credentials") }, "the control tree's spec was read")
        for (what, text) in seen {
            for v in [password, token, user] { XCTAssertFalse(text.contains(v), "a secret value is in \(what)") }
        }
        let run = h.dataDir.appendingPathComponent("run")
        XCTAssertEqual(texts(under: run.appendingPathComponent("secrets")).count, 0, "materialized secrets were left behind")
        XCTAssertEqual(texts(under: run.appendingPathComponent("scratch")).count, 0, "argument files were left behind")

        // Deleting a secret a pipeline uses is refused; after the pipeline goes, it works.
        try fails(["delete", "secret", "api"], status: 4, mentions: ["used by pipeline \"sec\""])
        try quiet(["delete", "pipeline", "sec"])
        try quiet(["delete", "secret", "api"])
        try fails(["inspect", "secret", "api"], status: 3, mentions: ["not found"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["db-credentials.json"])
    }

    func testGPUPipelineFailsAtOnceWithoutAGPU() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("a\n".utf8))
        try local("gpu.yaml", """
            pipeline:
              name: gpu
            transform:
              cmd: [sh, -c, "ls /dev/nvidia* > /pfs/out/devices"]
            resource_limits:
              gpu:
                type: nvidia.com/gpu
                number: 1
            datum_tries: 3
            input:
              pfs: {repo: data, glob: "/*"}
            """)
        // Creation succeeds: the spec is fine, the host lacks the hardware.
        try quiet(["create", "pipeline", "-f", "gpu.yaml"])
        let id = try commitID("data")
        let started = Date()
        try wait("data@\(id)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the job should fail at once")
        let job = try object(["inspect", "job", "gpu@\(id)"])
        XCTAssertEqual(job["state"] as? String, "failure")
        let reason = job["reason"] as? String ?? ""
        XCTAssertTrue(reason.contains("pipeline \"gpu\" asks for 1 nvidia.com/gpu, and this host has none (no "), reason)
        XCTAssertTrue(reason.contains("/nvidia0)"), reason)
        XCTAssertEqual(job["datums_total"] as? Int, 0, "no datum ran")
        XCTAssertEqual(try array(["list", "datum", "gpu@\(id)"]).count, 0)
        let logs = try out(["logs", "-p", "gpu"])
        XCTAssertTrue(logs.contains("asks for 1 nvidia.com/gpu, and this host has none"), logs)
        XCTAssertFalse(logs.contains("attempt"), "no datum ran, none was retried: \(logs)")
        XCTAssertTrue(try out(["list", "job"]).contains("asks for 1 nvidia.com/gpu"))
        XCTAssertTrue(try out(["inspect", "job", "gpu@\(id)"]).contains("this host has none"))
        let info = try String(contentsOf: h.mnt.appendingPathComponent(".pfs/jobs/\(id)").appendingPathComponent("info.json"), encoding: .utf8)
        XCTAssertTrue(info.contains("nvidia.com/gpu"), info)
        // The commit set finished; the output commit is empty.
        XCTAssertEqual(try paths(["list", "file", "gpu@master:/"]), [])

        // update --reprocess (and the older plain-number form, in resource_requests) fails the same way.
        try local("gpu2.json", """
            {"pipeline": {"name": "gpu"}, "transform": {"cmd": ["sh", "-c", "nvidia-smi -L > /pfs/out/devices"]},
             "resource_requests": {"gpu": 2}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        try quiet(["update", "pipeline", "-f", "gpu2.json", "--reprocess"])
        let jobs = try finishedJobs("gpu", count: 2)
        XCTAssertTrue((jobs.first?["reason"] as? String ?? "").contains("asks for 2 nvidia.com/gpu, and this host has none"), "\(jobs)")

        // Other GPU types: the job says which ones pfs can pass.
        try local("amd.json", """
            {"pipeline": {"name": "amd"}, "transform": {"cmd": ["true"]},
             "resource_limits": {"gpu": {"type": "amd.com/gpu", "number": 1}}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        try quiet(["create", "pipeline", "-f", "amd.json"])
        let amd = try finishedJobs("amd", count: 1).first ?? [:]
        XCTAssertTrue((amd["reason"] as? String ?? "").contains("only NVIDIA GPUs (type nvidia.com/gpu)"), "\(amd)")
    }
}

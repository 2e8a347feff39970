import Foundation
import XCTest

/// Imported images end to end (docs/containers.md): `pfs image import` of every format with its checks, and
/// pipelines whose datums run inside those images through a real `pfsmount` (FUSE views, crun), proving what
/// the runner promises: the image's root, read-only; inputs that cannot change; /pfs/out and /tmp the only
/// writable places; private namespaces; the image config honoured; memory limits enforced with a clear error.
/// `PodmanContainerTests` and `DockerContainerTests` run the same pipeline tests through the podman and docker runners.
class ContainerTests: CLITestCase {
    var images: URL!

    /// The daemon's extra arguments (the runner under test).
    var daemonArguments: [String] { ["--runner", "oci"] }
    /// The tool the runner needs.
    var engine: String { "crun" }
    /// PID 1 of a datum's container: the command itself, or the warm container's pause process.
    var pid1: String { "sh" }
    /// Whether the datums of a worker slot run in one warm container.
    var warm: Bool { false }

    override func setUpWithError() throws {
        guard FileManager.default.isReadableFile(atPath: "/dev/fuse") else { throw XCTSkip("no /dev/fuse") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap") else { throw XCTSkip("no bubblewrap") }
        guard ["/usr/bin/", "/usr/local/bin/"].contains(where: { FileManager.default.isExecutableFile(atPath: $0 + engine) }) else {
            throw XCTSkip("no \(engine) (scripts/install-deps.sh installs it)")
        }
        try prepareEngine()
        images = try ContainerImages.directory()
        let varTmp = URL(fileURLWithPath: "/var/tmp")
        h = try Harness(under: access(varTmp.path, W_OK) == 0 ? varTmp : nil)
        try h.startMounted(extra: daemonArguments)
    }

    /// Before the daemon starts: whatever the runner's engine needs.
    func prepareEngine() throws {}

    override func tearDown() {
        h?.stop()
        super.tearDown()
    }

    override class func tearDown() {
        ContainerImages.remove()
        super.tearDown()
    }

    func wait(_ target: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try h.ok(["wait", "commit", target, "--timeout", "120"], file: file, line: line)
    }

    func image(_ name: String) -> String { images.appendingPathComponent(name).path }

    /// Makes the test images available to the runner as `bb` (rootfs tarball), `bboci:1.0` (OCI layout),
    /// `bbdocker` (docker-save archive).
    func importImages() throws {
        try h.ok(["image", "import", "bb", image("rootfs.tar")])
        try h.ok(["image", "import", "bboci:1.0", image("oci")])
        try h.ok(["image", "import", "bbdocker", image("docker.tar")])
    }

    /// The first datum of pipeline `p` in job `id`.
    func datum(_ p: String, _ id: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        try XCTUnwrap(try array(["list", "datum", "\(p)@\(id)"], file: file, line: line).first, file: file, line: line)
    }

    // MARK: import

    /// Every import format; layers stored once (a layer shipped gzipped in one image and plain in another is
    /// unpacked once); list, inspect, alias, delete; and layers that would write outside the root refused.
    func testImportFormatsSharedLayersAndRefusals() throws {
        let rootfs = try object(["image", "import", "bb", image("rootfs.tar")])
        XCTAssertEqual(rootfs["name"] as? String, "bb:latest")
        XCTAssertEqual(rootfs["format"] as? String, "rootfs")
        let oci = try object(["image", "import", "bboci:1.0", image("oci")])
        XCTAssertEqual(oci["format"] as? String, "oci-layout")
        XCTAssertEqual((oci["layers"] as? [String])?.count, 2)
        let ociTar = try object(["image", "import", "bbocitar:1.0", image("oci.tar")])
        XCTAssertEqual(ociTar["format"] as? String, "oci-archive")
        XCTAssertEqual(ociTar["id"] as? String, oci["id"] as? String, "the same image from a directory and an archive")
        let docker = try object(["image", "import", "bbdocker", image("docker.tar")])
        XCTAssertEqual(docker["format"] as? String, "docker-archive")

        // The busybox layer: plain in rootfs.tar and docker.tar, gzipped in the OCI layout: one unpacked copy.
        let base = try XCTUnwrap((rootfs["diff_ids"] as? [String])?.first)
        XCTAssertEqual((docker["diff_ids"] as? [String])?.first, base)
        XCTAssertEqual((oci["diff_ids"] as? [String])?.first, base)
        let layers = h.dataDir.appendingPathComponent("images/layers").path
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layers).filter { !$0.hasPrefix(".") }.count, 2,
                       "busybox and the OCI image's second layer")
        // The whiteout in the OCI image's second layer removed a file of the first, only in that image.
        let ociRoot = h.dataDir.appendingPathComponent("images/rootfs/\(oci["id"] as? String ?? "")").path
        let bbRoot = h.dataDir.appendingPathComponent("images/rootfs/\(rootfs["id"] as? String ?? "")").path
        XCTAssertFalse(FileManager.default.fileExists(atPath: ociRoot + "/etc/removed-later"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: bbRoot + "/etc/removed-later"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: ociRoot + "/app/run.sh"))

        let config = try XCTUnwrap(try object(["image", "inspect", "bboci:1.0"])["config"] as? [String: Any])
        XCTAssertEqual(config["entrypoint"] as? [String], ["/app/run.sh"])
        XCTAssertEqual(config["working_dir"] as? String, "/app")
        let rows = try table(["image", "list"], columns: ["NAME", "KIND", "RUNS AS", "CREATED"])
        XCTAssertEqual(rows.map { [$0[0], $0[1]] }, [["host", "builtin"], ["bb:latest", "imported"], ["bbdocker:latest", "imported"],
                                                     ["bboci:1.0", "imported"], ["bbocitar:1.0", "imported"]])

        // Layers that try to leave the root.
        try fails(["image", "import", "evil1", image("evil-dotdot.tar")], status: 2,
                  mentions: ["refused", "\"../../escaped-dotdot\"", "`..`"])
        try fails(["image", "import", "evil2", image("evil-symlink.tar")], status: 2,
                  mentions: ["refused", "\"etc/escaped-symlink\" would be written through the symlink \"etc\""])
        try fails(["image", "import", "evil3", image("evil-relative.tar")], status: 2, mentions: ["refused", "points outside the root"])
        for escaped in ["/tmp/escaped-symlink", h.dataDir.appendingPathComponent("escaped-dotdot").path,
                        h.dataDir.appendingPathComponent("images/escaped-dotdot").path] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: escaped), "\(escaped) was written by an import")
        }
        XCTAssertFalse(try out(["image", "list"]).contains("evil"))
        try fails(["image", "import", "x", image("nope.tar")], status: 3, mentions: ["does not exist"])

        // A spec naming an image that is neither imported nor aliased: refused at creation, with the fix.
        try quiet(["create", "repo", "data"])
        try local("p.json", #"{"pipeline": {"name": "p"}, "transform": {"image": "ubuntu:22.04", "cmd": ["true"]}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}"#)
        try fails(["create", "pipeline", "-f", "p.json"], status: 2, mentions: ["ubuntu:22.04", "pfs image import ubuntu:22.04 PATH", "pfs image alias ubuntu:22.04 host"])
        // An alias of an imported image, then deleting: refused while a pipeline uses the image.
        try quiet(["image", "alias", "ubuntu:22.04", "bb"])
        try quiet(["create", "pipeline", "-f", "p.json"])
        try local("q.json", #"{"pipeline": {"name": "q"}, "transform": {"image": "bbocitar:1.0", "cmd": ["true"]}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}"#)
        try quiet(["create", "pipeline", "-f", "q.json"])
        try fails(["image", "delete", "bbocitar:1.0"], status: 4, mentions: ["used by pipeline \"q\""])
        try quiet(["delete", "pipeline", "q"])
        try quiet(["image", "delete", "bbocitar:1.0"])
        try quiet(["image", "delete", "bboci:1.0"])
        // The OCI image's own layer went with it; busybox stays (bb and bbdocker have it).
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layers).filter { !$0.hasPrefix(".") }, [String(base.dropFirst(7))])
        XCTAssertFalse(FileManager.default.fileExists(atPath: ociRoot))
        try fails(["image", "inspect", "bboci:1.0"], status: 3, mentions: ["no imported image"])
    }

    // MARK: pipelines in images (every runner)

    /// The datum runs in the image (its os-release, busybox), sees its input read-only at /pfs/<input>, can
    /// write only /pfs/out and /tmp, has private PID/UTS/network namespaces; the image's Entrypoint, Cmd, Env
    /// and WorkingDir apply when the spec leaves them out, the spec's win when it gives them.
    func testDatumsRunInsideTheImageIsolated() throws {
        try importImages()
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("hello\n".utf8))
        try local("p.json", #"""
            {"pipeline": {"name": "probe"}, "transform": {"image": "bb", "cmd": ["sh"], "stdin": [
              "exec > /pfs/out/report 2>/dev/null",
              "grep ^ID= /etc/os-release", "test -x /bin/busybox && echo busybox", "cat $data", "hostname",
              "echo net=$(ls /sys/class/net)", "echo pid1=$(cat /proc/1/cmdline | tr '\\000' ' ')",
              "for f in /x /etc/x /bin/x /pfs/x /pfs/data/x /pfs/data/a.txt; do (echo x > $f) 2>/dev/null && echo WROTE $f; done",
              "rm -f /pfs/data/a.txt 2>/dev/null; test -f /pfs/data/a.txt && echo input-kept",
              "touch /tmp/ok && echo tmp-ok", "echo cwd=$(pwd)", "echo uid=$(id -u)"]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "entry"}, "transform": {"image": "bboci:1.0"}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "override"}, "transform": {"image": "bboci:1.0", "cmd": ["/app/run.sh", "from-spec"],
              "env": {"GREETING": "from-spec"}, "working_dir": "/tmp"}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "dock"}, "transform": {"image": "bbdocker"}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """#)
        try quiet(["create", "pipeline", "-f", "p.json"])
        let id = try commitID("data")
        try wait("data@\(id)")
        for p in ["probe", "entry", "override", "dock"] {
            let logs = try out(["logs", "-p", p])
            XCTAssertEqual(try job(p, id)["state"] as? String, "success", "\(p): \(logs)")
        }
        XCTAssertEqual(try content("probe@master:/report"), """
            ID=pfs-busybox
            busybox
            hello
            pfs-worker
            net=lo
            pid1=\(pid1)
            input-kept
            tmp-ok
            cwd=/
            uid=0

            """)
        // The image's second layer removed /etc/removed-later (a whiteout).
        let entry = try content("entry@master:/entry").split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(entry.prefix(3)), ["greeting=hello-from-image", "pwd=/app", "args=from-image-cmd"])
        XCTAssertTrue(entry.contains("os-release") && !entry.contains("removed-later"), "\(entry)")
        let override = try content("override@master:/entry").split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(override.prefix(3)), ["greeting=from-spec", "pwd=/tmp", "args=from-spec"])
        XCTAssertEqual(try content("dock@master:/cmd"), "docker-cmd\n")
        // The input is unchanged.
        XCTAssertEqual(try content("data@master:/a.txt"), "hello\n")
        XCTAssertEqual(try paths(["glob", "file", "data@master:/*"]), ["/a.txt"])
    }

    /// Datums that follow one another in one worker slot (a warm container with podman) share nothing: each
    /// sees only its own input file, an empty /pfs/out, /tmp and /dev/shm, and nothing its predecessor left
    /// running; a secret is readable inside (file and env) and its value is in no output or log.
    func testDatumsOfOneSlotShareNothing() throws {
        try importImages()
        let token = "tok-\(UUID().uuidString)"
        try quiet(["create", "secret", "api", "--from-literal", "token=\(token)"])
        try quiet(["create", "repo", "data"])
        for n in 1...4 { try quiet(["put", "file", "data@master:/f\(n)"], stdin: Data("\(n)\n".utf8)) }
        try local("p.json", #"""
            {"pipeline": {"name": "slot"}, "parallelism_spec": {"constant": 1}, "transform": {"image": "bb", "cmd": ["sh"], "stdin": [
              "n=$(cat $data); r=/pfs/out/r$n; exec > $r 2>&1",
              "echo in=$(ls /pfs/data | tr '\\n' ' ') out=$(ls /pfs/out | grep -v r$n | tr '\\n' ' ') tmp=$(ls /tmp | tr '\\n' ' ') shm=$(ls /dev/shm | tr '\\n' ' ')",
              "ps -o args | grep -q '[s]leep 1234' && echo LEFTOVER",
              "test \"$(cat /run/secrets/api/token)\" = \"$TOKEN\" && echo secret-ok",
              "echo init=$(cut -d' ' -f22 /proc/1/stat) > /pfs/out/init$n",
              "touch /tmp/t$n /dev/shm/s$n; sleep 1234 </dev/null >/dev/null 2>&1 &"],
              "secrets": [{"name": "api", "mount_path": "/run/secrets/api"}, {"name": "api", "env_var": "TOKEN", "key": "token"}]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """#)
        try quiet(["create", "pipeline", "-f", "p.json"])
        let id = try commitID("data")
        try wait("data@\(id)")
        let logs = try out(["logs", "-p", "slot"])
        XCTAssertEqual(try job("slot", id)["state"] as? String, "success", logs)
        var inits: Set<String> = []
        for n in 1...4 {
            XCTAssertEqual(try content("slot@master:/r\(n)"), "in=f\(n) out= tmp= shm=\nsecret-ok\n", "datum \(n)")
            inits.insert(try content("slot@master:/init\(n)"))
        }
        if warm { XCTAssertEqual(inits.count, 1, "the datums of one slot should share one warm container: \(inits)") }
        for text in [logs, try h.ok(["inspect", "job", "slot@\(id)", "--raw"]).stdout, try h.ok(["list", "datum", "slot@\(id)", "--raw"]).stdout,
                     try h.ok(["inspect", "pipeline", "slot", "--raw"]).stdout] {
            XCTAssertFalse(text.contains(token), "the secret's value is shown")
        }
        if warm {
            // The job's warm containers go when it ends.
            let deadline = Date().addingTimeInterval(30)
            var left = ""
            repeat {
                left = try h.sh("podman ps -aq --filter label=pfs.warm=\(h.dataDir.path)/run/warm").stdout
                if left.isEmpty { break }
                usleep(200_000)
            } while Date() < deadline
            XCTAssertEqual(left, "", "warm containers left after the job")
        }
    }

    func job(_ pipeline: String, _ id: String) throws -> [String: Any] { try object(["inspect", "job", "\(pipeline)@\(id)"]) }

    /// A datum over its memory limit is killed, and its job says so; one under its limits succeeds; a datum
    /// over its timeout is killed.
    func testMemoryLimitAndTimeout() throws {
        try importImages()
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("hello\n".utf8))
        try local("p.json", #"""
            {"pipeline": {"name": "hog"}, "datum_tries": 1, "resource_limits": {"memory": "32Mi", "cpu": 0.5},
             "transform": {"image": "bb", "cmd": ["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\000' a); echo ${#x} > /pfs/out/len"]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "small"}, "resource_limits": {"memory": "64Mi", "cpu": 1},
             "transform": {"image": "bb", "cmd": ["sh", "-c", "x=$(head -c 1000000 /dev/zero | tr '\\000' a); echo ${#x} > /pfs/out/len"]},
             "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "slow"}, "datum_tries": 1, "datum_timeout": "1s",
             "transform": {"image": "bb", "cmd": ["sleep", "30"]}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """#)
        let created = try h.ok(["create", "pipeline", "-f", "p.json"])
        XCTAssertFalse(created.stderr.contains("cannot be enforced"), created.stderr)
        let id = try commitID("data")
        let started = Date()
        try wait("data@\(id)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 25, "the 1 s datum_timeout should stop `sleep 30`")
        XCTAssertEqual(try job("hog", id)["state"] as? String, "failure")
        let reason = try datum("hog", id)["reason"] as? String ?? ""
        XCTAssertTrue(reason.contains("out of memory") && reason.contains("resource_limits.memory"), reason)
        XCTAssertTrue(try out(["logs", "-p", "hog"]).contains("out of memory"))
        XCTAssertEqual(try content("small@master:/len"), "1000000\n")
        XCTAssertTrue((try datum("slow", id)["reason"] as? String ?? "").contains("timed out"))
        // The host sandbox does not enforce limits, and says so when the pipeline is created.
        try local("host.json", #"{"pipeline": {"name": "hostlim"}, "resource_limits": {"memory": "1Gi"}, "transform": {"cmd": ["true"]}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}"#)
        let warned = try h.ok(["create", "pipeline", "-f", "host.json"])
        XCTAssertTrue(warned.stderr.contains("warning: resource_limits.memory is not enforced by this runner"), warned.stderr)
    }
}

/// The same pipelines through `pfsmount --runner podman`, the images taken from podman's store.
final class PodmanContainerTests: ContainerTests {
    override var daemonArguments: [String] { ["--runner", "podman"] }
    override var engine: String { "podman" }
    /// Datums run in a warm container, whose PID 1 is podman's catatonit in pause mode.
    override var pid1: String { "/.pfs-pause -P" }
    override var warm: Bool { true }
    static let names = ["localhost/bb:latest", "localhost/bboci:1.0", "localhost/bbdocker:latest"]

    override func importImages() throws {
        let podman = "/usr/bin/podman"
        try h.sh("\(podman) import -q \(image("rootfs.tar")) localhost/bb:latest >/dev/null")
        try h.sh("\(podman) tag $(\(podman) pull -q oci:\(image("oci")):1.0) localhost/bboci:1.0")
        try h.sh("\(podman) load -q -i \(image("docker.tar")) >/dev/null")
        let dir = image("oci")
        addTeardownBlock { [h] in
            _ = try? h?.sh("\(podman) rmi -f \(Self.names.joined(separator: " ")) localhost\(dir):latest >/dev/null 2>&1", check: false)
        }
    }

    override func testImportFormatsSharedLayersAndRefusals() throws {
        throw XCTSkip("pfs's own image store; podman's store is podman's")
    }

    /// One daemon (default engine podman) runs each pipeline where its spec says (`transform.runner`): podman
    /// (warm container), crun with the image imported into pfs, the host sandbox; a runner that cannot run the
    /// spec's image, or an unknown one, is refused at creation.
    func testPipelinesNameTheirRunner() throws {
        try importImages()
        try h.ok(["image", "import", "bb", image("rootfs.tar")])
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("hello\n".utf8))
        let probe = #""cmd": ["sh", "-c", "(tr '\\000' ' ' < /proc/1/cmdline; grep ^ID= /etc/os-release) > /pfs/out/where"]"#
        try local("p.json", """
            {"pipeline": {"name": "bypodman"}, "transform": {"image": "bb", \(probe)}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "bycrun"}, "transform": {"image": "bb", "runner": "oci", \(probe)}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "byhost"}, "transform": {"runner": "host", \(probe)}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """)
        try quiet(["create", "pipeline", "-f", "p.json"])
        let id = try commitID("data")
        try wait("data@\(id)")
        for p in ["bypodman", "bycrun", "byhost"] {
            let logs = try out(["logs", "-p", p])
            XCTAssertEqual(try job(p, id)["state"] as? String, "success", "\(p): \(logs)")
        }
        XCTAssertEqual(try content("bypodman@master:/where"), "/.pfs-pause -P ID=pfs-busybox\n")
        XCTAssertEqual(try content("bycrun@master:/where"), "sh -c \(#"(tr '\000' ' ' < /proc/1/cmdline; grep ^ID= /etc/os-release) > /pfs/out/where"#) ID=pfs-busybox\n")
        let host = try content("byhost@master:/where")
        XCTAssertFalse(host.contains("pfs-busybox"), host)
        try local("bad.json", #"{"pipeline": {"name": "bad"}, "transform": {"image": "bb", "runner": "host", "cmd": ["true"]}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}"#)
        let bad = try h.run(["create", "pipeline", "-f", "bad.json"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("transform.runner is \"host\"") && bad.stderr.contains("pfs image alias bb host"), bad.stderr)
        try local("odd.json", #"{"pipeline": {"name": "odd"}, "transform": {"runner": "lxc", "cmd": ["true"]}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}"#)
        let odd = try h.run(["create", "pipeline", "-f", "odd.json"])
        XCTAssertNotEqual(odd.status, 0)
        XCTAssertTrue(odd.stderr.contains("transform.runner") && odd.stderr.contains("\"podman\", \"docker\""), odd.stderr)
    }
}


/// The same pipelines through `pfsmount --runner docker`: the docker CLI against a Docker-compatible engine started
/// here (no Docker engine runs on this kind of machine): podman's Docker API service (`podman system service`), its
/// runtime crun behind a wrapper that hides the hybrid host's cgroup2 mount, and with cgroups off (podman 4.3
/// cannot manage them on a hybrid host), so memory and cpu limits are not enforced by this engine and that part
/// of the limits test does not apply. The images are in the engine's store, imported with `docker`.
final class DockerContainerTests: ContainerTests {
    override var daemonArguments: [String] { ["--runner", "docker"] }
    override var engine: String { "docker" }
    nonisolated(unsafe) static var service: Process?
    nonisolated(unsafe) static var serviceDir: URL?

    override func prepareEngine() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/podman") else {
            throw XCTSkip("no podman to serve the Docker API (scripts/install-deps.sh --test installs it)")
        }
        if Self.service == nil { try Self.startService() }
    }

    /// podman's Docker API on a socket of its own, for the test process and the daemons it starts (DOCKER_HOST).
    static func startService() throws {
        let dir = URL(fileURLWithPath: "/var/tmp/pfs-docker-api-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let runtime = dir.appendingPathComponent("crun-hybrid").path
        try """
            #!/bin/sh
            if [ -d /sys/fs/cgroup/unified ] && grep -q ' /sys/fs/cgroup/unified ' /proc/self/mountinfo; then
              exec /usr/bin/unshare -m --propagation private /bin/sh -c 'umount /sys/fs/cgroup/unified; exec /usr/bin/crun "$@"' sh "$@"
            fi
            exec /usr/bin/crun "$@"

            """.write(toFile: runtime, atomically: true, encoding: .utf8)
        chmod(runtime, 0o755)
        let conf = dir.appendingPathComponent("containers.conf")
        try """
            [containers]
            cgroups = "disabled"
            default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
            [engine]
            runtime = "crun"
            [engine.runtimes]
            crun = ["\(runtime)"]

            """.write(to: conf, atomically: true, encoding: .utf8)
        let socket = dir.appendingPathComponent("docker.sock").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/podman")
        p.arguments = ["system", "service", "--time=0", "unix://" + socket]
        var env = ProcessInfo.processInfo.environment
        env["CONTAINERS_CONF"] = conf.path
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(50_000) }
        guard FileManager.default.fileExists(atPath: socket) else {
            p.terminate()
            throw XCTSkip("podman system service did not start")
        }
        setenv("DOCKER_HOST", "unix://" + socket, 1)
        service = p
        serviceDir = dir
    }

    override class func tearDown() {
        if let p = service {
            p.terminate()
            p.waitUntilExit()
            service = nil
            unsetenv("DOCKER_HOST")
        }
        if let dir = serviceDir { try? FileManager.default.removeItem(at: dir) }
        super.tearDown()
    }

    static let names = ["bb:latest", "bboci:1.0", "bbdocker:latest"]

    override func importImages() throws {
        try h.sh("docker import \(image("rootfs.tar")) bb:latest >/dev/null")
        try h.sh("docker load -q -i \(image("docker.tar")) >/dev/null")
        // An OCI layout goes in through podman, into the store this engine serves (short names are docker.io's).
        let dir = image("oci")
        try h.sh("/usr/bin/podman tag $(/usr/bin/podman pull -q oci:\(dir):1.0) docker.io/library/bboci:1.0")
        addTeardownBlock { [h] in
            _ = try? h?.sh("docker rmi -f \(Self.names.joined(separator: " ")) >/dev/null 2>&1; /usr/bin/podman rmi -f localhost\(dir):latest >/dev/null 2>&1", check: false)
        }
    }

    override func testImportFormatsSharedLayersAndRefusals() throws {
        throw XCTSkip("pfs's own image store; the Docker engine's store is the engine's")
    }

    /// This engine (podman's API with cgroups off) enforces no limits; the timeout still stops the datum, and
    /// the limits reach the engine as `--memory`/`--cpus` (the datum's logged command line).
    override func testMemoryLimitAndTimeout() throws {
        try importImages()
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a.txt"], stdin: Data("hello\n".utf8))
        try local("p.json", #"""
            {"pipeline": {"name": "small"}, "resource_limits": {"memory": "64Mi", "cpu": 1},
             "transform": {"image": "bb", "cmd": ["sh", "-c", "echo ok > /pfs/out/ok"]}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            {"pipeline": {"name": "slow"}, "datum_tries": 1, "datum_timeout": "1s",
             "transform": {"image": "bb", "cmd": ["sleep", "30"]}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}
            """#)
        try quiet(["create", "pipeline", "-f", "p.json"])
        let id = try commitID("data")
        let started = Date()
        try wait("data@\(id)")
        XCTAssertLessThan(Date().timeIntervalSince(started), 25, "the 1 s datum_timeout should stop `sleep 30`")
        XCTAssertEqual(try content("small@master:/ok"), "ok\n")
        let logs = try out(["logs", "-p", "small"])
        XCTAssertTrue(logs.contains("--memory 67108864 --memory-swap 67108864 --cpus 1.000"), logs)
        XCTAssertTrue((try datum("slow", id)["reason"] as? String ?? "").contains("timed out"))
        // The container of the timed-out datum is gone.
        XCTAssertEqual(try h.sh("docker ps -aq --filter name=pfs-").stdout, "")
        // An image the engine does not have is refused at creation, with the commands that add it.
        try local("missing.json", #"{"pipeline": {"name": "nope"}, "transform": {"image": "not-there:1", "cmd": ["true"]}, "input": {"pfs": {"repo": "data", "glob": "/*"}}}"#)
        let refused = try h.run(["create", "pipeline", "-f", "missing.json"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("not in the Docker engine's store") && refused.stderr.contains("docker load"), refused.stderr)
    }
}

import Foundation
import Synchronization
import XCTest
@testable import PFSPipelines

/// The spawner that starts crun on hybrid-cgroup hosts: processes run in a mount namespace of the spawner's without
/// the hidden mount, held while they run and given up when idle; the test process keeps its namespace and mounts;
/// stdin, exit codes, signals and timeouts work as through `Process`.
final class NamespaceSpawnerTests: XCTestCase {
    var dir: URL!
    var spawner: NamespaceSpawner!

    override func setUpWithError() throws {
        guard let s = NamespaceSpawner(hide: ["/sys/fs/cgroup/unified"], idle: 0.2) else {
            throw XCTSkip("the namespace spawner needs root (unshare/setns)")
        }
        spawner = s
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pfs-spawner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func run(_ script: String, stdin: [String] = [], timeout: Double? = nil) throws -> (WorkerResult, String) {
        try Self.run(in: dir, spawner, script, stdin: stdin, timeout: timeout)
    }

    static func run(in dir: URL, _ spawner: NamespaceSpawner, _ script: String, stdin: [String] = [], timeout: Double? = nil) throws -> (WorkerResult, String) {
        let path = dir.appendingPathComponent("log-\(UUID().uuidString)").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let log = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        defer { try? log.close() }
        let r = try WorkerProcess.run(["/bin/sh", "-c", script], stdin: stdin, log: log, timeout: timeout,
                                      spawner: spawner) { pid in kill(pid, SIGKILL) }
        return (r, try String(contentsOfFile: path, encoding: .utf8))
    }

    func ownNamespace() throws -> String { try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt") }

    func testProcessesRunInTheSpawnersNamespaceWithoutTheHiddenMount() throws {
        let before = try ownNamespace()
        let hiddenHere = MountInfo.points().contains("/sys/fs/cgroup/unified")
        // Three at once: one namespace (the spawner's, held while they run), not the test's.
        let results = Mutex([String](repeating: "", count: 3))
        let d: URL = dir, s: NamespaceSpawner = spawner
        let group = DispatchGroup()
        for i in 0..<3 {
            group.enter()
            Thread {
                let out = (try? Self.run(in: d, s, "readlink /proc/self/ns/mnt; grep -c ' /sys/fs/cgroup/unified ' /proc/self/mountinfo || true; sleep 0.5"))
                results.withLock { $0[i] = out.map { "\($0.0.exitCode)\n" + $0.1 } ?? "spawn failed" }
                group.leave()
            }.start()
        }
        group.wait()
        var seen: Set<String> = []
        for out in results.withLock({ $0 }) {
            let lines = out.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 3, out)
            XCTAssertEqual(lines.first, "0", out)
            XCTAssertNotEqual(lines.dropFirst().first, before, "the process ran in the test's own mount namespace")
            XCTAssertEqual(lines.last, "0", "the hidden mount is still there in the process's namespace")
            seen.insert(lines.dropFirst().first ?? "")
        }
        XCTAssertEqual(seen.count, 1, "processes started while others ran should share the spawner's namespace: \(seen)")
        // The test process (and so the daemon) is untouched: same namespace, the mount still there.
        XCTAssertEqual(try ownNamespace(), before)
        XCTAssertEqual(MountInfo.points().contains("/sys/fs/cgroup/unified"), hiddenHere)
    }

    func testTheNamespaceIsGivenUpWhenIdle() throws {
        // A mount made while the namespace is held is not in it; once idle (0.2 s here) the namespace goes, and the
        // next process sees the daemon's mounts as they are then (a mount made after that, like a daemon's views).
        let point = dir.appendingPathComponent("late").path
        try FileManager.default.createDirectory(atPath: point, withIntermediateDirectories: true)
        let held = Thread { [dir, spawner] in _ = try? Self.run(in: dir!, spawner!, "sleep 1") }
        held.start()
        usleep(200_000)
        guard mount("tmpfs", point, "tmpfs", 0, nil) == 0 else { throw XCTSkip("cannot mount tmpfs here") }
        defer { umount2(point, Int32(MNT_DETACH)) }
        try "late\n".write(toFile: point + "/f", atomically: false, encoding: .utf8)
        let (r1, out1) = try run("cat '\(point)/f' 2>/dev/null || echo absent")
        XCTAssertEqual(r1.exitCode, 0, out1)
        XCTAssertEqual(out1, "absent\n", "a mount made while the namespace was held showed up in it")
        usleep(1_500_000)
        let (r2, out2) = try run("cat '\(point)/f'")
        XCTAssertEqual(r2.exitCode, 0, out2)
        XCTAssertEqual(out2, "late\n", "the namespace was not given up when idle")
        // And on request, when nothing runs.
        spawner.releaseIfIdle()
        let (r3, out3) = try run("cat '\(point)/f'")
        XCTAssertEqual(r3.exitCode, 0, out3)
    }

    func testStdinExitCodesSignalsAndTimeouts() throws {
        let (r1, out1) = try run("cat; exit 3", stdin: ["one", "two"])
        XCTAssertEqual(r1.exitCode, 3)
        XCTAssertEqual(out1, "one\ntwo\n")
        // A command that ignores a large stdin: the writer gets EPIPE, and the test process is not killed by SIGPIPE.
        let big = Array(repeating: String(repeating: "x", count: 1023), count: 2048)
        let (r2, _) = try run("exit 0", stdin: big)
        XCTAssertEqual(r2.exitCode, 0)
        let (r3, _) = try run("kill -TERM $$")
        XCTAssertEqual(r3.exitCode, 128 + SIGTERM)
        let (r4, _) = try run("sleep 30", timeout: 0.3)
        XCTAssertTrue(r4.timedOut)
        XCTAssertLessThan(r4.seconds, 10)
    }

    func testEveryOtherDescriptorIsClosed() throws {
        let fd = open("/dev/null", O_RDONLY)
        defer { close(fd) }
        XCTAssertGreaterThan(fd, 2)
        let (r, out) = try run("ls /proc/self/fd")
        XCTAssertEqual(r.exitCode, 0, out)
        // 0, 1, 2 and the directory ls reads.
        let open = out.split(separator: "\n").compactMap { Int32($0) }
        XCTAssertFalse(open.contains(fd), "descriptor \(fd) leaked into the child: \(open)")
        XCTAssertLessThanOrEqual(open.count, 4, "\(open)")
    }
}

import Foundation
import Synchronization
import XCTest
@testable import PFSPipelines

/// The spawner that starts crun on hybrid-cgroup hosts: each process gets a mount namespace of its own without
/// the hidden mount, the test process keeps its namespace and mounts, and stdin, exit codes and timeouts work as
/// through `Process`.
final class NamespaceSpawnerTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        guard let _ = NamespaceSpawner.hybrid else {
            throw XCTSkip("the namespace spawner needs root (unshare/setns)")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pfs-spawner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func run(_ script: String, stdin: [String] = [], timeout: Double? = nil) throws -> (WorkerResult, String) {
        try Self.run(in: dir, script, stdin: stdin, timeout: timeout)
    }

    static func run(in dir: URL, _ script: String, stdin: [String] = [], timeout: Double? = nil) throws -> (WorkerResult, String) {
        let path = dir.appendingPathComponent("log-\(UUID().uuidString)").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let log = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        defer { try? log.close() }
        let r = try WorkerProcess.run(["/bin/sh", "-c", script], stdin: stdin, log: log, timeout: timeout,
                                      spawner: NamespaceSpawner.hybrid) { pid in kill(pid, SIGKILL) }
        return (r, try String(contentsOfFile: path, encoding: .utf8))
    }

    func ownNamespace() throws -> String { try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt") }

    func testEachProcessGetsItsOwnNamespaceWithoutTheHiddenMount() throws {
        let before = try ownNamespace()
        let hiddenHere = MountInfo.points().contains("/sys/fs/cgroup/unified")
        // Three at once (a namespace's inode number is reused once it is gone): three namespaces.
        let results = Mutex([String](repeating: "", count: 3))
        let d: URL = dir
        let group = DispatchGroup()
        for i in 0..<3 {
            group.enter()
            Thread {
                let out = (try? Self.run(in: d, "readlink /proc/self/ns/mnt; grep -c ' /sys/fs/cgroup/unified ' /proc/self/mountinfo || true; sleep 0.5"))
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
        XCTAssertEqual(seen.count, 3, "processes shared a namespace: \(seen)")
        // The test process (and so the daemon) is untouched: same namespace, the mount still there.
        XCTAssertEqual(try ownNamespace(), before)
        XCTAssertEqual(MountInfo.points().contains("/sys/fs/cgroup/unified"), hiddenHere)
    }

    func testMountsMadeLaterAreVisible() throws {
        // A mount made after the spawner started (like a daemon's FUSE views) is seen by the next process.
        let point = dir.appendingPathComponent("late").path
        try FileManager.default.createDirectory(atPath: point, withIntermediateDirectories: true)
        guard mount("tmpfs", point, "tmpfs", 0, nil) == 0 else { throw XCTSkip("cannot mount tmpfs here") }
        defer { umount2(point, Int32(MNT_DETACH)) }
        try "late\n".write(toFile: point + "/f", atomically: false, encoding: .utf8)
        let (r, out) = try run("cat '\(point)/f'")
        XCTAssertEqual(r.exitCode, 0, out)
        XCTAssertEqual(out, "late\n")
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

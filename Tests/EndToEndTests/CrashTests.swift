import Crypto
import Foundation
import XCTest

/// kill -9 of the daemon in the middle of large puts and commit finishes must never corrupt the store or
/// lose a commit whose put had succeeded. Iterations: $PFS_CRASH_ITERATIONS (default 6; the long mode of
/// the torture suite runs hundreds).
final class CrashTests: XCTestCase {
    var h: Harness!

    override func setUpWithError() throws { h = try Harness() }
    override func tearDown() { h.cleanup() }

    func testKillDuringPutsAndFinishesKeepsEveryAcknowledgedCommit() throws {
        let iterations = Int(ProcessInfo.processInfo.environment["PFS_CRASH_ITERATIONS"] ?? "") ?? 6
        var rng = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &rng)
        print("crash test seed \(seed) (set PFS_CRASH_ITERATIONS for more rounds)")
        var gen = SplitMix(seed: seed)

        try h.start()
        try h.ok(["create", "repo", "data"])
        // Acknowledged state: commit id → (path → sha256 hex).
        var acknowledged: [(commit: String, path: String, sha: String)] = []

        for round in 0..<iterations {
            let size = 8 << 20 + Int(gen.next() % UInt64(24 << 20))
            let content = Harness.randomData(size, seed: gen.next())
            let local = try h.write("big-\(round).bin", content)
            let sha = SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined()

            // A put that completes before the kill: must survive.
            let path = "/round-\(round).bin"
            try h.ok(["put", "file", "data@master:\(path)", "-f", local])
            let head = try h.json(["inspect", "commit", "data@master"]) as! [String: Any]
            acknowledged.append((head["id"] as! String, path, sha))

            // Work in flight when the daemon dies: a big put and an open commit being finished.
            let bg = Process()
            bg.executableURL = Harness.binDir.appendingPathComponent("pfs")
            bg.arguments = ["put", "file", "data@inflight:/partial.bin", "-f", local]
            bg.environment = ["PFS_DATA_DIR": h.dataDir.path, "PATH": "/usr/bin:/bin"]
            bg.standardOutput = FileHandle.nullDevice
            bg.standardError = FileHandle.nullDevice
            try bg.run()
            if round % 2 == 1 {
                let started = try h.run(["start", "commit", "data@side"])
                if started.status == 0 {
                    _ = try h.run(["put", "file", "data@side:/x-\(round)", "-f", local])
                    let finisher = Process()
                    finisher.executableURL = Harness.binDir.appendingPathComponent("pfs")
                    finisher.arguments = ["finish", "commit", "data@side"]
                    finisher.environment = bg.environment
                    finisher.standardOutput = FileHandle.nullDevice
                    finisher.standardError = FileHandle.nullDevice
                    try finisher.run()
                }
            }
            usleep(UInt32(gen.next() % 400_000))
            h.stop(signal: SIGKILL)
            bg.waitUntilExit()

            try h.start()
            let fsck = try h.run(["fsck"])
            XCTAssertEqual(fsck.status, 0, "round \(round): fsck after kill -9 reported problems: \(fsck.stdout)\(fsck.stderr)")
            for a in acknowledged {
                let r = try h.run(["get", "file", "data@\(a.commit):\(a.path)"])
                XCTAssertEqual(r.status, 0, "round \(round): commit \(a.commit) lost \(a.path): \(r.stderr)")
                let got = SHA256.hash(data: r.out).map { String(format: "%02x", $0) }.joined()
                XCTAssertEqual(got, a.sha, "round \(round): \(a.path) in \(a.commit) changed after a crash")
            }
            // Leave no open commit around for the next round's start.
            _ = try h.run(["finish", "commit", "data@side"])
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

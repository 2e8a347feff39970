import Foundation
import XCTest
@testable import PFSCore

/// One put of many files keeps the memory it needs per file small: the session keeps its ops in a temporary
/// file (an offset per path in memory), commits its objects on the way, and the commit's tree is written in
/// checkpoints (docs/reliability.md, "Memory of a put of many files"). Measured as the growth of this process's
/// peak RSS (`VmHWM`, reset through `/proc/self/clear_refs`) over one put session, per file.
final class PutMemoryTests: StoreTestCase {
    /// A field of /proc/self/status in bytes (VmHWM, VmRSS).
    static func status(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// Resets VmHWM to the current RSS (Linux 4.0 and later).
    static func resetPeak() -> Bool {
        guard let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? h.close() }
        return (try? h.write(contentsOf: Data("5".utf8))) != nil
    }

    func testOnePutOfManyFilesNeedsLittleMemoryPerFile() throws {
        let n = Int(ProcessInfo.processInfo.environment["PFS_PUT_MEMORY_FILES"] ?? "") ?? 50_000
        let perDir = 1000
        // Small limits and a small tree cache, so that what stays bounded is bounded well below n files here
        // (the defaults are sized for millions: 32,768 objects, 65,536 ops, 400,000 cached entries).
        let store = try Store(dataDir: dataDir.appendingPathComponent("store", isDirectory: true),
                              putLimits: .init(objectsPerIntermediateCommit: 2048, opsPerTreeCheckpoint: 4096),
                              treeCacheEntries: 4096)
        try store.createRepo("wide")
        // A small put first: one-time allocations (the database, the first batch, the pools) are not counted.
        let warm = try store.beginPut(repo: "wide", ref: "master")
        for i in 0..<2000 { try warm.putFile(path: "/warm/f\(i)", Array("warm \(i)\n".utf8)) }
        try warm.commit()
        guard Self.resetPeak(), let rss0 = Self.status("VmRSS") else { throw XCTSkip("cannot reset VmHWM (/proc/self/clear_refs)") }

        let start = Date()
        let s = try store.beginPut(repo: "wide", ref: "master")
        for i in 0..<n {
            // Distinct contents: every file is a new object, as in scripts/load's many-files step.
            try s.putFile(path: "/d\(i / perDir)/f\(i)", Array("file \(i) of the many-files put\n".utf8))
        }
        let result = try s.commit()
        guard let peak = Self.status("VmHWM") else { throw XCTSkip("no VmHWM in /proc/self/status") }
        let perFile = Double(peak - rss0) / Double(n)
        print(String(format: "put of %d files: peak RSS grew %.1f MiB (%.0f bytes per file) in %.1f s", n,
                     Double(peak - rss0) / 1048576, perFile, Date().timeIntervalSince(start)))

        XCTAssertTrue(result.finished)
        XCTAssertEqual(result.files, n)
        // Before the session kept its ops in a file and the tree was written in checkpoints, this was ~1,300
        // bytes per file (1,343 MiB for 1,000,000 files in scripts/load); now it is the offset index, ~50.
        XCTAssertLessThan(perFile, 250, "peak memory grows with the number of files put in one session")

        // Everything is there: every directory lists exactly its files, and the contents read back.
        let dirs = (n + perDir - 1) / perDir
        for d in 0..<dirs {
            let names = Set(try store.listFiles(repo: "wide", ref: "master", path: "/d\(d)").map(\.path))
            let want = Set((d * perDir..<min(n, (d + 1) * perDir)).map { "/d\(d)/f\($0)" })
            XCTAssertEqual(names, want, "/d\(d)")
        }
        for i in stride(from: 0, to: n, by: max(1, n / 50)) {
            XCTAssertEqual(try store.readAll(repo: "wide", ref: "master", path: "/d\(i / perDir)/f\(i)"),
                           Array("file \(i) of the many-files put\n".utf8))
        }
        try assertFsckClean(store)
    }
}

/// The pieces that keep a big put small must not change what it stores: the same random session (puts,
/// overwrites, appends, deletes, mkdirs, symlinks, copies; later ops on paths changed much earlier, so their
/// state is read back from the op log's file) gives the same files through small limits (a checkpoint every 500
/// ops, a batch commit every 300 objects) as through the defaults.
final class PutCheckpointTests: StoreTestCase {
    func testSmallLimitsStoreTheSameFilesAsTheDefaults() throws {
        for seed: UInt64 in [1, 2] {
            var listings: [[String]] = []
            for (k, limits) in [Store.PutLimits(), Store.PutLimits(objectsPerIntermediateCommit: 300, opsPerTreeCheckpoint: 500)].enumerated() {
                let store = try Store(dataDir: dataDir.appendingPathComponent("s\(seed)-\(k)", isDirectory: true), putLimits: limits)
                try store.createRepo("r")
                let base = try store.beginPut(repo: "r", ref: "master")
                for i in 0..<50 { try base.putFile(path: "/base/b\(i % 5)/f\(i)", Array("base \(i)".utf8)) }
                try base.commit()
                var rng = StoreTestRNG(seed: seed)
                let s = try store.beginPut(repo: "r", ref: "master")
                // Enough records that the op log is written to its file (1 MiB) before the ops that look back.
                for i in 0..<12_000 { try s.putFile(path: "/bulk/d\(i % 40)/f\(i)", Array("bulk \(i)".utf8)) }
                for step in 0..<600 {
                    let dir = ["/base/b\(Int.random(in: 0..<5, using: &rng))", "/bulk/d\(Int.random(in: 0..<40, using: &rng))", "/new/n\(Int.random(in: 0..<6, using: &rng))"][Int.random(in: 0..<3, using: &rng)]
                    let path = dir + "/f\(Int.random(in: 0..<60, using: &rng))"
                    switch Int.random(in: 0..<10, using: &rng) {
                    case 0...3:
                        if try s.entry(at: path)?.kind != .dir { try s.putFile(path: path, Array("step \(step) \(path)".utf8)) }
                    case 4:
                        if try s.entry(at: path)?.kind != .dir { try s.putFile(path: path, Array(" +\(step)".utf8), append: true) }
                    case 5:
                        if try s.entry(at: path) != nil { try s.delete(path: path) }
                    case 6:
                        if Int.random(in: 0..<8, using: &rng) == 0, try s.entry(at: dir) != nil { try s.delete(path: dir) }
                    case 7:
                        if try s.entry(at: path) == nil { try s.mkdir(path: path) }
                    case 8:
                        if try s.entry(at: path) == nil { try s.symlink(path: path, target: "../t\(step)") }
                    default:
                        if try s.entry(at: path) == nil { try s.copy(srcRepo: "r", srcRef: "master", srcPath: "/base/b1", to: path) }
                    }
                }
                try s.commit()
                listings.append(try store.listFiles(repo: "r", ref: "master", recursive: true)
                    .map { "\($0.path) \($0.type) \($0.sizeBytes) \($0.mode) \($0.type == .dir ? "" : $0.hash)" })
                try assertFsckClean(store)
            }
            XCTAssertEqual(listings[0].count, listings[1].count, "seed \(seed)")
            XCTAssertEqual(listings[0], listings[1], "seed \(seed)")
            XCTAssertGreaterThan(listings[0].count, 12_000)
        }
    }
}

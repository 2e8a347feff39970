import Foundation
import XCTest
@testable import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// A fresh temporary directory per test, removed afterwards.
class ObjectsTestCase: XCTestCase {
    private(set) var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory
            .appendingPathComponent("pfs-test-\(type(of: self))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let tempDir { try? FileManager.default.removeItem(at: tempDir) }
    }

    /// Where the tests put their object store.
    var storeDir: URL { tempDir.appendingPathComponent("objects") }

    /// Temp files currently staged by any instance (files under tmp/, except the lock file).
    func tempFiles() -> [String] {
        allFiles(storeDir.appendingPathComponent("tmp")).filter { $0 != ".lock" }
    }

    func entries(_ url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    /// Every file below `url` (recursively), relative paths.
    func allFiles(_ url: URL) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: url.path) else { return [] }
        var out: [String] = []
        while let p = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.appendingPathComponent(p).path, isDirectory: &isDir), !isDir.boolValue {
                out.append(p)
            }
        }
        return out.sorted()
    }
}

/// The one-file-per-object layout (small objects go to packs by default: PackStoreTests).
final class ObjectStoreTests: ObjectsTestCase {
    func fileStore() throws -> LocalObjectStore {
        try LocalObjectStore(directory: storeDir, syncStrategy: .default, packLimit: 0)
    }

    func objectURL(_ hash: ObjectHash) -> URL {
        storeDir.appendingPathComponent(String(hash.hex.prefix(2))).appendingPathComponent(String(hash.hex.dropFirst(2)))
    }

    func assertCode<T>(_ code: PFSError.Code, _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual((error as? PFSError)?.code, code, "\(error)", file: file, line: line)
        }
    }

    func testLayout() throws {
        let store = try fileStore()
        let names = entries(storeDir)
        XCTAssertEqual(names.count, 258)
        XCTAssertTrue(names.contains("00") && names.contains("ff") && names.contains("7a") && names.contains("tmp")
                      && names.contains("packs"))
        let batch = store.makeBatch()
        let hash = try batch.put(Array("hello".utf8))
        try batch.commit()
        XCTAssertEqual(hash.hex, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        let url = objectURL(hash)
        XCTAssertEqual(try Data(contentsOf: url), Data("hello".utf8))
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o444)
    }

    func testPutReadRoundTrip() throws {
        let store = try fileStore()
        let batch = store.makeBatch()
        let big = cdcRandomBytes(count: 3 << 20, seed: 1)
        let h1 = try batch.put(big)
        let h2 = try batch.put([])
        let h3 = try batch.put([42])
        try batch.commit()
        XCTAssertEqual(try store.read(h1), big)
        XCTAssertEqual(try store.read(h2), [])
        XCTAssertEqual(try store.read(h3), [42])
        XCTAssertEqual(try store.size(h1), 3 << 20)
        XCTAssertEqual(try store.size(h2), 0)
        XCTAssertEqual(h2, ObjectHash.of([UInt8]()))
        XCTAssertTrue(store.contains(h1) && store.contains(h2) && store.contains(h3))
        // A second instance on the same directory sees them.
        let again = try fileStore()
        XCTAssertEqual(try again.read(h3), [42])
    }

    func testMissingObjectIsNotFound() throws {
        let store = try fileStore()
        let missing = ObjectHash.of(Array("missing".utf8))
        XCTAssertFalse(store.contains(missing))
        assertCode(.notFound, try store.read(missing))
        assertCode(.notFound, try store.read(missing, offset: 0, length: 10))
        assertCode(.notFound, try store.size(missing))
        assertCode(.notFound, try store.delete(missing))
    }

    func testPreadRanges() throws {
        let store = try fileStore()
        let data = cdcRandomBytes(count: 100_000, seed: 2)
        let batch = store.makeBatch()
        let h = try batch.put(data)
        try batch.commit()
        XCTAssertEqual(try store.read(h, offset: 0, length: 10), Array(data[0..<10]))
        XCTAssertEqual(try store.read(h, offset: 12345, length: 54321), Array(data[12345..<(12345 + 54321)]))
        XCTAssertEqual(try store.read(h, offset: 99_990, length: 100), Array(data[99_990...]), "short at the end")
        XCTAssertEqual(try store.read(h, offset: 100_000, length: 100), [])
        XCTAssertEqual(try store.read(h, offset: 200_000, length: 100), [])
        XCTAssertEqual(try store.read(h, offset: 5, length: 0), [])
        XCTAssertEqual(try store.read(h, offset: 0, length: .max), data, "a huge length reads the rest")
        assertCode(.invalidArgument, try store.read(h, offset: -1, length: 5))
        assertCode(.invalidArgument, try store.read(h, offset: 0, length: -5))
    }

    func testObjectsAreInvisibleUntilCommit() throws {
        let store = try fileStore()
        let batch = store.makeBatch()
        let data = cdcRandomBytes(count: 10_000, seed: 3)
        let h = try batch.put(data)
        XCTAssertFalse(store.contains(h))
        XCTAssertFalse(FileManager.default.fileExists(atPath: objectURL(h).path), "nothing under the final name before commit")
        assertCode(.notFound, try store.read(h))
        XCTAssertEqual(tempFiles().count, 1, "written to a temp file at once")
        try batch.commit()
        XCTAssertTrue(store.contains(h))
        XCTAssertTrue(FileManager.default.fileExists(atPath: objectURL(h).path))
        XCTAssertEqual(try store.read(h), data)
        XCTAssertEqual(tempFiles(), [], "temps were renamed")
    }

    func testPutReportsNewObjectsOnce() throws {
        let store = try fileStore()
        let batch = store.makeBatch()
        let data = cdcRandomBytes(count: 5000, seed: 4)
        let h = ObjectHash.of(data)
        try data.withUnsafeBytes { raw in
            XCTAssertTrue(try batch.put(h, raw))
            XCTAssertFalse(try batch.put(h, raw), "already staged in this batch")
        }
        XCTAssertEqual(batch.newBytes, 5000)
        XCTAssertEqual(tempFiles().count, 1)
        try batch.commit()
        XCTAssertEqual(batch.newBytes, 5000)

        let second = store.makeBatch()
        try data.withUnsafeBytes { raw in XCTAssertFalse(try second.put(h, raw), "already stored") }
        XCTAssertEqual(second.newBytes, 0)
        try second.commit()
        XCTAssertEqual(tempFiles(), [])
    }

    func testCommitIsIdempotentAndTheBatchStaysUsable() throws {
        let store = try fileStore()
        let batch = store.makeBatch()
        try batch.commit()   // empty
        let a = try batch.put([1, 2, 3])
        try batch.commit()
        try batch.commit()
        let b = try batch.put([4, 5, 6])
        XCTAssertFalse(store.contains(b))
        try batch.commit()
        XCTAssertTrue(store.contains(a) && store.contains(b))
        XCTAssertEqual(batch.newBytes, 6)
    }

    func testAbortRemovesTemps() throws {
        let store = try fileStore()
        let batch = store.makeBatch()
        var hashes: [ObjectHash] = []
        for i in 0..<5 { hashes.append(try batch.put(cdcRandomBytes(count: 1000 + i, seed: UInt64(i + 10)))) }
        XCTAssertEqual(tempFiles().count, 5)
        batch.abort()
        XCTAssertEqual(tempFiles(), [])
        XCTAssertEqual(batch.newBytes, 0)
        try batch.commit()
        for h in hashes { XCTAssertFalse(store.contains(h)) }
        // Still usable after an abort.
        let h = try batch.put([9])
        try batch.commit()
        XCTAssertTrue(store.contains(h))
    }

    func testReleasingABatchRemovesItsUncommittedTemps() throws {
        let store = try fileStore()
        do {
            let batch = store.makeBatch()
            try batch.put([1, 2, 3])
            XCTAssertEqual(tempFiles().count, 1)
        }
        XCTAssertEqual(tempFiles(), [])
    }

    func testInitRemovesLeftoverTemps() throws {
        // Leftovers of a crashed process: its staging directory (no lock holder) and a stray file.
        let tmp = storeDir.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("999999-dead"), withIntermediateDirectories: true)
        try Data(repeating: 7, count: 100).write(to: tmp.appendingPathComponent("999999-dead/1"))
        try Data(repeating: 7, count: 100).write(to: tmp.appendingPathComponent("stray"))
        let store = try fileStore()
        XCTAssertEqual(entries(tmp).filter { $0 != ".lock" }, [store.stagingName])
        XCTAssertEqual(tempFiles(), [])
    }

    func testASecondInstanceKeepsLiveTemps() throws {
        let first = try fileStore()
        let batch = first.makeBatch()
        let h = try batch.put(cdcRandomBytes(count: 4096, seed: 5))
        let second = try fileStore()   // e.g. `pfs fsck` next to the daemon
        XCTAssertEqual(tempFiles().count, 1, "the live instance's temp survives the second init")
        try batch.commit()
        XCTAssertTrue(second.contains(h))
        XCTAssertNotEqual(first.stagingName, second.stagingName)
    }

    func testDeferredObjectsAreReadableBeforeCommitAndMovedIntoPlaceByIt() throws {
        let store = try fileStore()
        let batch = store.makeDeferredBatch()
        let bytes = cdcRandomBytes(count: 4096, seed: 11)
        let h = try batch.put(bytes)
        XCTAssertFalse(store.contains(h), "dedup never trusts an unsynced object")
        XCTAssertEqual(try store.read(h), bytes)
        XCTAssertEqual(try store.size(h), 4096)
        var buf = [UInt8](repeating: 0, count: 100)
        XCTAssertEqual(try buf.withUnsafeMutableBytes { try store.read(h, offset: 10, into: $0) }, 100)
        XCTAssertEqual(buf, Array(bytes[10..<110]))
        batch.abort()   // a deferred batch's objects may be referenced already: abort keeps them
        XCTAssertEqual(try store.read(h), bytes)
        try batch.commit()
        XCTAssertTrue(store.contains(h))
        XCTAssertEqual(try store.read(h), bytes)
        XCTAssertEqual(tempFiles(), [])
    }

    func testDeferredObjectsOfADeadProcessAreMovedIntoPlaceIfComplete() throws {
        // What a killed process leaves: its staging directory (lock free) holding deferred objects, one of
        // them cut short (a power loss), plus a plain temp.
        let tmp = storeDir.appendingPathComponent("tmp")
        let dead = tmp.appendingPathComponent("999999-dead")
        try FileManager.default.createDirectory(at: dead, withIntermediateDirectories: true)
        let good = cdcRandomBytes(count: 5000, seed: 12), cut = cdcRandomBytes(count: 5000, seed: 13)
        let hGood = ObjectHash.of(good), hCut = ObjectHash.of(cut)
        try Data(good).write(to: dead.appendingPathComponent("p-\(hGood.hex)-1"))
        try Data(cut.prefix(4096)).write(to: dead.appendingPathComponent("p-\(hCut.hex)-2"))
        try Data(repeating: 7, count: 100).write(to: dead.appendingPathComponent("3"))
        let store = try fileStore()
        XCTAssertTrue(store.contains(hGood))
        XCTAssertEqual(try store.read(hGood), good)
        XCTAssertFalse(store.contains(hCut), "a deferred object that does not re-hash is dropped")
        XCTAssertEqual(tempFiles(), [])
    }

    func testReleasingTheStoreMovesItsDeferredObjectsIntoPlace() throws {
        let bytes = cdcRandomBytes(count: 3000, seed: 14)
        var h: ObjectHash?
        do {
            let store = try fileStore()
            h = try store.makeDeferredBatch().put(bytes)
        }
        let store = try fileStore()
        XCTAssertEqual(try store.read(h!), bytes)
        XCTAssertTrue(store.contains(h!))
    }

    func testReleasingTheStoreRemovesItsStagingDirectory() throws {
        let tmp = storeDir.appendingPathComponent("tmp")
        do {
            let store = try fileStore()
            XCTAssertEqual(entries(tmp).filter { $0 != ".lock" }.count, 1)
            _ = store
        }
        XCTAssertEqual(entries(tmp).filter { $0 != ".lock" }, [])
    }

    func testBothSyncStrategiesCommit() throws {
        for strategy in [LocalObjectStore.SyncStrategy.perFile, .syncfs, .automatic(syncfsFromObjects: 10), .automatic(syncfsFromObjects: 1000)] {
            let dir = tempDir.appendingPathComponent("store-\(UUID().uuidString)")
            let store = try LocalObjectStore(directory: dir, syncStrategy: strategy)
            let batch = store.makeBatch()
            var expected: [ObjectHash: [UInt8]] = [:]
            for i in 0..<40 {
                let data = cdcRandomBytes(count: 100 + i * 37, seed: UInt64(i))
                expected[try batch.put(data)] = data
            }
            try batch.commit()
            for (h, data) in expected { XCTAssertEqual(try store.read(h), data, "\(strategy)") }
        }
    }

    func testForEachObjectListsCommittedObjectsOnly() throws {
        let store = try fileStore()
        let batch = store.makeBatch()
        var expected: [ObjectHash: Int64] = [:]
        for i in 0..<20 {
            let data = cdcRandomBytes(count: i * 10, seed: UInt64(100 + i))
            expected[try batch.put(data)] = Int64(data.count)
        }
        try batch.commit()
        let staged = store.makeBatch()
        try staged.put([1, 2, 3, 4])   // a temp: not listed
        // Junk in a fan-out directory is not an object.
        try Data([1]).write(to: storeDir.appendingPathComponent("ab/not-an-object"))
        try Data([1]).write(to: storeDir.appendingPathComponent("ab/" + String(repeating: "z", count: 62)))
        let before = Date().addingTimeInterval(-60)
        var seen: [ObjectHash: Int64] = [:]
        try store.forEachObject { hash, size, mtime in
            XCTAssertNil(seen[hash])
            seen[hash] = size
            XCTAssertGreaterThan(mtime, before)
        }
        XCTAssertEqual(seen, expected)
    }

    func testDelete() throws {
        let store = try fileStore()
        let batch = store.makeBatch()
        let h = try batch.put([1, 2, 3])
        try batch.commit()
        try store.delete(h)
        XCTAssertFalse(store.contains(h))
        assertCode(.notFound, try store.read(h))
        // It can be stored again.
        let again = store.makeBatch()
        XCTAssertEqual(try again.put([1, 2, 3]), h)
        XCTAssertEqual(again.newBytes, 3)
        try again.commit()
        XCTAssertEqual(try store.read(h), [1, 2, 3])
    }

    func testConcurrentPutsOfTheSameObjectsFromTwoBatches() throws {
        let store = try fileStore()
        let objects = (0..<64).map { cdcRandomBytes(count: 2000 + $0 * 1000, seed: UInt64(1000 + $0)) }
        for round in 0..<4 {
            let batches = [store.makeBatch(), store.makeBatch()]
            let errors = ObjectsErrorCollector()
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                let batch = batches[worker % 2]
                do {
                    // Both batches (and two threads per batch) stage the same objects, in different orders.
                    let order = worker % 2 == 0 ? Array(objects.indices) : objects.indices.reversed()
                    for i in order { try batch.put(objects[i]) }
                    try batch.commit()
                } catch {
                    errors.add(error)
                }
            }
            XCTAssertEqual(errors.all.count, 0, "\(errors.all)")
            for data in objects { XCTAssertEqual(try store.read(ObjectHash.of(data)), data, "round \(round)") }
            XCTAssertEqual(tempFiles(), [])
            if round == 0 {
                let total = objects.reduce(Int64(0)) { $0 + Int64($1.count) }
                XCTAssertGreaterThanOrEqual(batches[0].newBytes + batches[1].newBytes, total)
            }
        }
        var count = 0
        try store.forEachObject { _, _, _ in count += 1 }
        XCTAssertEqual(count, objects.count)
    }
}

/// Collects errors from concurrent workers.
final class ObjectsErrorCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [any Error] = []
    func add(_ e: any Error) { lock.lock(); errors.append(e); lock.unlock() }
    var all: [any Error] { lock.lock(); defer { lock.unlock() }; return errors }
}

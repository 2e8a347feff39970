import Foundation
import XCTest
@testable import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// Small objects in pack files (`PackStore`, docs/storage-objects.md "Packs").
final class PackStoreTests: ObjectsTestCase {
    var packsDir: URL { storeDir.appendingPathComponent("packs") }

    func packFiles(_ ext: String, in dir: URL? = nil) -> [String] {
        entries(dir ?? packsDir).filter { $0.hasSuffix("." + ext) }
    }

    /// Files under the 256 fan-out directories (objects stored one file each).
    func objectFiles(_ dir: URL? = nil) -> [String] {
        allFiles(dir ?? storeDir).filter { !$0.hasPrefix("tmp/") && !$0.hasPrefix("packs/") }
    }

    func put(_ store: LocalObjectStore, _ objects: [[UInt8]], deferred: Bool = false, commit: Bool = true) throws -> [ObjectHash] {
        let batch = deferred ? store.makeDeferredBatch() : store.makeBatch()
        let hashes = try objects.map { try batch.put($0) }
        if commit { try batch.commit() }
        return hashes
    }

    func small(_ n: Int, seed: UInt64, size: Int = 4096) -> [[UInt8]] {
        (0..<n).map { cdcRandomBytes(count: size + $0, seed: seed + UInt64($0)) }
    }

    func testSmallObjectsShareOnePackAndBigOnesKeepTheirFiles() throws {
        let store = try LocalObjectStore(directory: storeDir)
        let objects = small(100, seed: 1) + [[], cdcRandomBytes(count: PackStore.maximumObjectSize, seed: 7)]
        let big = cdcRandomBytes(count: PackStore.maximumObjectSize + 1, seed: 8)
        let hashes = try put(store, objects + [big])
        XCTAssertEqual(packFiles("pack").count, 1)
        XCTAssertEqual(objectFiles().count, 1, "only the object above 64 KiB has a file: \(objectFiles())")
        XCTAssertEqual(tempFiles(), [])
        for (h, data) in zip(hashes, objects + [big]) {
            XCTAssertTrue(store.contains(h))
            XCTAssertEqual(try store.read(h), data)
            XCTAssertEqual(try store.size(h), Int64(data.count))
        }
        // Ranges and reads into a buffer, clamped to the object (not running into the next record).
        let data = objects[3], h = hashes[3]
        XCTAssertEqual(try store.read(h, offset: 100, length: 50), Array(data[100..<150]))
        XCTAssertEqual(try store.read(h, offset: data.count - 10, length: 100), Array(data.suffix(10)))
        XCTAssertEqual(try store.read(h, offset: data.count + 5, length: 100), [])
        var buf = [UInt8](repeating: 0, count: 8192)
        XCTAssertEqual(try buf.withUnsafeMutableBytes { try store.read(h, offset: 4000, into: $0) }, data.count - 4000)
        XCTAssertEqual(Array(buf[0..<(data.count - 4000)]), Array(data[4000...]))
        var listed = Set<ObjectHash>()
        try store.forEachObject { hash, _, _ in XCTAssertTrue(listed.insert(hash).inserted, "listed twice: \(hash)") }
        XCTAssertEqual(listed, Set(hashes))
    }

    func testPackedObjectsAreTrustedOnlyAfterCommit() throws {
        let store = try LocalObjectStore(directory: storeDir)
        let batch = store.makeBatch()
        let data = cdcRandomBytes(count: 3000, seed: 2)
        let h = try batch.put(data)
        XCTAssertFalse(store.contains(h), "staged: dedup must not trust it")
        XCTAssertEqual(batch.newBytes, 3000)
        let other = store.makeBatch()
        XCTAssertTrue(try data.withUnsafeBytes { try other.put(h, $0) }, "staged by another batch: still to be synced by this one")
        XCTAssertEqual(other.newBytes, 0, "no second record was written")
        try other.commit()
        XCTAssertTrue(store.contains(h))
        try batch.commit()
        XCTAssertTrue(store.contains(h))
        XCTAssertEqual(try store.read(h), data)
    }

    func testAbortForgetsStagedRecords() throws {
        let store = try LocalObjectStore(directory: storeDir)
        let batch = store.makeBatch()
        let h = try batch.put(cdcRandomBytes(count: 2000, seed: 3))
        batch.abort()
        XCTAssertEqual(batch.newBytes, 0)
        XCTAssertFalse(store.contains(h))
        do {
            let released = store.makeBatch()
            try released.put([1, 2, 3])
        }
        XCTAssertFalse(store.contains(ObjectHash.of([UInt8]([1, 2, 3]))))
        try store.forEachObject { hash, _, _ in XCTFail("nothing was committed, yet \(hash) is listed") }
        // Stored again later, it is a new record that commits normally.
        let again = store.makeBatch()
        XCTAssertEqual(try again.put(cdcRandomBytes(count: 2000, seed: 3)), h)
        try again.commit()
        XCTAssertTrue(store.contains(h))
    }

    func testReleasingTheStoreSealsItsPackAndTheNextOpenLoadsTheIndex() throws {
        let objects = small(50, seed: 4)
        var hashes: [ObjectHash] = []
        do {
            let store = try LocalObjectStore(directory: storeDir)
            hashes = try put(store, objects)
            XCTAssertEqual(packFiles("idx"), [], "the active pack has no index yet")
        }
        XCTAssertEqual(packFiles("idx").count, 1)
        let store = try LocalObjectStore(directory: storeDir)
        for (h, data) in zip(hashes, objects) {
            XCTAssertTrue(store.contains(h))
            XCTAssertEqual(try store.read(h), data)
        }
        // A damaged index is ignored: the pack is scanned (and re-indexed) instead.
        let idx = packsDir.appendingPathComponent(packFiles("idx")[0])
        try FileManager.default.removeItem(at: idx)
        try Data("garbage".utf8).write(to: idx)
        let rescanned = try LocalObjectStore(directory: storeDir)
        for h in hashes { XCTAssertTrue(rescanned.contains(h)) }
    }

    func testASecondInstanceReadsTheLivePackButDoesNotTrustIt() throws {
        let first = try LocalObjectStore(directory: storeDir)
        let second = try LocalObjectStore(directory: storeDir)   // `pfs fsck` beside the daemon
        let objects = small(10, seed: 5)
        let hashes = try put(first, objects)
        XCTAssertEqual(try second.read(hashes[0]), objects[0], "found by reading the other instance's pack again")
        XCTAssertEqual(try second.size(hashes[9]), Int64(objects[9].count))
        XCTAssertFalse(second.contains(hashes[0]), "another live instance's pack is not known to be synced")
        // Storing it through the second instance writes its own record.
        let b = second.makeBatch()
        XCTAssertTrue(try objects[0].withUnsafeBytes { try b.put(hashes[0], $0) })
        try b.commit()
        XCTAssertTrue(second.contains(hashes[0]))
        XCTAssertEqual(packFiles("pack").count, 2)
    }

    /// What `kill -9` or a power cut leaves: a pack without an index, no lock holder, maybe a cut-short tail.
    func testThePackOfADeadInstanceIsRecoveredUpToItsFirstBadRecord() throws {
        let store = try LocalObjectStore(directory: storeDir)
        let committed = try put(store, small(5, seed: 6))
        let deferredData = small(3, seed: 20)
        let deferred = try put(store, deferredData, deferred: true, commit: false)
        let cutData = cdcRandomBytes(count: 5000, seed: 30)
        let cut = try put(store, [cutData], deferred: true, commit: false)[0]
        // The data directory as the disk holds it at the crash (the page cache reached it; the last record
        // only in part), copied aside while the instance still lives.
        let crashed = tempDir.appendingPathComponent("crashed")
        try FileManager.default.copyItem(at: storeDir, to: crashed)
        let pack = crashed.appendingPathComponent("packs").appendingPathComponent(packFiles("pack")[0])
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: pack.path)[.size] as? NSNumber).intValue
        XCTAssertEqual(truncate(pack.path, off_t(size - 100)), 0)

        let recovered = try LocalObjectStore(directory: crashed)
        for h in committed + deferred {
            XCTAssertTrue(recovered.contains(h), "a complete record is synced and kept")
        }
        XCTAssertEqual(try recovered.read(deferred[1]), deferredData[1])
        XCTAssertFalse(recovered.contains(cut), "a record cut short is dropped")
        XCTAssertThrowsError(try recovered.read(cut))
        XCTAssertEqual(packFiles("idx", in: crashed.appendingPathComponent("packs")).count, 1, "indexed once recovered")
        // New objects go to a new pack, never after the cut one.
        let fresh = try put(recovered, [cutData])[0]
        XCTAssertEqual(fresh, cut)
        XCTAssertEqual(try recovered.read(cut), cutData)
        XCTAssertEqual(packFiles("pack", in: crashed.appendingPathComponent("packs")).count, 2)
        _ = store
    }

    func testGCRewritesPacksSoDeletedObjectsStayDeleted() throws {
        let objects = small(40, seed: 40)
        var hashes: [ObjectHash] = []
        do {
            let store = try LocalObjectStore(directory: storeDir)
            hashes = try put(store, objects)
        }
        let store = try LocalObjectStore(directory: storeDir)
        let oldPack = packFiles("pack")
        let active = try put(store, small(4, seed: 90))   // into the new active pack
        for h in hashes[0..<20] + active[0..<2] { try store.delete(h) }
        try store.finishDeletes()
        XCTAssertTrue(Set(packFiles("pack")).isDisjoint(with: oldPack), "the pack with deleted objects was rewritten")
        for (i, h) in hashes.enumerated() {
            XCTAssertEqual(store.contains(h), i >= 20)
            if i >= 20 { XCTAssertEqual(try store.read(h), objects[i]) }
        }
        assertPFSErrorCode(.notFound, try store.read(hashes[0]))
        XCTAssertFalse(store.contains(active[0]))
        XCTAssertTrue(store.contains(active[3]))
        var count = 0
        try store.forEachObject { _, _, _ in count += 1 }
        XCTAssertEqual(count, 22)

        // A crash now (the instance's files copied as they are) does not bring the deleted objects back.
        let crashed = tempDir.appendingPathComponent("crashed")
        try FileManager.default.copyItem(at: storeDir, to: crashed)
        let reopened = try LocalObjectStore(directory: crashed)
        for h in hashes[0..<20] + active[0..<2] { XCTAssertFalse(reopened.contains(h)) }
        for h in hashes[20...] + active[2...] { XCTAssertTrue(reopened.contains(h)) }
    }

    func testConcurrentPutsIntoPacks() throws {
        let store = try LocalObjectStore(directory: storeDir)
        let objects = (0..<200).map { cdcRandomBytes(count: 100 + $0 * 300, seed: UInt64(5000 + $0)) }
        let batches = (0..<4).map { _ in store.makeBatch() }
        let errors = ObjectsErrorCollector()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let batch = batches[worker % 4]
            do {
                let order = worker % 2 == 0 ? Array(objects.indices) : objects.indices.reversed()
                for i in order { try batch.put(objects[i]) }
                try batch.commit()
            } catch {
                errors.add(error)
            }
        }
        XCTAssertEqual(errors.all.count, 0, "\(errors.all)")
        for data in objects { XCTAssertEqual(try store.read(ObjectHash.of(data)), data) }
        var count = 0
        try store.forEachObject { _, _, _ in count += 1 }
        XCTAssertEqual(count, objects.count)
    }

    func assertPFSErrorCode<T>(_ code: PFSError.Code, _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual((error as? PFSError)?.code, code, "\(error)", file: file, line: line)
        }
    }
}

/// The store on packs (the default): fsck and GC see packed objects like files.
final class PackedStoreTests: StoreTestCase {
    var store: Store!

    override func setUpWithError() throws {
        try super.setUpWithError()
        store = try openStore()
    }

    override func tearDownWithError() throws {
        store = nil
        try super.tearDownWithError()
    }

    var objects: LocalObjectStore { store.objects as! LocalObjectStore }

    func testFsckFindsADamagedPackedObject() throws {
        try store.createRepo("r")
        try store.putFiles("r", "master", ["/good": "good content", "/bad": "content to damage"])
        XCTAssertTrue(try store.fsck().ok)
        let bad = try XCTUnwrap(store.openFile(repo: "r", ref: "master", path: "/bad").1.chunks.first?.hash)
        let loc = try XCTUnwrap(objects.packs.location(bad, refresh: false))
        XCTAssertEqual(loc.state, .committed)
        let pack = dataDir.appendingPathComponent("store/objects/packs")
            .appendingPathComponent(try XCTUnwrap(entries(pack: true).first))
        // Same length, other bytes, written where the record's bytes are.
        let fd = open(pack.path, O_WRONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let damage = Array("CONTENT TO DAMAGE".utf8)
        XCTAssertEqual(damage.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(loc.offset)) }, damage.count)
        close(fd)
        let report = try store.fsck()
        XCTAssertEqual(report.problems.map(\.object), [bad.hex], "\(report.problems)")
        XCTAssertTrue(report.problems[0].problem.contains("damaged"), report.problems[0].problem)
        XCTAssertEqual(try store.text("r", "master", "/good"), "good content")
    }

    func entries(pack: Bool) -> [String] {
        let dir = dataDir.appendingPathComponent("store/objects/packs")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".pack") }.sorted()
    }

    func testGCFreesPackedObjectsForGood() throws {
        try store.createRepo("gone")
        try store.createRepo("kept")
        var files: [String: String] = [:]
        for i in 0..<200 { files["/f\(i)"] = "file \(i) " + String(repeating: "x", count: i * 10) }
        try store.putFiles("gone", "master", files)
        try store.putFiles("kept", "master", ["/a": "kept a", "/b": "kept b"])
        try store.deleteRepo("gone")
        let first = try store.gc()
        XCTAssertGreaterThanOrEqual(first.objectsRemoved, 200)
        XCTAssertEqual(try store.gc().objectsRemoved, 0)
        store = nil
        store = try openStore()
        XCTAssertEqual(try store.gc().objectsRemoved, 0, "deleted packed objects came back after a restart")
        XCTAssertTrue(try store.fsck().ok)
        XCTAssertEqual(try store.text("kept", "master", "/b"), "kept b")
    }
}

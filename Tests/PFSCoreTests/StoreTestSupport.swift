import Foundation
import Synchronization
import XCTest
@testable import PFSCore

/// Base of the store tests: every test gets a fresh temporary data directory, removed in tearDown.
/// The directories live in a RAM filesystem when there is one (/dev/shm): a store syncs every commit, and on a
/// VM disk each sync costs tens of milliseconds, which would make this suite minutes long. What these tests
/// check (trees, commits, GC, fsck) does not depend on the disk; ObjectStoreTests cover durability.
/// `PFS_TEST_DIR` overrides the place.
class StoreTestCase: XCTestCase {
    private(set) var dataDir: URL!

    static let baseDirectory: URL = {
        if let dir = ProcessInfo.processInfo.environment["PFS_TEST_DIR"] { return URL(fileURLWithPath: dir) }
        if access("/dev/shm", W_OK) == 0 { return URL(fileURLWithPath: "/dev/shm") }
        return FileManager.default.temporaryDirectory
    }()

    override func setUpWithError() throws {
        try super.setUpWithError()
        dataDir = Self.baseDirectory
            .appendingPathComponent("pfs-store-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dataDir { try? FileManager.default.removeItem(at: dataDir) }
        dataDir = nil
        try super.tearDownWithError()
    }

    /// Where new objects up to this size go to packs (nil: the default). Tests that damage or remove single
    /// object files on disk use 0.
    var packLimit: Int? { nil }

    /// A store on `dataDir/store` (a second call on the same directory opens the same data).
    func openStore() throws -> Store {
        try Store(dataDir: dataDir.appendingPathComponent("store", isDirectory: true), packLimit: packLimit)
    }

    /// An object store + tree store on `dataDir/objects` (for tests of trees without metadata).
    func openTrees(cacheEntries: Int = 400_000) throws -> TreeStore {
        let objects = try LocalObjectStore(directory: dataDir.appendingPathComponent("objects", isDirectory: true))
        return TreeStore(objects: objects, cacheEntries: cacheEntries)
    }
}

/// Fails unless `body` throws a `PFSError` with `code`; returns the error for further checks.
@discardableResult
func assertPFSError<T>(_ code: PFSError.Code, _ body: @autoclosure () throws -> T,
                       _ message: String = "", file: StaticString = #filePath, line: UInt = #line) -> PFSError? {
    do {
        let value = try body()
        XCTFail("expected \(code) but got \(value) \(message)", file: file, line: line)
        return nil
    } catch let e as PFSError {
        XCTAssertEqual(e.code, code, "\(e.message) \(message)", file: file, line: line)
        return e
    } catch {
        XCTFail("expected PFSError \(code) but got \(error) \(message)", file: file, line: line)
        return nil
    }
}

func assertFsckClean(_ store: Store, file: StaticString = #filePath, line: UInt = #line) throws {
    let report = try store.fsck()
    XCTAssertTrue(report.ok, "\(report.problems)", file: file, line: line)
}

/// Counts the puts that go through it (and how many were new), forwarding everything to a real batch.
final class CountingBatch: ObjectBatch {
    let inner: any ObjectBatch
    private let counts = Mutex((puts: 0, new: 0))

    init(_ inner: any ObjectBatch) { self.inner = inner }

    var puts: Int { counts.withLock { $0.puts } }
    var newPuts: Int { counts.withLock { $0.new } }

    @discardableResult
    func put(_ hash: ObjectHash, _ bytes: UnsafeRawBufferPointer) throws -> Bool {
        let fresh = try inner.put(hash, bytes)
        counts.withLock {
            $0.puts += 1
            if fresh { $0.new += 1 }
        }
        return fresh
    }

    func commit() throws { try inner.commit() }
    func abort() { inner.abort() }
    var newBytes: Int64 { inner.newBytes }
    var stagedCount: Int { inner.stagedCount }
}

/// A deterministic generator (SplitMix64) so randomized tests can be replayed from their seed.
struct StoreTestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A file entry whose content is identified by `content` (the chunks are not stored: trees do not read them).
func fakeFile(_ name: String, _ content: String, mode: UInt32 = TreeEntry.defaultFileMode, mtimeNs: Int64 = 1_000) -> TreeEntry {
    let bytes = Array(content.utf8)
    let chunks = bytes.isEmpty ? [] : [ChunkRef(hash: ObjectHash.of(bytes), size: Int64(bytes.count))]
    return TreeEntry.file(name: name, content: FileContent(chunks: chunks, size: Int64(bytes.count)), mode: mode,
                          mtimeNs: mtimeNs)
}

let zeroHash = ObjectHash(w0: 0, w1: 0, w2: 0, w3: 0)

extension Store {
    /// The whole content of a file, read back chunk by chunk through `read`.
    func readAll(repo: String, ref: String, path: String) throws -> [UInt8] {
        let (_, content) = try openFile(repo: repo, ref: ref, path: path)
        var out: [UInt8] = []
        try read(content) { out += $0 }
        return out
    }

    /// One put session with `body`, committed.
    @discardableResult
    func put(_ repo: String, _ ref: String, _ body: (PutSession) throws -> Void) throws -> PutResult {
        let s = try beginPut(repo: repo, ref: ref)
        do {
            try body(s)
        } catch {
            s.abort()
            throw error
        }
        return try s.commit()
    }

    /// Writes `files` (path → text) in one session.
    @discardableResult
    func putFiles(_ repo: String, _ ref: String, _ files: [String: String]) throws -> PutResult {
        try put(repo, ref) { s in
            for (p, text) in files.sorted(by: { $0.key < $1.key }) { try s.putFile(path: p, Array(text.utf8)) }
        }
    }

    func text(_ repo: String, _ ref: String, _ path: String) throws -> String {
        String(decoding: try readAll(repo: repo, ref: ref, path: path), as: UTF8.self)
    }

    /// Paths of every entry below `/`, with a trailing `/` for directories.
    func paths(_ repo: String, _ ref: String) throws -> [String] {
        try listFiles(repo: repo, ref: ref, recursive: true).map { $0.type == .dir ? $0.path + "/" : $0.path }
    }
}

import Foundation
import Synchronization
import XCTest
@testable import PFSCore
#if canImport(Glibc)
import Glibc
#endif

final class FileIngesterTests: ObjectsTestCase {
    let small = Chunker(params: ChunkerParams(minSize: 1024, avgSize: 4096, maxSize: 16384))

    func makeStore() throws -> LocalObjectStore {
        try LocalObjectStore(directory: storeDir)
    }

    /// Ingests `data` in writes of the given sizes (cycled).
    func ingest(_ data: [UInt8], store: ObjectStore, batch: ObjectBatch, chunker: Chunker = Chunker(),
                prefix: [ChunkRef] = [], writes: [Int] = [256 << 10]) throws -> FileContent {
        let ingester = try FileIngester(store: store, batch: batch, chunker: chunker, appendingTo: prefix)
        try data.withUnsafeBytes { raw in
            var offset = 0, k = 0
            while offset < raw.count {
                let n = Swift.min(writes[k % writes.count], raw.count - offset)
                try ingester.write(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + n)]))
                offset += n
                k += 1
            }
        }
        return try ingester.finish()
    }

    /// What chunking the whole of `data` at once gives.
    func expectedContent(_ data: [UInt8], _ chunker: Chunker = Chunker()) -> FileContent {
        var offset = 0
        let chunks = cdcCutLengths(data, chunker).map { len -> ChunkRef in
            defer { offset += len }
            return ChunkRef(hash: ObjectHash.of(data[offset..<(offset + len)]), size: Int64(len))
        }
        return FileContent(chunks: chunks, size: Int64(data.count))
    }

    func reassemble(_ content: FileContent, _ store: ObjectStore) throws -> [UInt8] {
        var out: [UInt8] = []
        for c in content.chunks { out += try store.read(c.hash) }
        return out
    }

    func testEmptyFile() throws {
        let store = try makeStore()
        let batch = store.makeBatch()
        let content = try ingest([], store: store, batch: batch)
        XCTAssertEqual(content, FileContent(chunks: [], size: 0))
        XCTAssertEqual(batch.newBytes, 0)
        let ingester = try FileIngester(store: store, batch: batch)
        try ingester.write([])
        XCTAssertEqual(try ingester.finish(), FileContent(chunks: [], size: 0))
    }

    func testOneByteFile() throws {
        let store = try makeStore()
        let batch = store.makeBatch()
        let content = try ingest([0x41], store: store, batch: batch)
        XCTAssertEqual(content, FileContent(chunks: [ChunkRef(hash: ObjectHash.of([UInt8(0x41)]), size: 1)], size: 1))
        try batch.commit()
        XCTAssertEqual(try store.read(content.chunks[0].hash), [0x41])
    }

    func testChunksEqualWholeBufferChunkingWhateverTheWriteSizes() throws {
        let store = try makeStore()
        let data = cdcRandomBytes(count: 11 << 20 | 12345, seed: 31)
        let expected = expectedContent(data)
        XCTAssertGreaterThan(expected.chunks.count, 5)
        for writes in [[256 << 10], [1], [7, 100_000, 3, 4 << 20, 65536], [64 << 20]] {
            let batch = store.makeBatch()
            // One-byte writes over 11 MiB would be slow in debug builds; use them on a prefix only.
            let input = writes == [1] ? Array(data.prefix(600_000)) : data
            let content = try ingest(input, store: store, batch: batch, writes: writes)
            XCTAssertEqual(content, writes == [1] ? expectedContent(input) : expected, "writes \(writes)")
            try batch.commit()
            XCTAssertEqual(try reassemble(content, store), input)
        }
    }

    func testManySmallChunksThroughTheWorker() throws {
        // Small parameters: thousands of chunks, many slab rotations and spare-slab reuses.
        let store = try makeStore()
        let data = cdcRandomBytes(count: 3 << 20, seed: 32)
        let expected = expectedContent(data, small)
        XCTAssertGreaterThan(expected.chunks.count, 500)
        for writes in [[1000], [5000, 17, 40_000], [3 << 20]] {
            let batch = store.makeBatch()
            let content = try ingest(data, store: store, batch: batch, chunker: small, writes: writes)
            XCTAssertEqual(content, expected)
            try batch.commit()
            XCTAssertEqual(try reassemble(content, store), data)
        }
    }

    func testIdenticalReputStoresNothing() throws {
        let store = try makeStore()
        let data = cdcRandomBytes(count: 6 << 20, seed: 33)
        let first = store.makeBatch()
        let a = try ingest(data, store: store, batch: first)
        try first.commit()
        XCTAssertEqual(first.newBytes, Int64(data.count))
        let second = store.makeBatch()
        let b = try ingest(data, store: store, batch: second, writes: [100_000])
        XCTAssertEqual(a, b)
        XCTAssertEqual(second.newBytes, 0)
        XCTAssertEqual(tempFiles(), [])
    }

    func testAppendEqualsWholeFileAndStoresOnlyNewChunks() throws {
        let store = try makeStore()
        let original = cdcRandomBytes(count: 64 << 20, seed: 34)
        let appended = cdcRandomBytes(count: 1 << 20, seed: 35)
        let first = store.makeBatch()
        let base = try ingest(original, store: store, batch: first, writes: [1 << 20])
        try first.commit()

        let second = store.makeBatch()
        let content = try ingest(appended, store: store, batch: second, prefix: base.chunks)
        try second.commit()
        XCTAssertEqual(content, expectedContent(original + appended))
        XCTAssertEqual(content.size, Int64(original.count + appended.count))
        let newChunks = content.chunks.filter { !base.chunks.contains($0) }
        XCTAssertGreaterThanOrEqual(newChunks.count, 1)
        XCTAssertLessThanOrEqual(newChunks.count, 3)
        XCTAssertEqual(second.newBytes, newChunks.reduce(Int64(0)) { $0 + $1.size })
        XCTAssertLessThan(second.newBytes, 10 << 20)
        XCTAssertEqual(Array(content.chunks.prefix(base.chunks.count - 1)), Array(base.chunks.dropLast()))
    }

    func testAppendToAFileStagedInTheSameBatch() throws {
        let store = try makeStore()
        let batch = store.makeBatch()
        let part1 = cdcRandomBytes(count: 3 << 20, seed: 36), part2 = cdcRandomBytes(count: 2 << 20, seed: 37)
        let a = try ingest(part1, store: store, batch: batch)
        // The last chunk of `a` is only staged: the ingester reads it from the batch.
        let b = try ingest(part2, store: store, batch: batch, prefix: a.chunks)
        try batch.commit()
        XCTAssertEqual(b, expectedContent(part1 + part2))
        XCTAssertEqual(try reassemble(b, store), part1 + part2)
    }

    func testSmallAppends() throws {
        let store = try makeStore()
        var whole: [UInt8] = []
        var content = FileContent(chunks: [], size: 0)
        for i in 0..<20 {
            let piece = cdcRandomBytes(count: 3000 + i * 500, seed: UInt64(200 + i))
            let batch = store.makeBatch()
            content = try ingest(piece, store: store, batch: batch, chunker: small, prefix: content.chunks)
            try batch.commit()
            whole += piece
            XCTAssertEqual(content, expectedContent(whole, small))
        }
        XCTAssertEqual(try reassemble(content, store), whole)
    }

    func testAppendWithAMissingOrDamagedLastChunk() throws {
        let store = try makeStore()
        let batch = store.makeBatch()
        let h = try batch.put([1, 2, 3])
        try batch.commit()
        XCTAssertThrowsError(try FileIngester(store: store, batch: store.makeBatch(),
                                              appendingTo: [ChunkRef(hash: ObjectHash.of([UInt8(9)]), size: 1)])) {
            XCTAssertEqual(($0 as? PFSError)?.code, .notFound)
        }
        XCTAssertThrowsError(try FileIngester(store: store, batch: store.makeBatch(),
                                              appendingTo: [ChunkRef(hash: h, size: 4)])) {
            XCTAssertEqual(($0 as? PFSError)?.code, .corrupt)
        }
    }

    func testWorkerErrorsSurface() throws {
        let store = try makeStore()
        let data = cdcRandomBytes(count: 2 << 20, seed: 38)
        // Fails on the 5th put: the 5th chunk goes through the worker thread.
        let failing = FailingBatch(store.makeBatch(), failAt: 5)
        let ingester = try FileIngester(store: store, batch: failing, chunker: small)
        var thrown: (any Error)?
        do {
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    try ingester.write(UnsafeRawBufferPointer(rebasing: raw[offset..<Swift.min(offset + 4096, raw.count)]))
                    offset += 4096
                }
            }
            _ = try ingester.finish()
        } catch {
            thrown = error
        }
        XCTAssertEqual((thrown as? PFSError)?.code, .noSpace)
        // Every later call rethrows it.
        XCTAssertThrowsError(try ingester.write([1])) { XCTAssertEqual(($0 as? PFSError)?.code, .noSpace) }
        XCTAssertThrowsError(try ingester.finish()) { XCTAssertEqual(($0 as? PFSError)?.code, .noSpace) }
        failing.abort()
        XCTAssertEqual(tempFiles(), [])
    }

    func testInlineErrorsSurface() throws {
        let store = try makeStore()
        let failing = FailingBatch(store.makeBatch(), failAt: 1)
        let ingester = try FileIngester(store: store, batch: failing)
        try ingester.write([1, 2, 3])
        XCTAssertThrowsError(try ingester.finish()) { XCTAssertEqual(($0 as? PFSError)?.code, .noSpace) }
    }

    func testUseAfterFinishIsAnError() throws {
        let store = try makeStore()
        let ingester = try FileIngester(store: store, batch: store.makeBatch())
        _ = try ingester.finish()
        XCTAssertThrowsError(try ingester.write([1]))
        XCTAssertThrowsError(try ingester.finish())
    }

    /// Prints throughput only (meaningful in release builds).
    func testIngestThroughput() throws {
        let store = try makeStore()
        let data = cdcRandomBytes(count: 128 << 20, seed: 39)
        let batch = store.makeBatch()
        let start = Date()
        let content = try ingest(data, store: store, batch: batch)
        let ingested = Date()
        try batch.commit()
        let committed = Date()
        print(String(format: "ingest: %.2f GB/s (%d chunks), commit %.3f s, end to end %.2f GB/s",
                     Double(data.count) / ingested.timeIntervalSince(start) / 1e9, content.chunks.count,
                     committed.timeIntervalSince(ingested), Double(data.count) / committed.timeIntervalSince(start) / 1e9))
    }
}

/// A batch that fails with ENOSPC on the n-th put (1-based), delegating everything else.
final class FailingBatch: ObjectBatch {
    let inner: ObjectBatch
    let failAt: Int
    private let puts = Mutex(0)

    init(_ inner: ObjectBatch, failAt: Int) {
        self.inner = inner
        self.failAt = failAt
    }

    func put(_ hash: ObjectHash, _ bytes: UnsafeRawBufferPointer) throws -> Bool {
        let n = puts.withLock { count -> Int in
            count += 1
            return count
        }
        if n == failAt { throw PFSError.syscall("write", path: "/test/object", errno: ENOSPC) }
        return try inner.put(hash, bytes)
    }

    func commit() throws { try inner.commit() }
    func abort() { inner.abort() }
    var newBytes: Int64 { inner.newBytes }
    var stagedCount: Int { inner.stagedCount }
}

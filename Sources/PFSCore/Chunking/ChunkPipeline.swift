import Foundation

/// Hashes (SHA-256) and stages the chunks an ingester cuts, on one worker thread, while the ingester's
/// caller keeps copying and cutting. At most `maxInFlight` chunks are queued or running, so memory stays
/// bounded whatever the file size. The first error of the worker is kept and thrown by every later call.
///
/// A dedicated thread (started on the first submission, so small files never pay for it) rather than a
/// Dispatch queue: the worker blocks on disk writes, and a caller blocked in `submit` must never wait for
/// a pool thread that is itself busy.
final class ChunkPipeline: @unchecked Sendable {
    private struct Job {
        let seq: Int
        let slab: IngestSlab
        let offset: Int
        let length: Int
    }

    let batch: any ObjectBatch
    let maxInFlight: Int

    // Everything below, and `IngestSlab.pending` of every slab handed in, is guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var inFlight = 0
    private var results: [ChunkRef?] = []
    private var failure: (any Error)?
    private var workerStarted = false
    private var closed = false

    init(batch: any ObjectBatch, maxInFlight: Int = 4) {
        self.batch = batch
        self.maxInFlight = maxInFlight
    }

    /// Hashes and stages one chunk on the calling thread (used for files that never needed the worker).
    func processInline(_ bytes: UnsafeRawBufferPointer) throws {
        let ref = try Self.stage(bytes, batch)
        condition.lock()
        results.append(ref)
        condition.unlock()
    }

    /// Queues a chunk that lives in `slab`; blocks while `maxInFlight` chunks are queued or running.
    func submit(_ slab: IngestSlab, offset: Int, length: Int) throws {
        condition.lock()
        defer { condition.unlock() }
        if !workerStarted {
            workerStarted = true
            let thread = Thread { [self] in workerLoop() }
            thread.name = "pfs-ingest"
            thread.start()
        }
        while inFlight >= maxInFlight && failure == nil { condition.wait() }
        if let failure { throw failure }
        let seq = results.count
        results.append(nil)
        jobs.append(Job(seq: seq, slab: slab, offset: offset, length: length))
        inFlight += 1
        slab.pending += 1
        condition.broadcast()
    }

    /// Blocks until no queued or running chunk reads from `slab`, so it can be overwritten.
    func waitUntilFree(_ slab: IngestSlab) {
        condition.lock()
        while slab.pending > 0 { condition.wait() }
        condition.unlock()
    }

    /// Waits for every chunk, then returns their refs in the order they were cut (or the first error).
    func drain() throws -> [ChunkRef] {
        condition.lock()
        defer { condition.unlock() }
        while inFlight > 0 { condition.wait() }
        if let failure { throw failure }
        return results.map { $0! }
    }

    /// Lets the worker thread exit once the queue is empty. Called by the ingester when it finishes or goes away.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func workerLoop() {
        condition.lock()
        while true {
            while jobs.isEmpty && !closed { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            let skip = failure != nil
            condition.unlock()

            var ref: ChunkRef?
            var error: (any Error)?
            if !skip {
                do {
                    ref = try Self.stage(UnsafeRawBufferPointer(start: job.slab.base + job.offset, count: job.length), batch)
                } catch let e {
                    error = e
                }
            }

            condition.lock()
            results[job.seq] = ref
            if let error, failure == nil { failure = error }
            inFlight -= 1
            job.slab.pending -= 1
            condition.broadcast()
        }
    }

    private static func stage(_ bytes: UnsafeRawBufferPointer, _ batch: any ObjectBatch) throws -> ChunkRef {
        let hash = ObjectHash.of(bytes)
        try batch.put(hash, bytes)
        return ChunkRef(hash: hash, size: Int64(bytes.count))
    }
}

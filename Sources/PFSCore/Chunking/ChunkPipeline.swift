import Foundation

/// Hashes (SHA-256) and stages the chunks an ingester cuts, off the caller's thread: a hasher thread
/// computes each chunk's hash and hands it to a writer thread that stages it in the batch (dedup check and
/// temp-file write). Three stages — the caller copying and cutting, hashing, writing into the page cache —
/// each cost about the same per byte, so on two cores they overlap far better than hash+write in one thread.
/// At most `maxInFlight` chunks are queued or in work, so memory stays bounded whatever the file size.
/// The first error is kept and thrown by every later call.
///
/// Dedicated threads (started on the first submission, so small files never pay for them) rather than
/// Dispatch queues: the stages block on disk writes, and a caller blocked in `submit` must never wait for a
/// pool thread that is itself busy.
final class ChunkPipeline: @unchecked Sendable {
    private struct Job {
        let seq: Int
        let slab: IngestSlab
        let offset: Int
        let length: Int
        var hash: ObjectHash?

        var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: slab.base + offset, count: length) }
    }

    let batch: any ObjectBatch
    let maxInFlight: Int

    // Everything below, and `IngestSlab.pending` of every slab handed in, is guarded by `condition`.
    private let condition = NSCondition()
    /// Cut, waiting for the hasher.
    private var toHash: [Job] = []
    /// Hashed, waiting for the writer.
    private var toWrite: [Job] = []
    /// Jobs the hasher took and has not handed on yet.
    private var hashing = 0
    /// Every job submitted and not completed by the writer.
    private var inFlight = 0
    private var results: [ChunkRef?] = []
    private var failure: (any Error)?
    private var threadsStarted = false
    private var closed = false

    init(batch: any ObjectBatch, maxInFlight: Int = 4) {
        self.batch = batch
        self.maxInFlight = maxInFlight
    }

    /// Hashes and stages one chunk on the calling thread (used for files that never needed the threads).
    func processInline(_ bytes: UnsafeRawBufferPointer) throws {
        let hash = ObjectHash.of(bytes)
        try batch.put(hash, bytes)
        condition.lock()
        results.append(ChunkRef(hash: hash, size: Int64(bytes.count)))
        condition.unlock()
    }

    /// Queues a chunk that lives in `slab`; blocks while `maxInFlight` chunks are queued or in work.
    func submit(_ slab: IngestSlab, offset: Int, length: Int) throws {
        condition.lock()
        defer { condition.unlock() }
        if !threadsStarted {
            threadsStarted = true
            let hasher = Thread { [self] in hasherLoop() }
            hasher.name = "pfs-ingest-hash"
            hasher.start()
            let writer = Thread { [self] in writerLoop() }
            writer.name = "pfs-ingest-write"
            writer.start()
        }
        while inFlight >= maxInFlight && failure == nil { condition.wait() }
        if let failure { throw failure }
        let seq = results.count
        results.append(nil)
        toHash.append(Job(seq: seq, slab: slab, offset: offset, length: length, hash: nil))
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

    /// Lets the threads exit once the queues are empty. Called by the ingester when it finishes or goes away.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func hasherLoop() {
        condition.lock()
        while true {
            while toHash.isEmpty && !closed { condition.wait() }
            if toHash.isEmpty {
                condition.unlock()
                return
            }
            var job = toHash.removeFirst()
            hashing += 1
            let skip = failure != nil
            condition.unlock()

            if !skip { job.hash = ObjectHash.of(job.bytes) }

            condition.lock()
            hashing -= 1
            toWrite.append(job)
            condition.broadcast()
        }
    }

    private func writerLoop() {
        condition.lock()
        while true {
            while toWrite.isEmpty && !(closed && toHash.isEmpty && hashing == 0) { condition.wait() }
            if toWrite.isEmpty {
                condition.unlock()
                return
            }
            let job = toWrite.removeFirst()
            let skip = failure != nil
            condition.unlock()

            var ref: ChunkRef?
            var error: (any Error)?
            if !skip, let hash = job.hash {
                do {
                    try batch.put(hash, job.bytes)
                    ref = ChunkRef(hash: hash, size: Int64(job.length))
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
}

import Foundation

/// Turns a stream of bytes into stored chunks: the hot path of `put file` and of writes through the mount.
///
/// Data is copied once, into a slab (a rolling buffer of 2 × maxSize bytes); the chunker cuts it as it
/// arrives, resuming where its last scan stopped (each byte is scanned once); every chunk is hashed and
/// written to a temp file by a worker thread straight from the slab while the caller keeps copying and
/// cutting. When a slab fills, only the bytes after the last cut (less than one chunk) move to the next
/// slab. Memory stays bounded: two slabs, at most four chunks in flight.
///
/// Not thread-safe: one caller at a time. `write` and `finish` block (on the worker and on disk writes),
/// so call them from a thread that may block. An error of the worker is thrown by the next `write` or by
/// `finish`; after an error the ingester only rethrows it.
public final class FileIngester {
    private let store: any ObjectStore
    private let batch: any ObjectBatch
    private let chunker: Chunker
    private let pipeline: ChunkPipeline
    /// Chunks of the existing file kept as they are (all but the last, which is re-chunked).
    private let keptChunks: [ChunkRef]
    private let keptSize: Int64
    private let slabCapacity: Int

    private var slab: IngestSlab
    /// A full-size slab retired earlier, reused once the worker no longer reads from it.
    private var spare: IngestSlab?
    /// `slab[start..<end]` holds the bytes not cut yet (the chunk being formed).
    private var start = 0
    private var end = 0
    private var scan = Chunker.ScanState()
    private var usingWorker = false
    /// Bytes fed to the chunker (including the re-read last chunk of an append).
    private var fed: Int64 = 0
    private var failure: (any Error)?
    private var finished = false

    /// Slabs start small and double up to full size, so small files allocate only what they need.
    private static let initialSlabCapacity = 64 << 10

    /// `prefix`: chunks of an existing file to keep before the new data (for append: pass the existing chunks;
    /// the ingester re-reads the LAST existing chunk from the store — or from `batch`, if it was staged there
    /// and not committed yet — and re-chunks it together with the new bytes so the result equals chunking
    /// the whole file, while only new chunks are stored).
    public init(store: ObjectStore, batch: ObjectBatch, chunker: Chunker = Chunker(), appendingTo prefix: [ChunkRef] = []) throws {
        self.store = store
        self.batch = batch
        self.chunker = chunker
        self.pipeline = ChunkPipeline(batch: batch)
        self.slabCapacity = 2 * chunker.params.maxSize
        self.slab = IngestSlab(capacity: Swift.min(Self.initialSlabCapacity, slabCapacity))
        self.keptChunks = Array(prefix.dropLast())
        self.keptSize = keptChunks.reduce(Int64(0)) { $0 + $1.size }
        if let last = prefix.last {
            let bytes = try Self.readChunk(last, store: store, batch: batch)
            try write(bytes)
        }
    }

    deinit {
        pipeline.close()
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try checkUsable()
        guard bytes.count > 0, var source = bytes.baseAddress else { return }
        var remaining = bytes.count
        do {
            while remaining > 0 {
                if end == slab.capacity { try rotate(incoming: remaining) }
                let n = Swift.min(remaining, slab.capacity - end)
                (slab.base + end).copyMemory(from: source, byteCount: n)
                end += n
                source += n
                remaining -= n
                try cut(isFinal: false)
            }
        } catch {
            failure = error
            throw error
        }
        fed += Int64(bytes.count)
    }

    /// Cuts the rest, waits for every chunk to be staged in the batch and returns the file's content.
    /// The chunks are staged, not committed: the caller commits the batch.
    public func finish() throws -> FileContent {
        try checkUsable()
        finished = true
        defer {
            pipeline.close()
            // The buffers are not needed any more; do not hold them until the ingester is released.
            slab = IngestSlab(capacity: 0)
            spare = nil
        }
        do {
            try cut(isFinal: true)
            let chunks = try pipeline.drain()
            let content = FileContent(chunks: keptChunks + chunks, size: keptSize + fed)
            assert(content.chunks.reduce(Int64(0)) { $0 + $1.size } == content.size, "chunk sizes do not add up")
            return content
        } catch {
            failure = error
            throw error
        }
    }

    private func checkUsable() throws {
        if let failure { throw failure }
        if finished { throw PFSError(.internal, "FileIngester used after finish()") }
    }

    /// Cuts every chunk that the buffered bytes determine (all of them when `isFinal`).
    private func cut(isFinal: Bool) throws {
        while start < end {
            let buffer = UnsafeRawBufferPointer(start: slab.base + start, count: end - start)
            guard let length = chunker.nextCut(buffer, isFinal: isFinal, resuming: &scan) else { return }
            if isFinal && !usingWorker {
                // A small file: hashing inline is cheaper than waking a thread.
                try pipeline.processInline(UnsafeRawBufferPointer(start: slab.base + start, count: length))
            } else {
                usingWorker = true
                try pipeline.submit(slab, offset: start, length: length)
            }
            start += length
            scan = Chunker.ScanState()
        }
    }

    /// The slab is full: continue in a fresh one (bigger while growing), carrying over the uncut bytes.
    private func rotate(incoming: Int) throws {
        let tail = end - start   // < maxSize: a chunk is cut as soon as maxSize bytes are buffered
        let next: IngestSlab
        if slab.capacity < slabCapacity {
            next = IngestSlab(capacity: Swift.min(slabCapacity, Swift.max(slab.capacity * 2, tail + incoming)))
        } else if let spare {
            pipeline.waitUntilFree(spare)
            next = spare
        } else {
            next = IngestSlab(capacity: slabCapacity)
        }
        next.base.copyMemory(from: slab.base + start, byteCount: tail)
        spare = slab.capacity == slabCapacity ? slab : nil
        slab = next
        start = 0
        end = tail
    }

    private static func readChunk(_ chunk: ChunkRef, store: any ObjectStore, batch: any ObjectBatch) throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try store.read(chunk.hash)
        } catch let error as PFSError where error.code == .notFound {
            // Written earlier in this same batch (e.g. two appends in one request): read the staged copy.
            guard let local = batch as? LocalObjectBatch, let staged = try local.readStaged(chunk.hash) else { throw error }
            bytes = staged
        }
        guard bytes.count == chunk.size else {
            throw PFSError.corrupt("chunk \(chunk.hash) holds \(bytes.count) bytes but the file records \(chunk.size); run `pfs fsck`")
        }
        return bytes
    }
}

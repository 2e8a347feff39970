/// A block of memory the ingester buffers file data in. Chunks cut from it are hashed and written by the
/// ingest worker straight from here (no copy), so a slab is reused only when no job still points into it.
final class IngestSlab: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    /// Jobs of the worker that still read from this slab. Guarded by the owning `ChunkPipeline`'s lock.
    var pending = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit {
        base.deallocate()
    }
}

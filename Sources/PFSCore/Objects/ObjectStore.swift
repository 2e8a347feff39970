import Foundation

/// Where chunks and trees live, addressed by the SHA-256 of their bytes. Objects are immutable: an object
/// that is visible under its hash is complete, so `contains` may be trusted for dedup.
/// Implementations are thread-safe.
public protocol ObjectStore: AnyObject, Sendable {
    /// Whether the object is stored (committed). Staged, uncommitted objects are not.
    func contains(_ hash: ObjectHash) -> Bool
    /// Whether the object can be read: stored, or written by another store instance on the same directory that
    /// this one cannot know to be durable (see `LocalObjectStore`'s packs). For checks of what metadata
    /// references (fsck, restoring open commits), never for dedup.
    func exists(_ hash: ObjectHash) -> Bool
    /// The whole object; `PFSError(.notFound)` if it is missing.
    func read(_ hash: ObjectHash) throws -> [UInt8]
    /// `length` bytes from `offset` (fewer at the end of the object, none past it); `.notFound` if missing.
    func read(_ hash: ObjectHash, offset: Int, length: Int) throws -> [UInt8]
    /// The object's length in bytes; `.notFound` if missing.
    func size(_ hash: ObjectHash) throws -> Int64
    /// A new batch for writing objects; nothing it stages is visible until `commit()`.
    func makeBatch() -> ObjectBatch
    /// A batch whose objects are readable (`read`, `size`; not `contains`, so dedup never trusts them) as soon
    /// as `put` returns, and survive a crash of the process without a `commit()`: they are made durable and
    /// moved into place by `commit()` or, after a crash, when the store is opened again. `abort()` does nothing
    /// (what a failed write left becomes an orphan for GC). The mount's closed files go here.
    func makeDeferredBatch() -> ObjectBatch
    /// Removes an object (GC only); `.notFound` if missing. Its space may only be freed by `finishDeletes()`.
    func delete(_ hash: ObjectHash) throws
    /// Frees the space of the objects `delete` removed (GC calls it after its deletes, with no writers running).
    func finishDeletes() throws
    /// Every stored object (hash, size, mtime). Used by GC and fsck. Skips temp files.
    func forEachObject(_ body: (ObjectHash, Int64, Date) throws -> Void) throws
    /// Reads from `offset` into `buffer` (the hot path of the mount: no intermediate arrays); returns the bytes read.
    func read(_ hash: ObjectHash, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Hints that the object will be read soon (starts reading it from disk in the background).
    func prefetch(_ hash: ObjectHash)
}

extension ObjectStore {
    public func read(_ hash: ObjectHash, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let bytes = try read(hash, offset: offset, length: buffer.count)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return bytes.count
    }

    public func prefetch(_ hash: ObjectHash) {}

    public func finishDeletes() throws {}

    public func exists(_ hash: ObjectHash) -> Bool { contains(hash) }
}

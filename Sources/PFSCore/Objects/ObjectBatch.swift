/// A set of objects written together and made durable at once (the objects of one put, one commit).
/// Implementations are thread-safe: several threads may put into one batch.
public protocol ObjectBatch: AnyObject, Sendable {
    /// Stages an object. Returns true if it was new (not already stored and not already staged in this batch).
    /// The bytes are written to a temp file right away (nothing big is held in memory).
    /// `hash` must be the SHA-256 of `bytes`; the store trusts it.
    @discardableResult func put(_ hash: ObjectHash, _ bytes: UnsafeRawBufferPointer) throws -> Bool
    /// Convenience: hash the bytes (SHA-256) and put them; returns the hash.
    @discardableResult func put(_ bytes: [UInt8]) throws -> ObjectHash
    /// Makes every staged object durable and visible under its final name: data synced, renamed, directory
    /// entries synced. When it returns, a crash cannot lose or truncate any of them. Idempotent; the batch
    /// can keep being used after.
    func commit() throws
    /// Removes staged temp files that were not committed.
    func abort()
    /// Bytes of the objects that were new (staged by this batch and not aborted).
    var newBytes: Int64 { get }
    /// How many objects are staged and not yet committed (each costs the batch some memory until `commit`).
    var stagedCount: Int { get }
}

extension ObjectBatch {
    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> ObjectHash {
        try bytes.withUnsafeBytes { raw in
            let hash = ObjectHash.of(raw)
            try put(hash, raw)
            return hash
        }
    }
}

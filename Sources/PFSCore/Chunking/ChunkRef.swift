/// One chunk of a file's content: the SHA-256 of its bytes (the object it is stored under) and its length.
public struct ChunkRef: Hashable, Sendable, Codable {
    public var hash: ObjectHash
    public var size: Int64

    public init(hash: ObjectHash, size: Int64) {
        self.hash = hash
        self.size = size
    }
}

/// A file's bytes as stored: its chunks in order and its total length (the sum of the chunk sizes).
public struct FileContent: Sendable, Equatable, Codable {
    public var chunks: [ChunkRef]
    public var size: Int64

    public init(chunks: [ChunkRef], size: Int64) {
        self.chunks = chunks
        self.size = size
    }
}

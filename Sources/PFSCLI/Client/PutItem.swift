import PFSCore

/// Where the data of one put record comes from.
public enum PutSource: Sendable, Equatable {
    /// A local file (or a FIFO, or a symlink to a file), opened when its record is sent.
    case localFile(String)
    /// The CLI's standard input.
    case standardInput
    /// An `http://` or `https://` URL, fetched by the CLI and streamed.
    case url(String)
    /// Bytes already in memory.
    case bytes([UInt8])
    /// No data: `mkdir`, `symlink` and `delete` records.
    case none
}

/// One record of a put stream: its header and where its data comes from.
public struct PutItem: Sendable, Equatable {
    public var header: PutRecordHeader
    public var source: PutSource

    public init(header: PutRecordHeader, source: PutSource) {
        self.header = header
        self.source = source
    }
}

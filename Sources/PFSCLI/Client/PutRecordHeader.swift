import PFSCore

/// The JSON header of one put-stream record (docs/api/README.md, "The put stream").
public struct PutRecordHeader: Codable, Sendable, Equatable {
    public enum Op: String, Codable, Sendable {
        /// Replace the file (creating parent directories). Followed by data.
        case put
        /// Add to the file's end (creating it if missing). Followed by data.
        case append
        /// Remove a file or a directory tree.
        case delete
        /// Create an empty directory.
        case mkdir
        /// Store a symbolic link to `target`.
        case symlink

        /// Whether data segments follow the header.
        public var carriesData: Bool { self == .put || self == .append }
    }

    public var op: Op
    public var path: String
    /// POSIX permission bits.
    public var mode: UInt32?
    /// Modification time, nanoseconds since the epoch (`mtime_ns` on the wire).
    public var mtimeNs: Int64?
    /// The link target, for `symlink`.
    public var target: String?

    public init(op: Op, path: String, mode: UInt32? = nil, mtimeNs: Int64? = nil, target: String? = nil) {
        self.op = op
        self.path = path
        self.mode = mode
        self.mtimeNs = mtimeNs
        self.target = target
    }
}

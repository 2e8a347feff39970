import Foundation

/// What a 1.x incremental datum shows of one path (see `Incrementality.incrementalPaths`).
public struct IncrementalPiece: Codable, Sendable, Equatable {
    public enum Kind: Codable, Sendable, Equatable {
        /// The whole path: a new or rewritten file, or (incremental `file`) a whole changed top-level object.
        case whole
        /// An appended file: only its bytes from `from` (the previous size) on.
        case appended(from: Int64)
    }

    /// Clean, absolute path in the input commit.
    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }
}

import Foundation

/// The one error type of pfs. `code` is stable (it travels through the API as a string),
/// `message` says what was wrong and what to do, `cause` keeps the underlying error.
public struct PFSError: Error, CustomStringConvertible, Sendable {
    public struct Code: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let notFound = Code(rawValue: "NOT_FOUND")
        public static let alreadyExists = Code(rawValue: "ALREADY_EXISTS")
        public static let invalidArgument = Code(rawValue: "INVALID_ARGUMENT")
        public static let failedPrecondition = Code(rawValue: "FAILED_PRECONDITION")
        public static let ambiguous = Code(rawValue: "AMBIGUOUS")
        public static let readOnly = Code(rawValue: "READ_ONLY")
        public static let notEmpty = Code(rawValue: "NOT_EMPTY")
        public static let noSpace = Code(rawValue: "NO_SPACE")
        public static let io = Code(rawValue: "IO_ERROR")
        public static let corrupt = Code(rawValue: "CORRUPT")
        public static let unavailable = Code(rawValue: "UNAVAILABLE")
        public static let timeout = Code(rawValue: "TIMEOUT")
        public static let isDirectory = Code(rawValue: "IS_DIRECTORY")
        public static let notDirectory = Code(rawValue: "NOT_DIRECTORY")
        public static let `internal` = Code(rawValue: "INTERNAL")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?
    public var file: String
    public var line: Int

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil,
                file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    public var description: String { message }

    public static func notFound(_ m: String, file: String = #fileID, line: Int = #line) -> PFSError {
        PFSError(.notFound, m, file: file, line: line)
    }
    public static func invalid(_ m: String, file: String = #fileID, line: Int = #line) -> PFSError {
        PFSError(.invalidArgument, m, file: file, line: line)
    }
    public static func precondition(_ m: String, file: String = #fileID, line: Int = #line) -> PFSError {
        PFSError(.failedPrecondition, m, file: file, line: line)
    }
    public static func corrupt(_ m: String, file: String = #fileID, line: Int = #line) -> PFSError {
        PFSError(.corrupt, m, file: file, line: line)
    }
}

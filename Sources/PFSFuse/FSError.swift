import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// An errno the filesystem replies with. Every PFSError → errno mapping is in `init(_:)`, one switch.
public struct FSError: Error, Equatable, CustomStringConvertible, Sendable {
    public let errno: Int32
    public let message: String

    public init(_ errno: Int32, _ message: String = "") {
        self.errno = errno
        self.message = message
    }

    public init(_ error: any Error) {
        if let e = error as? FSError { self = e; return }
        guard let e = error as? PFSError else { self.init(EIO, "\(error)"); return }
        let code: Int32
        switch e.code {
        case .notFound: code = ENOENT
        case .alreadyExists: code = EEXIST
        case .invalidArgument: code = EINVAL
        case .readOnly: code = EROFS
        case .notEmpty: code = ENOTEMPTY
        case .isDirectory: code = EISDIR
        case .notDirectory: code = ENOTDIR
        case .noSpace: code = ENOSPC
        case .failedPrecondition, .ambiguous: code = EBUSY
        case .timeout: code = ETIMEDOUT
        case .unavailable: code = EAGAIN
        default: code = EIO
        }
        self.init(code, e.message)
    }

    public var description: String { "\(String(cString: strerror(errno))) (\(errno)): \(message)" }

    static let notFound = FSError(ENOENT)
    static let readOnly = FSError(EROFS, "read-only: a finished commit or a pfs directory")
}

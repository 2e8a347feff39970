import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every errno-to-PFSError mapping of the store lives here, one small factory per syscall family.
extension PFSError {
    /// Wraps a failed system call on `path`. ENOSPC and EDQUOT become `.noSpace` with advice.
    public static func syscall(_ name: String, path: String, errno code: Int32,
                               file: String = #fileID, line: Int = #line) -> PFSError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOSPC, EDQUOT:
            return PFSError(.noSpace,
                            "\(name) \(path): no space left on the device holding the pfs data directory; free some space (or run `pfs gc`) and retry — nothing committed was changed",
                            file: file, line: line)
        case ENOENT:
            return PFSError(.notFound, "\(name) \(path): \(reason)", file: file, line: line)
        case EACCES, EPERM:
            return PFSError(.failedPrecondition, "\(name) \(path): \(reason); check the permissions of that path", file: file, line: line)
        default:
            return PFSError(.io, "\(name) \(path): \(reason) (errno \(code))", file: file, line: line)
        }
    }
}

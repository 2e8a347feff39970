import PFSCore

/// Every exit status the CLI uses, in one place (documented in docs/cli.md, "Exit codes").
///
/// Scripts can tell "the thing is not there" from "the daemon is not running" from "the data on disk is
/// damaged" without parsing messages.
public enum PFSExitCode: Int32, CaseIterable, Sendable {
    /// The command did what was asked.
    case success = 0
    /// Anything not covered below: an internal error in the daemon, an unexpected answer.
    case failure = 1
    /// The command line was wrong: unknown command or flag, missing argument, bad name, path or ref
    /// (also the daemon's `INVALID_ARGUMENT`).
    case usage = 2
    /// A repo, branch, commit or file does not exist (`NOT_FOUND`).
    case notFound = 3
    /// The request conflicts with the current state: `ALREADY_EXISTS`, `FAILED_PRECONDITION`, `AMBIGUOUS`,
    /// `READ_ONLY`, `NOT_EMPTY`, `IS_DIRECTORY`, `NOT_DIRECTORY`.
    case conflict = 4
    /// The daemon could not be reached (no socket, nobody listening, permission denied, connection lost).
    case unavailable = 5
    /// A local I/O problem (unreadable source file, URL that could not be fetched, output not writable)
    /// or the daemon's `IO_ERROR` / `NO_SPACE`.
    case io = 6
    /// `wait commit` / `flush-commit` ran out of time (`TIMEOUT`).
    case timeout = 7
    /// Stored data failed its integrity check: `fsck` found problems, or the daemon answered `CORRUPT`.
    case corrupt = 8

    /// The exit status for an error code, whether it came from the daemon or from the CLI itself.
    public static func forCode(_ code: PFSError.Code) -> PFSExitCode {
        switch code {
        case .invalidArgument: return .usage
        case .notFound: return .notFound
        case .alreadyExists, .failedPrecondition, .ambiguous, .readOnly, .notEmpty, .isDirectory, .notDirectory:
            return .conflict
        case .unavailable: return .unavailable
        case .io, .noSpace: return .io
        case .timeout: return .timeout
        case .corrupt: return .corrupt
        default: return .failure
        }
    }
}

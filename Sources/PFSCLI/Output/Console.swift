#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import PFSCore

/// Unbuffered writes to stdout and stderr. Everything the CLI prints goes through here, so text and streamed
/// file content never interleave out of order.
public enum Console {
    /// Raised when stdout's reader went away (`pfs get file … | head`): the command stops quietly.
    public struct BrokenPipe: Error {}

    public static func out(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(fd: 1, $0) }
    }

    public static func out(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { try write(fd: 1, UnsafeBufferPointer(start: $0.baseAddress?.assumingMemoryBound(to: UInt8.self), count: $0.count)) }
    }

    /// Best effort: a failure to write an error message has nowhere to be reported.
    public static func err(_ text: String) {
        var text = text
        text.withUTF8 { try? write(fd: 2, $0) }
    }

    public static var stderrIsTerminal: Bool { isatty(2) == 1 }

    static func write(fd: Int32, _ bytes: UnsafeBufferPointer<UInt8>) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = LocalFile.writeFD(fd, p, left)
            if n < 0 {
                let e = errno
                if e == EINTR || e == EAGAIN { continue }
                if e == EPIPE { throw BrokenPipe() }
                throw PFSError(.io, "cannot write to \(fd == 1 ? "standard output" : "standard error"): \(LocalFile.errnoMessage(e))")
            }
            p += n
            left -= n
        }
    }
}

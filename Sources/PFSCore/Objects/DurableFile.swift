import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Small files the daemon keeps beside the store (image indexes, aliases, secrets), replaced atomically and
/// durably: a new temporary file in the same directory (created with `mode`, never readable more widely), written
/// in full and fsynced, renamed over the old one, then the directory fsynced. A crash leaves the old file or the
/// new one, never a mix; when this returns, the new one survives a power cut.
public enum DurableFile {
    public static func replace(_ url: URL, with data: Data, mode: mode_t = 0o644) throws {
        let dir = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let tmp = ".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let dfd = try FileIO.openDirectory(dir)
        defer { FileIO.close(dfd) }
        let fd = try FileIO.openAt(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, mode: mode, path: dir + "/" + tmp)
        var open = true
        do {
            // The umask must not loosen or tighten what the caller asked for.
            guard fchmod(fd, mode) == 0 else { throw PFSError.syscall("fchmod", path: dir + "/" + tmp, errno: errno) }
            try data.withUnsafeBytes { try FileIO.pwriteAll(fd, $0.baseAddress, $0.count, offset: 0, path: dir + "/" + tmp) }
            try FileIO.fsync(fd, path: dir + "/" + tmp)
            FileIO.close(fd)
            open = false
            try FileIO.renameAt(dfd, tmp, dfd, name, path: url.path)
        } catch {
            if open { FileIO.close(fd) }
            _ = try? FileIO.unlinkAt(dfd, tmp, path: dir + "/" + tmp)
            throw error
        }
        try FileIO.fsync(dfd, path: dir)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore
import PFSCore

/// `get file`: streams a file to stdout or to a local file, or (`-r`) a directory tree into a local directory.
///
/// Local files are written under a temporary name and renamed into place when complete, so an interrupted
/// download never leaves a truncated file where the real one should be.
struct FileDownloader {
    let client: APIClient

    func get(_ request: GetFileRequest) async throws {
        if request.recursive {
            guard let dir = request.output else {
                throw PFSError.invalid("get file -r writes a directory tree; name the local directory with -o DIR")
            }
            try await getTree(request, into: dir)
            return
        }
        if let output = request.output {
            let file = try PartialFile(finalPath: output)
            do {
                try await client.getFile(repo: request.repo, ref: request.ref, path: request.path) { try file.write($0) }
                try file.complete(mode: nil, mtimeNs: nil)
            } catch {
                file.abandon()
                throw error
            }
        } else {
            try await client.getFile(repo: request.repo, ref: request.ref, path: request.path) { try Console.out($0) }
        }
    }

    private func getTree(_ request: GetFileRequest, into dir: String) async throws {
        let entries = try await client.listFiles(repo: request.repo, ref: request.ref, path: request.path, recursive: true)
        try makeDirectories(dir)
        // A single file: written into the directory under its own name.
        let base: String
        if entries.count == 1, entries[0].path == request.path, entries[0].type != .dir {
            base = parentPath(request.path)
        } else {
            base = request.path
        }
        for entry in entries {
            guard let rel = relative(entry.path, under: base), !rel.isEmpty else { continue }
            let local = dir.hasSuffix("/") ? dir + rel : dir + "/" + rel
            switch entry.type {
            case .dir:
                try makeDirectories(local)
            case .symlink:
                try makeDirectories(parentLocal(local))
                unlink(local)
                if symlink(entry.target ?? "", local) != 0 {
                    let e = errno
                    throw PFSError(.io, "cannot create symlink \(LocalFile.quoted(local)): \(LocalFile.errnoMessage(e))")
                }
            case .file:
                try makeDirectories(parentLocal(local))
                let file = try PartialFile(finalPath: local)
                do {
                    try await client.getFile(repo: request.repo, ref: entry.commit.isEmpty ? request.ref : entry.commit,
                                             path: entry.path) { try file.write($0) }
                    try file.complete(mode: entry.mode, mtimeNs: entry.mtimeNs)
                } catch {
                    file.abandon()
                    throw error
                }
            }
        }
        // Directory modes and times last, since writing files into them changed their mtimes.
        for entry in entries.reversed() where entry.type == .dir {
            guard let rel = relative(entry.path, under: base), !rel.isEmpty else { continue }
            let local = dir.hasSuffix("/") ? dir + rel : dir + "/" + rel
            _ = chmod(local, mode_t(entry.mode & 0o7777))
            PartialFile.setTime(path: local, mtimeNs: entry.mtimeNs)
        }
    }

    /// `path` relative to `base` (both clean absolute paths), with each component checked; nil if outside.
    func relative(_ path: String, under base: String) -> String? {
        let pathComps = Names.components(path)
        let baseComps = Names.components(base)
        guard pathComps.count >= baseComps.count, Array(pathComps.prefix(baseComps.count)) == baseComps else { return nil }
        let rest = pathComps.dropFirst(baseComps.count)
        guard rest.allSatisfy({ $0 != ".." && $0 != "." && !$0.isEmpty }) else { return nil }
        return rest.joined(separator: "/")
    }

    func parentPath(_ path: String) -> String {
        let comps = Names.components(path)
        return "/" + comps.dropLast().joined(separator: "/")
    }

    func parentLocal(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    func makeDirectories(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            var st = stat()
            if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { return }
            throw PFSError(.io, "cannot create local directory \(LocalFile.quoted(path)): \((error as NSError).localizedDescription)")
        }
    }
}

/// A local file being downloaded: written as `<name>.pfs-partial-<pid>`, renamed over `<name>` when complete.
final class PartialFile {
    let finalPath: String
    let tempPath: String
    private var fd: Int32

    init(finalPath: String) throws {
        self.finalPath = finalPath
        var dir = "."
        var name = finalPath
        if let slash = finalPath.lastIndex(of: "/") {
            dir = slash == finalPath.startIndex ? "/" : String(finalPath[..<slash])
            name = String(finalPath[finalPath.index(after: slash)...])
        }
        var st = stat()
        if stat(finalPath, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw PFSError(.io, "cannot write \(LocalFile.quoted(finalPath)): it is a directory (use -r to write a tree into it)")
        }
        tempPath = (dir == "/" ? "" : dir) + "/." + name + ".pfs-partial-\(getpid())"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        if fd < 0 {
            let e = errno
            throw PFSError(.io, "cannot write \(LocalFile.quoted(finalPath)): \(LocalFile.errnoMessage(e))")
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    func write(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { raw in
            var p = raw.baseAddress
            var left = raw.count
            while left > 0 {
                let n = LocalFile.writeFD(fd, p, left)
                if n < 0 {
                    let e = errno
                    if e == EINTR { continue }
                    throw PFSError(.io, "cannot write \(LocalFile.quoted(finalPath)): \(LocalFile.errnoMessage(e))")
                }
                p = p.map { $0 + n }
                left -= n
            }
        }
    }

    func complete(mode: UInt32?, mtimeNs: Int64?) throws {
        if let mode { _ = fchmod(fd, mode_t(mode & 0o7777)) }
        let rc = close(fd)
        fd = -1
        if rc != 0 {
            let e = errno
            unlink(tempPath)
            throw PFSError(.io, "cannot write \(LocalFile.quoted(finalPath)): \(LocalFile.errnoMessage(e))")
        }
        if let mtimeNs { Self.setTime(path: tempPath, mtimeNs: mtimeNs) }
        if rename(tempPath, finalPath) != 0 {
            let e = errno
            unlink(tempPath)
            throw PFSError(.io, "cannot write \(LocalFile.quoted(finalPath)): \(LocalFile.errnoMessage(e))")
        }
    }

    func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(tempPath)
    }

    /// Linux's `UTIME_OMIT` (a macro Swift does not import): leave that time unchanged.
    static let utimeOmit = (1 << 30) - 2

    static func setTime(path: String, mtimeNs: Int64) {
        guard mtimeNs >= 0 else { return }
        var times = [timespec(tv_sec: 0, tv_nsec: utimeOmit),
                     timespec(tv_sec: Int(mtimeNs / 1_000_000_000), tv_nsec: Int(mtimeNs % 1_000_000_000))]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }
}

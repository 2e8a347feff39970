#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PFSCore

/// The few syscalls the CLI makes on local files, with errno turned into `PFSError`s that name the path.
enum LocalFile {
    enum Kind: Equatable { case regular, directory, symlink, other }

    struct Status {
        var kind: Kind
        var mode: UInt32
        var mtimeNs: Int64
        var size: Int64
    }

    static func errnoMessage(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// `stat` (following links) or `lstat`; nil when the path does not exist (only with `allowMissing`).
    static func status(_ path: String, followLinks: Bool = true, what: String = "local file") throws -> Status {
        var st = stat()
        let rc = followLinks ? stat(path, &st) : lstat(path, &st)
        guard rc == 0 else {
            let e = errno
            throw PFSError(.io, "cannot read \(what) \(quoted(path)): \(errnoMessage(e))")
        }
        let fmt = st.st_mode & S_IFMT
        let kind: Kind
        switch fmt {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        return Status(kind: kind, mode: UInt32(st.st_mode & 0o7777), mtimeNs: mtime, size: Int64(st.st_size))
    }

    /// Opens for reading; errors name the path.
    static func openForReading(_ path: String, what: String = "local file") throws -> Int32 {
        while true {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { return fd }
            let e = errno
            if e == EINTR { continue }
            throw PFSError(.io, "cannot read \(what) \(quoted(path)): \(errnoMessage(e))")
        }
    }

    /// Checks a regular file can be opened for reading, without reading it.
    static func checkReadable(_ path: String, what: String = "local file") throws {
        let fd = try openForReading(path, what: what)
        close(fd)
    }

    static func readLink(_ path: String) throws -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n >= 0 else {
            let e = errno
            throw PFSError(.io, "cannot read symlink \(quoted(path)): \(errnoMessage(e))")
        }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Directory entries, sorted by name, without `.` and `..`.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            let e = errno
            throw PFSError(.io, "cannot read local directory \(quoted(path)): \(errnoMessage(e))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 {
                    let e = errno
                    throw PFSError(.io, "cannot read local directory \(quoted(path)): \(errnoMessage(e))")
                }
                break
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) { ptr in
                ptr.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    static func quoted(_ path: String) -> String { "\"" + Names.printable(path) + "\"" }
}

extension LocalFile {
    /// `read(2)`, for types whose own `read` method would shadow it.
    static func readFD(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        read(fd, buffer, count)
    }

    /// `write(2)`, for types whose own `write` method would shadow it.
    static func writeFD(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
        write(fd, buffer, count)
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every system call of the object store, in one place. Each wrapper retries EINTR and turns a failure
/// into `PFSError.syscall` (so ENOSPC becomes `.noSpace`, ENOENT `.notFound`). `path` is only used for
/// error messages. Descriptors are always opened with O_CLOEXEC, so spawned workers never inherit them.
enum FileIO {
    // MARK: Opening and closing

    static func openAt(_ dirFD: Int32, _ name: String, _ flags: Int32, mode: mode_t = 0o644, path: String) throws -> Int32 {
        while true {
            let fd = Glibc.openat(dirFD, name, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            let e = errno
            if e == EINTR { continue }
            throw PFSError.syscall("open", path: path, errno: e)
        }
    }

    /// Opens a directory for fsync, flock or as the base of *at() calls.
    static func openDirectory(_ path: String) throws -> Int32 {
        try openAt(AT_FDCWD, path, O_RDONLY | O_DIRECTORY, path: path)
    }

    static func close(_ fd: Int32) {
        // Linux releases the descriptor even when close reports EINTR; retrying could close a reused number.
        _ = Glibc.close(fd)
    }

    // MARK: Reading and writing

    /// Writes all `count` bytes at `offset`, looping over short writes.
    static func pwriteAll(_ fd: Int32, _ base: UnsafeRawPointer?, _ count: Int, offset: Int64, path: String) throws {
        guard count > 0, let base else { return }
        var done = 0
        while done < count {
            let n = Glibc.pwrite(fd, base + done, count - done, off_t(offset) + off_t(done))
            if n > 0 { done += n; continue }
            let e = n < 0 ? errno : EIO
            if e == EINTR { continue }
            throw PFSError.syscall("write", path: path, errno: e)
        }
    }

    /// Reads up to `count` bytes at `offset`; returns how many were read (fewer only at end of file).
    static func preadFully(_ fd: Int32, _ base: UnsafeMutableRawPointer?, _ count: Int, offset: Int64, path: String) throws -> Int {
        guard count > 0, let base else { return 0 }
        var done = 0
        while done < count {
            let n = Glibc.pread(fd, base + done, count - done, off_t(offset) + off_t(done))
            if n > 0 { done += n; continue }
            if n == 0 { break }
            let e = errno
            if e == EINTR { continue }
            throw PFSError.syscall("read", path: path, errno: e)
        }
        return done
    }

    // MARK: Durability

    static func fsync(_ fd: Int32, path: String) throws {
        while Glibc.fsync(fd) != 0 {
            let e = errno
            if e == EINTR { continue }
            throw PFSError.syscall("fsync", path: path, errno: e)
        }
    }

    static func fdatasync(_ fd: Int32, path: String) throws {
        while Glibc.fdatasync(fd) != 0 {
            let e = errno
            if e == EINTR { continue }
            throw PFSError.syscall("fdatasync", path: path, errno: e)
        }
    }

    // syncfs(2) and sync_file_range(2) are GNU extensions the Glibc module does not import (it is built
    // without _GNU_SOURCE); glibc exports both, so they are looked up once by name.
    private typealias SyncFSFunction = @convention(c) (Int32) -> Int32
    private typealias SyncFileRangeFunction = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncfsFunction: SyncFSFunction? =
        dlsym(nil, "syncfs").map { unsafeBitCast($0, to: SyncFSFunction.self) }
    private static let syncFileRangeFunction: SyncFileRangeFunction? =
        dlsym(nil, "sync_file_range").map { unsafeBitCast($0, to: SyncFileRangeFunction.self) }
    /// SYNC_FILE_RANGE_WRITE from <fcntl.h>.
    private static let syncFileRangeWrite: UInt32 = 2

    static var hasSyncFS: Bool { syncfsFunction != nil }

    /// Flushes the whole filesystem holding `fd` (data and metadata) and reports writeback errors (Linux >= 5.8).
    static func syncfs(_ fd: Int32, path: String) throws {
        guard let function = syncfsFunction else {
            throw PFSError(.internal, "syncfs \(path): not available in this C library")
        }
        while function(fd) != 0 {
            let e = errno
            if e == EINTR { continue }
            throw PFSError.syscall("syncfs", path: path, errno: e)
        }
    }

    /// Starts asynchronous writeback of the dirty pages of `fd` without waiting for it. Only a hint that
    /// lets the disk work while the caller keeps computing; it guarantees nothing, so errors are ignored.
    static func startWriteback(_ fd: Int32) {
        _ = syncFileRangeFunction?(fd, 0, 0, syncFileRangeWrite)
    }

    // MARK: Names

    static func renameAt(_ fromDir: Int32, _ from: String, _ toDir: Int32, _ to: String, path: String) throws {
        while Glibc.renameat(fromDir, from, toDir, to) != 0 {
            let e = errno
            if e == EINTR { continue }
            throw PFSError.syscall("rename", path: path, errno: e)
        }
    }

    /// Removes a file; returns false if it did not exist.
    @discardableResult
    static func unlinkAt(_ dirFD: Int32, _ name: String, isDirectory: Bool = false, path: String) throws -> Bool {
        while Glibc.unlinkat(dirFD, name, isDirectory ? AT_REMOVEDIR : 0) != 0 {
            let e = errno
            if e == EINTR { continue }
            if e == ENOENT { return false }
            throw PFSError.syscall(isDirectory ? "rmdir" : "unlink", path: path, errno: e)
        }
        return true
    }

    /// Creates a directory; returns false if it already existed.
    @discardableResult
    static func mkdirAt(_ dirFD: Int32, _ name: String, mode: mode_t = 0o755, path: String) throws -> Bool {
        while Glibc.mkdirat(dirFD, name, mode) != 0 {
            let e = errno
            if e == EINTR { continue }
            if e == EEXIST { return false }
            throw PFSError.syscall("mkdir", path: path, errno: e)
        }
        return true
    }

    /// Creates `path` and its missing parents (like `mkdir -p`).
    static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            try mkdirAt(AT_FDCWD, prefix, path: prefix)
            prefix += "/"
        }
    }

    // MARK: Metadata

    /// `stat` of `name` relative to `dirFD`; nil if it does not exist.
    static func statAt(_ dirFD: Int32, _ name: String, path: String) throws -> stat? {
        var st = stat()
        while Glibc.fstatat(dirFD, name, &st, 0) != 0 {
            let e = errno
            if e == EINTR { continue }
            if e == ENOENT { return nil }
            throw PFSError.syscall("stat", path: path, errno: e)
        }
        return st
    }

    static func fstat(_ fd: Int32, path: String) throws -> stat {
        var st = stat()
        while Glibc.fstat(fd, &st) != 0 {
            let e = errno
            if e == EINTR { continue }
            throw PFSError.syscall("stat", path: path, errno: e)
        }
        return st
    }

    static func isRegularFile(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFREG }
    static func isDirectory(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFDIR }

    static func modificationDate(_ st: stat) -> Date {
        Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }

    // MARK: Locks

    /// Takes an exclusive flock on `fd`. With `wait: false`, returns false instead of blocking when another
    /// open file description holds it (flock locks belong to the open file description, so this also
    /// detects holders in the same process).
    static func lockExclusive(_ fd: Int32, wait: Bool, path: String) throws -> Bool {
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let e = errno
            if e == EINTR { continue }
            if e == EWOULDBLOCK && !wait { return false }
            throw PFSError.syscall("flock", path: path, errno: e)
        }
        return true
    }

    static func unlock(_ fd: Int32) {
        _ = flock(fd, LOCK_UN)
    }

    // MARK: Directories

    /// The entry names of a directory (without "." and ".."), with their d_type (DT_UNKNOWN on some filesystems).
    static func listDirectory(_ dirFD: Int32, _ name: String, path: String) throws -> [(name: String, type: UInt8)] {
        let fd = try openAt(dirFD, name, O_RDONLY | O_DIRECTORY, path: path)
        guard let dir = Glibc.fdopendir(fd) else {
            let e = errno
            close(fd)
            throw PFSError.syscall("opendir", path: path, errno: e)
        }
        defer { Glibc.closedir(dir) }   // also closes fd
        var out: [(name: String, type: UInt8)] = []
        while true {
            errno = 0
            guard let entry = Glibc.readdir(dir) else {
                let e = errno
                if e != 0 { throw PFSError.syscall("readdir", path: path, errno: e) }
                break
            }
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if entryName == "." || entryName == ".." { continue }
            out.append((entryName, entry.pointee.d_type))
        }
        return out
    }

    /// Removes a directory tree below `dirFD` (files and subdirectories); missing entries are fine.
    static func removeTree(_ dirFD: Int32, _ name: String, path: String) throws {
        guard let st = try statAt(dirFD, name, path: path) else { return }
        if isDirectory(st) {
            let fd = try openAt(dirFD, name, O_RDONLY | O_DIRECTORY, path: path)
            defer { close(fd) }
            for entry in try listDirectory(fd, ".", path: path) {
                try removeTree(fd, entry.name, path: path + "/" + entry.name)
            }
            try unlinkAt(dirFD, name, isDirectory: true, path: path)
        } else {
            try unlinkAt(dirFD, name, path: path)
        }
    }

    /// The process id, for naming temp files.
    static var processID: Int32 { Glibc.getpid() }
}

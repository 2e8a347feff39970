import Foundation
import CFuse3
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// A file of a branch open through the mount. All handles on the same path share one `OpenFile`, so a write
/// through one descriptor is seen through every other. Data written lives in a spool file on disk (memory
/// stays bounded whatever the size); unwritten ranges are read from the file's chunks.
///
/// Appending (every write at or past the original end, as `>>`, logs and `cp` do) keeps only the new bytes in
/// the spool, and flushing re-chunks just the tail. Any write below the original end switches the spool to a
/// full copy first.
final class OpenFile: @unchecked Sendable {
    enum Spool {
        case none
        /// The spool holds bytes from `baseSize` on.
        case tail(Int32)
        /// The spool holds the whole file.
        case full(Int32)
        /// `memory` holds the whole file (a new file that stayed small: no spool file, no inode to create).
        case memory
    }

    /// New files up to this size are spooled in memory (`Spool.memory`); a bigger one moves to a spool file.
    static let memorySpoolLimit = 256 << 10

    let lock = NSLock()
    var key: NodeKey
    var handles = 0
    var base: FileContent
    var baseSize: Int64 { base.size }
    var size: Int64
    var spool = Spool.none
    var memory: [UInt8] = []
    var mode: UInt32
    var mtimeNs: Int64
    /// The ctime when it differs from `mtimeNs` (after chmod or utimens); writes and truncates clear it.
    var ctimeNs: Int64?
    var dirty = false
    var unlinked = false
    let store: Store
    let spoolDir: String

    init(key: NodeKey, base: FileContent, mode: UInt32, mtimeNs: Int64, ctimeNs: Int64? = nil, store: Store, spoolDir: String) {
        self.key = key
        self.base = base
        self.size = base.size
        self.mode = mode
        self.mtimeNs = mtimeNs
        self.ctimeNs = ctimeNs
        self.store = store
        self.spoolDir = spoolDir
    }

    deinit { closeSpool() }

    /// Forgets writes that could not be stored once the last handle is gone (its flush failed, e.g. ENOSPC, and
    /// close() told the writer): the spool's disk space comes back and the file shows its last stored state.
    /// Kept instead, a full disk stayed full for good, and not even `rm` could free it (found by ReliabilityTests).
    func discardUnstored() {
        lock.withLock {
            closeSpool()
            dirty = false
            size = base.size
        }
    }

    private func closeSpool() {
        switch spool {
        case .tail(let fd), .full(let fd): close(fd)
        case .none, .memory: break
        }
        memory = []
        spool = .none
    }

    /// An anonymous spool file in the data directory's spool folder: it disappears with its last descriptor
    /// (and so with the daemon after a crash).
    private func newSpool() throws -> Int32 {
        var fd = open(spoolDir, pfs_o_tmpfile() | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
            let path = "\(spoolDir)/spool-\(getpid())-\(UUID().uuidString)"
            fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
            if fd >= 0 { unlink(path) }
        }
        guard fd >= 0 else { throw FSError(PFSError.syscall("open spool in", path: spoolDir, errno: errno)) }
        return fd
    }

    private func pwriteAll(_ fd: Int32, _ buf: UnsafeRawBufferPointer, _ offset: Int64) throws {
        var done = 0
        while done < buf.count {
            let n = pwrite(fd, buf.baseAddress! + done, buf.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw FSError(PFSError.syscall("write spool", path: spoolDir, errno: errno))
            }
            done += n
        }
    }

    private func preadAll(_ fd: Int32, _ buf: UnsafeMutableRawBufferPointer, _ offset: Int64) throws -> Int {
        var done = 0
        while done < buf.count {
            let n = pread(fd, buf.baseAddress! + done, buf.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw FSError(PFSError.syscall("read spool", path: spoolDir, errno: errno))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Moves an in-memory spool to a spool file (the file outgrew `memorySpoolLimit`).
    private func spillMemory() throws {
        guard case .memory = spool else { return }
        let fd = try newSpool()
        do {
            try memory.withUnsafeBytes { try pwriteAll(fd, $0, 0) }
            if ftruncate(fd, off_t(size)) != 0 { throw FSError(PFSError.syscall("truncate spool", path: spoolDir, errno: errno)) }
        } catch {
            close(fd)
            throw error
        }
        memory = []
        spool = .full(fd)
    }

    /// Switches to a full spool holding the whole current content.
    private func materialise() throws {
        if case .full = spool { return }
        if case .memory = spool { return try spillMemory() }
        let fd = try newSpool()
        do {
            var pos: Int64 = 0
            try store.read(base) { bytes in
                try bytes.withUnsafeBytes { try pwriteAll(fd, $0, pos) }
                pos += Int64(bytes.count)
            }
            if case .tail(let old) = spool {
                var buf = [UInt8](repeating: 0, count: 4 << 20)
                var off: Int64 = 0
                while true {
                    let n = try buf.withUnsafeMutableBytes { try preadAll(old, $0, off) }
                    if n == 0 { break }
                    try buf.withUnsafeBytes { try pwriteAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<n]), baseSize + off) }
                    off += Int64(n)
                }
            }
            if ftruncate(fd, off_t(size)) != 0 { throw FSError(PFSError.syscall("truncate spool", path: spoolDir, errno: errno)) }
        } catch {
            close(fd)
            throw error
        }
        closeSpool()
        spool = .full(fd)
    }

    func write(_ data: UnsafeRawBufferPointer, at offset: Int64) throws {
        try lock.withLock {
            let end = offset + Int64(data.count)
            switch spool {
            case .none:
                if offset >= baseSize && baseSize > 0 {
                    spool = .tail(try newSpool())
                } else if baseSize == 0 {
                    if end <= Int64(Self.memorySpoolLimit) { spool = .memory } else { spool = .full(try newSpool()) }
                } else {
                    try materialise()
                }
            case .tail:
                if offset < baseSize { try materialise() }
            case .memory:
                if end > Int64(Self.memorySpoolLimit) { try spillMemory() }
            case .full:
                break
            }
            switch spool {
            case .tail(let fd): try pwriteAll(fd, data, offset - baseSize)
            case .full(let fd): try pwriteAll(fd, data, offset)
            case .memory:
                if Int64(memory.count) < end { memory.append(contentsOf: repeatElement(0, count: Int(end) - memory.count)) }
                memory.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[Int(offset)..<Int(end)]).copyMemory(from: data) }
            case .none: break
            }
            size = max(size, offset + Int64(data.count))
            mtimeNs = Store.nowNs()
            ctimeNs = nil
            dirty = true
        }
    }

    func truncate(_ newSize: Int64) throws {
        try lock.withLock {
            if newSize == size, dirty || newSize == baseSize { return }
            switch spool {
            case .none:
                if newSize == 0 || baseSize == 0 {
                    if newSize <= Int64(Self.memorySpoolLimit) { spool = .memory } else { spool = .full(try newSpool()) }
                } else if newSize > baseSize {
                    spool = .tail(try newSpool())
                } else {
                    try materialise()
                }
            case .tail:
                if newSize < baseSize { try materialise() }
            case .memory:
                if newSize > Int64(Self.memorySpoolLimit) { try spillMemory() }
            case .full:
                break
            }
            switch spool {
            case .tail(let fd): _ = ftruncate(fd, off_t(newSize - baseSize))
            case .full(let fd): _ = ftruncate(fd, off_t(newSize))
            case .memory:
                if Int64(memory.count) > newSize { memory.removeLast(memory.count - Int(newSize)) }
                else { memory.append(contentsOf: repeatElement(0, count: Int(newSize) - memory.count)) }
            case .none: break
            }
            size = newSize
            mtimeNs = Store.nowNs()
            ctimeNs = nil
            dirty = true
        }
    }

    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        try lock.withLock {
            let end = min(size, offset + Int64(count))
            guard end > offset else { return [] }
            var out = [UInt8](repeating: 0, count: Int(end - offset))
            switch spool {
            case .full(let fd):
                _ = try out.withUnsafeMutableBytes { try preadAll(fd, $0, offset) }
            case .memory:
                out.replaceSubrange(0..<out.count, with: memory[Int(offset)..<Int(end)])
            case .none, .tail:
                // Below the original end: from the chunks; above it: from the tail spool.
                let baseEnd = min(end, baseSize)
                if offset < baseEnd {
                    var pos = 0
                    try store.read(base, offset: offset, length: baseEnd - offset) { bytes in
                        out.replaceSubrange(pos..<pos + bytes.count, with: bytes)
                        pos += bytes.count
                    }
                }
                if case .tail(let fd) = spool, end > baseSize {
                    let from = max(offset, baseSize)
                    let start = Int(from - offset)
                    _ = try out.withUnsafeMutableBytes {
                        try preadAll(fd, UnsafeMutableRawBufferPointer(rebasing: $0[start...]), from - baseSize)
                    }
                }
            }
            return out
        }
    }

    /// Stores the written content and stages it into the branch's open commit. After this returns the data
    /// survives a crash of the daemon (that is what makes `close()` durable); with `durable` (fsync) also a
    /// power loss. Without it, the objects go to the store's deferred batch and the log entry is written
    /// without a sync: both reach the disk with the commit's finish (docs/filesystem.md, "What survives a crash").
    @discardableResult
    func flush(repo: String, branch: String, durable: Bool = false) throws -> StageResult? {
        try lock.withLock {
            guard dirty, !unlinked, case .branch(_, _, let path) = key else { return nil }
            // GC must not run between storing (or deduplicating against) objects and referencing them.
            return try store.writing { try flushLocked(repo: repo, branch: branch, path: path, durable: durable) }
        }
    }

    private func flushLocked(repo: String, branch: String, path: [String], durable: Bool) throws -> StageResult? {
        // A failed flush leaves what it wrote in the deferred batch: orphans, moved into place and reclaimed
        // by GC like those of any interrupted write (a deferred batch is never aborted).
        let batch = store.deferredObjects
        do {
            let content: FileContent
            // Up to 4 MiB at a time, but no bigger than what there is to read (zeroing 4 MiB for every small
            // file closed was a visible cost of `cp -r`).
            let pending: Int64
            switch spool {
            case .full: pending = size
            case .tail: pending = size - baseSize
            case .none, .memory: pending = 0
            }
            var buf = [UInt8](repeating: 0, count: Int(max(1, min(Int64(4 << 20), pending))))
            switch spool {
            case .memory:
                let ing = try FileIngester(store: store.objects, batch: batch)
                try memory.withUnsafeBytes { try ing.write($0) }
                content = try ing.finish()
            case .full(let fd):
                let ing = try FileIngester(store: store.objects, batch: batch)
                var off: Int64 = 0
                while off < size {
                    let want = Int(min(Int64(buf.count), size - off))
                    let n = try buf.withUnsafeMutableBytes { try preadAll(fd, UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]), off) }
                    // A short read means the spool is shorter than `size` (sparse tail): the rest is zeros.
                    if n < want { for i in n..<want { buf[i] = 0 } }
                    try buf.withUnsafeBytes { try ing.write(UnsafeRawBufferPointer(rebasing: $0[0..<want])) }
                    off += Int64(want)
                }
                content = try ing.finish()
            case .tail(let fd):
                let ing = try FileIngester(store: store.objects, batch: batch, appendingTo: base.chunks)
                var off: Int64 = 0
                let tail = size - baseSize
                while off < tail {
                    let want = Int(min(Int64(buf.count), tail - off))
                    let n = try buf.withUnsafeMutableBytes { try preadAll(fd, UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]), off) }
                    if n < want { for i in n..<want { buf[i] = 0 } }
                    try buf.withUnsafeBytes { try ing.write(UnsafeRawBufferPointer(rebasing: $0[0..<want])) }
                    off += Int64(want)
                }
                content = try ing.finish()
            case .none:
                content = base
            }
            try store.trees.storeManifestIfNeeded(content, batch: batch)
            var entry = TreeEntry.file(name: path.last ?? "", content: content, mode: mode, mtimeNs: mtimeNs)
            if let ctimeNs { entry.changed(at: ctimeNs) }
            let staged = try store.stage(repo: repo, branch: branch, ops: [.put(path: "/" + path.joined(separator: "/"), entry: entry)],
                                         durable: durable)
            base = content
            closeSpool()
            dirty = false
            return staged
        } catch {
            batch.abort()
            throw error
        }
    }
}


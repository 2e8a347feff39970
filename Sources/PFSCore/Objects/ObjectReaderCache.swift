import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A bounded cache of read-only descriptors of objects, so the mount's reads do not pay an open() each.
/// Leases keep a descriptor open while a read uses it; an evicted descriptor closes with its last lease.
final class ObjectReaderCache: Sendable {
    private struct Entry {
        var fd: Int32
        /// The object's size, from fstat when the descriptor was opened (-1: unknown).
        var size: Int64
        var leases: Int
        var lastUse: UInt64
        var evicted: Bool
    }
    private struct State {
        var entries: [ObjectHash: Entry] = [:]
        var tick: UInt64 = 0
        var retired: [Int32: Int] = [:]  // evicted fd → leases still out
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Runs `body` with an open descriptor of `hash`, opening it with `open` on a miss.
    func with<T>(_ hash: ObjectHash, open: () throws -> Int32, _ body: (Int32) throws -> T) throws -> T {
        try withSized(hash, open: open) { fd, _ in try body(fd) }
    }

    /// Like `with`, also passing the object's size (taken once, when the descriptor is opened).
    func withSized<T>(_ hash: ObjectHash, open: () throws -> Int32, _ body: (Int32, Int64) throws -> T) throws -> T {
        var got = state.withLock { s -> (Int32, Int64)? in
            guard var e = s.entries[hash] else { return nil }
            s.tick &+= 1
            e.leases += 1
            e.lastUse = s.tick
            s.entries[hash] = e
            return (e.fd, e.size)
        }
        if got == nil {
            let opened = try open()
            var st = Glibc.stat()
            let size: Int64 = fstat(opened, &st) == 0 ? Int64(st.st_size) : -1
            got = state.withLock { s -> (Int32, Int64) in
                s.tick &+= 1
                if var e = s.entries[hash] {
                    // Someone else opened it meanwhile: use theirs.
                    e.leases += 1
                    e.lastUse = s.tick
                    s.entries[hash] = e
                    Glibc.close(opened)
                    return (e.fd, e.size)
                }
                s.entries[hash] = Entry(fd: opened, size: size, leases: 1, lastUse: s.tick, evicted: false)
                evictLocked(&s)
                return (opened, size)
            }
        }
        let (fd, size) = got!
        defer { release(hash, fd) }
        return try body(fd, size)
    }

    private func release(_ hash: ObjectHash, _ fd: Int32) {
        let close = state.withLock { s -> Bool in
            if var e = s.entries[hash], e.fd == fd {
                e.leases -= 1
                s.entries[hash] = e
                return false
            }
            guard let n = s.retired[fd] else { return false }
            if n <= 1 { s.retired[fd] = nil; return true }
            s.retired[fd] = n - 1
            return false
        }
        if close { Glibc.close(fd) }
    }

    private func evictLocked(_ s: inout State) {
        guard s.entries.count > capacity else { return }
        // Drop the least recently used quarter.
        let victims = s.entries.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(max(1, capacity / 4))
        for (h, e) in victims {
            s.entries[h] = nil
            if e.leases == 0 { Glibc.close(e.fd) } else { s.retired[e.fd] = e.leases }
        }
    }
}

extension LocalObjectStore {
    public func read(_ hash: ObjectHash, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let rel = Self.relativePath(hash)
        return try readers.with(hash, open: {
            do {
                return try FileIO.openAt(rootFD, rel, O_RDONLY, path: displayPath(rel))
            } catch let e as PFSError where e.code == .notFound {
                throw PFSError(.notFound, "object \(hash) is not in the store at \(rootPath)", cause: e)
            }
        }) { fd in
            try FileIO.preadFully(fd, buffer.baseAddress, buffer.count, offset: Int64(offset), path: displayPath(rel))
        }
    }

    /// Runs `body` with a read-only descriptor of the object (held open meanwhile) and the object's size: for
    /// replies that splice object bytes to the kernel without copying them through memory. Do not move the
    /// descriptor's file offset (use positioned reads); it is shared.
    func withDescriptor<T>(_ hash: ObjectHash, _ body: (Int32, Int64) throws -> T) throws -> T {
        let rel = Self.relativePath(hash)
        return try readers.withSized(hash, open: {
            do {
                return try FileIO.openAt(rootFD, rel, O_RDONLY, path: displayPath(rel))
            } catch let e as PFSError where e.code == .notFound {
                throw PFSError(.notFound, "object \(hash) is not in the store at \(rootPath)", cause: e)
            }
        }, body)
    }

    public func prefetch(_ hash: ObjectHash) {
        let rel = Self.relativePath(hash)
        _ = try? readers.with(hash, open: { try FileIO.openAt(rootFD, rel, O_RDONLY, path: displayPath(rel)) }) { fd in
            posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED)
        }
    }
}

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
        var fd = state.withLock { s -> Int32? in
            guard var e = s.entries[hash] else { return nil }
            s.tick &+= 1
            e.leases += 1
            e.lastUse = s.tick
            s.entries[hash] = e
            return e.fd
        }
        if fd == nil {
            let opened = try open()
            fd = state.withLock { s -> Int32 in
                s.tick &+= 1
                if var e = s.entries[hash] {
                    // Someone else opened it meanwhile: use theirs.
                    e.leases += 1
                    e.lastUse = s.tick
                    s.entries[hash] = e
                    Glibc.close(opened)
                    return e.fd
                }
                s.entries[hash] = Entry(fd: opened, leases: 1, lastUse: s.tick, evicted: false)
                evictLocked(&s)
                return opened
            }
        }
        defer { release(hash, fd!) }
        return try body(fd!)
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
        if let loc = packs.location(hash, refresh: false) { return try packs.read(loc, offset: offset, into: buffer, hash: hash) }
        let rel = Self.relativePath(hash)
        do {
            return try readers.with(hash, open: { try openObject(hash, rel) }) { fd in
                try FileIO.preadFully(fd, buffer.baseAddress, buffer.count, offset: Int64(offset), path: displayPath(rel))
            }
        } catch let error as PFSError where error.code == .notFound {
            guard let loc = packs.location(hash, refresh: true) else { throw error }
            return try packs.read(loc, offset: offset, into: buffer, hash: hash)
        }
    }

    public func prefetch(_ hash: ObjectHash) {
        if let loc = packs.location(hash, refresh: false) { return packs.prefetch(loc) }
        let rel = Self.relativePath(hash)
        _ = try? readers.with(hash, open: { try FileIO.openAt(rootFD, rel, O_RDONLY, path: displayPath(rel)) }) { fd in
            posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED)
        }
    }
}

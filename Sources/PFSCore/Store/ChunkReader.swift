import Foundation
import Synchronization

/// Random-access reads of one file's content: finds the chunks of a range by binary search over their
/// offsets, reads straight into the caller's buffer, and asks the object store to prefetch the next chunk
/// when a chunk is first touched (so sequential reads overlap disk reads with the mount's round trips).
public final class ChunkReader: Sendable {
    public let content: FileContent
    let starts: [Int64]
    let objects: any ObjectStore
    private let prefetched = Atomic<Int>(-1)

    public init(_ content: FileContent, objects: any ObjectStore) {
        self.content = content
        self.objects = objects
        var s: [Int64] = []
        s.reserveCapacity(content.chunks.count)
        var pos: Int64 = 0
        for c in content.chunks {
            s.append(pos)
            pos += c.size
        }
        starts = s
    }

    public var size: Int64 { content.size }

    /// Chunks (about 1 MiB each) read ahead of a sequential reader.
    static let prefetchDepth = 4

    /// Index of the chunk holding byte `offset`.
    func chunk(at offset: Int64) -> Int {
        var lo = 0, hi = starts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// Fills `buffer` from `offset` (fewer bytes at the end of the file); returns the count.
    public func read(offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard offset < content.size, buffer.count > 0, !starts.isEmpty else { return 0 }
        var i = chunk(at: offset)
        var pos = offset
        var done = 0
        while done < buffer.count, i < content.chunks.count {
            let c = content.chunks[i]
            let within = Int(pos - starts[i])
            let want = min(buffer.count - done, Int(c.size) - within)
            let n = try objects.read(c.hash, offset: within, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + want]))
            guard n == want else {
                throw PFSError.corrupt("chunk \(c.hash.hex) is shorter than recorded; run `pfs fsck`")
            }
            prefetch(after: i)
            done += n
            pos += Int64(n)
            i += 1
        }
        return done
    }

    /// Keeps the next few chunks on their way from disk while chunk `i` is served. The hints are given on a
    /// background queue: `posix_fadvise(WILLNEED)` submits the disk reads and can take a while, which would
    /// otherwise delay the reply it follows.
    private func prefetch(after i: Int) {
        let ahead = min(content.chunks.count - 1, i + Self.prefetchDepth)
        let fetched = prefetched.load(ordering: .relaxed)
        let first = max(fetched + 1, i + 1)
        guard first <= ahead else { return }
        prefetched.store(ahead, ordering: .relaxed)
        let hashes = content.chunks[first...ahead].map(\.hash)
        let objects = self.objects
        Self.prefetchQueue.async { for h in hashes { objects.prefetch(h) } }
    }

    static let prefetchQueue = DispatchQueue(label: "pfs.chunk-prefetch", qos: .utility)

    /// One piece of a read, served straight from an object file: `count` bytes at `offset` of descriptor `fd`.
    public struct FilePiece: Sendable {
        public var fd: Int32
        public var offset: Int64
        public var count: Int
    }

    /// Calls `body` with the object-file pieces that hold bytes [offset, offset + count) of the file (fewer at
    /// its end; none past it), their descriptors held open meanwhile, so a reply can splice them to the kernel
    /// without copying them through memory. Returns nil without calling `body` when the store keeps no local
    /// files (read with `read(offset:into:)` then). Throws `corrupt` when an object is shorter than recorded.
    public func withFilePieces<T>(offset: Int64, count: Int, _ body: ([FilePiece]) throws -> T) throws -> T? {
        guard let local = objects as? LocalObjectStore else { return nil }
        guard offset >= 0, offset < content.size, count > 0, !starts.isEmpty else { return try body([]) }
        var wanted: [(hash: ObjectHash, within: Int64, count: Int)] = []
        var i = chunk(at: offset)
        var pos = offset
        var left = min(Int64(count), content.size - offset)
        while left > 0, i < content.chunks.count {
            let c = content.chunks[i]
            let within = pos - starts[i]
            let n = min(left, c.size - within)
            wanted.append((c.hash, within, Int(n)))
            prefetch(after: i)
            pos += n
            left -= n
            i += 1
        }
        var pieces: [FilePiece] = []
        pieces.reserveCapacity(wanted.count)
        // Lease each piece's descriptor in turn (nested), so all stay open while `body` runs.
        func lease(_ k: Int) throws -> T {
            if k == wanted.count { return try body(pieces) }
            let w = wanted[k]
            return try local.withDescriptor(w.hash) { fd, size in
                guard size < 0 || w.within + Int64(w.count) <= size else {
                    throw PFSError.corrupt("chunk \(w.hash.hex) is shorter than recorded; run `pfs fsck`")
                }
                pieces.append(FilePiece(fd: fd, offset: w.within, count: w.count))
                return try lease(k + 1)
            }
        }
        return try lease(0)
    }
}

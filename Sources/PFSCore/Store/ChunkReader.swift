import Foundation
import Synchronization

/// Random-access reads of one file's content: finds the chunks of a range by binary search over their
/// offsets, reads straight into the caller's buffer, and asks the object store (from a background queue) to
/// prefetch the next chunks when a chunk is first touched, so sequential reads overlap disk reads with the
/// mount's round trips.
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

    /// Keeps the next few chunks on their way from disk while chunk `i` is served. The hints go out on a
    /// background queue: opening a cold object and `posix_fadvise(WILLNEED)` can block for a while (inode
    /// reads, request submission), and the reply this read belongs to should not wait for them.
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

    /// One serial queue for every reader's hints, in the order they were given.
    static let prefetchQueue = DispatchQueue(label: "pfs.chunk-prefetch", qos: .utility)
}

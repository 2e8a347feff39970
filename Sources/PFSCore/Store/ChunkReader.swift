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
            // Keep the next few chunks on their way from disk while this one is served.
            let ahead = min(content.chunks.count - 1, i + Self.prefetchDepth)
            let fetched = prefetched.load(ordering: .relaxed)
            let first = max(fetched + 1, i + 1)
            if first <= ahead {
                prefetched.store(ahead, ordering: .relaxed)
                for j in first...ahead { objects.prefetch(content.chunks[j].hash) }
            }
            done += n
            pos += Int64(n)
            i += 1
        }
        return done
    }
}

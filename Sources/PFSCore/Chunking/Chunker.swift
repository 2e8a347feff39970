/// Sizes that drive content-defined chunking. Part of the on-disk format for the data they chunk:
/// changing them changes every boundary (stored data stays readable, but dedup with it is lost).
public struct ChunkerParams: Sendable, Hashable, Codable {
    /// No chunk is shorter (except the last chunk of a file).
    public var minSize: Int
    /// The target size; the cut mask switches from the strict to the loose mask at this offset.
    public var avgSize: Int
    /// No chunk is longer: a cut is forced here when the content offers none.
    public var maxSize: Int

    /// Requires `1 <= minSize < avgSize < maxSize` and `avgSize >= 16`; `avgSize` is rounded down to a power of two
    /// when the masks are derived.
    public init(minSize: Int, avgSize: Int, maxSize: Int) {
        precondition(minSize >= 1 && minSize < avgSize && avgSize < maxSize && avgSize >= 16,
                     "ChunkerParams need 1 <= min < avg < max and avg >= 16")
        self.minSize = minSize
        self.avgSize = avgSize
        self.maxSize = maxSize
    }

    /// 256 KiB / 1 MiB / 4 MiB — what pfs stores file content with.
    public static let `default` = ChunkerParams(minSize: 256 << 10, avgSize: 1 << 20, maxSize: 4 << 20)
}

/// FastCDC content-defined chunking (Xia et al., 2016/2020) with normalized chunking, level 2.
///
/// A gear hash `h = (h << 1) &+ gear[byte]` rolls over the data; bit k of `h` depends on the last k+1 bytes,
/// so the masks test the *high* bits (the top 22 bits see the last 43..64 bytes). Scanning starts at
/// `minSize` (those bytes are skipped, and `h` starts at 0 there); a cut is made after the byte at which
/// `h & mask == 0`, using the strict mask `maskS` (log2(avg)+2 high bits) before `avgSize` and the loose
/// mask `maskL` (log2(avg)-2 high bits) after it; at `maxSize` a cut is forced.
/// Boundaries depend only on the bytes from the chunk's start to the cut, so they move with the content.
public struct Chunker: Sendable {
    public let params: ChunkerParams
    /// High-bit masks: `maskS` has log2(avg)+2 bits set, `maskL` log2(avg)-2 (normalization level 2).
    public let maskS: UInt64
    public let maskL: UInt64

    public init(params: ChunkerParams = .default) {
        self.params = params
        let bits = Int.bitWidth - 1 - params.avgSize.leadingZeroBitCount   // floor(log2(avg))
        let bitsS = Swift.min(bits + 2, 63)
        let bitsL = Swift.max(bits - 2, 1)
        maskS = ~UInt64(0) << UInt64(64 - bitsS)
        maskL = ~UInt64(0) << UInt64(64 - bitsL)
    }

    /// Length of the chunk that starts at `buf[0]`.
    ///
    /// Returns nil when no cut point is found, `buf.count < maxSize` and `!isFinal` (the caller must supply
    /// more data; supplying at least `maxSize` bytes always gives an answer). When `isFinal`, returns
    /// `min(buf.count, cut)` (`buf.count` when there is no cut; 0 for an empty buffer).
    public func nextCut(_ buf: UnsafeRawBufferPointer, isFinal: Bool) -> Int? {
        var state = ScanState()
        return nextCut(buf, isFinal: isFinal, resuming: &state)
    }

    /// Where a scan that found no cut stopped: the offset from the chunk's start of the next byte to hash,
    /// and the gear hash so far. Lets a caller that appends data to the same chunk resume instead of
    /// rescanning (the ingester does); reset it to `ScanState()` after each cut.
    struct ScanState {
        var position = 0
        var hash: UInt64 = 0
    }

    /// `nextCut` that continues from `state` (which must come from earlier calls on a prefix of the same
    /// chunk's bytes); the answer is the same as `nextCut(buf, isFinal:)`.
    func nextCut(_ buf: UnsafeRawBufferPointer, isFinal: Bool, resuming state: inout ScanState) -> Int? {
        let n = buf.count
        let maxSize = params.maxSize
        let end2 = Swift.min(n, maxSize)
        let end1 = Swift.min(end2, params.avgSize)
        // FastCDC: no cut can fall before minSize, so those bytes are never hashed (h starts at 0 there).
        var i = Swift.max(state.position, params.minSize)
        if i < end2 {
            let p = buf.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var h = state.hash
            if let cut = Self.scan(p, position: &i, hash: &h, end1: end1, end2: end2, maskS: maskS, maskL: maskL) {
                return cut
            }
            state.hash = h
            state.position = i
        }
        if n >= maxSize { return maxSize }
        return isFinal ? n : nil
    }

    /// The gear loop. Index `i` runs over `[position, end2)`; returns `i + 1` for the first `i` where the
    /// hash (after adding byte i) has all mask bits zero — `maskS` below `end1`, `maskL` from there on.
    /// Without a cut, `position` and `hash` are left at `end2` and the hash there.
    @inline(__always)
    static func scan(_ p: UnsafePointer<UInt8>, position: inout Int, hash: inout UInt64, end1: Int, end2: Int,
                     maskS: UInt64, maskL: UInt64) -> Int? {
        let g = GearTable.pointer
        var h = hash
        var i = position
        // Unrolled by 4: the dependency chain is one shift-add per byte; the mask tests are off the chain
        // and almost never taken.
        while i &+ 4 <= end1 {
            h = (h &<< 1) &+ g[Int(p[i])]
            if h & maskS == 0 { return i &+ 1 }
            h = (h &<< 1) &+ g[Int(p[i &+ 1])]
            if h & maskS == 0 { return i &+ 2 }
            h = (h &<< 1) &+ g[Int(p[i &+ 2])]
            if h & maskS == 0 { return i &+ 3 }
            h = (h &<< 1) &+ g[Int(p[i &+ 3])]
            if h & maskS == 0 { return i &+ 4 }
            i = i &+ 4
        }
        while i < end1 {
            h = (h &<< 1) &+ g[Int(p[i])]
            if h & maskS == 0 { return i &+ 1 }
            i = i &+ 1
        }
        while i &+ 4 <= end2 {
            h = (h &<< 1) &+ g[Int(p[i])]
            if h & maskL == 0 { return i &+ 1 }
            h = (h &<< 1) &+ g[Int(p[i &+ 1])]
            if h & maskL == 0 { return i &+ 2 }
            h = (h &<< 1) &+ g[Int(p[i &+ 2])]
            if h & maskL == 0 { return i &+ 3 }
            h = (h &<< 1) &+ g[Int(p[i &+ 3])]
            if h & maskL == 0 { return i &+ 4 }
            i = i &+ 4
        }
        while i < end2 {
            h = (h &<< 1) &+ g[Int(p[i])]
            if h & maskL == 0 { return i &+ 1 }
            i = i &+ 1
        }
        position = i
        hash = h
        return nil
    }
}

/// The 256 random 64-bit values of the gear hash used by `Chunker`.
///
/// **Part of the on-disk format**: chunk boundaries, and therefore the hashes of every stored chunk and
/// the dedup between old and new data, depend on these values. They must never change; `ChunkerTests`
/// pins some of them and the cut points of a fixed input.
///
/// Definition: `values[i]` is the (i+1)-th output of splitmix64 seeded with `seed` (the ASCII bytes
/// "pfs_gear" read as a big-endian UInt64):
/// ```
/// state = seed
/// repeat 256 times:
///     state = state &+ 0x9E3779B97F4A7C15
///     z = state
///     z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
///     z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
///     output z ^ (z >> 31)
/// ```
enum GearTable {
    /// "pfs_gear" in ASCII.
    static let seed: UInt64 = 0x7066_735F_6765_6172

    static let values: [UInt64] = {
        var out = [UInt64]()
        out.reserveCapacity(256)
        var state = seed
        for _ in 0..<256 {
            state = state &+ 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            out.append(z ^ (z >> 31))
        }
        return out
    }()

    /// The same values in memory that is never freed, so the chunker's inner loop indexes a raw pointer
    /// (no bounds checks, no retain/release of an array).
    nonisolated(unsafe) static let pointer: UnsafePointer<UInt64> = {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        p.initialize(from: values, count: 256)
        return UnsafePointer(p)
    }()
}

import Foundation
import XCTest
@testable import PFSCore

/// xorshift64 bytes (little-endian words): the fixed pseudo-random input the pinned cut points are defined on.
/// docs/storage.md has a Python reference that reproduces the same cut points.
func cdcRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var s = seed
    var out = [UInt8](repeating: 0, count: count)
    out.withUnsafeMutableBytes { raw in
        var i = 0
        while i < count {
            s ^= s << 13
            s ^= s >> 7
            s ^= s << 17
            var v = s
            var k = 0
            while k < 8 && i < count {
                raw[i] = UInt8(truncatingIfNeeded: v)
                v >>= 8
                i += 1
                k += 1
            }
        }
    }
    return out
}

/// Cut lengths of `data`, chunk after chunk, with `nextCut(isFinal: true)`.
func cdcCutLengths(_ data: [UInt8], _ chunker: Chunker) -> [Int] {
    data.withUnsafeBytes { raw in
        var offset = 0
        var out: [Int] = []
        while offset < raw.count {
            let cut = chunker.nextCut(UnsafeRawBufferPointer(rebasing: raw[offset...]), isFinal: true)!
            out.append(cut)
            offset += cut
        }
        return out
    }
}

final class ChunkerTests: XCTestCase {
    let small = Chunker(params: ChunkerParams(minSize: 1024, avgSize: 4096, maxSize: 16384))

    // MARK: The on-disk format: never change these numbers.

    func testGearTableIsPinned() {
        let g = GearTable.values
        XCTAssertEqual(g.count, 256)
        XCTAssertEqual(g[0], 0x9757_9032_51F5_0865)
        XCTAssertEqual(g[1], 0xEE58_9040_4688_3E3A)
        XCTAssertEqual(g[2], 0x2F18_0E61_248B_DBEB)
        XCTAssertEqual(g[127], 0x774C_5022_3743_941A)
        XCTAssertEqual(g[255], 0x9C16_8EF0_FBF1_5D55)
        XCTAssertEqual(g.reduce(UInt64(0), ^), 0xB3AB_AC1A_22B5_3B50)
        XCTAssertEqual(g.reduce(UInt64(0), &+), 0x857A_1580_D2AB_42A2)
        for i in 0..<256 { XCTAssertEqual(GearTable.pointer[i], g[i]) }
    }

    func testDefaultParametersAndMasksArePinned() {
        let p = ChunkerParams.default
        XCTAssertEqual(p.minSize, 256 << 10)
        XCTAssertEqual(p.avgSize, 1 << 20)
        XCTAssertEqual(p.maxSize, 4 << 20)
        let c = Chunker()
        XCTAssertEqual(c.maskS, 0xFFFF_FC00_0000_0000)   // 22 high bits
        XCTAssertEqual(c.maskL, 0xFFFF_C000_0000_0000)   // 18 high bits
    }

    func testDefaultCutPointsArePinned() {
        let data = cdcRandomBytes(count: 12 << 20, seed: 0x5EED_CAFE_F00D_0001)
        XCTAssertEqual(cdcCutLengths(data, Chunker()),
                       [1_458_529, 971_504, 1_120_256, 1_295_378, 355_730, 1_162_165,
                        1_211_242, 542_402, 1_066_338, 1_399_326, 1_172_106, 827_936])
    }

    func testSmallParamsCutPointsArePinned() {
        let data = cdcRandomBytes(count: 256 << 10, seed: 42)
        XCTAssertEqual(ObjectHash.of(data).hex, "5f694344ca7d8d6ce9e351542631e3db07376692c0b5792688def0ddbf4c65b1")
        let cuts = cdcCutLengths(data, small)
        XCTAssertEqual(cuts.count, 57)
        XCTAssertEqual(Array(cuts.prefix(12)), [4317, 4340, 5513, 4896, 4521, 4498, 7375, 8203, 1628, 5223, 5336, 4191])
        XCTAssertEqual(cuts.reduce(0, +), data.count)
    }

    // MARK: Behaviour

    func testMinAndMaxAreRespected() {
        let inputs: [[UInt8]] = [
            cdcRandomBytes(count: 1 << 20, seed: 7),
            [UInt8](repeating: 0, count: 200_000),              // no content cuts: forced at max
            (0..<300_000).map { UInt8(truncatingIfNeeded: $0 % 251) },
        ]
        for data in inputs {
            let cuts = cdcCutLengths(data, small)
            XCTAssertEqual(cuts.reduce(0, +), data.count)
            for (i, c) in cuts.enumerated() {
                XCTAssertLessThanOrEqual(c, 16384)
                if i < cuts.count - 1 { XCTAssertGreaterThan(c, 1024, "chunk \(i) shorter than min") }
            }
        }
        XCTAssertEqual(Set(cdcCutLengths([UInt8](repeating: 0, count: 65536), small).dropLast()), [16384])
    }

    func testAverageIsNearTarget() {
        let data = cdcRandomBytes(count: 4 << 20, seed: 99)
        let cuts = cdcCutLengths(data, small)
        let average = Double(data.count) / Double(cuts.count)
        // Normalized chunking level 2 with min = avg/4 lands a bit above avg (≈ 1.17 × avg).
        XCTAssertGreaterThan(average, 4096 * 0.9)
        XCTAssertLessThan(average, 4096 * 1.5)
    }

    func testNilWhenMoreDataIsNeeded() {
        let data = [UInt8](repeating: 0, count: 10_000)   // zeros never cut with these masks below max
        data.withUnsafeBytes { raw in
            XCTAssertNil(small.nextCut(raw, isFinal: false))
            XCTAssertEqual(small.nextCut(raw, isFinal: true), 10_000)
            XCTAssertNil(small.nextCut(UnsafeRawBufferPointer(rebasing: raw[0..<10]), isFinal: false))
            XCTAssertEqual(small.nextCut(UnsafeRawBufferPointer(rebasing: raw[0..<10]), isFinal: true), 10)
            XCTAssertEqual(small.nextCut(UnsafeRawBufferPointer(rebasing: raw[0..<0]), isFinal: true), 0)
            XCTAssertNil(small.nextCut(UnsafeRawBufferPointer(rebasing: raw[0..<0]), isFinal: false))
        }
        let zeros = [UInt8](repeating: 0, count: 20_000)
        zeros.withUnsafeBytes { raw in
            XCTAssertEqual(small.nextCut(raw, isFinal: false), 16384, "a cut is forced at max")
        }
        XCTAssertEqual(small.nextCut(UnsafeRawBufferPointer(start: nil, count: 0), isFinal: true), 0)
    }

    func testCutFoundWithoutFinalIsTheSameAsWithMoreData() {
        let data = cdcRandomBytes(count: 64 << 10, seed: 3)
        data.withUnsafeBytes { raw in
            let full = small.nextCut(raw, isFinal: true)!
            XCTAssertLessThan(full, 16384)
            // Any prefix that contains the cut gives the same cut, final or not.
            XCTAssertEqual(small.nextCut(UnsafeRawBufferPointer(rebasing: raw[0..<full]), isFinal: false), full)
            XCTAssertNil(small.nextCut(UnsafeRawBufferPointer(rebasing: raw[0..<(full - 1)]), isFinal: false))
        }
    }

    func testResumingGivesTheSameCutsAsOneShot() {
        let data = cdcRandomBytes(count: 512 << 10, seed: 11)
        let expected = cdcCutLengths(data, small)
        var rng = CDCSplitMix(seed: 5)
        data.withUnsafeBytes { raw in
            var got: [Int] = []
            var start = 0, end = 0
            var state = Chunker.ScanState()
            while start < raw.count {
                end = Swift.min(raw.count, end + Int(rng.next() % 3000))
                let final = end == raw.count
                while start < end {
                    let buffer = UnsafeRawBufferPointer(rebasing: raw[start..<end])
                    guard let cut = small.nextCut(buffer, isFinal: final, resuming: &state) else { break }
                    got.append(cut)
                    start += cut
                    state = Chunker.ScanState()
                }
            }
            XCTAssertEqual(got, expected)
        }
    }

    func testBoundariesAreContentDefined() {
        let data = cdcRandomBytes(count: 2 << 20, seed: 21)
        var edited = data
        edited.insert(contentsOf: [1, 2, 3, 4, 5, 6, 7], at: 1500)   // inside the first chunk
        edited.remove(at: 40_000)                                     // and a deletion a few chunks later
        func chunkHashes(_ d: [UInt8]) -> [ObjectHash] {
            var offset = 0
            return cdcCutLengths(d, small).map { len in
                defer { offset += len }
                return ObjectHash.of(d[offset..<(offset + len)])
            }
        }
        let a = chunkHashes(data), b = chunkHashes(edited)
        XCTAssertGreaterThan(a.count, 300)
        // Only the chunks around the edits differ; the boundaries resynchronize right after.
        let common = Set(a).intersection(b)
        XCTAssertGreaterThanOrEqual(common.count, a.count - 6)
        XCTAssertEqual(Array(a.suffix(a.count - 12)), Array(b.suffix(a.count - 12)))
    }

    func testDefaultParamsOnLargeInput() {
        let data = cdcRandomBytes(count: 24 << 20, seed: 1234)
        let cuts = cdcCutLengths(data, Chunker())
        for c in cuts.dropLast() {
            XCTAssertGreaterThan(c, 256 << 10)
            XCTAssertLessThanOrEqual(c, 4 << 20)
        }
    }

    /// Prints throughput only (meaningful in release: `swift test -c release --filter ChunkerTests/testThroughput`).
    func testThroughput() {
        let data = cdcRandomBytes(count: 64 << 20, seed: 77)
        let chunker = Chunker()
        let start = Date()
        let cuts = cdcCutLengths(data, chunker)
        let seconds = Date().timeIntervalSince(start)
        let hashStart = Date()
        data.withUnsafeBytes { raw in
            var offset = 0
            for len in cuts {
                _ = ObjectHash.of(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + len)]))
                offset += len
            }
        }
        let hashSeconds = Date().timeIntervalSince(hashStart)
        print(String(format: "chunker: %.2f GB/s, SHA-256: %.2f GB/s (%d chunks of 64 MiB)",
                     Double(data.count) / seconds / 1e9, Double(data.count) / hashSeconds / 1e9, cuts.count))
    }
}

/// A small deterministic generator for tests.
struct CDCSplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

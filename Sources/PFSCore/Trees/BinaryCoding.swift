import Foundation

/// Little helpers for the compact binary encoding of tree objects (see docs/storage.md).
struct BinaryWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }

    mutating func uvarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func svarint(_ v: Int64) { uvarint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    mutating func hash(_ h: ObjectHash) {
        for w in [h.w0, h.w1, h.w2, h.w3] {
            for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) }
        }
    }

    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        uvarint(UInt64(u.count))
        bytes.append(contentsOf: u)
    }

    mutating func raw(_ s: String) { bytes.append(contentsOf: Array(s.utf8)) }
}

struct BinaryReader {
    let bytes: [UInt8]
    var pos = 0
    let what: String

    init(_ bytes: [UInt8], what: String) { self.bytes = bytes; self.what = what }

    private func truncated() -> PFSError { .corrupt("\(what) is truncated at byte \(pos); run `pfs fsck`") }

    mutating func u8() throws -> UInt8 {
        guard pos < bytes.count else { throw truncated() }
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func uvarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard pos < bytes.count, shift < 64 else { throw truncated() }
            let b = bytes[pos]
            pos += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    mutating func svarint() throws -> Int64 {
        let u = try uvarint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    mutating func int(_ limit: UInt64 = UInt64(Int.max)) throws -> Int {
        let v = try uvarint()
        guard v <= limit else { throw PFSError.corrupt("\(what) has an out-of-range value \(v); run `pfs fsck`") }
        return Int(v)
    }

    mutating func hash() throws -> ObjectHash {
        guard pos + 32 <= bytes.count else { throw truncated() }
        var w: [UInt64] = [0, 0, 0, 0]
        for i in 0..<32 { w[i / 8] = (w[i / 8] << 8) | UInt64(bytes[pos + i]) }
        pos += 32
        return ObjectHash(w0: w[0], w1: w[1], w2: w[2], w3: w[3])
    }

    mutating func string() throws -> String {
        let n = try int(1 << 20)
        guard pos + n <= bytes.count else { throw truncated() }
        defer { pos += n }
        return String(decoding: bytes[pos..<pos + n], as: UTF8.self)
    }

    mutating func expect(_ magic: String) throws {
        for c in magic.utf8 {
            guard try u8() == c else { throw PFSError.corrupt("\(what) does not start with \(magic); run `pfs fsck`") }
        }
    }

    var atEnd: Bool { pos == bytes.count }
}

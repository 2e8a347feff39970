import Crypto
import Foundation

/// A SHA-256 content address. Stored as 32 raw bytes; printed as 64 lowercase hex digits.
public struct ObjectHash: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    // Four words keep the value inline (no heap allocation) and make hashing/comparison cheap.
    public let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// Builds a hash from exactly 32 bytes (big-endian words, so byte order == hex order).
    public init<C: Collection>(bytes: C) where C.Element == UInt8 {
        precondition(bytes.count == 32, "ObjectHash needs 32 bytes")
        var words: [UInt64] = [0, 0, 0, 0]
        var i = 0
        for b in bytes {
            words[i / 8] = (words[i / 8] << 8) | UInt64(b)
            i += 1
        }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    /// SHA-256 of `data` (swift-crypto: BoringSSL, which uses the CPU's SHA extensions).
    public static func of<D: DataProtocol>(_ data: D) -> ObjectHash {
        ObjectHash(digest: SHA256.hash(data: data))
    }

    public static func of(_ buffer: UnsafeRawBufferPointer) -> ObjectHash {
        ObjectHash(digest: SHA256.hash(data: buffer))
    }

    public init(digest: SHA256.Digest) {
        self.init(bytes: Array(digest))
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for w in [w0, w1, w2, w3] {
            for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) }
        }
        return out
    }

    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    /// Parses 64 hex digits; nil if the string is anything else.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 64 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let hi = Self.nibble(utf8[i]), let lo = Self.nibble(utf8[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        self.init(bytes: bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Nibble `i` (0 = most significant) — used to shard large directories.
    public func nibble(at i: Int) -> Int {
        let word = [w0, w1, w2, w3][i / 16]
        return Int((word >> UInt64(60 - (i % 16) * 4)) & 0xF)
    }

    public static func < (a: ObjectHash, b: ObjectHash) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let h = ObjectHash(hex: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a 64-hex SHA-256: \(s)"))
        }
        self = h
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

import Crypto
import Foundation

/// A stored directory object. Small directories are one `leaf`; a directory with more than
/// `TreeNode.leafLimit` entries is a hash-array-mapped trie of `index` nodes: entries are routed by the
/// nibbles of SHA-256(name), 16 ways per level. The shape depends only on the set of entries (a node is a
/// leaf iff it holds at most `leafLimit` entries), so equal directories always have equal hashes, and
/// changing one entry rewrites one leaf plus the index nodes above it.
public enum TreeNode: Sendable {
    case leaf([TreeEntry])
    case index(depth: Int, children: [TreeChild])

    public static let leafLimit = 1024
    static let magic = "PFT1"
    /// Set in an entry's kind byte when a ctime (svarint) follows its mtime.
    static let ctimeFlag: UInt8 = 0x80

    public var count: Int {
        switch self {
        case .leaf(let e): return e.count
        case .index(_, let c): return c.reduce(0) { $0 + $1.count }
        }
    }

    public var size: Int64 {
        switch self {
        case .leaf(let e): return e.reduce(0) { $0 + $1.size }
        case .index(_, let c): return c.reduce(0) { $0 + $1.size }
        }
    }

    public func encode() -> [UInt8] {
        var w = BinaryWriter()
        w.raw(Self.magic)
        switch self {
        case .leaf(let entries):
            w.u8(0)
            w.uvarint(UInt64(entries.count))
            for e in entries { Self.encode(e, into: &w) }
        case .index(let depth, let children):
            w.u8(1)
            w.u8(UInt8(depth))
            w.uvarint(UInt64(children.count))
            for c in children {
                w.u8(UInt8(c.nibble))
                w.hash(c.hash)
                w.uvarint(UInt64(c.count))
                w.uvarint(UInt64(c.size))
            }
        }
        return w.bytes
    }

    private static func encode(_ e: TreeEntry, into w: inout BinaryWriter) {
        // The kind byte's top bit says a ctime follows the mtime (only when it differs from it), so entries
        // without one keep the format, and the hashes, they had before ctimes were kept.
        let ctime = e.ctimeNs.flatMap { $0 == e.mtimeNs ? nil : $0 }
        w.string(e.name)
        w.u8(e.kind.rawValue | (ctime != nil ? Self.ctimeFlag : 0))
        w.uvarint(UInt64(e.mode))
        w.uvarint(UInt64(e.size))
        w.svarint(e.mtimeNs)
        if let ctime { w.svarint(ctime) }
        w.hash(e.hash)
        switch e.kind {
        case .file:
            if let chunks = e.chunks, chunks.count <= TreeEntry.inlineChunkLimit {
                w.u8(0)
                w.uvarint(UInt64(chunks.count))
                for c in chunks {
                    w.hash(c.hash)
                    w.uvarint(UInt64(c.size))
                }
            } else {
                w.u8(1)  // chunk list lives in the manifest object named by `hash`
            }
        case .symlink:
            w.string(e.target ?? "")
        case .dir:
            break
        }
    }

    public static func decode(_ bytes: [UInt8], hash: ObjectHash) throws -> TreeNode {
        var r = BinaryReader(bytes, what: "tree object \(hash.hex.prefix(16))")
        try r.expect(magic)
        switch try r.u8() {
        case 0:
            let n = try r.int(1 << 24)
            var entries: [TreeEntry] = []
            entries.reserveCapacity(n)
            for _ in 0..<n {
                let name = try r.string()
                let kindByte = try r.u8()
                guard let kind = EntryKind(rawValue: kindByte & ~Self.ctimeFlag) else { throw PFSError.corrupt("tree object \(hash.hex) has an unknown entry kind") }
                let mode = UInt32(truncatingIfNeeded: try r.uvarint())
                let size = Int64(try r.uvarint())
                let mtime = try r.svarint()
                let ctime: Int64? = kindByte & Self.ctimeFlag != 0 ? try r.svarint() : nil
                let h = try r.hash()
                var chunks: [ChunkRef]?
                var target: String?
                switch kind {
                case .file:
                    if try r.u8() == 0 {
                        let c = try r.int(1 << 20)
                        var list: [ChunkRef] = []
                        list.reserveCapacity(c)
                        for _ in 0..<c { list.append(ChunkRef(hash: try r.hash(), size: Int64(try r.uvarint()))) }
                        chunks = list
                    }
                case .symlink:
                    target = try r.string()
                case .dir:
                    break
                }
                entries.append(TreeEntry(name: name, kind: kind, mode: mode, size: size, mtimeNs: mtime, hash: h,
                                         chunks: chunks, target: target, ctimeNs: ctime))
            }
            return .leaf(entries)
        case 1:
            let depth = Int(try r.u8())
            let n = try r.int(16)
            var children: [TreeChild] = []
            for _ in 0..<n {
                let nib = Int(try r.u8())
                let h = try r.hash()
                let count = try r.int()
                let size = Int64(try r.uvarint())
                children.append(TreeChild(nibble: nib, hash: h, count: count, size: size))
            }
            return .index(depth: depth, children: children)
        default:
            throw PFSError.corrupt("tree object \(hash.hex) has an unknown node type; run `pfs fsck`")
        }
    }

    /// The routing key of a name inside large directories.
    static func route(_ name: String) -> ObjectHash { ObjectHash.of(Array(name.utf8)) }
}

public struct TreeChild: Sendable, Equatable {
    public var nibble: Int
    public var hash: ObjectHash
    public var count: Int
    public var size: Int64
}

import Foundation

public enum EntryKind: UInt8, Sendable, Codable {
    case file = 1, dir = 2, symlink = 3

    public var fileType: FileType {
        switch self {
        case .file: return .file
        case .dir: return .dir
        case .symlink: return .symlink
        }
    }
}

/// One name in a directory of a Merkle tree.
public struct TreeEntry: Sendable, Equatable, Codable {
    public var name: String
    public var kind: EntryKind
    /// Permission bits only (e.g. 0o644).
    public var mode: UInt32
    /// File: its bytes. Directory: total file bytes below it. Symlink: target length.
    public var size: Int64
    public var mtimeNs: Int64
    /// The status-change time (ctime: chmod, rename, utimens) when it differs from `mtimeNs`; nil means it equals
    /// `mtimeNs` (a write or truncate sets both). Stored only when it differs, so entries without one encode, and
    /// hash, exactly as before it existed (docs/storage.md).
    public var ctimeNs: Int64?
    /// File: content hash (the hash of its manifest, see `FileManifest`). Directory: tree hash. Symlink: hash of the target.
    public var hash: ObjectHash
    /// File: the chunk list when it is small enough to live in the tree (nil when it is in a manifest object).
    public var chunks: [ChunkRef]?
    /// Symlink: its target.
    public var target: String?

    public init(name: String, kind: EntryKind, mode: UInt32, size: Int64, mtimeNs: Int64, hash: ObjectHash,
                chunks: [ChunkRef]? = nil, target: String? = nil, ctimeNs: Int64? = nil) {
        self.name = name; self.kind = kind; self.mode = mode; self.size = size; self.mtimeNs = mtimeNs
        self.hash = hash; self.chunks = chunks; self.target = target
        self.ctimeNs = ctimeNs == mtimeNs ? nil : ctimeNs
    }

    /// The ctime to show (`stat`'s `st_ctim`).
    public var changeTimeNs: Int64 { ctimeNs ?? mtimeNs }

    /// Records a status change at `now` (nil when it equals the mtime, as after a write).
    public mutating func changed(at now: Int64) { ctimeNs = now == mtimeNs ? nil : now }

    /// Files whose chunk list is longer than this keep it in a manifest object instead of inline.
    public static let inlineChunkLimit = 32

    public static let defaultFileMode: UInt32 = 0o644
    public static let defaultDirMode: UInt32 = 0o755

    public static func file(name: String, content: FileContent, mode: UInt32 = defaultFileMode, mtimeNs: Int64) -> TreeEntry {
        TreeEntry(name: name, kind: .file, mode: mode, size: content.size, mtimeNs: mtimeNs,
                  hash: FileManifest.hash(of: content), chunks: content.chunks)
    }

    public static func symlink(name: String, target: String, mtimeNs: Int64) -> TreeEntry {
        TreeEntry(name: name, kind: .symlink, mode: 0o777, size: Int64(target.utf8.count), mtimeNs: mtimeNs,
                  hash: ObjectHash.of(Array(target.utf8)), target: target)
    }

    func renamed(_ n: String) -> TreeEntry {
        var e = self
        e.name = n
        return e
    }

    public func info(path: String, commit: String) -> FileInfo {
        FileInfo(path: path, type: kind.fileType, sizeBytes: size, mode: mode, mtimeNs: mtimeNs, hash: hash.hex,
                 commit: commit, target: target, chunks: kind == .file ? chunks?.count : nil)
    }
}

/// A file's identity: the SHA-256 of its manifest bytes (magic + each chunk's hash and size).
/// Large manifests are stored as objects under that same hash, so they verify themselves.
public enum FileManifest {
    static let magic = "PFM1"

    public static func encode(_ content: FileContent) -> [UInt8] {
        var w = BinaryWriter()
        w.raw(magic)
        w.uvarint(UInt64(content.chunks.count))
        for c in content.chunks {
            w.hash(c.hash)
            w.uvarint(UInt64(c.size))
        }
        return w.bytes
    }

    public static func hash(of content: FileContent) -> ObjectHash { ObjectHash.of(encode(content)) }

    public static func decode(_ bytes: [UInt8]) throws -> FileContent {
        var r = BinaryReader(bytes, what: "file manifest")
        try r.expect(magic)
        let n = try r.int(1 << 32)
        var chunks: [ChunkRef] = []
        chunks.reserveCapacity(n)
        var total: Int64 = 0
        for _ in 0..<n {
            let h = try r.hash()
            let s = Int64(try r.uvarint())
            chunks.append(ChunkRef(hash: h, size: s))
            total += s
        }
        return FileContent(chunks: chunks, size: total)
    }
}

extension String {
    /// Byte-wise (UTF-8) ordering — the order entries are stored and listed in.
    @inline(__always)
    func utf8Less(_ other: String) -> Bool {
        self.utf8.lexicographicallyPrecedes(other.utf8)
    }

    /// Byte-wise (UTF-8) equality. Swift's `==` is canonical equivalence (`"caf\u{e9}" == "cafe\u{301}"`), but
    /// names are bytes, as on Linux filesystems: two names that differ in a byte are two names.
    @inline(__always)
    func utf8Equal(_ other: String) -> Bool {
        self.utf8.elementsEqual(other.utf8)
    }
}

/// A name or path as a dictionary key: equal and hashed by its UTF-8 bytes (see `utf8Equal`).
struct NameKey: Hashable, Sendable {
    let name: String

    init(_ name: String) { self.name = name }

    static func == (a: NameKey, b: NameKey) -> Bool { a.name.utf8Equal(b.name) }

    func hash(into hasher: inout Hasher) {
        hasher.combine(name.utf8.count)
        let done: Void? = name.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil { for b in name.utf8 { hasher.combine(b) } }
    }
}

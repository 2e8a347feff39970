import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The ops of one put session, in order, encoded one after another in an unlinked temporary file (the newest
/// MiB in memory). A session of a million files would otherwise hold a million `StagedOp`s (~200 bytes each,
/// most of them a `TreeEntry` and its chunk list) until it is applied; here it holds an offset per changed path.
/// Nothing here is durable or needs to be: the ops only matter until the session is applied, and a crash
/// before that discards the session anyway (the file has no name, so the kernel frees it with the process).
final class StagedOpLog {
    /// Where the temporary file is made (the store's data directory: the same disk as the objects).
    private let directory: String
    private var fd: Int32 = -1
    /// Encoded records not yet written; they start at file offset `flushed`.
    private var buffer: [UInt8] = []
    private var flushed: Int64 = 0
    private(set) var count = 0

    static let bufferLimit = 1 << 20

    init(directory: String) {
        self.directory = directory
    }

    deinit {
        if fd >= 0 { FileIO.close(fd) }
    }

    /// The offset of the end of the log (where the next record goes).
    var endOffset: Int64 { flushed + Int64(buffer.count) }

    /// Appends `op`; returns its offset (for `op(at:)`).
    @discardableResult
    func append(_ op: StagedOp) throws -> Int64 {
        let offset = endOffset
        var w = BinaryWriter()
        Self.encode(op, into: &w)
        var length = UInt32(w.bytes.count).littleEndian
        withUnsafeBytes(of: &length) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: w.bytes)
        count += 1
        if buffer.count >= Self.bufferLimit { try flush() }
        return offset
    }

    /// The op whose record starts at `offset` (an offset `append` returned).
    func op(at offset: Int64) throws -> StagedOp {
        // One record, read alone: a lookup (a path the session changed earlier) must not cost a MiB of read-ahead.
        var window = Window(readAhead: false)
        return try record(at: offset, &window).0
    }

    /// Every op in order, `size` at a time (the last group may be smaller).
    func forEachGroup(of size: Int, _ body: ([StagedOp]) throws -> Void) throws {
        var group: [StagedOp] = []
        group.reserveCapacity(min(size, count))
        var window = Window()
        var offset: Int64 = 0
        let end = endOffset
        while offset < end {
            let (op, next) = try record(at: offset, &window)
            group.append(op)
            offset = next
            if group.count == size {
                try body(group)
                group.removeAll(keepingCapacity: true)
            }
        }
        if !group.isEmpty { try body(group) }
    }

    /// Every op in order, in memory (for applying to an open commit, which takes them as one batch).
    func all() throws -> [StagedOp] {
        var ops: [StagedOp] = []
        ops.reserveCapacity(count)
        try forEachGroup(of: 65_536) { ops.append(contentsOf: $0) }
        return ops
    }

    // MARK: the file

    private var displayPath: String { directory + "/(put session op log)" }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        if fd < 0 { fd = try Self.makeUnlinkedFile(in: directory) }
        try buffer.withUnsafeBytes { try FileIO.pwriteAll(fd, $0.baseAddress, $0.count, offset: flushed, path: displayPath) }
        flushed += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }

    /// A temporary file with no name: created with a unique name, unlinked at once.
    private static func makeUnlinkedFile(in directory: String) throws -> Int32 {
        var template = Array((directory + "/.put-ops-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw PFSError.syscall("mkstemp", path: directory, errno: errno) }
        let name = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        unlink(name)
        return fd
    }

    /// Bytes of the file read ahead, so a sequential scan costs one read per MiB, not two per record.
    private struct Window {
        var readAhead = true
        var start: Int64 = 0
        var bytes: [UInt8] = []
    }

    private func read(_ n: Int, at offset: Int64, _ window: inout Window) throws -> ArraySlice<UInt8> {
        if offset >= flushed {
            let start = Int(offset - flushed)
            guard start + n <= buffer.count else { throw PFSError(.internal, "put session op log read past its end") }
            return buffer[start..<start + n]
        }
        // A record never straddles the file's end and the buffer: the buffer is written out whole.
        guard offset + Int64(n) <= flushed else { throw PFSError(.internal, "put session op log record straddles its buffer") }
        let end = window.start + Int64(window.bytes.count)
        if offset < window.start || offset + Int64(n) > end {
            let length = window.readAhead ? Int(min(flushed - offset, Int64(max(n, Self.bufferLimit)))) : n
            window.start = offset
            window.bytes = try [UInt8](unsafeUninitializedCapacity: length) { out, got in
                got = 0
                got = try FileIO.preadFully(fd, out.baseAddress, length, offset: offset, path: displayPath)
                guard got == length else { throw PFSError(.internal, "put session op log is truncated") }
            }
        }
        let from = Int(offset - window.start)
        return window.bytes[from..<from + n]
    }

    /// The op at `offset` and the offset of the next record.
    private func record(at offset: Int64, _ window: inout Window) throws -> (StagedOp, Int64) {
        let head = Array(try read(4, at: offset, &window))
        let length = Int(UInt32(head[0]) | UInt32(head[1]) << 8 | UInt32(head[2]) << 16 | UInt32(head[3]) << 24)
        var r = BinaryReader(Array(try read(length, at: offset + 4, &window)), what: "put session op log")
        return (try Self.decode(&r), offset + 4 + Int64(length))
    }

    // MARK: encoding

    private enum Tag: UInt8 { case put = 1, other = 2 }

    /// A put (nearly every op of a big session) in a compact binary form with its whole chunk list; the rare
    /// other ops as JSON.
    static func encode(_ op: StagedOp, into w: inout BinaryWriter) {
        switch op {
        case .put(let path, let e):
            w.u8(Tag.put.rawValue)
            w.string(path)
            w.string(e.name)
            w.u8(e.kind.rawValue)
            w.uvarint(UInt64(e.mode))
            w.svarint(e.size)
            w.svarint(e.mtimeNs)
            if let c = e.ctimeNs { w.u8(1); w.svarint(c) } else { w.u8(0) }
            w.hash(e.hash)
            if let chunks = e.chunks {
                w.u8(1)
                w.uvarint(UInt64(chunks.count))
                for c in chunks {
                    w.hash(c.hash)
                    w.svarint(c.size)
                }
            } else {
                w.u8(0)
            }
            if let t = e.target { w.u8(1); w.string(t) } else { w.u8(0) }
        default:
            w.u8(Tag.other.rawValue)
            // Encoding a StagedOp to JSON cannot fail (strings and integers only).
            w.bytes.append(contentsOf: (try? JSONEncoder().encode(op)) ?? Data())
        }
    }

    static func decode(_ r: inout BinaryReader) throws -> StagedOp {
        switch Tag(rawValue: try r.u8()) {
        case .put:
            let path = try r.string()
            let name = try r.string()
            guard let kind = EntryKind(rawValue: try r.u8()) else { throw PFSError(.internal, "put session op log: bad entry kind") }
            let mode = UInt32(truncatingIfNeeded: try r.uvarint())
            let size = try r.svarint()
            let mtime = try r.svarint()
            let ctime: Int64? = try r.u8() == 1 ? try r.svarint() : nil
            let hash = try r.hash()
            var chunks: [ChunkRef]?
            if try r.u8() == 1 {
                let n = try r.int(1 << 32)
                var list: [ChunkRef] = []
                list.reserveCapacity(n)
                for _ in 0..<n { list.append(ChunkRef(hash: try r.hash(), size: try r.svarint())) }
                chunks = list
            }
            let target: String? = try r.u8() == 1 ? try r.string() : nil
            return .put(path: path, entry: TreeEntry(name: name, kind: kind, mode: mode, size: size, mtimeNs: mtime, hash: hash,
                                                     chunks: chunks, target: target, ctimeNs: ctime))
        case .other:
            return try JSONDecoder().decode(StagedOp.self, from: Data(r.bytes[r.pos...]))
        case nil:
            throw PFSError(.internal, "put session op log: unknown record")
        }
    }
}

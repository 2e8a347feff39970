import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Small objects (under `PackStore.maximumObjectSize`: small files' chunks, tree nodes) of a `LocalObjectStore`,
/// appended to pack files instead of one file each (docs/storage-objects.md, "Packs"):
/// ```
/// <objects>/packs/<16 hex>.pack   records, appended by one store instance (flock-ed while it appends)
/// <objects>/packs/<16 hex>.idx    the index of a sealed pack: written only after the pack's data was synced
/// ```
/// A record is a 40-byte header — magic `PFSK`, the length (UInt32, big-endian), the SHA-256 — and then the bytes.
/// One store instance appends to one pack at a time, with every `pwrite` under the lock, so a pack is always a
/// sequence of complete records followed by at most one cut-short record (a failed write or a crash).
/// An object in a pack is *committed* (`contains` trusts it) once an `fdatasync` of its pack has completed after
/// its record was written; a batch's `commit()` does that, one sync for all of its small objects.
///
/// When the store opens, each pack without an index whose flock is free (its instance ended or died) is scanned:
/// every record that re-hashes to its name is kept (a power loss can only have cut the unsynced tail), the pack is
/// synced, and its index is written. Packs of live instances (another process on the same directory) are read
/// lazily, with the same check, when an object is not found; their objects are readable but never `contains`.
/// The whole index is held in memory (about 100 bytes per packed object).
public final class PackStore: Sendable {
    /// Objects up to this size are packed; larger ones stay one file each.
    public static let maximumObjectSize = 64 << 10
    /// A pack that reaches this size is sealed and a new one started.
    static let maximumPackSize: Int64 = 256 << 20
    static let headerSize = 40
    static let recordMagic: UInt32 = 0x5046_534B   // "PFSK"
    static let indexMagic: UInt32 = 0x5046_5349    // "PFSI"
    static let indexEntrySize = 44

    enum State: Sendable { case staged, committed, foreign }

    struct Location: Sendable, Equatable {
        var pack: Int32
        /// Offset of the object's first byte (after the header).
        var offset: Int64
        var length: Int32
        var state: State
        var end: Int64 { offset + Int64(length) }
    }

    struct Pack {
        let name: String
        var readFD: Int32 = -1
        var sealed: Bool
        /// Another live instance appends to it: scanned up to `scannedTo`, objects readable but not trusted.
        var foreign: Bool
        var scannedTo: Int64 = 0
        var deadBytes: Int64 = 0
        /// Every record that ends at or before this offset is durable (an fdatasync of the pack covered it).
        var syncedTo: Int64 = 0
        var removed = false
        var mtime = Date(timeIntervalSince1970: 0)
    }

    struct Active {
        var pack: Int32
        var fd: Int32
        var end: Int64
    }

    struct Inner {
        var index: [ObjectHash: Location] = [:]
        var packs: [Pack] = []
        var byName: [String: Int32] = [:]
        var active: Active?
    }

    let rootFD: Int32
    let directoryPath: String
    let dirFD: Int32
    private let inner = Mutex(Inner())
    /// Serializes data syncs, so one sync covers every record written before it started (group commit).
    private let syncLock = Mutex(())

    /// Opens `<root>/packs`, creating it; loads the indexes and recovers the packs of ended instances.
    init(rootFD: Int32, rootPath: String) throws {
        self.rootFD = rootFD
        directoryPath = rootPath + "/packs"
        if try FileIO.mkdirAt(rootFD, "packs", path: directoryPath) { try FileIO.fsync(rootFD, path: rootPath) }
        dirFD = try FileIO.openAt(rootFD, "packs", O_RDONLY | O_DIRECTORY, path: directoryPath)
        do {
            try load(recover: true)
        } catch {
            FileIO.close(dirFD)
            throw error
        }
    }

    deinit {
        let s = inner.withLock { $0 }
        if let a = s.active {
            // Sealing makes the pack's records durable and indexes them, so the next open need not scan it.
            try? seal(a)
            FileIO.close(a.fd)
        }
        for p in s.packs where p.readFD >= 0 { FileIO.close(p.readFD) }
        FileIO.close(dirFD)
    }

    func path(_ name: String) -> String { directoryPath + "/" + name }

    // MARK: Lookups

    /// Whether the object is packed and committed.
    func contains(_ hash: ObjectHash) -> Bool {
        inner.withLock { $0.index[hash]?.state == .committed }
    }

    /// Where the object is (any state); with `refresh`, looks at packs written by other instances on a miss.
    func location(_ hash: ObjectHash, refresh: Bool) -> Location? {
        if let loc = inner.withLock({ $0.index[hash] }) { return loc }
        guard refresh else { return nil }
        try? load(recover: false)
        return inner.withLock { $0.index[hash] }
    }

    /// Reads from `offset` of the object at `loc` into `buffer`; returns the bytes read (clamped to the object).
    func read(_ loc: Location, offset: Int, into buffer: UnsafeMutableRawBufferPointer, hash: ObjectHash) throws -> Int {
        let count = max(0, min(buffer.count, Int(loc.length) - offset))
        guard count > 0 else { return 0 }
        let (fd, name) = try readFD(loc.pack)
        let n = try FileIO.preadFully(fd, buffer.baseAddress, count, offset: loc.offset + Int64(offset), path: path(name))
        if n < count {
            throw PFSError(.corrupt, "object \(hash) is cut short in pack \(path(name)) (run `pfs fsck`)")
        }
        return n
    }

    func readAll(_ loc: Location, hash: ObjectHash) throws -> [UInt8] {
        let length = Int(loc.length)
        guard length > 0 else { return [] }
        return try [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            count = 0
            count = try read(loc, offset: 0, into: UnsafeMutableRawBufferPointer(buffer), hash: hash)
        }
    }

    func prefetch(_ loc: Location) {
        guard let (fd, _) = try? readFD(loc.pack) else { return }
        posix_fadvise(fd, off_t(loc.offset), off_t(loc.length), POSIX_FADV_WILLNEED)
    }

    private func readFD(_ pack: Int32) throws -> (Int32, String) {
        if let r = inner.withLock({ s -> (Int32, String)? in
            let p = s.packs[Int(pack)]
            return p.readFD >= 0 ? (p.readFD, p.name) : nil
        }) { return r }
        let name = inner.withLock { $0.packs[Int(pack)].name }
        let fd = try FileIO.openAt(dirFD, name, O_RDONLY, path: path(name))
        return inner.withLock { s in
            if s.packs[Int(pack)].readFD >= 0 {
                FileIO.close(fd)
                return (s.packs[Int(pack)].readFD, name)
            }
            s.packs[Int(pack)].readFD = fd
            return (fd, name)
        }
    }

    /// Every committed packed object (hash, size, the pack's mtime).
    func forEachCommitted(_ body: (ObjectHash, Int64, Date) throws -> Void) throws {
        let entries = inner.withLock { s in
            s.index.compactMap { h, l in l.state == .committed ? (h, Int64(l.length), s.packs[Int(l.pack)].mtime) : nil }
        }
        for (h, size, date) in entries { try body(h, size, date) }
    }

    // MARK: Writing

    /// Appends a record for the object (staged: readable at once, not trusted by `contains` until synced).
    /// If the object is already packed, returns its location instead (a staged record is covered by this
    /// batch's sync as well: it was written completely before this call returned).
    /// With `relocating` (compaction), a new record is always written and the index keeps pointing at the old one.
    func append(_ hash: ObjectHash, _ bytes: UnsafeRawBufferPointer, relocating: Bool = false) throws -> (Location, new: Bool) {
        precondition(bytes.count <= Self.maximumObjectSize)
        return try inner.withLock { s in
            if !relocating, let loc = s.index[hash], loc.state != .foreign { return (loc, false) }
            let recordSize = Int64(Self.headerSize + bytes.count)
            if s.active == nil || s.active!.end + recordSize > Self.maximumPackSize {
                if let old = s.active {
                    s.active = nil
                    try seal(old, locked: &s)
                    FileIO.close(old.fd)
                }
                s.active = try createPack(&s)
            }
            var a = s.active!
            var record = [UInt8](repeating: 0, count: Int(recordSize))
            Self.writeHeader(&record, length: UInt32(bytes.count), hash: hash)
            record.withUnsafeMutableBytes { r in
                if let base = bytes.baseAddress, bytes.count > 0 {
                    (r.baseAddress! + Self.headerSize).copyMemory(from: base, byteCount: bytes.count)
                }
            }
            let name = s.packs[Int(a.pack)].name
            do {
                try record.withUnsafeBytes { try FileIO.pwriteAll(a.fd, $0.baseAddress, $0.count, offset: a.end, path: path(name)) }
            } catch {
                // Leave no partial record behind: later records must follow complete ones.
                if ftruncate(a.fd, off_t(a.end)) != 0 {
                    s.active = nil
                    try? seal(a, locked: &s)
                    FileIO.close(a.fd)
                }
                throw error
            }
            let loc = Location(pack: a.pack, offset: a.end + Int64(Self.headerSize), length: Int32(bytes.count), state: .staged)
            a.end += recordSize
            s.active = a
            if !relocating { s.index[hash] = loc }
            return (loc, true)
        }
    }

    /// Makes every record that ends at or before `end` in `pack` durable (no-op if a sync already covered it).
    func sync(pack: Int32, upTo end: Int64) throws {
        try syncLock.withLock { _ in
            guard let (activeFD, target, name) = inner.withLock({ s -> (Int32?, Int64, String)? in
                let p = s.packs[Int(pack)]
                guard p.syncedTo < end else { return nil }
                if let a = s.active, a.pack == pack { return (a.fd, a.end, p.name) }
                return (nil, end, p.name)   // retired without a successful seal (a failed sync): sync it now
            }) else { return }
            if let fd = activeFD {
                try FileIO.fdatasync(fd, path: path(name))
            } else {
                let fd = try FileIO.openAt(dirFD, name, O_RDONLY, path: path(name))
                defer { FileIO.close(fd) }
                try FileIO.fdatasync(fd, path: path(name))
            }
            inner.withLock { s in s.packs[Int(pack)].syncedTo = max(s.packs[Int(pack)].syncedTo, target) }
        }
    }

    /// After `sync`: the object at `loc` is durable and becomes trusted.
    func markCommitted(_ hash: ObjectHash, _ loc: Location) {
        inner.withLock { s in
            if let cur = s.index[hash], cur.state == .committed { return }
            var l = loc
            l.state = .committed
            s.index[hash] = l
        }
    }

    /// Forgets a staged record that was not committed (its bytes stay in the pack as garbage until compaction).
    func discard(_ hash: ObjectHash, _ loc: Location) {
        inner.withLock { s in
            if let cur = s.index[hash], cur.state == .staged, cur.pack == loc.pack, cur.offset == loc.offset {
                s.index[hash] = nil
                s.packs[Int(loc.pack)].deadBytes += Int64(loc.length) + Int64(Self.headerSize)
            }
        }
    }

    /// Removes a committed packed object from the index (GC). Its bytes go when `compact()` rewrites its pack.
    func delete(_ hash: ObjectHash) -> Bool {
        inner.withLock { s in
            guard let loc = s.index[hash], loc.state == .committed else { return false }
            s.index[hash] = nil
            s.packs[Int(loc.pack)].deadBytes += Int64(loc.length) + Int64(Self.headerSize)
            return true
        }
    }

    /// Rewrites every pack of this store that holds deleted objects: its live records are appended to the
    /// active pack and synced, then the old pack and its index are removed. Call with no writers running (GC).
    /// A crash in between leaves duplicates (harmless) or, if the index went first, a pack that the next open
    /// scans again — deleted objects then come back as unreachable ones for the next GC; live data is never lost.
    func compact() throws -> Int64 {
        // Seal the active pack first: deletions in it must not come back when it is scanned after a crash.
        try inner.withLock { s in
            if let a = s.active, s.packs[Int(a.pack)].deadBytes > 0 {
                s.active = nil
                try seal(a, locked: &s)
                FileIO.close(a.fd)
            }
        }
        let victims = inner.withLock { s in
            s.packs.indices.filter { s.packs[$0].sealed && !s.packs[$0].foreign && !s.packs[$0].removed && s.packs[$0].deadBytes > 0 }
        }
        var reclaimed: Int64 = 0
        let victimSet = Set(victims.map(Int32.init))
        let byPack = inner.withLock { s in
            Dictionary(grouping: s.index.filter { victimSet.contains($0.value.pack) }, by: { $0.value.pack })
        }
        for v in victims {
            let live = byPack[Int32(v)] ?? []
            // All of a pack's relocated records go into one pack: a pack sealed halfway would get an index without
            // them (the index lists what the in-memory index points at, and it points at the old records until
            // the switch below). Without a seal in between, a crash leaves them to the scan of the unsealed pack.
            let needed = live.reduce(Int64(0)) { $0 + Int64(Self.headerSize) + Int64($1.value.length) }
            try inner.withLock { s in
                if let a = s.active, a.end + needed > Self.maximumPackSize {
                    s.active = nil
                    try seal(a, locked: &s)
                    FileIO.close(a.fd)
                }
                if s.active == nil { s.active = try createPack(&s) }
            }
            var moved: [(ObjectHash, Location)] = []
            for (hash, loc) in live {
                let bytes = try readAll(loc, hash: hash)
                let (newLoc, _) = try bytes.withUnsafeBytes { try append(hash, $0, relocating: true) }
                moved.append((hash, newLoc))
            }
            if let a = inner.withLock({ $0.active }) { try sync(pack: a.pack, upTo: a.end) }
            // Readers find the old record until this switch, and the new one after it.
            inner.withLock { s in
                for (hash, var loc) in moved where s.index[hash]?.pack == Int32(v) {
                    loc.state = .committed
                    s.index[hash] = loc
                }
            }
            // Its read descriptor stays open (until the store closes): a reader that looked the object up just
            // before the move still reads the right bytes from the unlinked file.
            _ = try readFD(Int32(v))
            let (name, dead) = inner.withLock { s -> (String, Int64) in
                s.packs[v].removed = true
                return (s.packs[v].name, s.packs[v].deadBytes)
            }
            let base = String(name.dropLast(5))
            // The pack first: an index without its pack is dropped at open; a pack without an index is rescanned.
            _ = try FileIO.unlinkAt(dirFD, name, path: path(name))
            _ = try FileIO.unlinkAt(dirFD, base + ".idx", path: path(base + ".idx"))
            reclaimed += dead
        }
        if !victims.isEmpty { try FileIO.fsync(dirFD, path: directoryPath) }
        return reclaimed
    }

    // MARK: Packs and indexes

    private func createPack(_ s: inout Inner) throws -> Active {
        let base = String(UInt64.random(in: .min ... .max), radix: 16)
        let name = base + ".pack", temp = "." + base + ".new"
        let fd = try FileIO.openAt(dirFD, temp, O_RDWR | O_CREAT | O_EXCL, mode: 0o444, path: path(temp))
        do {
            // Locked before it gets its name, so no other instance ever takes it for the pack of a dead one.
            _ = try FileIO.lockExclusive(fd, wait: true, path: path(temp))
            try FileIO.renameAt(dirFD, temp, dirFD, name, path: path(name))
            try FileIO.fsync(dirFD, path: directoryPath)
        } catch {
            FileIO.close(fd)
            _ = try? FileIO.unlinkAt(dirFD, temp, path: path(temp))
            throw error
        }
        let id = Int32(s.packs.count)
        s.packs.append(Pack(name: name, sealed: false, foreign: false, mtime: Date()))
        s.byName[name] = id
        return Active(pack: id, fd: fd, end: 0)
    }

    private func seal(_ a: Active) throws {
        try inner.withLock { s in try seal(a, locked: &s) }
    }

    /// Syncs the pack and writes its index (every record in it, whatever its state), then marks it sealed.
    private func seal(_ a: Active, locked s: inout Inner) throws {
        let name = s.packs[Int(a.pack)].name
        try FileIO.fdatasync(a.fd, path: path(name))
        s.packs[Int(a.pack)].syncedTo = a.end
        let entries = s.index.filter { $0.value.pack == a.pack }
        try writeIndex(pack: name, length: a.end, entries: entries.map { ($0.key, $0.value.offset, $0.value.length) })
        s.packs[Int(a.pack)].sealed = true
        for (h, var l) in entries where l.state == .staged {
            // Synced now: durable whatever its batch does next.
            l.state = .committed
            s.index[h] = l
        }
    }

    /// `<base>.idx`: magic, version 1, entry count, pack length covered; entries (hash, offset, length); SHA-256
    /// of everything before it. Written to a temp file, synced, renamed, directory synced.
    private func writeIndex(pack name: String, length: Int64, entries: [(ObjectHash, Int64, Int32)]) throws {
        var out = [UInt8]()
        out.reserveCapacity(24 + entries.count * Self.indexEntrySize + 32)
        Self.put32(&out, Self.indexMagic)
        Self.put32(&out, 1)
        Self.put64(&out, UInt64(entries.count))
        Self.put64(&out, UInt64(length))
        for (h, off, len) in entries.sorted(by: { $0.1 < $1.1 }) {
            for w in [h.w0, h.w1, h.w2, h.w3] { Self.put64(&out, w) }
            Self.put64(&out, UInt64(off))
            Self.put32(&out, UInt32(len))
        }
        out += ObjectHash.of(out).bytes
        let base = String(name.dropLast(5))
        try DurableFile.replace(URL(fileURLWithPath: path(base + ".idx")), with: Data(out), mode: 0o444)
    }

    /// Parses an index; nil if it is damaged (then its pack is scanned instead).
    private func readIndex(_ name: String) -> (length: Int64, entries: [(ObjectHash, Int64, Int32)])? {
        guard let fd = try? FileIO.openAt(dirFD, name, O_RDONLY, path: path(name)) else { return nil }
        defer { FileIO.close(fd) }
        guard let st = try? FileIO.fstat(fd, path: path(name)), st.st_size >= 24 + 32 else { return nil }
        let size = Int(st.st_size)
        guard let bytes = try? [UInt8](unsafeUninitializedCapacity: size, initializingWith: { b, c in
            c = 0
            c = try FileIO.preadFully(fd, b.baseAddress, size, offset: 0, path: path(name))
        }), bytes.count == size else { return nil }
        let body = bytes[0..<(size - 32)]
        guard ObjectHash.of(body) == ObjectHash(bytes: bytes[(size - 32)...]),
              Self.get32(bytes, 0) == Self.indexMagic, Self.get32(bytes, 4) == 1 else { return nil }
        let count = Int(Self.get64(bytes, 8))
        guard 24 + count * Self.indexEntrySize + 32 == size else { return nil }
        let length = Int64(Self.get64(bytes, 16))
        var entries: [(ObjectHash, Int64, Int32)] = []
        entries.reserveCapacity(count)
        var p = 24
        for _ in 0..<count {
            let h = ObjectHash(w0: Self.get64(bytes, p), w1: Self.get64(bytes, p + 8), w2: Self.get64(bytes, p + 16), w3: Self.get64(bytes, p + 24))
            entries.append((h, Int64(Self.get64(bytes, p + 32)), Int32(Self.get32(bytes, p + 40))))
            p += Self.indexEntrySize
        }
        return (length, entries)
    }

    /// Reads the packs directory: loads new indexes; with `recover`, scans, syncs and indexes every pack without
    /// an index whose flock is free (its instance is gone); scans the other packs without an index (live
    /// instances) from where the last scan stopped, as foreign.
    private func load(recover: Bool) throws {
        let names = try FileIO.listDirectory(dirFD, ".", path: directoryPath).map(\.name)
        let set = Set(names)
        for name in names.sorted() {
            if name.hasPrefix(".") {
                // A pack that never got its name (its creator died in between): empty or unreferenced.
                if recover, name.hasSuffix(".new") { try removeIfUnlocked(name) }
                continue
            }
            if name.hasSuffix(".idx") {
                let pack = String(name.dropLast(4)) + ".pack"
                if !set.contains(pack) {
                    // Its pack was compacted away and the crash came before the index went.
                    if recover { _ = try FileIO.unlinkAt(dirFD, name, path: path(name)) }
                }
                continue
            }
            guard name.hasSuffix(".pack") else { continue }
            let known = inner.withLock { s in s.byName[name].map { s.packs[Int($0)] } }
            if let k = known, k.sealed || !k.foreign { continue }   // ours, or already indexed
            let base = String(name.dropLast(5))
            if set.contains(base + ".idx"), let idx = readIndex(base + ".idx") {
                let mtime = (try? FileIO.statAt(dirFD, name, path: path(name))).flatMap { $0 }.map(FileIO.modificationDate) ?? Date()
                add(name, sealed: true, foreign: false, scannedTo: idx.length, mtime: mtime,
                    entries: idx.entries.map { ($0.0, $0.1, $0.2) }, state: .committed)
                continue
            }
            try scanPack(name, recover: recover)
        }
    }

    private func removeIfUnlocked(_ name: String) throws {
        guard let fd = try? FileIO.openAt(dirFD, name, O_RDONLY, path: path(name)) else { return }
        defer { FileIO.close(fd) }
        if try FileIO.lockExclusive(fd, wait: false, path: path(name)) {
            _ = try FileIO.unlinkAt(dirFD, name, path: path(name))
        }
    }

    /// Scans a pack without an index. If its flock is free and `recover` is set, it is a dead instance's pack:
    /// its valid records are synced and indexed, and it is sealed. Otherwise its records are added as foreign.
    private func scanPack(_ name: String, recover: Bool) throws {
        let fd = try FileIO.openAt(dirFD, name, O_RDONLY, path: path(name))
        defer { FileIO.close(fd) }
        let dead = try recover && FileIO.lockExclusive(fd, wait: false, path: path(name))
        let start = inner.withLock { s in s.byName[name].map { s.packs[Int($0)].scannedTo } } ?? 0
        let st = try FileIO.fstat(fd, path: path(name))
        let size = Int64(st.st_size)
        var entries: [(ObjectHash, Int64, Int32)] = []
        var pos = start
        let chunk = 4 << 20
        var buffer = [UInt8](repeating: 0, count: chunk + Self.maximumObjectSize + Self.headerSize)
        var bufStart: Int64 = -1, bufCount = 0
        scan: while pos + Int64(Self.headerSize) <= size {
            // Refill so the whole record at `pos` is in the buffer.
            if bufStart < 0 || (pos + Int64(Self.headerSize + Self.maximumObjectSize) > bufStart + Int64(bufCount)
                                && bufStart + Int64(bufCount) < size) {
                let want = Int(min(Int64(buffer.count), size - pos))
                bufCount = try buffer.withUnsafeMutableBytes { try FileIO.preadFully(fd, $0.baseAddress, want, offset: pos, path: path(name)) }
                bufStart = pos
            }
            let p = Int(pos - bufStart)
            guard p + Self.headerSize <= bufCount, Self.get32(buffer, p) == Self.recordMagic else { break scan }
            let length = Int(Self.get32(buffer, p + 4))
            guard length <= Self.maximumObjectSize, p + Self.headerSize + length <= bufCount else { break scan }
            let hash = ObjectHash(w0: Self.get64(buffer, p + 8), w1: Self.get64(buffer, p + 16),
                                  w2: Self.get64(buffer, p + 24), w3: Self.get64(buffer, p + 32))
            let ok = buffer.withUnsafeBytes { raw in
                ObjectHash.of(UnsafeRawBufferPointer(rebasing: raw[(p + Self.headerSize)..<(p + Self.headerSize + length)])) == hash
            }
            guard ok else { break scan }   // cut short by a crash or power loss: nothing valid follows
            entries.append((hash, pos + Int64(Self.headerSize), Int32(length)))
            pos += Int64(Self.headerSize + length)
        }
        let mtime = FileIO.modificationDate(st)
        if dead {
            try FileIO.fdatasync(fd, path: path(name))
            try writeIndex(pack: name, length: pos, entries: entries)
            add(name, sealed: true, foreign: false, scannedTo: pos, mtime: mtime, entries: entries, state: .committed)
        } else {
            add(name, sealed: false, foreign: true, scannedTo: pos, mtime: mtime, entries: entries, state: .foreign)
        }
    }

    private func add(_ name: String, sealed: Bool, foreign: Bool, scannedTo: Int64, mtime: Date,
                     entries: [(ObjectHash, Int64, Int32)], state: State) {
        inner.withLock { s in
            let id: Int32
            if let existing = s.byName[name] {
                id = existing
                s.packs[Int(id)].sealed = sealed
                s.packs[Int(id)].foreign = foreign
                s.packs[Int(id)].scannedTo = scannedTo
                if sealed { s.packs[Int(id)].syncedTo = scannedTo }
            } else {
                id = Int32(s.packs.count)
                s.packs.append(Pack(name: name, sealed: sealed, foreign: foreign, scannedTo: scannedTo,
                                    syncedTo: sealed ? scannedTo : 0, mtime: mtime))
                s.byName[name] = id
            }
            var live: Int64 = 0
            for (h, off, len) in entries {
                live += Int64(Self.headerSize) + Int64(len)
                if let cur = s.index[h], cur.state == .committed || state == .foreign { continue }
                s.index[h] = Location(pack: id, offset: off, length: len, state: state)
            }
            // A sealed pack that is a quarter or more garbage (aborted puts, a torn tail) is rewritten by the next GC.
            let garbage = scannedTo - live
            if sealed, garbage > 0, garbage * 4 >= scannedTo { s.packs[Int(id)].deadBytes = garbage }
        }
    }

    // MARK: Encoding

    static func writeHeader(_ r: inout [UInt8], length: UInt32, hash: ObjectHash) {
        var out = [UInt8]()
        out.reserveCapacity(headerSize)
        put32(&out, recordMagic)
        put32(&out, length)
        for w in [hash.w0, hash.w1, hash.w2, hash.w3] { put64(&out, w) }
        r.replaceSubrange(0..<headerSize, with: out)
    }

    static func put32(_ out: inout [UInt8], _ v: UInt32) {
        for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(s))) }
    }

    static func put64(_ out: inout [UInt8], _ v: UInt64) {
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) }
    }

    static func get32(_ b: [UInt8], _ p: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v = (v << 8) | UInt32(b[p + i]) }
        return v
    }

    static func get64(_ b: [UInt8], _ p: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v = (v << 8) | UInt64(b[p + i]) }
        return v
    }
}

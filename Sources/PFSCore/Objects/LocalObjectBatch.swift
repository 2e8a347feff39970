import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A batch of `LocalObjectStore`. `put` writes each new object to its own temp file in the store
/// instance's staging directory at once (and asks the kernel to start writing it back); `commit` makes
/// them durable and visible:
/// 1. data: fdatasync of every temp file, or one syncfs of the filesystem (see `SyncStrategy`);
/// 2. rename of each temp file to `<2 hex>/<62 hex>` (atomic; replacing an identical object is harmless);
/// 3. directory entries: fsync of every fan-out directory that received a name, or a second syncfs.
/// Step 1 comes before step 2, so a name never points at data that a crash could lose: a file under its
/// final name is always complete. After step 3 the names survive a crash too.
///
/// A *deferred* batch (`LocalObjectStore.makeDeferredBatch`) names its temps `p-<64 hex>-<n>` and registers them
/// in the store's `pending` map, so they can be read before `commit()`; its temps are never removed by `abort()`
/// or `deinit`, only moved into place (by `commit()`, or by the store when this instance or its process ends).
final class LocalObjectBatch: ObjectBatch {
    let store: LocalObjectStore
    let deferred: Bool

    private struct Staged {
        /// The temp file, or "" for a packed object.
        var tempName: String
        var size: Int64
        /// Where a small object's record is (see `PackStore`); nil for an object in its own file.
        var packed: PackStore.Location? = nil
    }

    private struct State {
        var staged: [ObjectHash: Staged] = [:]
        var newBytes: Int64 = 0
        /// Fan-out directories that received names whose fsync has not succeeded yet (retried by the next commit).
        var unsyncedDirectories: Set<Int> = []
    }

    private let state = Mutex(State())
    /// Serializes `commit` and `abort` (a commit must not rename temps an abort is deleting). Never taken
    /// while holding `state`; `state` may be taken while holding it.
    private let commitLock = Mutex(())

    /// Objects at least this big get their writeback started right after the write.
    static let writebackHintMinimum = 64 << 10

    init(store: LocalObjectStore, deferred: Bool = false) {
        self.store = store
        self.deferred = deferred
    }

    deinit {
        // Deferred objects stay for the store to move into place.
        if deferred { return }
        // Whatever was staged and never committed is garbage now.
        let staged = state.withLock { $0.staged }
        for (hash, entry) in staged { drop(hash, entry) }
    }

    var newBytes: Int64 { state.withLock { $0.newBytes } }

    var stagedCount: Int { state.withLock { $0.staged.count } }

    @discardableResult
    func put(_ hash: ObjectHash, _ bytes: UnsafeRawBufferPointer) throws -> Bool {
        if state.withLock({ $0.staged[hash] != nil }) || store.contains(hash) { return false }

        if bytes.count <= store.packLimit && store.packLimit > 0 {
            // Small: a record in this instance's pack; one sync at commit covers every one of them.
            let (loc, fresh) = try store.packs.append(hash, bytes)
            if loc.state == .committed { return false }
            return state.withLock { s -> Bool in
                guard s.staged[hash] == nil else { return false }
                s.staged[hash] = Staged(tempName: "", size: Int64(bytes.count), packed: loc)
                if fresh { s.newBytes += Int64(bytes.count) }
                return true
            }
        }

        let name = deferred ? "p-\(hash.hex)-\(store.nextTempName())" : store.nextTempName()
        let path = store.stagingDisplayPath(name)
        // 0444: objects never change once written; the write below goes through this descriptor.
        let fd = try FileIO.openAt(store.stagingFD, name, O_WRONLY | O_CREAT | O_EXCL, mode: 0o444, path: path)
        do {
            try FileIO.pwriteAll(fd, bytes.baseAddress, bytes.count, offset: 0, path: path)
        } catch {
            FileIO.close(fd)
            removeTemp(name)
            throw error
        }
        // Let the disk work on a chunk while the caller computes the next ones; commit's sync then waits less.
        // Small objects (tree nodes) are left to the sync: one I/O request each would cost more than it saves.
        if bytes.count >= Self.writebackHintMinimum { FileIO.startWriteback(fd) }
        FileIO.close(fd)

        let size = Int64(bytes.count)
        let inserted = state.withLock { s -> Bool in
            // Another thread may have staged the same object meanwhile.
            guard s.staged[hash] == nil else { return false }
            s.staged[hash] = Staged(tempName: name, size: size)
            s.newBytes += size
            return true
        }
        if !inserted { removeTemp(name) } else if deferred { store.pending.withLock { $0[hash] = name } }
        return inserted
    }

    func commit() throws {
        try commitLock.withLock { _ in
            let (all, pendingDirs) = state.withLock { s in (Array(s.staged), s.unsyncedDirectories) }
            if all.isEmpty && pendingDirs.isEmpty { return }

            // 0. Packed objects: one data sync per pack (usually one), then they are stored.
            var packEnds: [Int32: Int64] = [:]
            for (_, entry) in all { if let l = entry.packed { packEnds[l.pack] = max(packEnds[l.pack] ?? 0, l.end) } }
            for (pack, end) in packEnds.sorted(by: { $0.key < $1.key }) { try store.packs.sync(pack: pack, upTo: end) }
            for (hash, entry) in all {
                guard let l = entry.packed else { continue }
                store.packs.markCommitted(hash, l)
                state.withLock { s in s.staged[hash] = nil }
            }

            let snapshot = all.filter { $0.value.packed == nil }
            if snapshot.isEmpty && pendingDirs.isEmpty { return }
            let syncFS = !snapshot.isEmpty && useSyncFS(objects: snapshot.count)

            // 1. Data.
            if syncFS {
                try FileIO.syncfs(store.stagingFD, path: store.rootPath)
            } else {
                for (_, entry) in snapshot {
                    let path = store.stagingDisplayPath(entry.tempName)
                    let fd = try FileIO.openAt(store.stagingFD, entry.tempName, O_RDONLY, path: path)
                    defer { FileIO.close(fd) }
                    try FileIO.fdatasync(fd, path: path)
                }
            }

            // 2. Names. Each renamed object leaves the staged set at once (it is stored now), even if a
            // later step fails; its directory is remembered until a sync of it succeeds.
            for (hash, entry) in snapshot {
                let rel = LocalObjectStore.relativePath(hash)
                try FileIO.renameAt(store.stagingFD, entry.tempName, store.rootFD, rel, path: store.displayPath(rel))
                if deferred {
                    store.pending.withLock { if $0[hash] == entry.tempName { $0[hash] = nil } }
                }
                state.withLock { s in
                    s.staged[hash] = nil
                    s.unsyncedDirectories.insert(Int(hash.w0 >> 56))
                }
            }

            // 3. Directory entries: a second syncfs (one journal commit and one cache flush, where fsync of each
            // touched directory may flush the disk cache once per directory), or fsync of each directory.
            if syncFS {
                try FileIO.syncfs(store.stagingFD, path: store.rootPath)
                state.withLock { $0.unsyncedDirectories.removeAll() }
                return
            }
            let dirs = state.withLock { $0.unsyncedDirectories }
            for dir in dirs.sorted() {
                let name = LocalObjectStore.fanOutName(dir)
                let path = store.displayPath(name)
                let fd = try FileIO.openAt(store.rootFD, name, O_RDONLY | O_DIRECTORY, path: path)
                defer { FileIO.close(fd) }
                try FileIO.fsync(fd, path: path)
                _ = state.withLock { $0.unsyncedDirectories.remove(dir) }
            }
        }
    }

    func abort() {
        // Objects of a deferred batch may be referenced by staged ops already (docs/storage.md).
        if deferred { return }
        commitLock.withLock { _ in
            let staged = state.withLock { s -> [ObjectHash: Staged] in
                let staged = s.staged
                s.staged = [:]
                s.newBytes -= staged.values.reduce(Int64(0)) { $0 + $1.size }
                return staged
            }
            for (hash, entry) in staged { drop(hash, entry) }
        }
    }

    /// The bytes of an object staged in this batch and not yet committed, or nil. Lets an append re-read
    /// the last chunk of a file written earlier in the same batch.
    func readStaged(_ hash: ObjectHash) throws -> [UInt8]? {
        // Holding commitLock keeps the temp file from being renamed away while it is read.
        try commitLock.withLock { _ -> [UInt8]? in
            guard let entry = state.withLock({ $0.staged[hash] }) else { return nil }
            if let l = entry.packed { return try store.packs.readAll(l, hash: hash) }
            let path = store.stagingDisplayPath(entry.tempName)
            let fd = try FileIO.openAt(store.stagingFD, entry.tempName, O_RDONLY, path: path)
            defer { FileIO.close(fd) }
            let length = Int(entry.size)
            guard length > 0 else { return [] }
            return try [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
                count = 0
                count = try FileIO.preadFully(fd, buffer.baseAddress, length, offset: 0, path: path)
            }
        }
    }

    private func useSyncFS(objects: Int) -> Bool {
        guard FileIO.hasSyncFS else { return false }
        switch store.syncStrategy {
        case .perFile: return false
        case .syncfs: return true
        case .automatic(let threshold): return objects >= threshold
        }
    }

    /// Forgets an object staged and not committed: its temp file, or its pack record.
    private func drop(_ hash: ObjectHash, _ entry: Staged) {
        if let l = entry.packed { store.packs.discard(hash, l) } else { removeTemp(entry.tempName) }
    }

    private func removeTemp(_ name: String) {
        _ = try? FileIO.unlinkAt(store.stagingFD, name, path: store.stagingDisplayPath(name))
    }
}

import CFuse3
import Foundation
import Logging
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// The only code that talks to libfuse: translates low-level requests into `PFSFileSystem` calls and the
/// results into replies. Every callback replies exactly once.
final class FuseAdapter: @unchecked Sendable {
    let fs: PFSFileSystem
    let logger: Logger
    var session: OpaquePointer?

    init(fs: PFSFileSystem, logger: Logger) {
        self.fs = fs
        self.logger = logger
    }

    static func from(_ req: fuse_req_t?) -> FuseAdapter {
        Unmanaged<FuseAdapter>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    // MARK: replies

    func stat(_ a: PFSFileSystem.Attr) -> stat {
        var st = Glibc.stat()
        st.st_ino = UInt(a.ino)
        st.st_mode = a.mode
        st.st_nlink = UInt(a.nlink)
        st.st_uid = fs.options.uid
        st.st_gid = fs.options.gid
        st.st_size = Int(a.size)
        st.st_blksize = 128 * 1024
        st.st_blocks = Int((a.size + 511) / 512)
        let ts = timespec(tv_sec: Int(a.mtimeNs / 1_000_000_000), tv_nsec: Int(a.mtimeNs % 1_000_000_000))
        st.st_mtim = ts
        let c = a.ctimeNs ?? a.mtimeNs
        st.st_ctim = timespec(tv_sec: Int(c / 1_000_000_000), tv_nsec: Int(c % 1_000_000_000))
        st.st_atim = ts
        return st
    }

    func entryParam(_ e: PFSFileSystem.Entry) -> fuse_entry_param {
        var p = fuse_entry_param()
        p.ino = e.attr.ino
        p.generation = 1
        p.attr = stat(e.attr)
        p.attr_timeout = e.timeout
        p.entry_timeout = e.timeout
        return p
    }

    func fail(_ req: fuse_req_t?, _ error: any Error, _ op: String) {
        let e = FSError(error)
        if e.errno == EIO || e.errno == ENOSPC {
            logger.error("\(op) failed", metadata: ["errno": "\(e.errno)", "error": "\(e.message)"])
        } else if !e.message.isEmpty {
            logger.debug("\(op): \(e.message)")
        }
        fuse_reply_err(req, e.errno)
    }

    func replyEntry(_ req: fuse_req_t?, _ e: PFSFileSystem.Entry) {
        var p = entryParam(e)
        fuse_reply_entry(req, &p)
    }

    // MARK: the operation table

    static func makeOps() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { userdata, conn in
            guard let conn else { return }
            conn.pointee.want |= UInt32(FUSE_CAP_READDIRPLUS) | UInt32(FUSE_CAP_PARALLEL_DIROPS) | UInt32(FUSE_CAP_CACHE_SYMLINKS)
            conn.pointee.want &= ~UInt32(FUSE_CAP_READDIRPLUS_AUTO)
            // We decide per open whether cached pages stay valid (keep_cache), so no automatic invalidation.
            conn.pointee.want &= ~UInt32(FUSE_CAP_AUTO_INVAL_DATA)
            conn.pointee.max_write = 1 << 20
            conn.pointee.max_readahead = UInt32.max
        }
        ops.lookup = { req, parent, name in
            let a = FuseAdapter.from(req)
            do { a.replyEntry(req, try a.fs.lookup(parent: parent, name: String(cString: name!))) } catch {
                let e = FSError(error)
                if e.errno == ENOENT {
                    // Negative entry: the kernel caches "no such name" for the timeout.
                    var p = fuse_entry_param()
                    p.ino = 0
                    p.entry_timeout = a.fs.negativeTimeout(parent: parent)
                    fuse_reply_entry(req, &p)
                } else {
                    a.fail(req, error, "lookup")
                }
            }
        }
        ops.forget = { req, ino, n in
            FuseAdapter.from(req).fs.forget(ino, n)
            fuse_reply_none(req)
        }
        ops.forget_multi = { req, count, forgets in
            let a = FuseAdapter.from(req)
            for i in 0..<count { a.fs.forget(forgets![i].ino, forgets![i].nlookup) }
            fuse_reply_none(req)
        }
        ops.getattr = { req, ino, _ in
            let a = FuseAdapter.from(req)
            do {
                let e = try a.fs.getattr(ino)
                var st = a.stat(e.attr)
                fuse_reply_attr(req, &st, e.timeout)
            } catch { a.fail(req, error, "getattr") }
        }
        ops.setattr = { req, ino, attr, toSet, fi in
            let a = FuseAdapter.from(req)
            let st = attr!.pointee
            func has(_ flag: Int32) -> Bool { toSet & flag != 0 }
            let now = Store.nowNs()
            let mtime: Int64? = has(FUSE_SET_ATTR_MTIME_NOW) ? now
                : has(FUSE_SET_ATTR_MTIME) ? Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec) : nil
            let atime: Int64? = has(FUSE_SET_ATTR_ATIME_NOW) ? now
                : has(FUSE_SET_ATTR_ATIME) ? Int64(st.st_atim.tv_sec) * 1_000_000_000 + Int64(st.st_atim.tv_nsec) : nil
            do {
                let e = try a.fs.setattr(ino, mode: has(FUSE_SET_ATTR_MODE) ? st.st_mode & 0o7777 : nil,
                                         size: has(FUSE_SET_ATTR_SIZE) ? Int64(st.st_size) : nil,
                                         atimeNs: atime, mtimeNs: mtime,
                                         uid: has(FUSE_SET_ATTR_UID) ? st.st_uid : nil,
                                         gid: has(FUSE_SET_ATTR_GID) ? st.st_gid : nil,
                                         fh: fi.map { $0.pointee.fh })
                var out = a.stat(e.attr)
                fuse_reply_attr(req, &out, e.timeout)
            } catch { a.fail(req, error, "setattr") }
        }
        ops.readlink = { req, ino in
            let a = FuseAdapter.from(req)
            do { _ = try a.fs.readlink(ino).withCString { fuse_reply_readlink(req, $0) } } catch { a.fail(req, error, "readlink") }
        }
        ops.mknod = { req, parent, name, mode, _ in
            let a = FuseAdapter.from(req)
            guard mode & 0o170000 == FileMode.ifreg else { fuse_reply_err(req, EPERM); return }
            do {
                let (e, opened) = try a.fs.create(parent: parent, name: String(cString: name!), mode: mode, flags: O_WRONLY | O_EXCL)
                try a.fs.flush(opened.fh)
                a.fs.release(opened.fh)
                a.replyEntry(req, e)
            } catch { a.fail(req, error, "mknod") }
        }
        ops.mkdir = { req, parent, name, mode in
            let a = FuseAdapter.from(req)
            do { a.replyEntry(req, try a.fs.mkdir(parent: parent, name: String(cString: name!), mode: mode)) } catch { a.fail(req, error, "mkdir") }
        }
        ops.unlink = { req, parent, name in
            let a = FuseAdapter.from(req)
            do { try a.fs.unlink(parent: parent, name: String(cString: name!)); fuse_reply_err(req, 0) } catch { a.fail(req, error, "unlink") }
        }
        ops.rmdir = { req, parent, name in
            let a = FuseAdapter.from(req)
            do { try a.fs.rmdir(parent: parent, name: String(cString: name!)); fuse_reply_err(req, 0) } catch { a.fail(req, error, "rmdir") }
        }
        ops.symlink = { req, link, parent, name in
            let a = FuseAdapter.from(req)
            do {
                a.replyEntry(req, try a.fs.symlink(target: String(cString: link!), parent: parent, name: String(cString: name!)))
            } catch { a.fail(req, error, "symlink") }
        }
        ops.rename = { req, parent, name, newParent, newName, flags in
            let a = FuseAdapter.from(req)
            do {
                try a.fs.rename(parent: parent, name: String(cString: name!), newParent: newParent,
                                newName: String(cString: newName!), flags: flags)
                fuse_reply_err(req, 0)
            } catch { a.fail(req, error, "rename") }
        }
        ops.link = { req, _, _, _ in
            // Hard links have no meaning across versioned trees.
            fuse_reply_err(req, EPERM)
        }
        ops.open = { req, ino, fi in
            let a = FuseAdapter.from(req)
            do {
                let o = try a.fs.open(ino, flags: fi!.pointee.flags)
                fi!.pointee.fh = o.fh
                pfs_fi_set_keep_cache(fi, o.keepCache ? 1 : 0)
                pfs_fi_set_direct_io(fi, o.directIO ? 1 : 0)
                pfs_fi_set_noflush(fi, o.noFlush ? 1 : 0)
                fuse_reply_open(req, fi)
            } catch { a.fail(req, error, "open") }
        }
        ops.create = { req, parent, name, mode, fi in
            let a = FuseAdapter.from(req)
            do {
                let (e, o) = try a.fs.create(parent: parent, name: String(cString: name!), mode: mode, flags: fi!.pointee.flags)
                fi!.pointee.fh = o.fh
                var p = a.entryParam(e)
                fuse_reply_create(req, &p, fi)
            } catch { a.fail(req, error, "create") }
        }
        ops.read = { req, _, size, off, fi in
            let a = FuseAdapter.from(req)
            // A reused buffer: a fresh megabyte per request would cost page faults on every read.
            let buf = ReplyBuffers.shared.take(size)
            defer { ReplyBuffers.shared.give(buf) }
            do {
                let n = try a.fs.read(fi!.pointee.fh, offset: Int64(off), into: UnsafeMutableRawBufferPointer(start: buf.base, count: size))
                fuse_reply_buf(req, buf.base.assumingMemoryBound(to: CChar.self), n)
            } catch { a.fail(req, error, "read") }
        }
        ops.write = { req, _, buf, size, off, fi in
            let a = FuseAdapter.from(req)
            do {
                let n = try a.fs.write(fi!.pointee.fh, offset: Int64(off), data: UnsafeRawBufferPointer(start: buf, count: size))
                fuse_reply_write(req, n)
            } catch { a.fail(req, error, "write") }
        }
        ops.flush = { req, _, fi in
            let a = FuseAdapter.from(req)
            do { try a.fs.flush(fi!.pointee.fh); fuse_reply_err(req, 0) } catch { a.fail(req, error, "flush") }
        }
        ops.release = { req, _, fi in
            FuseAdapter.from(req).fs.release(fi!.pointee.fh)
            fuse_reply_err(req, 0)
        }
        ops.fsync = { req, _, _, fi in
            let a = FuseAdapter.from(req)
            do { try a.fs.fsync(fi!.pointee.fh); fuse_reply_err(req, 0) } catch { a.fail(req, error, "fsync") }
        }
        ops.opendir = { req, ino, fi in
            let a = FuseAdapter.from(req)
            do {
                fi!.pointee.fh = try a.fs.opendir(ino)
                // Listings of finished commits never change: the kernel keeps them across opens, so warm
                // `find` / `ls -R` do not ask again (entries and attributes are cached for the same reason).
                if a.fs.directoryIsImmutable(ino) {
                    pfs_fi_set_cache_readdir(fi, 1)
                    pfs_fi_set_keep_cache(fi, 1)
                }
                fuse_reply_open(req, fi)
            } catch { a.fail(req, error, "opendir") }
        }
        ops.readdir = { req, ino, size, off, fi in
            FuseAdapter.from(req).readdir(req, ino, size, off, fi!.pointee.fh, plus: false)
        }
        ops.readdirplus = { req, ino, size, off, fi in
            FuseAdapter.from(req).readdir(req, ino, size, off, fi!.pointee.fh, plus: true)
        }
        ops.releasedir = { req, _, fi in
            FuseAdapter.from(req).fs.releasedir(fi!.pointee.fh)
            fuse_reply_err(req, 0)
        }
        ops.fsyncdir = { req, ino, _, _ in
            let a = FuseAdapter.from(req)
            do { try a.fs.fsyncdir(ino); fuse_reply_err(req, 0) } catch { a.fail(req, error, "fsyncdir") }
        }
        ops.statfs = { req, _ in
            var s = FuseAdapter.from(req).fs.statfs()
            fuse_reply_statfs(req, &s)
        }
        ops.setxattr = { req, _, _, _, _, _ in fuse_reply_err(req, ENOTSUP) }
        ops.getxattr = { req, _, _, _ in fuse_reply_err(req, ENOTSUP) }
        ops.listxattr = { req, _, _ in fuse_reply_err(req, ENOTSUP) }
        ops.removexattr = { req, _, _ in fuse_reply_err(req, ENOTSUP) }
        return ops
    }

    /// Fills one readdir(plus) reply from the snapshot taken at opendir. Offsets: 1 = ".", 2 = "..",
    /// n + 3 = entry n. An entry that does not fit is not counted as looked up.
    func readdir(_ req: fuse_req_t?, _ ino: fuse_ino_t, _ size: Int, _ off: off_t, _ fh: UInt64, plus: Bool) {
        let entries: [PFSFileSystem.DirEntry]
        do { entries = try fs.readdir(fh) } catch { fail(req, error, "readdir"); return }
        var buf = [CChar](repeating: 0, count: size)
        var used = 0
        var index = Int(off)
        func add(_ name: String, _ st: Glibc.stat, _ param: fuse_entry_param?, next: Int) -> Bool {
            let n = buf.withUnsafeMutableBufferPointer { b -> Int in
                name.withCString { cname in
                    if plus {
                        var p = param ?? fuse_entry_param()
                        if param == nil { p.attr = st }
                        return fuse_add_direntry_plus(req, b.baseAddress! + used, size - used, cname, &p, off_t(next))
                    }
                    var s = st
                    return fuse_add_direntry(req, b.baseAddress! + used, size - used, cname, &s, off_t(next))
                }
            }
            if n > size - used { return false }
            used += n
            return true
        }
        while true {
            if index == 0 || index == 1 {
                var st = Glibc.stat()
                st.st_ino = UInt(index == 0 ? ino : 1)
                st.st_mode = FileMode.ifdir
                if !add(index == 0 ? "." : "..", st, nil, next: index + 1) { break }
                index += 1
                continue
            }
            let i = index - 2
            guard i < entries.count else { break }
            let e = entries[i]
            if plus {
                guard let entry = try? fs.lookupForReaddir(e) else { index += 1; continue }
                let p = entryParam(entry)
                if !add(e.name, p.attr, p, next: index + 1) {
                    fs.forget(entry.attr.ino, 1)
                    break
                }
            } else {
                var st = Glibc.stat()
                st.st_ino = UInt(fs.inodes.ino(for: e.key, count: false))
                st.st_mode = e.attr?.mode ?? FileMode.ifdir
                if !add(e.name, st, nil, next: index + 1) { break }
            }
            index += 1
        }
        _ = buf.withUnsafeBufferPointer { fuse_reply_buf(req, $0.baseAddress, used) }
    }
}

extension PFSFileSystem {
    /// How long the kernel may remember that a name does not exist under `parent`.
    func negativeTimeout(parent: UInt64) -> Double {
        guard let k = inodes.key(parent) else { return 0 }
        if case .commit(let r, let c, _) = k, let v = try? store.view(repo: r, ref: c), !v.isOpen {
            return options.immutableTimeout
        }
        return 0
    }
}

/// A pool of reply buffers for reads, reused across requests and threads.
final class ReplyBuffers: @unchecked Sendable {
    struct Buffer {
        let base: UnsafeMutableRawPointer
        let capacity: Int
    }
    static let shared = ReplyBuffers()
    private let lock = NSLock()
    private var free: [Buffer] = []

    func take(_ size: Int) -> Buffer {
        if let b = lock.withLock({ () -> Buffer? in
            guard let i = free.lastIndex(where: { $0.capacity >= size }) else { return nil }
            return free.remove(at: i)
        }) { return b }
        let cap = max(size, 1 << 20)
        return Buffer(base: UnsafeMutableRawPointer.allocate(byteCount: cap, alignment: 4096), capacity: cap)
    }

    func give(_ b: Buffer) {
        let keep = lock.withLock { () -> Bool in
            guard free.count < 32 else { return false }
            free.append(b)
            return true
        }
        if !keep { b.base.deallocate() }
    }
}

import CFuse3
import Foundation
import Logging
import PFSCore
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Options of the mount itself (see docs/filesystem.md).
public struct MountOptions: Sendable {
    public var mountpoint: String
    /// Let other users see the mount (needs `user_allow_other` in /etc/fuse.conf for non-root daemons);
    /// the kernel then enforces file modes (`default_permissions`).
    public var allowOther = false
    /// Threads serving kernel requests.
    public var threads: UInt32 = 8
    /// Finish the commits a crashed mount left open (the user's mount does; the scheduler's views mount not).
    public var recoverCommits = true
    public init(mountpoint: String) { self.mountpoint = mountpoint }
}

/// Mounts the filesystem and serves it until graceful shutdown (SIGTERM/SIGINT, `pfs unmount`) or until
/// it is unmounted from outside (`fusermount3 -u`, `umount`). Either way, files still being written are
/// stored and the commits the mount opened are finished before it returns.
public final class MountService: Service, @unchecked Sendable {
    public let fs: PFSFileSystem
    public let options: MountOptions
    let logger: Logger
    let onMounted: (@Sendable () -> Void)?

    public init(fs: PFSFileSystem, options: MountOptions, logger: Logger, onMounted: (@Sendable () -> Void)? = nil) {
        self.fs = fs
        self.options = options
        self.logger = logger
        self.onMounted = onMounted
    }

    /// A dead mount left by a killed daemon answers ENOTCONN: detach it so we can mount again. Probed with
    /// statvfs, which always reaches the filesystem: lstat of a dead mount's root can succeed from the kernel's
    /// attribute cache, and the new mount was then stacked over the dead one (found by scripts/torture).
    /// Repeats while dead mounts remain (older versions could leave several stacked).
    ///
    /// A killed daemon whose own thread was waiting on its own mount never fully exits (that thread waits in the
    /// kernel for an answer only the dead daemon could give), so its connection is never closed and every probe
    /// of the mount would hang. A probe that does not answer in 3 s on a `fuse.pfs` mount is therefore aborted
    /// through the FUSE control filesystem (/sys/fs/fuse/connections/N/abort), which releases the stuck process
    /// too, and then detached (found by scripts/torture: a restart hung for good).
    public static func recoverStaleMount(_ path: String, logger: Logger) {
        for _ in 0..<16 {
            switch probe(path, timeout: 3) {
            case 0: return
            case ENOTCONN, EIO: break
            case ETIMEDOUT:
                guard let conn = pfsConnection(at: path) else { return }
                logger.warning("the mount left by a previous daemon does not answer; aborting its FUSE connection",
                               metadata: ["mountpoint": "\(path)", "connection": "\(conn)"])
                guard abortConnection(conn) else {
                    logger.error("cannot abort the stale FUSE connection; run `umount -l \(path)` (as root) or reboot",
                                 metadata: ["mountpoint": "\(path)"])
                    return
                }
            default: return
            }
            logger.notice("recovering a stale mount left by a previous daemon", metadata: ["mountpoint": "\(path)"])
            if getuid() == 0, umount2(path, Int32(MNT_DETACH)) == 0 { continue }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/fusermount3")
            p.arguments = ["-u", "-z", path]
            try? p.run()
            p.waitUntilExit()
            if p.terminationStatus != 0 { return }
        }
    }

    /// statvfs on a thread of its own: 0, the errno, or ETIMEDOUT when it does not return in `timeout` seconds
    /// (the thread then stays blocked until the connection is aborted).
    static func probe(_ path: String, timeout: Double) -> Int32 {
        final class Box: @unchecked Sendable { var result: Int32 = ETIMEDOUT }
        let box = Box(), done = DispatchSemaphore(value: 0)
        let t = Thread {
            var sfs = Glibc.statvfs()
            box.result = statvfs(path, &sfs) == 0 ? 0 : errno
            done.signal()
        }
        t.start()
        return done.wait(timeout: .now() + timeout) == .timedOut ? ETIMEDOUT : box.result
    }

    /// The FUSE connection number (the device minor) of the topmost `fuse.pfs` mount at `path`.
    static func pfsConnection(at path: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var found: String?
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            guard f.count > 8, let dash = f.firstIndex(of: "-"), dash + 1 < f.count else { continue }
            let mountpoint = f[4].replacingOccurrences(of: "\\040", with: " ")
            if mountpoint == path, f[dash + 1] == "fuse.pfs", let minor = f[2].split(separator: ":").last { found = String(minor) }
        }
        return found
    }

    /// Writes to the connection's abort file, mounting the FUSE control filesystem first if needed (root only).
    static func abortConnection(_ conn: String) -> Bool {
        let dir = "/sys/fs/fuse/connections"
        if access("\(dir)/\(conn)/abort", W_OK) != 0, getuid() == 0 {
            _ = mount("fusectl", dir, "fusectl", 0, nil)
        }
        let fd = open("\(dir)/\(conn)/abort", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "1", 1) == 1
    }

    public func run() async throws {
        let path = options.mountpoint
        Self.recoverStaleMount(path, logger: logger)
        if options.recoverCommits { fs.finishRecoveredCommits() }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw PFSError(.failedPrecondition, "cannot create mount point \(path): \(error.localizedDescription)")
        }
        guard access("/dev/fuse", R_OK | W_OK) == 0 else {
            throw PFSError(.failedPrecondition, "/dev/fuse is not usable (\(String(cString: strerror(errno)))); install fuse3 and load the fuse module, or run with --no-mount")
        }
        let adapter = FuseAdapter(fs: fs, logger: logger)
        var args = fuse_args(argc: 0, argv: nil, allocated: 0)
        var mountOpts = "fsname=pfs,subtype=pfs,default_permissions"
        if options.allowOther { mountOpts += ",allow_other" }
        for a in ["pfsmount", "-o", mountOpts] { _ = fuse_opt_add_arg(&args, a) }
        defer { fuse_opt_free_args(&args) }
        var ops = FuseAdapter.makeOps()
        let userdata = Unmanaged.passRetained(adapter)
        guard let se = pfs_session_new(&args, &ops, userdata.toOpaque()) else {
            userdata.release()
            throw PFSError(.failedPrecondition, "libfuse could not create a session (see the log above)")
        }
        adapter.session = se
        guard fuse_session_mount(se, path) == 0 else {
            fuse_session_destroy(se)
            userdata.release()
            throw PFSError(.failedPrecondition, "cannot mount pfs at \(path): is something else mounted there, or is fusermount3 missing? (`fusermount3 -u \(path)` clears a stale mount)")
        }
        let sessionBox = SessionBox(se)
        fs.invalidateInode = { ino in _ = fuse_lowlevel_notify_inval_inode(sessionBox.se, ino, 0, 0) }
        fs.invalidateEntry = { parent, name in
            _ = name.withCString { fuse_lowlevel_notify_inval_entry(sessionBox.se, parent, $0, strlen($0)) }
        }
        logger.info("mounted", metadata: ["mountpoint": "\(path)"])
        onMounted?()
        let threads = options.threads
        let fs = self.fs
        await withGracefulShutdownHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let t = Thread {
                    _ = pfs_session_loop_mt(sessionBox.se, threads)
                    done.resume()
                }
                t.name = "pfs-fuse"
                t.start()
            }
        } onGracefulShutdown: {
            // Store what writers left and finish the commits first, while the mount still works.
            fs.finishAll()
            fuse_session_exit(sessionBox.se)
            fuse_session_unmount(sessionBox.se)
        }
        fs.finishAll()
        fuse_session_unmount(se)
        fuse_session_destroy(se)
        userdata.release()
        logger.info("unmounted", metadata: ["mountpoint": "\(path)"])
    }
}

/// Carries the session pointer into @Sendable closures (libfuse's session is thread-safe for these calls).
final class SessionBox: @unchecked Sendable {
    let se: OpaquePointer
    init(_ se: OpaquePointer) { self.se = se }
}

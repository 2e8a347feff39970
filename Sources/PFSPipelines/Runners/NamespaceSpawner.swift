import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// Starts crun on a hybrid-cgroup host without a wrapper process. crun refuses to start beside the empty cgroup2
/// mount at `/sys/fs/cgroup/unified`, so it has to run in a mount namespace without it; the portable way,
/// `unshare -m sh -c 'umount …; exec crun …'`, costs three extra programs and a namespace per datum. Here one
/// dedicated thread does it in place: it unshares its own mount namespace (made private, so nothing propagates
/// back), unmounts that one mount and `posix_spawn`s the runtime from there. The namespace is kept while datums run
/// (a new one per datum costs about as much as the datum's own `crun run` on a busy host) and given up once no
/// process started in it has run for `idle` seconds: the thread returns to the daemon's namespace, and the copy of
/// the daemon's mounts (its FUSE views and user mount among them, which a copy would keep alive past an unmount)
/// goes with the last process in it. Mounts the daemon makes while it is held are not in it; crun needs none
/// (the datum views are one FUSE mount made at start).
///
/// Between the unshare and the return only system calls run on the thread: nothing that could start another
/// thread (Foundation's `Process`, Dispatch), which would be left in the namespace.
final class NamespaceSpawner: @unchecked Sendable {
    /// The daemon's spawner for hybrid hosts; nil where this process cannot change namespaces (not root, no
    /// `unshare`/`setns`), and callers fall back to the wrapper.
    static let hybrid: NamespaceSpawner? = NamespaceSpawner(hide: ["/sys/fs/cgroup/unified"], idle: 2)

    /// From <sched.h>, which Swift's Glibc module leaves out (they need _GNU_SOURCE), as are unshare and setns.
    static let cloneFS: Int32 = 0x0000_0200, cloneNewNS: Int32 = 0x0002_0000

    /// pipe2(2) with O_CLOEXEC (also left out of the Glibc module): no other spawn can inherit the ends.
    static func cloexecPipe(_ fds: inout [Int32]) -> Bool {
        typealias Pipe2Fn = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
        guard let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else { return false }
        return unsafeBitCast(f, to: Pipe2Fn.self)(&fds, O_CLOEXEC) == 0
    }

    private typealias UnshareFn = @convention(c) (Int32) -> Int32
    private typealias SetnsFn = @convention(c) (Int32, Int32) -> Int32
    private let unshareFn: UnshareFn
    private let setnsFn: SetnsFn
    private let hide: [String]
    private let requests = NSCondition()
    private var queue: [() -> Void] = []
    /// The daemon's mount namespace, opened by the thread at its start (the thread returns to it when idle).
    private var home: Int32 = -1
    private var broken: String?
    /// Seconds without a running process after which the namespace is given up.
    private let idle: Double
    /// On the thread: whether it is in the namespace it made. Under `requests`: processes started and not yet
    /// waited for, and a count of idle periods begun (a release runs only if no other began since).
    private var inside = false
    private var running = 0
    private var generation = 0

    init?(hide: [String], idle: Double) {
        self.idle = idle
        guard geteuid() == 0,
              let u = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "unshare"),
              let s = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return nil }
        unshareFn = unsafeBitCast(u, to: UnshareFn.self)
        setnsFn = unsafeBitCast(s, to: SetnsFn.self)
        self.hide = hide
        let started = DispatchSemaphore(value: 0)
        let t = Thread { [self] in
            // Unshare the thread's filesystem attributes first (CLONE_NEWNS implies it): setns into a mount
            // namespace refuses a thread that shares them.
            if unshareFn(Self.cloneFS) != 0 { broken = "unshare(CLONE_FS): \(String(cString: strerror(errno)))" }
            home = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC)
            if home < 0 { broken = broken ?? "open /proc/thread-self/ns/mnt: \(String(cString: strerror(errno)))" }
            started.signal()
            serve()
        }
        t.name = "pfs-ns-spawner"
        t.start()
        started.wait()
        if broken != nil { return nil }
    }

    private func serve() {
        while true {
            requests.lock()
            while queue.isEmpty { requests.wait() }
            let job = queue.removeFirst()
            requests.unlock()
            job()
        }
    }

    /// Starts `args` (an absolute path first) in the spawner's mount namespace without the hidden mounts, with the
    /// given descriptors as stdin, stdout and stderr and every other descriptor closed; returns its pid. The caller
    /// waits for it and then calls `exited()`.
    func spawn(_ args: [String], stdin: Int32, stdout: Int32, stderr: Int32) throws -> pid_t {
        var result: Result<pid_t, PFSError> = .failure(PFSError(.internal, "spawn did not run"))
        let done = DispatchSemaphore(value: 0)
        // argv and envp are built here, off the spawning thread; the thread only makes system calls.
        let argv = args.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        Self.closeFrom(&actions, 3)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let work = { [self] in
            result = spawnHere(argv, &actions, &attr)
            done.signal()
        }
        requests.lock()
        queue.append(work)
        requests.signal()
        running += 1
        generation += 1
        requests.unlock()
        done.wait()
        if case .failure = result {
            requests.lock()
            running -= 1
            requests.unlock()
        }
        return try result.get()
    }

    /// On the spawner thread: into the namespace (made on first use), spawn.
    private func spawnHere(_ argv: [UnsafeMutablePointer<CChar>?], _ actions: inout posix_spawn_file_actions_t,
                           _ attr: inout posix_spawnattr_t) -> Result<pid_t, PFSError> {
        if let broken { return .failure(PFSError(.internal, "the namespace spawner stopped working: \(broken)")) }
        if !inside {
            guard unshareFn(Self.cloneNewNS) == 0 else {
                return .failure(PFSError.syscall("unshare(CLONE_NEWNS)", path: argv[0].map { String(cString: $0) } ?? "", errno: errno))
            }
            inside = true
            // Private first: on a host whose root is a shared mount, the unmount below would otherwise propagate.
            guard mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
                let e = errno
                leave()
                return .failure(PFSError.syscall("mount --make-rprivate", path: "/", errno: e))
            }
            for path in hide { _ = umount2(path, Int32(MNT_DETACH)) }
        }
        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { a in
            posix_spawn(&pid, a[0]!, &actions, &attr, UnsafeMutablePointer(mutating: a.baseAddress!), environ)
        }
        guard rc == 0 else { return .failure(PFSError.syscall("posix_spawn", path: String(cString: argv[0]!), errno: rc)) }
        return .success(pid)
    }

    /// On the spawner thread: back to the daemon's namespace.
    private func leave() {
        guard inside else { return }
        if setnsFn(home, Self.cloneNewNS) != 0 {
            broken = "setns back to the daemon's mount namespace: \(String(cString: strerror(errno)))"
        } else {
            inside = false
        }
    }

    /// The caller has waited for a process `spawn` started. When none runs for `idle` seconds the namespace goes.
    func exited() {
        requests.lock()
        running -= 1
        generation += 1
        let mine = generation, idle = running == 0
        requests.unlock()
        guard idle else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + self.idle) { [self] in
            requests.lock()
            if running == 0 && generation == mine {
                queue.append { [self] in leave() }
                requests.signal()
            }
            requests.unlock()
        }
    }

    /// Gives the namespace up now if no process started in it runs (tests; shutdown).
    func releaseIfIdle() {
        let done = DispatchSemaphore(value: 0)
        requests.lock()
        let idle = running == 0
        if idle {
            generation += 1
            queue.append { [self] in leave(); done.signal() }
            requests.signal()
        }
        requests.unlock()
        if idle { done.wait() }
    }

    /// Adds "close every descriptor from `low` up" (glibc ≥ 2.34), or closes the descriptors open now one by one.
    private static func closeFrom(_ actions: inout posix_spawn_file_actions_t, _ low: Int32) {
        typealias CloseFromFn = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            if unsafeBitCast(f, to: CloseFromFn.self)(&actions, low) == 0 { return }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd >= low { posix_spawn_file_actions_addclose(&actions, fd) }
        }
    }
}

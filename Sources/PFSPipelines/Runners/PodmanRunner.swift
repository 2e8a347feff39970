import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs datums in podman (`pfsmount --runner podman`); images come from podman's own store (`podman load`,
/// `podman import`, `podman pull`). The same mounts as the crun runner (`/pfs/<input>` read-only, `/pfs/out`
/// writable, `/tmp` the datum's scratch), a read-only root, private namespaces, no network unless asked; memory
/// and cpu limits through the same per-datum cgroups (podman itself runs with `--cgroups=disabled`: podman 4.3
/// cannot manage cgroups on a hybrid host).
///
/// With a `warmDir`, the datums of a job run in warm containers, one per worker slot, started once per job
/// (`WarmContainer`); without one, or for an invocation with no job, each datum is a `podman run --rm`.
public struct PodmanRunner: Runner {
    public let podman: String
    public let cgroups: CgroupHost
    /// Where warm containers keep their mount points (`<data-dir>/run/warm`); nil: a container per datum.
    public let warmDir: String?
    /// podman's static init (catatonit), the warm containers' PID 1.
    let pause: String?
    /// podman's OCI runtime when it is crun (datums then start with `crun exec`, else `podman exec`).
    let crun: String?
    let pool = WarmPool()
    let setup = WarmSetup()

    public init(podman: String? = nil, cgroups: CgroupHost = .detect(), warmDir: String? = nil) {
        self.podman = podman ?? ["/usr/bin/podman", "/usr/local/bin/podman", "/bin/podman"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "podman"
        self.cgroups = cgroups
        self.warmDir = warmDir
        let pause = ["/usr/libexec/podman/catatonit", "/usr/bin/catatonit", "/usr/local/libexec/podman/catatonit"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        self.pause = pause.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
        self.crun = ["/usr/bin/crun", "/usr/local/bin/crun"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether datums of a job share warm containers.
    public var warm: Bool { warmDir != nil && pause != nil }

    public func validate(image: String?) throws {
        guard FileManager.default.isExecutableFile(atPath: podman) else {
            throw PFSError.precondition("podman is not installed; install it with `apt-get install podman` (or scripts/install-deps.sh)")
        }
        let name = image ?? ""
        if (try? Tool.run([podman, "image", "exists", name], what: "looking up image \(name)")) == nil {
            let shown = Names.printable(name)
            throw PFSError.notFound("image \"\(shown)\" is not in podman's store; add it with `podman load -i IMAGE.tar`, `podman import ROOTFS.tar \(shown)` or `podman pull \(shown)`")
        }
    }

    public func unenforceable(_ limits: Resources?, image: String?) -> [String] { cgroups.unenforceable(limits) }

    /// The options every container of `w` gets, warm or not: read-only root, hostname, network rule, ulimits,
    /// GPU devices and driver files, working directory and user.
    func containerOptions(_ w: WorkerInvocation) -> [String] {
        var a = ["--cgroups=disabled", "--pull=never", "--read-only",
                 "--hostname", "pfs-worker", "--network", w.network ? "host" : "none", "--log-driver", "none"]
        a += Self.ulimits
        for d in w.devices { a += ["--device", "\(d.source):\(d.target):rwm"] }
        for f in w.driverFiles { a += ["-v", "\(f):\(f):ro"] }
        if let wd = w.workingDir { a += ["-w", wd] }
        if let u = w.user { a += ["-u", u] }
        return a
    }

    /// podman 4.3 (and its Docker API) sets limits of its own that its runtime then may not raise to: explicit
    /// `--ulimit`s, no higher than the daemon's (nproc capped at 32768, measured to be accepted where 65536 was
    /// refused). The docker runner passes the same.
    static var ulimits: [String] {
        var a: [String] = []
        for (flag, res, cap) in [("nofile", Int32(RLIMIT_NOFILE.rawValue), UInt64(1 << 20)), ("nproc", Int32(__RLIMIT_NPROC.rawValue), UInt64(32768))] {
            let l = OCIBundle.limit("", res)
            let soft = min(l.soft, cap), hard = min(l.hard, cap)
            a += ["--ulimit", "\(flag)=\(soft):\(hard)"]
        }
        return a
    }

    /// The `podman run` arguments for an invocation run in a container of its own (exposed for tests).
    public func arguments(_ w: WorkerInvocation, name: String) throws -> [String] {
        guard let image = w.image, !image.isEmpty else { throw PFSError.invalid("the podman runner needs transform.image") }
        var a = [podman, "run", "--rm", "--name", name] + containerOptions(w)
        a += ["-v", "\(w.scratch):/tmp:rw"]
        for m in w.mounts { a += ["-v", "\(m.source):\(m.target):\(m.readOnly ? "ro" : "rw")"] }
        for (k, v) in w.env.sorted(by: { $0.key < $1.key }) where !w.defaultedEnv.contains(k) { a += ["-e", "\(k)=\(v)"] }
        if !w.stdin.isEmpty { a += ["-i"] }
        // The spec's cmd replaces the image's Entrypoint and Cmd (as a pod's `command` does).
        if !w.cmd.isEmpty {
            let json = String(decoding: try JSONSerialization.data(withJSONObject: w.cmd), as: UTF8.self)
            a += ["--entrypoint", json, image]
        } else {
            a += [image]
        }
        return a
    }

    public func commandLine(_ w: WorkerInvocation) -> [String]? {
        guard !warm || w.job == nil else { return nil }
        return try? arguments(w, name: "pfs-DATUM")
    }

    public func run(_ w: WorkerInvocation, log: FileHandle) throws -> WorkerResult {
        if warm, let job = w.job, let image = w.image, !image.isEmpty { return try runWarm(w, job: job, log: log) }
        let name = "pfs-" + UUID().uuidString.lowercased()
        let group = try cgroups.makeGroup(memory: w.memoryLimit, cpu: w.cpuLimit)
        defer { group?.remove() }
        var args = cgroups.wrapper(group: group) + (try arguments(w, name: name))
        // Secrets' env values go through a file only the daemon can read, never the command line (`ps`).
        let envFile = w.scratch + ".env"
        defer { unlink(envFile) }
        if !w.secretEnv.isEmpty {
            try Tool.writeEnvFile(w.secretEnv, to: envFile, engine: "podman")
            // Before the image name (and the --entrypoint that precedes it).
            args.insert(contentsOf: ["--env-file", envFile], at: args.count - (w.cmd.isEmpty ? 1 : 3))
        }
        let podman = self.podman
        let prefix = cgroups.wrapper(group: nil)
        var r = try WorkerProcess.run(args, stdin: w.stdin, log: log, timeout: w.timeout, cancel: w.cancel) { pid in
            group?.killAll()
            _ = try? Tool.run(prefix + [podman, "kill", name], what: "stopping a timed-out datum")
            kill(pid, SIGKILL)
        }
        if r.timedOut || w.cancel?.isCancelled == true { _ = try? Tool.run(prefix + [podman, "rm", "-f", name], what: "removing a timed-out container") }
        r.oomKilled = group?.oomKilled() ?? false
        return r
    }

    /// The wrapper that starts podman: on a hybrid host it runs in a mount namespace of its own, which must
    /// receive the slots' mounts (slave propagation), not a private copy.
    var startPrefix: [String] {
        let p = cgroups.wrapper(group: nil)
        return p.map { $0 == "private" ? "slave" : $0 }
    }

    func runWarm(_ w: WorkerInvocation, job: String, log: FileHandle) throws -> WorkerResult {
        guard let warmDir, let pause else { throw PFSError(.internal, "warm containers are off") }
        let targets = WarmContainer.targets(w)
        let key = ([job, w.image ?? "", w.network ? "net" : "", w.user ?? "", w.workingDir ?? ""]
            + targets.map { "\($0.path):\($0.readOnly)" } + w.devices.map { "\($0.source):\($0.target)" } + w.driverFiles)
            .joined(separator: "\u{0}")
        let container: WarmContainer
        if let idle = pool.checkout(key) {
            container = idle
        } else {
            try setup.prepare(warmDir: warmDir, podman: podman, prefix: cgroups.wrapper(group: nil))
            let name = "pfs-warm-" + UUID().uuidString.lowercased()
            let c = WarmContainer(name: name, dir: warmDir + "/" + name, targets: targets, podman: podman, crun: crun, prefix: startPrefix)
            pool.add(c, job: job)
            do {
                try c.start(w, runArguments: [podman, "run", "--rm", "--name", name, "--label", "pfs.warm=\(warmDir)"] + containerOptions(w),
                            pause: pause)
            } catch {
                pool.drop(c, job: job)
                c.stop()
                throw error
            }
            container = c
        }
        let group = try cgroups.makeGroup(memory: w.memoryLimit, cpu: w.cpuLimit)
        defer { group?.remove() }
        // crun exec needs no private mount namespace; podman exec gets the same wrapper as podman run.
        let join: [String]
        if container.direct {
            join = group?.joinPrefix ?? []
        } else {
            join = cgroups.wrapper(group: group)
        }
        do {
            let (r, healthy) = try container.run(w, log: log, group: group, join: join)
            if healthy { pool.checkin(container, key: key) } else { pool.drop(container, job: job); container.stop() }
            return r
        } catch {
            pool.drop(container, job: job)
            container.stop()
            throw error
        }
    }

    public func jobFinished(_ job: String) {
        let done = pool.finish(job)
        guard !done.isEmpty else { return }
        DispatchQueue.concurrentPerform(iterations: done.count) { done[$0].stop() }
    }

    /// Warm containers still running go, and so does the warm directory's own mount (else it stays in the host's
    /// mount table after the daemon, and its directory cannot be removed).
    public func shutdown() {
        let left = pool.finishAll()
        if !left.isEmpty { DispatchQueue.concurrentPerform(iterations: left.count) { left[$0].stop() } }
        if let warmDir { setup.teardown(warmDir: warmDir) }
    }
}

/// Once per daemon, before the first warm container: the warm directory becomes a private mount (slots' mounts
/// are moved within it, which a shared parent forbids), and what a previous daemon on this data directory left
/// (containers, mounts) is removed.
final class WarmSetup: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func prepare(warmDir: String, podman: String, prefix: [String]) throws {
        try lock.withLock {
            guard !done else { return }
            let fm = FileManager.default
            if let stale = try? Tool.run([podman, "ps", "-aq", "--filter", "label=pfs.warm=\(warmDir)"], what: "listing stale warm containers") {
                let ids = stale.split(whereSeparator: \.isWhitespace).map(String.init)
                if !ids.isEmpty { _ = try? Tool.run(prefix + [podman, "rm", "-f", "-t", "0"] + ids, what: "removing stale warm containers") }
            }
            Self.unmountAll(warmDir)
            try? fm.removeItem(atPath: warmDir)
            try fm.createDirectory(atPath: warmDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try WarmContainer.sys(mount(warmDir, warmDir, nil, UInt(MS_BIND), nil), "mount --bind", warmDir)
            try WarmContainer.sys(mount(nil, warmDir, nil, UInt(MS_PRIVATE), nil), "mount --make-private", warmDir)
            done = true
        }
    }

    /// At daemon stop: unmounts the warm directory and whatever is still mounted inside it.
    func teardown(warmDir: String) {
        lock.withLock {
            guard done else { return }
            Self.unmountAll(warmDir)
            done = false
        }
    }

    /// Detaches `dir` and every mount below it, deepest first.
    private static func unmountAll(_ dir: String) {
        let mounts = MountInfo.points().filter { $0 == dir || $0.hasPrefix(dir + "/") }
        for m in mounts.sorted(by: { $0.count > $1.count }) { umount2(m, Int32(MNT_DETACH)) }
    }
}

import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// One long-lived podman container of a job's worker slot, fed datums one at a time (docs/containers.md,
/// "Warm containers"). The container is started once with podman (image, read-only root, namespaces, network
/// rule, ulimits, user, working directory, GPU devices) and a static pause process (podman's catatonit) as PID 1;
/// each mount target of the job (`/tmp`, `/pfs/<input>`, `/pfs/out`, `/pfs/prev`, secrets' `mount_path`s) is a
/// directory of a shared mount on the host, bound into the container with `rslave` propagation. For each datum the
/// daemon binds that datum's own view, output directory, scratch directory and secrets onto those directories
/// (read-only ones made read-only *before* they are moved into place, so the copies the container receives are
/// read-only too), runs the command with `crun exec` (podman's own runtime, on podman's container; `podman exec`
/// where podman runs another runtime), then kills whatever the datum left running, empties `/dev/shm` and
/// `/dev/mqueue` and unbinds everything: the next datum sees only its own inputs and its own `/pfs/out`.
final class WarmContainer: @unchecked Sendable {
    struct Target: Hashable { var path: String; var readOnly: Bool }

    let name: String
    let dir: String
    let targets: [Target]
    let podman: String
    let crun: String?
    let prefix: [String]
    private(set) var id = ""
    private(set) var initPid: Int32 = 0
    private var pidNamespace = ""
    /// The container's process (from its OCI config): user, cwd, capabilities, rlimits, the image's environment.
    private var process: [String: Any] = [:]
    /// The image's Entrypoint + Cmd (the container itself runs the pause process).
    private var imageCommand: [String] = []
    private var sequence = 0

    var shared: String { dir + "/shared" }
    func slot(_ i: Int) -> String { shared + "/m\(i)" }
    func stage(_ i: Int) -> String { dir + "/stage/m\(i)" }

    /// The mount targets an invocation needs, in order, `/tmp` first: the shape a warm container is made for.
    static func targets(_ w: WorkerInvocation) -> [Target] {
        [Target(path: "/tmp", readOnly: false)] + w.mounts.map { Target(path: $0.target, readOnly: $0.readOnly) }
    }

    init(name: String, dir: String, targets: [Target], podman: String, crun: String?, prefix: [String]) {
        self.name = name; self.dir = dir; self.targets = targets; self.podman = podman; self.crun = crun; self.prefix = prefix
    }

    /// Makes the slot's directories and starts the container (blocking; podman's start cost, once per slot).
    func start(_ w: WorkerInvocation, runArguments: [String], pause: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: shared, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fm.createDirectory(atPath: dir + "/stage", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Self.sys(mount(shared, shared, nil, UInt(MS_BIND), nil), "mount --bind", shared)
        try Self.sys(mount(nil, shared, nil, UInt(MS_SHARED), nil), "mount --make-shared", shared)
        for i in targets.indices {
            try fm.createDirectory(atPath: slot(i), withIntermediateDirectories: true)
            try fm.createDirectory(atPath: stage(i), withIntermediateDirectories: true)
        }
        var a = runArguments
        a.insert(contentsOf: ["-d", "--read-only-tmpfs=false", "-v", "\(pause):/.pfs-pause:ro"], at: 2)
        for (i, t) in targets.enumerated() {
            a += ["-v", "\(slot(i)):\(t.path):\(t.readOnly ? "ro" : "rw"),rslave"]
        }
        a += ["--entrypoint", #"["/.pfs-pause","-P"]"#, w.image ?? ""]
        // podman's conmon stays behind (for the container's life) and inherits podman's descriptors: its output
        // goes to a file, not to pipes a reader would wait on, and every other descriptor is closed first —
        // Foundation's Process learns that its child exited when a socket it passed to the child closes, so a
        // conmon holding that socket would keep this call waiting until the container ends. (bash: dash cannot
        // name descriptors above 9.)
        let output = dir + "/start.out"
        defer { unlink(output) }
        let script = #"for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && { eval "exec $n>&-"; } 2>/dev/null; done; "#
            + #"exec "$@" >"$0" 2>&1 </dev/null"#
        do {
            _ = try Tool.run(["/bin/bash", "-c", script, output] + prefix + a, what: "starting a warm podman container")
        } catch {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw PFSError.precondition("starting a warm podman container failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines)) (\(error))")
        }
        let started = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        id = started.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init) ?? name
        let inspect = try Tool.run([podman, "inspect", "--format", "{{.State.Pid}}", name], what: "inspecting a warm container")
        initPid = Int32(inspect.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        guard initPid > 0 else { throw PFSError(.internal, "warm container \(name) has no process") }
        pidNamespace = Self.link("/proc/\(initPid)/ns/pid") ?? ""
        let image = try Tool.run([podman, "image", "inspect", "--format", "{{json .Config.Entrypoint}}\n{{json .Config.Cmd}}", w.image ?? ""],
                                 what: "reading the image's command")
        imageCommand = image.split(separator: "\n").flatMap { line -> [String] in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String] ?? []
        }
        // The container's process as podman configured it (the runtime's state names the bundle).
        if let crun, let state = try? Tool.run([crun, "state", id], what: "reading the container's state"),
           let s = try? JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any], let bundle = s["bundle"] as? String,
           let data = FileManager.default.contents(atPath: bundle + "/config.json"),
           let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let p = config["process"] as? [String: Any] {
            process = p
        }
    }

    /// Whether datums go through `crun exec` (else `podman exec`).
    var direct: Bool { !process.isEmpty }

    /// Runs one datum in the container. `healthy` is false when the container must not take another datum
    /// (its datum timed out or was killed at its memory limit, or what it left could not be cleared).
    func run(_ w: WorkerInvocation, log: FileHandle, group: CgroupGroup?, join: [String]) throws -> (WorkerResult, healthy: Bool) {
        guard WarmContainer.targets(w) == targets else { throw PFSError(.internal, "datum does not fit warm container \(name)") }
        let command = w.cmd.isEmpty ? imageCommand : w.cmd
        guard !command.isEmpty else {
            throw PFSError.invalid("transform.cmd is empty and image \(Names.printable(w.image ?? "")) has no Entrypoint or Cmd; give the pipeline a cmd")
        }
        var bound: [Int] = []
        defer { for i in bound { umount2(slot(i), Int32(MNT_DETACH)) } }
        for (i, t) in targets.enumerated() {
            let source = i == 0 ? w.scratch : w.mounts[i - 1].source
            try bind(source, i, readOnly: t.readOnly)
            bound.append(i)
        }
        sequence += 1
        let file = dir + "/exec-\(sequence)"
        defer { unlink(file) }
        let args: [String]
        if direct, let crun {
            var p = process
            p["args"] = command
            p["env"] = environment(w)
            p["terminal"] = false
            try Tool.writePrivate(try JSONSerialization.data(withJSONObject: p, options: [.sortedKeys]), to: file)
            args = join + [crun, "--cgroup-manager=disabled", "exec", "--process", file, id]
        } else {
            // Secrets' values go through a private env file, never the command line.
            var lines = w.env.filter { !w.defaultedEnv.contains($0.key) }.merging(w.secretEnv) { $1 }
            lines = lines.filter { !$0.value.contains("\n") }
            try Tool.writePrivate(Data(lines.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined().utf8), to: file)
            args = join + [podman, "exec"] + (w.stdin.isEmpty ? [] : ["-i"]) + ["--env-file", file, name]
                + command
        }
        var r = try WorkerProcess.run(args, stdin: w.stdin, log: log, timeout: w.timeout, cancel: w.cancel) { [self] pid in
            group?.killAll()
            _ = killLeftovers()
            kill(pid, SIGKILL)
        }
        r.oomKilled = group?.oomKilled() ?? false
        let cleared = killLeftovers() && clearIPCFiles()
        return (r, cleared && !r.timedOut && !r.oomKilled && w.cancel?.isCancelled != true)
    }

    /// The image's environment (as podman set it) under the spec's; the scheduler's defaults for PATH/HOME/LANG
    /// yield to the image's; secrets last.
    func environment(_ w: WorkerInvocation) -> [String] {
        var env: [String: String] = [:]
        for kv in process["env"] as? [String] ?? [] {
            let parts = kv.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            env[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        for (k, v) in w.env where !(w.defaultedEnv.contains(k) && env[k] != nil) { env[k] = v }
        for (k, v) in w.secretEnv { env[k] = v }
        return env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// Binds `source` at slot `i`: first on a private staging point (made read-only there), then moved into the
    /// shared slot, so every copy the container receives already has its final flags.
    private func bind(_ source: String, _ i: Int, readOnly: Bool) throws {
        let s = stage(i)
        try Self.sys(mount(source, s, nil, UInt(MS_BIND), nil), "mount --bind", source)
        var flags = UInt(MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
        if readOnly { flags |= UInt(MS_RDONLY) }
        do {
            try Self.sys(mount(nil, s, nil, flags, nil), "mount -o remount", s)
            try Self.sys(mount(s, slot(i), nil, UInt(MS_MOVE), nil), "mount --move", slot(i))
        } catch {
            umount2(s, Int32(MNT_DETACH))
            throw error
        }
    }

    /// SIGKILLs every process in the container's PID namespace but its pause process, and waits until they are
    /// gone (at most 2 s). False if some are left.
    @discardableResult
    func killLeftovers() -> Bool {
        guard !pidNamespace.isEmpty else { return false }
        for _ in 0..<200 {
            var found = false
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(entry), pid != initPid, Self.link("/proc/\(entry)/ns/pid") == pidNamespace else { continue }
                // A zombie waiting for the pause process to reap it is already gone for our purpose.
                if let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                   let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" { continue }
                kill(pid, SIGKILL)
                found = true
            }
            if !found { return true }
            usleep(10_000)
        }
        return false
    }

    /// Empties the container's `/dev/shm` and `/dev/mqueue` (shared by every process of the container).
    func clearIPCFiles() -> Bool {
        var ok = true
        for d in ["/dev/shm", "/dev/mqueue"] {
            let path = "/proc/\(initPid)/root" + d
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                do { try FileManager.default.removeItem(atPath: path + "/" + entry) } catch { ok = false }
            }
        }
        return ok
    }

    /// Removes the container and the slot's mounts and directories.
    func stop() {
        if !name.isEmpty {
            _ = try? Tool.run(prefix + [podman, "rm", "-f", "-t", "0", name], what: "removing a warm container")
        }
        for i in targets.indices { umount2(slot(i), Int32(MNT_DETACH)); umount2(stage(i), Int32(MNT_DETACH)) }
        umount2(shared, Int32(MNT_DETACH))
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func link(_ path: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }

    static func sys(_ rc: Int32, _ what: String, _ path: String) throws {
        guard rc == 0 else { throw PFSError.syscall(what, path: path, errno: errno) }
    }
}

/// The warm containers of running jobs: idle ones by (job, image, mount shape), all of them by job.
final class WarmPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [String: [WarmContainer]] = [:]
    private var byJob: [String: [WarmContainer]] = [:]

    func checkout(_ key: String) -> WarmContainer? {
        lock.withLock { idle[key]?.popLast() }
    }

    func add(_ c: WarmContainer, job: String) { lock.withLock { byJob[job, default: []].append(c) } }

    func checkin(_ c: WarmContainer, key: String) { lock.withLock { idle[key, default: []].append(c) } }

    /// Forgets a container (it is being stopped).
    func drop(_ c: WarmContainer, job: String) {
        lock.withLock { byJob[job]?.removeAll { $0 === c } }
    }

    /// Every container of `job` (the job is over), forgotten.
    func finish(_ job: String) -> [WarmContainer] {
        lock.withLock {
            let all = byJob.removeValue(forKey: job) ?? []
            for k in idle.keys where k.hasPrefix(job + "\u{0}") { idle.removeValue(forKey: k) }
            return all
        }
    }

    /// Every container of every job (the daemon is stopping), forgotten.
    func finishAll() -> [WarmContainer] {
        lock.withLock {
            let all = byJob.values.flatMap { $0 }
            byJob = [:]
            idle = [:]
            return all
        }
    }
}

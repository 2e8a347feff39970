import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs datums with `podman run` (`pfsmount --runner podman`); images come from podman's own store
/// (`podman load`, `podman import`, `podman pull`). The same mounts as the crun runner (`/pfs/<input>`
/// read-only, `/pfs/out` writable, `/tmp` the datum's scratch), a read-only root, private namespaces, no network
/// unless asked; memory and cpu limits through the same per-datum cgroups (podman itself runs with
/// `--cgroups=disabled`: podman 4.3 cannot manage cgroups on a hybrid host).
public struct PodmanRunner: Runner {
    public let podman: String
    public let cgroups: CgroupHost

    public init(podman: String? = nil, cgroups: CgroupHost = .detect()) {
        self.podman = podman ?? ["/usr/bin/podman", "/usr/local/bin/podman", "/bin/podman"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "podman"
        self.cgroups = cgroups
    }

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

    /// The `podman run` arguments for an invocation (exposed for tests).
    public func arguments(_ w: WorkerInvocation, name: String) throws -> [String] {
        guard let image = w.image, !image.isEmpty else { throw PFSError.invalid("the podman runner needs transform.image") }
        var a = [podman, "run", "--rm", "--name", name, "--cgroups=disabled", "--pull=never", "--read-only",
                 "--hostname", "pfs-worker", "--network", w.network ? "host" : "none", "--log-driver", "none"]
        // podman 4.3 sets limits of its own that its runtime then may not raise to: give explicit ones, no
        // higher than the daemon's (nproc capped at 32768, measured to be accepted where 65536 was refused).
        for (flag, res, cap) in [("nofile", Int32(RLIMIT_NOFILE.rawValue), UInt64(1 << 20)), ("nproc", Int32(__RLIMIT_NPROC.rawValue), UInt64(32768))] {
            let l = OCIBundle.limit("", res)
            let soft = min(l["soft"] as? UInt64 ?? 1024, cap), hard = min(l["hard"] as? UInt64 ?? 1024, cap)
            a += ["--ulimit", "\(flag)=\(soft):\(hard)"]
        }
        a += ["-v", "\(w.scratch):/tmp:rw"]
        for m in w.mounts { a += ["-v", "\(m.source):\(m.target):\(m.readOnly ? "ro" : "rw")"] }
        for (k, v) in w.env.sorted(by: { $0.key < $1.key }) where !w.defaultedEnv.contains(k) { a += ["-e", "\(k)=\(v)"] }
        // GPUs: the device nodes and the host driver's files at the same paths (read-only).
        for d in w.devices { a += ["--device", "\(d.source):\(d.target):rwm"] }
        for f in w.driverFiles { a += ["-v", "\(f):\(f):ro"] }
        if let wd = w.workingDir { a += ["-w", wd] }
        if let u = w.user { a += ["-u", u] }
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

    public func run(_ w: WorkerInvocation, log: FileHandle) throws -> WorkerResult {
        let name = "pfs-" + UUID().uuidString.lowercased()
        let group = try cgroups.makeGroup(memory: w.memoryLimit, cpu: w.cpuLimit)
        defer { group?.remove() }
        var args = cgroups.wrapper(group: group) + (try arguments(w, name: name))
        // Secrets' env values go through a file only the daemon can read, never the command line (`ps`).
        let envFile = w.scratch + ".env"
        defer { unlink(envFile) }
        if !w.secretEnv.isEmpty {
            try Tool.writePrivate(Data(w.secretEnv.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined().utf8), to: envFile)
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
}

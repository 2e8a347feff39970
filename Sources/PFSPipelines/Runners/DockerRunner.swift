import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs datums in a Docker engine through the `docker` CLI (`pfsmount --runner docker`, or `transform.runner:
/// docker`); the engine is the CLI's (`DOCKER_HOST`, the CLI's context), images come from its store (`docker load`,
/// `docker import`, `docker pull`). Each datum is one `docker run` with the same mounts as the other runners
/// (`/pfs/<input>` read-only, `/pfs/out` writable, `/tmp` the datum's scratch), a read-only root, no network unless
/// asked, and the memory and cpu limits given to the engine (`--memory`, `--cpus`), which enforces them in the
/// container's cgroup. The engine must see the host's mounts (the datum's views are FUSE mounts of this daemon):
/// a Docker engine on the same machine does.
///
/// No warm containers: a datum's views cannot be moved into a running container the engine made. Each datum pays
/// the engine's container start (hundreds of ms); podman's runner keeps warm containers.
public struct DockerRunner: Runner {
    public let docker: String

    public init(docker: String? = nil) {
        self.docker = docker ?? ["/usr/bin/docker", "/usr/local/bin/docker", "/bin/docker"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "docker"
    }

    public func validate(image: String?) throws {
        guard FileManager.default.isExecutableFile(atPath: docker) else {
            throw PFSError.precondition("the docker CLI is not installed; install it (Debian: `apt-get install docker.io`) and point it at a Docker engine (DOCKER_HOST)")
        }
        let name = image ?? ""
        guard !name.isEmpty, name != "host" else {
            throw PFSError.invalid("the docker runner needs transform.image: an image in the Docker engine's store")
        }
        do {
            _ = try Tool.run([docker, "version", "--format", "{{.Server.Version}}"], what: "asking the Docker engine")
        } catch {
            throw PFSError.precondition("cannot reach a Docker engine (DOCKER_HOST=\(ProcessInfo.processInfo.environment["DOCKER_HOST"] ?? "unset")): \(error); start dockerd, or point DOCKER_HOST at a Docker-compatible API (e.g. `podman system service`) before starting pfsmount")
        }
        if (try? Tool.run([docker, "image", "inspect", "--format", "{{.Id}}", name], what: "looking up image \(name)")) == nil {
            let shown = Names.printable(name)
            throw PFSError.notFound("image \"\(shown)\" is not in the Docker engine's store; add it with `docker load -i IMAGE.tar`, `docker import ROOTFS.tar \(shown)` or `docker pull \(shown)`")
        }
    }

    /// What the engine says it cannot limit (`docker info`: MemoryLimit, CpuCfsQuota).
    public func unenforceable(_ limits: Resources?, image: String?) -> [String] {
        guard limits?.memory != nil || limits?.cpu != nil else { return [] }
        let info = (try? Tool.run([docker, "info", "--format", "{{.MemoryLimit}} {{.CpuCfsQuota}}"], what: "asking the Docker engine")) ?? ""
        let f = info.split(whereSeparator: \.isWhitespace)
        var out: [String] = []
        if limits?.memory != nil, f.first != "true" {
            out.append("resource_limits.memory cannot be enforced: the Docker engine reports no memory limit support (docker info: MemoryLimit)")
        }
        if limits?.cpu != nil, f.count < 2 || f[1] != "true" {
            out.append("resource_limits.cpu cannot be enforced: the Docker engine reports no CPU quota support (docker info: CpuCfsQuota)")
        }
        return out
    }

    /// The `docker run` arguments of one datum (exposed for tests). With a memory limit the container is kept
    /// after it exits (no `--rm`) so that its OOM state can be read, then removed.
    public func arguments(_ w: WorkerInvocation, name: String) throws -> [String] {
        guard let image = w.image, !image.isEmpty else { throw PFSError.invalid("the docker runner needs transform.image") }
        var a = [docker, "run", "--name", name, "--pull=never", "--read-only", "--hostname", "pfs-worker",
                 "--network", w.network ? "host" : "none"]
        if w.memoryLimit == nil { a.insert("--rm", at: 2) }
        a += PodmanRunner.ulimits
        if let m = w.memoryLimit { a += ["--memory", String(m), "--memory-swap", String(m)] }
        if let c = w.cpuLimit { a += ["--cpus", String(format: "%.3f", c)] }
        for d in w.devices { a += ["--device", "\(d.source):\(d.target):rwm"] }
        for f in w.driverFiles { a += ["-v", "\(f):\(f):ro"] }
        if let wd = w.workingDir { a += ["-w", wd] }
        if let u = w.user { a += ["-u", u] }
        a += ["-v", "\(w.scratch):/tmp:rw"]
        for m in w.mounts { a += ["-v", "\(m.source):\(m.target):\(m.readOnly ? "ro" : "rw")"] }
        for (k, v) in w.env.sorted(by: { $0.key < $1.key }) where !w.defaultedEnv.contains(k) { a += ["-e", "\(k)=\(v)"] }
        if !w.stdin.isEmpty { a += ["-i"] }
        // The spec's cmd replaces the image's Entrypoint and Cmd, as a pod's `command` does; docker's --entrypoint
        // takes the program alone, its arguments follow the image.
        if let first = w.cmd.first {
            a += ["--entrypoint", first, image] + w.cmd.dropFirst()
        } else {
            a += [image]
        }
        return a
    }

    public func commandLine(_ w: WorkerInvocation) -> [String]? { try? arguments(w, name: "pfs-DATUM") }

    public func run(_ w: WorkerInvocation, log: FileHandle) throws -> WorkerResult {
        let name = "pfs-" + UUID().uuidString.lowercased()
        var args = try arguments(w, name: name)
        // Secrets' env values go through a file only the daemon can read, never the command line (`ps`).
        let envFile = w.scratch + ".env"
        defer { unlink(envFile) }
        if !w.secretEnv.isEmpty {
            try Tool.writeEnvFile(w.secretEnv, to: envFile, engine: "docker")
            args.insert(contentsOf: ["--env-file", envFile], at: 2)
        }
        let docker = self.docker
        var r = try WorkerProcess.run(args, stdin: w.stdin, log: log, timeout: w.timeout, cancel: w.cancel) { pid in
            _ = try? Tool.run([docker, "kill", name], what: "stopping a timed-out datum")
            kill(pid, SIGKILL)
        }
        if w.memoryLimit != nil {
            let state = (try? Tool.run([docker, "inspect", "--format", "{{.State.OOMKilled}}", name], what: "reading the datum's state")) ?? ""
            r.oomKilled = state.trimmingCharacters(in: .whitespacesAndNewlines) == "true"
        }
        if w.memoryLimit != nil || r.timedOut || w.cancel?.isCancelled == true {
            _ = try? Tool.run([docker, "rm", "-f", name], what: "removing a datum's container")
        }
        return r
    }
}

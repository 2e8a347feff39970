import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs datums of imported images with `crun`, one generated OCI bundle per datum: the image's root read-only,
/// `/tmp` the datum's writable scratch directory, every invocation mount bound at its target (`/pfs/<input>`
/// read-only, `/pfs/out` writable, `/pfs/prev`…), private PID/mount/IPC/UTS (and, unless the spec asks for it,
/// network) namespaces, and the memory/cpu limits in a cgroup per datum (CgroupHost).
public struct OCIRunner: Runner {
    public let crun: String
    public let images: ImageRegistry
    public let cgroups: CgroupHost
    /// Starts crun in a mount namespace of its own on hybrid hosts (nil: the `unshare` wrapper does it).
    let spawner: NamespaceSpawner?

    public init(images: ImageRegistry, crun: String? = nil, cgroups: CgroupHost = .detect()) {
        self.crun = crun ?? ["/usr/bin/crun", "/usr/local/bin/crun", "/bin/crun"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "crun"
        self.images = images
        self.cgroups = cgroups
        self.spawner = cgroups.layout == .hybrid ? NamespaceSpawner.hybrid : nil
    }

    public func validate(image: String?) throws {
        _ = try resolve(image)
        guard FileManager.default.isExecutableFile(atPath: crun) else {
            throw PFSError.precondition("crun is not installed; install it with `apt-get install crun` (or scripts/install-deps.sh)")
        }
    }

    public func unenforceable(_ limits: Resources?, image: String?) -> [String] { cgroups.unenforceable(limits) }

    func resolve(_ image: String?) throws -> ImportedImage {
        guard let found = images.imported(image) else {
            let name = Names.printable(image ?? "")
            throw PFSError.notFound("image \"\(name)\" is not imported; import it with `pfs image import \(name) PATH` (an OCI layout directory, an OCI or docker-save archive, or a rootfs tarball)")
        }
        return found
    }

    public func run(_ w: WorkerInvocation, log: FileHandle) throws -> WorkerResult {
        let image = try resolve(w.image)
        let rootfs = images.store!.rootfs(image)
        guard FileManager.default.fileExists(atPath: rootfs) else {
            throw PFSError.corrupt("the root filesystem of image \(image.name) is missing (\(rootfs)); import the image again")
        }
        let bundle = w.scratch + ".oci"
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: bundle) }
        let config = try OCIBundle.config(w, image: image, rootfs: rootfs)
        // Private: the environment in it holds the secrets' values.
        try Tool.writePrivate(try OCIBundle.encode(config), to: bundle + "/config.json")
        let id = "pfs-" + UUID().uuidString.lowercased()
        let group = try cgroups.makeGroup(memory: w.memoryLimit, cpu: w.cpuLimit)
        defer { group?.remove() }
        // On a hybrid host the spawner gives crun its mount namespace without a wrapper program; the shell that
        // joins the datum's cgroups is then the only one, and only when there are limits.
        let start = spawner == nil ? wrapper(group: group) : group?.joinPrefix ?? []
        let args = start + [crun, "--cgroup-manager=disabled", "run", "--bundle", bundle, id]
        let crunPath = crun
        let prefix = wrapper(group: nil)
        var r = try WorkerProcess.run(args, stdin: w.stdin, log: log, timeout: w.timeout, cancel: w.cancel, spawner: spawner) { pid in
            group?.killAll()
            _ = try? Tool.run(prefix + [crunPath, "--cgroup-manager=disabled", "kill", id, "KILL"], what: "stopping a timed-out datum")
            kill(pid, SIGKILL)
        }
        if r.timedOut || w.cancel?.isCancelled == true { _ = try? Tool.run(prefix + [crun, "--cgroup-manager=disabled", "delete", "-f", id], what: "removing a timed-out container") }
        r.oomKilled = group?.oomKilled() ?? false
        return r
    }

    func wrapper(group: CgroupGroup?) -> [String] { cgroups.wrapper(group: group) }

    /// A job is over: if no other datum runs, the spawner's namespace goes now rather than when idle.
    public func jobFinished(_ job: String) { spawner?.releaseIfIdle() }

    public func shutdown() { spawner?.releaseIfIdle() }
}

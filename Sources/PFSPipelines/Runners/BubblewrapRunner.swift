import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs datums with bubblewrap over the host's root, read-only: image `host` (or no image). The command sees
/// `/pfs/<input>` (read-only views), `/pfs/out` (writable), a private `/tmp`, private PID/IPC/UTS/network
/// namespaces, and nothing of pfs's data directory or mounts.
public struct BubblewrapRunner: Runner {
    public let bwrap: String
    /// Aliases of `host` (`pfs image alias fruit_stand host`); nil: only `host` and no image are accepted.
    public let images: ImageRegistry?

    public init(bwrap: String? = nil, images: ImageRegistry? = nil) {
        self.bwrap = bwrap ?? ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "bwrap"
        self.images = images
    }

    public static let hostImages: Set<String> = ["", "host"]

    public func validate(image: String?) throws {
        try checkImage(image)
        guard FileManager.default.isExecutableFile(atPath: bwrap) else {
            throw PFSError.precondition("bubblewrap (bwrap) is not installed; install it with `apt-get install bubblewrap`")
        }
    }

    /// The image must be `host` (or none) or an alias of it.
    func checkImage(_ image: String?) throws {
        guard let image, !Self.hostImages.contains(image) else { return }
        if let images, images.resolve(image) == "host" { return }
        throw PFSError.invalid("image \"\(Names.printable(image))\" is not available to the host sandbox runner; use image \"host\", or, if the commands it runs exist on this machine, map it with `pfs image alias \(image) host`")
    }

    /// Whether `path` exists, without asking a filesystem mounted at it. The hidden paths include the daemon's own
    /// mount point, and a stat of it from the daemon that is in flight when the daemon is killed never returns: the
    /// process can then never exit, and its FUSE connection stays open (found by scripts/torture).
    static func exists(_ path: String) -> Bool {
        MountInfo.points().contains(path) || FileManager.default.fileExists(atPath: path)
    }

    /// The bwrap command line for an invocation (exposed for tests).
    public func arguments(_ w: WorkerInvocation) -> [String] {
        // A fresh root: every top-level directory of the host bound read-only (so /pfs can exist even though
        // the host has none), then made read-only itself.
        var a = ["--tmpfs", "/"]
        let skip: Set<String> = ["proc", "dev", "sys", "tmp", "run", "pfs", "lost+found"]
        let top = ((try? FileManager.default.contentsOfDirectory(atPath: "/")) ?? []).sorted()
        // Mount points (secrets' mount_path) that do not exist on the host, below a host directory that is bound
        // read-only: such a directory is rebuilt from its children, so the mount point can be made in it.
        let missing = w.mounts.map(\.target).filter {
            !$0.hasPrefix("/pfs/") && !$0.hasPrefix("/tmp/") && !$0.hasPrefix("/run/") && !FileManager.default.fileExists(atPath: $0)
        }
        Self.bindHost("/", top.filter { !skip.contains($0) }, missing: missing, &a)
        // Only /pfs/out and /tmp are writable (and /dev/shm, private to the sandbox): the empty directories that
        // hide the data directory and pfs mounts, /run and /pfs itself are read-only too.
        a += ["--ro-bind", "/sys", "/sys", "--dev", "/dev"]
        for d in w.devices {
            let parent = (d.target as NSString).deletingLastPathComponent
            if parent != "/dev" { a += ["--dir", parent] }
            a += ["--dev-bind", d.source, d.target]
        }
        a += ["--proc", "/proc", "--tmpfs", "/run"]
        // Driver files the host root does not show (the persistence daemon's socket under /run).
        for f in w.driverFiles where f.hasPrefix("/run/") { a += ["--bind-try", f, f] }
        for h in w.hidden where Self.exists(h) { a += ["--tmpfs", h, "--remount-ro", h] }
        a += ["--bind", w.scratch, "/tmp", "--tmpfs", "/pfs"]
        for m in w.mounts {
            a += ["--dir", m.target, m.readOnly ? "--ro-bind" : "--bind", m.source, m.target]
        }
        a += ["--remount-ro", "/run", "--remount-ro", "/pfs", "--remount-ro", "/"]
        a += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        if !w.network { a += ["--unshare-net"] }
        a += ["--chdir", w.workingDir ?? "/pfs/out", "--clearenv"]
        for (k, v) in w.env.sorted(by: { $0.key < $1.key }) { a += ["--setenv", k, v] }
        // `run` passes these through a private file, not the command line (see `run`).
        for (k, v) in w.secretEnv.sorted(by: { $0.key < $1.key }) { a += ["--setenv", k, v] }
        a += ["--"] + w.cmd
        return a
    }

    /// Binds `names` (entries of the host directory `dir`) read-only at the same paths; a directory on the way to
    /// a `missing` mount point is made in the sandbox's root instead and filled with its children.
    static func bindHost(_ dir: String, _ names: [String], missing: [String], _ a: inout [String]) {
        let fm = FileManager.default
        for name in names.sorted() {
            let path = dir == "/" ? "/" + name : dir + "/" + name
            if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
                a += ["--symlink", target, path]
                continue
            }
            var isDir: ObjCBool = false
            if missing.contains(where: { $0.hasPrefix(path + "/") }), fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
                a += ["--dir", path]
                bindHost(path, (try? fm.contentsOfDirectory(atPath: path)) ?? [], missing: missing, &a)
            } else {
                a += ["--ro-bind", path, path]
            }
        }
    }

    public func commandLine(_ w: WorkerInvocation) -> [String]? {
        var shown = w
        shown.secretEnv = shown.secretEnv.mapValues { _ in "***" }
        return [bwrap] + arguments(shown)
    }

    public func run(_ w: WorkerInvocation, log: FileHandle) throws -> WorkerResult {
        guard !w.cmd.isEmpty else { throw PFSError.invalid("transform.cmd is empty") }
        // An alias removed since the pipeline was created: a clear datum failure, not a run on the wrong image.
        try checkImage(w.image)
        let p = Process()
        var argsFile: String?
        defer { if let argsFile { unlink(argsFile) } }
        if w.secretEnv.isEmpty {
            p.executableURL = URL(fileURLWithPath: bwrap)
            p.arguments = arguments(w)
        } else {
            // Secret values must not show in `ps` (/proc/PID/cmdline is world-readable): bwrap reads its
            // arguments from a file only the daemon's user can read (next to the datum's scratch directory, in the
            // data directory), opened as fd 3 by a shell that then becomes bwrap.
            // The command itself stays on the command line (bwrap takes only options from --args).
            let all = arguments(w)
            let split = all.count - w.cmd.count - 1  // the options, then "--" and the command
            let file = w.scratch + ".args"
            try Self.writePrivate(Array(all[..<split]), to: file)
            argsFile = file
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "f=$1; shift; exec \"$0\" --args 3 -- \"$@\" 3<\"$f\"", bwrap, file] + w.cmd
        }
        p.standardOutput = log
        p.standardError = log
        let input = Pipe()
        p.standardInput = w.stdin.isEmpty ? FileHandle.nullDevice : input
        let started = Date()
        try p.run()
        if !w.stdin.isEmpty {
            let data = Data((w.stdin.joined(separator: "\n") + "\n").utf8)
            DispatchQueue.global().async {
                input.fileHandleForWriting.write(data)
                try? input.fileHandleForWriting.close()
            }
        }
        let pid = p.processIdentifier
        let timedOut = TimeoutFlag()
        var timer: DispatchWorkItem?
        if let t = w.timeout {
            let item = DispatchWorkItem {
                timedOut.set()
                kill(-pid, SIGKILL)  // bwrap --new-session: the whole group
                kill(pid, SIGKILL)
            }
            timer = item
            DispatchQueue.global().asyncAfter(deadline: .now() + t, execute: item)
        }
        w.cancel?.install {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
        }
        p.waitUntilExit()
        w.cancel?.uninstall()
        timer?.cancel()
        let code: Int32 = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return WorkerResult(exitCode: code, timedOut: timedOut.value, seconds: Date().timeIntervalSince(started))
    }
}

extension BubblewrapRunner {
    /// NUL-separated arguments (bwrap's `--args` format) in a new 0600 file.
    static func writePrivate(_ args: [String], to path: String) throws {
        var data = Data()
        for arg in args { data.append(contentsOf: Array(arg.utf8)); data.append(0) }
        try Tool.writePrivate(data, to: path)
    }
}

final class TimeoutFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var value: Bool { lock.withLock { flag } }
}

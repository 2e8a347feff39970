import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// The OCI runtime config (`config.json`) of one datum, Docker's defaults where the spec and image say nothing.
enum OCIBundle {
    /// Docker's default capability set.
    static let capabilities = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                               "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                               "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]

    /// The command: the spec's `cmd` when it has one (it replaces the image's Entrypoint and Cmd, as a pod's
    /// `command` does), else the image's Entrypoint followed by its Cmd.
    static func command(_ w: WorkerInvocation, _ image: ImportedImage) throws -> [String] {
        if !w.cmd.isEmpty { return w.cmd }
        let c = (image.config.entrypoint ?? []) + (image.config.cmd ?? [])
        guard !c.isEmpty else {
            throw PFSError.invalid("transform.cmd is empty and image \(image.name) has no Entrypoint or Cmd; give the pipeline a cmd")
        }
        return c
    }

    /// The image's environment under the spec's (the scheduler's defaults for PATH/HOME/LANG yield to the image's).
    static func environment(_ w: WorkerInvocation, _ image: ImportedImage) -> [String] {
        var env = image.config.environment
        for (k, v) in w.env where !(w.defaultedEnv.contains(k) && env[k] != nil) { env[k] = v }
        // Secrets' values go only into the bundle's config.json, which lives in a directory private to the daemon.
        for (k, v) in w.secretEnv { env[k] = v }
        return env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// `uid[:gid]` or `name[:group]`, names looked up in the image's /etc/passwd and /etc/group.
    static func user(_ spec: String?, rootfs: String) throws -> (uid: Int, gid: Int) {
        guard let spec, !spec.isEmpty else { return (0, 0) }
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        func table(_ file: String) -> [[String]] {
            ((try? String(contentsOfFile: rootfs + "/etc/" + file, encoding: .utf8)) ?? "").split(separator: "\n").map {
                $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            }
        }
        var uid: Int, gid: Int
        if let n = Int(parts[0]) {
            uid = n
            gid = table("passwd").first { $0.count > 3 && $0[2] == parts[0] }.flatMap { Int($0[3]) } ?? n
        } else {
            guard let row = table("passwd").first(where: { $0.count > 3 && $0[0] == parts[0] }), let u = Int(row[2]), let g = Int(row[3]) else {
                throw PFSError.invalid("user \"\(Names.printable(parts[0]))\" is not in the image's /etc/passwd; give a numeric uid (transform.user: \"1000\" or \"1000:1000\")")
            }
            uid = u; gid = g
        }
        if parts.count == 2 {
            if let g = Int(parts[1]) { gid = g } else {
                guard let row = table("group").first(where: { $0.count > 2 && $0[0] == parts[1] }), let g = Int(row[2]) else {
                    throw PFSError.invalid("group \"\(Names.printable(parts[1]))\" is not in the image's /etc/group; give a numeric gid")
                }
                gid = g
            }
        }
        return (uid, gid)
    }

    /// The daemon's own limit (a container cannot be given more than its runtime has).
    static func limit(_ name: String, _ resource: Int32) -> OCIConfig.RLimit {
        var r = Glibc.rlimit()
        getrlimit(__rlimit_resource_t(resource), &r)
        let clamp = { (v: rlim_t) -> UInt64 in v == rlim_t.max ? UInt64(Int64.max) : UInt64(v) }
        return OCIConfig.RLimit(type: name, hard: clamp(r.rlim_max), soft: clamp(r.rlim_cur))
    }

    static func config(_ w: WorkerInvocation, image: ImportedImage, rootfs: String) throws -> OCIConfig {
        typealias Mount = OCIConfig.Mount
        let (uid, gid) = try user(w.user ?? image.config.user, rootfs: rootfs)
        let caps = uid == 0 ? capabilities : []
        var mounts: [Mount] = [
            Mount(destination: "/proc", type: "proc", source: "proc"),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/tmp", type: "bind", source: w.scratch, options: ["rbind", "rw", "nosuid", "nodev"]),
        ]
        for m in w.mounts {
            mounts.append(Mount(destination: m.target, type: "bind", source: m.source, options: ["rbind", m.readOnly ? "ro" : "rw", "nosuid", "nodev"]))
        }
        // GPUs: the device nodes (read-write) and the host driver's libraries and tools at the same paths (read-only).
        for d in w.devices {
            mounts.append(Mount(destination: d.target, type: "bind", source: d.source, options: ["rbind", "rw", "nosuid"]))
        }
        for f in w.driverFiles {
            mounts.append(Mount(destination: f, type: "bind", source: f, options: ["rbind", "ro", "nosuid", "nodev"]))
        }
        if w.network {
            for f in ["/etc/resolv.conf", "/etc/hosts"] where FileManager.default.fileExists(atPath: f) {
                mounts.append(Mount(destination: f, type: "bind", source: f, options: ["rbind", "ro"]))
            }
        }
        var namespaces = ["pid", "ipc", "uts", "mount"]
        if !w.network { namespaces.append("network") }
        return OCIConfig(
            process: .init(user: .init(uid: uid, gid: gid), args: try command(w, image), env: environment(w, image),
                           cwd: w.workingDir ?? image.config.workingDir ?? "/",
                           capabilities: .init(bounding: caps, effective: caps, permitted: caps),
                           rlimits: [limit("RLIMIT_NOFILE", Int32(RLIMIT_NOFILE.rawValue)), limit("RLIMIT_NPROC", Int32(__RLIMIT_NPROC.rawValue))]),
            root: .init(path: rootfs, readonly: true),
            mounts: mounts,
            linux: .init(namespaces: namespaces.map { .init(type: $0) },
                         maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                       "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
                         readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]))
    }

    /// `config.json` as crun reads it. Written once per datum: through JSONEncoder and typed fields (JSONSerialization
    /// of the same config as a dictionary cost about 2 ms per datum, a fifth of crun's own start).
    static func encode(_ config: OCIConfig) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try e.encode(config)
    }
}

/// The part of the OCI runtime specification's `config.json` that pfs fills in.
struct OCIConfig: Codable, Equatable {
    struct User: Codable, Equatable { var uid: Int; var gid: Int }
    struct Capabilities: Codable, Equatable { var bounding: [String]; var effective: [String]; var permitted: [String] }
    struct RLimit: Codable, Equatable { var type: String; var hard: UInt64; var soft: UInt64 }
    struct Process: Codable, Equatable {
        var terminal = false
        var user: User
        var args: [String]
        var env: [String]
        var cwd: String
        var capabilities: Capabilities
        var rlimits: [RLimit]
        var noNewPrivileges = true
    }
    struct Root: Codable, Equatable { var path: String; var readonly: Bool }
    struct Mount: Codable, Equatable {
        var destination: String
        var type: String
        var source: String
        var options: [String]?
    }
    struct Namespace: Codable, Equatable { var type: String }
    struct Linux: Codable, Equatable {
        var namespaces: [Namespace]
        var maskedPaths: [String]
        var readonlyPaths: [String]
    }

    var ociVersion = "1.0.2"
    var process: Process
    var root: Root
    var hostname = "pfs-worker"
    var mounts: [Mount]
    var linux: Linux
}

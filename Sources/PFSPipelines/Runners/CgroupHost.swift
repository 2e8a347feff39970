import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// The host's cgroup layout and where this daemon may make a cgroup per datum to enforce `resource_limits`.
/// v2 only (`/sys/fs/cgroup` is cgroup2), hybrid (v1 controllers plus an empty cgroup2 at
/// `/sys/fs/cgroup/unified`) or v1. Each datum gets `<the daemon's own cgroup>/pfs-<id>` for each controller it
/// needs; the worker's wrapper joins it before it execs the runtime, so everything the datum starts is inside.
public struct CgroupHost: Sendable {
    public enum Layout: String, Sendable { case v2, hybrid, v1, none }
    public let layout: Layout
    /// Directories under which a per-datum cgroup is made, per controller ("memory", "cpu"); v2 uses one for both.
    public let parents: [String: String]
    /// Why a controller cannot be used (shown at pipeline creation when a spec asks for that limit).
    public let problems: [String: String]

    public var version: Int { layout == .v2 ? 2 : 1 }

    public static func detect() -> CgroupHost {
        let mountinfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        var v1: [String: (root: String, point: String)] = [:]
        var v2: (root: String, point: String)?
        for line in mountinfo.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let a = halves[0].split(separator: " "), b = halves[1].split(separator: " ")
            guard a.count >= 5, b.count >= 3 else { continue }
            let root = String(a[3]), point = String(a[4])
            if b[0] == "cgroup2" { v2 = (root, point) }
            if b[0] == "cgroup" {
                for opt in b[2].split(separator: ",") where opt == "memory" || opt == "cpu" { v1[String(opt)] = (root, point) }
            }
        }
        let own = ((try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? "").split(separator: "\n").map {
            $0.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        }
        func ownPath(_ controller: String) -> String? {
            own.first { $0.count == 3 && $0[1].split(separator: ",").contains(Substring(controller)) }?[2]
        }
        func join(_ m: (root: String, point: String), _ path: String) -> String {
            let rel = m.root != "/" && path.hasPrefix(m.root) ? String(path.dropFirst(m.root.count)) : path
            return m.point + (rel == "/" ? "" : rel)
        }
        var parents: [String: String] = [:]
        var problems: [String: String] = [:]
        if !v1.isEmpty {
            let layout: Layout = v2 != nil ? .hybrid : .v1
            for c in ["memory", "cpu"] {
                guard let m = v1[c], let p = ownPath(c) else { problems[c] = "the host has no cgroup v1 \(c) controller mounted"; continue }
                let dir = join(m, p)
                if access(dir, W_OK) == 0 { parents[c] = dir } else { problems[c] = "\(dir) is not writable by this daemon" }
            }
            return CgroupHost(layout: layout, parents: parents, problems: problems)
        }
        guard let m = v2 else {
            return CgroupHost(layout: .none, parents: [:], problems: ["memory": "the host has no cgroups mounted", "cpu": "the host has no cgroups mounted"])
        }
        let dir = join(m, own.first { $0.count == 3 && $0[0] == "0" }?[2] ?? "/")
        let available = ((try? String(contentsOfFile: dir + "/cgroup.controllers", encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace)
        for c in ["memory", "cpu"] {
            guard available.contains(Substring(c)) else { problems[c] = "the cgroup v2 controller \(c) is not delegated to \(dir)"; continue }
            let enabled = ((try? String(contentsOfFile: dir + "/cgroup.subtree_control", encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace)
            if enabled.contains(Substring(c)) || Self.write("+\(c)", to: dir + "/cgroup.subtree_control") {
                parents[c] = dir
            } else {
                problems[c] = "\(c) cannot be enabled in \(dir)/cgroup.subtree_control (run pfsmount in a cgroup with delegated controllers, e.g. systemd Delegate=yes)"
            }
        }
        return CgroupHost(layout: .v2, parents: parents, problems: problems)
    }

    /// One line per limit in `limits` this host cannot enforce (empty when all can).
    public func unenforceable(_ limits: Resources?) -> [String] {
        var out: [String] = []
        if limits?.memory != nil, parents["memory"] == nil {
            out.append("resource_limits.memory cannot be enforced on this host (cgroups \(layout.rawValue)): \(problems["memory"] ?? "no memory controller")")
        }
        if limits?.cpu != nil, parents["cpu"] == nil {
            out.append("resource_limits.cpu cannot be enforced on this host (cgroups \(layout.rawValue)): \(problems["cpu"] ?? "no cpu controller")")
        }
        return out
    }

    /// Makes the cgroups for one datum with its limits; nil when there is nothing to limit or nothing can be.
    public func makeGroup(memory: Int64?, cpu: Double?) throws -> CgroupGroup? {
        guard memory != nil || cpu != nil else { return nil }
        let name = "pfs-" + UUID().uuidString.prefix(13).lowercased()
        var dirs: [String] = []
        func make(_ parent: String) throws -> String {
            let dir = parent + "/" + name
            if !dirs.contains(dir) {
                guard mkdir(dir, 0o755) == 0 || errno == EEXIST else { throw PFSError.syscall("mkdir", path: dir, errno: errno) }
                dirs.append(dir)
            }
            return dir
        }
        let g = CgroupGroup(version: version, dirs: [])
        var group = g
        do {
            if let memory, let parent = parents["memory"] {
                let dir = try make(parent)
                if version == 2 {
                    try Self.set(String(memory), dir + "/memory.max")
                    _ = Self.write("0", to: dir + "/memory.swap.max")
                } else {
                    try Self.set(String(memory), dir + "/memory.limit_in_bytes")
                    if FileManager.default.fileExists(atPath: dir + "/memory.memsw.limit_in_bytes") {
                        try Self.set(String(memory), dir + "/memory.memsw.limit_in_bytes")
                    }
                }
                group.memoryDir = dir
            }
            if let cpu, let parent = parents["cpu"] {
                let dir = try make(parent)
                let quota = max(1000, Int(cpu * 100_000))
                if version == 2 {
                    try Self.set("\(quota) 100000", dir + "/cpu.max")
                } else {
                    try Self.set("100000", dir + "/cpu.cfs_period_us")
                    try Self.set(String(quota), dir + "/cpu.cfs_quota_us")
                }
            }
        } catch {
            for d in dirs { rmdir(d) }
            throw error
        }
        group.dirs = dirs
        return dirs.isEmpty ? nil : group
    }

    /// The command prefix that joins the datum's cgroups and, on a hybrid host, hides the empty cgroup2 mount
    /// crun refuses to run beside (in a mount namespace of the wrapper's own), then execs the runtime.
    public func wrapper(group: CgroupGroup?) -> [String] {
        var steps: [String] = []
        if let group { steps.append(group.joinScript) }
        if layout == .hybrid { steps.append("{ umount /sys/fs/cgroup/unified 2>/dev/null || true; }") }
        guard !steps.isEmpty else { return [] }
        let script = steps.joined(separator: " && ") + " && exec \"$@\""
        if layout == .hybrid { return ["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script, "sh"] }
        return ["/bin/sh", "-c", script, "sh"]
    }

    static func set(_ value: String, _ file: String) throws {
        guard write(value, to: file) else { throw PFSError.syscall("write", path: file, errno: errno) }
    }

    @discardableResult
    static func write(_ value: String, to file: String) -> Bool {
        let fd = open(file, O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return value.withCString { Glibc.write(fd, $0, strlen($0)) } >= 0
    }
}

/// The cgroups of one datum.
public struct CgroupGroup: Sendable {
    public let version: Int
    public var dirs: [String]
    var memoryDir: String?

    init(version: Int, dirs: [String]) { self.version = version; self.dirs = dirs }

    /// Shell commands that move the shell running them into every group.
    public var joinScript: String { dirs.map { "echo $$ > '\($0)/cgroup.procs'" }.joined(separator: " && ") }

    /// A command prefix that joins the groups and then execs the rest (where no mount namespace is needed).
    public var joinPrefix: [String] { ["/bin/sh", "-c", joinScript + " && exec \"$@\"", "sh"] }

    /// Did the kernel kill a process of this group for exceeding its memory limit?
    public func oomKilled() -> Bool {
        guard let dir = memoryDir else { return false }
        let file = dir + (version == 2 ? "/memory.events" : "/memory.oom_control")
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, f[0] == "oom_kill", let n = Int(f[1]), n > 0 { return true }
        }
        return false
    }

    /// SIGKILLs every process in the groups (a timed-out datum and whatever it started).
    public func killAll() {
        for d in dirs {
            for pid in ((try? String(contentsOfFile: d + "/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n") {
                if let p = Int32(pid) { kill(p, SIGKILL) }
            }
        }
    }

    /// Removes the groups (killing leftovers first).
    public func remove() {
        for d in dirs {
            for _ in 0..<50 {
                if rmdir(d) == 0 || errno == ENOENT { break }
                killAll()
                usleep(20_000)
            }
        }
    }
}

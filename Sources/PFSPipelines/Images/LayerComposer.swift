import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// Builds an image's root filesystem from its unpacked layers, lowest first, applying OCI whiteouts
/// (`.wh.NAME` removes NAME from the layers below, `.wh..wh..opq` empties the directory below). Files are hard
/// links into the shared layer cache (no data copied). Only real directories are ever descended into, so a
/// symlink a layer left behind is never followed on the host.
enum LayerComposer {
    static let opaque = ".wh..wh..opq"

    static func compose(layers: [String], into root: String) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for layer in layers { try apply(layer, root) }
        // Mount points the runners bind over (they must exist in a read-only root).
        for d in ["pfs", "tmp", "proc", "dev", "sys"] {
            var st = stat()
            if lstat(root + "/" + d, &st) != 0 { mkdir(root + "/" + d, 0o755) }
        }
    }

    private static func apply(_ src: String, _ dst: String) throws {
        let fm = FileManager.default
        let names = try fm.contentsOfDirectory(atPath: src)
        if names.contains(opaque) {
            for n in try fm.contentsOfDirectory(atPath: dst) { try fm.removeItem(atPath: dst + "/" + n) }
        }
        for n in names where n.hasPrefix(".wh.") && n != opaque {
            let victim = dst + "/" + String(n.dropFirst(4))
            var st = stat()
            if lstat(victim, &st) == 0 { try fm.removeItem(atPath: victim) }
        }
        for n in names where !n.hasPrefix(".wh.") {
            let s = src + "/" + n, d = dst + "/" + n
            var ss = stat(), ds = stat()
            guard lstat(s, &ss) == 0 else { throw PFSError.syscall("lstat", path: s, errno: errno) }
            let exists = lstat(d, &ds) == 0
            if ss.st_mode & S_IFMT == S_IFDIR {
                if exists && ds.st_mode & S_IFMT != S_IFDIR { try fm.removeItem(atPath: d) }
                if !exists || ds.st_mode & S_IFMT != S_IFDIR {
                    guard mkdir(d, 0o755) == 0 else { throw PFSError.syscall("mkdir", path: d, errno: errno) }
                }
                _ = chown(d, ss.st_uid, ss.st_gid)
                _ = chmod(d, ss.st_mode & 0o7777)
                try apply(s, d)
            } else {
                if exists { try fm.removeItem(atPath: d) }
                // link(2) does not follow a symlink: the link itself is shared.
                guard link(s, d) == 0 else { throw PFSError.syscall("link", path: d, errno: errno) }
            }
        }
    }
}

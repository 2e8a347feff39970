import Foundation

/// The daemon's socket path and where that choice came from (said in "cannot reach the daemon" errors).
public struct SocketLocation: Sendable, Equatable {
    public enum Origin: String, Sendable, Equatable {
        case socketFlag = "--socket"
        case dataDirFlag = "--data-dir"
        case socketEnvironment = "$PFS_SOCKET"
        case dataDirEnvironment = "$PFS_DATA_DIR"
        case defaultLocation = "the default data directory ~/.pfs"
    }

    public var path: String
    public var origin: Origin

    public init(path: String, origin: Origin) {
        self.path = path
        self.origin = origin
    }

    /// The socket inside a data directory, as the daemon creates it.
    public static let socketName = "pfs.sock"

    /// The longest path `connect(2)` takes for a Unix socket on Linux (`sun_path` is 108 bytes with the NUL).
    public static let maxPathBytes = 107

    /// Flags beat the environment, and a socket named directly beats a data directory:
    /// `--socket`, `--data-dir`, `$PFS_SOCKET`, `$PFS_DATA_DIR`, then `~/.pfs/pfs.sock`.
    public static func resolve(socketFlag: String?, dataDirFlag: String?, environment: [String: String]) -> SocketLocation {
        let home = homeDirectory(environment: environment)
        if let s = nonEmpty(socketFlag) {
            return SocketLocation(path: expandTilde(s, home: home), origin: .socketFlag)
        }
        if let d = nonEmpty(dataDirFlag) {
            return SocketLocation(path: join(expandTilde(d, home: home), socketName), origin: .dataDirFlag)
        }
        if let s = nonEmpty(environment["PFS_SOCKET"]) {
            return SocketLocation(path: expandTilde(s, home: home), origin: .socketEnvironment)
        }
        if let d = nonEmpty(environment["PFS_DATA_DIR"]) {
            return SocketLocation(path: join(expandTilde(d, home: home), socketName), origin: .dataDirEnvironment)
        }
        return SocketLocation(path: join(join(home, ".pfs"), socketName), origin: .defaultLocation)
    }

    static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    /// `~/x` written as `--data-dir=~/x` reaches us unexpanded; expand it as the shell would have.
    static func expandTilde(_ path: String, home: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return join(home, String(path.dropFirst(2))) }
        return path
    }

    static func homeDirectory(environment: [String: String]) -> String {
        if let h = nonEmpty(environment["HOME"]) { return h }
        return FileManager.default.homeDirectoryForCurrentUser.path
    }
}

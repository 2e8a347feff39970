import ArgumentParser

/// Where to find the daemon. Shared by every command that talks to it (`@OptionGroup`).
public struct ConnectionOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(name: .customLong("data-dir"),
            help: ArgumentHelp("The daemon's data directory; its socket is <dir>/pfs.sock (default: $PFS_DATA_DIR, else ~/.pfs).",
                               valueName: "dir"))
    public var dataDir: String?

    @Option(name: .customLong("socket"),
            help: ArgumentHelp("The daemon's Unix socket, overriding --data-dir (default: $PFS_SOCKET).",
                               valueName: "path"))
    public var socket: String?

    /// Resolves the socket path from these flags, the environment and the home directory.
    public func location(environment: [String: String]) -> SocketLocation {
        SocketLocation.resolve(socketFlag: socket, dataDirFlag: dataDir, environment: environment)
    }
}

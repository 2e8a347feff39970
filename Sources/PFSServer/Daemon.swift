import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PFSCore
import PFSPipelines
import ServiceLifecycle

/// Everything `pfsmount` needs to run: where the data lives and where to listen.
public struct DaemonConfiguration: Sendable {
    public var dataDir: URL
    public var socketPath: String
    public var workerThreads: Int
    /// Where the filesystem is mounted (nil: API only).
    public var mountpoint: String?

    public init(dataDir: URL, socketPath: String? = nil, workerThreads: Int = 8, mountpoint: String? = nil) {
        self.dataDir = dataDir
        self.mountpoint = mountpoint
        self.socketPath = socketPath ?? dataDir.appendingPathComponent("pfs.sock").path
        self.workerThreads = workerThreads
    }

    /// `--data-dir`, else `$PFS_DATA_DIR`, else `~/.pfs`.
    public static func defaultDataDir(_ explicit: String?) -> URL {
        if let explicit, !explicit.isEmpty { return URL(fileURLWithPath: explicit) }
        if let env = ProcessInfo.processInfo.environment["PFS_DATA_DIR"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".pfs")
    }
}

/// The daemon: owns the store (one daemon per data directory, enforced by a lock file) and serves the API.
/// SIGTERM/SIGINT stop it gracefully; open commits stay open (their staged changes are already durable)
/// and are restored on the next start.
public final class Daemon: Sendable {
    public let config: DaemonConfiguration
    public let store: Store
    let logger: Logger
    let lockFD: Int32

    public init(config: DaemonConfiguration, logger: Logger) throws {
        self.config = config
        self.logger = logger
        umask(0o077)  // the data directory, the socket and every object are private to the daemon's user
        try Store.makeDataDirectory(config.dataDir)
        lockFD = try Self.lock(config.dataDir.appendingPathComponent("daemon.lock").path)
        store = try Store(dataDir: config.dataDir, logger: logger)
    }

    deinit { close(lockFD) }

    static func lock(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PFSError.syscall("open", path: path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw PFSError.precondition("another pfsmount is already running with data directory \(URL(fileURLWithPath: path).deletingLastPathComponent().path); stop it first (`pfs unmount` or kill its process), or pass a different --data-dir")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        return fd
    }

    /// Serves until SIGTERM/SIGINT (or until `extraServices` end). `onReady` runs once the socket listens.
    public func run(extraServices: [any Service] = [], pipelines: PipelineManager? = nil,
                    onReady: (@Sendable () -> Void)? = nil) async throws {
        let socket = config.socketPath
        guard socket.utf8.count < 104 else {
            throw PFSError.invalid("socket path \(socket) is too long for a Unix socket (limit 103 bytes); pass a shorter --socket or --data-dir")
        }
        // Safe: we hold the data directory's lock, so a socket file left here belongs to a dead daemon.
        unlink(socket)
        let pool = NIOThreadPool(numberOfThreads: config.workerThreads)
        pool.start()
        let control = DaemonControl(mountpoint: config.mountpoint)
        let api = APIServer(store: store, pool: pool, logger: logger, control: control, pipelines: pipelines)
        let logger = self.logger
        let app = Application(
            router: api.makeRouter(),
            configuration: .init(address: .unixDomainSocket(path: socket), serverName: "pfsmount"),
            onServerRunning: { _ in
                chmod(socket, 0o600)
                logger.info("pfsmount serving", metadata: ["socket": "\(socket)"])
                onReady?()
            },
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: app)] + extraServices.map {
                // When the mount goes away (fusermount3 -u, umount), the daemon stops too.
                .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
            }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        control.setShutdown { Task { await group.triggerGracefulShutdown() } }
        do {
            try await group.run()
        } catch {
            try? await pool.shutdownGracefully()
            unlink(socket)
            throw error
        }
        try? await pool.shutdownGracefully()
        unlink(socket)
        logger.info("pfsmount stopped")
    }
}

import ArgumentParser
import Foundation
import Logging
import PFSCore
import PFSServer

@main
struct PFSMountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pfsmount",
        abstract: "The pfs daemon: keeps the store and serves the API (and, with the mount, the filesystem).",
        discussion: """
            Examples:
              pfsmount --no-mount                       # serve the API on ~/.pfs/pfs.sock
              pfsmount --no-mount --data-dir /srv/pfs   # another data directory
            The CLI finds the daemon through the same --data-dir / PFS_DATA_DIR (or --socket / PFS_SOCKET).
            SIGTERM or SIGINT stop it gracefully; open commits stay open and are restored on the next start.
            """,
        version: PFSVersion.version)

    @Argument(help: "Where to mount the filesystem (default ~/pfs).")
    var mountpoint: String?

    @Flag(name: .customLong("no-mount"), help: "Serve the API without mounting the filesystem.")
    var noMount = false

    @Option(name: .customLong("data-dir"), help: "The data directory (default $PFS_DATA_DIR or ~/.pfs).")
    var dataDir: String?

    @Option(help: "The API socket (default <data-dir>/pfs.sock).")
    var socket: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Flag(help: "Print a line 'ready' on stdout once the API is being served (for scripts and tests).")
    var announce = false

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level \(logLevel); use trace, debug, info, notice, warning, error or critical")
        }
        if !noMount {
            throw ValidationError("this build of pfsmount cannot mount a filesystem yet; run `pfsmount --no-mount` to serve the API")
        }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "pfsmount")
        let config = DaemonConfiguration(dataDir: DaemonConfiguration.defaultDataDir(dataDir), socketPath: socket)
        do {
            let daemon = try Daemon(config: config, logger: logger)
            let announce = self.announce
            try await daemon.run(onReady: {
                if announce {
                    FileHandle.standardOutput.write(Data("ready\n".utf8))
                }
            })
        } catch let e as PFSError {
            FileHandle.standardError.write(Data("pfsmount: \(e.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

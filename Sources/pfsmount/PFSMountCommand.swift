import ArgumentParser
import Foundation
import Logging
import PFSCore
import PFSFuse
import PFSPipelines
import PFSServer
import ServiceLifecycle
import Synchronization

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

    @Option(name: .customLong("commit-settle"), help: "Milliseconds a branch must be quiet before its open commit finishes.")
    var commitSettle: Int = 500

    @Flag(name: .customLong("allow-other"), help: "Let other users use the mount (file modes are enforced).")
    var allowOther = false

    @Option(name: .shortAndLong, parsing: .singleValue,
            help: "Mount options as mount(8) passes them: data_dir=DIR, allow_other, commit_settle=MS, socket=PATH.")
    var o: [String] = []

    @Flag(name: .customLong("no-mount"), help: "Serve the API without mounting the filesystem.")
    var noMount = false

    @Option(name: .customLong("data-dir"), help: "The data directory (default $PFS_DATA_DIR or ~/.pfs).")
    var dataDir: String?

    @Option(help: "The API socket (default <data-dir>/pfs.sock).")
    var socket: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Flag(name: .customLong("no-pipelines"), help: "Do not run pipelines (no scheduler, no worker views).")
    var noPipelines = false

    @Option(help: "The container runner for non-host images when a spec does not name one (transform.runner): oci (crun, images from `pfs image import`; the default), podman (images from podman's store), docker (a Docker engine's store, through the docker CLI and DOCKER_HOST) or none (host images only).")
    var runner: String = "oci"

    @Flag(help: "Print a line 'ready' on stdout once the API is being served (for scripts and tests).")
    var announce = false

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level \(logLevel); use trace, debug, info, notice, warning, error or critical")
        }
        var dataDir = self.dataDir, socket = self.socket, settle = commitSettle, allowOther = self.allowOther
        for opt in o.flatMap({ $0.split(separator: ",").map(String.init) }) {
            let kv = opt.split(separator: "=", maxSplits: 1).map(String.init)
            switch kv[0] {
            case "data_dir": dataDir = kv.count > 1 ? kv[1] : nil
            case "socket": socket = kv.count > 1 ? kv[1] : nil
            case "commit_settle":
                guard kv.count > 1, let ms = Int(kv[1]) else { throw ValidationError("commit_settle needs milliseconds, e.g. commit_settle=500") }
                settle = ms
            case "allow_other": allowOther = true
            case "rw", "defaults", "nodev", "nosuid", "noauto", "user", "users", "_netdev", "noatime", "relatime", "auto", "exec", "noexec":
                break  // mount(8)/fstab options that need nothing from us
            default:
                throw ValidationError("unknown mount option \(kv[0]); known: data_dir=DIR, socket=PATH, commit_settle=MS, allow_other")
            }
        }
        guard settle >= 0 else { throw ValidationError("--commit-settle must be 0 or more milliseconds") }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "pfsmount")
        let mountAt: String? = noMount ? nil : (mountpoint.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent("pfs").path)
        let config = DaemonConfiguration(dataDir: DaemonConfiguration.defaultDataDir(dataDir), socketPath: socket,
                                         mountpoint: mountAt)
        do {
            let daemon = try Daemon(config: config, logger: logger)
            let announce = self.announce
            // "ready" once the API serves and, when mounting, the filesystem is mounted.
            let store = try ImageStore(root: config.dataDir.appendingPathComponent("images"))
            let images = try ImageRegistry(file: config.dataDir.appendingPathComponent("images.json"), store: store)
            let host = BubblewrapRunner(images: images)
            // Every engine is at hand for specs that name theirs (transform.runner); --runner picks the default.
            let defaultEngine: RunnerKind?
            switch self.runner {
            case "none": defaultEngine = nil
            default:
                guard let kind = RunnerKind(spelling: self.runner), kind != .host else {
                    throw ValidationError("unknown --runner \(self.runner); use oci (crun), podman, docker or none")
                }
                defaultEngine = kind
            }
            let engines: [RunnerKind: any Runner] = defaultEngine == nil ? [:] : [
                .oci: OCIRunner(images: images),
                .podman: PodmanRunner(warmDir: config.dataDir.appendingPathComponent("run/warm").path),
                .docker: DockerRunner(),
            ]
            let runner = DispatchRunner(host: host, engines: engines, defaultEngine: defaultEngine, images: images)
            let pipelinesOn = !noPipelines && (try? host.validate(image: nil)) != nil
                && access("/dev/fuse", R_OK | W_OK) == 0
            if !noPipelines && !pipelinesOn {
                logger.warning("pipelines are off: they need bubblewrap (apt-get install bubblewrap) and /dev/fuse")
            }
            let pending = Mutex(1 + (mountAt == nil ? 0 : 1) + (pipelinesOn ? 1 : 0))
            let ready: @Sendable () -> Void = {
                let left = pending.withLock { n -> Int in n -= 1; return n }
                if left == 0 {
                    logger.notice("pfsmount ready", metadata: ["mountpoint": "\(mountAt ?? "(none)")"])
                    if announce { FileHandle.standardOutput.write(Data("ready\n".utf8)) }
                }
            }
            var services: [any Service] = []
            var userFS: PFSFileSystem?
            if let mountAt {
                var fsOptions = PFSFileSystem.Options()
                fsOptions.settle = .milliseconds(settle)
                let fs = try PFSFileSystem(store: daemon.store, options: fsOptions, logger: logger)
                userFS = fs
                var mo = MountOptions(mountpoint: mountAt)
                mo.allowOther = allowOther
                services.append(MountService(fs: fs, options: mo, logger: logger, onMounted: ready))
            }
            var manager: PipelineManager?
            if pipelinesOn {
                var viewOptions = PFSFileSystem.Options()
                viewOptions.viewsOnly = true
                let viewsFS = try PFSFileSystem(store: daemon.store, options: viewOptions, logger: logger)
                let viewsPath = config.dataDir.appendingPathComponent("run/views").path
                var vo = MountOptions(mountpoint: viewsPath)
                vo.recoverCommits = false
                services.append(MountService(fs: viewsFS, options: vo, logger: logger, onMounted: ready))
                let scheduler = try Scheduler(store: daemon.store, views: viewsFS, viewsPath: viewsPath, runner: runner, logger: logger)
                services.append(scheduler)
                manager = PipelineManager(store: daemon.store, runner: runner, logDir: scheduler.logDir, images: images,
                                          control: scheduler.control)
                userFS?.pipelines = manager
            }
            do {
                try await daemon.run(extraServices: services, pipelines: manager, onReady: ready)
            } catch {
                runner.shutdown()
                throw error
            }
            // What the runners keep in the host's mount table (podman's warm directory, the crun spawner's namespace).
            runner.shutdown()
        } catch let e as PFSError {
            FileHandle.standardError.write(Data("pfsmount: \(e.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

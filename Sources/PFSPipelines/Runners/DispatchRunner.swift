import Foundation
import PFSCore

/// The daemon's runner. A spec that names its runner (`transform.runner`) gets that one; otherwise host images
/// (`host`, no image, aliases of host) go to the bubblewrap sandbox and every other image to the container engine
/// chosen with `pfsmount --runner` (crun by default): an imported image for crun, or, for an engine with a store of
/// its own (podman, docker), any image that is not a host image.
public struct DispatchRunner: Runner {
    public let host: BubblewrapRunner
    /// The container runners this daemon can use, by kind; empty with `--runner none`.
    public let engines: [RunnerKind: any Runner]
    /// The engine for images when a spec names no runner; nil: this daemon runs host images only.
    public let defaultEngine: RunnerKind?
    public let images: ImageRegistry

    public init(host: BubblewrapRunner, engines: [RunnerKind: any Runner], defaultEngine: RunnerKind?, images: ImageRegistry) {
        self.host = host; self.engines = engines; self.defaultEngine = defaultEngine; self.images = images
    }

    func pick(_ image: String?, _ kind: RunnerKind?) throws -> any Runner {
        let name = Names.printable(image ?? "")
        if let kind {
            if kind == .host {
                do { try host.checkImage(image) } catch {
                    throw PFSError.invalid("transform.runner is \"host\" (the host sandbox), which runs only image \"host\" (or none, or an alias of host), not \"\(name)\"; leave transform.runner out to run the image in a container, or map it with `pfs image alias \(name) host`")
                }
                return host
            }
            guard let engine = engines[kind] else {
                throw PFSError.precondition("transform.runner is \"\(kind.rawValue)\" but this daemon runs host images only (pfsmount --runner none); restart pfsmount without `--runner none`")
            }
            return engine
        }
        let isHost = (try? host.checkImage(image)) != nil
        if let d = defaultEngine, d != .oci, !isHost, let engine = engines[d] { return engine }
        if images.imported(image) != nil {
            guard let engine = engines[.oci] else {
                throw PFSError.precondition("image \"\(name)\" is an imported image and this daemon has no container runner; restart pfsmount without `--runner none`, or set transform.runner")
            }
            return engine
        }
        if isHost { return host }
        throw PFSError.invalid("image \"\(name)\" is neither imported nor an alias of host; import it with `pfs image import \(name) PATH` (an OCI layout directory, an OCI or docker-save archive, or a rootfs tarball), or, if the commands it runs exist on this machine, map it with `pfs image alias \(name) host`; an image in podman's or a Docker engine's store runs with transform.runner \"podman\" or \"docker\"")
    }

    public func validate(image: String?) throws { try validate(image: image, runner: nil) }

    public func validate(image: String?, runner: RunnerKind?) throws { try pick(image, runner).validate(image: image) }

    public func run(_ w: WorkerInvocation, log: FileHandle) throws -> WorkerResult { try pick(w.image, w.runner).run(w, log: log) }

    public func commandLine(_ w: WorkerInvocation) -> [String]? { (try? pick(w.image, w.runner))?.commandLine(w) }

    public func jobFinished(_ job: String) {
        host.jobFinished(job)
        for e in engines.values { e.jobFinished(job) }
    }

    public func shutdown() {
        host.shutdown()
        for e in engines.values { e.shutdown() }
    }

    public func unenforceable(_ limits: Resources?, image: String?) -> [String] { unenforceable(limits, image: image, runner: nil) }

    public func unenforceable(_ limits: Resources?, image: String?, runner: RunnerKind?) -> [String] {
        (try? pick(image, runner))?.unenforceable(limits, image: image) ?? []
    }
}

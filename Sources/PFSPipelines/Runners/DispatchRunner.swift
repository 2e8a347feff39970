import Foundation
import PFSCore

/// The daemon's runner: host images (`host`, no image, aliases of host) go to the bubblewrap sandbox, imported
/// images to the container engine chosen with `pfsmount --runner` (crun by default). An engine with a store of
/// its own (podman) runs every image that is not a host image.
public struct DispatchRunner: Runner {
    public let host: BubblewrapRunner
    /// Runs imported images; nil: this daemon runs host images only.
    public let engine: (any Runner)?
    public let images: ImageRegistry
    /// The engine resolves images itself (podman's store) rather than through `pfs image import`.
    public let engineHasImages: Bool

    public init(host: BubblewrapRunner, engine: (any Runner)?, images: ImageRegistry, engineHasImages: Bool = false) {
        self.host = host; self.engine = engine; self.images = images; self.engineHasImages = engineHasImages
    }

    func pick(_ image: String?) throws -> any Runner {
        if engineHasImages, let engine, (try? host.checkImage(image)) == nil { return engine }
        if images.imported(image) != nil {
            guard let engine else {
                throw PFSError.precondition("image \"\(Names.printable(image ?? ""))\" is an imported image and this daemon has no container runner; restart pfsmount with `--runner oci` (needs crun) or `--runner podman`")
            }
            return engine
        }
        if (try? host.checkImage(image)) != nil { return host }
        let name = Names.printable(image ?? "")
        throw PFSError.invalid("image \"\(name)\" is neither imported nor an alias of host; import it with `pfs image import \(name) PATH` (an OCI layout directory, an OCI or docker-save archive, or a rootfs tarball), or, if the commands it runs exist on this machine, map it with `pfs image alias \(name) host`")
    }

    public func validate(image: String?) throws { try pick(image).validate(image: image) }

    public func run(_ w: WorkerInvocation, log: FileHandle) throws -> WorkerResult { try pick(w.image).run(w, log: log) }

    public func commandLine(_ w: WorkerInvocation) -> [String]? { (try? pick(w.image))?.commandLine(w) }

    public func jobFinished(_ job: String) {
        host.jobFinished(job)
        engine?.jobFinished(job)
    }

    public func unenforceable(_ limits: Resources?, image: String?) -> [String] {
        (try? pick(image))?.unenforceable(limits, image: image) ?? []
    }
}

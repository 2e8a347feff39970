import Foundation
import PFSCore

extension PipelineManager {
    /// `pfs image list`: the built-in images and the aliases.
    public func listImages() throws -> [ImageInfo] { try requireImages().list() }

    /// `pfs image alias NAME TARGET`.
    public func aliasImage(_ name: String, to target: String) throws -> ImageInfo {
        try requireImages().alias(name, to: target)
    }

    /// `pfs image unalias NAME`: refused while a pipeline's transform names the alias.
    public func removeImageAlias(_ name: String) throws {
        let images = try requireImages()
        let users = try store.pipelineRows().filter { row in
            (try? PipelineCodec.decode(row.spec))?.transform.image == name
        }.map(\.name)
        guard users.isEmpty else {
            throw PFSError.precondition("image alias \"\(Names.printable(name))\" is used by pipeline\(users.count == 1 ? "" : "s") \(users.map { "\"\($0)\"" }.joined(separator: ", ")); delete or update \(users.count == 1 ? "it" : "them") first")
        }
        try images.removeAlias(name)
    }

    private func requireImages() throws -> ImageRegistry {
        guard let images else {
            throw PFSError(.unavailable, "this daemon's runner has no image registry")
        }
        return images
    }
}

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

    /// `pfs image import NAME PATH` (PATH on the daemon's machine).
    public func importImage(_ name: String, path: String) throws -> ImportedImage {
        guard path.hasPrefix("/") else { throw PFSError.invalid("the image path must be absolute (the daemon reads it): \(path)") }
        return try requireStore().importImage(name: name, path: path)
    }

    /// `pfs image inspect NAME`: an imported image, by its name or an alias of it.
    public func inspectImage(_ name: String) throws -> ImportedImage {
        let images = try requireImages()
        guard let found = images.imported(name) else {
            throw PFSError.notFound("no imported image \"\(Names.printable(name))\"; list images with `pfs image list`, import one with `pfs image import \(Names.printable(name)) PATH`")
        }
        return found
    }

    /// `pfs image delete NAME`: refused while a pipeline's transform names it (directly).
    public func deleteImage(_ name: String) throws {
        let store = try requireStore()
        let ref = ImageStore.reference(name)
        let users = try store.pipelineUsers(ref, pipelines: self.store)
        guard users.isEmpty else {
            throw PFSError.precondition("image \"\(Names.printable(ref))\" is used by pipeline\(users.count == 1 ? "" : "s") \(users.map { "\"\($0)\"" }.joined(separator: ", ")); delete or update \(users.count == 1 ? "it" : "them") first")
        }
        try store.delete(name)
    }

    private func requireStore() throws -> ImageStore {
        guard let s = try requireImages().store else { throw PFSError(.unavailable, "this daemon has no image store") }
        return s
    }

    private func requireImages() throws -> ImageRegistry {
        guard let images else {
            throw PFSError(.unavailable, "this daemon's runner has no image registry")
        }
        return images
    }
}

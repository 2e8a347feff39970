import Crypto
import Foundation
import PFSCore
import Synchronization

/// Images imported with `pfs image import`, under `<data-dir>/images/`:
/// `blobs/sha256/<hex>` (layers and configs as imported, each stored once, its sha256 verified),
/// `layers/<hex>/` (each layer unpacked once, shared by every image that has it),
/// `rootfs/<image-id>/` (the layers composed, files hard-linked from `layers/`), and `index.json` (name → image).
public final class ImageStore: Sendable {
    public let root: URL
    private let images: Mutex<[String: ImportedImage]>
    /// Imports and deletes one at a time (they share blobs and layers).
    private let writer = Mutex(())

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var loaded: [String: ImportedImage] = [:]
        if let data = try? Data(contentsOf: root.appendingPathComponent("index.json")) {
            do { loaded = try PFSJSON.decoder().decode([String: ImportedImage].self, from: data) } catch {
                throw PFSError.corrupt("\(root.path)/index.json cannot be read (\(error)); fix it, or remove it and import the images again")
            }
        }
        images = Mutex(loaded)
    }

    /// `busybox` → `busybox:latest`; `a/b:1` and `x@sha256:…` unchanged.
    public static func reference(_ name: String) -> String {
        if name.contains("@") { return name }
        let last = name.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        return last.contains(":") ? name : name + ":latest"
    }

    public func lookup(_ name: String) -> ImportedImage? {
        images.withLock { $0[Self.reference(name)] }
    }

    public func list() -> [ImportedImage] { images.withLock { Array($0.values) }.sorted { $0.name < $1.name } }

    /// The composed root filesystem of an imported image.
    public func rootfs(_ image: ImportedImage) -> String { root.appendingPathComponent("rootfs/\(image.id)").path }

    /// Imports the image at `path` (an OCI layout directory, an OCI or `docker save` archive, or a rootfs tarball)
    /// under `name`, replacing an image of that name.
    @discardableResult
    public func importImage(name: String, path: String) throws -> ImportedImage {
        try ImageRegistry.validateName(name)
        let ref = Self.reference(name)
        return try writer.withLock { _ in
            let work = root.appendingPathComponent("tmp/\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: work) }
            let source = try ImageSource.open(path, tag: String(ref.split(separator: ":").last ?? "latest"), work: work)
            var layers: [String] = [], diffIds: [String] = []
            var size: Int64 = 0
            for (i, layer) in source.layers.enumerated() {
                let (hex, n) = try storeBlob(layer.path, expected: layer.digest, what: "layer \(i + 1)")
                diffIds.append("sha256:" + (try unpack(hex, work: work)))
                layers.append("sha256:" + hex)
                size += n
            }
            let id: String
            if let config = source.configPath {
                id = try storeBlob(config, expected: source.configDigest, what: "the image config").hex
            } else {
                id = layers.first.map { String($0.dropFirst(7)) } ?? ""
            }
            try compose(id: id, layers: diffIds)
            let image = ImportedImage(name: ref, id: id, layers: layers, diffIds: diffIds, config: source.config, format: source.format,
                                      source: path, created: Date(), size: size)
            try images.withLock { map in
                var next = map
                next[ref] = image
                try save(next)
                map = next
            }
            try collectGarbage()
            return image
        }
    }

    /// Removes an image; its layers go too unless another image has them.
    public func delete(_ name: String) throws {
        let ref = Self.reference(name)
        try writer.withLock { _ in
            try images.withLock { map in
                guard map[ref] != nil else {
                    throw PFSError.notFound("no imported image \"\(Names.printable(ref))\"; list images with `pfs image list`")
                }
                var next = map
                next[ref] = nil
                try save(next)
                map = next
            }
            try collectGarbage()
        }
    }

    // MARK: - Storage

    static func sha256(file path: String) throws -> (hex: String, size: Int64) {
        guard let h = FileHandle(forReadingAtPath: path) else { throw PFSError.notFound("cannot read \(path)") }
        defer { try? h.close() }
        var hasher = SHA256()
        var size: Int64 = 0
        while let d = try h.read(upToCount: 1 << 20), !d.isEmpty { hasher.update(data: d); size += Int64(d.count) }
        return (ObjectHash(digest: hasher.finalize()).hex, size)
    }

    private func storeBlob(_ path: String, expected: String?, what: String) throws -> (hex: String, size: Int64) {
        let (hex, size) = try Self.sha256(file: path)
        if let expected, expected != "sha256:" + hex {
            throw PFSError.corrupt("\(what) is damaged or not what the image says: its digest is sha256:\(hex), the image expects \(expected); the image was not imported")
        }
        let dir = root.appendingPathComponent("blobs/sha256").path
        let dst = dir + "/" + hex
        if !FileManager.default.fileExists(atPath: dst) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let tmp = dir + "/.tmp-" + UUID().uuidString
            try FileManager.default.copyItem(atPath: path, toPath: tmp)
            guard rename(tmp, dst) == 0 else { throw PFSError.syscall("rename", path: dst, errno: errno) }
        }
        return (hex, size)
    }

    /// Unpacks a stored layer blob into `layers/<diff-id>` once: decompressed, checked (LayerArchive),
    /// extracted. Returns the diff id (the uncompressed layer's sha256).
    private func unpack(_ hex: String, work: String) throws -> String {
        let blob = root.appendingPathComponent("blobs/sha256/\(hex)").path
        let tar = try Tool.decompressed(blob, into: work + "/layer-\(hex).tar")
        defer { if tar != blob { try? FileManager.default.removeItem(atPath: tar) } }
        let diffID = tar == blob ? hex : try Self.sha256(file: tar).hex
        let dst = root.appendingPathComponent("layers/\(diffID)").path
        if FileManager.default.fileExists(atPath: dst) { return diffID }
        try LayerArchive.validate(tar, layer: "sha256:" + hex.prefix(12))
        let tmp = root.appendingPathComponent("layers/.tmp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        do {
            try Tool.run(["tar", "--numeric-owner", "-xpf", tar, "-C", tmp], what: "unpacking layer sha256:\(hex.prefix(12))")
            guard rename(tmp, dst) == 0 else { throw PFSError.syscall("rename", path: dst, errno: errno) }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
        return diffID
    }

    private func compose(id: String, layers: [String]) throws {
        let dst = root.appendingPathComponent("rootfs/\(id)").path
        if FileManager.default.fileExists(atPath: dst) { return }
        let tmp = root.appendingPathComponent("rootfs/.tmp-\(UUID().uuidString)").path
        do {
            try LayerComposer.compose(layers: layers.map { root.appendingPathComponent("layers/\($0.dropFirst(7))").path }, into: tmp)
            guard rename(tmp, dst) == 0 else { throw PFSError.syscall("rename", path: dst, errno: errno) }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
    }

    /// Removes blobs, layers and root filesystems no image refers to (and leftovers of interrupted imports).
    private func collectGarbage() throws {
        let all = list()
        let keepBlobs = Set(all.flatMap { $0.layers.map { String($0.dropFirst(7)) } })
        let keepDiffs = Set(all.flatMap { $0.diffIds.map { String($0.dropFirst(7)) } })
        let keepIDs = Set(all.map(\.id))
        let fm = FileManager.default
        for (sub, keep) in [("layers", keepDiffs), ("rootfs", keepIDs), ("blobs/sha256", keepBlobs.union(keepIDs))] {
            let dir = root.appendingPathComponent(sub).path
            for n in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where !keep.contains(n) {
                try? fm.removeItem(atPath: dir + "/" + n)
            }
        }
    }

    private func save(_ map: [String: ImportedImage]) throws {
        try DurableFile.replace(root.appendingPathComponent("index.json"), with: try PFSJSON.encoder(pretty: true).encode(map))
    }
}

extension ImageStore {
    /// Pipelines whose `transform.image` names `ref` (with or without its tag).
    func pipelineUsers(_ ref: String, pipelines store: Store) throws -> [String] {
        try store.pipelineRows().filter { row in
            guard let image = (try? PipelineCodec.decode(row.spec))?.transform.image else { return false }
            return Self.reference(image) == ref
        }.map(\.name)
    }
}

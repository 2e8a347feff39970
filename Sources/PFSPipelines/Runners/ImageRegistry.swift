import Foundation
import PFSCore
import Synchronization

/// One image a pipeline's `transform.image` can name: a built-in one (`host`) or an alias of one.
public struct ImageInfo: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case builtin, alias, imported }
    public var name: String
    public var kind: Kind
    /// What an alias stands for (an image of kind `builtin`); nil for built-in images.
    public var target: String?
    public var created: Date?
    /// Imported images: the image id (config sha256), the format it came in, and the bytes of its layers.
    public var id: String?
    public var format: String?
    public var size: Int64?
    public init(name: String, kind: Kind, target: String? = nil, created: Date? = nil) {
        self.name = name; self.kind = kind; self.target = target; self.created = created
    }

    init(_ image: ImportedImage) {
        self.init(name: image.name, kind: .imported, created: image.created)
        id = image.id; format = image.format; size = image.size
    }
}

/// The daemon's images: `host` (the host's root, read-only, in the bubblewrap sandbox) and aliases that map a
/// container image name to it (`pfs image alias fruit_stand host`), so a spec written for Docker runs unchanged
/// when its commands exist on the host. Persisted in `<data-dir>/images.json`; runners resolve through it.
public final class ImageRegistry: Sendable {
    /// Images every daemon has. An empty `transform.image` means `host`.
    public static let builtin: Set<String> = ["host"]

    public let file: URL
    private struct Alias: Codable { var target: String; var created: Date }
    private struct Stored: Codable { var aliases: [String: Alias] }
    private let aliases: Mutex<[String: Alias]>
    /// Images imported with `pfs image import` (nil: this daemon has no image store).
    public let store: ImageStore?

    /// Loads `file` if it exists.
    public init(file: URL, store: ImageStore? = nil) throws {
        self.file = file
        self.store = store
        var loaded: [String: Alias] = [:]
        if let data = try? Data(contentsOf: file) {
            do {
                loaded = try PFSJSON.decoder().decode(Stored.self, from: data).aliases
            } catch {
                throw PFSError.corrupt("\(file.path) cannot be read (\(error)); fix or remove it (it only holds image aliases)")
            }
        }
        aliases = Mutex(loaded)
    }

    /// The built-in image `image` runs as: itself if built in, its alias's target, or nil when unknown.
    public func resolve(_ image: String?) -> String? {
        let name = image ?? ""
        if name.isEmpty { return "host" }
        if Self.builtin.contains(name) { return name }
        return aliases.withLock { $0[name]?.target }
    }

    /// The imported image `image` names, itself or through an alias; nil for host images and unknown names.
    public func imported(_ image: String?) -> ImportedImage? {
        guard let store, let name = image, !name.isEmpty, !Self.builtin.contains(name) else { return nil }
        if let target = aliases.withLock({ $0[name]?.target }) { return Self.builtin.contains(target) ? nil : store.lookup(target) }
        return store.lookup(name)
    }

    public func list() -> [ImageInfo] {
        let builtins = Self.builtin.sorted().map { ImageInfo(name: $0, kind: .builtin) }
        let mapped = aliases.withLock { $0 }.sorted { $0.key < $1.key }.map {
            ImageInfo(name: $0.key, kind: .alias, target: $0.value.target, created: $0.value.created)
        }
        return builtins + mapped + (store?.list() ?? []).map(ImageInfo.init)
    }

    /// Makes `name` stand for `target` (replacing an alias of that name).
    @discardableResult
    public func alias(_ name: String, to target: String) throws -> ImageInfo {
        try Self.validateName(name)
        guard !Self.builtin.contains(name) else {
            throw PFSError.invalid("\"\(name)\" is a built-in image and cannot be an alias; choose another name")
        }
        guard Self.builtin.contains(target) || store?.lookup(target) != nil else {
            if aliases.withLock({ $0[target] != nil }) {
                throw PFSError.invalid("\"\(Names.printable(target))\" is itself an alias; alias \"\(name)\" to what it stands for (\(resolve(target) ?? "host"))")
            }
            throw PFSError.invalid("image \"\(Names.printable(target))\" does not exist; an alias can stand for \(Self.builtin.sorted().joined(separator: ", ")) or an image imported with `pfs image import`")
        }
        let entry = Alias(target: Self.builtin.contains(target) ? target : ImageStore.reference(target), created: Date())
        try aliases.withLock { map in
            var next = map
            next[name] = entry
            try save(next)
            map = next
        }
        return ImageInfo(name: name, kind: .alias, target: entry.target, created: entry.created)
    }

    /// Removes an alias.
    public func removeAlias(_ name: String) throws {
        if Self.builtin.contains(name) { throw PFSError.invalid("\"\(name)\" is a built-in image; it cannot be removed") }
        try aliases.withLock { map in
            guard map[name] != nil else {
                throw PFSError.notFound("no image alias \"\(Names.printable(name))\"; list images with `pfs image list`")
            }
            var next = map
            next[name] = nil
            try save(next)
            map = next
        }
    }

    /// Docker image references: `fruit_stand`, `pachyderm/opencv:1.0`, `python:3.11-slim`, `ubuntu@sha256:…`.
    static func validateName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 255,
              name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw PFSError.invalid("invalid image name \"\(Names.printable(name))\": use an image reference such as fruit_stand or pachyderm/opencv:1.0 (printable ASCII, no spaces, at most 255 bytes)")
        }
    }

    /// Written to a temporary file, synced, and renamed over the old one, so a crash leaves one or the other.
    private func save(_ map: [String: Alias]) throws {
        try DurableFile.replace(file, with: try PFSJSON.encoder(pretty: true).encode(Stored(aliases: map)))
    }
}

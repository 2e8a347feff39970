import Foundation

/// The parts of an image's config (OCI `config`, Docker's `ContainerConfig`) a runner honours when a spec leaves
/// the matching transform field out, as Docker does.
public struct ImageRuntimeConfig: Codable, Sendable, Equatable {
    public var entrypoint: [String]?
    public var cmd: [String]?
    /// `KEY=value` strings, in the image's order.
    public var env: [String]?
    public var workingDir: String?
    public var user: String?
    public init(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String]? = nil, workingDir: String? = nil, user: String? = nil) {
        self.entrypoint = entrypoint; self.cmd = cmd; self.env = env; self.workingDir = workingDir; self.user = user
    }

    /// The image's environment as a dictionary (later entries win).
    public var environment: [String: String] {
        var out: [String: String] = [:]
        for kv in env ?? [] {
            guard let eq = kv.firstIndex(of: "=") else { continue }
            out[String(kv[..<eq])] = String(kv[kv.index(after: eq)...])
        }
        return out
    }
}

/// An image imported with `pfs image import`: its layers (stored once by digest) and its config.
public struct ImportedImage: Codable, Sendable, Equatable {
    /// `name:tag` (a name imported without a tag gets `latest`).
    public var name: String
    /// The image id: the config's sha256 (for a rootfs tarball, the tarball's), 64 hex digits.
    public var id: String
    /// Layer blob digests (`sha256:…`, as stored, maybe compressed), lowest first.
    public var layers: [String]
    /// The layers' uncompressed digests (the unpacked layer cache is keyed by these, so a layer shipped
    /// compressed in one image and plain in another is unpacked once).
    public var diffIds: [String]
    public var config: ImageRuntimeConfig
    /// `oci-layout`, `oci-archive`, `docker-archive` or `rootfs`.
    public var format: String
    /// The path it was imported from.
    public var source: String
    public var created: Date
    /// Bytes of the layer blobs as stored.
    public var size: Int64
}

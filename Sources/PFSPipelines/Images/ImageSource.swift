import Foundation
import PFSCore

/// What `pfs image import` found at a path: the layer files (lowest first), the config, and the format.
struct ImageSource {
    struct Layer { var path: String; var digest: String? }
    var format: String
    var layers: [Layer]
    var configPath: String?
    var configDigest: String?
    var config = ImageRuntimeConfig()

    /// An OCI layout directory (`index.json`), a `docker save` directory (`manifest.json`), an archive of either
    /// (unpacked into `work`), or else a plain rootfs tarball.
    static func open(_ path: String, tag: String, work: String) throws -> ImageSource {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw PFSError.notFound("\(path) does not exist; give an OCI layout directory, an OCI or docker-save archive, or a rootfs tarball")
        }
        if isDir.boolValue { return try directory(path, tag: tag, archive: false) }
        let listing = try Tool.run(["tar", "-tf", path], what: "reading \(path)")
        let names = Set(listing.split(separator: "\n").map { $0.hasPrefix("./") ? String($0.dropFirst(2)) : String($0) })
        if names.contains("index.json") || names.contains("manifest.json") {
            let dir = work + "/archive"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            // GNU tar refuses `..` members and defers symlinks that could be followed; only metadata and blobs are here.
            try Tool.run(["tar", "--no-same-owner", "-xf", path, "-C", dir], what: "unpacking \(path)")
            return try directory(dir, tag: tag, archive: true)
        }
        return ImageSource(format: "rootfs", layers: [Layer(path: path, digest: nil)])
    }

    private static func directory(_ dir: String, tag: String, archive: Bool) throws -> ImageSource {
        let fm = FileManager.default
        if fm.fileExists(atPath: dir + "/index.json") {
            var s = try oci(dir, tag: tag)
            if archive { s.format = fm.fileExists(atPath: dir + "/manifest.json") ? "docker-archive" : "oci-archive" }
            return s
        }
        if fm.fileExists(atPath: dir + "/manifest.json") { return try docker(dir, tag: tag) }
        throw PFSError.invalid("\(dir) is neither an OCI image layout (no index.json) nor a docker-save image (no manifest.json)")
    }

    static func json(_ path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PFSError.invalid("\(path) is not a JSON object")
        }
        return obj
    }

    /// A path inside `dir` named by the image (refusing `..`, absolute paths and symlinks that leave `dir`).
    static func inside(_ dir: String, _ rel: String) throws -> String {
        let parts = rel.split(separator: "/")
        guard !rel.hasPrefix("/"), !parts.contains("..") else { throw PFSError.invalid("the image names a file outside itself: \(Names.printable(rel))") }
        let full = dir + "/" + rel
        let real = URL(fileURLWithPath: full).resolvingSymlinksInPath().path
        let base = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        guard real.hasPrefix(base + "/") else { throw PFSError.invalid("the image's \(Names.printable(rel)) points outside it") }
        guard FileManager.default.fileExists(atPath: real) else { throw PFSError.invalid("the image names \(Names.printable(rel)), which it does not contain") }
        return real
    }

    static func blob(_ dir: String, _ digest: String) throws -> String {
        let p = digest.split(separator: ":", maxSplits: 1)
        guard p.count == 2, p[0] == "sha256" else { throw PFSError.invalid("unsupported digest \(Names.printable(digest)) (only sha256)") }
        return try inside(dir, "blobs/sha256/\(p[1])")
    }

    static let indexTypes: Set<String> = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]

    private static func oci(_ dir: String, tag: String) throws -> ImageSource {
        var index = try json(dir + "/index.json")
        var manifest: [String: Any]?
        var tagged = true
        while manifest == nil {
            let list = index["manifests"] as? [[String: Any]] ?? []
            func ref(_ m: [String: Any]) -> String? {
                (m["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"]
            }
            let arch = { () -> String in
                #if arch(arm64)
                return "arm64"
                #else
                return "amd64"
                #endif
            }()
            let chosen = (tagged ? list.first { ref($0) == tag } : nil)
                ?? list.first { ($0["platform"] as? [String: Any])?["architecture"] as? String == arch }
                ?? (list.count == 1 ? list[0] : nil)
            guard let chosen, let digest = chosen["digest"] as? String else {
                let refs = list.compactMap(ref)
                throw PFSError.invalid("\(dir)/index.json has \(list.count) manifests and none for tag \"\(tag)\"\(refs.isEmpty ? "" : " (tags: \(refs.joined(separator: ", ")))"); import it with one of those tags")
            }
            let path = try blob(dir, digest)
            try verify(path, digest)
            let obj = try json(path)
            if indexTypes.contains(chosen["mediaType"] as? String ?? "") || obj["manifests"] != nil {
                index = obj
                tagged = false
            } else {
                manifest = obj
            }
        }
        guard let m = manifest, let cfg = m["config"] as? [String: Any], let cfgDigest = cfg["digest"] as? String,
              let layers = m["layers"] as? [[String: Any]] else {
            throw PFSError.invalid("the image manifest in \(dir) has no config or layers")
        }
        var s = ImageSource(format: "oci-layout", layers: [])
        for l in layers {
            guard let d = l["digest"] as? String else { throw PFSError.invalid("a layer in \(dir)'s manifest has no digest") }
            s.layers.append(Layer(path: try blob(dir, d), digest: d))
        }
        s.configPath = try blob(dir, cfgDigest)
        s.configDigest = cfgDigest
        s.config = try runtimeConfig(s.configPath!)
        return s
    }

    private static func docker(_ dir: String, tag: String) throws -> ImageSource {
        guard let data = FileManager.default.contents(atPath: dir + "/manifest.json"),
              let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]], !list.isEmpty else {
            throw PFSError.invalid("\(dir)/manifest.json is not a docker-save manifest (a JSON array)")
        }
        let chosen = list.first { ($0["RepoTags"] as? [String] ?? []).contains { $0.hasSuffix(":" + tag) } } ?? list[0]
        guard let cfg = chosen["Config"] as? String, let layers = chosen["Layers"] as? [String] else {
            throw PFSError.invalid("\(dir)/manifest.json has no Config or Layers")
        }
        var s = ImageSource(format: "docker-archive", layers: [])
        s.configPath = try inside(dir, cfg)
        let config = try json(s.configPath!)
        // docker save layers are uncompressed: each one's sha256 must be the config's diff_id.
        let diffIds = (config["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
        for (i, l) in layers.enumerated() {
            s.layers.append(Layer(path: try inside(dir, l), digest: i < diffIds.count ? diffIds[i] : nil))
        }
        s.config = try runtimeConfig(s.configPath!)
        return s
    }

    private static func verify(_ path: String, _ digest: String) throws {
        let hex = try ImageStore.sha256(file: path).hex
        guard "sha256:" + hex == digest else {
            throw PFSError.corrupt("\(path) is damaged: its digest is sha256:\(hex), the image expects \(digest); the image was not imported")
        }
    }

    private static func runtimeConfig(_ path: String) throws -> ImageRuntimeConfig {
        let obj = try json(path)
        let c = obj["config"] as? [String: Any] ?? obj["container_config"] as? [String: Any] ?? [:]
        func nonEmpty(_ s: String?) -> String? { (s?.isEmpty ?? true) ? nil : s }
        return ImageRuntimeConfig(entrypoint: c["Entrypoint"] as? [String], cmd: c["Cmd"] as? [String], env: c["Env"] as? [String],
                                  workingDir: nonEmpty(c["WorkingDir"] as? String), user: nonEmpty(c["User"] as? String))
    }
}

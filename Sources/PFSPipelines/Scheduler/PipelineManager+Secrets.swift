import Foundation
import PFSCore

extension PipelineManager {
    /// The daemon's secret store (`<data-dir>/secrets`).
    public var secrets: SecretStore { SecretStore(dataDir: store.dataDir) }

    /// Checked when a pipeline is created or updated: every secret the transform names exists (with the key an
    /// `env_var` reads), and mount paths are usable. Messages name secrets and keys, never values.
    func validateSecrets(_ spec: PipelineSpec) throws {
        let secrets = self.secrets
        var mountPaths: Set<String> = []
        for (i, ref) in spec.transform.secrets.enumerated() {
            let at = "pipeline \"\(spec.name)\" transform.secrets[\(i)]"
            guard secrets.exists(ref.name) else {
                throw PFSError.precondition("\(at) names secret \"\(Names.printable(ref.name))\", which does not exist; create it first with `pfs create secret \(ref.name) -f secret.json` (a Kubernetes Secret file) or `pfs create secret \(ref.name) --from-literal KEY=VALUE`")
            }
            if let mount = ref.mountPath {
                let clean: String
                do { clean = try Names.cleanPath(mount) } catch {
                    throw PFSError.invalid("\(at).mount_path \"\(Names.printable(mount))\" is not a clean absolute path")
                }
                let reserved = ["/pfs", "/proc", "/dev", "/sys"]
                if clean == "/" || reserved.contains(where: { clean == $0 || clean.hasPrefix($0 + "/") }) {
                    throw PFSError.invalid("\(at).mount_path \"\(clean)\" is reserved (/, /pfs, /proc, /dev and /sys belong to the worker's sandbox); choose a path such as /secrets/\(ref.name)")
                }
                guard mountPaths.insert(clean).inserted else {
                    throw PFSError.invalid("\(at).mount_path \"\(clean)\" is used by two secrets; give each its own directory")
                }
            }
            if let env = ref.envVar {
                guard env.first.map({ $0 == "_" || $0.isLetter }) == true,
                      env.unicodeScalars.allSatisfy({ $0.value < 128 && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }) else {
                    throw PFSError.invalid("\(at).env_var \"\(Names.printable(env))\" is not a valid environment variable name (letters, digits and _, not starting with a digit)")
                }
                if let key = ref.key {
                    let keys = try secrets.inspect(ref.name).keys
                    guard keys.contains(key) else {
                        throw PFSError.precondition("\(at): secret \"\(ref.name)\" has no key \"\(Names.printable(key))\" (its keys: \(keys.joined(separator: ", "))); fix the key, or add it with `pfs create secret \(ref.name) --overwrite …`")
                    }
                }
            }
        }
    }

    /// `pfs delete secret`: refused while a pipeline's transform names the secret.
    public func deleteSecret(_ name: String) throws {
        try Self.deleteSecret(name, store: store)
    }

    /// The same, for callers without a pipeline manager (the API of a daemon whose pipelines are off).
    public static func deleteSecret(_ name: String, store: Store) throws {
        let users = try store.pipelineRows().filter { row in
            (try? PipelineCodec.decode(row.spec))?.transform.secrets.contains { $0.name == name } == true
        }.map(\.name)
        guard users.isEmpty else {
            throw PFSError.precondition("secret \"\(Names.printable(name))\" is used by pipeline\(users.count == 1 ? "" : "s") \(users.map { "\"\($0)\"" }.joined(separator: ", ")); delete or update \(users.count == 1 ? "it" : "them") first (to change its values, use `pfs create secret \(name) --overwrite …`)")
        }
        try SecretStore(dataDir: store.dataDir).delete(name)
    }
}

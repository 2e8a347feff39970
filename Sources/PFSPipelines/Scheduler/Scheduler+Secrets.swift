import Foundation
import PFSCore

extension Scheduler {
    /// What a datum's worker gets from `transform.secrets` (and the job's GPUs).
    struct DatumSecrets {
        /// Read-only binds of the materialized secrets at their `mount_path`s.
        var mounts: [WorkerInvocation.Mount] = []
        /// `env_var` → value.
        var env: [String: String] = [:]
        /// The datum's private directory of materialized secrets (removed when the datum ends).
        var dir: URL?

        func apply(to w: inout WorkerInvocation, gpus: GPUAllocation?) {
            w.secretEnv = env
            if let gpus {
                w.devices = gpus.devices
                w.driverFiles = gpus.driverFiles
                w.env["NVIDIA_VISIBLE_DEVICES"] = gpus.indexes.map(String.init).joined(separator: ",")
            }
        }

        func remove() { if let dir { try? FileManager.default.removeItem(at: dir) } }
    }

    /// Reads the secrets a datum needs from the store. Files go to `<data-dir>/run/secrets/<token>/` (the
    /// directory 0700, inside the data directory the worker cannot see), removed when the datum ends; a secret
    /// deleted or missing a key since the pipeline was created fails the datum with its name (never a value).
    func secretsForDatum(_ spec: PipelineSpec, token: String) throws -> DatumSecrets {
        var out = DatumSecrets()
        guard !spec.transform.secrets.isEmpty else { return out }
        let store = SecretStore(dataDir: self.store.dataDir)
        let parent = runDir.appendingPathComponent("secrets")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let dir = parent.appendingPathComponent(token)
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        out.dir = dir
        do {
            for (i, ref) in spec.transform.secrets.enumerated() {
                if let mount = ref.mountPath {
                    let files = dir.appendingPathComponent("\(i)")
                    try store.materialize(ref.name, into: files)
                    out.mounts.append(WorkerInvocation.Mount(source: files.path, target: try Names.cleanPath(mount), readOnly: true))
                } else if let env = ref.envVar, let key = ref.key {
                    out.env[env] = try store.value(ref.name, key: key)
                }
            }
        } catch {
            out.remove()
            throw error
        }
        return out
    }
}

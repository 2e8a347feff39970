#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PFSCore

/// The daemon's secrets: `<data-dir>/secrets/<name>.json`, the directory 0700 and each file 0600, written to a
/// temporary file, synced and renamed (a crash leaves the old secret or the new one). Only the daemon reads the
/// values: to mount them into a datum (`materialize`) or to put one into a worker's environment (`value`).
/// Everything else — the API, the CLI, `inspect pipeline` — sees names and keys only (`SecretInfo`).
public struct SecretStore: Sendable {
    public let directory: URL

    public init(dataDir: URL) { directory = dataDir.appendingPathComponent("secrets") }

    private struct Stored: Codable {
        var name: String
        var created: Date
        var updated: Date
        /// Key → value, base64 (JSON has no bytes).
        var data: [String: String]
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent("\(name).json") }

    /// Stores a secret; an existing one of that name is replaced only with `overwrite`.
    @discardableResult
    public func create(name: String, data: [String: Data], overwrite: Bool) throws -> SecretInfo {
        try SecretFile.validateName(name)
        guard !data.isEmpty else {
            throw PFSError.invalid("secret \"\(name)\" has no keys; give it at least one (-f FILE with data or stringData, or --from-literal KEY=VALUE)")
        }
        for key in data.keys { try SecretFile.validateKey(key, where: "secret \"\(name)\"") }
        let size = data.reduce(0) { $0 + $1.key.utf8.count + $1.value.count }
        guard size <= SecretFile.maxBytes else {
            throw PFSError.invalid("secret \"\(name)\" holds \(size) bytes; a secret may hold at most 1 MiB (keep large files in a repo instead)")
        }
        try ensureDirectory()
        let old = try? read(name)
        if old != nil && !overwrite {
            throw PFSError(.alreadyExists, "secret \"\(name)\" already exists; replace it with `pfs create secret \(name) --overwrite …`, or delete it first with `pfs delete secret \(name)`")
        }
        let now = Date()
        let stored = Stored(name: name, created: old?.created ?? now, updated: now, data: data.mapValues { $0.base64EncodedString() })
        try write(try PFSJSON.encoder().encode(stored), to: file(name))
        return info(stored)
    }

    public func list() throws -> [SecretInfo] {
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }.sorted()
        return try names.map { try info(read($0)) }
    }

    public func inspect(_ name: String) throws -> SecretInfo { try info(read(name)) }

    public func exists(_ name: String) -> Bool {
        (try? SecretFile.validateName(name)) != nil && FileManager.default.fileExists(atPath: file(name).path)
    }

    public func delete(_ name: String) throws {
        _ = try read(name)
        guard unlink(file(name).path) == 0 else { throw PFSError.syscall("unlink", path: file(name).path, errno: errno) }
    }

    /// Every key's value (the daemon only: mounting into a datum).
    func values(_ name: String) throws -> [String: Data] {
        let s = try read(name)
        var out: [String: Data] = [:]
        for (k, v) in s.data {
            guard let d = Data(base64Encoded: v) else { throw PFSError.corrupt("secret \"\(name)\": the stored value of key \"\(k)\" is damaged; create the secret again with --overwrite") }
            out[k] = d
        }
        return out
    }

    /// One key's value, as text for an environment variable.
    func value(_ name: String, key: String) throws -> String {
        let all = try values(name)
        guard let v = all[key] else {
            throw PFSError.notFound("secret \"\(name)\" has no key \"\(key)\" (its keys: \(all.keys.sorted().joined(separator: ", "))); add it with `pfs create secret \(name) --overwrite …`")
        }
        guard let s = String(data: v, encoding: .utf8), !s.contains("\0") else {
            throw PFSError.invalid("secret \"\(name)\" key \"\(key)\" is not text and cannot go into an environment variable; mount the secret with mount_path instead")
        }
        return s
    }

    /// Writes the secret's keys as files (0444) into a new directory `dir` (0755); the caller keeps `dir`
    /// inside a directory only the daemon's user can enter, and removes it when the datum is done.
    func materialize(_ name: String, into dir: URL) throws {
        let all = try values(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        for (k, v) in all {
            let path = dir.appendingPathComponent(k).path
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444)
            guard fd >= 0 else { throw PFSError.syscall("open", path: path, errno: errno) }
            defer { close(fd) }
            try writeAll(fd, v, path: path)
        }
    }

    // MARK: files

    private func read(_ name: String) throws -> Stored {
        try SecretFile.validateName(name)
        guard let data = FileManager.default.contents(atPath: file(name).path) else {
            throw PFSError.notFound("secret \"\(name)\" not found; create it with `pfs create secret \(name) -f secret.json` (or --from-literal KEY=VALUE), list secrets with `pfs list secret`")
        }
        do { return try PFSJSON.decoder().decode(Stored.self, from: data) } catch {
            throw PFSError.corrupt("\(file(name).path) cannot be read; delete it and create the secret again")
        }
    }

    private func info(_ s: Stored) -> SecretInfo {
        SecretInfo(name: s.name, keys: s.data.keys.sorted(), created: s.created, updated: s.updated)
    }

    private func ensureDirectory() throws {
        let path = directory.path
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw PFSError.syscall("mkdir", path: path, errno: errno) }
        // Also tightens a directory someone loosened.
        guard chmod(path, 0o700) == 0 else { throw PFSError.syscall("chmod", path: path, errno: errno) }
    }

    private func write(_ data: Data, to url: URL) throws {
        try DurableFile.replace(url, with: data, mode: 0o600)
    }

    private func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw PFSError.syscall("write", path: path, errno: errno)
                }
                off += n
            }
        }
    }
}

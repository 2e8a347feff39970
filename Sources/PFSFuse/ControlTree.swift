import Foundation
import PFSCore
import PFSPipelines

/// `~/pfs/.pfs/` — pipelines and jobs as files, for people with only a shell:
/// ```
/// .pfs/pipelines/<name>.json|.yaml   the spec as written; write one to create or update, rm to delete
/// .pfs/pipelines/<name>.error        why the last spec written under that name was refused (while it is)
/// .pfs/pipelines/<name>/state        running | paused | failed, with the reason
/// .pfs/jobs/<job-id>/info.json       the jobs of that commit set (one per pipeline): JSON array of JobInfo
/// .pfs/jobs/<job-id>/logs            their logs, datum by datum
/// ```
extension PFSFileSystem {
    enum ControlNode {
        case dir([String])
        case file(() throws -> [UInt8])
        /// A spec file that may be written.
        case spec(name: String, ext: String, exists: Bool)
    }

    static let controlName = ".pfs"

    func controlNode(_ p: [String]) throws -> ControlNode {
        guard let m = pipelines else { throw FSError.notFound }
        switch p.count {
        case 0: return .dir(["jobs", "pipelines"])
        case 1 where p[0] == "pipelines":
            var names: [String] = []
            for info in try m.list() {
                names.append("\(info.name).\(info.spec.sourceFormat == "yaml" ? "yaml" : "json")")
                names.append(info.name)
            }
            names += specErrors.withLock { Array($0.keys) }.map { "\($0).error" }
            return .dir(names.sorted())
        case 1 where p[0] == "jobs":
            return .dir(Array(Set(try m.jobs(pipeline: nil).map(\.id))).sorted())
        case 2 where p[0] == "pipelines":
            let name = p[1]
            if name.hasSuffix(".error") {
                let base = String(name.dropLast(6))
                guard let e = specErrors.withLock({ $0[base] }) else { throw FSError.notFound }
                return .file { Array((e + "\n").utf8) }
            }
            for ext in ["json", "yaml", "yml"] where name.hasSuffix("." + ext) {
                let base = String(name.dropLast(ext.count + 1))
                let exists = (try? m.inspect(base)) != nil
                return .spec(name: base, ext: ext, exists: exists)
            }
            guard (try? m.inspect(name)) != nil else { throw FSError.notFound }
            return .dir(["state"])
        case 3 where p[0] == "pipelines" && p[2] == "state":
            let info = try m.inspect(p[1])
            return .file { Array((info.state + (info.reason.isEmpty ? "" : ": \(info.reason)") + "\n").utf8) }
        case 2 where p[0] == "jobs":
            guard (try? m.job(pipeline: nil, id: p[1])) != nil else { throw FSError.notFound }
            return .dir(["info.json", "logs"])
        case 3 where p[0] == "jobs" && p[2] == "info.json":
            let id = p[1]
            return .file { Array(try PFSJSON.encoder(pretty: true).encode(try m.job(pipeline: nil, id: id).filter { $0.id == id })) + [10] }
        case 3 where p[0] == "jobs" && p[2] == "logs":
            let id = p[1]
            return .file {
                let jobs = try m.job(pipeline: nil, id: id).filter { $0.id == id }
                return Array(try jobs.map { try m.logs(pipeline: $0.pipeline, job: $0.id, datum: nil) }.joined().utf8)
            }
        default:
            throw FSError.notFound
        }
    }

    func controlAttr(_ ino: UInt64, _ p: [String]) throws -> Attr {
        switch try controlNode(p) {
        case .dir: return Attr(ino: ino, mode: FileMode.ifdir | (p.isEmpty || p == ["pipelines"] ? 0o755 : 0o555), size: 4096, mtimeNs: 0, nlink: 2)
        case .file(let gen): return Attr(ino: ino, mode: FileMode.ifreg | 0o444, size: Int64((try? gen())?.count ?? 0), mtimeNs: Store.nowNs(), nlink: 1)
        case .spec(let name, _, let exists):
            let size = exists ? Int64(try specText(name).utf8.count) : 0
            return Attr(ino: ino, mode: FileMode.ifreg | 0o644, size: size, mtimeNs: Store.nowNs(), nlink: 1)
        }
    }

    func specText(_ name: String) throws -> String {
        guard let m = pipelines else { throw FSError.notFound }
        let info = try m.inspect(name)
        if let s = info.spec.sourceText { return s.hasSuffix("\n") ? s : s + "\n" }
        return String(decoding: try PFSJSON.encoder(pretty: true).encode(info.spec), as: UTF8.self) + "\n"
    }

    func controlList(_ p: [String]) throws -> [DirEntry] {
        guard case .dir(let names) = try controlNode(p) else { throw FSError(ENOTDIR) }
        return names.map { DirEntry(name: $0, key: .control(p + [$0]), attr: nil) }
    }

    /// Applies a spec written to `.pfs/pipelines/<name>.<ext>` (on close). A refused spec is explained in
    /// `<name>.error` and close() fails with EINVAL.
    func applySpec(name: String, ext: String, text: String) throws {
        guard let m = pipelines else { throw FSError(EROFS) }
        do {
            let exists = (try? m.inspect(name)) != nil
            let created = try m.create(specText: text, filename: "\(name).\(ext)", update: exists)
            if !created.contains(where: { $0.name == name }) {
                logger.notice("spec written as \(name).\(ext) names other pipelines", metadata: ["pipelines": "\(created.map(\.name))"])
            }
            specErrors.withLock { $0[name] = nil }
        } catch {
            let message = (error as? PFSError)?.message ?? "\(error)"
            specErrors.withLock { $0[name] = message }
            logger.notice("pipeline spec refused", metadata: ["file": "\(name).\(ext)", "error": "\(message)"])
            throw FSError(EINVAL, message)
        }
    }

    func deleteSpec(name: String) throws {
        guard let m = pipelines else { throw FSError(EROFS) }
        do { try m.delete(name, keepRepo: false) } catch { throw FSError(error) }
    }
}

/// A spec being written through the control tree: bytes in memory until close.
final class SpecBuffer: @unchecked Sendable {
    let name: String
    let ext: String
    var data: [UInt8]
    var dirty = false
    init(name: String, ext: String, data: [UInt8]) { self.name = name; self.ext = ext; self.data = data }
}

import Foundation
import PFSCore
import PFSPipelines

extension PFSFileSystem: DatumViewRegistry {
    /// Makes a datum's inputs visible under `<views mount>/<token>/<input>/…` until `removeDatumView`.
    public func registerDatumView(token: String, inputs: [String: DatumInputView]) {
        withDatumViews { $0[token] = inputs }
    }

    public func removeDatumView(token: String) {
        withDatumViews { $0[token] = nil }
        inodes.orphan(.datumRoot(token))
    }

    func datumInput(_ token: String, _ input: String) throws -> DatumInputView {
        guard let v = withDatumViews({ $0[token]?[input] }) else { throw FSError.notFound }
        return v
    }

    func datumInputs(_ token: String) throws -> [String: DatumInputView] {
        guard let v = withDatumViews({ $0[token] }) else { throw FSError.notFound }
        return v
    }

    /// The entry a datum view shows at `path`, or nil when hidden. Ancestors are synthesised directories.
    func datumEntry(_ v: DatumInputView, _ path: [String]) throws -> TreeEntry? {
        switch v.place(path) {
        case .hidden:
            return nil
        case .ancestor:
            return TreeEntry(name: path.last ?? "", kind: .dir, mode: 0o555, size: 0, mtimeNs: 0,
                             hash: ObjectHash(w0: 0, w1: 0, w2: 0, w3: 0))
        case .inside:
            let view = try store.view(repo: v.repo, ref: v.commit)
            guard var e = try view.entry(path) else { return nil }
            if e.kind == .file {
                if v.emptyFiles { e.size = 0 } else if let from = v.only?[path] { e.size = max(0, e.size - from) }
            }
            return e
        }
    }

    func datumList(_ v: DatumInputView, _ path: [String]) throws -> [TreeEntry] {
        switch v.place(path) {
        case .hidden:
            throw FSError.notFound
        case .ancestor:
            return try v.childNames(path).compactMap { try datumEntry(v, path + [$0]) }
        case .inside:
            let view = try store.view(repo: v.repo, ref: v.commit)
            return try view.list(path).compactMap { try datumEntry(v, path + [$0.name]) }
        }
    }

    /// The content a datum view serves for a file: the whole file, its tail (1.x DIFF), or nothing (empty_files).
    func datumContent(_ v: DatumInputView, _ path: [String]) throws -> (FileContent, Int64) {
        let view = try store.view(repo: v.repo, ref: v.commit)
        guard let e = try view.entry(path), e.kind == .file else { throw FSError(EISDIR) }
        if v.emptyFiles { return (FileContent(chunks: [], size: 0), 0) }
        return (try store.trees.content(of: e), v.only?[path] ?? 0)
    }
}

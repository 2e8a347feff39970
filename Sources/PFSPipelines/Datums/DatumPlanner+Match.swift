import Foundation
import PFSCore

// A pfs input's datums: the paths of its commit that its glob matches.
extension DatumPlanner.Builder {
    /// Every path of `view` the glob of `p` matches (files, symlinks and directories; a directory brings its
    /// whole subtree), in walk order. A directory with no file anywhere below it is not a datum (Pachyderm has
    /// no empty directories), nor is the root of an empty commit.
    static func match(_ p: PFSInput, leaf: Int, view: CommitView) throws -> [DatumPlanner.Piece] {
        guard view.commit != nil else { return [] }
        let glob: CaptureGlob
        do {
            glob = try CaptureGlob(p.glob)
        } catch let e as PFSError {
            throw PFSError(e.code, "input \"\(p.name)\": \(e.message)", cause: e)
        }
        let keyed = p.joinOn != nil || p.groupBy != nil

        func piece(_ comps: [String], _ e: TreeEntry) throws -> DatumPlanner.Piece {
            let path = "/" + comps.joined(separator: "/")
            var joinOn: String?, groupBy: String?
            if keyed {
                let caps = glob.captures(comps) ?? []
                joinOn = p.joinOn.map { CaptureGlob.expand($0, captures: caps, whole: path) }
                groupBy = p.groupBy.map { CaptureGlob.expand($0, captures: caps, whole: path) }
            }
            return DatumPlanner.Piece(leaf: leaf, path: path, hash: try ContentDigest.of(view, comps, e).hex,
                                      joinOn: joinOn, groupBy: groupBy)
        }

        if glob.isRoot {
            guard let root = try view.entry([]), try hasFile(view, [], root) else { return [] }
            return [try piece([], root)]
        }
        var out: [DatumPlanner.Piece] = []
        try view.walk([]) { comps, e in
            if glob.matches(comps), try hasFile(view, comps, e) { out.append(try piece(comps, e)) }
            // Only descend where the glob can still match: `/*` never opens a directory.
            return glob.mayMatchBelow(comps)
        }
        return out
    }

    /// Whether `e` is a file or symlink, or a directory with one somewhere below it. A directory's size is the
    /// bytes of its files, so only a directory of empty files (or of directories) is listed.
    static func hasFile(_ view: CommitView, _ comps: [String], _ e: TreeEntry) throws -> Bool {
        guard e.kind == .dir else { return true }
        if e.size > 0 { return true }
        for child in try view.list(comps) where try hasFile(view, comps + [child.name], child) { return true }
        return false
    }
}

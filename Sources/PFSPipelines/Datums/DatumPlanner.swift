import Foundation
import PFSCore

/// Turns a pipeline's input tree and the input commits into datums (see docs/datums.md).
///
/// Pure: it reads the commits through their views and does nothing else. The rules follow Pachyderm 2.x:
/// a pfs input gives one datum per path its glob matches; `cross` is the cartesian product of its inputs'
/// datums, `union` their concatenation; `join` and `group` take the datums of their inputs apart into paths
/// and put the paths back together by key (`join_on` / `group_by`, built from the glob's capture groups).
public enum DatumPlanner {
    /// The key of the view of `repo@branch` in `plan`'s `views` (input names cannot contain `@`).
    public static func viewKey(repo: String, branch: String) -> String { "\(repo)@\(branch)" }

    /// The datums of `input` for the given input commits (one `CommitView` per pfs input name, and per cron
    /// input name), sorted by id. Each datum id appears once.
    ///
    /// A view may also be keyed by `viewKey(repo:branch:)`, which wins over the name: the inputs of a union may
    /// share a name (`/pfs/<name>`) while reading different repos.
    public static func plan(_ input: Input, views: [String: CommitView], salt: String) throws -> [Datum] {
        var builder = Builder(views: views)
        let tree = try builder.datums(of: input)
        var seen = Set<String>()
        seen.reserveCapacity(tree.partials.count)
        var out: [Datum] = []
        out.reserveCapacity(tree.partials.count)
        for p in tree.partials {
            let d = builder.assemble(p, salt: salt)
            // A union may reach the same datum twice (as Pachyderm's union merges equal datums, keep one).
            if seen.insert(d.id).inserted { out.append(d) }
        }
        out.sort { $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        return out
    }
}

extension DatumPlanner {
    /// One pfs (or cron) input of the tree, numbered in depth-first order.
    struct Leaf {
        var name: String
        var repo: String
        var branch: String
        var commit: String
        var outerJoin: Bool
    }

    /// One matched path of a leaf.
    struct Piece {
        var leaf: Int
        var path: String
        var hash: String
        var joinOn: String?
        var groupBy: String?
    }

    /// A leaf a join or group datum shows empty (an outer-join datum without a partner there, a group key the
    /// input has no path for).
    struct EmptyPiece {
        var leaf: Int
        var joinOn: String?
        var groupBy: String?
    }

    /// A datum being built: its paths, not yet grouped by input or hashed.
    struct Partial {
        var pieces: [Piece]
        var empty: [EmptyPiece] = []
    }

    /// The datums of one node of the input tree; `leaf` is set when the node is itself a pfs or cron input.
    struct Subtree {
        var partials: [Partial]
        var leaf: Int?
    }

    struct Builder {
        let views: [String: CommitView]
        var leaves: [Leaf] = []

        init(views: [String: CommitView]) { self.views = views }

        mutating func datums(of input: Input) throws -> Subtree {
            switch input {
            case .pfs(let p):
                return try pfs(p)
            case .cron(let c):
                // Pachyderm feeds a cron input as the tick repo with glob `/*`: each tick file is one datum.
                // `repo` nil means `<pipeline>_<name>`, which the planner does not know: the view's repo is it.
                var p = PFSInput(name: c.name, repo: c.repo ?? views[c.name]?.commit?.repo ?? c.name, glob: "/*")
                p.branch = views[c.name]?.commit?.branch ?? "master"
                return try pfs(p)
            case .cross(let children):
                return Subtree(partials: Self.cross(try children.map { try datums(of: $0).partials }))
            case .union(let children):
                return Subtree(partials: try children.flatMap { try datums(of: $0).partials })
            case .join(let children):
                // The children first: they add the leaves `join` reads.
                let subtrees = try children.map { try datums(of: $0) }
                return Subtree(partials: join(subtrees))
            case .group(let children):
                let subtrees = try children.map { try datums(of: $0) }
                return Subtree(partials: group(subtrees))
            }
        }

        private mutating func pfs(_ p: PFSInput) throws -> Subtree {
            guard let view = views[DatumPlanner.viewKey(repo: p.repo, branch: p.branch)] ?? views[p.name] else {
                throw PFSError.invalid("no input commit was given for input \"\(p.name)\" (repo \"\(p.repo)\")")
            }
            let index = leaves.count
            leaves.append(Leaf(name: p.name, repo: p.repo, branch: p.branch, commit: view.commitID,
                               outerJoin: p.outerJoin))
            let pieces = try Self.match(p, leaf: index, view: view)
            return Subtree(partials: pieces.map { Partial(pieces: [$0]) }, leaf: index)
        }

        /// Groups a partial's paths by input and hashes it.
        func assemble(_ p: Partial, salt: String) -> Datum {
            if p.pieces.count == 1, p.empty.isEmpty {
                // The common case (one path of one input): no grouping needed.
                let piece = p.pieces[0]
                let leaf = leaves[piece.leaf]
                let (id, hash) = DatumIdentity.identify(
                    [.init(name: leaf.name, repo: leaf.repo, branch: leaf.branch, path: piece.path, hash: piece.hash)],
                    salt: salt)
                return Datum(id: id, hash: hash, inputs: [
                    DatumInput(name: leaf.name, repo: leaf.repo, branch: leaf.branch, commit: leaf.commit,
                               paths: [piece.path], hashes: [piece.hash], joinOn: piece.joinOn, groupBy: piece.groupBy),
                ])
            }
            var byLeaf: [Int: [Piece]] = [:]
            for piece in p.pieces { byLeaf[piece.leaf, default: []].append(piece) }
            var emptyByLeaf: [Int: EmptyPiece] = [:]
            for e in p.empty where byLeaf[e.leaf] == nil && emptyByLeaf[e.leaf] == nil { emptyByLeaf[e.leaf] = e }
            var inputs: [DatumInput] = []
            var items: [DatumIdentity.Item] = []
            for index in Set(byLeaf.keys).union(emptyByLeaf.keys).sorted() {
                let leaf = leaves[index]
                var input = DatumInput(name: leaf.name, repo: leaf.repo, branch: leaf.branch, commit: leaf.commit,
                                       paths: [], hashes: [])
                if let pieces = byLeaf[index] {
                    for piece in pieces.sorted(by: { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }) {
                        // Paths are bytes: compare them as bytes, not as canonically equivalent Strings.
                        if let last = input.paths.last, last.utf8.elementsEqual(piece.path.utf8) { continue }
                        input.paths.append(piece.path)
                        input.hashes.append(piece.hash)
                        items.append(.init(name: leaf.name, repo: leaf.repo, branch: leaf.branch, path: piece.path,
                                           hash: piece.hash))
                    }
                    input.joinOn = pieces[0].joinOn
                    input.groupBy = pieces[0].groupBy
                } else if let e = emptyByLeaf[index] {
                    input.joinOn = e.joinOn
                    input.groupBy = e.groupBy
                }
                inputs.append(input)
            }
            let (id, hash) = DatumIdentity.identify(items, salt: salt)
            return Datum(id: id, hash: hash, inputs: inputs)
        }
    }
}

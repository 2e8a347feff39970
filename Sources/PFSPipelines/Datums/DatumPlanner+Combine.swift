import Foundation

// cross, join and group: how the datums of several inputs are put together.
extension DatumPlanner.Builder {
    typealias Partial = DatumPlanner.Partial
    typealias Piece = DatumPlanner.Piece

    /// The cartesian product: one datum of each input. No inputs, or an input without datums, give none.
    static func cross(_ lists: [[Partial]]) -> [Partial] {
        guard !lists.isEmpty else { return [] }
        var result: [Partial] = [Partial(pieces: [])]
        for list in lists {
            var next: [Partial] = []
            next.reserveCapacity(result.count * list.count)
            for a in result {
                for b in list {
                    next.append(Partial(pieces: a.pieces + b.pieces, empty: a.empty + b.empty))
                }
            }
            result = next
        }
        return result
    }

    /// Every path of every input's datums, bucketed by its key (`key`), per input; a path is counted once
    /// per key and input. Keys are compared as bytes; the result is in byte order of the keys.
    private static func buckets(_ children: [DatumPlanner.Subtree], key: (Piece) -> String?)
        -> [(key: String, lists: [[Piece]])] {
        struct Seen: Hashable { var key: [UInt8]; var child: Int; var leaf: Int; var path: [UInt8] }
        var seen = Set<Seen>()
        var index: [[UInt8]: Int] = [:]
        var out: [(key: String, lists: [[Piece]])] = []
        for (c, child) in children.enumerated() {
            for partial in child.partials {
                for piece in partial.pieces {
                    // As in Pachyderm, an input without a key template has the key "" (it matches itself only).
                    let k = key(piece) ?? ""
                    let kb = Array(k.utf8)
                    guard seen.insert(Seen(key: kb, child: c, leaf: piece.leaf, path: Array(piece.path.utf8))).inserted
                    else { continue }
                    let i: Int
                    if let found = index[kb] {
                        i = found
                    } else {
                        i = out.count
                        index[kb] = i
                        out.append((k, Array(repeating: [], count: children.count)))
                    }
                    out[i].lists[c].append(piece)
                }
            }
        }
        return out.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// Pachyderm's join: the paths of all inputs are bucketed by join key; within a key, each combination of one
    /// path per input is a datum. When some input has no path for the key, the combinations keep only the paths
    /// of `outer_join` inputs (a combination left with none is dropped); the inputs listed directly in the join
    /// that a datum has nothing of are shown empty.
    func join(_ children: [DatumPlanner.Subtree]) -> [Partial] {
        let direct = children.compactMap(\.leaf)
        var out: [Partial] = []
        for (key, lists) in Self.buckets(children, key: \.joinOn) {
            if lists.allSatisfy({ !$0.isEmpty }) {
                for combo in Self.product(lists) { out.append(Partial(pieces: combo)) }
                continue
            }
            // Per present input: its outer-join paths, and "nothing" if it also has inner paths (those drop out).
            let options: [[Piece?]] = lists.filter { !$0.isEmpty }.map { list in
                let outer: [Piece?] = list.filter { leaves[$0.leaf].outerJoin }
                return list.contains(where: { !leaves[$0.leaf].outerJoin }) ? outer + [nil] : outer
            }
            for combo in Self.product(options) {
                let pieces = combo.compactMap { $0 }
                guard !pieces.isEmpty else { continue }
                out.append(Partial(pieces: pieces, empty: Self.missing(direct, in: pieces, joinOn: key, groupBy: nil)))
            }
        }
        return out
    }

    /// Pachyderm's group: all paths of all inputs with the same group key make one datum.
    func group(_ children: [DatumPlanner.Subtree]) -> [Partial] {
        let direct = children.compactMap(\.leaf)
        return Self.buckets(children, key: \.groupBy).map { key, lists in
            let pieces = lists.flatMap { $0 }
            return Partial(pieces: pieces, empty: Self.missing(direct, in: pieces, joinOn: nil, groupBy: key))
        }
    }

    private static func missing(_ direct: [Int], in pieces: [Piece], joinOn: String?, groupBy: String?)
        -> [DatumPlanner.EmptyPiece] {
        let present = Set(pieces.map(\.leaf))
        return direct.filter { !present.contains($0) }.map {
            DatumPlanner.EmptyPiece(leaf: $0, joinOn: joinOn, groupBy: groupBy)
        }
    }

    /// Every combination of one element of each list.
    private static func product<T>(_ lists: [[T]]) -> [[T]] {
        var result: [[T]] = [[]]
        for list in lists {
            var next: [[T]] = []
            next.reserveCapacity(result.count * list.count)
            for a in result { for b in list { next.append(a + [b]) } }
            result = next
        }
        return result
    }
}

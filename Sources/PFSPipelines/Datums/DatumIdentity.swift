import Foundation
import PFSCore

/// How datum ids and hashes are computed. Both are SHA-256 over a length-prefixed encoding, so no two different
/// lists of fields encode the same; the version tags let a future change of the scheme never collide with ids
/// already recorded.
enum DatumIdentity {
    /// One path of a datum: the fields its id and hash are made of.
    struct Item {
        var name: String
        var repo: String
        var branch: String
        var path: String
        var hash: String

        /// Byte-wise order on (name, repo, branch, path): the order items are hashed in.
        static func precedes(_ a: Item, _ b: Item) -> Bool {
            if !a.name.utf8.elementsEqual(b.name.utf8) { return a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
            if !a.repo.utf8.elementsEqual(b.repo.utf8) { return a.repo.utf8.lexicographicallyPrecedes(b.repo.utf8) }
            if !a.branch.utf8.elementsEqual(b.branch.utf8) {
                return a.branch.utf8.lexicographicallyPrecedes(b.branch.utf8)
            }
            return a.path.utf8.lexicographicallyPrecedes(b.path.utf8)
        }
    }

    private static let idTag = Array("pfs.datum.id.v1\n".utf8)
    private static let hashTag = Array("pfs.datum.hash.v1\n".utf8)

    /// The id and hash of a datum made of `items` (in any order).
    static func identify(_ items: [Item], salt: String) -> (id: String, hash: String) {
        let sorted = items.count > 1 ? items.sorted(by: Item.precedes) : items
        var buf = idTag
        buf.reserveCapacity(idTag.count + sorted.count * 96)
        for item in sorted {
            append(item.name, to: &buf)
            append(item.repo, to: &buf)
            append(item.branch, to: &buf)
            append(item.path, to: &buf)
        }
        let id = ObjectHash.of(buf).hex
        buf = hashTag
        append(id, to: &buf)
        for item in sorted { append(item.hash, to: &buf) }
        append(salt, to: &buf)
        return (id, ObjectHash.of(buf).hex)
    }

    private static func append(_ s: String, to buf: inout [UInt8]) {
        let n = UInt32(truncatingIfNeeded: s.utf8.count)
        buf.append(UInt8(n >> 24)); buf.append(UInt8(n >> 16 & 0xFF))
        buf.append(UInt8(n >> 8 & 0xFF)); buf.append(UInt8(n & 0xFF))
        buf.append(contentsOf: s.utf8)
    }
}

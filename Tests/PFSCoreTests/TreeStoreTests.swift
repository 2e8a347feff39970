import Foundation
import XCTest
@testable import PFSCore

final class TreeStoreTests: StoreTestCase {
    /// `count` distinct file entries `f0000000`, `f0000001`, … (with made-up hashes: cheap to make by the 100,000).
    static func entries(_ count: Int, prefix: String = "f") -> [TreeEntry] {
        (0..<count).map { i in
            let name = prefix + String(repeating: "0", count: max(0, 7 - String(i).count)) + String(i)
            let h = ObjectHash(w0: UInt64(i), w1: 0xF11E, w2: UInt64(prefix.utf8.count), w3: 1)
            return TreeEntry(name: name, kind: .file, mode: TreeEntry.defaultFileMode, size: Int64(i % 5000),
                             mtimeNs: Int64(i), hash: h, chunks: [ChunkRef(hash: h, size: Int64(i % 5000))])
        }
    }

    /// Builds `entries` with a fresh batch, commits it and returns the directory's summary.
    func build(_ trees: TreeStore, _ entries: [TreeEntry]) throws -> TreeChild {
        let batch = trees.objects.makeBatch()
        let c = try trees.build(entries, batch: batch)
        try batch.commit()
        return c
    }

    func update(_ trees: TreeStore, _ dir: ObjectHash?, _ changes: [String: TreeEntry?]) throws -> TreeChild {
        let batch = trees.objects.makeBatch()
        let c = try trees.update(dir, changes: changes, batch: batch)
        try batch.commit()
        return c
    }

    func isIndex(_ trees: TreeStore, _ h: ObjectHash) throws -> Bool {
        if case .index = try trees.node(h) { return true }
        return false
    }

    // MARK: small directories

    func testBuildLookupList() throws {
        let trees = try openTrees()
        let input = [fakeFile("c", "3"), fakeFile("a", "1"), fakeFile("b", "22"),
                     TreeEntry.symlink(name: "link", target: "a", mtimeNs: 5),
                     TreeEntry(name: "sub", kind: .dir, mode: 0o700, size: 10, mtimeNs: -7, hash: ObjectHash.of([1]))]
        let dir = try build(trees, input)
        XCTAssertEqual(dir.count, 5)
        XCTAssertEqual(dir.size, 1 + 2 + 1 + 1 + 10)
        XCTAssertEqual(try trees.list(dir.hash).map(\.name), ["a", "b", "c", "link", "sub"])
        XCTAssertEqual(try trees.lookup(dir.hash, "b"), fakeFile("b", "22"))
        XCTAssertNil(try trees.lookup(dir.hash, "d"))
        XCTAssertNil(try trees.lookup(dir.hash, ""))
        XCTAssertNil(try trees.lookup(dir.hash, "B"))
        XCTAssertFalse(try isIndex(trees, dir.hash))

        // The same entries in another order give the same object.
        XCTAssertEqual(try build(trees, input.reversed()).hash, dir.hash)
        // A different mode, mtime or content gives another one.
        var changed = input
        changed[0].mode = 0o600
        XCTAssertNotEqual(try build(trees, changed).hash, dir.hash)

        // Paths from a root.
        let root = try build(trees, [TreeEntry(name: "top", kind: .dir, mode: 0o755, size: dir.size, mtimeNs: 0, hash: dir.hash)])
        XCTAssertEqual(try trees.lookup(root: root.hash, components: ["top", "c"])?.size, 1)
        XCTAssertNil(try trees.lookup(root: root.hash, components: ["top", "zz"]))
        XCTAssertNil(try trees.lookup(root: root.hash, components: ["nope", "c"]))
        XCTAssertEqual(try trees.lookup(root: root.hash, components: [])?.size, dir.size)
        XCTAssertEqual(try trees.lookup(root: root.hash, components: [])?.kind, .dir)
        assertPFSError(.notDirectory, try trees.lookup(root: root.hash, components: ["top", "a", "x"]))
    }

    func testRoundTripThroughDiskWithoutCache() throws {
        let writer = try openTrees()
        let big = FileContent(chunks: (0..<40).map { ChunkRef(hash: ObjectHash.of([UInt8($0)]), size: 1000 + Int64($0)) },
                              size: (0..<40).reduce(Int64(0)) { $0 + 1000 + Int64($1) })
        let batch = writer.objects.makeBatch()
        try writer.storeManifestIfNeeded(big, batch: batch)
        let input = [fakeFile("small", "x", mode: 0o600, mtimeNs: -123_456_789_000),
                     TreeEntry.file(name: "big", content: big, mtimeNs: Int64.max),
                     TreeEntry.symlink(name: "ln", target: "../elsewhere/ü", mtimeNs: Int64.min),
                     fakeFile("empty", ""),
                     TreeEntry(name: "d", kind: .dir, mode: 0o1777, size: 1 << 40, mtimeNs: 0, hash: ObjectHash.of([9]))]
        let dir = try writer.build(input, batch: batch)
        try batch.commit()

        // A second tree store has an empty cache: everything is decoded from disk.
        let reader = TreeStore(objects: writer.objects)
        let listed = try reader.list(dir.hash)
        XCTAssertEqual(listed.map(\.name), ["big", "d", "empty", "ln", "small"])
        let byName = Dictionary(uniqueKeysWithValues: listed.map { ($0.name, $0) })
        XCTAssertEqual(byName["small"], input[0])
        XCTAssertEqual(byName["ln"], input[2])
        XCTAssertEqual(byName["ln"]?.target, "../elsewhere/ü")
        XCTAssertEqual(byName["empty"], input[3])
        XCTAssertEqual(byName["d"], input[4])
        // A long chunk list lives in a manifest object, not inline.
        let bigRead = try XCTUnwrap(byName["big"])
        XCTAssertNil(bigRead.chunks)
        XCTAssertEqual(bigRead.hash, input[1].hash)
        XCTAssertEqual(bigRead.mtimeNs, Int64.max)
        XCTAssertEqual(try reader.content(of: bigRead), big)
        XCTAssertEqual(try reader.content(of: byName["small"]!).chunks.count, 1)
        // The manifest object is named by the file's hash and verifies itself.
        XCTAssertEqual(ObjectHash.of(try writer.objects.read(bigRead.hash)), bigRead.hash)
    }

    func testMissingTreeObjectIsCorrupt() throws {
        let trees = try openTrees()
        let dir = try build(trees, [fakeFile("a", "1")])
        try trees.objects.delete(dir.hash)
        let fresh = TreeStore(objects: trees.objects)
        let e = assertPFSError(.corrupt, try fresh.list(dir.hash))
        XCTAssertTrue(e?.message.contains(dir.hash.hex) ?? false)
    }

    // MARK: names

    func testBytewiseNameOrdering() throws {
        let trees = try openTrees()
        let names = ["b", "B", "a", "é", "z", "Z", "_", "10", "9", "a b", "a.b", "ab", "~", "\u{7e}x", "日本", "Ä", "A"]
        let expected = ["10", "9", "A", "B", "Z", "_", "a", "a b", "a.b", "ab", "b", "z", "~", "~x", "Ä", "é", "日本"]
        XCTAssertEqual(expected.map { Array($0.utf8) }, names.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) })
        let dir = try build(trees, names.map { fakeFile($0, $0) })
        XCTAssertEqual(try trees.list(dir.hash).map(\.name), expected)
        for n in names { XCTAssertEqual(try trees.lookup(dir.hash, n)?.name, n) }

        // Sharded directories list in the same order.
        let many = Self.entries(1500) + names.map { fakeFile($0, $0) }
        let sharded = try build(trees, many)
        XCTAssertTrue(try isIndex(trees, sharded.hash))
        let listed = try trees.list(sharded.hash).map { Array($0.name.utf8) }
        XCTAssertEqual(listed, many.map { Array($0.name.utf8) }.sorted { $0.lexicographicallyPrecedes($1) })
    }

    func testUnicodeNamesAreBytesNotCanonicalEquivalents() throws {
        let trees = try openTrees()
        let nfc = "caf\u{e9}", nfd = "cafe\u{301}"
        XCTAssertEqual(nfc, nfd, "Swift String == is canonical equivalence; pfs names must compare as bytes")
        let names = [nfc, nfd, "日本語.txt", "😀", "Ωmega", "ﬁle", "e\u{301}\u{301}", "\u{200b}"]
        let input = names.enumerated().map { fakeFile($0.element, String(repeating: "x", count: $0.offset + 1)) }
        for dir in [try build(trees, input), try build(trees, input + Self.entries(1100))] {
            let fresh = TreeStore(objects: trees.objects)
            for t in [trees, fresh] {
                for (i, n) in names.enumerated() {
                    let e = try XCTUnwrap(try t.lookup(dir.hash, n), n)
                    XCTAssertEqual(Array(e.name.utf8), Array(n.utf8))
                    XCTAssertEqual(e.size, Int64(i + 1), "lookup of \(n.unicodeScalars.map { $0.value }) found another name")
                }
                let listed = Set(try t.list(dir.hash).map { Array($0.name.utf8) })
                for n in names { XCTAssertTrue(listed.contains(Array(n.utf8))) }
            }
        }
        // update replaces exactly the name it is given.
        let dir = try build(trees, input)
        let u = try update(trees, dir.hash, [nfd: fakeFile(nfd, "replaced")])
        XCTAssertEqual(try trees.lookup(u.hash, nfc)?.size, 1)
        XCTAssertEqual(try trees.lookup(u.hash, nfd)?.size, 8)
        XCTAssertEqual(u.count, names.count)
        let d = try update(trees, dir.hash, [nfc: nil])
        XCTAssertNil(try trees.lookup(d.hash, nfc))
        XCTAssertEqual(try trees.lookup(d.hash, nfd)?.size, 2)
    }

    // MARK: large directories

    func testLargeDirectoryIsShardedCanonicalAndCheapToUpdate() throws {
        let trees = try openTrees()
        let all = Self.entries(100_000)
        var t0 = ContinuousClock.now
        let dir = try build(trees, all)
        print("build of 100,000 entries: \(ContinuousClock.now - t0)")
        XCTAssertEqual(dir.count, 100_000)
        XCTAssertEqual(dir.size, all.reduce(Int64(0)) { $0 + $1.size })
        guard case .index(let depth, let children) = try trees.node(dir.hash) else { return XCTFail("100,000 entries in one leaf") }
        XCTAssertEqual(depth, 0)
        XCTAssertEqual(children.count, 16)
        XCTAssertEqual(children.map(\.nibble), Array(0..<16))
        XCTAssertEqual(children.reduce(0) { $0 + $1.count }, 100_000)
        // No node holds more than the leaf limit.
        var leaves = 0
        func check(_ h: ObjectHash, depth: Int) throws {
            switch try trees.node(h) {
            case .leaf(let e):
                XCTAssertLessThanOrEqual(e.count, TreeNode.leafLimit)
                leaves += 1
            case .index(let d, let c):
                XCTAssertEqual(d, depth)
                XCTAssertGreaterThan(c.reduce(0) { $0 + $1.count }, TreeNode.leafLimit)
                for child in c { try check(child.hash, depth: depth + 1) }
            }
        }
        try check(dir.hash, depth: 0)
        XCTAssertGreaterThan(leaves, 100_000 / TreeNode.leafLimit)

        // Lookups, from a cold cache too.
        let cold = TreeStore(objects: trees.objects)
        for i in stride(from: 0, to: 100_000, by: 997) {
            XCTAssertEqual(try cold.lookup(dir.hash, all[i].name), all[i])
        }
        XCTAssertEqual(try trees.lookup(dir.hash, all[99_999].name), all[99_999])
        XCTAssertNil(try trees.lookup(dir.hash, "f9999999"))
        XCTAssertNil(try trees.lookup(dir.hash, "zzz"))
        let listed = try trees.list(dir.hash)
        XCTAssertEqual(listed.count, 100_000)
        XCTAssertEqual(listed.map(\.name), all.map(\.name))  // names are zero-padded: byte order == index order

        // Update of one entry == build of the changed list (canonical shape), for insert, modify, delete.
        let added = fakeFile("new-entry", "hello")
        t0 = ContinuousClock.now
        let insert = try update(trees, dir.hash, ["new-entry": added])
        print("update of 1 entry in a 100,000-entry directory (with batch commit): \(ContinuousClock.now - t0)")
        XCTAssertEqual(insert.hash, try build(trees, all + [added]).hash)
        XCTAssertEqual(insert.count, 100_001)
        XCTAssertEqual(try trees.lookup(insert.hash, "new-entry"), added)

        // (Modifications are compared with full builds in testRandomUpdatesMatchBuild.)
        let changed = fakeFile(all[500].name, "changed")
        let modify = try update(trees, dir.hash, [all[500].name: changed])
        XCTAssertEqual(try trees.lookup(modify.hash, all[500].name), changed)
        XCTAssertEqual(modify.size, dir.size - all[500].size + changed.size)
        XCTAssertEqual(modify.count, 100_000)

        let delete = try update(trees, dir.hash, [all[77_777].name: nil])
        var fewer = all
        fewer.remove(at: 77_777)
        XCTAssertEqual(delete.hash, try build(trees, fewer).hash)
        XCTAssertNil(try trees.lookup(delete.hash, all[77_777].name))
        XCTAssertEqual(delete.count, 99_999)
        // Delete what was inserted: back to the very same object.
        XCTAssertEqual(try update(trees, insert.hash, ["new-entry": nil]).hash, dir.hash)
        // Deleting a name that is not there changes nothing.
        XCTAssertEqual(try update(trees, dir.hash, ["absent": nil]).hash, dir.hash)

        // One change writes a leaf and the index nodes above it — a handful of objects — and is fast.
        var durations: [Duration] = []
        var puts: [Int] = []
        for i in 0..<20 {
            let batch = CountingBatch(trees.objects.makeBatch())
            let name = all[(i * 4999) % all.count].name
            let start = ContinuousClock.now
            let r = try trees.update(dir.hash, changes: [name: fakeFile(name, "v\(i)")], batch: batch)
            durations.append(ContinuousClock.now - start)
            batch.abort()
            puts.append(batch.puts)
            XCTAssertEqual(r.count, 100_000)
        }
        durations.sort()
        let median = durations[durations.count / 2]
        print("update of 1 entry in a 100,000-entry directory: median \(median), max \(durations.last!), objects written \(puts)")
        XCTAssertLessThanOrEqual(puts.max()!, 4, "one change should rewrite one leaf and its index ancestors")
        XCTAssertLessThan(median, .milliseconds(200))
    }

    func testUpdateAcrossTheLeafLimit() throws {
        let trees = try openTrees()
        let limit = TreeNode.leafLimit
        let base = Self.entries(limit + 1)

        // Grow: a full leaf plus one becomes an index, exactly as build makes it.
        let full = try build(trees, Array(base.prefix(limit)))
        XCTAssertFalse(try isIndex(trees, full.hash))
        let grown = try update(trees, full.hash, [base[limit].name: base[limit]])
        XCTAssertTrue(try isIndex(trees, grown.hash))
        XCTAssertEqual(grown.hash, try build(trees, base).hash)

        // Shrink: deleting one entry from limit+1 collapses back into the very leaf.
        let shrunk = try update(trees, grown.hash, [base[limit].name: nil])
        XCTAssertFalse(try isIndex(trees, shrunk.hash))
        XCTAssertEqual(shrunk.hash, full.hash)

        // Shrink by many at once, from well above the limit to well below.
        let more = Self.entries(limit + 300)
        let big = try build(trees, more)
        var changes: [String: TreeEntry?] = [:]
        for e in more.suffix(600) { changes[e.name] = .some(nil) }
        changes["added"] = fakeFile("added", "a")
        let small = try update(trees, big.hash, changes)
        let expected = Array(more.prefix(more.count - 600)) + [fakeFile("added", "a")]
        XCTAssertEqual(small.hash, try build(trees, expected).hash)
        XCTAssertFalse(try isIndex(trees, small.hash))
        XCTAssertEqual(small.count, expected.count)

        // Down to empty, then up from nothing.
        var all: [String: TreeEntry?] = [:]
        for e in more { all[e.name] = .some(nil) }
        let empty = try update(trees, big.hash, all)
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(empty.hash, try build(trees, []).hash)
        var adds: [String: TreeEntry?] = [:]
        for e in more { adds[e.name] = e }
        XCTAssertEqual(try update(trees, nil, adds).hash, big.hash)
        XCTAssertEqual(try update(trees, empty.hash, adds).hash, big.hash)
    }

    /// Random batches of inserts, modifications and deletes around the split threshold, in several shapes
    /// (a two-level trie too: 20,000 entries), always checked against a build of the expected list.
    func testRandomUpdatesMatchBuild() throws {
        let trees = try openTrees()
        for (seed, size, rounds) in [(UInt64(1), 1000, 25), (2, 3000, 12), (3, 20_000, 3)] {
            var rng = StoreTestRNG(seed: seed)
            var model: [String: TreeEntry] = [:]
            for e in Self.entries(size) { model[e.name] = e }
            var dir = try build(trees, Array(model.values))
            for round in 0..<rounds {
                var changes: [String: TreeEntry?] = [:]
                let n = Int.random(in: 1...400, using: &rng)
                let keys = Array(model.keys)
                for _ in 0..<n {
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0:
                        let name = "r\(UInt32.random(in: 0...UInt32.max, using: &rng))"
                        changes[name] = fakeFile(name, "\(round)")
                    case 1:
                        let name = keys.randomElement(using: &rng)!
                        changes[name] = fakeFile(name, "modified \(round)")
                    default:
                        changes[keys.randomElement(using: &rng)!] = .some(nil)
                    }
                }
                // Bias toward shrinking so the threshold is crossed both ways.
                if size <= 3000, round % 3 == 2 {
                    for name in keys.shuffled(using: &rng).prefix(keys.count / 2) { changes[name] = .some(nil) }
                }
                for (name, e) in changes { model[name] = e }
                dir = try update(trees, dir.hash, changes)
                let expected = try build(trees, Array(model.values))
                XCTAssertEqual(dir.hash, expected.hash, "seed \(seed) round \(round)")
                XCTAssertEqual(dir.count, model.count)
                XCTAssertEqual(dir.size, model.values.reduce(Int64(0)) { $0 + $1.size })
            }
        }
    }

    func testWalkObjectsVisitsEachObjectOnce() throws {
        let trees = try openTrees()
        let content = FileContent(chunks: (0..<33).map { ChunkRef(hash: ObjectHash.of([UInt8($0), 1]), size: 1) }, size: 33)
        let batch = trees.objects.makeBatch()
        try trees.storeManifestIfNeeded(content, batch: batch)
        let sub = try trees.build([TreeEntry.file(name: "m", content: content, mtimeNs: 0), fakeFile("same", "x")], batch: batch)
        let root = try trees.build([TreeEntry(name: "d1", kind: .dir, mode: 0o755, size: sub.size, mtimeNs: 0, hash: sub.hash),
                                    TreeEntry(name: "d2", kind: .dir, mode: 0o755, size: sub.size, mtimeNs: 0, hash: sub.hash),
                                    fakeFile("same2", "x"),
                                    TreeEntry.symlink(name: "l", target: "d1", mtimeNs: 0)], batch: batch)
        try batch.commit()
        var seen = Set<ObjectHash>()
        var visits: [(ObjectHash, TreeStore.ObjectKind, String)] = []
        try trees.walkObjects(root: root.hash, seen: &seen) { visits.append(($0, $1, $2)) }
        XCTAssertEqual(visits.filter { $0.1 == .tree }.count, 2)      // root + the shared subdirectory once
        XCTAssertEqual(visits.filter { $0.1 == .manifest }.count, 1)
        XCTAssertEqual(visits.filter { $0.1 == .chunk }.count, 33 + 1)  // the shared "x" chunk once
        XCTAssertEqual(Set(visits.map(\.0)).count, visits.count)
        XCTAssertTrue(visits.contains { $0.1 == .manifest && $0.2 == "/d1/m" })
        // A second walk with the same `seen` visits nothing.
        var again = 0
        try trees.walkObjects(root: root.hash, seen: &seen) { _, _, _ in again += 1 }
        XCTAssertEqual(again, 0)
    }

    /// A ctime is stored only when it differs from the mtime, behind the kind byte's 0x80 bit: entries without one
    /// encode (and hash) byte for byte as trees written before ctimes were kept, and both decode.
    func testCtimeIsAnOptionalPartOfTheEncoding() throws {
        let plain = TreeEntry(name: "a", kind: .file, mode: 0o644, size: 0, mtimeNs: 5, hash: ObjectHash.of([1]), chunks: [])
        let old = TreeNode.leaf([plain]).encode()
        XCTAssertEqual(old[8], EntryKind.file.rawValue, "PFT1, leaf, count, name, then the kind byte")
        var same = plain
        same.ctimeNs = 5
        XCTAssertEqual(TreeNode.leaf([same]).encode(), old, "a ctime equal to the mtime is not stored")
        var changed = plain
        changed.changed(at: -9)
        let new = TreeNode.leaf([changed]).encode()
        XCTAssertEqual(new[8], 0x80 | EntryKind.file.rawValue)
        guard case .leaf(let back) = try TreeNode.decode(new, hash: ObjectHash.of(new)),
              case .leaf(let backOld) = try TreeNode.decode(old, hash: ObjectHash.of(old)) else { return XCTFail("not a leaf") }
        XCTAssertEqual(back, [changed])
        XCTAssertEqual(back[0].changeTimeNs, -9)
        XCTAssertEqual(backOld, [plain])
        XCTAssertEqual(backOld[0].changeTimeNs, 5)
    }
}

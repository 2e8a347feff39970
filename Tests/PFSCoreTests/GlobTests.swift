import Foundation
import XCTest
@testable import PFSCore

final class GlobTests: XCTestCase {
    func m(_ pattern: String, _ path: String) throws -> Bool {
        try Glob(pattern).matches(path.split(separator: "/").map(String.init))
    }

    func testRootAndLevels() throws {
        XCTAssertTrue(try Glob("/").isRoot)
        XCTAssertTrue(try Glob("").isRoot)
        XCTAssertFalse(try Glob("/*").isRoot)
        XCTAssertTrue(try m("/", "/"))
        XCTAssertFalse(try m("/", "/a"))
        XCTAssertTrue(try m("/*", "/a"))
        XCTAssertFalse(try m("/*", "/a/b"))
        XCTAssertFalse(try m("/*", "/"))
        XCTAssertTrue(try m("/*/*", "/a/b"))
        XCTAssertFalse(try m("/*/*", "/a"))
        XCTAssertFalse(try m("/*/*", "/a/b/c"))
        XCTAssertTrue(try m("*", "/a"), "a leading slash is optional")
        XCTAssertTrue(try m("/a/b", "/a/b"))
        XCTAssertTrue(try m("//a//b/", "/a/b"))
    }

    func testDoubleStar() throws {
        for p in ["/a", "/a/b", "/a/b/c/d"] { XCTAssertTrue(try m("/**", p), p) }
        XCTAssertTrue(try m("/a/**", "/a/b/c"))
        XCTAssertFalse(try m("/a/**", "/b/c"))
        XCTAssertTrue(try m("/**/x.csv", "/x.csv"), "** matches zero components")
        XCTAssertTrue(try m("/**/x.csv", "/a/b/x.csv"))
        XCTAssertFalse(try m("/**/x.csv", "/a/b/y.csv"))
        XCTAssertTrue(try m("/a/**/z", "/a/z"))
        XCTAssertTrue(try m("/a/**/z", "/a/b/c/z"))
        XCTAssertFalse(try m("/a/**/z", "/a/b/c/z/q"))
    }

    func testComponentPatterns() throws {
        XCTAssertTrue(try m("/*.csv", "/a.csv"))
        XCTAssertTrue(try m("/*.csv", "/.csv"))
        XCTAssertFalse(try m("/*.csv", "/a.csv.bak"))
        XCTAssertFalse(try m("/*.csv", "/d/a.csv"))
        XCTAssertTrue(try m("/a*b*c", "/aXXbYYc"))
        XCTAssertTrue(try m("/a*b*c", "/abc"))
        XCTAssertFalse(try m("/a*b*c", "/abcd"))
        XCTAssertTrue(try m("/?", "/x"))
        XCTAssertFalse(try m("/?", "/xy"))
        XCTAssertTrue(try m("/??", "/é😀"), "? is one character, not one byte")
        XCTAssertTrue(try m("/[ab]*", "/apple"))
        XCTAssertTrue(try m("/[ab]*", "/b"))
        XCTAssertFalse(try m("/[ab]*", "/cab"))
        XCTAssertTrue(try m("/[!a]*", "/banana"))
        XCTAssertFalse(try m("/[!a]*", "/apple"))
        XCTAssertTrue(try m("/[^a]x", "/bx"))
        XCTAssertTrue(try m("/[a-c]", "/b"))
        XCTAssertFalse(try m("/[a-c]", "/d"))
        XCTAssertTrue(try m("/[!a-c]", "/d"))
        XCTAssertTrue(try m("/[a-]", "/-"), "a trailing - is literal")
        XCTAssertTrue(try m("/[]a]", "/]"), "a leading ] is literal")
        XCTAssertTrue(try m("/\\*", "/*"))
        XCTAssertFalse(try m("/\\*", "/a"))
        XCTAssertTrue(try m("/file-?.txt", "/file-1.txt"))
    }

    /// Backtracking matchers take exponential time on these; they must answer at once.
    func testPathologicalPatternsAreFast() throws {
        let t0 = ContinuousClock.now
        let name = "/" + String(repeating: "a", count: 255)
        XCTAssertFalse(try m("/" + String(repeating: "*a", count: 30) + "*b", name))
        XCTAssertTrue(try m("/" + String(repeating: "*a", count: 30) + "*", name))
        let deep = "/" + Array(repeating: "a", count: 300).joined(separator: "/")
        XCTAssertFalse(try m("/" + Array(repeating: "**/a", count: 12).joined(separator: "/") + "/**/b", deep))
        XCTAssertTrue(try m("/" + Array(repeating: "**/a", count: 12).joined(separator: "/") + "/**", deep))
        XCTAssertLessThan(ContinuousClock.now - t0, .seconds(2))
    }

    func testMayMatchBelow() throws {
        let g = try Glob("/a/*/c")
        XCTAssertTrue(g.mayMatchBelow([]))
        XCTAssertTrue(g.mayMatchBelow(["a"]))
        XCTAssertTrue(g.mayMatchBelow(["a", "x"]))
        XCTAssertFalse(g.mayMatchBelow(["b"]))
        XCTAssertFalse(g.mayMatchBelow(["a", "x", "c"]), "nothing below a full match can match")
        XCTAssertTrue(try Glob("/**").mayMatchBelow(["q", "r", "s"]))
        XCTAssertFalse(try Glob("/*").mayMatchBelow(["a"]))
    }

    func testInvalidPatterns() {
        for p in ["/[ab", "/a/../b", "/..", "a\u{0}b"] {
            XCTAssertThrowsError(try Glob(p), p) { XCTAssertEqual(($0 as? PFSError)?.code, .invalidArgument, p) }
        }
    }
}

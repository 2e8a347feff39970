import Foundation
import XCTest
@testable import PFSCore

final class CommitRefTests: XCTestCase {
    func testParse() throws {
        XCTAssertEqual(try CommitRef.parse("data"), CommitRef(repo: "data", base: "master"))
        XCTAssertEqual(try CommitRef.parse("data", defaultBranch: "main"), CommitRef(repo: "data", base: "main"))
        XCTAssertEqual(try CommitRef.parse("data@dev"), CommitRef(repo: "data", base: "dev"))
        XCTAssertEqual(try CommitRef.parse("data@v1.2"), CommitRef(repo: "data", base: "v1.2"))
        XCTAssertEqual(try CommitRef.parse("data@dev:/x//y/"), CommitRef(repo: "data", base: "dev", path: "/x/y"))
        XCTAssertEqual(try CommitRef.parse("data:x"), CommitRef(repo: "data", base: "master", path: "/x"))
        XCTAssertEqual(try CommitRef.parse("data@master^^"), CommitRef(repo: "data", base: "master", ancestry: 2))
        XCTAssertEqual(try CommitRef.parse("data@master~3"), CommitRef(repo: "data", base: "master", ancestry: 3))
        XCTAssertEqual(try CommitRef.parse("data@abcdef12~2^"), CommitRef(repo: "data", base: "abcdef12", ancestry: 3))
        XCTAssertEqual(try CommitRef.parse("data@m~^~2"), CommitRef(repo: "data", base: "m", ancestry: 4))
        XCTAssertEqual(try CommitRef.parse("data@master~2:/f").description, "data@master~2:/f")
        XCTAssertEqual(try CommitRef.parse("data@master^").refString, "master~1")
        XCTAssertEqual(try CommitRef.parse("data@dev").refString, "dev")
        for bad in ["data@", "@dev", "", "da ta", "data@ma/ster", "data@master~x", "data@^", "data@~2", "data@a@b",
                    "data@x\u{1}", "data@dev:/../x", ".data", "data@master~-1"] {
            XCTAssertThrowsError(try CommitRef.parse(bad), bad) {
                XCTAssertEqual(($0 as? PFSError)?.code, .invalidArgument, bad)
            }
        }
    }

    func testHugeAncestryIsAnErrorNotACrash() {
        for ref in ["master~9223372036854775807^", "master~9223372036854775807~9223372036854775807",
                    "master~99999999999999999999999"] {
            XCTAssertThrowsError(try CommitRef.parseRef(ref), ref) {
                XCTAssertEqual(($0 as? PFSError)?.code, .invalidArgument, ref)
            }
        }
        XCTAssertEqual(try CommitRef.parseRef("master~9223372036854775807").ancestry, Int.max)
    }

    func testLooksLikeCommitID() {
        XCTAssertTrue(CommitRef.looksLikeCommitID("abcdef12"))
        XCTAssertTrue(CommitRef.looksLikeCommitID("ABCDEF12"))
        XCTAssertTrue(CommitRef.looksLikeCommitID(String(repeating: "a", count: 32)))
        XCTAssertFalse(CommitRef.looksLikeCommitID("abcdef1"))
        XCTAssertFalse(CommitRef.looksLikeCommitID(String(repeating: "a", count: 33)))
        XCTAssertFalse(CommitRef.looksLikeCommitID("abcdefgh"))
        XCTAssertFalse(CommitRef.looksLikeCommitID("master"))
    }

    func testGeneratedIDs() {
        let ids = (0..<1000).map { _ in CommitID.generate() }
        XCTAssertEqual(Set(ids).count, 1000)
        for id in ids.prefix(20) {
            XCTAssertEqual(id.count, 32)
            XCTAssertTrue(CommitRef.looksLikeCommitID(id))
            XCTAssertEqual(id, id.lowercased())
        }
    }
}

final class NamesTests: XCTestCase {
    func testRepoAndBranchNames() throws {
        for ok in ["a", "A-Z_0-9", String(repeating: "x", count: 200)] {
            XCTAssertNoThrow(try Names.validateRepo(ok), ok)
            XCTAssertNoThrow(try Names.validateBranch(ok), ok)
        }
        XCTAssertNoThrow(try Names.validateBranch("v1.0"))
        XCTAssertNoThrow(try Names.validateBranch(String(repeating: "a", count: 31)))
        for bad in ["", ".hidden", "a/b", "..", "a\u{1}b", "a\u{7f}", String(repeating: "x", count: 201), "a b", "ü", "v1.0"] {
            XCTAssertThrowsError(try Names.validateRepo(bad), bad) { XCTAssertEqual(($0 as? PFSError)?.code, .invalidArgument) }
        }
        for bad in ["", ".x", "a..b", "a/b", "0123456789abcdef0123456789ABCDEF", "a~1", "a^", "a@b"] {
            XCTAssertThrowsError(try Names.validateBranch(bad), bad) { XCTAssertEqual(($0 as? PFSError)?.code, .invalidArgument) }
        }
        XCTAssertEqual(Names.printable("a\u{1b}[0m\u{7f}"), "a\\x1b[0m\\x7f")
    }

    func testCleanPath() throws {
        XCTAssertEqual(try Names.cleanPath(""), "/")
        XCTAssertEqual(try Names.cleanPath("/"), "/")
        XCTAssertEqual(try Names.cleanPath("a//b/./c/"), "/a/b/c")
        XCTAssertEqual(try Names.cleanPath("./a"), "/a")
        XCTAssertEqual(try Names.cleanPath("/a/.b/..c"), "/a/.b/..c")
        XCTAssertEqual(try Names.cleanPath("/日本/é"), "/日本/é")
        XCTAssertEqual(Names.components("/a/b"), ["a", "b"])
        XCTAssertEqual(Names.components("/"), [])
        for bad in ["..", "/a/../b", "/a/..", "a\u{0}b", "a\nb", "/\u{7f}", "/" + String(repeating: "x", count: 256),
                    String(repeating: "/abc", count: 1100)] {
            XCTAssertThrowsError(try Names.cleanPath(bad), bad.debugDescription) {
                XCTAssertEqual(($0 as? PFSError)?.code, .invalidArgument)
            }
        }
        XCTAssertNoThrow(try Names.cleanPath("/" + String(repeating: "x", count: 255)))
    }

    /// A combining mark after `/` joins it into one Swift Character; paths must still split at every `/` byte.
    func testPathsSplitAtEverySlashByte() throws {
        let raw = "/a/\u{301}b/c"
        let clean = try Names.cleanPath(raw)
        XCTAssertEqual(Array(clean.utf8), Array(raw.utf8))
        let comps = Names.components(clean)
        XCTAssertEqual(comps.count, 3)
        XCTAssertEqual(comps.map { Array($0.utf8) }, [Array("a".utf8), Array("\u{301}b".utf8), Array("c".utf8)])
        for c in comps { XCTAssertFalse(c.utf8.contains(UInt8(ascii: "/"))) }
        XCTAssertEqual(Names.components(try Names.cleanPath("/x//\u{301}")).map { Array($0.utf8) },
                       [Array("x".utf8), Array("\u{301}".utf8)])
        // ".." followed by a combining mark is a name, not "..".
        XCTAssertEqual(Names.components(try Names.cleanPath("/..\u{301}")).count, 1)
    }
}

import Foundation
import PFSCore
import XCTest
@testable import PFSCLI

final class PutPlannerTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory()
        _ = FileManager.default.changeCurrentDirectoryPath(dir)
    }
    override func tearDownWithError() throws {
        _ = FileManager.default.changeCurrentDirectoryPath("/")
        try? FileManager.default.removeItem(atPath: dir)
    }

    func write(_ rel: String, _ content: String = "x") {
        let p = dir + "/" + rel
        try? FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: p, contents: Data(content.utf8))
    }

    func request(path: String?, dir isDir: Bool? = nil, sources: [String], recursive: Bool = false, append: Bool = false,
                 inputFile: String? = nil) -> PutFileRequest {
        PutFileRequest(repo: "data", ref: "master", path: path, pathIsDirectory: isDir ?? (path == nil),
                       sources: sources, inputFile: inputFile, recursive: recursive, append: append)
    }

    func plan(_ r: PutFileRequest, stdin: String = "") throws -> PutPlanner.Plan {
        try PutPlanner(readStandardInput: { stdin }).plan(r)
    }

    func paths(_ p: PutPlanner.Plan) -> [String] { p.items.map(\.header.path) }

    func testNaming() throws {
        write("sales.csv"); write("sub/a.csv"); write("b.csv")
        XCTAssertEqual(paths(try plan(request(path: "/x.csv", sources: ["sales.csv"]))), ["/x.csv"])
        XCTAssertEqual(paths(try plan(request(path: nil, sources: ["sub/a.csv"]))), ["/a.csv"])
        XCTAssertEqual(paths(try plan(request(path: "/in", dir: true, sources: ["sales.csv"]))), ["/in/sales.csv"])
        // Several sources: the destination is a directory even without a trailing slash (as pachctl).
        XCTAssertEqual(paths(try plan(request(path: "/in", dir: false, sources: ["sales.csv", "b.csv"]))), ["/in/sales.csv", "/in/b.csv"])
        XCTAssertEqual(paths(try plan(request(path: nil, sources: ["https://example.com/d/data.csv?x=1"]))), ["/data.csv"])
        XCTAssertEqual(paths(try plan(request(path: "/r.csv", sources: ["http://example.com/"]))), ["/r.csv"])
        XCTAssertThrowsError(try plan(request(path: nil, sources: ["http://example.com/"])))
        XCTAssertThrowsError(try plan(request(path: nil, sources: ["s3://bucket/x"])))
    }

    func testOpAndMetadata() throws {
        write("a.txt")
        chmod(dir + "/a.txt", 0o640)
        let p = try plan(request(path: "/a.txt", dir: false, sources: ["a.txt"], append: true))
        XCTAssertEqual(p.items.count, 1)
        XCTAssertEqual(p.items[0].header.op, .append)
        XCTAssertEqual(p.items[0].header.mode, 0o640)
        XCTAssertNotNil(p.items[0].header.mtimeNs)
        XCTAssertEqual(p.items[0].source, .localFile("a.txt"))
        XCTAssertEqual(try plan(request(path: "/a.txt", dir: false, sources: ["a.txt"])).items[0].header.op, .put)
    }

    func testRecursive() throws {
        write("ds/b.txt"); write("ds/a/x.txt"); write("ds/a/y.txt")
        try FileManager.default.createDirectory(atPath: dir + "/ds/empty", withIntermediateDirectories: true)
        symlink("b.txt", dir + "/ds/link-to-file")
        symlink("a", dir + "/ds/link-to-dir")
        symlink("missing", dir + "/ds/dangling")
        let p = try plan(request(path: "/raw", dir: true, sources: ["ds"], recursive: true))
        XCTAssertEqual(paths(p), ["/raw/ds/a/x.txt", "/raw/ds/a/y.txt", "/raw/ds/b.txt", "/raw/ds/dangling", "/raw/ds/empty",
                                  "/raw/ds/link-to-dir", "/raw/ds/link-to-file"])
        let ops = Dictionary(uniqueKeysWithValues: p.items.map { ($0.header.path, $0.header.op) })
        XCTAssertEqual(ops["/raw/ds/empty"], .mkdir)
        XCTAssertEqual(ops["/raw/ds/dangling"], .symlink)
        XCTAssertEqual(ops["/raw/ds/link-to-dir"], .symlink)
        XCTAssertEqual(ops["/raw/ds/link-to-file"], .put)
        XCTAssertEqual(p.items.first { $0.header.path == "/raw/ds/link-to-dir" }?.header.target, "a")
        // One source and a destination without a slash: the tree goes directly under it.
        XCTAssertEqual(paths(try plan(request(path: "/raw", dir: false, sources: ["ds/a"], recursive: true))), ["/raw/x.txt", "/raw/y.txt"])
        // `dir/.` puts the contents under the destination.
        XCTAssertEqual(paths(try plan(request(path: nil, sources: ["ds/a/."], recursive: true))), ["/x.txt", "/y.txt"])
        // Without -r a directory is refused.
        XCTAssertThrowsError(try plan(request(path: nil, sources: ["ds"]))) { e in
            XCTAssertTrue((e as? PFSError)?.message.contains("-r") ?? false)
        }
    }

    func testUnreadableAndMissingSourcesAreNamed() throws {
        write("ok.txt")
        XCTAssertThrowsError(try plan(request(path: nil, sources: ["ok.txt", "missing.txt"]))) { e in
            let e = e as! PFSError
            XCTAssertEqual(e.code, .io)
            XCTAssertTrue(e.message.contains("\"missing.txt\""), e.message)
        }
        if getuid() != 0 {
            write("secret.txt")
            chmod(dir + "/secret.txt", 0)
            XCTAssertThrowsError(try plan(request(path: nil, sources: ["secret.txt"]))) { e in
                XCTAssertTrue((e as! PFSError).message.contains("secret.txt"))
            }
        }
    }

    func testStandardInputAndInputFile() throws {
        let p = try plan(request(path: "/notes.txt", dir: false, sources: []))
        XCTAssertEqual(p.items, [PutItem(header: PutRecordHeader(op: .put, path: "/notes.txt"), source: .standardInput)])
        XCTAssertThrowsError(try plan(request(path: nil, sources: [])))
        XCTAssertThrowsError(try plan(request(path: "/", dir: true, sources: ["-"])))

        write("a.txt"); write("b.txt")
        write("list.txt", "a.txt\n\n  b.txt  \nhttps://example.com/c.csv\n")
        let listed = try plan(request(path: "/in/", dir: true, sources: [], inputFile: "list.txt"))
        XCTAssertEqual(paths(listed), ["/in/a.txt", "/in/b.txt", "/in/c.csv"])
        let fromStdin = try plan(request(path: nil, sources: [], inputFile: "-"), stdin: "a.txt\n")
        XCTAssertEqual(paths(fromStdin), ["/a.txt"])
        XCTAssertThrowsError(try plan(request(path: "/x", dir: false, sources: ["-"], inputFile: "-"), stdin: "a.txt\n"))
        XCTAssertThrowsError(try plan(request(path: nil, sources: [], inputFile: "nope.txt")))
    }

    func testBaseNames() {
        XCTAssertEqual(PutPlanner.localBaseName("a/b.txt"), "b.txt")
        XCTAssertEqual(PutPlanner.localBaseName("dir/"), "dir")
        XCTAssertEqual(PutPlanner.localBaseName("dir/."), "")
        XCTAssertEqual(PutPlanner.localBaseName("/"), "")
        XCTAssertEqual(PutPlanner.urlBaseName("https://h/a/b%20c.csv#frag"), "b c.csv")
        XCTAssertEqual(PutPlanner.urlBaseName("https://h"), "")
        XCTAssertEqual(PutPlanner.urlScheme("HTTPS://x"), "https")
        XCTAssertNil(PutPlanner.urlScheme("./a://b"))
        XCTAssertNil(PutPlanner.urlScheme("file.txt"))
    }
}

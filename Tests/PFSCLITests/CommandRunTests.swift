import Foundation
import PFSCore
import XCTest
@testable import PFSCLI

/// Whole commands (`PFSCommand.run(arguments:)`) against the fake daemon: exit statuses and call sequences.
final class CommandRunTests: XCTestCase {
    var dir = ""
    var socketPath: String { dir + "/pfs.sock" }

    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func run(_ args: String...) async -> Int32 {
        await PFSCommand.run(arguments: args + ["--socket", socketPath])
    }

    func testExitStatuses() async throws {
        let daemon = try FakeDaemon(socketPath: socketPath) { r in
            switch r.path {
            case "/v1/repos/missing": return .error("NOT_FOUND", "repo missing not found", status: 404)
            case "/v1/repos": return .error("ALREADY_EXISTS", "repo data exists", status: 409)
            case "/v1/repos/data/commit/wait": return .error("TIMEOUT", "gave up", status: 504)
            case "/v1/fsck": return .json(#"{"commits_checked": 1, "objects_checked": 2, "bytes_checked": 3, "problems": [{"object": "ab", "problem": "missing", "referenced_by": "data@x:/a"}]}"#)
            case "/v1/gc": return .json(#"{"objects_kept": 1, "objects_removed": 0, "bytes_removed": 0}"#)
            default: return .error("INTERNAL", "unexpected \(r.path)", status: 500)
            }
        }
        defer { daemon.stop() }
        var status = await run("inspect", "repo", "missing")
        XCTAssertEqual(status, PFSExitCode.notFound.rawValue)
        status = await run("inspect-repo", "missing")
        XCTAssertEqual(status, PFSExitCode.notFound.rawValue)
        status = await run("create-repo", "data")
        XCTAssertEqual(status, PFSExitCode.conflict.rawValue)
        status = await run("flush-commit", "data/master", "--timeout", "1")
        XCTAssertEqual(status, PFSExitCode.timeout.rawValue)
        status = await run("fsck", "--raw")
        XCTAssertEqual(status, PFSExitCode.corrupt.rawValue)
        status = await run("garbage-collect")
        XCTAssertEqual(status, PFSExitCode.success.rawValue)
        status = await run("list", "commit")
        XCTAssertEqual(status, PFSExitCode.usage.rawValue)
        status = await run("create", "repo", "no/slash")
        XCTAssertEqual(status, PFSExitCode.usage.rawValue)
        status = await run("put", "file", "data@master", "-f", dir + "/does-not-exist")
        XCTAssertEqual(status, PFSExitCode.io.rawValue)
        XCTAssertFalse(daemon.requests.contains { $0.method == "PUT" }, "nothing may be sent for a missing source")
        daemon.stop()
        status = await run("list-repo")
        XCTAssertEqual(status, PFSExitCode.unavailable.rawValue)
        status = await run("version")
        XCTAssertEqual(status, PFSExitCode.success.rawValue)
        let help = await PFSCommand.run(arguments: ["put", "file", "--help"])
        XCTAssertEqual(help, 0)
    }

    func testLegacyPutFileWithCommitStartsPutsAndFinishes() async throws {
        let id = "0123456789abcdef0123456789abcdef"
        let daemon = try FakeDaemon(socketPath: socketPath) { r in
            switch (r.method, r.path) {
            case ("POST", "/v1/repos/data/commits"): return .json(APIClientTests.commitJSON, status: 201)
            case ("PUT", "/v1/repos/data/files"): return .json(#"{"commit": "\#(id)", "finished": false, "files": 1, "bytes": 4, "new_bytes": 4}"#)
            case ("POST", "/v1/repos/data/commit/finish"): return .json(APIClientTests.commitJSON)
            default: return .error("INTERNAL", "unexpected", status: 500)
            }
        }
        defer { daemon.stop() }
        let file = dir + "/set1.txt"
        _ = FileManager.default.createFile(atPath: file, contents: Data("1,2\n".utf8))
        let status = await run("put-file", "data", "master", "sales", "-c", "-f", file)
        XCTAssertEqual(status, 0)
        let reqs = daemon.requests
        XCTAssertEqual(reqs.map { "\($0.method) \($0.uri)" }, [
            "GET /v1/repos/data/branches/master",  // does the branch exist (to remove it again if the put fails)?
            "POST /v1/repos/data/commits",
            "PUT /v1/repos/data/files?ref=\(id)",
            "POST /v1/repos/data/commit/finish?ref=\(id)",
        ])
        XCTAssertEqual(reqs[1].bodyString, #"{"branch":"master"}"#)
        let records = try decodePutStream(reqs[2].body)
        XCTAssertEqual(records.map(\.op), ["append"])
        XCTAssertEqual(records.map(\.path), ["/sales"])
        XCTAssertEqual(records[0].data, Array("1,2\n".utf8))
    }

    func testLegacyPutFileWithCommitRemovesTheCommitWhenThePutFails() async throws {
        let id = "0123456789abcdef0123456789abcdef"
        let daemon = try FakeDaemon(socketPath: socketPath) { r in
            switch (r.method, r.path) {
            case ("GET", "/v1/repos/data/branches/master"): return .error("NOT_FOUND", "no branch", status: 404)
            case ("POST", "/v1/repos/data/commits"): return .json(APIClientTests.commitJSON, status: 201)
            case ("PUT", "/v1/repos/data/files"): return .error("NO_SPACE", "disk full", status: 507)
            case ("DELETE", "/v1/repos/data/commit"), ("DELETE", "/v1/repos/data/branches/master"): return .noContent
            default: return .error("INTERNAL", "unexpected", status: 500)
            }
        }
        defer { daemon.stop() }
        let file = dir + "/set1.txt"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let status = await run("put-file", "data", "master", "-c", "-f", file)
        XCTAssertEqual(status, PFSExitCode.io.rawValue)
        // The branch did not exist before: starting the commit made it, so it goes too.
        XCTAssertEqual(daemon.requests.map { "\($0.method) \($0.uri)" }, [
            "GET /v1/repos/data/branches/master",
            "POST /v1/repos/data/commits",
            "PUT /v1/repos/data/files?ref=\(id)",
            "DELETE /v1/repos/data/commit?ref=\(id)",
            "DELETE /v1/repos/data/branches/master",
        ])
    }

    func testPutFile2xOverwritesAndGetFileWritesLocalFiles() async throws {
        let content = Array("hello, pfs\n".utf8)
        let daemon = try FakeDaemon(socketPath: socketPath) { r in
            switch (r.method, r.path) {
            case ("PUT", _): return .json(APIClientTests.putResultJSON)
            case ("GET", "/v1/repos/data/files"):
                return .json("""
                    [{"path": "/raw", "type": "dir", "size_bytes": 22, "mode": 493, "mtime_ns": 0, "hash": "h", "commit": "c1"},
                     {"path": "/raw/a.txt", "type": "file", "size_bytes": 11, "mode": 420, "mtime_ns": 1700000000000000000, "hash": "h", "commit": "c1"},
                     {"path": "/raw/sub/b.txt", "type": "file", "size_bytes": 11, "mode": 384, "mtime_ns": 0, "hash": "h", "commit": "c1"},
                     {"path": "/raw/sub/l", "type": "symlink", "size_bytes": 5, "mode": 511, "mtime_ns": 0, "hash": "h", "commit": "c1", "target": "b.txt"}]
                    """)
            case ("GET", "/v1/repos/data/file/content"): return FakeDaemon.Response(status: 200, body: content, contentType: "application/octet-stream")
            default: return .error("INTERNAL", "unexpected", status: 500)
            }
        }
        defer { daemon.stop() }
        let file = dir + "/a.txt"
        _ = FileManager.default.createFile(atPath: file, contents: Data(content))
        var status = await run("put", "file", "data@master:/x/", "-f", file)
        XCTAssertEqual(status, 0)
        let records = try decodePutStream(daemon.requests[0].body)
        XCTAssertEqual(records.map(\.op), ["put"])
        XCTAssertEqual(records.map(\.path), ["/x/a.txt"])

        let out = dir + "/out.txt"
        status = await run("get", "file", "data@master:/raw/a.txt", "-o", out)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: out).map { Array($0) }, content)

        let tree = dir + "/tree"
        status = await run("get-file", "data", "master", "/raw", "-r", "-o", tree)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: tree + "/a.txt").map { Array($0) }, content)
        XCTAssertEqual(FileManager.default.contents(atPath: tree + "/sub/b.txt").map { Array($0) }, content)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: tree + "/sub/l"), "b.txt")
        let attrs = try FileManager.default.attributesOfItem(atPath: tree + "/sub/b.txt")
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let mtime = try FileManager.default.attributesOfItem(atPath: tree + "/a.txt")[.modificationDate] as? Date
        XCTAssertEqual(mtime?.timeIntervalSince1970 ?? 0, 1_700_000_000, accuracy: 0.001)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("pfs-partial") }
        XCTAssertEqual(leftovers, [])
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import PFSCore
import XCTest
@testable import PFSCLI

/// The client against a fake daemon on a real Unix socket: requests on the wire, answers decoded, errors mapped.
final class APIClientTests: XCTestCase {
    var dir = ""
    var socketPath: String { dir + "/pfs.sock" }

    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func client() -> APIClient { APIClient(location: SocketLocation(path: socketPath, origin: .socketFlag)) }

    static let commitJSON = """
        {"id": "0123456789abcdef0123456789abcdef", "repo": "data", "branch": "master", "parent": null, "children": [],
         "state": "open", "origin": "user", "description": "", "started": "2026-11-22T04:01:02.345Z", "finished": null,
         "size_bytes": 0, "root": null, "commit_set": "0123456789abcdef0123456789abcdef", "provenance": []}
        """
    static let putResultJSON = #"{"commit": "0123456789abcdef0123456789abcdef", "finished": true, "files": 2, "bytes": 11, "new_bytes": 11}"#

    func testDecodesAnswersAndSendsRequests() async throws {
        let daemon = try FakeDaemon(socketPath: socketPath) { r in
            switch (r.method, r.path) {
            case ("GET", "/v1/repos"):
                return .json(#"[{"name": "data", "description": "d", "created": "2026-11-22T04:01:02.345Z", "size_bytes": 12, "branches": ["master"]}]"#)
            case ("POST", "/v1/repos"):
                return .json(#"{"name": "new", "description": "", "created": "2026-11-22T04:01:02.345Z", "size_bytes": 0, "branches": []}"#, status: 201)
            case ("DELETE", "/v1/repos/data"):
                return .noContent
            case ("GET", "/v1/version"):
                return .json(#"{"version": "0.1.0", "api_version": 1}"#)
            default:
                return .error("NOT_FOUND", "no route", status: 404)
            }
        }
        defer { daemon.stop() }
        let c = client()
        let repos = try await c.listRepos()
        XCTAssertEqual(repos.map(\.name), ["data"])
        XCTAssertEqual(repos[0].sizeBytes, 12)
        let created = try await c.createRepo(name: "new", description: "x", update: false)
        XCTAssertEqual(created.name, "new")
        try await c.deleteRepo("data", force: true)
        let version = try await c.version()
        XCTAssertEqual(version.apiVersion, 1)
        await c.shutdown()

        let reqs = daemon.requests
        XCTAssertEqual(reqs.map { "\($0.method) \($0.uri)" },
                       ["GET /v1/repos", "POST /v1/repos", "DELETE /v1/repos/data?force=true", "GET /v1/version"])
        XCTAssertEqual(reqs[1].bodyString, #"{"description":"x","name":"new"}"#)
        XCTAssertEqual(reqs[1].headers["content-type"], "application/json")
        XCTAssertEqual(reqs[0].headers["user-agent"], "pfs/\(PFSVersion.version)")
    }

    func testDaemonErrorsBecomePFSErrors() async throws {
        let daemon = try FakeDaemon(socketPath: socketPath) { r in
            switch r.path {
            case "/v1/repos/missing": return .error("NOT_FOUND", "repo \\\"missing\\\" not found", status: 404)
            case "/v1/repos/busy": return .error("FAILED_PRECONDITION", "repo has commits; use --force", status: 409)
            default: return FakeDaemon.Response(status: 500, body: Array("boom".utf8), contentType: "text/plain")
            }
        }
        defer { daemon.stop() }
        let c = client()
        do {
            _ = try await c.inspectRepo("missing")
            XCTFail()
        } catch let e as PFSError {
            XCTAssertEqual(e.code, .notFound)
            XCTAssertEqual(e.message, #"repo "missing" not found"#)
        }
        do {
            try await c.deleteRepo("busy", force: false)
            XCTFail()
        } catch let e as PFSError {
            XCTAssertEqual(PFSExitCode.forCode(e.code), .conflict)
        }
        do {
            _ = try await c.listRepos()
            XCTFail()
        } catch let e as PFSError {
            XCTAssertEqual(e.code, .internal)
            XCTAssertTrue(e.message.contains("HTTP 500") && e.message.contains("boom"), e.message)
        }
        await c.shutdown()
    }

    func testUnreachableDaemonSaysWhereItLookedAndHowToStartIt() async throws {
        let c = client()
        do {
            _ = try await c.listRepos()
            XCTFail()
        } catch let e as PFSError {
            XCTAssertEqual(e.code, .unavailable)
            XCTAssertTrue(e.message.contains(socketPath), e.message)
            XCTAssertTrue(e.message.contains("--socket"), e.message)
            XCTAssertTrue(e.message.contains("pfsmount --no-mount"), e.message)
        }
        // A socket file nobody listens on (a daemon that died).
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let b = Array(socketPath.utf8)
            raw.copyBytes(from: b)
            raw[b.count] = 0
        }
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(fd)
        do {
            _ = try await c.listRepos()
            XCTFail()
        } catch let e as PFSError {
            XCTAssertEqual(e.code, .unavailable)
            XCTAssertTrue(e.message.contains("nothing is listening"), e.message)
        }
        // A regular file where the socket should be.
        unlink(socketPath)
        _ = FileManager.default.createFile(atPath: socketPath, contents: Data())
        do {
            _ = try await c.listRepos()
            XCTFail()
        } catch let e as PFSError {
            XCTAssertTrue(e.message.contains("is not a socket"), e.message)
        }
        await c.shutdown()
    }

    func testPutSendsTheStreamAndDecodesTheResult() async throws {
        let daemon = try FakeDaemon(socketPath: socketPath) { _ in .json(Self.putResultJSON) }
        defer { daemon.stop() }
        let file = dir + "/a.txt"
        _ = FileManager.default.createFile(atPath: file, contents: Data("hello".utf8))
        let items = [
            PutItem(header: PutRecordHeader(op: .put, path: "/a.txt"), source: .localFile(file)),
            PutItem(header: PutRecordHeader(op: .append, path: "/b.txt"), source: .bytes(Array(" world".utf8))),
        ]
        let c = client()
        let result = try await c.putFiles(repo: "data", ref: "master", description: nil, body: PutBodySequence(items: items))
        await c.shutdown()
        XCTAssertEqual(result.files, 2)
        let req = try XCTUnwrap(daemon.requests.first)
        XCTAssertEqual("\(req.method) \(req.uri)", "PUT /v1/repos/data/files?ref=master")
        XCTAssertEqual(req.headers["transfer-encoding"], "chunked")
        let records = try decodePutStream(req.body)
        XCTAssertEqual(records.map(\.path), ["/a.txt", "/b.txt"])
        XCTAssertEqual(records[0].data, Array("hello".utf8))
        XCTAssertEqual(records[1].op, "append")
    }

    func testFailingURLAbortsTheUploadAndNamesTheURL() async throws {
        let web = try FakeDaemon(socketPath: nil) { r in
            r.path == "/ok.txt" ? FakeDaemon.Response(status: 200, body: Array("remote".utf8), contentType: "text/plain")
                                : FakeDaemon.Response(status: 404, body: Array("nope".utf8), contentType: "text/plain")
        }
        defer { web.stop() }
        let daemon = try FakeDaemon(socketPath: socketPath) { _ in .json(Self.putResultJSON) }
        defer { daemon.stop() }
        let c = client()

        // A URL that works is fetched and streamed.
        let ok = "http://127.0.0.1:\(web.port)/ok.txt"
        _ = try await c.putFiles(repo: "data", ref: "master", description: nil,
                                 body: PutBodySequence(items: [PutItem(header: PutRecordHeader(op: .put, path: "/ok.txt"), source: .url(ok))],
                                                       openURL: c.urlOpener))
        XCTAssertEqual(try decodePutStream(daemon.requests[0].body).first?.data, Array("remote".utf8))

        // A 404 after a good file: the upload is aborted, so the daemon never sees a complete request.
        let local = dir + "/first.txt"
        _ = FileManager.default.createFile(atPath: local, contents: Data("first".utf8))
        let missing = "http://127.0.0.1:\(web.port)/missing.csv"
        do {
            _ = try await c.putFiles(repo: "data", ref: "master", description: nil, body: PutBodySequence(items: [
                PutItem(header: PutRecordHeader(op: .put, path: "/first.txt"), source: .localFile(local)),
                PutItem(header: PutRecordHeader(op: .put, path: "/missing.csv"), source: .url(missing)),
            ], openURL: c.urlOpener))
            XCTFail("expected the URL failure")
        } catch let e as PFSError {
            XCTAssertEqual(e.code, .io)
            XCTAssertTrue(e.message.contains(missing), e.message)
            XCTAssertTrue(e.message.contains("404"), e.message)
        }
        try await Task.sleep(nanoseconds: 200_000_000)
        XCTAssertTrue(daemon.requests.dropFirst().allSatisfy { !$0.complete }, "the aborted put reached the daemon complete")

        // An unreachable host.
        let closedPort = "http://127.0.0.1:1/x.csv"
        do {
            _ = try await c.putFiles(repo: "data", ref: "master", description: nil, body: PutBodySequence(items: [
                PutItem(header: PutRecordHeader(op: .put, path: "/x.csv"), source: .url(closedPort)),
            ], openURL: c.urlOpener))
            XCTFail("expected the URL failure")
        } catch let e as PFSError {
            XCTAssertTrue(e.message.contains(closedPort), e.message)
        }
        await c.shutdown()
    }

    func testDownloadStreamsContent() async throws {
        let content = (0..<300_000).map { UInt8($0 % 256) }
        let daemon = try FakeDaemon(socketPath: socketPath) { r in
            r.query["path"] == "/a.bin" ? FakeDaemon.Response(status: 200, body: content, contentType: "application/octet-stream")
                                        : .error("IS_DIRECTORY", "/d is a directory", status: 409)
        }
        defer { daemon.stop() }
        let c = client()
        var got: [UInt8] = []
        try await c.getFile(repo: "data", ref: "master^", path: "/a.bin") { got.append(contentsOf: $0.readableBytesView) }
        XCTAssertEqual(got, content)
        XCTAssertEqual(daemon.requests[0].uri, "/v1/repos/data/file/content?ref=master%5E&path=/a.bin")
        do {
            try await c.getFile(repo: "data", ref: "master", path: "/d") { _ in XCTFail("no content expected") }
            XCTFail()
        } catch let e as PFSError {
            XCTAssertEqual(e.code, .isDirectory)
        }
        // The sink's own errors (stdout closed by `| head`) are not mistaken for connection errors.
        do {
            try await c.getFile(repo: "data", ref: "master", path: "/a.bin") { _ in throw Console.BrokenPipe() }
            XCTFail()
        } catch {
            XCTAssertTrue(error is Console.BrokenPipe, "\(error)")
        }
        await c.shutdown()
    }

    /// Client-side put throughput over a real socket into a reader that discards the body.
    func testPutThroughputOverTheSocket() async throws {
        let daemon = try FakeDaemon(socketPath: socketPath, storeBodies: false) { _ in .json(Self.putResultJSON) }
        defer { daemon.stop() }
        let size = 256 << 20
        let path = dir + "/big.bin"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        ftruncate(fd, off_t(size))
        close(fd)
        let c = client()
        let start = Date()
        _ = try await c.putFiles(repo: "data", ref: "master", description: nil, body: PutBodySequence(items: [
            PutItem(header: PutRecordHeader(op: .put, path: "/big.bin"), source: .localFile(path)),
        ]))
        let seconds = Date().timeIntervalSince(start)
        await c.shutdown()
        XCTAssertGreaterThan(daemon.requests[0].bodyBytes, size)
        print("put over the socket: \(size >> 20) MiB in \(String(format: "%.3f", seconds)) s = \(String(format: "%.0f", Double(size) / seconds / 1e6)) MB/s")
    }
}

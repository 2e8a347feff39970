import Foundation
import XCTest
@testable import PFSCLI

/// The API calls each operation makes: method, path, query (percent-encoded) and JSON body.
final class APIRequestTests: XCTestCase {
    func body(_ r: APIRequest) -> String { r.body.map { String(decoding: $0, as: UTF8.self) } ?? "" }

    func testRepos() {
        XCTAssertEqual(APIRequest.version().description, "GET /v1/version")
        XCTAssertEqual(APIRequest.listRepos().description, "GET /v1/repos")
        let create = APIRequest.createRepo(name: "data", description: "raw", update: false)
        XCTAssertEqual(create.description, "POST /v1/repos")
        XCTAssertEqual(body(create), #"{"description":"raw","name":"data"}"#)
        XCTAssertEqual(body(.createRepo(name: "data", description: nil, update: false)), #"{"name":"data"}"#)
        XCTAssertEqual(body(.createRepo(name: "data", description: "d", update: true)), #"{"description":"d","name":"data","update":true}"#)
        XCTAssertEqual(APIRequest.inspectRepo("data").description, "GET /v1/repos/data")
        XCTAssertEqual(APIRequest.deleteRepo("data", force: false).description, "DELETE /v1/repos/data")
        XCTAssertEqual(APIRequest.deleteRepo("data", force: true).description, "DELETE /v1/repos/data?force=true")
    }

    func testBranches() {
        XCTAssertEqual(APIRequest.listBranches(repo: "data").description, "GET /v1/repos/data/branches")
        let create = APIRequest.createBranch(repo: "data", branch: "v1.0", head: "master~1")
        XCTAssertEqual(create.description, "POST /v1/repos/data/branches")
        XCTAssertEqual(body(create), #"{"head":"master~1","name":"v1.0"}"#)
        XCTAssertEqual(APIRequest.inspectBranch(repo: "data", branch: "v1.0").description, "GET /v1/repos/data/branches/v1.0")
        XCTAssertEqual(APIRequest.deleteBranch(repo: "data", branch: "x").description, "DELETE /v1/repos/data/branches/x")
    }

    func testCommits() {
        XCTAssertEqual(APIRequest.listCommits(repo: "data", branch: nil, all: false, limit: nil).description, "GET /v1/repos/data/commits")
        XCTAssertEqual(APIRequest.listCommits(repo: "data", branch: "dev", all: false, limit: 5).description,
                       "GET /v1/repos/data/commits?branch=dev&limit=5")
        XCTAssertEqual(APIRequest.listCommits(repo: "data", branch: nil, all: true, limit: nil).description,
                       "GET /v1/repos/data/commits?all=true")
        let start = APIRequest.startCommit(repo: "data", branch: "master", parent: "master^", description: "d")
        XCTAssertEqual(start.description, "POST /v1/repos/data/commits")
        XCTAssertEqual(body(start), #"{"branch":"master","description":"d","parent":"master^"}"#)
        XCTAssertEqual(APIRequest.inspectCommit(repo: "data", ref: "master^").description, "GET /v1/repos/data/commit?ref=master%5E")
        XCTAssertEqual(APIRequest.inspectCommit(repo: "data", ref: "master~2").description, "GET /v1/repos/data/commit?ref=master~2")
        let finish = APIRequest.finishCommit(repo: "data", ref: "master", description: nil)
        XCTAssertEqual(finish.description, "POST /v1/repos/data/commit/finish?ref=master")
        XCTAssertEqual(body(finish), "{}")
        XCTAssertEqual(APIRequest.deleteCommit(repo: "data", ref: "3f2a9c1e").description, "DELETE /v1/repos/data/commit?ref=3f2a9c1e")
        XCTAssertEqual(APIRequest.waitCommit(repo: "data", ref: "master", timeoutSeconds: 30).description,
                       "GET /v1/repos/data/commit/wait?ref=master&timeout=30")
        XCTAssertEqual(APIRequest.waitCommit(repo: "data", ref: "master", timeoutSeconds: nil).description,
                       "GET /v1/repos/data/commit/wait?ref=master")
    }

    func testFiles() {
        XCTAssertEqual(APIRequest.listFiles(repo: "d", ref: "master", path: "/a b", recursive: false).description,
                       "GET /v1/repos/d/files?ref=master&path=/a%20b")
        XCTAssertEqual(APIRequest.listFiles(repo: "d", ref: "master", path: "/", recursive: true).description,
                       "GET /v1/repos/d/files?ref=master&path=/&recursive=true")
        XCTAssertEqual(APIRequest.inspectFile(repo: "d", ref: "m", path: "/x").description, "GET /v1/repos/d/file?ref=m&path=/x")
        XCTAssertEqual(APIRequest.fileContent(repo: "d", ref: "m", path: "/x").description, "GET /v1/repos/d/file/content?ref=m&path=/x")
        XCTAssertEqual(APIRequest.fileContent(repo: "d", ref: "m", path: "/x", offset: 5, length: 10).description,
                       "GET /v1/repos/d/file/content?ref=m&path=/x&offset=5&length=10")
        XCTAssertEqual(APIRequest.glob(repo: "d", ref: "m", pattern: "/data/[ab]*").description,
                       "GET /v1/repos/d/glob?ref=m&pattern=/data/%5Bab%5D%2A")
        XCTAssertEqual(APIRequest.diff(repo: "d", ref: "m", old: "m~3", path: "/raw").description,
                       "GET /v1/repos/d/diff?ref=m&old=m~3&path=/raw")
        XCTAssertEqual(APIRequest.diff(repo: "d", ref: "m", old: nil, path: nil).description, "GET /v1/repos/d/diff?ref=m")
        XCTAssertEqual(APIRequest.putFiles(repo: "d", ref: "master", description: nil).description, "PUT /v1/repos/d/files?ref=master")
        XCTAssertEqual(APIRequest.putFiles(repo: "d", ref: "master", description: "a&b").description,
                       "PUT /v1/repos/d/files?ref=master&description=a%26b")
        let del = APIRequest.deleteFiles(repo: "d", ref: "master", paths: ["/a", "/b"], recursive: true)
        XCTAssertEqual(del.description, "POST /v1/repos/d/files/delete?ref=master")
        XCTAssertEqual(body(del), #"{"paths":["/a","/b"],"recursive":true}"#)
        let copy = APIRequest.copyFile(srcRepo: "s", srcRef: "m^", srcPath: "/a", dstRepo: "d", dstRef: "master", dstPath: "/b", append: true)
        XCTAssertEqual(copy.description, "POST /v1/repos/d/files/copy?ref=master")
        XCTAssertEqual(body(copy), #"{"append":true,"dst_path":"/b","src_path":"/a","src_ref":"m^","src_repo":"s"}"#)
    }

    func testMaintenance() {
        XCTAssertEqual(APIRequest.fsck(verify: true).description, "GET /v1/fsck")
        XCTAssertEqual(APIRequest.fsck(verify: false).description, "GET /v1/fsck?verify=false")
        XCTAssertEqual(APIRequest.gc().description, "POST /v1/gc")
    }

    func testEncoding() {
        XCTAssertEqual(APIRequest.encodeQuery("a^b~c/d e%"), "a%5Eb~c/d%20e%25")
        XCTAssertEqual(APIRequest.encodeQuery("é"), "%C3%A9")
        XCTAssertEqual(APIRequest.encodeSegment("a/b"), "a%2Fb")
    }
}

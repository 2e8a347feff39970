import Foundation
import PFSCore

/// One call of the daemon's API (docs/api/README.md) as plain data: method, path, query and JSON body.
///
/// Building requests is pure, so every command's translation to the API is unit-tested without a daemon;
/// `APIClient` only sends them.
public struct APIRequest: Sendable, Equatable, CustomStringConvertible {
    public enum Method: String, Sendable, Equatable {
        case get = "GET", post = "POST", put = "PUT", delete = "DELETE"
    }

    public struct QueryItem: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    public var method: Method
    /// The path with every segment already percent-encoded, e.g. `/v1/repos/data/commits`.
    public var path: String
    public var query: [QueryItem]
    /// A JSON body (sorted keys, so equal requests have equal bytes).
    public var body: Data?

    public init(_ method: Method, _ path: String, query: [QueryItem] = [], body: Data? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
    }

    /// Path and query as sent on the request line, e.g. `/v1/repos/data/commit?ref=master%5E`.
    public var uri: String {
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { Self.encodeQuery($0.name) + "=" + Self.encodeQuery($0.value) }.joined(separator: "&")
    }

    public var description: String { "\(method.rawValue) \(uri)" }

    // MARK: - Encoding

    private static let unreserved: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    /// Percent-encodes everything but RFC 3986's unreserved characters (and `/`, which is legal in a query
    /// and keeps paths readable in logs).
    public static func encodeQuery(_ s: String) -> String {
        percentEncode(s, keeping: unreserved.union([UInt8(ascii: "/")]))
    }

    /// Percent-encodes one path segment (a repo or branch name).
    public static func encodeSegment(_ s: String) -> String {
        percentEncode(s, keeping: unreserved)
    }

    private static func percentEncode(_ s: String, keeping allowed: Set<UInt8>) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if allowed.contains(b) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func repoPath(_ repo: String, _ rest: String = "") -> String {
        "/v1/repos/" + encodeSegment(repo) + rest
    }

    static func json<T: Encodable>(_ value: T) -> Data {
        // The bodies are plain structs of strings and bools; encoding them cannot fail.
        (try? PFSJSON.encoder().encode(value)) ?? Data("{}".utf8)
    }

    // MARK: - Operations (one per row of the API's table)

    public static func version() -> APIRequest { APIRequest(.get, "/v1/version") }

    public static func listRepos() -> APIRequest { APIRequest(.get, "/v1/repos") }

    struct CreateRepoBody: Encodable { var name: String; var description: String?; var update: Bool? }

    public static func createRepo(name: String, description: String?, update: Bool) -> APIRequest {
        APIRequest(.post, "/v1/repos", body: json(CreateRepoBody(name: name, description: description, update: update ? true : nil)))
    }

    public static func inspectRepo(_ repo: String) -> APIRequest { APIRequest(.get, repoPath(repo)) }

    public static func deleteRepo(_ repo: String, force: Bool) -> APIRequest {
        APIRequest(.delete, repoPath(repo), query: force ? [QueryItem("force", "true")] : [])
    }

    public static func listBranches(repo: String) -> APIRequest { APIRequest(.get, repoPath(repo, "/branches")) }

    struct CreateBranchBody: Encodable { var name: String; var head: String? }

    public static func createBranch(repo: String, branch: String, head: String?) -> APIRequest {
        APIRequest(.post, repoPath(repo, "/branches"), body: json(CreateBranchBody(name: branch, head: head)))
    }

    public static func inspectBranch(repo: String, branch: String) -> APIRequest {
        APIRequest(.get, repoPath(repo, "/branches/" + encodeSegment(branch)))
    }

    public static func deleteBranch(repo: String, branch: String) -> APIRequest {
        APIRequest(.delete, repoPath(repo, "/branches/" + encodeSegment(branch)))
    }

    public static func listCommits(repo: String, branch: String?, all: Bool, limit: Int?) -> APIRequest {
        var q: [QueryItem] = []
        if let branch { q.append(QueryItem("branch", branch)) }
        if all { q.append(QueryItem("all", "true")) }
        if let limit { q.append(QueryItem("limit", String(limit))) }
        return APIRequest(.get, repoPath(repo, "/commits"), query: q)
    }

    struct StartCommitBody: Encodable { var branch: String; var parent: String?; var description: String? }

    public static func startCommit(repo: String, branch: String, parent: String?, description: String?) -> APIRequest {
        APIRequest(.post, repoPath(repo, "/commits"),
                   body: json(StartCommitBody(branch: branch, parent: parent, description: description)))
    }

    public static func inspectCommit(repo: String, ref: String) -> APIRequest {
        APIRequest(.get, repoPath(repo, "/commit"), query: [QueryItem("ref", ref)])
    }

    struct FinishCommitBody: Encodable { var description: String? }

    public static func finishCommit(repo: String, ref: String, description: String?) -> APIRequest {
        APIRequest(.post, repoPath(repo, "/commit/finish"), query: [QueryItem("ref", ref)],
                   body: json(FinishCommitBody(description: description)))
    }

    public static func deleteCommit(repo: String, ref: String) -> APIRequest {
        APIRequest(.delete, repoPath(repo, "/commit"), query: [QueryItem("ref", ref)])
    }

    public static func waitCommit(repo: String, ref: String, timeoutSeconds: Int?) -> APIRequest {
        var q = [QueryItem("ref", ref)]
        if let timeoutSeconds { q.append(QueryItem("timeout", String(timeoutSeconds))) }
        return APIRequest(.get, repoPath(repo, "/commit/wait"), query: q)
    }

    public static func listFiles(repo: String, ref: String, path: String, recursive: Bool) -> APIRequest {
        var q = [QueryItem("ref", ref), QueryItem("path", path)]
        if recursive { q.append(QueryItem("recursive", "true")) }
        return APIRequest(.get, repoPath(repo, "/files"), query: q)
    }

    public static func inspectFile(repo: String, ref: String, path: String) -> APIRequest {
        APIRequest(.get, repoPath(repo, "/file"), query: [QueryItem("ref", ref), QueryItem("path", path)])
    }

    public static func fileContent(repo: String, ref: String, path: String, offset: Int64? = nil, length: Int64? = nil) -> APIRequest {
        var q = [QueryItem("ref", ref), QueryItem("path", path)]
        if let offset { q.append(QueryItem("offset", String(offset))) }
        if let length { q.append(QueryItem("length", String(length))) }
        return APIRequest(.get, repoPath(repo, "/file/content"), query: q)
    }

    public static func glob(repo: String, ref: String, pattern: String) -> APIRequest {
        APIRequest(.get, repoPath(repo, "/glob"), query: [QueryItem("ref", ref), QueryItem("pattern", pattern)])
    }

    public static func diff(repo: String, ref: String, old: String?, path: String?) -> APIRequest {
        var q = [QueryItem("ref", ref)]
        if let old { q.append(QueryItem("old", old)) }
        if let path { q.append(QueryItem("path", path)) }
        return APIRequest(.get, repoPath(repo, "/diff"), query: q)
    }

    /// The head of a put; the body is a put stream (`PutStreamEncoder`), sent separately.
    public static func putFiles(repo: String, ref: String, description: String?) -> APIRequest {
        var q = [QueryItem("ref", ref)]
        if let description { q.append(QueryItem("description", description)) }
        return APIRequest(.put, repoPath(repo, "/files"), query: q)
    }

    struct DeleteFilesBody: Encodable { var paths: [String]; var recursive: Bool? }

    public static func deleteFiles(repo: String, ref: String, paths: [String], recursive: Bool) -> APIRequest {
        APIRequest(.post, repoPath(repo, "/files/delete"), query: [QueryItem("ref", ref)],
                   body: json(DeleteFilesBody(paths: paths, recursive: recursive ? true : nil)))
    }

    struct CopyFileBody: Encodable {
        var srcRepo: String; var srcRef: String; var srcPath: String; var dstPath: String; var append: Bool?
    }

    public static func copyFile(srcRepo: String, srcRef: String, srcPath: String,
                                dstRepo: String, dstRef: String, dstPath: String, append: Bool) -> APIRequest {
        APIRequest(.post, repoPath(dstRepo, "/files/copy"), query: [QueryItem("ref", dstRef)],
                   body: json(CopyFileBody(srcRepo: srcRepo, srcRef: srcRef, srcPath: srcPath, dstPath: dstPath,
                                           append: append ? true : nil)))
    }

    public static func fsck(verify: Bool) -> APIRequest {
        APIRequest(.get, "/v1/fsck", query: verify ? [] : [QueryItem("verify", "false")])
    }

    public static func gc() -> APIRequest { APIRequest(.post, "/v1/gc") }

    public static func status() -> APIRequest { APIRequest(.get, "/v1/status") }

    public static func unmount() -> APIRequest { APIRequest(.post, "/v1/unmount") }
}

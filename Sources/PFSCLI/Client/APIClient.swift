#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import PFSCore

/// The daemon's HTTP/JSON API (docs/api/README.md) over its Unix socket.
///
/// One `APIClient` (one `HTTPClient`, one connection pool) per process; call `shutdown()` before exiting.
/// The same `HTTPClient` fetches `http(s)://` sources for `put file`.
public final class APIClient: Sendable {
    public let location: SocketLocation
    let http: HTTPClient

    /// JSON answers larger than this are refused rather than buffered (a listing of millions of files is ~1 GiB).
    static let maxJSONBytes = 1 << 30

    public init(location: SocketLocation) {
        self.location = location
        var config = HTTPClient.Configuration(
            redirectConfiguration: .follow(max: 5, allowCycles: false),
            timeout: .init(connect: .seconds(10), read: nil),
            decompression: .disabled)
        // Fail at once when the daemon is not there, instead of retrying until the connect timeout.
        config.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: config)
    }

    /// Closes the connection pool. Call exactly once, after the last request.
    public func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: - Typed operations

    public func version() async throws -> VersionInfo { try await json(.version()) }

    public func listRepos() async throws -> [RepoInfo] { try await json(.listRepos()) }

    public func createRepo(name: String, description: String?, update: Bool) async throws -> RepoInfo {
        try await json(.createRepo(name: name, description: description, update: update))
    }

    public func inspectRepo(_ name: String) async throws -> RepoInfo { try await json(.inspectRepo(name)) }

    public func deleteRepo(_ name: String, force: Bool) async throws { try await noContent(.deleteRepo(name, force: force)) }

    public func listBranches(repo: String) async throws -> [BranchInfo] { try await json(.listBranches(repo: repo)) }

    public func createBranch(repo: String, branch: String, head: String?) async throws -> BranchInfo {
        try await json(.createBranch(repo: repo, branch: branch, head: head))
    }

    public func inspectBranch(repo: String, branch: String) async throws -> BranchInfo {
        try await json(.inspectBranch(repo: repo, branch: branch))
    }

    public func deleteBranch(repo: String, branch: String) async throws {
        try await noContent(.deleteBranch(repo: repo, branch: branch))
    }

    public func listCommits(repo: String, branch: String?, all: Bool, limit: Int?) async throws -> [CommitInfo] {
        try await json(.listCommits(repo: repo, branch: branch, all: all, limit: limit))
    }

    public func startCommit(repo: String, branch: String, parent: String?, description: String?) async throws -> CommitInfo {
        try await json(.startCommit(repo: repo, branch: branch, parent: parent, description: description))
    }

    public func inspectCommit(repo: String, ref: String) async throws -> CommitInfo {
        try await json(.inspectCommit(repo: repo, ref: ref))
    }

    public func finishCommit(repo: String, ref: String, description: String?) async throws -> CommitInfo {
        try await json(.finishCommit(repo: repo, ref: ref, description: description))
    }

    public func deleteCommit(repo: String, ref: String) async throws { try await noContent(.deleteCommit(repo: repo, ref: ref)) }

    public func waitCommit(repo: String, ref: String, timeoutSeconds: Int?) async throws -> [CommitInfo] {
        try await json(.waitCommit(repo: repo, ref: ref, timeoutSeconds: timeoutSeconds))
    }

    public func listFiles(repo: String, ref: String, path: String, recursive: Bool) async throws -> [FileInfo] {
        try await json(.listFiles(repo: repo, ref: ref, path: path, recursive: recursive))
    }

    public func inspectFile(repo: String, ref: String, path: String) async throws -> FileInfo {
        try await json(.inspectFile(repo: repo, ref: ref, path: path))
    }

    /// Streams a file's bytes to `sink`, buffer by buffer, as they arrive.
    public func getFile(repo: String, ref: String, path: String,
                        sink: (ByteBuffer) async throws -> Void) async throws {
        try await download(.fileContent(repo: repo, ref: ref, path: path), sink: sink)
    }

    public func glob(repo: String, ref: String, pattern: String) async throws -> [FileInfo] {
        try await json(.glob(repo: repo, ref: ref, pattern: pattern))
    }

    public func diff(repo: String, ref: String, old: String?, path: String?) async throws -> [DiffEntry] {
        try await json(.diff(repo: repo, ref: ref, old: old, path: path))
    }

    /// Sends a put stream. If `body` throws (a source failed), the upload is aborted and the error rethrown.
    public func putFiles(repo: String, ref: String, description: String?, body: PutBodySequence) async throws -> PutResult {
        let api = APIRequest.putFiles(repo: repo, ref: ref, description: description)
        var request = try httpRequest(api)
        request.headers.replaceOrAdd(name: "Content-Type", value: "application/octet-stream")
        request.body = .stream(body, length: .unknown)
        let response = try await execute(request, api: api)
        return try await decode(response, api: api)
    }

    public func deleteFiles(repo: String, ref: String, paths: [String], recursive: Bool) async throws -> PutResult {
        try await json(.deleteFiles(repo: repo, ref: ref, paths: paths, recursive: recursive))
    }

    public func copyFile(_ c: CopyFileRequest) async throws -> PutResult {
        try await json(.copyFile(srcRepo: c.srcRepo, srcRef: c.srcRef, srcPath: c.srcPath,
                                 dstRepo: c.dstRepo, dstRef: c.dstRef, dstPath: c.dstPath, append: c.append))
    }

    public func fsck(verify: Bool) async throws -> FsckReport { try await json(.fsck(verify: verify)) }

    public func gc() async throws -> GCReport { try await json(.gc()) }

    public func status() async throws -> DaemonStatus { try await json(.status()) }

    /// Asks the daemon to finish its open commits, unmount and exit.
    public func unmount() async throws -> DaemonStatus { try await json(.unmount()) }

    // MARK: - URL sources

    /// Fetches an `http(s)://` URL for `put file -f URL`. Errors name the URL.
    public func openURL(_ url: String) async throws -> ByteBufferStream {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(HTTPClientRequest(url: url), deadline: .distantFuture)
        } catch let error as PFSError {
            throw error
        } catch {
            throw PFSError(.io, "cannot fetch \(url): \(Self.describe(error))", cause: error)
        }
        guard (200..<300).contains(response.status.code) else {
            throw PFSError(.io, "cannot fetch \(url): the server answered HTTP \(response.status.code) \(response.status.reasonPhrase); nothing was put")
        }
        var iterator = response.body.makeAsyncIterator()
        return ByteBufferStream {
            do {
                return try await iterator.next()
            } catch {
                throw PFSError(.io, "cannot fetch \(url): the download failed: \(Self.describe(error)); nothing was put", cause: error)
            }
        }
    }

    /// The `openURL` of this client, as the closure `PutBodySequence` takes.
    public var urlOpener: URLOpener {
        { [self] url in try await self.openURL(url) }
    }

    // MARK: - Exchange

    /// Sends a request and decodes a JSON answer.
    public func json<T: Decodable>(_ api: APIRequest, as type: T.Type = T.self) async throws -> T {
        let response = try await execute(try httpRequest(api), api: api)
        return try await decode(response, api: api)
    }

    /// Sends a request whose answer has no body (204).
    public func noContent(_ api: APIRequest) async throws {
        let response = try await execute(try httpRequest(api), api: api)
        let body = try await collect(response, api: api)
        try Self.check(status: response.status.code, body: body, api: api)
    }

    /// Sends a request and streams the answer's body to `sink`.
    public func download(_ api: APIRequest, sink: (ByteBuffer) async throws -> Void) async throws {
        let response = try await execute(try httpRequest(api), api: api)
        guard (200..<300).contains(response.status.code) else {
            let body = try await collect(response, api: api)
            try Self.check(status: response.status.code, body: body, api: api)
            return
        }
        var iterator = response.body.makeAsyncIterator()
        while true {
            // Only failures to receive are connection errors; the sink's own errors (a closed stdout, a full
            // disk) pass through unchanged.
            let next: ByteBuffer?
            do {
                next = try await iterator.next()
            } catch {
                throw connectionError(error, api: api)
            }
            guard let buffer = next else { return }
            try await sink(buffer)
        }
    }

    func httpRequest(_ api: APIRequest) throws -> HTTPClientRequest {
        guard let url = URL(httpURLWithSocketPath: location.path, uri: api.uri) else {
            throw PFSError.invalid("cannot make a URL for the socket path \(LocalFile.quoted(location.path))")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .RAW(value: api.method.rawValue)
        request.headers.add(name: "User-Agent", value: "pfs/\(PFSVersion.version)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body = api.body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    func execute(_ request: HTTPClientRequest, api: APIRequest) async throws -> HTTPClientResponse {
        if location.path.utf8.count > SocketLocation.maxPathBytes {
            throw PFSError(.unavailable, """
                the socket path \(LocalFile.quoted(location.path)) (from \(location.origin.rawValue)) is \
                \(location.path.utf8.count) bytes long; Unix sockets allow \(SocketLocation.maxPathBytes). \
                Use a shorter --data-dir or --socket.
                """)
        }
        do {
            return try await http.execute(request, deadline: .distantFuture)
        } catch let error as PFSError {
            // A put source failed while streaming; the upload was aborted.
            throw error
        } catch {
            throw connectionError(error, api: api)
        }
    }

    private func collect(_ response: HTTPClientResponse, api: APIRequest) async throws -> ByteBuffer {
        do {
            return try await response.body.collect(upTo: Self.maxJSONBytes)
        } catch {
            throw connectionError(error, api: api)
        }
    }

    private func decode<T: Decodable>(_ response: HTTPClientResponse, api: APIRequest) async throws -> T {
        let body = try await collect(response, api: api)
        try Self.check(status: response.status.code, body: body, api: api)
        do {
            return try PFSJSON.decoder().decode(T.self, from: Data(body.readableBytesView))
        } catch {
            throw PFSError(.internal, "unexpected answer from the daemon to \(api.method.rawValue) \(api.path): \(Self.describeDecoding(error))",
                           cause: error)
        }
    }

    /// Throws the daemon's error for a non-2xx status.
    static func check(status: UInt, body: ByteBuffer, api: APIRequest) throws {
        guard !(200..<300).contains(status) else { return }
        throw apiError(status: status, body: Data(body.readableBytesView), api: api)
    }

    /// The `PFSError` an error answer stands for: the daemon's `{"error": {"code", "message"}}` when present.
    public static func apiError(status: UInt, body: Data, api: APIRequest) -> PFSError {
        if let decoded = try? PFSJSON.decoder().decode(APIErrorBody.self, from: body) {
            return PFSError(PFSError.Code(rawValue: decoded.error.code), decoded.error.message)
        }
        let code: PFSError.Code
        switch status {
        case 400: code = .invalidArgument
        case 404: code = .notFound
        case 409: code = .failedPrecondition
        case 504: code = .timeout
        case 507: code = .noSpace
        default: code = .internal
        }
        var snippet = String(decoding: body.prefix(300), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        snippet = Names.printable(snippet)
        let detail = snippet.isEmpty ? "" : ": \(snippet)"
        return PFSError(code, "the daemon answered HTTP \(status) to \(api.method.rawValue) \(api.path)\(detail)")
    }

    // MARK: - Connection errors

    /// Explains a failure to talk to the daemon: where we looked, why it failed, and how to start it.
    func connectionError(_ error: any Error, api: APIRequest) -> PFSError {
        let path = location.path
        let origin = "from \(location.origin.rawValue)"
        let hint = """
            Start the daemon with `pfsmount --no-mount` (API only) or `pfsmount ~/pfs` (with the mount), \
            or point pfs at a running one with --data-dir DIR / $PFS_DATA_DIR (or --socket PATH / $PFS_SOCKET).
            """
        var st = stat()
        if stat(path, &st) != 0 {
            let e = errno
            if e == ENOENT || e == ENOTDIR {
                return PFSError(.unavailable, "cannot reach the pfs daemon: no socket at \(path) (\(origin)); is the daemon running?\n\(hint)", cause: error)
            }
            return PFSError(.unavailable, "cannot reach the pfs daemon at \(path) (\(origin)): \(LocalFile.errnoMessage(e))\n\(hint)", cause: error)
        }
        if (st.st_mode & S_IFMT) != S_IFSOCK {
            return PFSError(.unavailable, "cannot reach the pfs daemon: \(path) (\(origin)) is not a socket\n\(hint)", cause: error)
        }
        switch Self.errnoCode(of: error) {
        case ECONNREFUSED:
            return PFSError(.unavailable, "cannot reach the pfs daemon: nothing is listening on \(path) (\(origin)); a daemon that stopped may have left it behind\n\(hint)", cause: error)
        case EACCES, EPERM:
            return PFSError(.unavailable, "cannot reach the pfs daemon at \(path) (\(origin)): permission denied; the socket belongs to the user who runs the daemon", cause: error)
        default:
            return PFSError(.unavailable, "lost the connection to the pfs daemon at \(path) (\(origin)) during \(api.method.rawValue) \(api.path): \(Self.describe(error))", cause: error)
        }
    }

    static func errnoCode(of error: any Error) -> Int32? {
        if let io = error as? IOError { return io.errnoCode }
        let text = String(describing: error)
        if text.contains("Connection refused") || text.contains("errno: 111") { return ECONNREFUSED }
        if text.contains("Permission denied") || text.contains("errno: 13") { return EACCES }
        return nil
    }

    /// A one-line description of a networking error, without type names where a readable text exists.
    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return LocalFile.errnoMessage(io.errnoCode) }
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout: return "connection timed out"
            case .remoteConnectionClosed: return "the connection was closed by the other side"
            case .readTimeout: return "read timed out"
            case .invalidURL: return "invalid URL"
            case .emptyHost: return "the URL has no host"
            case .cancelled: return "cancelled"
            case .redirectLimitReached: return "too many redirects"
            case .redirectCycleDetected: return "redirect cycle"
            default: return String(describing: e)
            }
        }
        let text = String(describing: error)
        if text.contains("Connection refused") { return "connection refused" }
        if text.contains("UnknownHost") { return "unknown host (DNS lookup failed)" }
        if text.contains("handshakeFailed") { return "the TLS handshake failed" }
        if text.contains("certificate") || text.contains("CERTIFICATE") { return "the server's TLS certificate was not accepted" }
        return text
    }

    static func describeDecoding(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return String(describing: error) }
        func path(_ ctx: DecodingError.Context) -> String {
            let p = ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : " at \(p)"
        }
        switch e {
        case .keyNotFound(let key, let ctx): return "missing field \"\(key.stringValue)\"\(path(ctx))"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
            return "\(ctx.debugDescription)\(path(ctx))"
        @unknown default: return String(describing: e)
        }
    }
}

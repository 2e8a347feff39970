import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PFSCore
import PFSPipelines
import Synchronization

/// The daemon's HTTP/JSON API (docs/api/README.md) over a store. Store calls block (SQLite, file I/O,
/// hashing), so they run on a dedicated thread pool, never on the event loops.
public struct APIServer: Sendable {
    public let store: Store
    let pool: NIOThreadPool
    let logger: Logger
    let control: DaemonControl
    let pipelines: PipelineManager?

    public init(store: Store, pool: NIOThreadPool, logger: Logger, control: DaemonControl = DaemonControl(),
                pipelines: PipelineManager? = nil) {
        self.store = store
        self.pool = pool
        self.logger = logger
        self.control = control
        self.pipelines = pipelines
    }

    /// The longest `wait` timeout (68 years): a bound that keeps the conversion to milliseconds exact.
    static let maxWaitSeconds: Double = 2_147_483_648

    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(ErrorMiddleware())
        let api = router.group("v1")

        api.get("version") { _, _ in json(VersionInfo(version: PFSVersion.version, apiVersion: PFSVersion.apiVersion)) }
        api.get("status") { _, _ in
            json(DaemonStatus(pid: Int(getpid()), dataDir: store.dataDir.path, mountpoint: control.mountpoint,
                              version: PFSVersion.version))
        }
        api.post("unmount") { _, _ in
            // Reply first; the shutdown (finish open commits, unmount, exit) follows.
            control.requestShutdown()
            return json(DaemonStatus(pid: Int(getpid()), dataDir: store.dataDir.path, mountpoint: control.mountpoint,
                                     version: PFSVersion.version), status: .accepted)
        }

        // repos
        api.get("repos") { _, _ in json(try await blocking { try store.listRepos() }) }
        api.post("repos") { req, ctx in
            struct Body: Decodable { var name: String; var description: String?; var update: Bool? }
            let b = try await decode(Body.self, req, ctx)
            return json(try await blocking {
                try store.createRepo(b.name, description: b.description ?? "", update: b.update ?? false)
            }, status: .created)
        }
        api.get("repos/:repo") { _, ctx in
            let repo = try ctx.parameters.require("repo")
            return json(try await blocking { try store.inspectRepo(repo) })
        }
        api.delete("repos/:repo") { req, ctx in
            let repo = try ctx.parameters.require("repo")
            let force = flag(req, "force")
            try await blocking { try store.deleteRepo(repo, force: force) }
            return Response(status: .noContent)
        }

        // branches
        api.get("repos/:repo/branches") { _, ctx in
            let repo = try ctx.parameters.require("repo")
            return json(try await blocking { try store.listBranches(repo: repo) })
        }
        api.post("repos/:repo/branches") { req, ctx in
            struct Body: Decodable { var name: String; var head: String? }
            let repo = try ctx.parameters.require("repo")
            let b = try await decode(Body.self, req, ctx)
            return json(try await blocking { try store.createBranch(repo: repo, name: b.name, head: b.head) }, status: .created)
        }
        api.get("repos/:repo/branches/:branch") { _, ctx in
            let repo = try ctx.parameters.require("repo"), branch = try ctx.parameters.require("branch")
            return json(try await blocking { try store.inspectBranch(repo: repo, name: branch) })
        }
        api.delete("repos/:repo/branches/:branch") { _, ctx in
            let repo = try ctx.parameters.require("repo"), branch = try ctx.parameters.require("branch")
            try await blocking { try store.deleteBranch(repo: repo, name: branch) }
            return Response(status: .noContent)
        }

        // commits
        api.get("repos/:repo/commits") { req, ctx in
            let repo = try ctx.parameters.require("repo")
            let branch = query(req, "branch"), all = flag(req, "all")
            let limit = try query(req, "limit").map { s -> Int in
                guard let n = Int(s) else { throw PFSError.invalid("limit must be a whole number, got \"\(s)\"") }
                return n
            }
            return json(try await blocking { try store.listCommits(repo: repo, branch: branch, all: all, limit: limit) })
        }
        api.post("repos/:repo/commits") { req, ctx in
            struct Body: Decodable { var branch: String; var parent: String?; var description: String? }
            let repo = try ctx.parameters.require("repo")
            let b = try await decode(Body.self, req, ctx)
            return json(try await blocking {
                try store.startCommit(repo: repo, branch: b.branch, parent: b.parent, description: b.description ?? "")
            }, status: .created)
        }
        api.get("repos/:repo/commit") { req, ctx in
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            return json(try await blocking { try store.inspectCommit(repo: repo, ref: ref) })
        }
        api.post("repos/:repo/commit/finish") { req, ctx in
            struct Body: Decodable { var description: String? }
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            let b = try await decodeOptional(Body.self, req, ctx) ?? Body()
            return json(try await blocking {
                guard let c = try store.finishCommit(repo: repo, ref: ref, description: b.description) else {
                    throw PFSError(.internal, "the commit was discarded")
                }
                return c
            })
        }
        api.delete("repos/:repo/commit") { req, ctx in
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            try await blocking { try store.deleteCommit(repo: repo, ref: ref) }
            return Response(status: .noContent)
        }
        api.get("repos/:repo/commit/wait") { req, ctx in
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            let timeout = try query(req, "timeout").map { s -> Duration in
                // Bounded before the conversion: Int64(1e17 * 1000) traps (found by scripts/api-fuzz).
                guard let t = Double(s), t.isFinite, t >= 0, t <= Self.maxWaitSeconds else {
                    throw PFSError.invalid("timeout must be a number of seconds from 0 to \(Int(Self.maxWaitSeconds)), got \"\(s)\"; leave it out to wait for ever")
                }
                return .milliseconds(Int64(t * 1000))
            }
            return json(try await store.waitCommit(repo: repo, ref: ref, timeout: timeout))
        }

        // files
        api.get("repos/:repo/files") { req, ctx in
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            let path = query(req, "path") ?? "/", recursive = flag(req, "recursive")
            return json(try await blocking { try store.listFiles(repo: repo, ref: ref, path: path, recursive: recursive) })
        }
        api.get("repos/:repo/file") { req, ctx in
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            let path = try requireQuery(req, "path")
            return json(try await blocking { try store.inspectFile(repo: repo, ref: ref, path: path) })
        }
        api.get("repos/:repo/file/content") { req, ctx in
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            let path = try requireQuery(req, "path")
            let offset = try int64Query(req, "offset") ?? 0
            let length = try int64Query(req, "length") ?? .max
            let (info, content) = try await blocking { try store.openFile(repo: repo, ref: ref, path: path) }
            if info.type == .symlink {
                return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                                body: .init(byteBuffer: ByteBuffer(string: info.target ?? "")))
            }
            let start = min(max(0, offset), content.size)
            // Compared before adding: start + a length near Int64.max would overflow and trap.
            let end = length >= content.size - start ? content.size : start + length
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                            body: .init(contentLength: Int(end - start)) { writer in
                                // One chunk at a time: memory stays bounded whatever the file size.
                                var pos: Int64 = 0
                                for c in content.chunks {
                                    defer { pos += c.size }
                                    if pos + c.size <= start { continue }
                                    if pos >= end { break }
                                    let piece = FileContent(chunks: [c], size: c.size)
                                    let from = max(start, pos) - pos, to = min(end, pos + c.size) - pos
                                    let buf = try await blocking { () -> ByteBuffer in
                                        var out = ByteBuffer()
                                        try store.read(piece, offset: from, length: to - from) { out.writeBytes($0) }
                                        return out
                                    }
                                    try await writer.write(buf)
                                }
                                try await writer.finish(nil)
                            })
        }
        api.get("repos/:repo/glob") { req, ctx in
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            let pattern = try requireQuery(req, "pattern")
            return json(try await blocking { try store.glob(repo: repo, ref: ref, pattern: pattern) })
        }
        api.get("repos/:repo/diff") { req, ctx in
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            let old = query(req, "old"), path = query(req, "path") ?? "/"
            return json(try await blocking { try store.diff(repo: repo, ref: ref, old: old, path: path) })
        }
        api.put("repos/:repo/files") { req, ctx in
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            let description = query(req, "description") ?? ""
            return json(try await put(repo: repo, ref: ref, description: description, body: req.body))
        }
        api.post("repos/:repo/files/delete") { req, ctx in
            struct Body: Decodable { var paths: [String]; var recursive: Bool? }
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            let b = try await decode(Body.self, req, ctx)
            return json(try await blocking {
                let s = try store.beginPut(repo: repo, ref: ref)
                for p in b.paths { try s.delete(path: p, recursive: b.recursive ?? false) }
                return try s.commit()
            })
        }
        api.post("repos/:repo/files/copy") { req, ctx in
            struct Body: Decodable { var srcRepo: String; var srcRef: String; var srcPath: String; var dstPath: String; var append: Bool? }
            let repo = try ctx.parameters.require("repo"), ref = try requireQuery(req, "ref")
            let b = try await decode(Body.self, req, ctx)
            return json(try await blocking {
                let s = try store.beginPut(repo: repo, ref: ref)
                try s.copy(srcRepo: b.srcRepo, srcRef: b.srcRef, srcPath: b.srcPath, to: b.dstPath, append: b.append ?? false)
                return try s.commit()
            })
        }

        // maintenance
        api.get("fsck") { req, _ in
            let verify = query(req, "verify").map { $0 != "false" } ?? true
            return json(try await blocking { try store.fsck(verify: verify) })
        }
        api.post("gc") { _, _ in json(try await blocking { try store.gc() }) }
        addPipelineRoutes(api)
        addImageRoutes(api)
        addSecretRoutes(api)
        return router
    }

    /// Streams a put body into a session: data is handed to the chunker in batches of up to 8 MiB so the
    /// hop to the worker pool is paid rarely; a malformed or truncated stream aborts the whole request.
    func put(repo: String, ref: String, description: String, body: RequestBody) async throws -> PutResult {
        let session = try await blocking { try store.beginPut(repo: repo, ref: ref) }
        let state = PutState(session: session)
        do {
            var parser = PutStreamParser()
            var events: [PutStreamParser.Event] = []
            var buffered = 0
            for try await buf in body {
                try parser.feed(buf) { ev in
                    events.append(ev)
                    if case .data(let d) = ev { buffered += d.readableBytes }
                }
                if buffered >= 8 << 20 || events.count >= 4096 {
                    let batch = events
                    events.removeAll(keepingCapacity: true)
                    buffered = 0
                    try await blocking { try state.process(batch) }
                }
            }
            guard parser.atBoundary else {
                throw PFSError.invalid("put stream ended in the middle of a record; nothing was written")
            }
            let batch = events
            return try await blocking {
                try state.process(batch)
                try state.finish()
                return try session.commit(description: description)
            }
        } catch {
            session.abort()
            throw error
        }
    }
}

/// The state of one put request between batches of events (only touched by one pool thread at a time).
final class PutState: @unchecked Sendable {
    let session: PutSession
    var writer: PutSession.FileWriter?

    init(session: PutSession) { self.session = session }

    func process(_ events: [PutStreamParser.Event]) throws {
        for ev in events {
            switch ev {
            case .header(let h):
                guard writer == nil else { throw PFSError.invalid("put stream: a header arrived inside file data") }
                switch h.op {
                case .put, .append:
                    writer = try session.openFile(path: h.path, append: h.op == .append, mode: h.mode, mtimeNs: h.mtimeNs)
                case .delete:
                    try session.delete(path: h.path, recursive: h.recursive ?? true)
                case .mkdir:
                    try session.mkdir(path: h.path, mode: h.mode ?? TreeEntry.defaultDirMode, mtimeNs: h.mtimeNs)
                case .symlink:
                    guard let t = h.target else { throw PFSError.invalid("put stream: symlink \(h.path) has no target") }
                    try session.symlink(path: h.path, target: t, mtimeNs: h.mtimeNs)
                }
            case .data(let buf):
                guard let w = writer else { throw PFSError.invalid("put stream: data outside a file record") }
                try buf.withUnsafeReadableBytes { try w.write($0) }
            case .endOfData:
                guard let w = writer else { throw PFSError.invalid("put stream: end of data outside a file record") }
                try session.close(w)
                writer = nil
            }
        }
    }

    func finish() throws {
        if writer != nil { throw PFSError.invalid("put stream ended inside a file; nothing was written") }
    }
}

/// Maps every error escaping a handler to the API's JSON error body.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as HTTPError where e.status == .notFound {
            throw APIError(PFSError.notFound("no API operation \(request.method) \(request.uri.path); see docs/api/README.md"))
        } catch let e as HTTPError {
            throw APIError(PFSError.invalid(e.body ?? "\(e.status)"))
        } catch {
            throw APIError(error)
        }
    }
}

func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? PFSJSON.encoder().encode(value)) ?? Data("null".utf8)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

func query(_ req: Request, _ name: String) -> String? {
    req.uri.queryParameters.get(name)
}

func requireQuery(_ req: Request, _ name: String) throws -> String {
    guard let v = query(req, name), !v.isEmpty else {
        throw PFSError.invalid("missing query parameter \"\(name)\"")
    }
    return v
}

func flag(_ req: Request, _ name: String) -> Bool {
    guard let v = query(req, name) else { return false }
    return v.isEmpty || v == "true" || v == "1"
}

func int64Query(_ req: Request, _ name: String) throws -> Int64? {
    try query(req, name).map { s in
        guard let n = Int64(s), n >= 0 else { throw PFSError.invalid("\(name) must be a non-negative whole number, got \"\(s)\"") }
        return n
    }
}

func decode<T: Decodable>(_ type: T.Type, _ req: Request, _ ctx: BasicRequestContext) async throws -> T {
    let buf = try await req.body.collect(upTo: 16 << 20)
    guard buf.readableBytes > 0 else { throw PFSError.invalid("this operation needs a JSON body") }
    return try PFSJSON.decoder().decode(T.self, from: Data(buf.readableBytesView))
}

func decodeOptional<T: Decodable>(_ type: T.Type, _ req: Request, _ ctx: BasicRequestContext) async throws -> T? {
    let buf = try await req.body.collect(upTo: 16 << 20)
    guard buf.readableBytes > 0 else { return nil }
    return try PFSJSON.decoder().decode(T.self, from: Data(buf.readableBytesView))
}

/// Lets API operations reach the daemon itself (its mount point, a graceful shutdown).
public final class DaemonControl: Sendable {
    public let mountpoint: String?
    private let shutdown = Mutex<(@Sendable () -> Void)?>(nil)

    public init(mountpoint: String? = nil) { self.mountpoint = mountpoint }

    func setShutdown(_ f: @escaping @Sendable () -> Void) { shutdown.withLock { $0 = f } }

    public func requestShutdown() {
        let f = shutdown.withLock { $0 }
        Task {
            try? await Task.sleep(for: .milliseconds(50))
            f?()
        }
    }
}

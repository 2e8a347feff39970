#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A minimal HTTP/1.1 server on a Unix socket (or on 127.0.0.1) for testing the client without the real
/// daemon: it records every request (method, URI, headers, body — or just the byte count) and answers with
/// what the handler returns. It understands Content-Length and chunked bodies and notices a body that was
/// cut off (the client aborted the upload).
final class FakeDaemon: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [String: String]
        var body: [UInt8]
        var bodyBytes: Int
        /// False when the connection closed before the body ended.
        var complete: Bool

        var path: String { String(uri.split(separator: "?", maxSplits: 1).first ?? "") }
        var query: [String: String] {
            guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
            var out: [String: String] = [:]
            for pair in q.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let k = String(kv[0]).removingPercentEncoding ?? String(kv[0])
                let v = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
                out[k] = v
            }
            return out
        }
        var bodyString: String { String(decoding: body, as: UTF8.self) }
    }

    struct Response: Sendable {
        var status: Int
        var body: [UInt8]
        var contentType = "application/json"

        static func json(_ text: String, status: Int = 200) -> Response {
            Response(status: status, body: Array(text.utf8))
        }
        static func error(_ code: String, _ message: String, status: Int) -> Response {
            json("{\"error\": {\"code\": \"\(code)\", \"message\": \"\(message)\"}}", status: status)
        }
        static let noContent = Response(status: 204, body: [])
    }

    typealias Handler = @Sendable (Request) -> Response

    let socketPath: String?
    private(set) var port: Int = 0
    private let listenFD: Int32
    private let handler: Handler
    private let storeBodies: Bool
    private let lock = NSLock()
    private var _requests: [Request] = []
    private var stopped = false
    private var acceptThread: Thread?

    var requests: [Request] { lock.lock(); defer { lock.unlock() }; return _requests }

    /// Listens on a Unix socket at `socketPath`, or on an ephemeral TCP port on 127.0.0.1 when nil.
    init(socketPath: String?, storeBodies: Bool = true, handler: @escaping Handler) throws {
        self.socketPath = socketPath
        self.handler = handler
        self.storeBodies = storeBodies
        if let socketPath {
            unlink(socketPath)
            listenFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                let bytes = Array(socketPath.utf8)
                precondition(bytes.count < raw.count)
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0 else { throw POSIXError(.init(rawValue: errno)!) }
        } else {
            listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(listenFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = 0
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { throw POSIXError(.init(rawValue: errno)!) }
            var bound = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &bound) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &len) }
            }
            port = Int(UInt16(bigEndian: bound.sin_port))
        }
        guard listen(listenFD, 16) == 0 else { throw POSIXError(.init(rawValue: errno)!) }
        let thread = Thread { [self] in acceptLoop() }
        acceptThread = thread
        thread.start()
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
        if let socketPath { unlink(socketPath) }
    }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    private func acceptLoop() {
        while !isStopped {
            var pfd = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            let r = poll(&pfd, 1, 100)
            if r <= 0 { continue }
            let fd = accept(listenFD, nil, nil)
            if fd < 0 { if isStopped { return } else { continue } }
            let t = Thread { [self] in serve(fd) }
            t.start()
        }
    }

    // MARK: - Connection

    private final class Reader {
        let fd: Int32
        var buffer: [UInt8] = []
        var start = 0
        var eof = false
        init(fd: Int32) { self.fd = fd }

        var available: Int { buffer.count - start }

        func fill() -> Bool {
            if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { eof = true; return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }

        func line() -> String? {
            while true {
                if let i = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    var end = i
                    if end > start && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                    let s = String(decoding: buffer[start..<end], as: UTF8.self)
                    start = i + 1
                    return s
                }
                if !fill() { return nil }
            }
        }

        /// Consumes `n` bytes, handing them to `sink` in pieces; false if the connection ended first.
        func take(_ n: Int, sink: (ArraySlice<UInt8>) -> Void) -> Bool {
            var left = n
            while left > 0 {
                if available == 0 && !fill() { return false }
                let k = min(left, available)
                sink(buffer[start..<start + k])
                start += k
                left -= k
            }
            return true
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        let reader = Reader(fd: fd)
        while true {
            guard let requestLine = reader.line(), !requestLine.isEmpty else { return }
            let parts = requestLine.split(separator: " ")
            guard parts.count >= 2 else { return }
            var headers: [String: String] = [:]
            while let h = reader.line(), !h.isEmpty {
                if let colon = h.firstIndex(of: ":") {
                    headers[h[..<colon].lowercased()] = h[h.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            var request = Request(method: String(parts[0]), uri: String(parts[1]), headers: headers, body: [], bodyBytes: 0, complete: true)
            let store = storeBodies
            let sink: (ArraySlice<UInt8>) -> Void = { piece in
                request.bodyBytes += piece.count
                if store { request.body.append(contentsOf: piece) }
            }
            if headers["transfer-encoding"]?.lowercased() == "chunked" {
                while true {
                    guard let sizeLine = reader.line(), let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                        request.complete = false
                        break
                    }
                    if size == 0 {
                        while let t = reader.line(), !t.isEmpty {}
                        break
                    }
                    guard reader.take(size, sink: sink), reader.line() != nil else {
                        request.complete = false
                        break
                    }
                }
            } else if let length = headers["content-length"].flatMap({ Int($0) }), length > 0 {
                request.complete = reader.take(length, sink: sink)
            }
            lock.lock()
            _requests.append(request)
            lock.unlock()
            guard request.complete else { return }
            let response = handler(request)
            var head = "HTTP/1.1 \(response.status) X\r\nContent-Length: \(response.body.count)\r\n"
            if !response.body.isEmpty { head += "Content-Type: \(response.contentType)\r\n" }
            head += "\r\n"
            let bytes = Array(head.utf8) + response.body
            var off = 0
            while off < bytes.count {
                let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { return }
                off += n
            }
        }
    }
}

/// A fresh temporary directory, removed by the caller with `FileManager.removeItem`.
func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/pfscli-test-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno)!) }
    return String(cString: p)
}

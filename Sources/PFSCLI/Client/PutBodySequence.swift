#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import PFSCore

/// A stream of byte buffers someone else produces (a URL's response body); `next` returns nil at the end.
public struct ByteBufferStream {
    public var next: () async throws -> ByteBuffer?
    public init(next: @escaping () async throws -> ByteBuffer?) { self.next = next }
}

/// Opens a URL source; errors must name the URL.
public typealias URLOpener = @Sendable (String) async throws -> ByteBufferStream

/// The body of `PUT /v1/repos/{repo}/files`: the records of a plan, encoded on demand.
///
/// Each element is one large buffer (about `chunkBytes`): small files are batched into it, large files are read
/// straight into it after a reserved segment prefix, so local data is copied once and memory stays bounded
/// (AsyncHTTPClient pulls the next buffer only when the socket takes more). The sequence throws when a source
/// fails (a file that became unreadable, a URL that answers 404): the HTTP body is aborted and the daemon
/// discards the whole request, so nothing is committed.
public struct PutBodySequence: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    public static let defaultChunkBytes = 4 << 20

    public let items: [PutItem]
    public let chunkBytes: Int
    let openURL: URLOpener?

    public init(items: [PutItem], chunkBytes: Int = PutBodySequence.defaultChunkBytes, openURL: URLOpener? = nil) {
        precondition(chunkBytes >= 16 && chunkBytes <= PutStreamEncoder.maxSegmentBytes)
        self.items = items
        self.chunkBytes = chunkBytes
        self.openURL = openURL
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(items: items, chunkBytes: chunkBytes, openURL: openURL)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let items: [PutItem]
        let chunkBytes: Int
        let openURL: URLOpener?
        let allocator = ByteBufferAllocator()
        var index = 0
        var reader: DataReader?
        var finished = false

        init(items: [PutItem], chunkBytes: Int, openURL: URLOpener?) {
            self.items = items
            self.chunkBytes = chunkBytes
            self.openURL = openURL
        }

        /// Below this much room left in a buffer, send it rather than cut a tiny segment.
        private var minimumRoom: Int { Swift.min(64 << 10, chunkBytes / 2) }

        public mutating func next() async throws -> ByteBuffer? {
            guard !finished else { return nil }
            var out = allocator.buffer(capacity: chunkBytes + 4096)
            do {
                while out.readableBytes < chunkBytes {
                    if reader == nil {
                        guard index < items.count else { break }
                        let item = items[index]
                        index += 1
                        try PutStreamEncoder.writeHeader(item.header, into: &out)
                        guard item.header.op.carriesData else { continue }
                        reader = try await open(item)
                    }
                    let room = chunkBytes - out.readableBytes
                    if room < minimumRoom && out.readableBytes > 0 { break }
                    let prefix = PutStreamEncoder.beginSegment(in: &out)
                    try await reader!.read(into: &out, upTo: Swift.max(room, 1))
                    if PutStreamEncoder.endSegment(startingAt: prefix, in: &out) == 0 {
                        // That empty segment was the record's terminator.
                        reader = nil
                    }
                }
            } catch {
                finished = true
                reader = nil
                throw error
            }
            if out.readableBytes == 0 {
                finished = true
                return nil
            }
            return out
        }

        private func open(_ item: PutItem) async throws -> DataReader {
            switch item.source {
            case .localFile(let path):
                return .file(try FileReader(path: path))
            case .standardInput:
                return .file(FileReader(standardInput: ()))
            case .bytes(let bytes):
                var b = allocator.buffer(capacity: bytes.count)
                b.writeBytes(bytes)
                return .buffered(b, nil)
            case .url(let url):
                guard let openURL else {
                    throw PFSError(.internal, "no HTTP client to fetch \(url)")
                }
                return .buffered(allocator.buffer(capacity: 0), try await openURL(url))
            case .none:
                return .buffered(allocator.buffer(capacity: 0), nil)
            }
        }
    }

    /// The data of the record being written.
    enum DataReader {
        case file(FileReader)
        /// Bytes in hand, then (optionally) a stream to pull more from.
        case buffered(ByteBuffer, ByteBufferStream?)

        /// Appends up to `limit` bytes (fewer only at the end of the data, or when a network buffer ran out).
        mutating func read(into out: inout ByteBuffer, upTo limit: Int) async throws {
            switch self {
            case .file(let f):
                try f.read(into: &out, upTo: limit)
            case .buffered(var pending, let stream):
                var copied = 0
                while copied < limit {
                    if pending.readableBytes == 0 {
                        // Send what we have before waiting on the network again.
                        guard copied == 0, let stream, let more = try await stream.next() else { break }
                        pending = more
                        continue
                    }
                    let n = Swift.min(limit - copied, pending.readableBytes)
                    var slice = pending.readSlice(length: n)!
                    out.writeBuffer(&slice)
                    copied += n
                }
                self = .buffered(pending, stream)
            }
        }
    }

    /// Reads a local file (or stdin) with large `read(2)` calls directly into the outgoing buffer.
    final class FileReader {
        let fd: Int32
        let name: String
        let ownsDescriptor: Bool

        init(path: String) throws {
            fd = try LocalFile.openForReading(path)
            name = LocalFile.quoted(path)
            ownsDescriptor = true
            #if os(Linux)
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
            #endif
        }

        init(standardInput: Void) {
            fd = 0
            name = "standard input"
            ownsDescriptor = false
        }

        deinit {
            if ownsDescriptor { close(fd) }
        }

        /// Fills up to `limit` bytes, looping over short reads (pipes), stopping early only at end of file.
        func read(into out: inout ByteBuffer, upTo limit: Int) throws {
            var total = 0
            while total < limit {
                let want = limit - total
                var failure: Int32 = 0
                let n = out.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { ptr -> Int in
                    while true {
                        let r = LocalFile.readFD(fd, ptr.baseAddress, want)
                        if r >= 0 { return r }
                        if errno == EINTR { continue }
                        failure = errno
                        return 0
                    }
                }
                if failure != 0 {
                    throw PFSError(.io, "cannot read \(name): \(LocalFile.errnoMessage(failure))")
                }
                if n == 0 { break }
                total += n
            }
        }
    }
}

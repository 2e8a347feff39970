import Foundation
import NIOCore
import PFSCore
import XCTest
@testable import PFSCLI

final class PutStreamTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func bytes(_ b: ByteBuffer) -> [UInt8] { Array(b.readableBytesView) }

    func collect(_ seq: PutBodySequence) async throws -> (bytes: [UInt8], buffers: [Int]) {
        var out: [UInt8] = []
        var sizes: [Int] = []
        for try await b in seq {
            sizes.append(b.readableBytes)
            out.append(contentsOf: b.readableBytesView)
        }
        return (out, sizes)
    }

    func write(_ name: String, _ content: [UInt8]) -> String {
        let p = dir + "/" + name
        _ = FileManager.default.createFile(atPath: p, contents: Data(content))
        return p
    }

    func testEncoderFraming() throws {
        let header = PutRecordHeader(op: .put, path: "/a.txt", mode: 0o644, mtimeNs: 5)
        XCTAssertEqual(String(decoding: try PutStreamEncoder.headerJSON(header), as: UTF8.self),
                       #"{"mode":420,"mtime_ns":5,"op":"put","path":"/a.txt"}"#)
        let record = try PutStreamEncoder.record(PutRecordHeader(op: .put, path: "/a"), data: Array("hello".utf8), segmentBytes: 2)
        let json = Array(#"{"op":"put","path":"/a"}"#.utf8)
        XCTAssertEqual(bytes(record), [0, 0, 0, UInt8(json.count)] + json
                       + [0, 0, 0, 2] + Array("he".utf8) + [0, 0, 0, 2] + Array("ll".utf8) + [0, 0, 0, 1] + Array("o".utf8)
                       + [0, 0, 0, 0])
        // Records without data have no terminator.
        let mkdir = try PutStreamEncoder.record(PutRecordHeader(op: .mkdir, path: "/d"))
        let mj = Array(#"{"op":"mkdir","path":"/d"}"#.utf8)
        XCTAssertEqual(bytes(mkdir), [0, 0, 0, UInt8(mj.count)] + mj)
        // An empty file is a header and a terminator.
        let empty = try PutStreamEncoder.record(PutRecordHeader(op: .append, path: "/e"))
        XCTAssertEqual(Array(bytes(empty).suffix(4)), [0, 0, 0, 0])
        let symlink = try PutStreamEncoder.headerJSON(PutRecordHeader(op: .symlink, path: "/l", target: "../x"))
        XCTAssertEqual(String(decoding: symlink, as: UTF8.self), #"{"op":"symlink","path":"/l","target":"../x"}"#)
    }

    func testBodyBatchesSmallFilesAndSplitsLargeOnes() async throws {
        let small = write("small", Array("tiny".utf8))
        var bigContent = [UInt8](repeating: 0, count: 1000)
        for i in bigContent.indices { bigContent[i] = UInt8(i % 251) }
        let big = write("big", bigContent)
        let empty = write("empty", [])
        let items = [
            PutItem(header: PutRecordHeader(op: .put, path: "/small"), source: .localFile(small)),
            PutItem(header: PutRecordHeader(op: .mkdir, path: "/d"), source: .none),
            PutItem(header: PutRecordHeader(op: .append, path: "/big"), source: .localFile(big)),
            PutItem(header: PutRecordHeader(op: .put, path: "/empty"), source: .localFile(empty)),
            PutItem(header: PutRecordHeader(op: .put, path: "/mem"), source: .bytes(Array("memory".utf8))),
            PutItem(header: PutRecordHeader(op: .symlink, path: "/l", target: "small"), source: .none),
        ]
        let (body, buffers) = try await collect(PutBodySequence(items: items, chunkBytes: 256))
        XCTAssertTrue(buffers.allSatisfy { $0 <= 256 + 4096 }, "\(buffers)")
        XCTAssertGreaterThan(buffers.count, 3)
        let records = try decodePutStream(body)
        XCTAssertEqual(records.map(\.op), ["put", "mkdir", "append", "put", "put", "symlink"])
        XCTAssertEqual(records.map(\.path), ["/small", "/d", "/big", "/empty", "/mem", "/l"])
        XCTAssertEqual(records[0].data, Array("tiny".utf8))
        XCTAssertEqual(records[2].data, bigContent)
        XCTAssertTrue(records[2].segmentSizes.allSatisfy { $0 > 0 && $0 <= 256 })
        XCTAssertEqual(records[3].data, [])
        XCTAssertEqual(records[4].data, Array("memory".utf8))
        XCTAssertEqual(records[5].header["target"], "small")
    }

    func testDefaultChunksAreFourMebibytes() async throws {
        let size = 9 << 20 + 17
        let content = [UInt8](repeating: 7, count: size)
        let path = write("nine", content)
        let (body, buffers) = try await collect(PutBodySequence(items: [
            PutItem(header: PutRecordHeader(op: .put, path: "/nine"), source: .localFile(path)),
        ]))
        XCTAssertEqual(buffers.count, 3)
        XCTAssertTrue(buffers.allSatisfy { $0 <= (4 << 20) + 64 })
        let records = try decodePutStream(body)
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(records[0].data.count, size)
        XCTAssertTrue(records[0].segmentSizes.allSatisfy { $0 <= PutStreamEncoder.maxSegmentBytes })
    }

    func testURLSourceIsStreamedAndItsFailureThrows() async throws {
        let pieces = [Array("hello ".utf8), Array("world".utf8)]
        let opener: URLOpener = { url in
            XCTAssertEqual(url, "http://example.com/x.txt")
            nonisolated(unsafe) var i = 0
            return ByteBufferStream {
                guard i < pieces.count else { return nil }
                defer { i += 1 }
                return ByteBuffer(bytes: pieces[i])
            }
        }
        let items = [PutItem(header: PutRecordHeader(op: .put, path: "/x.txt"), source: .url("http://example.com/x.txt"))]
        let (body, _) = try await collect(PutBodySequence(items: items, openURL: opener))
        XCTAssertEqual(try decodePutStream(body).first?.data, Array("hello world".utf8))

        let failing: URLOpener = { url in throw PFSError(.io, "cannot fetch \(url): the server answered HTTP 404") }
        do {
            _ = try await collect(PutBodySequence(items: items, openURL: failing))
            XCTFail("expected the URL failure")
        } catch let e as PFSError {
            XCTAssertTrue(e.message.contains("http://example.com/x.txt"))
        }
    }

    func testFileThatDisappearsFailsTheStream() async throws {
        let path = write("gone", Array("x".utf8))
        let items = [PutItem(header: PutRecordHeader(op: .put, path: "/gone"), source: .localFile(path))]
        try FileManager.default.removeItem(atPath: path)
        do {
            _ = try await collect(PutBodySequence(items: items))
            XCTFail("expected an error")
        } catch let e as PFSError {
            XCTAssertEqual(e.code, .io)
            XCTAssertTrue(e.message.contains(path), e.message)
        }
    }

    /// Client-side throughput of encoding a large file (no socket): the read into the outgoing buffers.
    func testLocalFileEncodingThroughput() async throws {
        let size = 256 << 20
        let path = dir + "/big.bin"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        ftruncate(fd, off_t(size))
        close(fd)
        let seq = PutBodySequence(items: [PutItem(header: PutRecordHeader(op: .put, path: "/big"), source: .localFile(path))])
        let start = Date()
        var total = 0
        for try await b in seq { total += b.readableBytes }
        let seconds = Date().timeIntervalSince(start)
        XCTAssertGreaterThan(total, size)
        print("put stream encoding: \(size >> 20) MiB in \(String(format: "%.3f", seconds)) s = \(String(format: "%.0f", Double(size) / seconds / 1e6)) MB/s")
    }
}

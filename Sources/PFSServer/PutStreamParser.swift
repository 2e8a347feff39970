import Foundation
import NIOCore
import PFSCore

/// The header of one record of a put stream (see docs/api/README.md, "The put stream").
public struct PutRecordHeader: Codable, Sendable, Equatable {
    public enum Op: String, Codable, Sendable { case put, append, delete, mkdir, symlink }
    public var op: Op
    public var path: String
    public var mode: UInt32?
    public var mtimeNs: Int64?
    public var target: String?
    public var recursive: Bool?

    public var hasData: Bool { op == .put || op == .append }
}

/// Incremental parser of the put stream: feed it the body's buffers as they arrive; it yields events.
/// Data is passed through as slices of the incoming buffers (no copies).
public struct PutStreamParser: Sendable {
    public enum Event: Sendable {
        case header(PutRecordHeader)
        case data(ByteBuffer)
        case endOfData
    }

    enum State { case headerLength, header(Int), segmentLength, segment(Int) }

    public static let maxHeader = 64 * 1024
    public static let maxSegment = 16 * 1024 * 1024

    private var state = State.headerLength
    private var pending = ByteBuffer()

    public init() {}

    /// True when the stream stopped at a record boundary.
    public var atBoundary: Bool {
        if case .headerLength = state, pending.readableBytes == 0 { return true }
        return false
    }

    public mutating func feed(_ input: ByteBuffer, _ emit: (Event) throws -> Void) throws {
        var buf = input
        if pending.readableBytes > 0 {
            pending.writeImmutableBuffer(buf)
            buf = pending
            pending = ByteBuffer()
        }
        while true {
            switch state {
            case .headerLength, .segmentLength:
                guard buf.readableBytes >= 4, let n = buf.readInteger(endianness: .big, as: UInt32.self) else {
                    pending = buf.readableBytes > 0 ? buf : ByteBuffer()
                    return
                }
                if case .headerLength = state {
                    guard n > 0, n <= Self.maxHeader else {
                        throw PFSError.invalid("put stream: record header length \(n) is out of range (1...\(Self.maxHeader))")
                    }
                    state = .header(Int(n))
                } else if n == 0 {
                    try emit(.endOfData)
                    state = .headerLength
                } else {
                    guard n <= Self.maxSegment else {
                        throw PFSError.invalid("put stream: data segment of \(n) bytes is larger than \(Self.maxSegment)")
                    }
                    state = .segment(Int(n))
                }
            case .header(let n):
                guard let slice = buf.readSlice(length: n) else {
                    pending = buf
                    return
                }
                let header: PutRecordHeader
                do {
                    header = try PFSJSON.decoder().decode(PutRecordHeader.self, from: Data(slice.readableBytesView))
                } catch {
                    throw PFSError.invalid("put stream: a record header is not valid JSON ({\"op\", \"path\", ...}): \(error)")
                }
                try emit(.header(header))
                state = header.hasData ? .segmentLength : .headerLength
            case .segment(let n):
                if buf.readableBytes == 0 { pending = ByteBuffer(); return }
                let take = min(n, buf.readableBytes)
                let slice = buf.readSlice(length: take)!
                try emit(.data(slice))
                state = take == n ? .segmentLength : .segment(n - take)
            }
        }
    }
}

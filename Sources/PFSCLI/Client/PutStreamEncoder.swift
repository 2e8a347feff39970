import Foundation
import NIOCore
import PFSCore

/// Writes the put stream's framing into `ByteBuffer`s:
///
/// ```
/// record := u32be(header_length) header_json data
/// data   := { u32be(n) n-bytes }* u32be(0)        -- "put" and "append" only; n <= 16 MiB
/// ```
///
/// The encoder only frames; reading sources and batching records into large buffers is `PutBodySequence`'s job.
/// Data is read straight into the buffer after a reserved length prefix (`beginSegment` / `endSegment`),
/// so file bytes are copied once, from the kernel into the buffer that goes to the socket.
public enum PutStreamEncoder {
    /// The largest data segment the API accepts.
    public static let maxSegmentBytes = 16 << 20
    /// Header JSON longer than this is refused (paths are at most 4096 bytes; a header is far smaller).
    public static let maxHeaderBytes = 64 << 10

    private static let headerEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// The header JSON for a record, exactly as sent.
    public static func headerJSON(_ header: PutRecordHeader) throws -> [UInt8] {
        let data = try headerEncoder.encode(header)
        guard data.count <= maxHeaderBytes else {
            throw PFSError.invalid("put record header for \"\(Names.printable(header.path))\" is \(data.count) bytes; the limit is \(maxHeaderBytes)")
        }
        return Array(data)
    }

    /// Appends `u32be(header_length) header_json`.
    public static func writeHeader(_ header: PutRecordHeader, into buffer: inout ByteBuffer) throws {
        let json = try headerJSON(header)
        buffer.writeInteger(UInt32(json.count), endianness: .big)
        buffer.writeBytes(json)
    }

    /// Appends one data segment `u32be(n) bytes` (n must be 1...16 MiB; use `writeEnd` for the terminator).
    public static func writeSegment<Bytes: Collection>(_ bytes: Bytes, into buffer: inout ByteBuffer) where Bytes.Element == UInt8 {
        precondition(!bytes.isEmpty && bytes.count <= maxSegmentBytes, "segment length must be 1...16 MiB")
        buffer.writeInteger(UInt32(bytes.count), endianness: .big)
        buffer.writeBytes(bytes)
    }

    /// Appends the data terminator `u32be(0)`.
    public static func writeEnd(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(0), endianness: .big)
    }

    /// Reserves a segment's length prefix and returns its position; fill the bytes after it, then `endSegment`.
    public static func beginSegment(in buffer: inout ByteBuffer) -> Int {
        let at = buffer.writerIndex
        buffer.writeInteger(UInt32(0), endianness: .big)
        return at
    }

    /// Sets the prefix reserved by `beginSegment` to the number of bytes written since. A segment that got no
    /// bytes is the `u32be(0)` terminator, which is exactly what an empty read at end of input should produce.
    /// Returns the segment's length.
    @discardableResult
    public static func endSegment(startingAt prefix: Int, in buffer: inout ByteBuffer) -> Int {
        let length = buffer.writerIndex - prefix - 4
        precondition(length >= 0 && length <= maxSegmentBytes, "segment length must be 0...16 MiB")
        buffer.setInteger(UInt32(length), at: prefix, endianness: .big)
        return length
    }

    /// A whole record with in-memory data, split into segments of at most `segmentBytes` (for small inputs and tests).
    public static func record(_ header: PutRecordHeader, data: [UInt8] = [], segmentBytes: Int = maxSegmentBytes,
                              allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> ByteBuffer {
        precondition(segmentBytes > 0 && segmentBytes <= maxSegmentBytes)
        var buffer = allocator.buffer(capacity: 64 + header.path.utf8.count + data.count + 4 * (data.count / segmentBytes + 2))
        try writeHeader(header, into: &buffer)
        if header.op.carriesData {
            var start = 0
            while start < data.count {
                let end = min(start + segmentBytes, data.count)
                writeSegment(data[start..<end], into: &buffer)
                start = end
            }
            writeEnd(into: &buffer)
        }
        return buffer
    }
}

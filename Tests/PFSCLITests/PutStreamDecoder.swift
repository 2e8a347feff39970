import Foundation
@testable import PFSCLI

/// Decodes a put stream the way the daemon reads it, to check what the client sends.
struct DecodedRecord: Equatable {
    var header: [String: AnyHashable]
    var op: String { header["op"] as? String ?? "" }
    var path: String { header["path"] as? String ?? "" }
    var data: [UInt8]
    var segmentSizes: [Int]
}

enum PutStreamDecoderError: Error { case truncated(String), badHeader }

func decodePutStream(_ bytes: [UInt8]) throws -> [DecodedRecord] {
    var i = 0
    func u32() throws -> Int {
        guard i + 4 <= bytes.count else { throw PutStreamDecoderError.truncated("length at \(i)") }
        let v = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
        i += 4
        return v
    }
    var records: [DecodedRecord] = []
    while i < bytes.count {
        let hlen = try u32()
        guard i + hlen <= bytes.count else { throw PutStreamDecoderError.truncated("header") }
        let json = try JSONSerialization.jsonObject(with: Data(bytes[i..<i + hlen]))
        i += hlen
        guard let dict = json as? [String: Any] else { throw PutStreamDecoderError.badHeader }
        var header: [String: AnyHashable] = [:]
        for (k, v) in dict {
            if let s = v as? String { header[k] = s } else if let n = v as? NSNumber { header[k] = n.int64Value }
        }
        var record = DecodedRecord(header: header, data: [], segmentSizes: [])
        if record.op == "put" || record.op == "append" {
            while true {
                let n = try u32()
                if n == 0 { break }
                guard n <= PutStreamEncoder.maxSegmentBytes else { throw PutStreamDecoderError.truncated("segment too big") }
                guard i + n <= bytes.count else { throw PutStreamDecoderError.truncated("segment") }
                record.data.append(contentsOf: bytes[i..<i + n])
                record.segmentSizes.append(n)
                i += n
            }
        }
        records.append(record)
    }
    return records
}

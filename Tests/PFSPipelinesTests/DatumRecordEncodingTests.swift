import Foundation
import XCTest
import PFSCore
@testable import PFSPipelines

/// The scheduler records a job's skipped datums with one encoder call split into one JSON value per datum.
final class DatumRecordEncodingTests: XCTestCase {
    func testEncodeEachGivesEachValuesOwnJSON() throws {
        let awkward = ["/plain", "/with \"quotes\" and \\ backslash", "/brackets [x] {y}", "/ünï/çødé", "/a\nb"]
        let infos = awkward.enumerated().map { i, path in
            DatumInfo(id: String(repeating: "\(i)", count: 64), job: "job", state: .skipped, attempts: 0, seconds: 0,
                      inputs: [DatumInput(name: "in", repo: "in", branch: "master", commit: "c", paths: [path], hashes: ["h"])])
        }
        let json = try Scheduler.encodeEach(infos)
        XCTAssertEqual(json.count, infos.count)
        for (one, info) in zip(json, infos) {
            XCTAssertEqual(try PFSJSON.decoder().decode(DatumInfo.self, from: Data(one.utf8)), info)
            XCTAssertEqual(one, String(decoding: try PFSJSON.encoder().encode(info), as: UTF8.self))
        }
        XCTAssertEqual(try Scheduler.encodeEach([DatumInfo]()), [])
    }
}

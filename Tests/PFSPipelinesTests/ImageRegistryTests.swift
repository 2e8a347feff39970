import Foundation
import PFSCore
import XCTest
@testable import PFSPipelines

/// `pfs image alias`: aliases of `host`, persisted in images.json, consulted by the bubblewrap runner.
final class ImageRegistryTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testAliasesResolvePersistAndAreChecked() throws {
        let file = dir.appendingPathComponent("images.json")
        let images = try ImageRegistry(file: file)
        XCTAssertEqual(images.resolve(nil), "host")
        XCTAssertEqual(images.resolve(""), "host")
        XCTAssertEqual(images.resolve("host"), "host")
        XCTAssertNil(images.resolve("fruit_stand"))
        let info = try images.alias("fruit_stand", to: "host")
        XCTAssertEqual([info.name, info.kind.rawValue, info.target], ["fruit_stand", "alias", "host"])
        try images.alias("pachyderm/opencv:1.0", to: "host")
        XCTAssertEqual(images.resolve("fruit_stand"), "host")
        XCTAssertEqual(images.list().map(\.name), ["host", "fruit_stand", "pachyderm/opencv:1.0"])

        // Kept across restarts.
        let reopened = try ImageRegistry(file: file)
        XCTAssertEqual(reopened.resolve("pachyderm/opencv:1.0"), "host")
        try reopened.removeAlias("pachyderm/opencv:1.0")
        XCTAssertNil(try ImageRegistry(file: file).resolve("pachyderm/opencv:1.0"))

        for (name, target, says) in [("host", "host", "built-in"), ("x", "ubuntu", "does not exist"),
                                     ("y", "fruit_stand", "itself an alias"), ("bad name", "host", "invalid image name"),
                                     ("", "host", "invalid image name")] {
            XCTAssertThrowsError(try images.alias(name, to: target)) { e in
                XCTAssertEqual((e as? PFSError)?.code, .invalidArgument)
                XCTAssertTrue((e as? PFSError)?.message.contains(says) ?? false, "\(e)")
            }
        }
        XCTAssertThrowsError(try images.removeAlias("nope")) { XCTAssertEqual(($0 as? PFSError)?.code, .notFound) }
        XCTAssertThrowsError(try images.removeAlias("host")) { XCTAssertEqual(($0 as? PFSError)?.code, .invalidArgument) }

        try Data("not json".utf8).write(to: file)
        XCTAssertThrowsError(try ImageRegistry(file: file)) { XCTAssertEqual(($0 as? PFSError)?.code, .corrupt) }
    }

    func testTheRunnerAcceptsHostAndItsAliasesOnly() throws {
        let images = try ImageRegistry(file: dir.appendingPathComponent("images.json"))
        let runner = BubblewrapRunner(bwrap: "/bin/true", images: images)
        XCTAssertNoThrow(try runner.checkImage(nil))
        XCTAssertNoThrow(try runner.checkImage("host"))
        XCTAssertThrowsError(try runner.checkImage("fruit_stand")) { e in
            XCTAssertTrue((e as? PFSError)?.message.contains("pfs image alias fruit_stand host") ?? false, "\(e)")
        }
        try images.alias("fruit_stand", to: "host")
        XCTAssertNoThrow(try runner.checkImage("fruit_stand"))
        XCTAssertThrowsError(try BubblewrapRunner(bwrap: "/bin/true").checkImage("fruit_stand"))
    }
}

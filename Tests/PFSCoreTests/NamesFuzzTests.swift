import Foundation
@testable import PFSCore
import XCTest

/// Seeded fuzzing of name and path parsing: whatever the input, repo and branch validation accept only the
/// documented alphabet, and a cleaned path never holds `..`, `.`, empty components, NUL or control characters,
/// so it cannot leave its commit. Iterations: $PFS_FUZZ_ITERATIONS (default 20000); $PFS_FUZZ_SEED replays.
final class NamesFuzzTests: XCTestCase {
    static let pieces = ["a", "Z", "0", "_", "-", ".", "..", "/", "//", "\0", "\u{1}", "\u{1F}", "\u{7F}", "\n", "\t", " ",
                         "é", "\u{301}", "\u{202E}", "\u{FEFF}", "💥", "\\", "%2e%2e", "~", "*", "?", "[", "{", "$1", ":", "@",
                         String(repeating: "x", count: 256), String(repeating: "y", count: 200)]

    func testNamesAndPathsAreAcceptedOnlyInTheirGrammar() {
        let env = ProcessInfo.processInfo.environment
        let iterations = Int(env["PFS_FUZZ_ITERATIONS"] ?? "") ?? 20000
        let seed = UInt64(env["PFS_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("names fuzz seed \(seed), \(iterations) inputs (PFS_FUZZ_SEED replays)")
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        var acceptedPaths = 0, acceptedNames = 0
        for _ in 0..<iterations {
            var s = ""
            for _ in 0..<(next() % 12) { s += Self.pieces[Int(next() % UInt64(Self.pieces.count))] }
            if next() % 4 == 0, let scalar = Unicode.Scalar(UInt32(next() % 0x11000)) { s.unicodeScalars.append(scalar) }

            if (try? Names.validateRepo(s)) != nil {
                acceptedNames += 1
                XCTAssertTrue(!s.isEmpty && s.utf8.count <= Names.maxNameLength && s.utf8.allSatisfy(Self.isRepoByte), "repo name accepted: \(Names.printable(s))")
                XCTAssertNotEqual(s.utf8.first, UInt8(ascii: "."))
            }
            if (try? Names.validateBranch(s)) != nil {
                XCTAssertTrue(!s.isEmpty && s.utf8.allSatisfy { Self.isRepoByte($0) || $0 == UInt8(ascii: ".") } && s.utf8.first != UInt8(ascii: ".") && !s.contains(".."),
                              "branch name accepted: \(Names.printable(s))")
            }
            do {
                let clean = try Names.cleanPath(s)
                acceptedPaths += 1
                // Bytes, not Characters: "/" followed by a combining mark is one Character.
                XCTAssertEqual(clean.utf8.first, UInt8(ascii: "/"), clean)
                XCTAssertLessThanOrEqual(s.utf8.count, 4096)
                for comp in Names.components(clean) {
                    XCTAssertFalse(comp.isEmpty || comp == "." || comp == "..", "cleanPath(\(Names.printable(s))) = \(Names.printable(clean))")
                    XCTAssertFalse(comp.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "control character kept in \(Names.printable(clean))")
                    XCTAssertLessThanOrEqual(comp.utf8.count, 255)
                }
                // Idempotent: a clean path cleans to itself.
                XCTAssertEqual(try Names.cleanPath(clean), clean)
            } catch let e as PFSError {
                XCTAssertFalse(e.message.isEmpty)
                // Error messages never carry raw control bytes to a terminal.
                XCTAssertFalse(e.message.utf8.contains { $0 < 0x20 && $0 != 0x0A }, "raw control byte in: \(Names.printable(e.message))")
            } catch {
                XCTFail("cleanPath threw \(error), not a PFSError")
            }
        }
        print("names fuzz: \(acceptedNames) repo names and \(acceptedPaths) paths accepted, all within the grammar")
    }

    static func isRepoByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }
}

import Foundation
@testable import PFSPipelines
import XCTest

/// Seeded mutation fuzzing of the spec parser (JSON and YAML): every input either parses or is refused with a
/// `SpecError` that has a message, never a crash, a hang or an unbounded time. Iterations: $PFS_FUZZ_ITERATIONS
/// (default 4000 per format); the seed is printed and $PFS_FUZZ_SEED replays a run.
final class SpecFuzzTests: XCTestCase {
    static let jsonSeeds = [
        #"{"pipeline": {"name": "edges"}, "description": "d", "transform": {"image": "host", "cmd": ["sh", "-c", "cp $images /pfs/out/"], "env": {"A": "1"}, "stdin": ["echo"], "accept_return_code": [1], "err_cmd": ["true"]}, "input": {"pfs": {"repo": "images", "glob": "/*", "lazy": true, "empty_files": false}}, "parallelism_spec": {"constant": 2}, "datum_tries": 3, "datum_timeout": "30s", "resource_limits": {"cpu": 1, "memory": "64M", "gpu": {"type": "nvidia", "number": 1}}}"#,
        #"{"pipeline": {"name": "j"}, "transform": {"cmd": ["sh"]}, "input": {"join": [{"pfs": {"repo": "a", "glob": "/(*).txt", "join_on": "$1", "outer_join": true}}, {"pfs": {"repo": "b", "glob": "/(*).csv", "joinOn": "$1"}}]}}"#,
        #"{"pipeline": {"name": "x"}, "transform": {"cmd": ["true"]}, "input": {"cross": [{"pfs": {"repo": "a", "glob": "/"}}, {"union": [{"pfs": {"repo": "b", "glob": "/*/*"}}, {"pfs": {"repo": "c", "glob": "/**"}}]}]}}"#,
        #"{"pipeline": {"name": "old"}, "transform": {"cmd": ["sh"]}, "inputs": [{"repo": {"name": "data"}, "method": "map", "runEmpty": false}], "parallelism": 1}"#,
        #"{"pipeline": {"name": "g"}, "transform": {"cmd": ["sh"]}, "input": {"group": [{"pfs": {"repo": "a", "glob": "/(*)-*", "group_by": "$1"}}]}}{"pipeline": {"name": "c"}, "transform": {"cmd": ["sh"]}, "input": {"cron": {"name": "tick", "spec": "*/5 * * * *"}}}"#,
    ]
    static let yamlSeeds = [
        """
        pipeline:
          name: count
        transform:
          cmd: [sh, -c, "wc -c < $data > /pfs/out/$(basename $data)"]
          env: {K: v}
        input:
          pfs: {repo: data, glob: "/*", name: d}
        parallelism_spec: {constant: 4}
        """,
        """
        pipeline: {name: a}
        transform: {cmd: [sh, -c, "sed s/^/a/ /pfs/data/x > /pfs/out/x"]}
        input: {pfs: {repo: data, glob: /}}
        ---
        pipeline: {name: b}
        transform:
          cmd:
            - sh
          stdin:
            - "echo hi"
        input:
          atom: {repo: a, glob: "/*"}
        output_branch: out
        egress: {URL: "s3://bucket/dir"}
        """,
        """
        pipeline:
          name: anchors
        transform: &t
          cmd: [true]
        input:
          union:
            - pfs: {repo: a, glob: "/*"}
            - pfs: {repo: b, glob: "/*", lazy: yes}
        datum_timeout: 1m
        """,
    ]

    /// Fragments that tend to reach edges of the readers: structure, escapes, numbers, YAML features.
    static let tokens = ["{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\u0000", "\u{0}", "\n", "\r\n", "\t", " ",
                         "null", "true", "1e999", "-0", "0x1F", "1.5", "99999999999999999999999", "NaN", "'", "---", "...",
                         "&a", "*a", "!!binary", "!tag", "? ", "- ", "|", ">", "#", "%YAML 1.2", "<<: *t", "~", "\u{FEFF}",
                         "é", "\u{202E}", "💥", "/..", "../", "\"name\": \"../x\"", "\"glob\": \"/**/..\"", "\"repo\": \"a/b\""]

    func testMutatedSpecsParseOrGiveASpecError() throws {
        let env = ProcessInfo.processInfo.environment
        let iterations = Int(env["PFS_FUZZ_ITERATIONS"] ?? "") ?? 4000
        let seed = UInt64(env["PFS_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        print("spec fuzz seed \(seed), \(iterations) inputs per format (PFS_FUZZ_SEED replays)")
        var rng = FuzzRandom(seed: seed)
        var accepted = 0, refused = 0, slowest = 0.0
        for (format, seeds) in [("json", Self.jsonSeeds), ("yaml", Self.yamlSeeds)] {
            for i in 0..<iterations {
                var bytes = Array(seeds[Int(rng.next() % UInt64(seeds.count))].utf8)
                for _ in 0...(rng.next() % 6) { mutate(&bytes, &rng) }
                let text = String(decoding: bytes, as: UTF8.self)
                let start = Date()
                do {
                    _ = try SpecParser.parseDocuments(text, filename: "fuzz.\(format)", cpuCount: 2)
                    accepted += 1
                } catch {
                    refused += 1
                    XCTAssertFalse(error.message.isEmpty, "\(format) input \(i) (seed \(seed)): an empty error message")
                }
                let t = Date().timeIntervalSince(start)
                slowest = max(slowest, t)
                XCTAssertLessThan(t, 2, "\(format) input \(i) (seed \(seed)) took \(t) s:\n\(text.prefix(2000))")
            }
        }
        // Nesting far beyond anything real must be refused, not overflow the stack.
        for open in ["[", "{\"a\":"] {
            let deep = String(repeating: open, count: 100_000)
            XCTAssertThrowsError(try SpecParser.parseDocuments(deep, filename: "deep.json", cpuCount: 2))
            XCTAssertThrowsError(try SpecParser.parseDocuments(String(repeating: "- ", count: 20_000) + "x", filename: "deep.yaml", cpuCount: 2))
        }
        print("spec fuzz: \(accepted) accepted, \(refused) refused with a SpecError, slowest \(String(format: "%.3f", slowest)) s")
        XCTAssertGreaterThan(refused, iterations / 2, "the mutations should break most specs")
    }

    private func mutate(_ b: inout [UInt8], _ rng: inout FuzzRandom) {
        let at = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
        switch rng.next() % 7 {
        case 0: if !b.isEmpty { b[at] = UInt8(truncatingIfNeeded: rng.next()) }                  // a random byte
        case 1: if !b.isEmpty { b.remove(at: at) }                                                // delete
        case 2: b.insert(contentsOf: Array(Self.tokens[Int(rng.next() % UInt64(Self.tokens.count))].utf8), at: at)
        case 3: b = Array(b.prefix(at))                                                           // truncate
        case 4:                                                                                   // duplicate a span
            let n = min(b.count - at, Int(rng.next() % 64))
            b.insert(contentsOf: b[at..<(at + n)], at: at)
        case 5: if !b.isEmpty { b[at] ^= 1 << UInt8(rng.next() % 8) }                             // a bit flip
        default:                                                                                  // swap two spans
            let other = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
            if at != other { b.swapAt(at, other) }
        }
    }
}

/// SplitMix64: small, seedable, the same sequence on every platform.
struct FuzzRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

import Foundation
import PFSCore
@testable import PFSPipelines
import XCTest

final class SpecParserTests: XCTestCase {
    // MARK: - Helpers

    /// Parses with a fixed CPU count (1.x `coefficient` parallelism depends on it).
    private func parse(_ text: String, filename: String? = nil, cpus: Int = 2) throws -> [PipelineSpec] {
        try SpecParser.parseDocuments(text, filename: filename, cpuCount: cpus).map(\.spec)
    }

    private func parseOne(_ text: String, filename: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> PipelineSpec {
        let specs = try parse(text, filename: filename)
        XCTAssertEqual(specs.count, 1, file: file, line: line)
        return try XCTUnwrap(specs.first, file: file, line: line)
    }

    /// Asserts that `text` is refused at `path` with a message containing every fragment; returns the error.
    @discardableResult
    private func expectError(_ text: String, filename: String? = nil, path: String, _ fragments: String...,
                             file: StaticString = #filePath, line: UInt = #line) -> SpecError? {
        do {
            _ = try SpecParser.parseDocuments(text, filename: filename, cpuCount: 2)
            XCTFail("expected an error at \(path), but the spec was accepted", file: file, line: line)
            return nil
        } catch {
            XCTAssertEqual(error.path, path, "\(error)", file: file, line: line)
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "«\(error.message)» does not contain «\(fragment)»", file: file, line: line)
            }
            return error
        }
    }

    /// A valid 2.x spec with parts replaced.
    private func json(pipeline: String = #"{"name": "p"}"#, transform: String = #"{"cmd": ["sh"]}"#,
                      input: String? = #"{"pfs": {"repo": "data", "glob": "/*"}}"#, _ extra: String = "") -> String {
        var fields = ["\"pipeline\": \(pipeline)", "\"transform\": \(transform)"]
        if let input { fields.append("\"input\": \(input)") }
        if !extra.isEmpty { fields.append(extra) }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    private func pfs(_ name: String, repo: String? = nil, glob: String, incremental: PFSInput.Incremental = .none) -> PFSInput {
        var p = PFSInput(name: name, repo: repo ?? name, glob: glob)
        p.incremental = incremental
        return p
    }

    // MARK: - Pachyderm 1.x

    func testFruitStand11TwoSpecStreamWithMapAndReduce() throws {
        let specs = try parse(SpecExamples.fruitStand11, filename: "pipeline.json")
        XCTAssertEqual(specs.map(\.name), ["filter", "sum"])

        let filter = specs[0]
        XCTAssertEqual(filter.dialect, .v1)
        XCTAssertEqual(filter.transform.image, "fruit_stand")
        XCTAssertEqual(filter.transform.cmd, ["sh"])
        XCTAssertEqual(filter.transform.stdin, [
            "grep apple  /pfs/data/sales >/pfs/out/apple",
            "grep banana /pfs/data/sales >/pfs/out/banana",
            "grep orange /pfs/data/sales >/pfs/out/orange",
        ])
        XCTAssertEqual(filter.parallelism, 1)  // "parallelism": "1", a string
        // map = BLOCK + DIFF: each top-level file is a datum, jobs see what is new.
        XCTAssertEqual(filter.input, .pfs(pfs("data", glob: "/*", incremental: .diff)))
        XCTAssertFalse(filter.overwriteOutput)

        let sum = specs[1]
        XCTAssertEqual(sum.dialect, .v1)
        // reduce = FILE + NONE: one datum with the whole repo, recomputed every job, output starts empty.
        XCTAssertEqual(sum.input, .pfs(pfs("filter", glob: "/", incremental: .none)))
        XCTAssertTrue(sum.overwriteOutput)
        XCTAssertEqual(sum.datumTries, 3)
        XCTAssertEqual(sum.outputBranch, "master")
    }

    func testFruitStand13MethodObjectWithLowercasePartitionAndPrev() throws {
        let specs = try parse(SpecExamples.fruitStand13)
        XCTAssertEqual(specs.map(\.name), ["filter", "sum"])
        XCTAssertEqual(specs[0].input, .pfs(pfs("data", glob: "/*", incremental: .diff)))
        XCTAssertEqual(specs[0].parallelism, 1)
        XCTAssertNil(specs[0].transform.image)
        // {partition: "file", incremental: "DIFF"}: the whole filter repo as one datum, only the new lines shown,
        // the previous totals in /pfs/prev; the output continues from the previous commit.
        XCTAssertEqual(specs[1].input, .pfs(pfs("filter", glob: "/", incremental: .diff)))
        XCTAssertFalse(specs[1].overwriteOutput)
        XCTAssertEqual(specs[1].transform.stdin[1],
                       "   { cat /pfs/prev/$fruit || echo 0; cat /pfs/filter/$fruit; } | awk '{s+=$1} END {print s}' > /pfs/out/$fruit")
        XCTAssertTrue(specs.allSatisfy { $0.dialect == .v1 })
    }

    func testFruitStand14InputsWithGlob() throws {
        let specs = try parse(SpecExamples.fruitStand14)
        XCTAssertEqual(specs.map(\.dialect), [.v1, .v1])
        XCTAssertEqual(specs[0].input, .pfs(pfs("data", glob: "/*")))
        XCTAssertEqual(specs[1].input, .pfs(pfs("filter", glob: "/*")))
        XCTAssertFalse(specs[1].overwriteOutput)
    }

    func testV1SeveralInputsAreCrossedWithOverwriteGlobalAndBooleanIncremental() throws {
        let text = #"""
        {
          "pipeline": {"name": "train"},
          "transform": {"image": "trainer", "cmd": ["/train.sh"], "overwrite": true},
          "parallelism_spec": {"strategy": "COEFFICIENT", "coefficient": 1.5},
          "inputs": [
            {"repo": {"name": "data"}, "method": {"partition": "BLOCK", "incremental": true}, "runEmpty": true},
            {"repo": {"name": "params"}, "method": "global", "lazy": true},
            {"repo": {"name": "data"}, "name": "history", "method": {"partition": "REPO", "incremental": "FILE"}},
            {"repo": {"name": "labels"}}
          ]
        }
        """#
        let spec = try parseOne(text)
        XCTAssertEqual(spec.dialect, .v1)
        XCTAssertEqual(spec.parallelism, 3)  // 1.5 × 2 CPUs
        XCTAssertTrue(spec.overwriteOutput)
        var params = pfs("params", glob: "/", incremental: .none)
        params.lazy = true
        XCTAssertEqual(spec.input, .cross([
            .pfs(pfs("data", glob: "/*", incremental: .diff)),
            .pfs(params),
            .pfs(pfs("history", repo: "data", glob: "/", incremental: .file)),
            .pfs(pfs("labels", glob: "/*", incremental: .diff)),  // no method: map
        ]))
        let docs = try SpecParser.parseDocuments(text, filename: nil, cpuCount: 2)
        XCTAssertEqual(docs[0].ignoredFields, ["inputs[0].runEmpty"])
    }

    func testV1ImpliedOverwriteOnlyForNonIncrementalMethods() throws {
        let map = try parseOne(#"{"pipeline": {"name": "a"}, "transform": {"cmd": ["sh"]}, "inputs": [{"repo": {"name": "d"}, "method": "map"}]}"#)
        XCTAssertFalse(map.overwriteOutput)
        let explicitNone = try parseOne(#"{"pipeline": {"name": "a"}, "transform": {"cmd": ["sh"]}, "inputs": [{"repo": {"name": "d"}, "method": {"partition": "FILE"}}]}"#)
        XCTAssertTrue(explicitNone.overwriteOutput)
        XCTAssertEqual(explicitNone.input, .pfs(pfs("d", glob: "/", incremental: .none)))
    }

    func test10MethodSpellings() throws {
        let v1 = { (input: String) in #"{"pipeline": {"name": "p"}, "transform": {"cmd": ["sh"]}, "parallelism": 4, "inputs": ["# + input + "]}" }
        XCTAssertEqual(try parseOne(v1(#"{"repo": {"name": "d"}, "method": "incremental_reduce"}"#)).input, .pfs(pfs("d", glob: "/", incremental: .diff)))
        XCTAssertEqual(try parseOne(v1(#"{"repo": {"name": "d"}, "method": {"partition": "file", "incrementality": true}}"#)).input, .pfs(pfs("d", glob: "/", incremental: .diff)))
        XCTAssertEqual(try parseOne(v1(#"{"repo": {"name": "d"}, "reduce": true}"#)).input, .pfs(pfs("d", glob: "/", incremental: .none)))
        XCTAssertEqual(try parseOne(v1(#"{"repo": {"name": "d"}, "reduce": false}"#)).input, .pfs(pfs("d", glob: "/*", incremental: .diff)))
        XCTAssertEqual(try parseOne(v1(#"{"repo": {"name": "d"}}"#)).parallelism, 4)
        expectError(v1(#"{"repo": {"name": "d"}, "reduce": true, "method": "map"}"#), path: "inputs[0].reduce", "keep one")
        expectError(v1(#"{"repo": {"name": "d"}, "method": {"incremental": "DIFF", "incrementality": true}}"#), path: "inputs[0].method.incrementality", "keep one")
    }

    func testCoefficientParallelismIsAtLeastOne() throws {
        let spec = try parseOne(json(#""parallelism_spec": {"coefficient": 0.2}"#))
        XCTAssertEqual(spec.parallelism, 1)
        let eight = try parse(json("\"parallelism_spec\": {\"coefficient\": 1}"), cpus: 8)
        XCTAssertEqual(eight.first?.parallelism, 8)
    }

    // MARK: - Pachyderm 1.7

    func testFruitStand17AtomInputs() throws {
        let specs = try parse(SpecExamples.fruitStand17)
        XCTAssertEqual(specs.map(\.dialect), [.v17, .v17])
        XCTAssertEqual(specs[0].input, .pfs(pfs("data", glob: "/*")))
        XCTAssertEqual(specs[1].input, .pfs(pfs("filter", glob: "/*")))
        XCTAssertFalse(specs[1].overwriteOutput)
    }

    func testAtomsInCrossAndUnion() throws {
        let text = json(input: #"""
            {"cross": [
              {"atom": {"name": "left", "repo": "data", "branch": "dev", "glob": "/*", "lazy": true}},
              {"union": [{"atom": {"repo": "a", "glob": "/"}}, {"atom": {"repo": "b", "glob": "/*/*"}}]}
            ]}
            """#)
        let spec = try parseOne(text)
        XCTAssertEqual(spec.dialect, .v17)
        var left = PFSInput(name: "left", repo: "data", branch: "dev", glob: "/*")
        left.lazy = true
        XCTAssertEqual(spec.input, .cross([.pfs(left), .union([.pfs(pfs("a", glob: "/")), .pfs(pfs("b", glob: "/*/*"))])]))
    }

    // MARK: - Pachyderm 2.x

    func testOpenCVEdges() throws {
        let docs = try SpecParser.parseDocuments(SpecExamples.edges, filename: "edges.pipeline.json", cpuCount: 2)
        let spec = docs[0].spec
        XCTAssertEqual(spec.name, "edges")
        XCTAssertEqual(spec.dialect, .v2)
        XCTAssertEqual(spec.description, "A pipeline that performs image edge detection by using the OpenCV library.")
        XCTAssertEqual(spec.transform.image, "pachyderm/opencv:1.0")
        XCTAssertEqual(spec.transform.cmd, ["python3", "/edges.py"])
        XCTAssertEqual(spec.input, .pfs(pfs("images", glob: "/*")))
        XCTAssertEqual(spec.parallelism, 1)
        XCTAssertEqual(docs[0].ignoredFields, ["autoscaling"])
        XCTAssertEqual(docs[0].line, 1)
    }

    func testOpenCVEdgesWithDefaultProject() throws {
        let spec = try parseOne(SpecExamples.edgesWithProject)
        XCTAssertEqual(spec.input, .pfs(pfs("images", glob: "/*")))
        expectError(json(pipeline: #"{"name": "p", "project": {"name": "ml"}}"#), path: "pipeline.project", "no projects", "\"default\"")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/", "project": "ml"}}"#), path: "input.pfs.project", "no projects")
    }

    func testOpenCVMontageCross() throws {
        let spec = try parseOne(SpecExamples.montage)
        XCTAssertEqual(spec.input, .cross([.pfs(pfs("images", glob: "/")), .pfs(pfs("edges", glob: "/"))]))
        XCTAssertEqual(spec.transform.stdin.count, 1)
    }

    func testInnerJoin() throws {
        let spec = try parseOne(SpecExamples.innerJoin)
        var stores = pfs("stores", glob: "/STOREID(*).txt")
        stores.joinOn = "$1"
        var purchases = pfs("purchases", glob: "/*_STOREID(*).txt")
        purchases.joinOn = "$1"
        XCTAssertEqual(spec.input, .join([.pfs(stores), .pfs(purchases)]))
    }

    func testJoinInCamelCaseWithOuterJoinAndEveryCamelField() throws {
        let text = #"""
        {
          "pipeline": {"name": "readings-joined"},
          "transform": {
            "image": "python:3.11-slim",
            "cmd": ["python3", "/code/join.py"],
            "errCmd": ["sh"],
            "errStdin": ["echo failed >&2"],
            "acceptReturnCode": [3, 4],
            "workingDir": "/code",
            "imagePullSecrets": ["regcred"]
          },
          "parallelismSpec": {"constant": "4"},
          "datumTries": 5,
          "datumTimeout": "1m30s",
          "jobTimeout": "2h",
          "resourceRequests": {"cpu": "500m", "memory": "512Mi"},
          "resourceLimits": {"cpu": 2, "memory": "2Gi", "gpu": {"type": "nvidia.com/gpu", "number": 1}},
          "outputBranch": "results",
          "reprocessSpec": "every_job",
          "input": {
            "join": [
              {"pfs": {"repo": "readings", "glob": "/*/(*).txt", "joinOn": "$1", "outerJoin": true, "emptyFiles": true}},
              {"pfs": {"repo": "parameters", "glob": "/(*).txt", "joinOn": "$1"}}
            ]
          },
          "podPatch": "[]",
          "sidecarResourceLimits": {"memory": "1G"}
        }
        """#
        let docs = try SpecParser.parseDocuments(text, filename: nil, cpuCount: 2)
        let spec = docs[0].spec
        XCTAssertEqual(spec.transform.errCmd, ["sh"])
        XCTAssertEqual(spec.transform.errStdin, ["echo failed >&2"])
        XCTAssertEqual(spec.transform.acceptReturnCode, [3, 4])
        XCTAssertEqual(spec.transform.workingDir, "/code")
        XCTAssertEqual(spec.parallelism, 4)
        XCTAssertEqual(spec.datumTries, 5)
        XCTAssertEqual(spec.datumTimeout, 90)
        XCTAssertEqual(spec.jobTimeout, 7200)
        XCTAssertEqual(spec.resourceRequests?.cpu, 0.5)
        XCTAssertEqual(spec.resourceRequests?.memory, 512 * 1024 * 1024)
        XCTAssertEqual(spec.resourceLimits?.cpu, 2)
        XCTAssertEqual(spec.resourceLimits?.memory, 2 * 1024 * 1024 * 1024)
        XCTAssertEqual(spec.resourceLimits?.gpu, Resources.GPU(type: "nvidia.com/gpu", number: 1))
        XCTAssertEqual(spec.outputBranch, "results")
        XCTAssertEqual(spec.reprocessSpec, .everyJob)
        var readings = pfs("readings", glob: "/*/(*).txt")
        readings.joinOn = "$1"
        readings.outerJoin = true
        readings.emptyFiles = true
        var parameters = pfs("parameters", glob: "/(*).txt")
        parameters.joinOn = "$1"
        XCTAssertEqual(spec.input, .join([.pfs(readings), .pfs(parameters)]))
        XCTAssertEqual(docs[0].ignoredFields, ["transform.imagePullSecrets", "podPatch", "sidecarResourceLimits"])
    }

    func testRetailGroup() throws {
        let spec = try parseOne(SpecExamples.retailGroup)
        guard case .group(let inputs) = spec.input else { return XCTFail("\(spec.input)") }
        XCTAssertEqual(inputs.count, 3)
        XCTAssertEqual(spec.input.pfsInputs.map(\.name), ["stores", "purchases", "returns"])
        XCTAssertEqual(spec.input.pfsInputs.map(\.groupBy), ["$1", "$1", "$1"])
    }

    func testLabGroupStreamWithBlankLineAndEnableStats() throws {
        let docs = try SpecParser.parseDocuments(SpecExamples.labGroups, filename: "group.json", cpuCount: 2)
        XCTAssertEqual(docs.map(\.spec.name), ["group_by_hospital", "group_by_patient"])
        XCTAssertEqual(docs.map(\.ignoredFields), [["enable_stats"], ["enable_stats"]])
        XCTAssertEqual(docs[1].line, 25)
        XCTAssertEqual(docs[0].spec.transform.stdin[0], #"PATTERN=.*CLIA\(.*\).txt"#)
        var hospital = pfs("labresults", glob: "/*CLIA(*).txt")
        hospital.groupBy = "$1"
        XCTAssertEqual(docs[0].spec.input, .group([.pfs(hospital)]))
    }

    func testPachydermStyleComplexInputTree() throws {
        // The shape of a spec from Pachyderm's own parser tests: string constant, a glob without a leading
        // slash, join_on on a pfs input inside a union, a join inside the union, names shared across the union.
        let text = #"""
        {
          "pipeline": {"name": "complex"},
          "transform": {"cmd": ["sh"], "env": {"MODE": "fast", "LEVEL": "3"}},
          "parallelism_spec": {"constant": "16"},
          "input": {
            "cross": [
              {"pfs": {"name": "config", "repo": "settings", "glob": "settings.json"}},
              {"union": [
                {"pfs": {"name": "readings", "repo": "sensors-a", "glob": "/a/(*)/(*)/(*)", "joinOn": "$1/$2/$3"}},
                {"join": [
                  {"pfs": {"name": "readings", "repo": "sensors-b", "glob": "/b/(*)/(*)/(*)/(x|y)", "joinOn": "$1/$2/$3"}},
                  {"pfs": {"name": "calibration", "repo": "calib", "glob": "/(*)/(*)/(*)", "joinOn": "$1/$2/$3"}}
                ]}
              ]}
            ]
          },
          "autoscaling": true
        }
        """#
        let spec = try parseOne(text)
        XCTAssertEqual(spec.parallelism, 16)
        XCTAssertEqual(spec.transform.env, ["MODE": "fast", "LEVEL": "3"])
        XCTAssertEqual(spec.input.pfsInputs.map(\.name), ["config", "readings", "readings", "calibration"])
        XCTAssertEqual(spec.input.pfsInputs.first?.glob, "settings.json")
    }

    func testEveryFieldOf2xSpec() throws {
        let text = #"""
        {
          "pipeline": {"name": "nightly-report"},
          "description": "Builds the nightly report.",
          "transform": {
            "image": "host",
            "cmd": ["/bin/sh"],
            "stdin": ["set -e", "report > /pfs/out/report.txt"],
            "env": {"TZ": "UTC"},
            "secrets": [
              {"name": "s3-creds", "mount_path": "/secrets/s3"},
              {"name": "api", "env_var": "API_TOKEN", "key": "token"}
            ],
            "err_cmd": ["true"],
            "accept_return_code": [1],
            "user": "1000",
            "working_dir": "/tmp",
            "debug": true
          },
          "input": {"cross": [
            {"pfs": {"repo": "sales", "branch": "staging", "glob": "/*", "lazy": true}},
            {"cron": {"name": "tick", "spec": "0 2 * * MON-FRI", "overwrite": true, "repo": "nightly_tick", "start": "2024-01-31T09:00:00Z"}}
          ]},
          "parallelism_spec": {"constant": 2},
          "datum_tries": 1,
          "datum_timeout": "10s",
          "job_timeout": 3600,
          "resource_requests": {"cpu": 0.25, "memory": "1.2G", "disk": "10Gi"},
          "resource_limits": {"memory": 1073741824, "gpu": 2},
          "output_branch": "release-1.0",
          "reprocess_spec": "until_success",
          "egress": {"URL": "s3://reports/nightly"},
          "metadata": {"labels": {"team": "bi"}},
          "scheduling_spec": {"node_selector": {"disk": "ssd"}},
          "salt": "abc",
          "standby": true,
          "cache_size": "64M",
          "max_queue_size": 10,
          "chunk_spec": {"number": 10},
          "datum_set_spec": {"number": 10},
          "spec_commit": {"id": "x"},
          "tolerations": [],
          "pod_spec": "{}",
          "s3_out": false
        }
        """#
        let docs = try SpecParser.parseDocuments(text, filename: nil, cpuCount: 2)
        let spec = docs[0].spec
        XCTAssertEqual(spec.description, "Builds the nightly report.")
        XCTAssertEqual(spec.transform.image, "host")
        XCTAssertEqual(spec.transform.stdin, ["set -e", "report > /pfs/out/report.txt"])
        XCTAssertEqual(spec.transform.secrets, [
            SecretRef(name: "s3-creds", mountPath: "/secrets/s3"),
            SecretRef(name: "api", envVar: "API_TOKEN", key: "token"),
        ])
        XCTAssertEqual(spec.transform.user, "1000")
        XCTAssertEqual(spec.transform.workingDir, "/tmp")
        var sales = PFSInput(name: "sales", repo: "sales", branch: "staging", glob: "/*")
        sales.lazy = true
        var tick = CronInput(name: "tick", spec: "0 2 * * MON-FRI")
        tick.overwrite = true
        tick.repo = "nightly_tick"
        tick.start = Date(timeIntervalSince1970: 1_706_691_600)
        XCTAssertEqual(spec.input, .cross([.pfs(sales), .cron(tick)]))
        XCTAssertEqual(spec.parallelism, 2)
        XCTAssertEqual(spec.datumTries, 1)
        XCTAssertEqual(spec.datumTimeout, 10)
        XCTAssertEqual(spec.jobTimeout, 3600)
        XCTAssertEqual(spec.resourceRequests?.cpu, 0.25)
        XCTAssertEqual(spec.resourceRequests?.memory, 1_200_000_000)
        XCTAssertEqual(spec.resourceRequests?.disk, 10 * 1_073_741_824)
        XCTAssertEqual(spec.resourceLimits?.memory, 1_073_741_824)
        XCTAssertEqual(spec.resourceLimits?.gpu, Resources.GPU(type: "nvidia.com/gpu", number: 2))  // older plain number
        XCTAssertEqual(spec.outputBranch, "release-1.0")
        XCTAssertEqual(spec.reprocessSpec, .untilSuccess)
        XCTAssertEqual(spec.egress, Egress(url: "s3://reports/nightly"))
        XCTAssertEqual(docs[0].ignoredFields, [
            "transform.debug", "metadata", "scheduling_spec", "salt", "standby", "cache_size", "max_queue_size",
            "chunk_spec", "datum_set_spec", "spec_commit", "tolerations", "pod_spec",
        ])
    }

    func testEgressLowercaseURLAnd1xOutput() throws {
        XCTAssertEqual(try parseOne(json(#""egress": {"url": "gs://b/d"}"#)).egress, Egress(url: "gs://b/d"))
        XCTAssertEqual(try parseOne(json(#""output": {"URL": "s3://b/d"}"#)).egress, Egress(url: "s3://b/d"))
        expectError(json(#""egress": {"URL": "s3://b/d"}, "output": {"URL": "s3://b/e"}"#), path: "output", "keep one")
    }

    func testNullMeansUnset() throws {
        let spec = try parseOne(json(#""egress": null, "datum_tries": null, "description": null"#))
        XCTAssertNil(spec.egress)
        XCTAssertEqual(spec.datumTries, 3)
    }

    // MARK: - Values: durations, quantities, cron

    func testDurations() throws {
        let cases: [(String, Double)] = [
            (#""10s""#, 10), (#""1m30s""#, 90), (#""2h""#, 7200), (#""1.5m""#, 90), (#""500ms""#, 0.5),
            ("30", 30), (#""30""#, 30), ("2.5", 2.5), (#""1h2m3.5s""#, 3723.5), (#""60s""#, 60),
        ]
        for (literal, seconds) in cases {
            let spec = try parseOne(json("\"datum_timeout\": \(literal)"))
            XCTAssertEqual(spec.datumTimeout, seconds, literal)
        }
        expectError(json(#""datum_timeout": "10 minutes""#), path: "datum_timeout", "not a duration", "\"30s\"")
        expectError(json(#""job_timeout": "1d""#), path: "job_timeout", "not a duration")
        expectError(json(#""job_timeout": "0s""#), path: "job_timeout", "must be positive", "remove job_timeout")
        expectError(json(#""job_timeout": -5"#), path: "job_timeout", "must be positive")
        expectError(json(#""job_timeout": true"#), path: "job_timeout", "expected a duration")
    }

    func testMemoryAndCPUQuantities() throws {
        let memory: [(String, Int64)] = [
            (#""1G""#, 1_000_000_000), (#""512Mi""#, 536_870_912), (#""2Gi""#, 2_147_483_648), (#""1.2G""#, 1_200_000_000),
            (#""1K""#, 1000), (#""1k""#, 1000), (#""1Ki""#, 1024), (#""129e6""#, 129_000_000), ("1024", 1024),
            (#""100""#, 100), (#""1.5Ki""#, 1536),
        ]
        for (literal, bytes) in memory {
            let spec = try parseOne(json("\"resource_limits\": {\"memory\": \(literal), \"disk\": \(literal)}"))
            XCTAssertEqual(spec.resourceLimits?.memory, bytes, literal)
            XCTAssertEqual(spec.resourceLimits?.disk, bytes, literal)
        }
        let cpus: [(String, Double)] = [("1", 1), ("0.5", 0.5), (#""500m""#, 0.5), (#""2""#, 2), (#""1.5""#, 1.5), (#""250m""#, 0.25)]
        for (literal, value) in cpus {
            XCTAssertEqual(try parseOne(json("\"resource_requests\": {\"cpu\": \(literal)}")).resourceRequests?.cpu, value, literal)
        }
        expectError(json(#""resource_limits": {"memory": "1GB"}"#), path: "resource_limits.memory", "unknown suffix \"GB\"", "\"1G\"", "\"1Gi\"")
        expectError(json(#""resource_limits": {"memory": "500m"}"#), path: "resource_limits.memory", "milli", "\"500M\"")
        expectError(json(#""resource_limits": {"memory": "lots"}"#), path: "resource_limits.memory", "not a quantity")
        expectError(json(#""resource_limits": {"memory": "-1G"}"#), path: "resource_limits.memory", "negative")
        expectError(json(#""resource_limits": {"memory": true}"#), path: "resource_limits.memory", "expected a size")
        expectError(json(#""resource_requests": {"cpu": "abc"}"#), path: "resource_requests.cpu", "not a CPU amount")
        expectError(json(#""resource_requests": {"cpu": "2x"}"#), path: "resource_requests.cpu", "unknown suffix")
        expectError(json(#""resource_requests": {"cpu": -1}"#), path: "resource_requests.cpu", "negative")
        expectError(json(#""resource_requests": {"gpu": {"type": "amd.com/gpu", "number": -1}}"#), path: "resource_requests.gpu.number", "at least 0")
        expectError(json(#""resource_requests": {"ram": "1G"}"#), path: "resource_requests.ram", "allowed here are: cpu, disk, gpu, memory")
        let gpu = try parseOne(json(#""resource_limits": {"gpu": {"type": "amd.com/gpu", "number": 2}}"#))
        XCTAssertEqual(gpu.resourceLimits?.gpu, Resources.GPU(type: "amd.com/gpu", number: 2))
    }

    func testCronSpecs() throws {
        for schedule in ["@every 10s", "@every 1h30m", "@daily", "@hourly", "@yearly", "*/10 * * * *", "0 9 * * MON-FRI",
                         "0 0 1 JAN,JUL ?", "5,35 0-23/2 1-31 1-12 0-6", "0 12 * * sun"] {
            let spec = try parseOne(json(input: "{\"cron\": {\"name\": \"tick\", \"spec\": \"\(schedule)\"}}"))
            XCTAssertEqual(spec.input, .cron(CronInput(name: "tick", spec: schedule)), schedule)
        }
        let bad: [(String, String)] = [
            ("* * *", "has 3 fields"), ("60 * * * *", "not a valid minute"), ("* 24 * * *", "not a valid hour"),
            ("* * 0 * *", "not a valid day of month"), ("* * * FOO *", "not a valid month"), ("5-1 * * * *", "goes backwards"),
            ("*/0 * * * *", "at least 1"), ("@every banana", "not a duration"), ("@every", "takes one duration"),
            ("@sometimes", "unknown schedule"), ("? * * * *", "only allowed in the day-of-month"), ("1,,2 * * * *", "empty list item"),
        ]
        for (schedule, fragment) in bad {
            expectError(json(input: "{\"cron\": {\"name\": \"tick\", \"spec\": \"\(schedule)\"}}"), path: "input.cron.spec", fragment)
        }
        expectError(json(input: #"{"cron": {"spec": "@daily"}}"#), path: "input.cron.name", "required")
        expectError(json(input: #"{"cron": {"name": "tick"}}"#), path: "input.cron.spec", "required", "@every 1h")
        expectError(json(input: #"{"cron": {"name": "tick", "spec": "@daily", "start": "yesterday"}}"#), path: "input.cron.start", "RFC 3339")
    }

    // MARK: - YAML and streams

    func testYAMLMultiDocument() throws {
        let yaml = #"""
        # Two pipelines in one file.
        ---
        pipeline:
          name: edges
        description: Edge detection with OpenCV.
        input:
          pfs:
            repo: images
            glob: "/*"
        transform:
          cmd: [python3, /edges.py]
          image: pachyderm/opencv:1.0
        parallelism_spec:
          constant: 2
        datum_timeout: 1m
        ---
        pipeline:
          name: montage
        input:
          cross:
            - pfs:
                repo: images
                glob: /
            - pfs:
                repo: edges
                glob: /
        transform:
          cmd:
            - sh
          image: dpokidov/imagemagick:7.1.0-23
          stdin:
            - >-
              montage -shadow -background SkyBlue -geometry 300x300+2+2
              $(find -L /pfs/images /pfs/edges -type f | sort) /pfs/out/montage.png
        resource_limits:
          memory: 2Gi
          cpu: 1.5
        ---
        """#
        let docs = try SpecParser.parseDocuments(yaml, filename: "pipelines.yaml", cpuCount: 2)
        XCTAssertEqual(docs.map(\.spec.name), ["edges", "montage"])
        XCTAssertEqual(docs.map(\.line), [3, 17])
        let edges = docs[0].spec
        XCTAssertEqual(edges.input, .pfs(pfs("images", glob: "/*")))
        XCTAssertEqual(edges.transform.cmd, ["python3", "/edges.py"])
        XCTAssertEqual(edges.parallelism, 2)
        XCTAssertEqual(edges.datumTimeout, 60)
        let montage = docs[1].spec
        XCTAssertEqual(montage.input, .cross([.pfs(pfs("images", glob: "/")), .pfs(pfs("edges", glob: "/"))]))
        XCTAssertEqual(montage.transform.stdin, ["montage -shadow -background SkyBlue -geometry 300x300+2+2 $(find -L /pfs/images /pfs/edges -type f | sort) /pfs/out/montage.png"])
        XCTAssertEqual(montage.resourceLimits?.memory, 2_147_483_648)
        XCTAssertEqual(montage.resourceLimits?.cpu, 1.5)
    }

    func testYAMLScalarTyping() throws {
        // Quoted scalars stay strings; YAML 1.1 booleans are booleans; numbers in string fields are refused.
        let ok = try parseOne("""
            pipeline: {name: p}
            transform: {cmd: [sh], env: {PORT: "8080", FLAG: "yes"}}
            input: {pfs: {repo: data, glob: "/*", lazy: yes, branch: "2024"}}
            datum_tries: 0x0A
            """, filename: "p.yml")
        XCTAssertEqual(ok.transform.env, ["PORT": "8080", "FLAG": "yes"])
        XCTAssertEqual(ok.input.pfsInputs.first?.lazy, true)
        XCTAssertEqual(ok.input.pfsInputs.first?.branch, "2024")
        XCTAssertEqual(ok.datumTries, 10)
        expectError("""
            pipeline: {name: p}
            transform: {cmd: [sh], env: {PORT: 8080}}
            input: {pfs: {repo: data, glob: "/*"}}
            """, path: "transform.env.PORT", "expected a string, got a number (8080)", "quote it")
        expectError("""
            pipeline: {name: p}
            transform: {cmd: [sh]}
            input: {pfs: {repo: data, glob: "/*", branch: yes}}
            """, path: "input.pfs.branch", "got a boolean", "quote it")
    }

    func testJSONStreamWithoutSeparatorAndYAMLFlowFallback() throws {
        let stream = SpecExamples.edges.trimmingCharacters(in: .whitespacesAndNewlines) + SpecExamples.montage
        XCTAssertEqual(try parse(stream).map(\.name), ["edges", "montage"])
        // Starts with '{' but is not JSON: read as a YAML flow mapping.
        let flow = try parseOne(#"{pipeline: {name: p}, transform: {cmd: [sh]}, input: {pfs: {repo: d, glob: "/"}}}"#)
        XCTAssertEqual(flow.name, "p")
    }

    func testJSONStringEscapesAndWholeFloats() throws {
        let spec = try parseOne(json(#""description": "caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n", "datum_tries": 2.0"#))
        XCTAssertEqual(spec.description, "café 😀 \"q\" \\ / \n")
        XCTAssertEqual(spec.datumTries, 2)
    }

    // MARK: - Errors: structure

    func testMissingRequiredFields() {
        expectError(#"{"transform": {"cmd": ["sh"]}, "input": {"pfs": {"repo": "d", "glob": "/"}}}"#, path: "pipeline", "required", "\"pipeline\": {\"name\": \"edges\"}")
        expectError(json(pipeline: "{}"), path: "pipeline.name", "required")
        expectError(json(pipeline: #""edges""#), path: "pipeline", "expected an object like {\"name\": \"edges\"}, got a string")
        expectError(#"{"pipeline": {"name": "p"}, "input": {"pfs": {"repo": "d", "glob": "/"}}}"#, path: "transform", "required")
        expectError(json(transform: #"{"image": "host"}"#), path: "transform.cmd", "required", "[\"sh\"]")
        expectError(json(input: nil), path: "input", "required", "\"glob\": \"/*\"")
    }

    func testInvalidNames() {
        expectError(json(pipeline: #"{"name": "my pipeline"}"#), path: "pipeline.name", "only letters, digits", "output repo")
        expectError(json(pipeline: #"{"name": ".hidden"}"#), path: "pipeline.name", "reserved")
        expectError(json(input: #"{"pfs": {"repo": "my repo", "glob": "/"}}"#), path: "input.pfs.repo", "only letters")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/", "branch": "a..b"}}"#), path: "input.pfs.branch", "..")
        expectError(json(input: #"{"pfs": {"repo": "d", "name": "in put", "glob": "/"}}"#), path: "input.pfs.name", "invalid input name")
        expectError(json(input: #"{"pfs": {"repo": "out", "glob": "/"}}"#), path: "input.pfs.repo", "reserved", "/pfs/out", "set \"name\"")
        expectError(json(#""output_branch": "a b""#), path: "output_branch", "invalid branch name")
    }

    func testTransformErrors() {
        expectError(json(transform: #"{"cmd": []}"#), path: "transform.cmd", "must not be empty")
        expectError(json(transform: #"{"cmd": "python3 /x.py"}"#), path: "transform.cmd", "expected a list of strings, got a string", "[\"python3\", \"/x.py\"]")
        expectError(json(transform: #"{"cmd": "sh"}"#), path: "transform.cmd", "[\"sh\"]")
        expectError(json(transform: #"{"cmd": ["sh", 1]}"#), path: "transform.cmd[1]", "expected a string, got a number (1)")
        expectError(json(transform: #"{"cmd": [""]}"#), path: "transform.cmd[0]", "must not be empty")
        expectError(json(transform: #"{"cmd": ["sh"], "err_stdin": ["x"]}"#), path: "transform.err_stdin", "set err_cmd")
        expectError(json(transform: #"{"cmd": ["sh"], "accept_return_code": ["x"]}"#), path: "transform.accept_return_code[0]", "whole number")
        expectError(json(transform: #"{"cmd": ["sh"], "accept_return_code": [1.5]}"#), path: "transform.accept_return_code[0]", "whole number")
        expectError(json(transform: #"{"cmd": ["sh"], "env": {"N": 1}}"#), path: "transform.env.N", "quote it")
        expectError(json(transform: #"{"cmd": ["sh"], "env": ["A=1"]}"#), path: "transform.env", "expected an object")
        expectError(json(transform: #"{"cmd": ["sh"], "working_dir": "code"}"#), path: "transform.working_dir", "absolute")
        expectError(json(transform: #"{"cmd": ["sh"], "secrets": [{"name": "s"}]}"#), path: "transform.secrets[0]", "mount_path", "env_var")
        expectError(json(transform: #"{"cmd": ["sh"], "secrets": [{"name": "s", "env_var": "TOKEN"}]}"#), path: "transform.secrets[0].key", "required")
        expectError(json(transform: #"{"cmd": ["sh"], "secrets": [{"name": "s", "mount_path": "/a", "env_var": "T", "key": "k"}]}"#), path: "transform.secrets[0].env_var", "not both")
        expectError(json(transform: #"{"cmd": ["sh"], "secrets": [{"mountPath": "/a"}]}"#), path: "transform.secrets[0].name", "required")
        expectError(json(transform: #"{"cmd": ["sh"], "build": {"path": "."}}"#), path: "transform.build", "not supported")
        expectError(json(transform: #"{"cmd": ["sh"], "datum_batching": true}"#), path: "transform.datum_batching", "not supported")
        expectError(json(transform: #"{"cmd": ["sh"], "overwrite": "yes"}"#), path: "transform.overwrite", "expected true or false")
        expectError(json(transform: #"{"cmd": ["sh"], "runner": "kubernetes"}"#), path: "transform.runner",
                    "must be one of \"host\", \"oci\", \"podman\", \"docker\"", "\"kubernetes\"")
        expectError(json(transform: #"{"cmd": ["sh"], "runner": 1}"#), path: "transform.runner", "expected a string")
    }

    /// `transform.runner` (a pfs extension) with the tools' names as spellings; left out, it is nil.
    func testTransformRunner() throws {
        for (given, kind) in [("host", RunnerKind.host), ("bwrap", .host), ("oci", .oci), ("crun", .oci), ("CRUN", .oci),
                              ("podman", .podman), ("docker", .docker)] {
            let spec = try parseOne(json(transform: #"{"image": "bb", "cmd": ["sh"], "runner": "\#(given)"}"#))
            XCTAssertEqual(spec.transform.runner, kind, given)
        }
        XCTAssertNil(try parseOne(json()).transform.runner)
    }

    func testInputStructureErrors() {
        expectError(json(input: "{}"), path: "input", "set one of pfs, cross, union, join, group or cron")
        expectError(json(input: #"{"pfs": {"repo": "a", "glob": "/"}, "cross": []}"#), path: "input.cross", "exactly one kind", "both \"pfs\" and \"cross\"")
        expectError(json(input: #"[{"pfs": {"repo": "a", "glob": "/"}}]"#), path: "input", "got a list")
        expectError(json(input: #"{"cross": []}"#), path: "input.cross", "at least one input")
        expectError(json(input: #"{"union": {"pfs": {"repo": "a", "glob": "/"}}}"#), path: "input.union", "expected a list, got an object")
        expectError(json(input: #"{"repo": "a", "glob": "/"}"#), path: "input.repo", "belongs inside \"pfs\"")
        expectError(json(input: #"{"git": {"URL": "https://github.com/a/b.git"}}"#), path: "input.git", "not supported")
        expectError(json(input: #"{"cross": [{"pfs": {"repo": "a", "glob": "/"}}, {"pfs": {"glob": "/"}}]}"#), path: "input.cross[1].pfs.repo", "required")
    }

    func testPFSInputErrors() {
        expectError(json(input: #"{"pfs": {"repo": "d"}}"#), path: "input.pfs.glob", "required", "\"/*\"", "\"/\"")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": ""}}"#), path: "input.pfs.glob", "must not be empty")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": 5}}"#), path: "input.pfs.glob", "expected a string, got a number (5)")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/../x"}}"#), path: "input.pfs.glob", "..")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/[ab"}}"#), path: "input.pfs.glob", "unclosed '['")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/(*.txt"}}"#), path: "input.pfs.glob", "'(' without a matching ')'")
        expectError(json(input: #"{"pfs": {"repo": {"name": "d"}, "glob": "/"}}"#), path: "input.pfs.repo", "as a string", "\"repo\": \"data\"")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/", "lazy": "yes"}}"#), path: "input.pfs.lazy", "expected true or false, got a string")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/", "commit": "abc"}}"#), path: "input.pfs.commit", "not supported")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/", "s3": true}}"#), path: "input.pfs.s3", "not supported")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/", "repo_type": "spec"}}"#), path: "input.pfs.repo_type", "\"user\"")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/", "method": "map"}}"#), path: "input.pfs.method", "1.x field", "\"glob\"")
        expectError(json(input: #"{"atom": {"repo": "d", "glob": "/", "join_on": "$1"}}"#), path: "input.atom.join_on", "unknown field")
    }

    func testInputNamesMustDifferWhereTheyMeet() throws {
        let err = expectError(json(input: #"{"cross": [{"pfs": {"repo": "data", "glob": "/*"}}, {"pfs": {"repo": "data", "glob": "/"}}]}"#),
                              path: "input.cross[1].pfs.name", "\"data\" is also used by input.cross[0].pfs", "set \"name\"")
        XCTAssertNotNil(err?.line)
        expectError(json(input: #"{"join": [{"pfs": {"repo": "a", "glob": "/(*)", "join_on": "$1"}}, {"pfs": {"name": "a", "repo": "b", "glob": "/(*)", "join_on": "$1"}}]}"#),
                    path: "input.join[1].pfs.name", "also used")
        expectError(json(input: #"{"cross": [{"cron": {"name": "tick", "spec": "@daily"}}, {"pfs": {"name": "tick", "repo": "b", "glob": "/"}}]}"#),
                    path: "input.cross[1].pfs.name", "also used by input.cross[0].cron")
        // A name shared inside a union, crossed with something else under the same name: they meet.
        expectError(json(input: #"{"cross": [{"union": [{"pfs": {"repo": "a", "name": "x", "glob": "/"}}, {"pfs": {"repo": "b", "name": "x", "glob": "/"}}]}, {"pfs": {"repo": "c", "name": "x", "glob": "/"}}]}"#),
                    path: "input.cross[1].pfs.name", "also used by input.cross[0].union[0].pfs")
        // Union members never meet in a datum: Pachyderm recommends giving them the same name.
        let union = try parseOne(json(input: #"{"union": [{"pfs": {"repo": "a", "name": "in", "glob": "/*"}}, {"pfs": {"repo": "b", "name": "in", "glob": "/*"}}]}"#))
        XCTAssertEqual(union.input.pfsInputs.map(\.name), ["in", "in"])
        // Renaming one of two crossed inputs from the same repo resolves it.
        let renamed = try parseOne(json(input: #"{"cross": [{"pfs": {"repo": "data", "glob": "/*"}}, {"pfs": {"repo": "data", "name": "all", "glob": "/"}}]}"#))
        XCTAssertEqual(renamed.input.pfsInputs.map(\.name), ["data", "all"])
    }

    func testJoinAndGroupNeedKeys() throws {
        expectError(json(input: #"{"join": [{"pfs": {"repo": "a", "glob": "/(*)", "join_on": "$1"}}, {"pfs": {"repo": "b", "glob": "/(*)"}}]}"#),
                    path: "input.join[1].pfs.join_on", "required in a join", "\"$1\"")
        expectError(json(input: #"{"group": [{"pfs": {"repo": "a", "glob": "/(*)"}}]}"#), path: "input.group[0].pfs.group_by", "required in a group")
        expectError(json(input: #"{"group": [{"pfs": {"repo": "a", "glob": "/(*)", "join_on": "$1"}}]}"#), path: "input.group[0].pfs.group_by", "required in a group")
        expectError(json(input: #"{"join": [{"cross": [{"pfs": {"repo": "a", "glob": "/"}}]}]}"#), path: "input.join[0]", "must be a pfs input with \"join_on\"")
        expectError(json(input: #"{"join": [{"pfs": {"repo": "a", "glob": "/(*)", "join_on": "$2"}}]}"#), path: "input.join[0].pfs.join_on", "capture group 2", "1 capture group")
        expectError(json(input: #"{"join": [{"pfs": {"repo": "a", "glob": "/*", "join_on": "$1"}}]}"#), path: "input.join[0].pfs.join_on", "no capture groups", "\"/(*).txt\"")
        expectError(json(input: #"{"group": [{"pfs": {"repo": "a", "glob": "/(*)", "group_by": "$x"}}]}"#), path: "input.group[0].pfs.group_by", "capture group number", "$$")
        expectError(json(input: #"{"group": [{"pfs": {"repo": "a", "glob": "/(*)", "group_by": "${1"}}]}"#), path: "input.group[0].pfs.group_by", "capture group number")
        expectError(json(input: #"{"group": [{"pfs": {"repo": "a", "glob": "/(*)", "group_by": "${2}"}}]}"#), path: "input.group[0].pfs.group_by", "capture group 2")
        // $0 (the whole path), ${N} and $$ (a literal $) are keys too, as the datum planner reads them.
        let keys = try parseOne(json(input: #"{"group": [{"pfs": {"repo": "a", "glob": "/(*)/(*)", "group_by": "$$-${2}-$1-$0"}}]}"#))
        XCTAssertEqual(keys.input.pfsInputs.first?.groupBy, "$$-${2}-$1-$0")
    }

    func testUnknownFieldsAndSuggestions() {
        expectError(json(#""parallelisms": 2"#), path: "parallelisms", "did you mean \"parallelism\"?")
        expectError(#"{"pipeline": {"name": "p"}, "transfrom": {"cmd": ["sh"]}, "input": {"pfs": {"repo": "d", "glob": "/"}}}"#,
                    path: "transfrom", "did you mean \"transform\"?")
        expectError(json(input: #"{"pfs": {"repo": "d", "glb": "/"}}"#), path: "input.pfs.glb", "did you mean \"glob\"?")
        expectError(json(input: #"{"join": [{"pfs": {"repo": "d", "glob": "/(*)", "joinon": "$1"}}]}"#), path: "input.join[0].pfs.joinon", "did you mean \"join_on\"?")
        expectError(json(input: #"{"join": [{"pfs": {"repo": "d", "glob": "/(*)", "JoinOn": "$1"}}]}"#), path: "input.join[0].pfs.JoinOn", "did you mean \"joinOn\"?")
        expectError(json(#""datumTrys": 2"#), path: "datumTrys", "did you mean \"datumTries\"?")
        expectError(json(input: #"{"pfs": {"repo": "d", "glob": "/", "zzzzzz": 1}}"#), path: "input.pfs.zzzzzz", "the fields allowed here are:", "glob", "join_on")
        expectError(json(#""cmd": ["sh"]"#), path: "cmd", "belongs inside \"transform\"")
        expectError(json(#""glob": "/*""#), path: "glob", "belongs inside the input")
        expectError(json(#""name": "p""#), path: "name", "pipeline\": {\"name\"")
        expectError(json(#""resources": {"cpu": 1}"#), path: "resources", "resource_requests", "resource_limits")
        expectError(json(transform: #"{"cmd": ["sh"], "commands": ["x"]}"#), path: "transform.commands", "unknown field")
    }

    func testBothSpellingsOfOneField() {
        expectError(json(input: #"{"join": [{"pfs": {"repo": "d", "glob": "/(*)", "join_on": "$1", "joinOn": "$1"}}]}"#),
                    path: "input.join[0].pfs.joinOn", "\"join_on\" and \"joinOn\" are two spellings of the same field")
        expectError(json(#""datum_tries": 2, "datumTries": 3"#), path: "datumTries", "two spellings")
    }

    func testNumbersInRange() {
        expectError(json(#""parallelism_spec": {"constant": 0}"#), path: "parallelism_spec.constant", "at least 1")
        expectError(json(#""parallelism_spec": {"constant": -2}"#), path: "parallelism_spec.constant", "at least 1")
        expectError(json(#""parallelism": 0"#), path: "parallelism", "at least 1")
        expectError(json(#""parallelism": "abc""#), path: "parallelism", "expected a whole number, got a string (\"abc\")")
        expectError(json(#""datum_tries": 0"#), path: "datum_tries", "at least 1")
        expectError(json(#""datum_tries": 1.5"#), path: "datum_tries", "whole number")
        expectError(json(#""parallelism_spec": {"constant": 2, "coefficient": 0.5}"#), path: "parallelism_spec.coefficient", "not both")
        expectError(json(#""parallelism_spec": {"coefficient": 0}"#), path: "parallelism_spec.coefficient", "positive")
        expectError(json(#""parallelism_spec": {"strategy": "COEFFICIENT"}"#), path: "parallelism_spec.coefficient", "required")
        expectError(json(#""parallelism_spec": {"strategy": "CONSTANT", "coefficient": 1}"#), path: "parallelism_spec.coefficient", "CONSTANT")
        expectError(json(#""parallelism_spec": {"strategy": "LINEAR"}"#), path: "parallelism_spec.strategy", "CONSTANT", "COEFFICIENT")
        expectError(json(#""parallelism": 2, "parallelism_spec": {"constant": 2}"#), path: "parallelism", "not both")
    }

    func testUnsupportedPipelineKinds() {
        expectError(json(#""spout": {"overwrite": true}"#), path: "spout", "not supported")
        expectError(json(#""service": {"internal_port": 8888, "external_port": 30888}"#), path: "service", "not supported")
        expectError(json(#""tf_job": {"tf_job": "{}"}"#), path: "tf_job", "not supported")
        expectError(json(#""s3_out": true"#), path: "s3_out", "not supported")
        expectError(json(#""egress": {"URL": "bucket/dir"}"#), path: "egress.URL", "not a URL", "s3://bucket/dir")
        expectError(json(#""egress": {"sql_database": {"url": "x"}}"#), path: "egress.sql_database", "not supported")
        expectError(json(#""egress": {}"#), path: "egress.url", "required")
        expectError(json(#""reprocess_spec": "always""#), path: "reprocess_spec", "until_success", "every_job")
    }

    func testV1Errors() {
        let v1 = { (inputs: String) in #"{"pipeline": {"name": "p"}, "transform": {"cmd": ["sh"]}, "inputs": "# + inputs + "}" }
        expectError(v1(#"[{"repo": {"name": "d"}, "method": "shuffle"}]"#), path: "inputs[0].method", "\"map\", \"reduce\", \"global\"")
        expectError(v1(#"[{"repo": {"name": "d"}, "method": {"partition": "CHUNK"}}]"#), path: "inputs[0].method.partition", "BLOCK")
        expectError(v1(#"[{"repo": {"name": "d"}, "method": {"incremental": "ALL"}}]"#), path: "inputs[0].method.incremental", "NONE")
        expectError(v1(#"[{"repo": {"name": "d"}, "method": 3}]"#), path: "inputs[0].method", "got a number")
        expectError(v1("[]"), path: "inputs", "at least one input")
        expectError(v1(#"[{"repo": "d"}]"#), path: "inputs[0].repo", "{\"name\": \"data\"}")
        expectError(v1(#"[{"method": "map"}]"#), path: "inputs[0].repo", "required")
        expectError(v1(#"[{"repo": {"name": "d"}, "method": "map", "glob": "/*"}]"#), path: "inputs[0].method", "not both")
        expectError(v1(#"[{"repo": {"name": "d"}}, {"repo": {"name": "d"}}]"#), path: "inputs[1].name", "crossed", "set \"name\"")
        expectError(v1(#"[{"pfs": {"repo": "d"}}]"#), path: "inputs[0].pfs", "2.x \"input\"")
        expectError(#"{"pipeline": {"name": "p"}, "transform": {"cmd": ["sh"]}, "input": {"pfs": {"repo": "d", "glob": "/"}}, "inputs": [{"repo": {"name": "d"}}]}"#,
                    path: "inputs", "not both")
    }

    // MARK: - Errors: syntax and locations

    func testErrorDescriptionHasPathAndLocation() throws {
        let text = """
            {
              "pipeline": {"name": "edges"},
              "transform": {"cmd": ["sh"]},
              "input": {"pfs": {"repo": "images", "glob": 5}}
            }
            """
        let error = try XCTUnwrap(expectError(text, filename: "edges.json", path: "input.pfs.glob"))
        XCTAssertEqual(error.description, "input.pfs.glob: expected a string, got a number (5); quote it (at edges.json:4:47)")
        XCTAssertEqual(error.pfsError.code, .invalidArgument)
        XCTAssertEqual(error.pfsError.message, error.description)
        // Through the public API the error is a SpecError too.
        XCTAssertThrowsError(try SpecParser.parse(text)) { thrown in
            XCTAssertEqual((thrown as? SpecError)?.description, "input.pfs.glob: expected a string, got a number (5); quote it (at line 4:47)")
        }
    }

    func testYAMLErrorLocation() throws {
        let error = try XCTUnwrap(expectError("""
            pipeline:
              name: p
            transform:
              cmd: [sh]
            input:
              pfs:
                repo: d
                glob: [a]
            """, path: "input.pfs.glob", "got a list"))
        XCTAssertEqual(error.line, 8)
        XCTAssertEqual(error.column, 11)
    }

    func testInvalidJSON() throws {
        let trailing = try XCTUnwrap(expectError(#"{"pipeline": {"name": "p"},}"#, filename: "p.json", path: "", "invalid JSON", "trailing ','"))
        XCTAssertEqual(trailing.line, 1)
        XCTAssertEqual(trailing.column, 28)
        // Without a .json name, a text YAML can read (a flow mapping with a trailing comma) is accepted.
        XCTAssertEqual(try parse(json().dropLast() + ",}").first?.name, "p")
        expectError("{\"pipeline\": {\"name\": \"p\"}", filename: "p.json", path: "", "not closed with '}'")
        expectError(#"{"pipeline": {"name": 'p'}}"#, filename: "p.json", path: "", "double quotes")
        expectError(#"{"a": tru}"#, filename: "p.json", path: "", "expected true")
        expectError(#"{"a": 01}"#, filename: "p.json", path: "", "leading zeros")
        expectError("{\"a\": \"x\ny\"}", filename: "p.json", path: "", "not closed before the end of the line")
        expectError(#"{"a": "\q"}"#, filename: "p.json", path: "", "invalid escape")
        expectError(#"{"a": 1}, {"b": 2}"#, filename: "p.json", path: "", "without commas")
        expectError(#"[{"pipeline": {"name": "p"}}]"#, path: "", "got a list", "---")
        expectError(#"{"a": 1, "a": 2}"#, path: "", "\"a\" appears twice")
    }

    func testInvalidYAML() {
        expectError("pipeline:\n  name: p\n transform: x\n", filename: "p.yaml", path: "", "invalid YAML")
        expectError("pipeline: {name: p}\ntransform: {cmd: [sh]}\ninput: {pfs: {repo: d, glob: *}}\n", path: "", "invalid YAML", "must be quoted")
        expectError("pipeline: {name: p}\npipeline: {name: q}\n", path: "", "appears twice")
        expectError("- pipeline: {name: p}\n", path: "", "got a list")
        expectError("just a string\n", path: "", "expected a pipeline spec object, got a string")
    }

    func testEmptyFile() {
        expectError("", path: "", "no pipeline spec")
        expectError("# nothing here\n---\n", path: "", "no pipeline spec")
        expectError("  \n", filename: "x.json", path: "", "no pipeline spec")
    }

    func testDuplicatePipelineNamesInOneFile() {
        let doubled = SpecExamples.edges + SpecExamples.edges
        expectError(doubled, path: "pipeline.name", "already defined by the spec at line 1")
    }

    // MARK: - Pieces

    func testFieldNameSpellings() {
        XCTAssertEqual(FieldNames.lowerCamel("join_on"), "joinOn")
        XCTAssertEqual(FieldNames.lowerCamel("s3_out"), "s3Out")
        XCTAssertEqual(FieldNames.lowerCamel("sidecar_resource_limits"), "sidecarResourceLimits")
        XCTAssertEqual(FieldNames.spellings("url"), ["url", "URL"])
        XCTAssertEqual(FieldNames.distance("joinon", "join_on"), 0)
        XCTAssertEqual(FieldNames.distance("transfrom", "transform"), 2)
        XCTAssertNil(FieldNames.suggestion(for: "xy", among: ["cpu"]))
    }

    func testDurationParser() {
        XCTAssertEqual(SpecDuration.seconds("1h30m"), 5400)
        XCTAssertEqual(SpecDuration.seconds("1.5h"), 5400)
        XCTAssertEqual(SpecDuration.seconds("300us"), 0.0003)
        XCTAssertEqual(SpecDuration.seconds("-1m"), -60)
        XCTAssertNil(SpecDuration.seconds("1x"))
        XCTAssertNil(SpecDuration.seconds("m"))
        XCTAssertNil(SpecDuration.seconds(""))
        XCTAssertNil(SpecDuration.seconds("1.2.3s"))
    }
}

// MARK: - Pachyderm's examples

/// Pachyderm's own example specs, verbatim (whitespace included), from github.com/pachyderm/pachyderm.
private enum SpecExamples {
    /// examples/fruit_stand/pipeline.json, Pachyderm 1.1 (commit 38c128b): two specs concatenated, `parallelism`
    /// as a string, `method` map and reduce. (The tab before `"method": "reduce"` is in the original.)
    static let fruitStand11 = """
        {
          "pipeline": {
            "name": "filter"
          },
          "transform": {
            "image": "fruit_stand",
            "cmd": [ "sh" ],
            "stdin": [
                "grep apple  /pfs/data/sales >/pfs/out/apple",
                "grep banana /pfs/data/sales >/pfs/out/banana",
                "grep orange /pfs/data/sales >/pfs/out/orange"
            ]
          },
          "parallelism": "1",
          "inputs": [
            {
              "repo": {
                "name": "data"
              },
              "method": "map"
            }
          ]
        }
        {
          "pipeline": {
            "name": "sum"
          },
          "transform": {
            "image": "fruit_stand",
            "cmd": [ "sh" ],
            "stdin": [
                "cut -f 2 /pfs/filter/apple | awk '{s+=$1} END {print s}' >/pfs/out/apple",
                "cut -f 2 /pfs/filter/banana | awk '{s+=$1} END {print s}' >/pfs/out/banana",
                "cut -f 2 /pfs/filter/orange | awk '{s+=$1} END {print s}' >/pfs/out/orange"
            ]
          },
          "parallelism": "1",
          "inputs": [
            {
              "repo": {
                "name": "filter"
              },
        \t  "method": "reduce"
            }
          ]
        }

        """

    /// doc/examples/fruit_stand/pipeline.json, Pachyderm 1.2–1.3 (commit aaf8f20): `parallelism_spec` with a
    /// strategy, the `sum` input's method as an object with a lowercase partition, `/pfs/prev`.
    static let fruitStand13 = #"""
        {
          "pipeline": {
            "name": "filter"
          },
          "transform": {
            "cmd": [ "sh" ],
            "stdin": [
                "for fruit in apple orange banana; do",
                "   grep $fruit /pfs/data/sales | awk '{print $2}' >>/pfs/out/$fruit",
                "done"
            ]
          },
          "parallelism_spec": {
            "strategy": "CONSTANT",
            "constant": 1
          },
          "inputs": [
            {
              "repo": {
                "name": "data"
              },
              "method": "map"
            }
          ]
        }
        {
          "pipeline": {
            "name": "sum"
          },
          "transform": {
            "cmd": [ "sh" ],
            "stdin": [
                "for fruit in apple orange banana; do",
                "   { cat /pfs/prev/$fruit || echo 0; cat /pfs/filter/$fruit; } | awk '{s+=$1} END {print s}' > /pfs/out/$fruit",
                "done"
            ]
          },
          "parallelism_spec": {
            "strategy": "CONSTANT",
            "constant": 1
          },
          "inputs": [
            {
              "repo": {
                "name": "filter"
              },
              "method": {
                "partition": "file",
                "incremental": "DIFF"
              }
            }
          ]
        }

        """#

    /// doc/examples/fruit_stand/pipeline.json, Pachyderm 1.4 (commit 52c6b60): `inputs` with name, branch and glob.
    static let fruitStand14 = #"""
        {
          "pipeline": {
            "name": "filter"
          },
          "transform": {
            "cmd": [ "sh" ],
            "stdin": [
                "for fruit in apple orange banana; do",
                "   grep -h $fruit /pfs/data/* | awk '{print $2}' >>/pfs/out/$fruit",
                "done"
            ]
          },
          "parallelism_spec": {
            "constant": 1
          },
          "inputs": [
            {
              "name": "data",
              "repo": { "name": "data" },
              "branch": "master",
              "glob": "/*"
            }
          ]
        }
        {
          "pipeline": {
            "name": "sum"
          },
          "transform": {
            "cmd": [ "sh" ],
            "stdin": [
                "for fruit in apple orange banana; do",
                "   [[ -e /pfs/filter/$fruit ]] || continue",
                "   cat /pfs/filter/$fruit | awk '{s+=$1} END {print s}' >/pfs/out/$fruit",
                "done"
            ]
          },
          "parallelism_spec": {
            "constant": 1
          },
          "inputs": [
            {
              "name": "filter",
              "repo": { "name": "filter" },
              "branch": "master",
              "glob": "/*"
            }
          ]
        }

        """#

    /// examples/fruit_stand/pipeline.json, Pachyderm 1.7 (commit c3581ce): `input.atom`.
    static let fruitStand17 = #"""
        {
          "pipeline": {
            "name": "filter"
          },
          "transform": {
            "cmd": [ "sh" ],
            "stdin": [
                "for fruit in apple orange banana; do",
                "   grep -h $fruit /pfs/data/* | awk '{print $2}' >>/pfs/out/$fruit",
                "done"
            ]
          },
          "parallelism_spec": {
            "constant": 1
          },
          "input": {
            "atom": {
              "repo": "data",
              "glob": "/*"
            }
          }
        }
        {
          "pipeline": {
            "name": "sum"
          },
          "transform": {
            "cmd": [ "sh" ],
            "stdin": [
                "for fruit in apple orange banana; do",
                "   [ -e /pfs/filter/$fruit ] || continue",
                "   cat /pfs/filter/$fruit | awk '{s+=$1} END {print s}' >/pfs/out/$fruit",
                "done"
            ]
          },
          "parallelism_spec": {
            "constant": 1
          },
          "input": {
            "atom": {
              "repo": "filter",
              "glob": "/*"
            }
          }
        }

        """#

    /// examples/opencv/edges.pipeline.json (2.x).
    static let edges = #"""
        {
          "pipeline": {
            "name": "edges"
          },
          "description": "A pipeline that performs image edge detection by using the OpenCV library.",
          "input": {
            "pfs": {
              "glob": "/*",
              "repo": "images"
            }
          },
          "autoscaling": true,
          "transform": {
            "cmd": ["python3", "/edges.py"],
            "image": "pachyderm/opencv:1.0"
          }
        }

        """#

    /// examples/opencv/edges.json (2.5+, with projects).
    static let edgesWithProject = #"""
        {
          "pipeline": {
              "project": {"name": "default"},
              "name": "edges"
          },
          "description": "A pipeline that performs image edge detection by using the OpenCV library.",
          "input": {
            "pfs": {
              "glob": "/*",
              "project": "default",
              "repo": "images"
            }
          },
          "transform": {
            "cmd": [ "python3", "/edges.py" ],
            "image": "pachyderm/opencv:1.0"
          }
        }

        """#

    /// examples/opencv/montage.pipeline.json (2.x): a cross.
    static let montage = #"""
        {
          "pipeline": {
            "name": "montage"
          },
          "description": "A pipeline that combines images from the `images` and `edges` repositories into a montage.",
          "input": {
            "cross": [{
              "pfs": {
                "glob": "/",
                "repo": "images"
              }
            }, {
              "pfs": {
                "glob": "/",
                "repo": "edges"
              }
            }]
          },
          "transform": {
            "cmd": ["sh"],
            "image": "dpokidov/imagemagick:7.1.0-23",
            "stdin": [
              "montage -shadow -background SkyBlue -geometry 300x300+2+2 $(find -L /pfs/images /pfs/edges -type f | sort) /pfs/out/montage.png"
            ]
          }
        }

        """#

    /// examples/joins/pipelines/inner/inner_join.pipeline.json (2.x).
    static let innerJoin = #"""
        {
          "pipeline": {
            "name": "inner_join"
          },
          "description": "A pipeline that lists all purchases by zipcode joining stores and purchases information.",
          "input": {
            "join": [
              {
                "pfs": {
                  "repo": "stores",
                  "branch": "master",
                  "glob": "/STOREID(*).txt",
                  "join_on": "$1"
                }
              },
              {
                "pfs": {
                  "repo": "purchases",
                  "branch": "master",
                  "glob": "/*_STOREID(*).txt",
                  "join_on": "$1"
                }
              }
            ]
          },
          "transform": {
            "cmd": ["python", "inner/main.py"],
            "image": "pachyderm/example-joins-inner-outer:2.1.0"
          }
        }

        """#

    /// examples/group/pipelines/retail/retail_group.pipeline.json (2.x).
    static let retailGroup = #"""
        {
          "pipeline": {
            "name": "group_store_revenue"
          },
          "description": "A pipeline that groups purchases and returns by storeId to calculate the gross_revenue minus returns of each store.",
          "input": {
            "group": [
              {
                "pfs": {
                  "repo": "stores",
                  "branch": "master",
                  "glob": "/STOREID(*).txt",
                  "group_by": "$1"
                }
              },
              {
                "pfs": {
                  "repo": "purchases",
                  "branch": "master",
                  "glob": "/*_STOREID(*).txt",
                  "group_by": "$1"
                }
              },
              {
                "pfs": {
                  "repo": "returns",
                  "branch": "master",
                  "glob": "/*_STOREID(*).txt",
                  "group_by": "$1"
                }
              }
            ]
          },
          "transform": {
            "cmd": ["python", "main.py"],
            "image": "pachyderm/example-group:2.1.0"
          }
        }

        """#

    /// examples/group/group.json (1.12): two specs concatenated with a blank line, no trailing newline,
    /// `enable_stats`.
    static let labGroups = #"""
        {
            "pipeline": {
              "name": "group_by_hospital"
            },
            "description": "A pipeline that groups lab test results files by hospital using the files naming pattern.",
            "input": {
              "group": [
                {
                  "pfs": {
                    "repo": "labresults",
                    "branch": "master",
                    "glob": "/*CLIA(*).txt",
                    "group_by": "$1"
                  }
                }
             ]
           },
           "transform": {
                "cmd": [ "bash" ],
                "stdin": [ "PATTERN=.*CLIA\\(.*\\).txt", "FILES=/pfs/labresults/*", "for f in $FILES", "do", "[[ $(basename $f) =~ $PATTERN ]]", "echo /pfs/out/${BASH_REMATCH[1]}/", "mkdir -p /pfs/out/${BASH_REMATCH[1]}/", "cp $f /pfs/out/${BASH_REMATCH[1]}/", "done" ]
                },
            "enable_stats": true
          }

          {
            "pipeline": {
              "name": "group_by_patient"
            },
            "description": "A pipeline that groups lab test results files by patient using the files naming pattern.",
            "input": {
              "group": [
                {
                  "pfs": {
                    "repo": "labresults",
                    "branch": "master",
                    "glob": "/*-PATID(*)-*.txt",
                    "group_by": "$1"
                  }
                }
             ]
           },
           "transform": {
                "cmd": [ "bash" ],
                "stdin": [ "PATTERN=.*-PATID\\(.*\\)-.*.txt", "FILES=/pfs/labresults/*", "for f in $FILES", "do", "[[ $(basename $f) =~ $PATTERN ]]", "mkdir -p /pfs/out/${BASH_REMATCH[1]}/", "cp $f /pfs/out/${BASH_REMATCH[1]}/", "done" ]
                },
            "enable_stats": true
          }
        """#
}

import Foundation
import PFSCore
import PFSPipelines
import XCTest
@testable import PFSCLI

/// The pipeline, job, datum, log and image commands: both spellings parse to the same operation, each
/// operation's API calls, and the tables they print.
final class PipelineCommandTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func op(_ args: String...) throws -> CLIOperation {
        let command = try PFSCommand.parseAsRoot(args)
        guard let c = command as? any OperationCommand else {
            throw PFSError.invalid("\(args) did not parse to an operation command but \(type(of: command))")
        }
        return try c.operation()
    }

    func assertUsageError(_ args: String..., file: StaticString = #filePath, line: UInt = #line) {
        do {
            let command = try PFSCommand.parseAsRoot(args)
            guard let c = command as? any OperationCommand else { return XCTFail("\(args) is not an operation", file: file, line: line) }
            _ = try c.operation()
            XCTFail("\(args) was accepted", file: file, line: line)
        } catch let e as PFSError {
            XCTAssertEqual(PFSExitCode.forCode(e.code), .usage, "\(e)", file: file, line: line)
        } catch {
            XCTAssertNotEqual(PFSCommand.exitCode(for: error), .success, file: file, line: line)
        }
    }

    // MARK: parsing

    func testPipelineCommandsInBothSpellings() throws {
        let create = CLIOperation.createPipelines(CreatePipelineRequest(sources: ["a.json", "-"], update: false))
        XCTAssertEqual(try op("create", "pipeline", "-f", "a.json", "-f", "-"), create)
        XCTAssertEqual(try op("create-pipeline", "--file", "a.json", "-f", "-"), create)
        XCTAssertEqual(try op("update", "pipeline", "-f", "a.json"),
                       .createPipelines(CreatePipelineRequest(sources: ["a.json"], update: true)))
        XCTAssertEqual(try op("update-pipeline", "-f", "a.json", "--reprocess"),
                       .createPipelines(CreatePipelineRequest(sources: ["a.json"], update: true, reprocess: true)))
        XCTAssertEqual(try op("list", "pipeline"), .listPipelines)
        XCTAssertEqual(try op("list-pipeline"), .listPipelines)
        XCTAssertEqual(try op("inspect", "pipeline", "edges"), .inspectPipeline("edges"))
        XCTAssertEqual(try op("inspect-pipeline", "edges"), .inspectPipeline("edges"))
        XCTAssertEqual(try op("delete", "pipeline", "a", "b"), .deletePipelines(names: ["a", "b"], all: false, keepRepo: false))
        XCTAssertEqual(try op("delete-pipeline", "a", "--keep-repo"), .deletePipelines(names: ["a"], all: false, keepRepo: true))
        XCTAssertEqual(try op("delete", "pipeline", "--all"), .deletePipelines(names: [], all: true, keepRepo: false))
        for (two, one) in [("start", "start-pipeline"), ("stop", "stop-pipeline"), ("run", "run-pipeline")] {
            let expected: CLIOperation = two == "start" ? .startPipeline("p") : two == "stop" ? .stopPipeline("p") : .runPipeline("p")
            XCTAssertEqual(try op(two, "pipeline", "p"), expected)
            XCTAssertEqual(try op(one, "p"), expected)
        }
        assertUsageError("create", "pipeline")
        assertUsageError("create-pipeline")
        assertUsageError("inspect", "pipeline", "bad name")
        assertUsageError("delete", "pipeline")
        assertUsageError("delete", "pipeline", "a", "--all")
    }

    func testJobDatumAndLogCommands() throws {
        XCTAssertEqual(try op("list", "job"), .listJobs(pipeline: nil))
        XCTAssertEqual(try op("list-job", "-p", "edges"), .listJobs(pipeline: "edges"))
        XCTAssertEqual(try op("inspect", "job", "edges@3F2A9C1E"), .inspectJob(JobTarget(pipeline: "edges", id: "3f2a9c1e")))
        XCTAssertEqual(try op("inspect-job", "3f2a9c1e"), .inspectJob(JobTarget(pipeline: nil, id: "3f2a9c1e")))
        XCTAssertEqual(try op("wait", "job", "3f2a", "--timeout", "1m"),
                       .waitJob(JobTarget(pipeline: nil, id: "3f2a"), timeoutSeconds: 60))
        XCTAssertEqual(try op("list", "datum", "edges@3f2a"), .listDatums(JobTarget(pipeline: "edges", id: "3f2a")))
        XCTAssertEqual(try op("list-datum", "3f2a"), .listDatums(JobTarget(pipeline: nil, id: "3f2a")))
        XCTAssertEqual(try op("logs", "--pipeline", "edges", "--job", "3f2a", "--datum", "9b1c", "-f"),
                       .logs(LogsRequest(pipeline: "edges", job: "3f2a", datum: "9b1c", follow: true)))
        XCTAssertEqual(try op("get-logs", "--pipeline=edges"), .logs(LogsRequest(pipeline: "edges")))
        XCTAssertEqual(try op("logs", "-p", "edges", "-j", "edges@3f2a"), .logs(LogsRequest(pipeline: "edges", job: "3f2a")))
        assertUsageError("inspect", "job", "edges@")
        assertUsageError("inspect", "job", "xyz")
        assertUsageError("list", "datum", "bad name@3f2a")
        assertUsageError("logs")
        assertUsageError("logs", "-p", "edges", "--job", "other@3f2a")
        assertUsageError("logs", "-p", "edges", "--datum", "not-hex")
        XCTAssertEqual(try op("stop", "job", "edges@3f2a"), .stopJob(JobTarget(pipeline: "edges", id: "3f2a")))
        XCTAssertEqual(try op("stop-job", "3F2A"), .stopJob(JobTarget(pipeline: nil, id: "3f2a")))
        XCTAssertEqual(try op("inspect", "datum", "edges@3f2a", "9B1C"),
                       .inspectDatum(JobTarget(pipeline: "edges", id: "3f2a"), datum: "9b1c"))
        XCTAssertEqual(try op("inspect-datum", "3f2a", "9b1c"), .inspectDatum(JobTarget(pipeline: nil, id: "3f2a"), datum: "9b1c"))
        XCTAssertEqual(try op("restart", "datum", "edges@3f2a", "9b1c", "/a.png,/b.txt"),
                       .restartDatums(JobTarget(pipeline: "edges", id: "3f2a"), datums: ["9b1c", "/a.png,/b.txt"]))
        XCTAssertEqual(try op("restart-datum", "3f2a", "/a.png"), .restartDatums(JobTarget(pipeline: nil, id: "3f2a"), datums: ["/a.png"]))
        assertUsageError("stop", "job", "xyz")
        assertUsageError("inspect", "datum", "edges@3f2a")
        assertUsageError("inspect", "datum", "edges@3f2a", "not-hex")
        assertUsageError("restart", "datum", "edges@3f2a")
        assertUsageError("restart", "datum", "edges@3f2a", "zz")
        assertUsageError("wait", "job", "3f2a", "--timeout", "soon")
    }

    func testImageCommands() throws {
        XCTAssertEqual(try op("image", "list"), .listImages)
        XCTAssertEqual(try op("image", "alias", "fruit_stand", "host"), .aliasImage(name: "fruit_stand", target: "host"))
        XCTAssertEqual(try op("image", "unalias", "fruit_stand"), .unaliasImage("fruit_stand"))
        XCTAssertEqual(try op("image", "import", "bb:1", "/srv/bb.tar"), .importImage(name: "bb:1", path: "/srv/bb.tar"))
        XCTAssertEqual(try op("image", "import", "bb", "/srv/x/../bb"), .importImage(name: "bb", path: "/srv/bb"))
        XCTAssertEqual(try op("image", "inspect", "bb"), .inspectImage("bb"))
        XCTAssertEqual(try op("image", "delete", "bb:1"), .deleteImage("bb:1"))
    }

    // MARK: API calls

    func testRequests() {
        let create = APIRequest.createPipeline(spec: "{}", filename: "a.json", update: true, reprocess: false)
        XCTAssertEqual(create.description, "POST /v1/pipelines")
        XCTAssertEqual(create.body.map { String(decoding: $0, as: UTF8.self) }, #"{"filename":"a.json","spec":"{}","update":true}"#)
        XCTAssertEqual(APIRequest.inspectPipeline("a").description, "GET /v1/pipelines/a")
        XCTAssertEqual(APIRequest.deletePipeline("a", keepRepo: true).description, "DELETE /v1/pipelines/a?keep_repo=true")
        XCTAssertEqual(APIRequest.pipelineAction("a", "run").description, "POST /v1/pipelines/a/run")
        XCTAssertEqual(APIRequest.listJobs(pipeline: "a").description, "GET /v1/jobs?pipeline=a")
        XCTAssertEqual(APIRequest.inspectJob(id: "3f2a", pipeline: nil).description, "GET /v1/jobs/3f2a")
        XCTAssertEqual(APIRequest.listDatums(job: "3f2a", pipeline: "a").description, "GET /v1/jobs/3f2a/datums?pipeline=a")
        XCTAssertEqual(APIRequest.inspectDatum(job: "3f2a", pipeline: "a", datum: "9b").description, "GET /v1/jobs/3f2a/datums/9b?pipeline=a")
        XCTAssertEqual(APIRequest.stopJob(id: "3f2a", pipeline: nil).description, "POST /v1/jobs/3f2a/stop")
        XCTAssertEqual(APIRequest.stopJob(id: "3f2a", pipeline: "a").description, "POST /v1/jobs/3f2a/stop?pipeline=a")
        XCTAssertEqual(APIRequest.restartDatums(job: "3f2a", pipeline: "a", datums: ["9b"]).description, "POST /v1/jobs/3f2a/restart?pipeline=a")
        XCTAssertEqual(APIRequest.logs(pipeline: "a", job: "3f", datum: "9b").description, "GET /v1/logs?pipeline=a&job=3f&datum=9b")
        XCTAssertEqual(APIRequest.listImages().description, "GET /v1/images")
        XCTAssertEqual(APIRequest.aliasImage(name: "x:1", target: "host").description, "POST /v1/images/aliases")
        XCTAssertEqual(APIRequest.unaliasImage("pachyderm/opencv:1.0").description,
                       "DELETE /v1/images/aliases?name=pachyderm/opencv%3A1.0")
        XCTAssertEqual(APIRequest.importImage(name: "bb", path: "/a.tar").description, "POST /v1/images/import")
        XCTAssertEqual(APIRequest.inspectImage("bb").description, "GET /v1/images/inspect?name=bb")
        XCTAssertEqual(APIRequest.deleteImage("bb").description, "DELETE /v1/images?name=bb")
    }

    // MARK: output

    func pipeline(_ name: String, input: Input, lastJob: JobInfo? = nil) throws -> PipelineInfo {
        var transform = Transform()
        transform.cmd = ["sh"]
        let spec = try JSONSerialization.jsonObject(with: PFSJSON.encoder().encode(PipelineSpec(name: name, transform: transform, input: input)))
        var object: [String: Any] = ["name": name, "version": 2, "state": "running", "reason": "",
                                     "created": "2027-01-15T08:00:00.000Z", "updated": "2027-01-15T08:00:00.000Z", "spec": spec]
        if let lastJob { object["last_job"] = try JSONSerialization.jsonObject(with: PFSJSON.encoder().encode(lastJob)) }
        return try PFSJSON.decoder().decode(PipelineInfo.self, from: JSONSerialization.data(withJSONObject: object))
    }

    func testPipelineTableAndInputShorthand() throws {
        let a = PFSInput(name: "a", repo: "a", glob: "/*")
        var b = PFSInput(name: "in", repo: "b", branch: "dev", glob: "/")
        b.joinOn = "$1"
        XCTAssertEqual(Render.input(.cross([.pfs(a), .pfs(b)])), "(a:/* ⨯ b@dev:/ as in)")
        XCTAssertEqual(Render.input(.union([.pfs(a), .join([.pfs(a), .pfs(b)])])), "(a:/* ∪ (a:/* ⋈ b@dev:/ as in))")
        var job = JobInfo(pipeline: "edges", id: "3f2a", state: .success, inputCommits: [], outputCommit: "3f2a",
                          started: now.addingTimeInterval(-10))
        job.finished = now.addingTimeInterval(-7)
        job.datumsTotal = 4; job.processed = 1; job.skipped = 2; job.failed = 1
        let p = try pipeline("edges", input: .pfs(a), lastJob: job)
        XCTAssertEqual(p.spec.input, .pfs(a))
        let table = Render.pipelines([p], now: now)
        XCTAssertTrue(table.hasPrefix("NAME    VERSION   INPUT   CREATED"), table)
        XCTAssertTrue(table.contains("edges   2         a:/*    "), table)
        XCTAssertTrue(table.contains("running / success"), table)
        XCTAssertEqual(Render.jobs([job], now: now), """
            ID     PIPELINE   STARTED          DURATION    STATE     DATUMS
            3f2a   edges      10 seconds ago   3 seconds   success   1/2/1/4

            """)
        job.recovered = 1
        job.finished = nil
        XCTAssertTrue(Render.jobs([job], now: now).contains("-          success   1/2/1/4 (1 recovered)"))
        XCTAssertTrue(Render.pipeline(p, now: now).contains("Last Job: 3f2a success, 1/2/1/4 (processed/skipped/failed/total)"))
    }

    func testStoredSpecsInTheOldEncodingStillDecode() throws {
        // Before inputs were encoded as {"pfs": {...}}, they were stored as Swift synthesizes enums.
        let old = #"{"pfs":{"_0":{"branch":"master","empty_files":false,"glob":"/*","incremental":"none","lazy":false,"name":"data","outer_join":false,"repo":"data"}}}"#
        let input = try PFSJSON.decoder().decode(Input.self, from: Data(old.utf8))
        XCTAssertEqual(input, .pfs(PFSInput(name: "data", repo: "data", glob: "/*")))
        let new = String(decoding: try PFSJSON.encoder().encode(Input.cross([input, input])), as: UTF8.self)
        XCTAssertTrue(new.hasPrefix(#"{"cross":[{"pfs":{"#), new)
        XCTAssertEqual(try PFSJSON.decoder().decode(Input.self, from: Data(new.utf8)), .cross([input, input]))
    }

    func testDeletionOrderPutsDownstreamPipelinesFirst() throws {
        let filter = try pipeline("filter", input: .pfs(PFSInput(name: "data", repo: "data", glob: "/*")))
        let sum = try pipeline("sum", input: .pfs(PFSInput(name: "filter", repo: "filter", glob: "/")))
        let report = try pipeline("report", input: .cross([.pfs(PFSInput(name: "sum", repo: "sum", glob: "/")),
                                                            .pfs(PFSInput(name: "filter", repo: "filter", glob: "/"))]))
        let all = [filter, sum, report]
        XCTAssertEqual(OperationRunner.downstreamFirst(["filter", "sum", "report"], pipelines: all), ["report", "sum", "filter"])
        XCTAssertEqual(OperationRunner.downstreamFirst(["filter", "nope"], pipelines: all), ["filter", "nope"])
    }
}

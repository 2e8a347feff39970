import Foundation
import PFSCore

/// Creating, updating, inspecting and deleting pipelines (the API's and the control tree's one implementation).
public struct PipelineManager: Sendable {
    public let store: Store
    public let runner: any Runner
    public let logDir: URL
    /// The daemon's image aliases (`pfs image alias`); nil when the runner has none.
    public let images: ImageRegistry?
    /// The scheduler's running jobs (`stop job`, `restart datum`, live datums); nil without a scheduler.
    public let control: JobControl?

    public init(store: Store, runner: any Runner, logDir: URL, images: ImageRegistry? = nil, control: JobControl? = nil) {
        self.store = store
        self.runner = runner
        self.logDir = logDir
        self.images = images
        self.control = control
    }

    /// Creates (or with `update`, replaces) every pipeline in a spec file. With `reprocess`, an update gets a
    /// new salt, so every datum runs again. Each pipeline's first job processes the data already there.
    @discardableResult
    public func create(specText: String, filename: String? = nil, update: Bool, reprocess: Bool = false) throws -> [PipelineInfo] {
        let specs: [PipelineSpec]
        do { specs = try SpecParser.parse(specText, filename: filename) } catch let e as SpecError { throw e.pfsError }
        guard !specs.isEmpty else { throw PFSError.invalid("the spec file holds no pipeline") }
        var out: [PipelineInfo] = []
        var warnings: [String: [String]] = [:]
        let format = specText.drop { $0.isWhitespace }.first == "{" ? "json" : "yaml"
        for var spec in specs {
            spec.sourceText = specText
            spec.sourceFormat = format
            try runner.validate(image: spec.transform.image, runner: spec.transform.runner)
            let unenforced = runner.unenforceable(spec.resourceLimits, image: spec.transform.image, runner: spec.transform.runner)
            if !unenforced.isEmpty { warnings[spec.name] = unenforced }
            // GPUs are looked for when a job starts (GPUProbe): a spec written for a GPU machine is accepted
            // anywhere, and its jobs fail at once, with the reason, where there is none.
            try validateSecrets(spec)
            let existing = try store.pipelineRow(spec.name)
            let isUpdate = update && existing != nil
            let now = Date()
            let row = PipelineRow(name: spec.name, spec: try PipelineCodec.encode(spec), version: (existing?.version ?? 0) + 1,
                                  state: "running", reason: "",
                                  salt: (isUpdate && !reprocess) ? existing!.salt : CommitID.generate(),
                                  created: existing?.created ?? now, updated: now)
            let inputs = spec.input.pfsInputs.map { BranchRef(repo: $0.repo, branch: $0.branch) }
            try store.savePipeline(row, outputBranch: spec.outputBranch, inputs: Array(Set(inputs)).sorted { $0.description < $1.description },
                                   isUpdate: isUpdate)
            if !isUpdate || reprocess {
                try store.triggerBranch(repo: spec.name, branch: spec.outputBranch)
            }
            var info = try inspect(spec.name)
            info.warnings = warnings[spec.name]
            out.append(info)
        }
        return out
    }

    public func inspect(_ name: String) throws -> PipelineInfo {
        guard let row = try store.pipelineRow(name) else {
            throw PFSError.notFound("pipeline \"\(name)\" not found; list pipelines with `pfs list pipeline`")
        }
        return try info(row)
    }

    public func list() throws -> [PipelineInfo] { try store.pipelineRows().map(info) }

    private func info(_ row: PipelineRow) throws -> PipelineInfo {
        let last = try store.jobRows(pipeline: row.name).first.map { try PFSJSON.decoder().decode(JobInfo.self, from: Data($0.info.utf8)) }
        return PipelineInfo(name: row.name, version: row.version, state: row.state, reason: row.reason, created: row.created,
                            updated: row.updated, spec: try PipelineCodec.decode(row.spec), lastJob: last)
    }

    public func delete(_ name: String, keepRepo: Bool) throws { try store.deletePipeline(name, keepRepo: keepRepo) }

    public func stop(_ name: String) throws { try store.setPipelineState(name, state: "paused", reason: "stopped by a user") }

    public func start(_ name: String) throws {
        try store.setPipelineState(name, state: "running", reason: "")
    }

    /// Runs the pipeline on the current heads of its inputs (`run pipeline`).
    public func run(_ name: String) throws -> String? {
        let p = try inspect(name)
        return try store.triggerBranch(repo: name, branch: p.spec.outputBranch)
    }

    /// Newest first. Jobs whose turn has not come (their output commit is open, an earlier job of the pipeline still
    /// runs) are listed `starting`, as Pachyderm lists them; the scheduler records them once they start.
    public func jobs(pipeline: String?) throws -> [JobInfo] {
        let rows = try store.jobRows(pipeline: pipeline).map { try PFSJSON.decoder().decode(JobInfo.self, from: Data($0.info.utf8)) }
        let have = Set(rows.map { $0.pipeline + "@" + $0.id })
        let names = Set(try store.pipelineRows().map(\.name))
        let pending = try store.openAutoCommits()
            .filter { names.contains($0.repo) && (pipeline == nil || $0.repo == pipeline) && !have.contains($0.repo + "@" + $0.id) }
            .sorted { $0.seq > $1.seq }
            .map { c -> JobInfo in
                var j = JobInfo(pipeline: c.repo, id: c.id, state: .starting, inputCommits: c.provenance, outputCommit: c.id,
                                started: c.started)
                if control?.isStoppedBeforeStart(c.repo, c.id) == true {
                    j.reason = "stop requested before it started: recorded as killed, without running, when its turn comes"
                }
                return j
            }
        return pending + rows
    }

    /// A job by id (any pipeline when `pipeline` is nil; ids may be unique prefixes).
    public func job(pipeline: String?, id: String) throws -> [JobInfo] {
        let all = try jobs(pipeline: pipeline).filter { $0.id.hasPrefix(id) }
        guard !all.isEmpty else { throw PFSError.notFound("no job \(id)\(pipeline.map { " of pipeline \"\($0)\"" } ?? ""); list jobs with `pfs list job`") }
        return all
    }

    public func datums(pipeline: String, job: String) throws -> [DatumInfo] {
        try store.datumRows(pipeline: pipeline, job: job).map { try PFSJSON.decoder().decode(DatumInfo.self, from: Data($0.info.utf8)) }
    }

    /// The logs of a pipeline's jobs (or one job, or one datum), oldest job first.
    public func logs(pipeline: String, job: String?, datum: String?) throws -> String {
        var jobs = try self.jobs(pipeline: pipeline).reversed().map(\.id)
        if let job { jobs = jobs.filter { $0.hasPrefix(job) } }
        var out = ""
        for j in jobs {
            let dir = logDir.appendingPathComponent(pipeline).appendingPathComponent(j)
            var files = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
            files.removeAll { $0 == "job.log" }
            if datum == nil { files.insert("job.log", at: 0) }
            for f in files where datum == nil || f.hasPrefix(datum!) || datum!.hasPrefix(f.replacingOccurrences(of: ".log", with: "")) {
                if let text = try? String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8), !text.isEmpty {
                    // Which datum the lines below come from (its log is named by the datum id's first 20 digits).
                    if f != "job.log" { out += "[pfs] datum \(f.replacingOccurrences(of: ".log", with: "")) of job \(j)\n" }
                    out += text
                }
            }
        }
        return out
    }
}

import Foundation
import Logging
import PFSCore
import ServiceLifecycle
import Synchronization

/// Runs pipelines inside the daemon. Driven by store changes (no polling): when the commits of a commit set
/// are ready — the output commit opened by provenance, its inputs finished, its parent finished — the
/// pipeline's next job runs: datums are planned from the input commits, datums that succeeded before with the
/// same hash are skipped, the rest run in a sandbox with read-only views of exactly their files, and the
/// outputs become the output commit. Jobs of one pipeline run in commit order; pipelines run side by side.
public final class Scheduler: Service, @unchecked Sendable {
    public let store: Store
    let views: any DatumViewRegistry
    let viewsPath: String
    let runner: any Runner
    let logger: Logger
    let runDir: URL
    public let logDir: URL
    /// `stop job` and `restart datum` reach running jobs through this (shared with the `PipelineManager`).
    public let control = JobControl()
    private let lock = NSLock()
    private var busy: Set<String> = []
    private var stopping = false
    private let queue = DispatchQueue(label: "pfs.scheduler")
    private var kickPending = false
    /// Where jobs that ask for GPUs find them (`resource_limits.gpu`); see `GPUProbe`.
    public var gpuProbe = GPUProbe()
    let hiddenCache = Mutex<(read: Date, paths: [String])?>(nil)

    public init(store: Store, views: any DatumViewRegistry, viewsPath: String, runner: any Runner, logger: Logger) throws {
        self.store = store
        self.views = views
        self.viewsPath = viewsPath
        self.runner = runner
        self.logger = logger
        runDir = store.dataDir.appendingPathComponent("run")
        logDir = store.dataDir.appendingPathComponent("logs")
        for d in [runDir.appendingPathComponent("out"), runDir.appendingPathComponent("scratch"), logDir] {
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    public func run() async throws {
        store.addChangeObserver { [weak self] in self?.kick() }
        kick()
        try? await gracefulShutdown()
        lock.withLock { stopping = true }
    }

    /// Something changed: look for work (coalesced; runs on the scheduler's queue).
    public func kick() {
        let go = lock.withLock { () -> Bool in
            if kickPending || stopping { return false }
            kickPending = true
            return true
        }
        guard go else { return }
        queue.async { [weak self] in
            guard let self else { return }
            self.lock.withLock { self.kickPending = false }
            do { try self.schedule() } catch { self.logger.error("scheduling failed", metadata: ["error": "\(error)"]) }
        }
    }

    private func schedule() throws {
        let pipelines = try store.pipelineRows().filter { $0.state == "running" }
        guard !pipelines.isEmpty else { return }
        var open = try store.openAutoCommits()
        for p in pipelines {
            guard lock.withLock({ !busy.contains(p.name) && !stopping }) else { continue }
            // The oldest open output commit is next (jobs of one pipeline run in commit order).
            guard var next = open.first(where: { $0.repo == p.name }) else { continue }
            // The list may predate the end of this pipeline's last job (it was not busy when the list was read
            // but is done now): read it again rather than run a finished commit's job a second time.
            if (try? store.resolveCommit(repo: p.name, ref: next.id))?.state != .open {
                open = try store.openAutoCommits()
                guard let fresh = open.first(where: { $0.repo == p.name }) else { continue }
                next = fresh
            }
            guard try ready(next) else { continue }
            let spec: PipelineSpec
            do { spec = try PipelineCodec.decode(p.spec) } catch {
                try? store.setPipelineState(p.name, state: "failed", reason: "stored spec cannot be read: \(error)")
                continue
            }
            lock.withLock { _ = busy.insert(p.name) }
            let job = next
            Thread.detachNewThread { [self] in
                self.runJob(p, spec, job)
                self.lock.withLock { _ = self.busy.remove(p.name) }
                self.kick()
            }
        }
    }

    /// Inputs finished and the parent output finished. An input branch with no commit yet (empty id: a repo
    /// made with `create repo` and nothing put) is empty, not pending: runJob reads it as an empty tree.
    private func ready(_ c: CommitRow) throws -> Bool {
        for p in c.provenance where !p.id.isEmpty {
            guard let row = try? store.resolveCommit(repo: p.repo, ref: p.id), row.state == .finished else { return false }
        }
        if let parent = c.parent, let pr = try? store.resolveCommit(repo: c.repo, ref: parent), pr.state == .open {
            return false
        }
        return true
    }

    // MARK: jobs

    func runJob(_ p: PipelineRow, _ spec: PipelineSpec, _ commit: CommitRow) {
        // A job interrupted by a crash resumes: its row and its finished datums are kept.
        let resumed = try? store.jobRow(pipeline: p.name, id: commit.id)
        var info = JobInfo(pipeline: p.name, id: commit.id, state: .running, inputCommits: commit.provenance,
                           outputCommit: commit.id, started: Date())
        if let resumed, let old = try? PFSJSON.decoder().decode(JobInfo.self, from: Data(resumed.info.utf8)) {
            info.started = old.started
            info.touched = old.touched
        }
        info.pipelineVersion = p.version
        let seq = resumed?.seq ?? (try? store.nextJobSeq()) ?? 0
        save(info, seq: seq)
        let jobLog = logFile(p.name, commit.id, "job")
        func log(_ s: String) { jobLog?.write(Data("\(PFSJSON.formatDate(Date())) \(s)\n".utf8)) }
        defer { try? jobLog?.close() }
        var prepared = false
        let stoppedEarly = control.begin(p.name, commit.id)
        defer { control.end(p.name, commit.id) }
        log("job \(commit.id) of pipeline \(p.name) (version \(p.version)) started; inputs: \(commit.provenance.map { "\($0.repo)@\($0.id)" }.joined(separator: ", "))")
        do {
            if stoppedEarly { throw JobStopped() }
            let t0 = Date()
            // A job that needs GPUs the host lacks fails here, before any datum runs (retrying cannot help).
            var gpus: GPUAllocation?
            if let gpu = GPUProbe.request(spec) {
                let g = try gpuProbe.allocate(gpu, pipeline: p.name)
                log("GPUs: \(g.devices.map(\.source).joined(separator: ", ")) (\(g.driverFiles.count) driver file(s))")
                gpus = g
            }
            var viewsByName: [String: CommitView] = [:]
            for input in spec.input.pfsInputs {
                guard let prov = commit.provenance.first(where: { $0.repo == input.repo && $0.branch == input.branch }) else {
                    throw PFSError.precondition("output commit \(commit.id) has no provenance for input \(input.repo)@\(input.branch)")
                }
                // An empty id: the branch had no commit when the commit set was made; it is empty for this job
                // even if a commit has arrived since (that commit has its own set and job).
                let view = prov.id.isEmpty ? store.emptyView() : try store.view(repo: input.repo, ref: prov.id)
                viewsByName[input.name] = view
                // Union inputs may share a name while reading different repos.
                viewsByName[DatumPlanner.viewKey(repo: input.repo, branch: input.branch)] = view
            }
            let datums = try DatumPlanner.plan(spec.input, views: viewsByName, salt: p.salt)
            // The last job that ended; a killed one counts when it planned datums (it records every planned datum:
            // skipped, done, or failed — cut short or never started — so its rows say what its output holds).
            var previousJob: JobRow?
            var previousRows: [DatumRow] = []
            for j in try store.jobRows(pipeline: p.name) where j.id != commit.id {
                let ended = j.state == "success" || j.state == "failure"
                guard ended || j.state == JobInfo.State.killed.rawValue else { continue }
                let rows = try store.datumRows(pipeline: p.name, job: j.id)
                if ended || !rows.isEmpty { previousJob = j; previousRows = rows; break }
            }
            let previous: [Incrementality.Record] = previousRows.map { d in
                (d.id, d.hash, d.state != DatumInfo.State.failed.rawValue)
            }
            let cls = Incrementality.classify(previous: previous, plan: datums, reprocess: spec.reprocessSpec)
            info.planSeconds = Date().timeIntervalSince(t0)
            info.datumsTotal = datums.count
            control.planned(p.name, commit.id, datums)
            save(info, seq: seq)
            log("planned \(datums.count) datum(s) in \(String(format: "%.3f", info.planSeconds)) s: \(cls.toRun) new, \(cls.toRerun) changed, \(cls.skipped) skipped, \(cls.vanished.count) gone")

            try store.prepareOutputCommit(repo: p.name, id: commit.id, empty: spec.overwriteOutput)
            prepared = true
            let legacy = spec.dialect == .v1
            // Datums this job already finished before a crash are not run again.
            let done = Dictionary(try store.datumRows(pipeline: p.name, job: commit.id)
                .filter { $0.state == DatumInfo.State.success.rawValue || $0.state == DatumInfo.State.recovered.rawValue }
                .map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            var touched = Set(info.touched)
            if !legacy {
                // Record what must be rebuilt before forgetting the old outputs (a crash in between must not lose it).
                let gone = cls.vanished + zip(datums, cls.decisions).filter { $0.1 == .rerun && done[$0.0.id] == nil }.map(\.0.id)
                for id in gone { touched.formUnion(try store.datumOutputList(pipeline: p.name, datum: id).map(\.path)) }
                info.touched = touched.sorted()
                save(info, seq: seq)
                for id in gone { try store.setDatumOutputs(pipeline: p.name, datum: id, []) }
            }
            // Previous input commits, for 1.x DIFF views.
            let previousInputs = try previousJob.flatMap { j -> [CommitRefInfo]? in
                try PFSJSON.decoder().decode(JobInfo.self, from: Data(j.info.utf8)).inputCommits
            } ?? []

            let toRun = zip(datums, cls.decisions).filter { $0.1 != .skip && done[$0.0.id] == nil }.map(\.0)
            let resumedDatums = datums.filter { done[$0.id] != nil }
            // Skipped datums are recorded in one transaction (one per datum made skipping 10,000 cost seconds), their
            // infos encoded in one call (a JSONEncoder call costs as much again as the value it encodes).
            let tSkip = Date()
            let skipped = zip(datums, cls.decisions).filter { $0.1 == .skip }.map(\.0)
            let skippedJSON = try Self.encodeEach(skipped.map {
                DatumInfo(id: $0.id, job: commit.id, state: .skipped, attempts: 0, seconds: 0, inputs: $0.inputs)
            })
            let skippedRows = zip(skipped, skippedJSON).map { d, json in
                DatumRow(pipeline: p.name, job: commit.id, id: d.id, hash: d.hash, state: DatumInfo.State.skipped.rawValue, info: json)
            }
            info.skipped += skippedRows.count
            try store.saveDatums(skippedRows)
            if !skippedRows.isEmpty {
                log("recorded \(skippedRows.count) skipped datum(s) in \(String(format: "%.3f", Date().timeIntervalSince(tSkip))) s")
            }
            if !resumedDatums.isEmpty { log("resuming: \(resumedDatums.count) datum(s) finished before the restart are kept") }
            // job_timeout counts from the job's start (a resumed job keeps its start time).
            let deadline = spec.jobTimeout.map { info.started.addingTimeInterval($0) }
            var results = runDatums(toRun, p: p, spec: spec, commit: commit, previousInputs: previousInputs,
                                    deadline: deadline, log: log, gpus: gpus)
            let stopped = control.isStopped(p.name, commit.id)
            if stopped {
                // Datums the stop came before are recorded as failed, not run: the next job runs them.
                let notRun = toRun.filter { results[$0.id] == nil }
                let infos = notRun.map { d -> DatumInfo in
                    var di = DatumInfo(id: d.id, job: commit.id, state: .failed, attempts: 0, seconds: 0, inputs: d.inputs)
                    di.reason = Self.notRunReason
                    return di
                }
                let rows = zip(notRun, try Self.encodeEach(infos)).map { d, json in
                    DatumRow(pipeline: p.name, job: commit.id, id: d.id, hash: d.hash, state: DatumInfo.State.failed.rawValue, info: json)
                }
                try store.saveDatums(rows)
                for (d, di) in zip(notRun, infos) { results[d.id] = DatumResult(info: di, outputs: []) }
                log("stopped by a user: \(toRun.count - notRun.count) datum(s) ran or were cut short, \(notRun.count) not started")
            }
            for d in resumedDatums {
                let row = done[d.id]!
                let di = try PFSJSON.decoder().decode(DatumInfo.self, from: Data(row.info.utf8))
                results[d.id] = DatumResult(info: di, outputs: try store.datumOutputList(pipeline: p.name, datum: d.id))
            }
            for d in toRun + resumedDatums {
                guard let r = results[d.id] else { continue }
                switch r.info.state {
                case .success: info.processed += 1
                case .recovered: info.recovered += 1
                case .failed: info.failed += 1
                case .skipped: info.skipped += 1
                case .starting, .running: break
                }
            }
            // Outputs into the output commit.
            let tOut = Date()
            let session = try store.beginPut(repo: p.name, ref: commit.id, asPipeline: true)
            do {
                let finished = (toRun + resumedDatums).sorted { $0.id < $1.id }
                if legacy {
                    for d in finished {
                        guard let r = results[d.id], r.info.state != .failed else { continue }
                        for (path, e) in r.outputs { try appendEntry(session, path, e) }
                    }
                } else {
                    for d in finished {
                        guard let r = results[d.id], r.info.state != .failed else { continue }
                        touched.formUnion(r.outputs.map(\.path))
                    }
                    let paths = touched.sorted()
                    let byPath = try store.datumOutputs(pipeline: p.name, paths: paths)
                    for path in paths {
                        let pieces = byPath[path] ?? []
                        if pieces.isEmpty {
                            if try session.entry(at: path) != nil { try session.delete(path: path) }
                        } else {
                            try session.putEntry(path: path, concatenated(pieces.map(\.entry)))
                        }
                    }
                }
                let tCommit = Date()
                try session.commit(description: "")
                log("outputs: \(touched.count) path(s) assembled in \(String(format: "%.3f", tCommit.timeIntervalSince(tOut))) s, put into the output commit in \(String(format: "%.3f", Date().timeIntervalSince(tCommit))) s")
                log("outputs of \(toRun.count + resumedDatums.count) datum(s) written in \(String(format: "%.3f", Date().timeIntervalSince(tOut))) s")
            } catch {
                session.abort()
                throw error
            }
            info.state = info.failed > 0 ? .failure : .success
            if info.failed > 0 { info.reason = "\(info.failed) datum(s) failed; see `pfs logs --pipeline \(p.name) --job \(commit.id)`" }
            if stopped {
                info.state = .killed
                info.reason = "stopped by a user (`pfs stop job`); the output commit holds the outputs of the datums that finished before"
            }
            if let deadline, Date() >= deadline, info.failed > 0 {
                info.reason = "job_timeout (\(spec.jobTimeout ?? 0) s) reached: " + info.reason
                log("job_timeout reached")
            }
        } catch is JobStopped {
            info.state = .killed
            info.reason = "stopped by a user (`pfs stop job`) before it started; no datum ran"
            log("stopped before it started")
        } catch {
            info.state = .failure
            info.reason = (error as? PFSError)?.message ?? "\(error)"
            log("job failed: \(info.reason)")
        }
        // The job's outcome is recorded before its output commit finishes: `wait commit` returns once the commit
        // set is finished and must then see the job done (scripts/torture saw it still "running"). A crash in
        // between leaves the output commit open, so the job resumes on restart and records its outcome again.
        info.finished = Date()
        save(info, seq: seq)
        // The output commit always finishes, so the commit set completes and `wait commit` returns.
        do {
            if (try? store.resolveCommit(repo: p.name, ref: commit.id))?.state == .open {
                // A job that failed before its output commit had a tree still finishes it (as its parent).
                if !prepared { try store.prepareOutputCommit(repo: p.name, id: commit.id, empty: false) }
                try store.finishCommit(repo: p.name, ref: commit.id,
                                       description: info.state == .success ? "" : "job \(info.state.rawValue): \(info.reason)",
                                       asPipeline: true)
            }
        } catch {
            logger.error("could not finish output commit", metadata: ["pipeline": "\(p.name)", "commit": "\(commit.id)", "error": "\(error)"])
            info.state = .failure
            info.reason = "could not finish the output commit: \((error as? PFSError)?.message ?? "\(error)")"
            save(info, seq: seq)
        }
        log("job \(info.state.rawValue): \(info.processed) processed, \(info.skipped) skipped, \(info.failed) failed, \(info.recovered) recovered")
    }

    struct JobStopped: Error {}

    static let notRunReason = "not run: the job was stopped (`pfs stop job`) before this datum started"
    static let killedReason = "killed: the job was stopped (`pfs stop job`) while this datum ran"

    /// The JSON of each value, from one encoder call over the whole array (split at its top-level elements).
    static func encodeEach<T: Encodable>(_ values: [T]) throws -> [String] {
        guard !values.isEmpty else { return [] }
        let data = try PFSJSON.encoder().encode(values)
        var out: [String] = []
        out.reserveCapacity(values.count)
        data.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
            var depth = 0, inString = false, escaped = false, start = 0
            for i in 0..<b.count {
                let c = b[i]
                if inString {
                    if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
                    continue
                }
                switch c {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    if depth == 2 { start = i }
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if depth == 2 { out.append(String(decoding: UnsafeRawBufferPointer(rebasing: b[start...i]), as: UTF8.self)) }
                    depth -= 1
                default: break
                }
            }
        }
        guard out.count == values.count else {
            throw PFSError(.internal, "encoding \(values.count) datum records gave \(out.count) JSON values")
        }
        return out
    }

    private func save(_ info: JobInfo, seq: Int64) {
        guard let json = try? PFSJSON.encoder().encode(info) else { return }
        try? store.saveJob(JobRow(pipeline: info.pipeline, id: info.id, state: info.state.rawValue,
                                  info: String(decoding: json, as: UTF8.self), seq: seq))
    }

    func saveDatum(_ pipeline: String, _ d: Datum, _ info: DatumInfo,
                   outputs: [(path: String, entry: TreeEntry)]? = nil) throws {
        let json = String(decoding: try PFSJSON.encoder().encode(info), as: UTF8.self)
        try store.saveDatum(DatumRow(pipeline: pipeline, job: info.job, id: d.id, hash: d.hash, state: info.state.rawValue, info: json),
                            outputs: outputs)
    }

    /// Appends `e` (a file) to whatever the session has at `path` (1.x outputs accumulate), by reference.
    private func appendEntry(_ s: PutSession, _ path: String, _ e: TreeEntry) throws {
        if let old = try s.entry(at: path), old.kind == .file, e.kind == .file {
            try s.putEntry(path: path, concatenated([old, e]))
        } else {
            try s.putEntry(path: path, e)
        }
    }

    /// Several datums' pieces of one path, concatenated in datum-id order (files), or the last one (others).
    private func concatenated(_ pieces: [TreeEntry]) throws -> TreeEntry {
        let files = pieces.filter { $0.kind == .file }
        guard files.count == pieces.count, files.count > 1 else { return pieces.last! }
        var chunks: [ChunkRef] = []
        var size: Int64 = 0
        for f in files {
            let c = try store.trees.content(of: f)
            chunks += c.chunks
            size += c.size
        }
        return TreeEntry.file(name: files[0].name, content: FileContent(chunks: chunks, size: size),
                              mode: files[0].mode, mtimeNs: files.map(\.mtimeNs).max() ?? 0)
    }

    func logFile(_ pipeline: String, _ job: String, _ name: String) -> FileHandle? {
        let dir = logDir.appendingPathComponent(pipeline).appendingPathComponent(job)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("\(name).log")
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let h = try? FileHandle(forWritingTo: url)
        h?.seekToEndOfFile()
        return h
    }
}

/// Specs are stored as JSON of the internal model.
public enum PipelineCodec {
    public static func encode(_ s: PipelineSpec) throws -> String {
        String(decoding: try PFSJSON.encoder().encode(s), as: UTF8.self)
    }
    public static func decode(_ s: String) throws -> PipelineSpec {
        try PFSJSON.decoder().decode(PipelineSpec.self, from: Data(s.utf8))
    }
}

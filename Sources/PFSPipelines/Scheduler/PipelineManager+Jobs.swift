import Foundation
import PFSCore

// `stop job`, `list datum` / `inspect datum` of live jobs, `restart datum`.
extension PipelineManager {
    func requireControl() throws -> JobControl {
        guard let control else {
            throw PFSError(.unavailable, "this daemon's scheduler does not run (pfsmount --no-pipelines?); jobs cannot be controlled")
        }
        return control
    }

    static func finished(_ s: JobInfo.State) -> Bool { s == .success || s == .failure || s == .killed }

    /// Stops the job `id` of `pipeline`, or with no pipeline every unfinished job of the commit set `id`: running
    /// datums are killed, no other starts, the job ends `killed` and its output commit finishes with the outputs
    /// of the datums that finished before. A job that has not started yet is recorded `killed`, without running,
    /// when its turn comes. Waits (up to `wait` seconds) until the running ones have ended.
    public func stopJob(pipeline: String?, id: String, wait: Double = 30) throws -> [JobInfo] {
        let control = try requireControl()
        if let pipeline { _ = try inspect(pipeline) }
        // Jobs whose turn has not come are among them, `starting` (their output commits are open, no job row yet).
        let all = try job(pipeline: pipeline, id: id)
        let ids = Set(all.map(\.id))
        guard ids.count == 1 else {
            throw PFSError(.ambiguous, "job id prefix \(id) matches \(ids.count) jobs (\(ids.sorted().map { String($0.prefix(12)) }.joined(separator: ", "))); give more of the id")
        }
        let unfinished = all.filter { !Self.finished($0.state) }
        if unfinished.isEmpty {
            let done = all.map { "\($0.pipeline)@\($0.id) is \($0.state.rawValue)" }.joined(separator: ", ")
            throw PFSError.precondition("job \(done): it has already finished, so there is nothing to stop; only a running or queued job can be stopped (`pfs list job` shows STATE)")
        }
        var waitFor: [JobInfo] = []
        for j in unfinished {
            if control.stop(j.pipeline, j.id) {
                waitFor.append(j)
            } else {
                // Not started yet (or a row from before a restart, not picked up again yet).
                control.stopWhenStarting(j.pipeline, j.id)
            }
        }
        let deadline = Date().addingTimeInterval(wait)
        var now = try waitFor.map { try job(pipeline: $0.pipeline, id: $0.id)[0] }
        while now.contains(where: { !Self.finished($0.state) }), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            now = try waitFor.map { try job(pipeline: $0.pipeline, id: $0.id)[0] }
        }
        // (All of them share the one id: a pipeline names a job.)
        let later = try unfinished.filter { j in !waitFor.contains { $0.pipeline == j.pipeline } }
            .map { j in try job(pipeline: j.pipeline, id: j.id)[0] }
        return now + later
    }

    /// The datums of a job; while the job runs, also those planned and not finished (`starting`, `running`).
    public func datumsIncludingLive(pipeline: String, job: String) throws -> [DatumInfo] {
        try withLive(try store.datumRows(pipeline: pipeline, job: job), pipeline: pipeline, job: job)
    }

    /// The recorded datums `stored` of a job, plus the live job's planned ones not recorded yet, by id.
    private func withLive(_ stored: [DatumRow], pipeline: String, job: String) throws -> [DatumInfo] {
        var rows = try stored.map { try PFSJSON.decoder().decode(DatumInfo.self, from: Data($0.info.utf8)) }
        guard let live = control?.plan(pipeline, job) else { return rows }
        let have = Set(rows.map(\.id))
        for (id, d) in live.planned where !have.contains(id) {
            rows.append(DatumInfo(id: id, job: job, state: live.running.contains(id) ? .running : .starting,
                                  attempts: 0, seconds: 0, inputs: d.inputs))
        }
        return rows.sorted { $0.id < $1.id }
    }

    /// One datum of a job by id or unique prefix.
    public func inspectDatum(pipeline: String, job jobID: String, datum: String) throws -> DatumDetail {
        let job = try onlyJob(pipeline: pipeline, id: jobID)
        let rows = try store.datumRows(pipeline: pipeline, job: job.id)
        let all = try withLive(rows, pipeline: pipeline, job: job.id).filter { $0.id.hasPrefix(datum) }
        guard !all.isEmpty else {
            throw PFSError.notFound("job \(pipeline)@\(job.id) has no datum \(datum); list its datums with `pfs list datum \(pipeline)@\(job.id)`")
        }
        guard all.count == 1 else {
            throw PFSError(.ambiguous, "datum id prefix \(datum) matches \(all.count) datums of job \(pipeline)@\(job.id) (\(all.prefix(5).map { String($0.id.prefix(12)) }.joined(separator: ", "))\(all.count > 5 ? ", …" : "")); give more of the id")
        }
        let d = all[0]
        var files: [DatumDetail.File] = []
        for i in d.inputs {
            for (k, path) in i.paths.enumerated() {
                files.append(DatumDetail.File(input: i.name, repo: i.repo, branch: i.branch, commit: i.commit, path: path,
                                              hash: k < i.hashes.count ? i.hashes[k] : ""))
            }
        }
        let log = logDir.appendingPathComponent(pipeline).appendingPathComponent(job.id)
            .appendingPathComponent(String(d.id.prefix(20)) + ".log")
        let outputs = d.state == .success || d.state == .recovered || d.state == .skipped
            ? try store.datumOutputList(pipeline: pipeline, datum: d.id).map { o in
                DatumDetail.Output(path: o.path, kind: o.entry.kind == .file ? "file" : o.entry.kind == .dir ? "dir" : "symlink", size: o.entry.size)
            } : []
        return DatumDetail(pipeline: pipeline, job: job.id, id: d.id, hash: rows.first { $0.id == d.id }?.hash, state: d.state, attempts: d.attempts,
                           seconds: d.seconds, reason: d.reason, started: d.started, finished: d.finished, inputs: d.inputs,
                           files: files, logFile: FileManager.default.fileExists(atPath: log.path) ? log.path : nil,
                           logsCommand: "pfs logs --pipeline \(pipeline) --job \(job.id) --datum \(d.id)",
                           currentOutputs: outputs)
    }

    /// Restarts datums of a job, named by id (or unique prefix) or, as pachctl does, by a comma-separated list of
    /// input paths (or content hashes) that must all be among a datum's files. See `DatumRestartResult.Outcome`.
    public func restartDatums(pipeline: String, job jobID: String, datums filters: [String]) throws -> DatumRestartResult {
        let control = try requireControl()
        guard !filters.isEmpty else { throw PFSError.invalid("name at least one datum (an id from `pfs list datum`, or input paths)") }
        let job = try onlyJob(pipeline: pipeline, id: jobID)
        let all = try datumsIncludingLive(pipeline: pipeline, job: job.id)
        var picked: [DatumInfo] = []
        for f in filters {
            let matches: [DatumInfo]
            if f.contains("/") {
                let wanted = f.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                matches = all.filter { d in
                    wanted.allSatisfy { w in d.inputs.contains { $0.paths.contains(w) || $0.hashes.contains(w) } }
                }
            } else {
                let id = f.lowercased()
                matches = all.filter { $0.id.hasPrefix(id) }
                if matches.count > 1 {
                    throw PFSError(.ambiguous, "datum id prefix \(f) matches \(matches.count) datums of job \(pipeline)@\(job.id); give more of the id")
                }
            }
            guard !matches.isEmpty else {
                throw PFSError.notFound("job \(pipeline)@\(job.id) has no datum \(f)\(f.contains("/") ? " (no datum has all of these input paths)" : ""); list its datums with `pfs list datum \(pipeline)@\(job.id)`")
            }
            for m in matches where !picked.contains(where: { $0.id == m.id }) { picked.append(m) }
        }
        let restartable = picked.filter { $0.state == .failed || $0.state == .running || $0.state == .starting }
        guard restartable.count == picked.count || (!restartable.isEmpty && filters.allSatisfy { $0.contains("/") }) else {
            let bad = picked.filter { !restartable.contains($0) }
            throw PFSError.precondition("datum \(bad.map { "\($0.id.prefix(12)) is \($0.state.rawValue)" }.joined(separator: ", ")) in job \(pipeline)@\(job.id); only running or failed datums can be restarted")
        }
        var result = DatumRestartResult(pipeline: pipeline, job: job.id, datums: [])
        if control.isLive(pipeline, job.id) {
            for d in restartable {
                if let o = control.restart(pipeline, job.id, datum: d.id, failed: d.state == .failed) {
                    result.datums.append(.init(id: d.id, outcome: o == .restarted ? .restarted : o == .queued ? .queued : .pending))
                } else {
                    throw PFSError.precondition("job \(pipeline)@\(job.id) is being stopped or has just ended; run `pfs inspect job \(pipeline)@\(job.id)` and try again")
                }
            }
            return result
        }
        // A finished job's failed datums run again in a new job, which skips everything that succeeded.
        // (`jobs` lists queued jobs too: their output commits are open, their turn has not come.)
        if try jobs(pipeline: pipeline).first.map({ $0.id != job.id }) ?? false {
            throw PFSError.precondition("job \(pipeline)@\(job.id) has finished (\(job.state.rawValue)) and a newer job of the pipeline runs its failed datums again (failed datums always run again in the next job); see `pfs list job -p \(pipeline)`")
        }
        guard let id = try run(pipeline) else {
            throw PFSError.precondition("could not start a new job of pipeline \(pipeline): an input commit is still open; finish it and try again")
        }
        result.newJob = id
        result.datums = restartable.map { .init(id: $0.id, outcome: .newJob) }
        return result
    }

    /// The one job of `pipeline` with id (or unique prefix) `id`.
    func onlyJob(pipeline: String, id: String) throws -> JobInfo {
        _ = try inspect(pipeline)
        let jobs = try job(pipeline: pipeline, id: id)
        guard jobs.count == 1 else {
            throw PFSError(.ambiguous, "job id prefix \(id) matches \(jobs.count) jobs of pipeline \(pipeline) (\(jobs.map { String($0.id.prefix(12)) }.joined(separator: ", "))); give more of the id")
        }
        return jobs[0]
    }
}

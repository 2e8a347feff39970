import Foundation
import PFSCore
import PFSPipelines

// The human output of the pipeline, job, datum and image commands.
extension Render {
    // MARK: Pipelines

    /// NAME VERSION INPUT CREATED STATE / LAST JOB, as pachctl prints it.
    public static func pipelines(_ pipelines: [PipelineInfo], now: Date) -> String {
        var t = Table(header: ["NAME", "VERSION", "INPUT", "CREATED", "STATE / LAST JOB", "DESCRIPTION"])
        for p in pipelines {
            t.append([p.name, String(p.version), input(p.spec.input), Humanize.ago(p.created, now: now),
                      "\(p.state) / \(p.lastJob?.state.rawValue ?? "-")", p.spec.description])
        }
        return t.render()
    }

    /// pachctl's shorthand for an input tree: `repo:glob`, `(a:/* ⨯ b:/*)`, `(a:/* ∪ b:/*)`, `(a ⋈ b)`.
    public static func input(_ input: Input) -> String {
        switch input {
        case .pfs(let p):
            let branch = p.branch == "master" ? "" : "@\(p.branch)"
            let name = p.name == p.repo ? "" : " as \(p.name)"
            return "\(p.repo)\(branch):\(p.glob)\(name)"
        case .cross(let l): return "(" + l.map(self.input).joined(separator: " ⨯ ") + ")"
        case .union(let l): return "(" + l.map(self.input).joined(separator: " ∪ ") + ")"
        case .join(let l): return "(" + l.map(self.input).joined(separator: " ⋈ ") + ")"
        case .group(let l): return "group(" + l.map(self.input).joined(separator: ", ") + ")"
        case .cron(let c): return "\(c.name):\(c.spec)"
        }
    }

    public static func pipeline(_ p: PipelineInfo, now: Date) -> String {
        let s = p.spec
        var lines = [
            "Name: \(p.name)",
            "Version: \(p.version)",
            "State: \(p.state)" + (p.reason.isEmpty ? "" : " (\(p.reason))"),
            "Created: \(Humanize.ago(p.created, now: now))",
            "Updated: \(Humanize.ago(p.updated, now: now))",
        ]
        if !s.description.isEmpty { lines.append("Description: \(s.description)") }
        lines += [
            "Input: \(input(s.input))",
            "Output Branch: \(p.name)@\(s.outputBranch)",
            "Image: \(s.transform.image.flatMap { $0.isEmpty ? nil : $0 } ?? "host")",
            "Cmd: \(s.transform.cmd.joined(separator: " "))",
        ]
        if !s.transform.stdin.isEmpty { lines.append("Stdin: \(s.transform.stdin.joined(separator: "; "))") }
        if !s.transform.errCmd.isEmpty { lines.append("Err Cmd: \(s.transform.errCmd.joined(separator: " "))") }
        lines += [
            "Parallelism: \(s.parallelism)",
            "Datum Tries: \(s.datumTries)",
            "Datum Timeout: \(s.datumTimeout.map { seconds($0) } ?? "none")",
            "Job Timeout: \(s.jobTimeout.map { seconds($0) } ?? "none")",
            "Reprocess: \(s.reprocessSpec.rawValue)",
            "Spec Dialect: \(s.dialect.rawValue)",
        ]
        if let j = p.lastJob {
            lines.append("Last Job: \(j.id) \(j.state.rawValue), \(datumCounts(j)) (processed/skipped/failed/total)")
        } else {
            lines.append("Last Job: <none>")
        }
        return lines.map(Table.clean).joined(separator: "\n") + "\n"
    }

    // MARK: Jobs

    /// ID PIPELINE STARTED DURATION STATE DATUMS, newest first; DATUMS is processed/skipped/failed/total.
    public static func jobs(_ jobs: [JobInfo], now: Date) -> String {
        var t = Table(header: ["ID", "PIPELINE", "STARTED", "DURATION", "STATE", "DATUMS"])
        for j in jobs {
            // A job that failed before any datum ran (no GPU on this host, a bad input) says why in its row.
            let state = j.state == .failure && j.datumsTotal == 0 && !j.reason.isEmpty ? "failure: \(j.reason)" : j.state.rawValue
            t.append([j.id, j.pipeline, Humanize.ago(j.started, now: now), duration(j), state, datumCounts(j)])
        }
        return t.render()
    }

    public static func job(_ j: JobInfo, now: Date) -> String {
        let inputs: [String] = j.inputCommits.map { c in
            let id = c.id.isEmpty ? "<empty>" : c.id
            let branch = c.branch.map { " (\($0))" } ?? ""
            return "\(c.repo)@\(id)\(branch)"
        }
        let counts = "\(j.datumsTotal) total, \(j.processed) processed, \(j.skipped) skipped, \(j.failed) failed, \(j.recovered) recovered"
        var lines: [String] = [
            "ID: \(j.id)",
            "Pipeline: \(j.pipeline) (version \(j.pipelineVersion))",
            "State: \(j.state.rawValue)" + (j.reason.isEmpty ? "" : " (\(j.reason))"),
            "Started: \(Humanize.ago(j.started, now: now))",
            "Duration: \(duration(j))",
            "Datums: \(counts)",
            "Planning: \(String(format: "%.3f", j.planSeconds)) s",
            "Input Commits: \(inputs.isEmpty ? "<none>" : inputs.joined(separator: ", "))",
            "Output Commit: \(j.pipeline)@\(j.outputCommit)",
        ]
        lines = lines.map(Table.clean)
        return lines.joined(separator: "\n") + "\n"
    }

    /// `processed/skipped/failed/total`, with recovered datums (err_cmd) noted when there are any.
    static func datumCounts(_ j: JobInfo) -> String {
        "\(j.processed)/\(j.skipped)/\(j.failed)/\(j.datumsTotal)" + (j.recovered > 0 ? " (\(j.recovered) recovered)" : "")
    }

    static func duration(_ j: JobInfo) -> String {
        guard let finished = j.finished else { return "-" }
        return Humanize.duration(finished.timeIntervalSince(j.started))
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.3f s", s)
    }

    // MARK: Datums

    /// ID FILES STATE ATTEMPTS TIME; FILES is `input:path` for each path the datum shows.
    public static func datums(_ datums: [DatumInfo]) -> String {
        var t = Table(header: ["ID", "FILES", "STATE", "ATTEMPTS", "TIME"])
        for d in datums {
            let files = d.inputs.flatMap { i in i.paths.isEmpty ? ["\(i.name):-"] : i.paths.map { "\(i.name):\($0)" } }
            t.append([d.id, files.joined(separator: ", "), d.state.rawValue, String(d.attempts),
                      d.state == .skipped ? "-" : String(format: "%.3fs", d.seconds)])
        }
        return t.render()
    }

    /// `inspect datum`: the fields of its `list datum` row, then one line per input file and output.
    public static func datum(_ d: DatumDetail) -> String {
        func time(_ t: Date?) -> String { t.map { PFSJSON.formatDate($0) } ?? "-" }
        var lines: [String] = [
            "ID: \(d.id)",
            "Job: \(d.pipeline)@\(d.job)",
            "State: \(d.state.rawValue)" + (d.reason.isEmpty ? "" : " (\(d.reason))"),
            "Attempts: \(d.attempts)",
            "Started: \(time(d.started))",
            "Finished: \(time(d.finished))",
            "Time: " + (d.state == .skipped || d.finished == nil ? "-" : String(format: "%.3fs", d.seconds)),
            "Hash: \(d.hash ?? "-")",
            "Log: \(d.logFile ?? "<none>") (\(d.logsCommand))",
        ]
        lines = lines.map(Table.clean)
        var t = Table(header: ["INPUT", "REPO", "PATH", "COMMIT", "HASH"])
        for f in d.files { t.append([f.input, f.repo, f.path, f.commit.isEmpty ? "<empty>" : f.commit, f.hash]) }
        var out = lines.joined(separator: "\n") + "\nInput Files:\n" + (d.files.isEmpty ? "  <none>\n" : t.render())
        var o = Table(header: ["PATH", "KIND", "SIZE"])
        for x in d.currentOutputs { o.append([x.path, x.kind, String(x.size)]) }
        out += "Current Outputs:\n" + (d.currentOutputs.isEmpty ? "  <none>\n" : o.render())
        return out
    }

    /// `restart datum`: one line per datum, what happened to it.
    public static func restarted(_ r: DatumRestartResult) -> String {
        var out = ""
        for d in r.datums {
            let what: String
            switch d.outcome {
            case .restarted: what = "was running: killed and started again"
            case .queued: what = "had failed: runs again before job \(r.job) ends"
            case .pending: what = "had not started: runs as planned"
            case .newJob: what = "had failed: runs again in new job \(r.pipeline)@\(r.newJob ?? "?")"
            }
            out += Table.clean("datum \(d.id) \(what)") + "\n"
        }
        return out
    }

    // MARK: Images

    public static func images(_ images: [ImageInfo], now: Date) -> String {
        var t = Table(header: ["NAME", "KIND", "RUNS AS", "CREATED"])
        for i in images {
            t.append([i.name, i.kind.rawValue, i.target ?? i.id.map { "sha256:" + $0.prefix(12) } ?? i.name, i.created.map { Humanize.ago($0, now: now) } ?? "-"])
        }
        return t.render()
    }
}

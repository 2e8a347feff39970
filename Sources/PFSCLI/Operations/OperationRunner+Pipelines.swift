#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import PFSCore
import PFSPipelines

// Pipelines, jobs, datums, logs and images.
extension OperationRunner {
    /// Runs the operations of `CLIOperation`'s pipeline section; false for any other operation.
    func runPipelineOperation(_ operation: CLIOperation) async throws -> Bool {
        switch operation {
        case .createPipelines(let request):
            try await createPipelines(request)

        case .listPipelines:
            let pipelines = try await client.listPipelines()
            try emit(pipelines) { Render.pipelines($0, now: now()) }

        case .inspectPipeline(let name):
            let p = try await client.inspectPipeline(name)
            try emit(p) { Render.pipeline($0, now: now()) }

        case let .deletePipelines(names, all, keepRepo):
            // A pipeline whose output another one reads can only go after it: delete downstream ones first.
            let pipelines = try await client.listPipelines()
            for name in Self.downstreamFirst(all ? pipelines.map(\.name) : names, pipelines: pipelines) {
                try await client.deletePipeline(name, keepRepo: keepRepo)
            }

        case .startPipeline(let name):
            try emitJSONOnly(try await client.pipelineAction(name, "start"))

        case .stopPipeline(let name):
            try emitJSONOnly(try await client.pipelineAction(name, "stop"))

        case .runPipeline(let name):
            try emitJSONOnly(try await client.pipelineAction(name, "run"))

        case .listJobs(let pipeline):
            let jobs = try await client.listJobs(pipeline: pipeline)
            try emit(jobs) { Render.jobs($0, now: now()) }

        case .inspectJob(let target):
            let jobs = try await client.inspectJob(id: target.id, pipeline: target.pipeline)
            if format == .json, jobs.count == 1 {
                try printJSON(jobs[0])
            } else {
                try emit(jobs) { $0.map { Render.job($0, now: now()) }.joined(separator: "\n") }
            }

        case let .waitJob(target, timeout):
            let jobs = try await waitJob(target, timeoutSeconds: timeout)
            try emit(jobs) { Render.jobs($0, now: now()) }

        case .listDatums(let target):
            let job = try await resolveJob(target)
            let datums = try await client.listDatums(job: job.id, pipeline: job.pipeline)
            try emit(datums) { Render.datums($0) }

        case .stopJob(let target):
            let jobs = try await client.stopJob(id: target.id, pipeline: target.pipeline)
            try emit(jobs) { Render.jobs($0, now: now()) }

        case let .inspectDatum(target, datum):
            let job = try await resolveJob(target)
            let d = try await client.inspectDatum(job: job.id, pipeline: job.pipeline, datum: datum)
            try emit(d) { Render.datum($0) }

        case let .restartDatums(target, datums):
            let job = try await resolveJob(target)
            let r = try await client.restartDatums(job: job.id, pipeline: job.pipeline, datums: datums)
            try emit(r) { Render.restarted($0) }

        case .logs(let request):
            try await logs(request)

        case .listImages:
            let images = try await client.listImages()
            try emit(images) { Render.images($0, now: now()) }

        case let .aliasImage(name, target):
            try emitJSONOnly(try await client.aliasImage(name: name, target: target))

        case .unaliasImage(let name):
            try await client.unaliasImage(name)

        case let .importImage(name, path):
            let image = try await client.importImage(name: name, path: path)
            try emit(image) { "imported \($0.name) (\($0.format), \($0.layers.count) layer\($0.layers.count == 1 ? "" : "s"), id \($0.id.prefix(12)))\n" }

        case .inspectImage(let name):
            try printJSON(try await client.inspectImage(name))

        case .deleteImage(let name):
            try await client.deleteImage(name)

        default:
            return false
        }
        return true
    }

    /// `names` reordered so that a pipeline comes before those whose output it reads (a cycle cannot occur;
    /// names that are not pipelines keep their place, for the daemon to report).
    static func downstreamFirst(_ names: [String], pipelines: [PipelineInfo]) -> [String] {
        let reads = Dictionary(pipelines.map { ($0.name, Set($0.spec.input.pfsInputs.map(\.repo))) },
                               uniquingKeysWith: { a, _ in a })
        var left = names
        var order: [String] = []
        while !left.isEmpty {
            // Next: one no other remaining pipeline reads.
            let i = left.firstIndex { n in !left.contains { $0 != n && reads[$0, default: []].contains(n) } } ?? 0
            order.append(left.remove(at: i))
        }
        return order
    }

    // MARK: create / update

    /// Every spec file is read and parsed before the first is sent, so a mistake in the second file creates
    /// nothing; then each file goes to the daemon as one request (a file may hold several pipelines).
    private func createPipelines(_ request: CreatePipelineRequest) async throws {
        var files: [(text: String, name: String?)] = []
        var stdinUsed = false
        for source in request.sources {
            let text: String
            var name: String? = source
            if source == "-" {
                guard !stdinUsed else { throw PFSError.invalid("-f - (stdin) can be given only once") }
                stdinUsed = true
                text = try LocalFile.readStdinText()
                name = nil
            } else if source.hasPrefix("http://") || source.hasPrefix("https://") {
                text = try await fetchText(source)
                name = URL(string: source)?.lastPathComponent
            } else {
                text = try LocalFile.readText(source)
            }
            do {
                _ = try SpecParser.parse(text, filename: name)
            } catch let e as SpecError {
                throw e.pfsError
            }
            files.append((text, name))
        }
        var created: [PipelineInfo] = []
        for f in files {
            created += try await client.createPipelines(spec: f.text, filename: f.name, update: request.update,
                                                        reprocess: request.reprocess)
        }
        for p in created { for w in p.warnings ?? [] { Console.err("pfs: pipeline \(p.name): warning: \(w)\n") } }
        try emitJSONOnly(created)
    }

    private func fetchText(_ url: String) async throws -> String {
        let stream = try await client.openURL(url)
        var buffer = ByteBuffer()
        while var next = try await stream.next() {
            buffer.writeBuffer(&next)
            if buffer.readableBytes > 16 << 20 {
                throw PFSError(.io, "\(url) is larger than 16 MiB; that is not a pipeline spec")
            }
        }
        return String(buffer: buffer)
    }

    // MARK: jobs

    /// The one job `target` names: `PIPELINE@ID`, or a bare id that only one pipeline's job has.
    func resolveJob(_ target: JobTarget) async throws -> JobInfo {
        let jobs = try await client.inspectJob(id: target.id, pipeline: target.pipeline)
        if jobs.count == 1 { return jobs[0] }
        let pipelines = Array(Set(jobs.map(\.pipeline))).sorted()
        if pipelines.count > 1 {
            throw PFSError.invalid("job \(target.id) is a commit set with jobs of \(pipelines.count) pipelines (\(pipelines.joined(separator: ", "))); name one, e.g. \(pipelines[0])@\(target.id)")
        }
        let ids = jobs.map(\.id).sorted()
        throw PFSError(.ambiguous, "job id prefix \(target.id) matches \(ids.count) jobs of pipeline \(pipelines.first ?? "?") (\(ids.map { String($0.prefix(12)) }.joined(separator: ", "))); give more of the id")
    }

    /// Waits for every job of the commit set (`wait commit` on an output commit waits for the whole set), then
    /// until each job has recorded its end (the job finishes its output commit just before it records that).
    /// A job that has not started yet is found by its output commit, which exists as soon as its input does.
    private func waitJob(_ target: JobTarget, timeoutSeconds: Int?) async throws -> [JobInfo] {
        let start = ContinuousClock.now
        var outputRepo: String?
        var id = target.id
        do {
            let jobs = try await client.inspectJob(id: target.id, pipeline: target.pipeline)
            let ids = Set(jobs.map(\.id))
            guard ids.count == 1, let only = ids.first else {
                throw PFSError(.ambiguous, "job id prefix \(target.id) matches \(ids.count) commit sets; give more of the id")
            }
            outputRepo = jobs.first?.pipeline
            id = only
        } catch let e as PFSError where e.code == .notFound {
            let names: [String]
            if let p = target.pipeline { names = [p] } else { names = try await client.listPipelines().map(\.name) }
            for name in names {
                if let c = try? await client.inspectCommit(repo: name, ref: target.id) {
                    outputRepo = name
                    id = c.id
                    break
                }
            }
            guard outputRepo != nil else { throw e }
        }
        _ = try await client.waitCommit(repo: outputRepo!, ref: id, timeoutSeconds: timeoutSeconds)
        while true {
            let jobs = (try? await client.inspectJob(id: id, pipeline: target.pipeline)) ?? []
            if !jobs.isEmpty && jobs.allSatisfy({ Self.jobIsDone($0) }) { return jobs }
            if let timeoutSeconds, ContinuousClock.now - start > .seconds(timeoutSeconds) {
                throw PFSError(.timeout, "job \(id) did not finish within \(timeoutSeconds) s")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func jobIsDone(_ j: JobInfo) -> Bool {
        j.state == .success || j.state == .failure || j.state == .killed
    }

    // MARK: logs

    /// Prints the logs; with `follow`, polls and prints new lines until the job (without `--job`: every
    /// running job of the pipeline) has finished. The daemon returns the logs datum by datum, so new lines can
    /// appear between old ones: a line is printed once for each time it occurs beyond what was printed.
    private func logs(_ r: LogsRequest) async throws {
        var printed: [String: Int] = [:]
        func printNew(_ text: String) throws {
            var seen: [String: Int] = [:]
            var out = ""
            for sub in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
                let line = String(sub)
                seen[line, default: 0] += 1
                if seen[line]! > printed[line, default: 0] {
                    out += line + "\n"
                    printed[line] = seen[line]
                }
            }
            if !out.isEmpty { try Console.out(out) }
        }
        guard r.follow else {
            let text = try await client.logs(pipeline: r.pipeline, job: r.job, datum: r.datum)
            try Console.out(text)
            return
        }
        while true {
            // Whether to stop is decided before reading the logs, so the last read sees everything.
            let done: Bool
            do {
                if let job = r.job {
                    done = try await client.inspectJob(id: job, pipeline: r.pipeline).allSatisfy { Self.jobIsDone($0) }
                } else {
                    done = try await client.listJobs(pipeline: r.pipeline).allSatisfy { Self.jobIsDone($0) }
                }
                try printNew(try await client.logs(pipeline: r.pipeline, job: r.job, datum: r.datum))
            } catch let e as PFSError where e.code == .notFound {
                // A job that has not started yet: its output commit exists already.
                guard let job = r.job, (try? await client.inspectCommit(repo: r.pipeline, ref: job)) != nil else { throw e }
                try await Task.sleep(for: .milliseconds(300))
                continue
            }
            if done { return }
            try await Task.sleep(for: .milliseconds(300))
        }
    }
}

extension LocalFile {
    /// A spec file's text (at most 16 MiB; a pipeline spec is small). Errors name the path.
    static func readText(_ path: String, what: String = "spec file") throws -> String {
        if try status(path, what: what).kind == .directory {
            throw PFSError(.io, "cannot read \(what) \(quoted(path)): it is a directory; name the spec file itself")
        }
        let fd = try openForReading(path, what: what)
        defer { close(fd) }
        return try readAll(fd, what: "\(what) \(quoted(path))")
    }

    /// Standard input as text (`-f -`).
    static func readStdinText() throws -> String {
        try readAll(0, what: "the spec from stdin")
    }

    private static func readAll(_ fd: Int32, what: String) throws -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { readFD(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw PFSError(.io, "cannot read \(what): \(errnoMessage(e))")
            }
            if n == 0 { break }
            data += buffer[0..<n]
            if data.count > 16 << 20 { throw PFSError(.io, "\(what) is larger than 16 MiB; that is not a pipeline spec") }
        }
        return String(decoding: data, as: UTF8.self)
    }
}

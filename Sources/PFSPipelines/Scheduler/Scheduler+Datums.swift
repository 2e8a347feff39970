import Foundation
import PFSCore

extension Scheduler {
    struct DatumResult {
        var info: DatumInfo
        var outputs: [(path: String, entry: TreeEntry)]
    }

    /// Runs datums, at most `spec.parallelism` commands at a time.
    /// With `deadline` (the job's `job_timeout`), datums still running then are stopped and datums not started
    /// by then fail without running.
    ///
    /// A worker slot is held only while a datum's command runs: the next datum's views and directories are made
    /// while the slot is busy, and a finished datum's outputs are stored and its record saved while the next
    /// command already runs. At most twice `parallelism` datums are in flight.
    func runDatums(_ datums: [Datum], p: PipelineRow, spec: PipelineSpec, commit: CommitRow,
                   previousInputs: [CommitRefInfo], deadline: Date? = nil, log: (String) -> Void, gpus: GPUAllocation? = nil) -> [String: DatumResult] {
        let results = ResultBox()
        let width = max(1, spec.parallelism)
        let slots = DispatchSemaphore(value: width)
        let inFlight = DispatchSemaphore(value: 2 * width)
        let group = DispatchGroup()
        func launch(_ list: [Datum]) {
            for d in list {
                inFlight.wait()
                // `stop job`: no datum starts after it (those left are recorded as not run).
                if control.isStopped(p.name, commit.id) {
                    inFlight.signal()
                    break
                }
                group.enter()
                Thread.detachNewThread { [self] in
                    defer { inFlight.signal(); group.leave() }
                    let r = runDatum(d, p: p, spec: spec, commit: commit, previousInputs: previousInputs, deadline: deadline,
                                     gpus: gpus, slots: slots)
                    // Recorded as soon as it is done, so a job resumed after a crash does not run it again.
                    do {
                        try saveDatum(p.name, d, r.info, outputs: r.info.state != .failed ? r.outputs : nil)
                    } catch {
                        logger.error("could not record datum", metadata: ["datum": "\(d.id)", "error": "\(error)"])
                    }
                    results.set(d.id, r)
                }
            }
        }
        /// `restart datum` on datums that failed in this job: they run again (new tries) before the job ends.
        func reruns() -> [Datum] {
            let again = control.takeReruns(p.name, commit.id)
            guard !again.isEmpty else { return [] }
            let all = results.all
            let failed = datums.filter { again.contains($0.id) && all[$0.id]?.info.state == .failed }
            if !failed.isEmpty { log("restarted by a user: \(failed.count) failed datum(s) run again") }
            return failed
        }
        launch(datums)
        while true {
            let done = group.wait(timeout: .now() + .milliseconds(100)) == .success
            let again = reruns()
            if again.isEmpty && done { break }
            launch(again)
        }
        runner.jobFinished(Self.jobKey(p.name, commit.id))
        let all = results.all
        for d in datums {
            if let r = all[d.id], r.info.state == .failed { log("datum \(d.id.prefix(12)) failed: \(r.info.reason)") }
        }
        return all
    }

    /// What runners keep per job (warm containers) is keyed by this.
    static func jobKey(_ pipeline: String, _ commit: String) -> String { "\(pipeline)@\(commit)" }

    final class ResultBox: @unchecked Sendable {
        private let lock = NSLock()
        private var map: [String: DatumResult] = [:]
        func set(_ k: String, _ v: DatumResult) { lock.withLock { map[k] = v } }
        var all: [String: DatumResult] { lock.withLock { map } }
    }

    /// One datum: views of its inputs, a fresh /pfs/out, the command with retries, then its outputs stored.
    /// Each command holds one of `slots` (the job's worker slots) while it runs.
    func runDatum(_ d: Datum, p: PipelineRow, spec: PipelineSpec, commit: CommitRow,
                  previousInputs: [CommitRefInfo], deadline: Date? = nil, gpus: GPUAllocation? = nil,
                  slots: DispatchSemaphore? = nil) -> DatumResult {
        let started = Date()
        var info = DatumInfo(id: d.id, job: commit.id, state: .failed, attempts: 0, seconds: 0, inputs: d.inputs)
        /// The datum's time limit: `datum_timeout`, cut to what is left of `job_timeout`.
        func limit() -> Double? {
            guard let deadline else { return spec.datumTimeout }
            let left = max(0.001, deadline.timeIntervalSinceNow)
            return min(spec.datumTimeout ?? left, left)
        }
        if let deadline, deadline.timeIntervalSinceNow <= 0 {
            info.reason = "job_timeout (\(spec.jobTimeout ?? 0) s) reached before the datum started"
            info.finished = Date()
            return DatumResult(info: info, outputs: [])
        }
        // Unique across pipelines too: the pipelines of one commit set run side by side, on the same datum ids
        // when they read the same input the same way.
        let token = "\(p.name)-\(commit.id.prefix(12))-\(d.id.prefix(20))"
        let log = logFile(p.name, commit.id, String(d.id.prefix(20)))
        defer { try? log?.close() }
        func note(_ s: String) { log?.write(Data("[pfs] \(s)\n".utf8)) }
        do {
            // The datum's views: each input shows exactly the datum's paths.
            var inputs: [String: DatumInputView] = [:]
            let pfsInputs = Dictionary(spec.input.pfsInputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for di in d.inputs {
                let pin = pfsInputs[di.name]
                var v = DatumInputView(repo: di.repo, commit: di.commit, roots: di.paths.map { Names.components($0) },
                                       emptyFiles: pin?.emptyFiles ?? false)
                if let pin, pin.incremental != .none,
                   let prev = previousInputs.first(where: { $0.repo == di.repo && $0.branch == di.branch }),
                   !prev.id.isEmpty, prev.id != di.commit {
                    let current = try store.view(repo: di.repo, ref: di.commit)
                    let before = try? store.view(repo: di.repo, ref: prev.id)
                    let pieces = try Incrementality.incrementalPaths(pin.incremental, current: current, previous: before,
                                                                     paths: di.paths, trees: store.trees)
                    var only: [[String]: Int64] = [:]
                    for piece in pieces {
                        switch piece.kind {
                        case .whole: only[Names.components(piece.path)] = 0
                        case .appended(let from): only[Names.components(piece.path)] = from
                        }
                    }
                    v.only = only
                }
                inputs[di.name] = v
            }
            let hasPrev = commit.parent != nil
            if hasPrev, let parent = commit.parent {
                inputs["prev"] = DatumInputView(repo: p.name, commit: parent, roots: [[]])
            }
            views.registerDatumView(token: token, inputs: inputs)
            defer { views.removeDatumView(token: token) }

            let out = runDir.appendingPathComponent("out").appendingPathComponent(token)
            let scratch = runDir.appendingPathComponent("scratch").appendingPathComponent(token)
            defer {
                try? FileManager.default.removeItem(at: out)
                try? FileManager.default.removeItem(at: scratch)
            }
            var mounts: [WorkerInvocation.Mount] = inputs.keys.sorted().map {
                WorkerInvocation.Mount(source: "\(viewsPath)/\(token)/\($0)", target: "/pfs/\($0)", readOnly: true)
            }
            mounts.append(WorkerInvocation.Mount(source: out.path, target: "/pfs/out", readOnly: false))
            // Secrets: files under mount_path (read-only), env_var values kept apart from the logged environment.
            let secrets = try secretsForDatum(spec, token: token)
            defer { secrets.remove() }
            mounts += secrets.mounts

            var env = spec.transform.env
            let defaulted = Set(["PATH", "HOME", "LANG"].filter { env[$0] == nil })
            env["PATH"] = env["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
            env["HOME"] = env["HOME"] ?? "/tmp"
            env["LANG"] = env["LANG"] ?? "C.UTF-8"
            env["PACH_JOB_ID"] = commit.id
            env["PACH_DATUM_ID"] = d.id
            env["PACH_OUTPUT_COMMIT_ID"] = commit.id
            env["PPS_PIPELINE_NAME"] = p.name
            for di in d.inputs {
                env[di.name] = "/pfs/\(di.name)" + (di.paths.first.map { $0 == "/" ? "" : $0 } ?? "")
                env["\(di.name)_COMMIT"] = di.commit
                env["PACH_\(di.repo.uppercased().replacingOccurrences(of: "-", with: "_"))_COMMIT_ID"] = di.commit
                if let k = di.joinOn { env["PACH_DATUM_\(di.name)_JOIN_ON"] = k }
                if let k = di.groupBy { env["PACH_DATUM_\(di.name)_GROUP_BY"] = k }
            }
            // The command sees none of pfs's data and no other pfs mount (only its views, bound below).
            let hidden = hiddenPaths()
            let tries = max(1, spec.datumTries)
            var lastReason = ""
            var attempt = 0
            var killed = false
            while attempt < tries {
                attempt += 1
                info.attempts = attempt
                try? FileManager.default.removeItem(at: out)
                try? FileManager.default.removeItem(at: scratch)
                try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
                // A worker slot for the command (views and directories above were made while waiting for it).
                slots?.wait()
                if let deadline, deadline.timeIntervalSinceNow <= 0 {
                    slots?.signal()
                    lastReason = attempt == 1 ? "job_timeout (\(spec.jobTimeout ?? 0) s) reached before the datum started"
                                              : "stopped: job_timeout (\(spec.jobTimeout ?? 0) s) reached"
                    note("failed: \(lastReason)")
                    break
                }
                var w = WorkerInvocation(image: spec.transform.image, cmd: spec.transform.cmd, stdin: spec.transform.stdin,
                                         env: env, mounts: mounts, workingDir: spec.transform.workingDir,
                                         user: spec.transform.user, timeout: limit(),
                                         hidden: hidden,
                                         scratch: scratch.path)
                secrets.apply(to: &w, gpus: gpus)
                w.memoryLimit = spec.resourceLimits?.memory
                w.cpuLimit = spec.resourceLimits?.cpu
                w.defaultedEnv = defaulted
                w.job = Self.jobKey(p.name, commit.id)
                w.runner = spec.transform.runner
                note("attempt \(attempt) of \(tries)")
                if attempt == 1 {
                    // Exactly what runs, for debugging a datum by hand (and for the pipeline benchmarks' reference).
                    if let line = runner.commandLine(w) { note("sandbox: " + Self.shellQuoted(line)) }
                    info.started = Date()
                }
                let cancel = WorkerCancel()
                guard control.attach(p.name, commit.id, datum: d.id, cancel) else {
                    slots?.signal()
                    lastReason = Self.killedReason
                    killed = true
                    note("failed: \(lastReason)")
                    break
                }
                w.cancel = cancel
                let run = Result { try runner.run(w, log: log ?? FileHandle.nullDevice) }
                slots?.signal()
                let restarted = control.detach(p.name, commit.id, datum: d.id)
                let r = try run.get()
                if cancel.isCancelled {
                    if restarted {
                        // `restart datum` killed this attempt: it runs again and does not use up a try.
                        note("attempt \(attempt) killed by `pfs restart datum`; starting again (not counted as a try)")
                        attempt -= 1
                        continue
                    }
                    lastReason = Self.killedReason
                    killed = true
                    note("failed: \(lastReason)")
                    break
                }
                let accepted = r.exitCode == 0 || spec.transform.acceptReturnCode.contains(r.exitCode)
                if accepted && !r.timedOut {
                    info.state = .success
                    let outputs = try collectOutputs(out, inputs: inputs, token: token)
                    info.finished = Date()
                    info.seconds = info.finished!.timeIntervalSince(started)
                    note("success in \(String(format: "%.3f", r.seconds)) s, \(outputs.count) output file(s)")
                    return DatumResult(info: info, outputs: outputs)
                }
                let jobOver = deadline.map { $0.timeIntervalSinceNow <= 0 } ?? false
                lastReason = r.timedOut ? (jobOver ? "stopped: job_timeout (\(spec.jobTimeout ?? 0) s) reached"
                                                   : "timed out after \(spec.datumTimeout ?? 0) s")
                    : r.oomKilled ? "out of memory: killed at its memory limit of \(spec.resourceLimits?.memory ?? 0) bytes (resource_limits.memory; exit code \(r.exitCode))"
                    : "exit code \(r.exitCode)"
                note("failed: \(lastReason)")
                if jobOver { break }
            }
            info.reason = lastReason
            if !killed, !spec.transform.errCmd.isEmpty, deadline.map({ $0.timeIntervalSinceNow > 0 }) ?? true {
                var w = WorkerInvocation(image: spec.transform.image, cmd: spec.transform.errCmd, stdin: spec.transform.errStdin,
                                         env: env, mounts: mounts, workingDir: spec.transform.workingDir,
                                         user: spec.transform.user, timeout: limit(), hidden: hidden,
                                         scratch: scratch.path)
                secrets.apply(to: &w, gpus: gpus)
                w.memoryLimit = spec.resourceLimits?.memory
                w.cpuLimit = spec.resourceLimits?.cpu
                w.defaultedEnv = defaulted
                w.job = Self.jobKey(p.name, commit.id)
                w.runner = spec.transform.runner
                note("running err_cmd")
                slots?.wait()
                w.timeout = limit()
                let r = try? runner.run(w, log: log ?? FileHandle.nullDevice)
                slots?.signal()
                if let r, r.exitCode == 0 {
                    info.state = .recovered
                    note("recovered by err_cmd")
                }
            }
        } catch {
            info.reason = (error as? PFSError)?.message ?? "\(error)"
            note("error: \(info.reason)")
        }
        info.finished = Date()
        info.seconds = info.finished!.timeIntervalSince(started)
        return DatumResult(info: info, outputs: [])
    }

    /// pfs's data directory and every pfs mount but the datum views' own: hidden from the commands. The mount
    /// table is read at most once a second (reading it for each datum cost a fifth of the daemon's time with
    /// many mounts on the machine).
    func hiddenPaths() -> [String] {
        hiddenCache.withLock { cache in
            if let c = cache, Date().timeIntervalSince(c.read) < 1 { return c.paths }
            var hidden = [store.dataDir.path]
            if let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) {
                for line in mounts.split(separator: "\n") {
                    let f = line.split(separator: " ")
                    guard f.count > 2, f[2].hasPrefix("fuse.pfs") else { continue }
                    let path = String(f[1]).replacingOccurrences(of: "\\040", with: " ")
                    if !path.hasPrefix(store.dataDir.path + "/") { hidden.append(path) }
                }
            }
            cache = (Date(), hidden)
            return hidden
        }
    }

    /// A command line as a POSIX shell would take it back.
    static func shellQuoted(_ args: [String]) -> String {
        args.map { a in
            if !a.isEmpty, a.allSatisfy({ $0.isLetter || $0.isNumber || "_-./:=,+@%".contains($0) }), a.allSatisfy(\.isASCII) { return a }
            return "'" + a.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }

    /// Stores what the datum wrote to /pfs/out. A symlink into an input becomes that file by reference
    /// (nothing copied), as Pachyderm's shuffle example relies on.
    func collectOutputs(_ out: URL, inputs: [String: DatumInputView], token: String) throws -> [(path: String, entry: TreeEntry)] {
        var result: [(String, TreeEntry)] = []
        let batch = store.objects.makeBatch()
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: out.path) else { return [] }
        var paths: [String] = []
        while let rel = walker.nextObject() as? String { paths.append(rel) }
        try store.writing {
            for rel in paths.sorted() {
                let full = out.appendingPathComponent(rel).path
                var st = stat()
                guard lstat(full, &st) == 0 else { continue }
                let path = try Names.cleanPath(rel)
                let name = Names.components(path).last ?? rel
                let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
                switch st.st_mode & S_IFMT {
                case S_IFREG:
                    let ing = try FileIngester(store: store.objects, batch: batch)
                    guard let h = FileHandle(forReadingAtPath: full) else { continue }
                    defer { try? h.close() }
                    while let data = try h.read(upToCount: 4 << 20), !data.isEmpty { try data.withUnsafeBytes { try ing.write($0) } }
                    let content = try ing.finish()
                    try store.trees.storeManifestIfNeeded(content, batch: batch)
                    result.append((path, TreeEntry.file(name: name, content: content, mode: UInt32(st.st_mode) & 0o7777, mtimeNs: mtime)))
                case S_IFLNK:
                    let target = try fm.destinationOfSymbolicLink(atPath: full)
                    if let e = try inputEntry(target, inputs: inputs), e.kind == .file {
                        result.append((path, TreeEntry.file(name: name, content: try store.trees.content(of: e), mode: e.mode, mtimeNs: e.mtimeNs)))
                    } else {
                        result.append((path, TreeEntry.symlink(name: name, target: target, mtimeNs: mtime)))
                    }
                default:
                    continue  // directories come with their files; devices and sockets are not kept
                }
            }
            try batch.commit()
        }
        return result
    }

    /// The input file a symlink target like `/pfs/images/a.png` names, if it is one.
    private func inputEntry(_ target: String, inputs: [String: DatumInputView]) throws -> TreeEntry? {
        let comps = target.split(separator: "/").map(String.init)
        guard comps.count >= 2, comps[0] == "pfs", let v = inputs[comps[1]] else { return nil }
        let path = Array(comps.dropFirst(2))
        return try store.view(repo: v.repo, ref: v.commit).entry(path)
    }
}

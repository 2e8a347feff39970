import Foundation
import NIOCore
import PFSCore

/// The one implementation of every operation: calls the API, prints the result as a table or JSON.
public struct OperationRunner: Sendable {
    public let client: APIClient
    public let format: OutputFormat
    public let now: @Sendable () -> Date

    public init(client: APIClient, format: OutputFormat, now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.format = format
        self.now = now
    }

    /// Runs `operation` and returns the exit status (non-zero only for `fsck` findings; failures throw).
    public func run(_ operation: CLIOperation) async throws -> PFSExitCode {
        switch operation {
        case .version:
            return try await version()

        case .listRepos:
            let repos = try await client.listRepos()
            try emit(repos) { Render.repos($0, now: now()) }

        case let .createRepo(name, description, update):
            let repo = try await client.createRepo(name: name, description: description, update: update)
            try emitJSONOnly(repo)

        case .inspectRepo(let name):
            let repo = try await client.inspectRepo(name)
            try emit(repo) { Render.repo($0, now: now()) }

        case .deleteRepos(let request):
            try await deleteRepos(request)

        case .listBranches(let repo):
            let branches = try await client.listBranches(repo: repo)
            try emit(branches) { Render.branches($0) }

        case let .createBranch(repo, branch, head):
            let info = try await client.createBranch(repo: repo, branch: branch, head: head)
            try emitJSONOnly(info)

        case let .inspectBranch(repo, branch):
            let info = try await client.inspectBranch(repo: repo, branch: branch)
            try emit(info) { Render.branch($0, now: now()) }

        case let .deleteBranch(repo, branch):
            try await client.deleteBranch(repo: repo, branch: branch)

        case let .startCommit(repo, branch, parent, description):
            let commit = try await client.startCommit(repo: repo, branch: branch, parent: parent, description: description)
            // As pachctl: the new commit's id alone, so `id=$(pfs start commit data@master)` works.
            try emit(commit) { $0.id + "\n" }

        case let .finishCommit(repo, ref, description):
            let commit = try await client.finishCommit(repo: repo, ref: ref, description: description)
            try emitJSONOnly(commit)

        case let .listCommits(repo, branch, all, limit):
            let commits = try await client.listCommits(repo: repo, branch: branch, all: all, limit: limit)
            try emit(commits) { Render.commits($0, now: now()) }

        case let .inspectCommit(repo, ref):
            let commit = try await client.inspectCommit(repo: repo, ref: ref)
            try emit(commit) { Render.commit($0, now: now()) }

        case let .deleteCommit(repo, ref):
            try await client.deleteCommit(repo: repo, ref: ref)

        case let .waitCommits(targets, timeout):
            var seen = Set<String>()
            var all: [CommitInfo] = []
            for target in targets {
                for c in try await client.waitCommit(repo: target.repo, ref: target.ref, timeoutSeconds: timeout)
                where seen.insert(c.repo + "@" + c.id).inserted {
                    all.append(c)
                }
            }
            try emit(all) { Render.commits($0, now: now()) }

        case .putFiles(let request):
            try await putFiles(request)

        case .getFile(let request):
            try await FileDownloader(client: client).get(request)

        case let .listFiles(repo, ref, path, recursive):
            let files = try await client.listFiles(repo: repo, ref: ref, path: path, recursive: recursive)
            try emit(files) { Render.files($0) }

        case let .globFiles(repo, ref, pattern):
            let files = try await client.glob(repo: repo, ref: ref, pattern: pattern)
            try emit(files) { Render.files($0) }

        case let .diffFiles(repo, ref, old, path):
            let entries = try await client.diff(repo: repo, ref: ref, old: old, path: path)
            try emit(entries) { Render.diff($0) }

        case let .inspectFile(repo, ref, path):
            let file = try await client.inspectFile(repo: repo, ref: ref, path: path)
            try emit(file) { Render.file($0) }

        case let .deleteFiles(repo, ref, paths, recursive):
            let result = try await client.deleteFiles(repo: repo, ref: ref, paths: paths, recursive: recursive)
            try emitWrite(result, repo: repo, verb: "deleted")

        case .copyFile(let request):
            let result = try await client.copyFile(request)
            try emitWrite(result, repo: request.dstRepo, verb: "copied")

        case .fsck(let verify):
            let report = try await client.fsck(verify: verify)
            try emit(report) { Render.fsck($0, verified: verify) }
            return report.problems.isEmpty ? .success : .corrupt

        case .gc:
            let report = try await client.gc()
            try emit(report) { Render.gc($0) }

        case .unmount:
            let status = try await client.unmount()
            // The daemon stores what writers left and finishes its commits before it exits: wait for that.
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline, kill(pid_t(status.pid), 0) == 0 {
                try await Task.sleep(for: .milliseconds(50))
            }
            if kill(pid_t(status.pid), 0) == 0 {
                throw PFSError(.timeout, "the daemon (pid \(status.pid)) is still stopping after 120 s; it is storing open files — check its log")
            }
            try emit(status) { s in "unmounted \(s.mountpoint ?? "(no mount)"); daemon \(s.pid) stopped\n" }

        case .createPipelines, .listPipelines, .inspectPipeline, .deletePipelines, .startPipeline, .stopPipeline,
             .runPipeline, .listJobs, .inspectJob, .waitJob, .listDatums, .stopJob, .inspectDatum, .restartDatums, .logs, .listImages, .aliasImage, .unaliasImage,
             .importImage, .inspectImage, .deleteImage:
            let handled = try await runPipelineOperation(operation)
            assert(handled, "\(operation) is not handled by runPipelineOperation")

        case .createSecret, .listSecrets, .inspectSecret, .deleteSecret:
            let handled = try await runSecretOperation(operation)
            assert(handled, "a secret operation is not handled by runSecretOperation")
        }
        return .success
    }

    // MARK: - Operations with more than one call

    private func version() async throws -> PFSExitCode {
        var daemon: VersionInfo?
        var daemonError: String?
        do {
            daemon = try await client.version()
        } catch let error as PFSError {
            daemonError = error.message.split(separator: "\n").first.map(String.init) ?? error.message
        }
        switch format {
        case .json:
            struct Versions: Encodable {
                var client: VersionInfo
                var daemon: VersionInfo?
                var daemonError: String?
            }
            try printJSON(Versions(client: VersionInfo(version: PFSVersion.version, apiVersion: PFSVersion.apiVersion),
                                   daemon: daemon, daemonError: daemonError))
        case .table:
            try Console.out(Render.version(client: PFSVersion.version, daemon: daemon, daemonError: daemonError))
        }
        return .success
    }

    private func deleteRepos(_ request: DeleteRepoRequest) async throws {
        var names = request.names
        if request.all {
            names = try await client.listRepos().map(\.name)
        }
        for name in names {
            try await client.deleteRepo(name, force: request.force)
        }
    }

    private func putFiles(_ request: PutFileRequest) async throws {
        // Every local source is checked before the first byte is sent.
        let plan = try PutPlanner().plan(request)
        for warning in plan.warnings { Console.err("pfs: warning: \(warning)\n") }
        let body = PutBodySequence(items: plan.items, openURL: client.urlOpener)

        var result: PutResult
        if request.startCommit {
            // 1.x `put-file -c`: start a commit, put into it, finish it. If the put fails the commit is removed
            // (and the branch, if starting the commit created it), so a failed command leaves nothing behind.
            let branchExisted = (try? await client.inspectBranch(repo: request.repo, branch: request.ref)) != nil
            let commit = try await client.startCommit(repo: request.repo, branch: request.ref, parent: nil,
                                                      description: request.description)
            do {
                result = try await client.putFiles(repo: request.repo, ref: commit.id, description: nil, body: body)
                _ = try await client.finishCommit(repo: request.repo, ref: commit.id, description: nil)
                result.finished = true
            } catch {
                try? await client.deleteCommit(repo: request.repo, ref: commit.id)
                if !branchExisted { try? await client.deleteBranch(repo: request.repo, branch: request.ref) }
                throw error
            }
        } else {
            result = try await client.putFiles(repo: request.repo, ref: request.ref, description: request.description, body: body)
        }
        try emitWrite(result, repo: request.repo, verb: "put")
    }

    // MARK: - Output

    /// JSON for scripts, or the human rendering.
    func emit<T: Encodable>(_ value: T, human: (T) -> String) throws {
        switch format {
        case .json: try printJSON(value)
        case .table: try Console.out(human(value))
        }
    }

    /// Creations print nothing in table mode, as pachctl; the created object in JSON mode.
    func emitJSONOnly<T: Encodable>(_ value: T) throws {
        if format == .json { try printJSON(value) }
    }

    /// Writes print their `PutResult` in JSON mode; in table mode a one-line summary goes to stderr when a
    /// person is watching (stdout stays clean for scripts).
    func emitWrite(_ result: PutResult, repo: String, verb: String) throws {
        switch format {
        case .json: try printJSON(result)
        case .table:
            if Console.stderrIsTerminal { Console.err(Render.putSummary(result, repo: repo, verb: verb)) }
        }
    }

    func printJSON<T: Encodable>(_ value: T) throws {
        let data = try PFSJSON.encoder(pretty: true).encode(value)
        try Console.out(String(decoding: data, as: UTF8.self) + "\n")
    }
}

import ArgumentParser
import PFSCore
import XCTest
@testable import PFSCLI

/// Every command, in both spellings, parses into the expected `CLIOperation`.
final class CommandParsingTests: XCTestCase {
    func op(_ args: String...) throws -> CLIOperation {
        let command = try PFSCommand.parseAsRoot(args)
        guard let c = command as? any OperationCommand else {
            throw PFSError.invalid("\(args) did not parse to an operation command but \(type(of: command))")
        }
        return try c.operation()
    }

    func format(_ args: String...) throws -> OutputFormat {
        let command = try PFSCommand.parseAsRoot(args)
        return try (command as! any OperationCommand).outputFormat()
    }

    func assertUsageError(_ args: String..., file: StaticString = #filePath, line: UInt = #line) {
        do {
            let command = try PFSCommand.parseAsRoot(args)
            guard let c = command as? any OperationCommand else { return }
            _ = try c.operation()
            XCTFail("\(args) was accepted", file: file, line: line)
        } catch let e as PFSError {
            XCTAssertEqual(PFSExitCode.forCode(e.code), .usage, "\(e)", file: file, line: line)
        } catch {
            // An ArgumentParser error: also a usage error.
            XCTAssertNotEqual(PFSCommand.exitCode(for: error), .success, file: file, line: line)
        }
    }

    // MARK: Repos

    func testRepoCommands() throws {
        XCTAssertEqual(try op("create", "repo", "data"), .createRepo(name: "data", description: nil, update: false))
        XCTAssertEqual(try op("create-repo", "data", "-d", "raw"), .createRepo(name: "data", description: "raw", update: false))
        XCTAssertEqual(try op("create", "repo", "data", "--description", "raw"),
                       .createRepo(name: "data", description: "raw", update: false))
        XCTAssertEqual(try op("update", "repo", "data", "-d", "new"), .createRepo(name: "data", description: "new", update: true))
        XCTAssertEqual(try op("update-repo", "data", "-d", "new"), .createRepo(name: "data", description: "new", update: true))
        XCTAssertEqual(try op("list", "repo"), .listRepos)
        XCTAssertEqual(try op("list-repo"), .listRepos)
        XCTAssertEqual(try op("inspect", "repo", "data"), .inspectRepo("data"))
        XCTAssertEqual(try op("inspect-repo", "data"), .inspectRepo("data"))
        XCTAssertEqual(try op("delete", "repo", "data"), .deleteRepos(DeleteRepoRequest(names: ["data"], all: false, force: false)))
        XCTAssertEqual(try op("delete-repo", "data", "--force"), .deleteRepos(DeleteRepoRequest(names: ["data"], all: false, force: true)))
        XCTAssertEqual(try op("delete", "repo", "--all"), .deleteRepos(DeleteRepoRequest(names: [], all: true, force: false)))
        XCTAssertEqual(try op("delete-repo", "-a", "-f"), .deleteRepos(DeleteRepoRequest(names: [], all: true, force: true)))
        assertUsageError("create", "repo", "bad name")
        assertUsageError("create", "repo", ".hidden")
        assertUsageError("delete", "repo")
        assertUsageError("delete", "repo", "x", "--all")
        assertUsageError("update", "repo", "data")
    }

    // MARK: Branches

    func testBranchCommands() throws {
        XCTAssertEqual(try op("create", "branch", "data@staging"), .createBranch(repo: "data", branch: "staging", head: nil))
        XCTAssertEqual(try op("create", "branch", "data@release", "--head", "master"),
                       .createBranch(repo: "data", branch: "release", head: "master"))
        XCTAssertEqual(try op("create", "branch", "data@old", "--head", "data@master^^"),
                       .createBranch(repo: "data", branch: "old", head: "master~2"))
        XCTAssertEqual(try op("create-branch", "data", "staging"), .createBranch(repo: "data", branch: "staging", head: nil))
        XCTAssertEqual(try op("create-branch", "data", "v1.0", "--head", "0123456789abcdef"),
                       .createBranch(repo: "data", branch: "v1.0", head: "0123456789abcdef"))
        XCTAssertEqual(try op("set-branch", "data", "master~1", "rollback"),
                       .createBranch(repo: "data", branch: "rollback", head: "master~1"))
        XCTAssertEqual(try op("list", "branch", "data"), .listBranches(repo: "data"))
        XCTAssertEqual(try op("list-branch", "data"), .listBranches(repo: "data"))
        XCTAssertEqual(try op("inspect", "branch", "data@master"), .inspectBranch(repo: "data", branch: "master"))
        XCTAssertEqual(try op("delete", "branch", "data@staging"), .deleteBranch(repo: "data", branch: "staging"))
        XCTAssertEqual(try op("delete-branch", "data", "staging"), .deleteBranch(repo: "data", branch: "staging"))
        assertUsageError("create", "branch", "data@master^")
        assertUsageError("create", "branch", "data@x:/path")
        assertUsageError("create", "branch", "data@x", "--head", "other@master")
        assertUsageError("create-branch", "data", "0123456789abcdef0123456789abcdef")
    }

    // MARK: Commits

    func testCommitCommands() throws {
        XCTAssertEqual(try op("start", "commit", "data@master"),
                       .startCommit(repo: "data", branch: "master", parent: nil, description: nil))
        XCTAssertEqual(try op("start", "commit", "data@fix", "--parent", "master~2", "-m", "patch"),
                       .startCommit(repo: "data", branch: "fix", parent: "master~2", description: "patch"))
        XCTAssertEqual(try op("start-commit", "data", "master"),
                       .startCommit(repo: "data", branch: "master", parent: nil, description: nil))
        XCTAssertEqual(try op("start-commit", "data"),
                       .startCommit(repo: "data", branch: "master", parent: nil, description: nil))
        XCTAssertEqual(try op("start-commit", "data", "patch", "-p", "master", "--description", "d"),
                       .startCommit(repo: "data", branch: "patch", parent: "master", description: "d"))

        XCTAssertEqual(try op("finish", "commit", "data@master"), .finishCommit(repo: "data", ref: "master", description: nil))
        XCTAssertEqual(try op("finish", "commit", "data@3f2a9c1e", "-m", "done"),
                       .finishCommit(repo: "data", ref: "3f2a9c1e", description: "done"))
        XCTAssertEqual(try op("finish-commit", "data", "master", "--message", "done"),
                       .finishCommit(repo: "data", ref: "master", description: "done"))

        XCTAssertEqual(try op("list", "commit", "data"), .listCommits(repo: "data", branch: nil, all: false, limit: nil))
        XCTAssertEqual(try op("list", "commit", "data@staging", "-n", "5"),
                       .listCommits(repo: "data", branch: "staging", all: false, limit: 5))
        XCTAssertEqual(try op("list", "commit", "data", "--all"), .listCommits(repo: "data", branch: nil, all: true, limit: nil))
        XCTAssertEqual(try op("list-commit", "data"), .listCommits(repo: "data", branch: nil, all: false, limit: nil))
        XCTAssertEqual(try op("list-commit", "data", "master", "--number", "10"),
                       .listCommits(repo: "data", branch: "master", all: false, limit: 10))
        XCTAssertEqual(try op("list-commit", "data", "-a"), .listCommits(repo: "data", branch: nil, all: true, limit: nil))

        XCTAssertEqual(try op("inspect", "commit", "data@master^"), .inspectCommit(repo: "data", ref: "master~1"))
        XCTAssertEqual(try op("inspect", "commit", "data@master~3"), .inspectCommit(repo: "data", ref: "master~3"))
        XCTAssertEqual(try op("inspect", "commit", "data@3f2a9c1e"), .inspectCommit(repo: "data", ref: "3f2a9c1e"))
        XCTAssertEqual(try op("inspect-commit", "data", "master^"), .inspectCommit(repo: "data", ref: "master~1"))

        XCTAssertEqual(try op("delete", "commit", "data@master"), .deleteCommit(repo: "data", ref: "master"))
        XCTAssertEqual(try op("delete-commit", "data", "3f2a9c1e"), .deleteCommit(repo: "data", ref: "3f2a9c1e"))

        let target = CommitTarget(repo: "data", ref: "master")
        XCTAssertEqual(try op("wait", "commit", "data@master"), .waitCommits([target], timeoutSeconds: nil))
        XCTAssertEqual(try op("wait", "commit", "data@master", "--timeout", "5m"), .waitCommits([target], timeoutSeconds: 300))
        XCTAssertEqual(try op("wait", "commit", "data@master", "--timeout", "1.2"), .waitCommits([target], timeoutSeconds: 2))
        XCTAssertEqual(try op("flush-commit", "data@master"), .waitCommits([target], timeoutSeconds: nil))
        XCTAssertEqual(try op("flush-commit", "data/master"), .waitCommits([target], timeoutSeconds: nil))
        XCTAssertEqual(try op("flush-commit", "data", "master", "--timeout", "30s"), .waitCommits([target], timeoutSeconds: 30))
        XCTAssertEqual(try op("flush-commit", "data@master", "other/3f2a9c1e"),
                       .waitCommits([target, CommitTarget(repo: "other", ref: "3f2a9c1e")], timeoutSeconds: nil))

        assertUsageError("start", "commit", "data@master^")
        assertUsageError("list", "commit", "data@master", "--all")
        assertUsageError("list", "commit", "data", "-n", "-1")
        assertUsageError("inspect", "commit", "data@master:/file")
        assertUsageError("wait", "commit", "data@master", "--timeout", "soon")
        assertUsageError("flush-commit", "data")
        assertUsageError("inspect-commit", "data", "master~x")
    }

    // MARK: Files

    func testPutFile2x() throws {
        XCTAssertEqual(try op("put", "file", "data@master:/sales.csv", "-f", "sales.csv"),
                       .putFiles(PutFileRequest(repo: "data", ref: "master", path: "/sales.csv", pathIsDirectory: false,
                                                sources: ["sales.csv"])))
        XCTAssertEqual(try op("put", "file", "data@master", "-f", "a.csv", "-f", "b.csv"),
                       .putFiles(PutFileRequest(repo: "data", ref: "master", path: nil, pathIsDirectory: true,
                                                sources: ["a.csv", "b.csv"])))
        XCTAssertEqual(try op("put", "file", "data@master:/raw/", "-r", "-f", "./dataset"),
                       .putFiles(PutFileRequest(repo: "data", ref: "master", path: "/raw", pathIsDirectory: true,
                                                sources: ["./dataset"], recursive: true)))
        XCTAssertEqual(try op("put", "file", "data@master:/log.txt", "-a", "-f", "today.log"),
                       .putFiles(PutFileRequest(repo: "data", ref: "master", path: "/log.txt", pathIsDirectory: false,
                                                sources: ["today.log"], append: true)))
        XCTAssertEqual(try op("put", "file", "data@master:/notes.txt"),
                       .putFiles(PutFileRequest(repo: "data", ref: "master", path: "/notes.txt", pathIsDirectory: false,
                                                sources: [])))
        XCTAssertEqual(try op("put", "file", "data@master:/x", "-i", "list.txt", "-m", "import"),
                       .putFiles(PutFileRequest(repo: "data", ref: "master", path: "/x", pathIsDirectory: false,
                                                sources: [], inputFile: "list.txt", description: "import")))
        XCTAssertEqual(try op("put", "file", "data@0123456789abcdef:/x", "-f", "y"),
                       .putFiles(PutFileRequest(repo: "data", ref: "0123456789abcdef", path: "/x", pathIsDirectory: false,
                                                sources: ["y"])))
        XCTAssertEqual(try format("put", "file", "data@master:/x", "-o", "json"), .json)
        assertUsageError("put", "file", "data@master:/../x", "-f", "y")
    }

    func testPutFile1xAppendsByDefault() throws {
        XCTAssertEqual(try op("put-file", "data", "master", "sales", "-c", "-f", "set1.txt"),
                       .putFiles(PutFileRequest(repo: "data", ref: "master", path: "/sales", pathIsDirectory: false,
                                                sources: ["set1.txt"], append: true, startCommit: true)))
        XCTAssertEqual(try op("put-file", "data", "master", "/sales.csv", "-o", "-f", "sales.csv"),
                       .putFiles(PutFileRequest(repo: "data", ref: "master", path: "/sales.csv", pathIsDirectory: false,
                                                sources: ["sales.csv"], append: false)))
        XCTAssertEqual(try op("put-file", "data", "master", "--overwrite", "-f", "a"),
                       .putFiles(PutFileRequest(repo: "data", ref: "master", path: nil, pathIsDirectory: true,
                                                sources: ["a"], append: false)))
        XCTAssertEqual(try op("put-file", "data", "master", "/raw/", "-r", "-f", "dir", "-i", "more.txt"),
                       .putFiles(PutFileRequest(repo: "data", ref: "master", path: "/raw", pathIsDirectory: true,
                                                sources: ["dir"], inputFile: "more.txt", recursive: true, append: true)))
        XCTAssertEqual(try format("put-file", "data", "master", "-f", "a", "--raw"), .json)
        assertUsageError("put-file", "data", "0123456789abcdef0123456789abcdef", "-c", "-f", "a")
    }

    func testOtherFileCommands() throws {
        XCTAssertEqual(try op("get", "file", "data@master:/sales.csv"),
                       .getFile(GetFileRequest(repo: "data", ref: "master", path: "/sales.csv", output: nil, recursive: false)))
        XCTAssertEqual(try op("get", "file", "data@master^:/sales.csv", "-o", "old.csv"),
                       .getFile(GetFileRequest(repo: "data", ref: "master~1", path: "/sales.csv", output: "old.csv", recursive: false)))
        XCTAssertEqual(try op("get", "file", "data@master:/raw", "-r", "-o", "out"),
                       .getFile(GetFileRequest(repo: "data", ref: "master", path: "/raw", output: "out", recursive: true)))
        XCTAssertEqual(try op("get-file", "data", "master", "sales"),
                       .getFile(GetFileRequest(repo: "data", ref: "master", path: "/sales", output: nil, recursive: false)))
        XCTAssertEqual(try op("get-file", "data", "3f2a9c1e", "/raw", "-r", "-o", "d"),
                       .getFile(GetFileRequest(repo: "data", ref: "3f2a9c1e", path: "/raw", output: "d", recursive: true)))
        assertUsageError("get", "file", "data@master")
        assertUsageError("get", "file", "data@master:/raw", "-r")

        XCTAssertEqual(try op("list", "file", "data@master"), .listFiles(repo: "data", ref: "master", path: "/", recursive: false))
        XCTAssertEqual(try op("list", "file", "data@master~2:/raw"), .listFiles(repo: "data", ref: "master~2", path: "/raw", recursive: false))
        XCTAssertEqual(try op("list-file", "data", "master"), .listFiles(repo: "data", ref: "master", path: "/", recursive: false))
        XCTAssertEqual(try op("list-file", "data", "master", "raw"), .listFiles(repo: "data", ref: "master", path: "/raw", recursive: false))

        XCTAssertEqual(try op("glob", "file", "data@master:/*.csv"), .globFiles(repo: "data", ref: "master", pattern: "/*.csv"))
        XCTAssertEqual(try op("glob-file", "data", "master", "/data/[ab]*"), .globFiles(repo: "data", ref: "master", pattern: "/data/[ab]*"))
        assertUsageError("glob", "file", "data@master")

        XCTAssertEqual(try op("diff", "file", "data@master"), .diffFiles(repo: "data", ref: "master", old: nil, path: nil))
        XCTAssertEqual(try op("diff", "file", "data@master:/raw", "data@master~3"),
                       .diffFiles(repo: "data", ref: "master", old: "master~3", path: "/raw"))
        XCTAssertEqual(try op("diff-file", "data", "master"), .diffFiles(repo: "data", ref: "master", old: nil, path: nil))
        XCTAssertEqual(try op("diff-file", "data", "master", "/raw"), .diffFiles(repo: "data", ref: "master", old: nil, path: "/raw"))
        XCTAssertEqual(try op("diff-file", "data", "master", "data", "master^"),
                       .diffFiles(repo: "data", ref: "master", old: "master~1", path: nil))
        XCTAssertEqual(try op("diff-file", "data", "master", "/raw", "data", "master^", "/raw"),
                       .diffFiles(repo: "data", ref: "master", old: "master~1", path: "/raw"))
        assertUsageError("diff", "file", "data@master", "other@master")
        assertUsageError("diff", "file", "data@master:/a", "data@master^:/b")
        assertUsageError("diff-file", "data")

        XCTAssertEqual(try op("inspect", "file", "data@master:/sales.csv"), .inspectFile(repo: "data", ref: "master", path: "/sales.csv"))
        XCTAssertEqual(try op("inspect-file", "data", "master", "sales.csv"), .inspectFile(repo: "data", ref: "master", path: "/sales.csv"))

        XCTAssertEqual(try op("delete", "file", "data@master:/old.csv"),
                       .deleteFiles(repo: "data", ref: "master", paths: ["/old.csv"], recursive: false))
        XCTAssertEqual(try op("delete", "file", "data@master:/tmp", "data@master:/x", "-r"),
                       .deleteFiles(repo: "data", ref: "master", paths: ["/tmp", "/x"], recursive: true))
        XCTAssertEqual(try op("delete-file", "data", "master", "sales"),
                       .deleteFiles(repo: "data", ref: "master", paths: ["/sales"], recursive: true))
        assertUsageError("delete", "file", "data@master")
        assertUsageError("delete", "file", "data@master:/a", "data@other:/b")

        XCTAssertEqual(try op("copy", "file", "data@master:/a.csv", "backup@master:/2024/a.csv"),
                       .copyFile(CopyFileRequest(srcRepo: "data", srcRef: "master", srcPath: "/a.csv",
                                                 dstRepo: "backup", dstRef: "master", dstPath: "/2024/a.csv", append: false)))
        XCTAssertEqual(try op("copy", "file", "data@master~1:/raw", "data@master", "-a"),
                       .copyFile(CopyFileRequest(srcRepo: "data", srcRef: "master~1", srcPath: "/raw",
                                                 dstRepo: "data", dstRef: "master", dstPath: "/raw", append: true)))
        XCTAssertEqual(try op("copy-file", "data", "master", "a.csv", "backup", "master", "b.csv"),
                       .copyFile(CopyFileRequest(srcRepo: "data", srcRef: "master", srcPath: "/a.csv",
                                                 dstRepo: "backup", dstRef: "master", dstPath: "/b.csv", append: true)))
        XCTAssertEqual(try op("copy-file", "data", "master", "a.csv", "backup", "master", "b.csv", "-o"),
                       .copyFile(CopyFileRequest(srcRepo: "data", srcRef: "master", srcPath: "/a.csv",
                                                 dstRepo: "backup", dstRef: "master", dstPath: "/b.csv", append: false)))
    }

    func testMiscCommands() throws {
        XCTAssertEqual(try op("version"), .version)
        XCTAssertEqual(try op("fsck"), .fsck(verify: true))
        XCTAssertEqual(try op("fsck", "--fast"), .fsck(verify: false))
        XCTAssertEqual(try op("gc"), .gc)
        XCTAssertEqual(try op("garbage-collect"), .gc)
    }

    func testOutputFormats() throws {
        XCTAssertEqual(try format("list", "repo"), .table)
        XCTAssertEqual(try format("list", "repo", "--raw"), .json)
        XCTAssertEqual(try format("list", "repo", "-o", "json"), .json)
        XCTAssertEqual(try format("list-repo", "--output", "JSON"), .json)
        XCTAssertThrowsError(try format("list", "repo", "-o", "yaml"))
    }

    func testGlobalOptionsBeforeTheCommand() throws {
        XCTAssertEqual(PFSCommand.hoistingGlobalOptions(["--data-dir", "/d", "list", "repo"]), ["list", "repo", "--data-dir", "/d"])
        XCTAssertEqual(PFSCommand.hoistingGlobalOptions(["--socket=/s", "--raw", "list-repo"]), ["list-repo", "--socket=/s", "--raw"])
        XCTAssertEqual(PFSCommand.hoistingGlobalOptions(["--raw", "get-file", "r", "c", "--", "-p"]), ["get-file", "r", "c", "--raw", "--", "-p"])
        XCTAssertEqual(PFSCommand.hoistingGlobalOptions(["list", "repo", "--raw"]), ["list", "repo", "--raw"])
        let command = try PFSCommand.parseAsRoot(PFSCommand.hoistingGlobalOptions(["--socket", "/tmp/x.sock", "list", "repo"]))
        let c = try XCTUnwrap(command as? any OperationCommand)
        XCTAssertEqual(c.connection.socket, "/tmp/x.sock")
    }

    func testEveryCommandHasHelpWithAnExample() throws {
        func visit(_ type: any ParsableCommand.Type, path: [String]) {
            let config = type.configuration
            XCTAssertFalse(config.abstract.isEmpty, "\(path) has no abstract")
            XCTAssertTrue(config.discussion.contains("Example"), "\(path) has no example")
            let help = PFSCommand.helpMessage(for: type)
            XCTAssertTrue(help.contains("Example"), "\(path) help shows no example")
            for sub in config.subcommands {
                visit(sub, path: path + [sub.configuration.commandName ?? "?"])
            }
        }
        visit(PFSCommand.self, path: ["pfs"])
        XCTAssertGreaterThanOrEqual(PFSCommand.configuration.subcommands.count, 39)
    }
}

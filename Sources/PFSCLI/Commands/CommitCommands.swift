import ArgumentParser
import PFSCore

// Commits: `start commit` / `start-commit`, `finish commit` / `finish-commit`, `list commit` / `list-commit`,
// `inspect commit` / `inspect-commit`, `delete commit` / `delete-commit`, `wait commit` / `flush-commit`.

/// `-m`, `--message` and `--description` all set a commit's description, as in pachctl.
struct CommitMessageOption: ParsableArguments, Sendable {
    @Option(name: [.customShort("m"), .customLong("message"), .customLong("description")],
            help: "The commit's description.")
    var message: String?
}

extension PFSCommand {
    struct StartCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "commit",
            abstract: "Start a commit on a branch and print its id.",
            discussion: """
                The commit stays open until `finish commit`; writes to the branch (put file, the mount) join it. \
                Its parent is the branch head unless --parent names another commit. The branch is created if \
                it does not exist.

                Examples:
                  pfs start commit data@master
                  id=$(pfs start commit data@master -m "nightly import")
                  pfs start commit data@fix --parent master~2
                """)

        @Argument(help: ArgumentHelp("The branch, as repo@branch.", valueName: "repo@branch")) var target: String
        @Option(name: [.customShort("p"), .customLong("parent")], help: ArgumentHelp("The parent commit.", valueName: "ref"))
        var parent: String?
        @OptionGroup var message: CommitMessageOption
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let b = try CommandArguments.branch(target, command: "start commit")
            return .startCommit(repo: b.repo, branch: b.branch, parent: try CommandArguments.ref(parent),
                                description: message.message)
        }
    }

    struct FinishCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "commit",
            abstract: "Finish an open commit.",
            discussion: """
                Name the commit by its branch (the branch's open commit) or by id.

                Examples:
                  pfs finish commit data@master
                  pfs finish commit data@3f2a9c1e -m "import done"
                """)

        @Argument(help: ArgumentHelp("The commit, as repo@branch or repo@id.", valueName: "repo@ref")) var target: String
        @OptionGroup var message: CommitMessageOption
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let c = try commitWithoutPath(target, command: "finish commit")
            return .finishCommit(repo: c.repo, ref: c.ref, description: message.message)
        }
    }

    struct ListCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "commit",
            abstract: "List commits, newest first.",
            discussion: """
                repo@branch lists that branch's history; a bare repo lists master's history (or every commit \
                when there is no master); --all lists the commits of every branch. Prints REPO, BRANCH, COMMIT, \
                FINISHED, SIZE, ORIGIN, PARENT and DESCRIPTION.

                Examples:
                  pfs list commit data
                  pfs list commit data@staging -n 5
                  pfs list commit data --all --raw
                """)

        @Argument(help: ArgumentHelp("The repo, or repo@branch.", valueName: "repo[@branch]")) var target: String
        @Flag(name: [.customShort("a"), .customLong("all")], help: "List the commits of every branch.") var all = false
        @Option(name: [.customShort("n"), .customLong("number")], help: "List at most this many commits.") var number: Int?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let c = try commitWithoutPath(target, command: "list commit")
            let branch = CommandArguments.hasExplicitRef(target) ? c.ref : nil
            return try listCommitOperation(repo: c.repo, branch: branch, all: all, number: number)
        }
    }

    struct InspectCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "commit",
            abstract: "Show a commit's details.",
            discussion: """
                Examples:
                  pfs inspect commit data@master
                  pfs inspect commit data@master^
                  pfs inspect commit data@3f2a9c1e --raw
                """)

        @Argument(help: ArgumentHelp("The commit, as repo@ref.", valueName: "repo@ref")) var target: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let c = try commitWithoutPath(target, command: "inspect commit")
            return .inspectCommit(repo: c.repo, ref: c.ref)
        }
    }

    struct DeleteCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "commit",
            abstract: "Delete a commit that has no children.",
            discussion: """
                A branch whose head it was moves back to the commit's parent. An open commit is discarded.

                Examples:
                  pfs delete commit data@master
                  pfs delete commit data@3f2a9c1e
                """)

        @Argument(help: ArgumentHelp("The commit, as repo@ref.", valueName: "repo@ref")) var target: String
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation {
            let c = try commitWithoutPath(target, command: "delete commit")
            return .deleteCommit(repo: c.repo, ref: c.ref)
        }
    }

    struct WaitCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "commit",
            abstract: "Wait until a commit and its whole commit set are finished.",
            discussion: """
                Blocks until the commit and every commit of its commit set (the pipeline outputs computed from \
                it) are finished, then prints them as `list commit` does.

                Examples:
                  pfs wait commit data@master
                  pfs wait commit data@3f2a9c1e --timeout 5m
                """)

        @Argument(help: ArgumentHelp("The commit, as repo@ref.", valueName: "repo@ref")) var target: String
        @Option(help: ArgumentHelp("Give up after this long (30, 30s, 5m, 1h); default: wait forever.", valueName: "duration"))
        var timeout: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let c = try commitWithoutPath(target, command: "wait commit")
            return .waitCommits([c], timeoutSeconds: try CommandArguments.timeout(timeout))
        }
    }

    // MARK: 1.x spellings

    struct LegacyStartCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "start-commit",
            abstract: "Start a commit and print its id (1.x spelling of `start commit`).",
            discussion: """
                The branch defaults to master.

                Examples:
                  pfs start-commit data master
                  pachctl start-commit data patch -p master
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The branch (default: master).") var branch: String = "master"
        @Option(name: [.customShort("p"), .customLong("parent")], help: ArgumentHelp("The parent commit.", valueName: "ref"))
        var parent: String?
        @OptionGroup var message: CommitMessageOption
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let b = try CommandArguments.legacyBranch(repo: repo, branch: branch)
            return .startCommit(repo: b.repo, branch: b.branch, parent: try CommandArguments.ref(parent),
                                description: message.message)
        }
    }

    struct LegacyFinishCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "finish-commit",
            abstract: "Finish an open commit (1.x spelling of `finish commit`).",
            discussion: """
                Examples:
                  pfs finish-commit data master
                  pachctl finish-commit data 3f2a9c1e -m "import done"
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The commit: its branch or id.") var commit: String
        @OptionGroup var message: CommitMessageOption
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let c = try CommandArguments.legacy(repo: repo, ref: commit)
            return .finishCommit(repo: c.repo, ref: c.ref, description: message.message)
        }
    }

    struct LegacyListCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-commit",
            abstract: "List commits, newest first (1.x spelling of `list commit`).",
            discussion: """
                Examples:
                  pfs list-commit data
                  pachctl list-commit data master -n 10
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The branch (default: master's history, or every commit without master).") var branch: String?
        @Flag(name: [.customShort("a"), .customLong("all")], help: "List the commits of every branch.") var all = false
        @Option(name: [.customShort("n"), .customLong("number")], help: "List at most this many commits.") var number: Int?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            try Names.validateRepo(repo)
            let ref = try branch.map { try CommandArguments.legacy(repo: repo, ref: $0).ref }
            return try listCommitOperation(repo: repo, branch: ref, all: all, number: number)
        }
    }

    struct LegacyInspectCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect-commit",
            abstract: "Show a commit's details (1.x spelling of `inspect commit`).",
            discussion: """
                Examples:
                  pfs inspect-commit data master
                  pachctl inspect-commit data 3f2a9c1e --raw
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The commit: a branch, an id or prefix, or an ancestor such as master^.") var commit: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let c = try CommandArguments.legacy(repo: repo, ref: commit)
            return .inspectCommit(repo: c.repo, ref: c.ref)
        }
    }

    struct LegacyDeleteCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-commit",
            abstract: "Delete a commit that has no children (1.x spelling of `delete commit`).",
            discussion: """
                Examples:
                  pfs delete-commit data 3f2a9c1e
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The commit: a branch or an id.") var commit: String
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation {
            let c = try CommandArguments.legacy(repo: repo, ref: commit)
            return .deleteCommit(repo: c.repo, ref: c.ref)
        }
    }

    struct LegacyFlushCommit: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "flush-commit",
            abstract: "Wait until commits and their commit sets are finished (1.x spelling of `wait commit`).",
            discussion: """
                Takes repo@commit, repo/commit (as Pachyderm 1.x wrote it) or the pair "repo commit"; several \
                commits may be given. Prints the finished commit sets as `list commit` does.

                Examples:
                  pfs flush-commit data@master
                  pachctl flush-commit data/3f2a9c1e
                  pachctl flush-commit data master --timeout 10m
                """)

        @Argument(help: ArgumentHelp("The commits.", valueName: "repo@commit")) var commits: [String]
        @Option(help: ArgumentHelp("Give up after this long (30, 30s, 5m, 1h); default: wait forever.", valueName: "duration"))
        var timeout: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            .waitCommits(try CommandArguments.flushTargets(commits), timeoutSeconds: try CommandArguments.timeout(timeout))
        }
    }
}

/// `repo@ref` with no `:/path`.
func commitWithoutPath(_ s: String, command: String) throws -> CommitTarget {
    let ref = try CommandArguments.commit(s)
    guard ref.path == nil else {
        throw PFSError.invalid("\(command) takes repo@ref without a path; got \"\(Names.printable(s))\"")
    }
    return CommitTarget(repo: ref.repo, ref: ref.refString)
}

func listCommitOperation(repo: String, branch: String?, all: Bool, number: Int?) throws -> CLIOperation {
    if let number, number < 0 {
        throw PFSError.invalid("-n must be a positive number of commits")
    }
    if all && branch != nil {
        throw PFSError.invalid("--all lists every branch; leave out the branch, or leave out --all")
    }
    return .listCommits(repo: repo, branch: branch, all: all, limit: number.flatMap { $0 == 0 ? nil : $0 })
}

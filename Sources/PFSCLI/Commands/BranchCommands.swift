import ArgumentParser
import PFSCore

// Branches: `create branch` / `create-branch` / `set-branch`, `list branch` / `list-branch`,
// `inspect branch`, `delete branch` / `delete-branch`.

extension PFSCommand {
    struct CreateBranch: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "branch",
            abstract: "Create a branch, or move an existing one with --head.",
            discussion: """
                Without --head the new branch is empty. With --head it points at that commit (a branch, an id \
                or unique prefix, or an ancestor such as master^ or master~2); an existing branch is moved.

                Examples:
                  pfs create branch data@staging
                  pfs create branch data@release --head master
                  pfs create branch data@rollback --head master~3
                """)

        @Argument(help: ArgumentHelp("The branch, as repo@branch.", valueName: "repo@branch")) var target: String
        @Option(help: ArgumentHelp("The commit the branch points at.", valueName: "ref")) var head: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let b = try CommandArguments.branch(target, command: "create branch")
            return .createBranch(repo: b.repo, branch: b.branch, head: try CommandArguments.head(head, repo: b.repo))
        }
    }

    struct ListBranch: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "branch",
            abstract: "List a repo's branches.",
            discussion: """
                Prints BRANCH and HEAD (the head commit's id, "-" for a branch with no commits).

                Examples:
                  pfs list branch data
                """)

        @Argument(help: "The repo.") var repo: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            try Names.validateRepo(repo)
            return .listBranches(repo: repo)
        }
    }

    struct InspectBranch: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "branch",
            abstract: "Show a branch's details.",
            discussion: """
                Examples:
                  pfs inspect branch data@master
                """)

        @Argument(help: ArgumentHelp("The branch, as repo@branch.", valueName: "repo@branch")) var target: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let b = try CommandArguments.branch(target, command: "inspect branch")
            return .inspectBranch(repo: b.repo, branch: b.branch)
        }
    }

    struct DeleteBranch: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "branch",
            abstract: "Delete a branch (its commits stay reachable by id).",
            discussion: """
                Examples:
                  pfs delete branch data@staging
                """)

        @Argument(help: ArgumentHelp("The branch, as repo@branch.", valueName: "repo@branch")) var target: String
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation {
            let b = try CommandArguments.branch(target, command: "delete branch")
            return .deleteBranch(repo: b.repo, branch: b.branch)
        }
    }

    // MARK: 1.x spellings

    struct LegacyCreateBranch: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-branch",
            abstract: "Create a branch (1.x spelling of `create branch`).",
            discussion: """
                Examples:
                  pfs create-branch data staging
                  pachctl create-branch data release --head master
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The branch name.") var branch: String
        @Option(help: ArgumentHelp("The commit the branch points at.", valueName: "ref")) var head: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let b = try CommandArguments.legacyBranch(repo: repo, branch: branch)
            return .createBranch(repo: b.repo, branch: b.branch, head: try CommandArguments.head(head, repo: b.repo))
        }
    }

    struct LegacySetBranch: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-branch",
            abstract: "Point a branch at a commit, creating it if needed (1.x).",
            discussion: """
                The same as `create branch repo@branch --head commit`.

                Examples:
                  pfs set-branch data 3f2a9c1e master
                  pachctl set-branch data master~1 rollback
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The commit (a branch, an id or prefix, or an ancestor such as master^).") var commit: String
        @Argument(help: "The branch name.") var branch: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let b = try CommandArguments.legacyBranch(repo: repo, branch: branch)
            let head = try CommandArguments.legacy(repo: repo, ref: commit)
            return .createBranch(repo: b.repo, branch: b.branch, head: head.ref)
        }
    }

    struct LegacyListBranch: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-branch",
            abstract: "List a repo's branches (1.x spelling of `list branch`).",
            discussion: """
                Examples:
                  pfs list-branch data
                """)

        @Argument(help: "The repo.") var repo: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            try Names.validateRepo(repo)
            return .listBranches(repo: repo)
        }
    }

    struct LegacyDeleteBranch: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-branch",
            abstract: "Delete a branch (1.x spelling of `delete branch`).",
            discussion: """
                Examples:
                  pfs delete-branch data staging
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The branch name.") var branch: String
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation {
            let b = try CommandArguments.legacyBranch(repo: repo, branch: branch)
            return .deleteBranch(repo: b.repo, branch: b.branch)
        }
    }
}

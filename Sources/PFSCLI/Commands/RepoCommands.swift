import ArgumentParser
import PFSCore

// Repos: `create repo` / `create-repo`, `update repo` / `update-repo`, `list repo` / `list-repo`,
// `inspect repo` / `inspect-repo`, `delete repo` / `delete-repo`.
// Each pair shares its CLIOperation; the structs only differ in name and help.

extension PFSCommand {
    struct CreateRepo: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "repo",
            abstract: "Create a new repo.",
            discussion: """
                A new repo has no branches until its first commit or `create branch`, as in Pachyderm. \
                Repo names use letters, digits, '_' and '-'.

                Examples:
                  pfs create repo data
                  pfs create repo images -d "raw camera images"
                """)

        @Argument(help: "The name of the repo.") var name: String
        @Option(name: [.customShort("d"), .customLong("description")], help: "A description of the repo.")
        var description: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            try Names.validateRepo(name)
            return .createRepo(name: name, description: description, update: false)
        }
    }

    struct UpdateRepo: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "repo",
            abstract: "Change a repo's description.",
            discussion: """
                Examples:
                  pfs update repo data -d "sales data, one file per day"
                """)

        @Argument(help: "The name of the repo.") var name: String
        @Option(name: [.customShort("d"), .customLong("description")], help: "The new description.")
        var description: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            try Names.validateRepo(name)
            return .createRepo(name: name, description: description, update: true)
        }
    }

    struct ListRepo: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "repo",
            abstract: "List repos.",
            discussion: """
                Prints NAME, CREATED, SIZE (MASTER) and DESCRIPTION, sorted by name.

                Examples:
                  pfs list repo
                  pfs list repo --raw
                """)

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .listRepos }
    }

    struct InspectRepo: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "repo",
            abstract: "Show a repo's details.",
            discussion: """
                Examples:
                  pfs inspect repo data
                  pfs inspect repo data -o json
                """)

        @Argument(help: "The name of the repo.") var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            try Names.validateRepo(name)
            return .inspectRepo(name)
        }
    }

    struct DeleteRepo: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "repo",
            abstract: "Delete repos.",
            discussion: """
                Deletes the repo with its branches and commits (`pfs gc` frees their data). A repo whose commits \
                are a pipeline's inputs is only deleted with --force. --all deletes every repo.

                Examples:
                  pfs delete repo scratch
                  pfs delete repo data --force
                  pfs delete repo --all --force
                """)

        @Argument(help: "The repos to delete.") var names: [String] = []
        @Flag(name: [.customShort("f"), .customLong("force")], help: "Delete the repo even if other repos' commits were computed from it.")
        var force = false
        @Flag(name: [.customShort("a"), .customLong("all")], help: "Delete all repos.")
        var all = false
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation { try deleteRepoOperation(names: names, all: all, force: force) }
    }

    // MARK: 1.x spellings

    struct LegacyCreateRepo: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-repo",
            abstract: "Create a new repo (1.x spelling of `create repo`).",
            discussion: """
                Examples:
                  pfs create-repo data
                  pachctl create-repo images -d "raw camera images"
                """)

        @Argument(help: "The name of the repo.") var name: String
        @Option(name: [.customShort("d"), .customLong("description")], help: "A description of the repo.")
        var description: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            try Names.validateRepo(name)
            return .createRepo(name: name, description: description, update: false)
        }
    }

    struct LegacyUpdateRepo: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "update-repo",
            abstract: "Change a repo's description (1.x spelling of `update repo`).",
            discussion: """
                Examples:
                  pfs update-repo data -d "sales data"
                """)

        @Argument(help: "The name of the repo.") var name: String
        @Option(name: [.customShort("d"), .customLong("description")], help: "The new description.")
        var description: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            try Names.validateRepo(name)
            return .createRepo(name: name, description: description, update: true)
        }
    }

    struct LegacyListRepo: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-repo",
            abstract: "List repos (1.x spelling of `list repo`).",
            discussion: """
                Examples:
                  pfs list-repo
                  pachctl list-repo --raw
                """)

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .listRepos }
    }

    struct LegacyInspectRepo: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect-repo",
            abstract: "Show a repo's details (1.x spelling of `inspect repo`).",
            discussion: """
                Examples:
                  pfs inspect-repo data
                  pachctl inspect-repo data --raw
                """)

        @Argument(help: "The name of the repo.") var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            try Names.validateRepo(name)
            return .inspectRepo(name)
        }
    }

    struct LegacyDeleteRepo: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-repo",
            abstract: "Delete repos (1.x spelling of `delete repo`).",
            discussion: """
                Examples:
                  pfs delete-repo scratch
                  pachctl delete-repo --all --force
                """)

        @Argument(help: "The repos to delete.") var names: [String] = []
        @Flag(name: [.customShort("f"), .customLong("force")], help: "Delete the repo even if other repos' commits were computed from it.")
        var force = false
        @Flag(name: [.customShort("a"), .customLong("all")], help: "Delete all repos.")
        var all = false
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation { try deleteRepoOperation(names: names, all: all, force: force) }
    }
}

func deleteRepoOperation(names: [String], all: Bool, force: Bool) throws -> CLIOperation {
    if all && !names.isEmpty {
        throw PFSError.invalid("name repos or give --all, not both")
    }
    if !all && names.isEmpty {
        throw PFSError.invalid("name the repo to delete (or give --all to delete every repo)")
    }
    for name in names { try Names.validateRepo(name) }
    return .deleteRepos(DeleteRepoRequest(names: names, all: all, force: force))
}

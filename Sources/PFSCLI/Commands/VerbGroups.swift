import ArgumentParser

// The 2.x verbs: `pfs <verb> <noun> …`. Each verb only groups its nouns; without a noun it prints its help.

extension PFSCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a repo or a branch.",
            discussion: """
                Examples:
                  pfs create repo data
                  pfs create branch data@staging --head master
                """,
            subcommands: [CreateRepo.self, CreateBranch.self])
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Update a repo's description.",
            discussion: """
                Examples:
                  pfs update repo data -d "sales data"
                """,
            subcommands: [UpdateRepo.self])
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List repos, branches, commits or files.",
            discussion: """
                Examples:
                  pfs list repo
                  pfs list branch data
                  pfs list commit data@master
                  pfs list file data@master:/raw
                """,
            subcommands: [ListRepo.self, ListBranch.self, ListCommit.self, ListFile.self])
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the details of a repo, branch, commit or file.",
            discussion: """
                Examples:
                  pfs inspect repo data
                  pfs inspect commit data@master^
                  pfs inspect file data@master:/sales.csv
                """,
            subcommands: [InspectRepo.self, InspectBranch.self, InspectCommit.self, InspectFile.self])
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a repo, branch, commit or file.",
            discussion: """
                Examples:
                  pfs delete repo scratch --force
                  pfs delete branch data@staging
                  pfs delete commit data@master
                  pfs delete file data@master:/old.csv
                """,
            subcommands: [DeleteRepo.self, DeleteBranch.self, DeleteCommit.self, DeleteFile.self])
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a commit.",
            discussion: """
                Examples:
                  pfs start commit data@master
                """,
            subcommands: [StartCommit.self])
    }

    struct Finish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Finish a commit.",
            discussion: """
                Examples:
                  pfs finish commit data@master
                """,
            subcommands: [FinishCommit.self])
    }

    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wait for a commit set to finish.",
            discussion: """
                Examples:
                  pfs wait commit data@master
                """,
            subcommands: [WaitCommit.self])
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put files into a branch.",
            discussion: """
                Examples:
                  pfs put file data@master:/sales.csv -f sales.csv
                """,
            subcommands: [PutFile.self])
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Get a file's content.",
            discussion: """
                Examples:
                  pfs get file data@master:/sales.csv
                """,
            subcommands: [GetFile.self])
    }

    struct Glob: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List files matching a pattern.",
            discussion: """
                Examples:
                  pfs glob file 'data@master:/*.csv'
                """,
            subcommands: [GlobFile.self])
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two commits.",
            discussion: """
                Examples:
                  pfs diff file data@master
                """,
            subcommands: [DiffFile.self])
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy files by reference.",
            discussion: """
                Examples:
                  pfs copy file data@master:/a.csv data@master:/b.csv
                """,
            subcommands: [CopyFile.self])
    }
}

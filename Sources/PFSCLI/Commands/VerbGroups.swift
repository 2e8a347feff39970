import ArgumentParser

// The 2.x verbs: `pfs <verb> <noun> …`. Each verb only groups its nouns; without a noun it prints its help.

extension PFSCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create a repo, a branch, a pipeline or a secret.",
            discussion: """
                Examples:
                  pfs create repo data
                  pfs create branch data@staging --head master
                  pfs create pipeline -f edges.json
                  pfs create secret -f secret.json
                """,
            subcommands: [CreateRepo.self, CreateBranch.self, CreatePipeline.self, CreateSecret.self])
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update",
            abstract: "Update a repo's description or a pipeline's spec.",
            discussion: """
                Examples:
                  pfs update repo data -d "sales data"
                  pfs update pipeline -f edges.json --reprocess
                """,
            subcommands: [UpdateRepo.self, UpdatePipeline.self])
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List repos, branches, commits, files, pipelines, jobs or datums.",
            discussion: """
                Examples:
                  pfs list repo
                  pfs list branch data
                  pfs list commit data@master
                  pfs list file data@master:/raw
                  pfs list pipeline
                  pfs list job -p edges
                  pfs list datum edges@3f2a9c1e
                """,
            subcommands: [ListRepo.self, ListBranch.self, ListCommit.self, ListFile.self, ListPipeline.self, ListJob.self,
                          ListDatum.self, ListSecret.self])
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect",
            abstract: "Show the details of a repo, branch, commit, file, pipeline, job or datum.",
            discussion: """
                Examples:
                  pfs inspect repo data
                  pfs inspect commit data@master^
                  pfs inspect file data@master:/sales.csv
                  pfs inspect pipeline edges
                  pfs inspect job edges@3f2a9c1e --raw
                  pfs inspect datum edges@3f2a9c1e 9b1c4d2e
                """,
            subcommands: [InspectRepo.self, InspectBranch.self, InspectCommit.self, InspectFile.self, InspectPipeline.self,
                          InspectJob.self, InspectDatum.self, InspectSecret.self])
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete a repo, branch, commit, file or pipeline.",
            discussion: """
                Examples:
                  pfs delete repo scratch --force
                  pfs delete branch data@staging
                  pfs delete commit data@master
                  pfs delete file data@master:/old.csv
                  pfs delete pipeline edges
                """,
            subcommands: [DeleteRepo.self, DeleteBranch.self, DeleteCommit.self, DeleteFile.self, DeletePipeline.self, DeleteSecret.self])
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start",
            abstract: "Start a commit, or restart a stopped pipeline.",
            discussion: """
                Examples:
                  pfs start commit data@master
                  pfs start pipeline edges
                """,
            subcommands: [StartCommit.self, StartPipeline.self])
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop",
            abstract: "Stop a pipeline or a job.",
            discussion: """
                Examples:
                  pfs stop pipeline edges
                  pfs stop job edges@3f2a9c1e
                """,
            subcommands: [StopPipeline.self, StopJob.self])
    }

    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restart",
            abstract: "Run datums of a job again.",
            discussion: """
                Examples:
                  pfs restart datum edges@3f2a9c1e 9b1c4d2e
                """,
            subcommands: [RestartDatum.self])
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run a pipeline on its current inputs.",
            discussion: """
                Examples:
                  pfs run pipeline edges
                """,
            subcommands: [RunPipeline.self])
    }

    struct Finish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "finish",
            abstract: "Finish a commit.",
            discussion: """
                Examples:
                  pfs finish commit data@master
                """,
            subcommands: [FinishCommit.self])
    }

    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wait",
            abstract: "Wait for a commit set or a job to finish.",
            discussion: """
                Examples:
                  pfs wait commit data@master
                  pfs wait job 3f2a9c1e
                """,
            subcommands: [WaitCommit.self, WaitJob.self])
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "put",
            abstract: "Put files into a branch.",
            discussion: """
                Examples:
                  pfs put file data@master:/sales.csv -f sales.csv
                """,
            subcommands: [PutFile.self])
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Get a file's content.",
            discussion: """
                Examples:
                  pfs get file data@master:/sales.csv
                """,
            subcommands: [GetFile.self])
    }

    struct Glob: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "glob",
            abstract: "List files matching a pattern.",
            discussion: """
                Examples:
                  pfs glob file 'data@master:/*.csv'
                """,
            subcommands: [GlobFile.self])
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Compare two commits.",
            discussion: """
                Examples:
                  pfs diff file data@master
                """,
            subcommands: [DiffFile.self])
    }

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Copy files by reference.",
            discussion: """
                Examples:
                  pfs copy file data@master:/a.csv data@master:/b.csv
                """,
            subcommands: [CopyFile.self])
    }
}

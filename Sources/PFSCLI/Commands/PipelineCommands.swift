import ArgumentParser
import PFSCore

// Pipelines: `create pipeline` / `create-pipeline`, `update pipeline` / `update-pipeline`, `list pipeline` /
// `list-pipeline`, `inspect pipeline` / `inspect-pipeline`, `delete pipeline` / `delete-pipeline`,
// `start pipeline` / `start-pipeline`, `stop pipeline` / `stop-pipeline`, `run pipeline` / `run-pipeline`.

/// `-f SPEC` (repeatable): spec files, `-` for stdin, or http(s) URLs.
struct PipelineSpecFiles: ParsableArguments, Sendable {
    @Option(name: [.customShort("f"), .customLong("file")],
            help: ArgumentHelp("A spec file (JSON or YAML, one or several pipelines), - for stdin, or an http(s) URL; repeatable.",
                               valueName: "spec"))
    var files: [String] = []

    func sources(command: String) throws -> [String] {
        guard !files.isEmpty else {
            throw PFSError.invalid("\(command) needs a spec: -f FILE (or -f - to read it from stdin)")
        }
        return files
    }
}

/// A pipeline name argument, checked like a repo name (the pipeline's output repo has its name).
func pipelineName(_ name: String) throws -> String {
    try Names.validateRepo(name)
    return name
}

func deletePipelinesOperation(names: [String], all: Bool, keepRepo: Bool) throws -> CLIOperation {
    if all && !names.isEmpty { throw PFSError.invalid("--all deletes every pipeline; leave out the names, or leave out --all") }
    if !all && names.isEmpty { throw PFSError.invalid("name the pipelines to delete, or pass --all") }
    return .deletePipelines(names: try names.map(pipelineName), all: all, keepRepo: keepRepo)
}

extension PFSCommand {
    struct CreatePipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipeline",
            abstract: "Create pipelines from spec files.",
            discussion: """
                A spec file holds one pipeline or several (JSON objects one after another, or YAML documents \
                separated by ---), in Pachyderm's 2.x, 1.7 or 1.x format; see docs/pipeline-spec.md. Every \
                file is checked before anything is created. Each new pipeline's first job processes the data \
                already in its inputs; then every commit to an input branch runs a job.

                Examples:
                  pfs create pipeline -f edges.json
                  pfs create pipeline -f filter.yaml -f sum.yaml
                  cat spec.json | pfs create pipeline -f -
                """)

        @OptionGroup var specs: PipelineSpecFiles
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            .createPipelines(CreatePipelineRequest(sources: try specs.sources(command: "create pipeline"), update: false))
        }
    }

    struct UpdatePipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipeline",
            abstract: "Replace pipelines' specs.",
            discussion: """
                The pipeline gets a new version. Datums that already succeeded are not run again (the new code \
                applies to new and changed data) unless --reprocess is given, which runs every datum again \
                now. A pipeline that does not exist is created.

                Examples:
                  pfs update pipeline -f edges.json
                  pfs update pipeline -f edges.json --reprocess
                """)

        @OptionGroup var specs: PipelineSpecFiles
        @Flag(help: "Run every datum again with the new spec, now.") var reprocess = false
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            .createPipelines(CreatePipelineRequest(sources: try specs.sources(command: "update pipeline"), update: true,
                                                   reprocess: reprocess))
        }
    }

    struct ListPipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipeline",
            abstract: "List pipelines.",
            discussion: """
                Prints NAME, VERSION, INPUT (repo:glob, crosses as (a ⨯ b), unions as (a ∪ b), joins as \
                (a ⋈ b)), CREATED, STATE / LAST JOB (the pipeline's state and its newest job's) and DESCRIPTION.

                Examples:
                  pfs list pipeline
                  pfs list pipeline --raw
                """)

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .listPipelines }
    }

    struct InspectPipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipeline",
            abstract: "Show a pipeline: its state, spec and last job.",
            discussion: """
                Examples:
                  pfs inspect pipeline edges
                  pfs inspect pipeline edges --raw
                """)

        @Argument(help: "The pipeline.") var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .inspectPipeline(try pipelineName(name)) }
    }

    struct DeletePipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipeline",
            abstract: "Delete pipelines (and their output repos).",
            discussion: """
                The pipeline's output repo goes with it unless --keep-repo is given.

                Examples:
                  pfs delete pipeline edges
                  pfs delete pipeline edges --keep-repo
                  pfs delete pipeline --all
                """)

        @Argument(help: "The pipelines.") var names: [String] = []
        @Flag(name: .customLong("keep-repo"), help: "Keep the output repo and its commits.") var keepRepo = false
        @Flag(name: [.customShort("a"), .customLong("all")], help: "Delete every pipeline.") var all = false
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation { try deletePipelinesOperation(names: names, all: all, keepRepo: keepRepo) }
    }

    struct StartPipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipeline",
            abstract: "Restart a stopped pipeline.",
            discussion: """
                Commits that arrived while it was stopped are processed, oldest first.

                Examples:
                  pfs start pipeline edges
                """)

        @Argument(help: "The pipeline.") var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .startPipeline(try pipelineName(name)) }
    }

    struct StopPipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipeline",
            abstract: "Stop a pipeline: no new jobs start until `start pipeline`.",
            discussion: """
                A job already running finishes.

                Examples:
                  pfs stop pipeline edges
                """)

        @Argument(help: "The pipeline.") var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .stopPipeline(try pipelineName(name)) }
    }

    struct RunPipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipeline",
            abstract: "Run a job on the current heads of a pipeline's inputs.",
            discussion: """
                Datums that already succeeded are skipped, as in any job; use `update pipeline --reprocess` to \
                run them all again.

                Examples:
                  pfs run pipeline edges
                """)

        @Argument(help: "The pipeline.") var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .runPipeline(try pipelineName(name)) }
    }

    // MARK: 1.x spellings

    struct LegacyCreatePipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-pipeline",
            abstract: "Create pipelines from spec files (1.x spelling of `create pipeline`).",
            discussion: """
                Examples:
                  pachctl create-pipeline -f pipeline.json
                  pachctl create-pipeline -f https://example.com/pipeline.json
                """)

        @OptionGroup var specs: PipelineSpecFiles
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            .createPipelines(CreatePipelineRequest(sources: try specs.sources(command: "create-pipeline"), update: false))
        }
    }

    struct LegacyUpdatePipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "update-pipeline",
            abstract: "Replace pipelines' specs (1.x spelling of `update pipeline`).",
            discussion: """
                Examples:
                  pachctl update-pipeline -f pipeline.json
                  pachctl update-pipeline -f pipeline.json --reprocess
                """)

        @OptionGroup var specs: PipelineSpecFiles
        @Flag(help: "Run every datum again with the new spec, now.") var reprocess = false
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            .createPipelines(CreatePipelineRequest(sources: try specs.sources(command: "update-pipeline"), update: true,
                                                   reprocess: reprocess))
        }
    }

    struct LegacyListPipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-pipeline",
            abstract: "List pipelines (1.x spelling of `list pipeline`).",
            discussion: """
                Examples:
                  pachctl list-pipeline
                """)

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .listPipelines }
    }

    struct LegacyInspectPipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect-pipeline",
            abstract: "Show a pipeline (1.x spelling of `inspect pipeline`).",
            discussion: """
                Examples:
                  pachctl inspect-pipeline filter
                  pachctl inspect-pipeline filter --raw
                """)

        @Argument(help: "The pipeline.") var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .inspectPipeline(try pipelineName(name)) }
    }

    struct LegacyDeletePipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-pipeline",
            abstract: "Delete pipelines (1.x spelling of `delete pipeline`).",
            discussion: """
                Examples:
                  pachctl delete-pipeline filter
                  pachctl delete-pipeline --all
                """)

        @Argument(help: "The pipelines.") var names: [String] = []
        @Flag(name: .customLong("keep-repo"), help: "Keep the output repo and its commits.") var keepRepo = false
        @Flag(name: [.customShort("a"), .customLong("all")], help: "Delete every pipeline.") var all = false
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation { try deletePipelinesOperation(names: names, all: all, keepRepo: keepRepo) }
    }

    struct LegacyStartPipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "start-pipeline",
            abstract: "Restart a stopped pipeline (1.x spelling of `start pipeline`).",
            discussion: """
                Examples:
                  pachctl start-pipeline filter
                """)

        @Argument(help: "The pipeline.") var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .startPipeline(try pipelineName(name)) }
    }

    struct LegacyStopPipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop-pipeline",
            abstract: "Stop a pipeline (1.x spelling of `stop pipeline`).",
            discussion: """
                Examples:
                  pachctl stop-pipeline filter
                """)

        @Argument(help: "The pipeline.") var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .stopPipeline(try pipelineName(name)) }
    }

    struct LegacyRunPipeline: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "run-pipeline",
            abstract: "Run a job on the current inputs (1.x spelling of `run pipeline`).",
            discussion: """
                Examples:
                  pachctl run-pipeline filter
                """)

        @Argument(help: "The pipeline.") var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .runPipeline(try pipelineName(name)) }
    }
}

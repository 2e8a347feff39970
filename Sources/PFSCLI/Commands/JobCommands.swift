import ArgumentParser
import PFSCore

// Jobs, datums and logs: `list job` / `list-job`, `inspect job` / `inspect-job`, `wait job`, `stop job` /
// `stop-job`, `list datum` / `list-datum`, `inspect datum` / `inspect-datum`, `restart datum` / `restart-datum`,
// `logs` / `get-logs`.

extension CommandArguments {
    /// `PIPELINE@ID` or a bare `ID` (hex, possibly a prefix).
    public static func job(_ s: String) throws -> JobTarget {
        var pipeline: String?
        var id = s
        if let at = s.firstIndex(of: "@") {
            pipeline = try pipelineName(String(s[..<at]))
            id = String(s[s.index(after: at)...])
        }
        return JobTarget(pipeline: pipeline, id: try jobID(id))
    }

    /// A job id or a prefix of one: hex digits.
    public static func jobID(_ s: String, what: String = "job id") throws -> String {
        guard !s.isEmpty, s.utf8.count <= 64, s.allSatisfy(\.isHexDigit) else {
            let hint = what == "job id" ? "a job id is the hex id of its commit set (or a prefix of it), as `pfs list job` prints it"
                : "write the hex id (or a prefix of it) as `pfs list datum` prints it"
            throw PFSError.invalid("invalid \(what) \"\(Names.printable(s))\": \(hint)")
        }
        return s.lowercased()
    }
}

/// `-p PIPELINE` of `list job`.
func optionalPipeline(_ name: String?) throws -> String? {
    try name.map(pipelineName)
}

extension PFSCommand {
    struct ListJob: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "job",
            abstract: "List jobs, newest first.",
            discussion: """
                Prints ID (the commit set's id: the output commit has it too), PIPELINE, STARTED, DURATION, STATE \
                (starting, running, success, failure, killed) and DATUMS as processed/skipped/failed/total.

                Examples:
                  pfs list job
                  pfs list job -p edges
                  pfs list job --raw
                """)

        @Option(name: [.customShort("p"), .customLong("pipeline")], help: "Only this pipeline's jobs.") var pipeline: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .listJobs(pipeline: try optionalPipeline(pipeline)) }
    }

    struct InspectJob: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "job",
            abstract: "Show a job: its state, datum counts, input and output commits.",
            discussion: """
                Name the job as PIPELINE@ID, or by ID alone: an id is a commit set's, so a bare id shows the \
                jobs of every pipeline that ran on it (with --raw: one JSON object if there is one job, an \
                array if there are several). The id may be a unique prefix.

                Examples:
                  pfs inspect job edges@3f2a9c1e
                  pfs inspect job 3f2a9c1e4b5d6e7f
                  pfs inspect job edges@3f2a9c1e --raw
                """)

        @Argument(help: ArgumentHelp("The job.", valueName: "pipeline@id | id")) var job: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .inspectJob(try CommandArguments.job(job)) }
    }

    struct WaitJob: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "job",
            abstract: "Wait until a job, and every job of its commit set, has finished.",
            discussion: """
                Waits for the whole commit set (so downstream pipelines' jobs on the same data too), then prints \
                the jobs as `list job` does. The exit status is 0 whatever the jobs' states; read STATE, or \
                `inspect job --raw`.

                Examples:
                  pfs wait job 3f2a9c1e
                  pfs wait job edges@3f2a9c1e --timeout 10m
                """)

        @Argument(help: ArgumentHelp("The job.", valueName: "pipeline@id | id")) var job: String
        @Option(help: ArgumentHelp("Give up after this long (30, 30s, 5m, 1h); default: wait forever.", valueName: "duration"))
        var timeout: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            .waitJob(try CommandArguments.job(job), timeoutSeconds: try CommandArguments.timeout(timeout))
        }
    }

    struct ListDatum: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "datum",
            abstract: "List a job's datums.",
            discussion: """
                Prints ID, FILES (input:path for each path the datum shows), STATE (success, failed, skipped, \
                recovered; while the job runs also starting and running), ATTEMPTS and TIME. A bare job id works \
                when only one pipeline has a job with it. `pfs inspect datum` shows one datum in full.

                Examples:
                  pfs list datum edges@3f2a9c1e
                  pfs list datum edges@3f2a9c1e --raw
                """)

        @Argument(help: ArgumentHelp("The job.", valueName: "pipeline@job")) var job: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .listDatums(try CommandArguments.job(job)) }
    }

    struct StopJob: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "job",
            abstract: "Stop a running job: kill its datums and end it as killed.",
            discussion: """
                The commands of the datums running now are killed (their sandboxes end), no other datum starts, \
                and the job ends in state killed. Its output commit finishes, so the commit set completes and \
                `wait commit` returns: it holds the outputs of the datums that finished before the stop (as a \
                failed job's does), and its description says the job was killed. Datums cut short or never \
                started are listed as failed; the pipeline's next job runs them. The pipeline keeps running: its \
                next jobs run as usual (`pfs stop pipeline` pauses it instead).

                A bare ID stops every unfinished job of that commit set. A job that has not started yet (an \
                earlier job of its pipeline still runs) is recorded killed, without running, when its turn comes. \
                Stopping a finished job is an error. Prints the jobs as `list job` does, once they have ended.

                Examples:
                  pfs stop job edges@3f2a9c1e
                  pfs stop job 3f2a9c1e4b5d6e7f
                  pachctl stop-job 3f2a9c1e4b5d6e7f
                """,)

        @Argument(help: ArgumentHelp("The job.", valueName: "pipeline@id | id")) var job: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .stopJob(try CommandArguments.job(job)) }
    }

    struct InspectDatum: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "datum",
            abstract: "Show one datum of a job: state, tries, timings, input files, log and outputs.",
            discussion: """
                Shows the datum's state (as `list datum`), its attempts, when it started and finished, why it \
                failed, each input file or directory it shows (input, repo, path, commit, content hash), where its \
                log is and the command that prints it, and the outputs it contributes to the pipeline's output now \
                (kept per datum: after a later job ran it again, that run's). The datum id may be a unique prefix.

                Examples:
                  pfs inspect datum edges@3f2a9c1e 9b1c4d2e
                  pfs inspect datum edges@3f2a9c1e 9b1c4d2e --raw
                  pachctl inspect-datum edges@3f2a9c1e 9b1c4d2e
                """,)

        @Argument(help: ArgumentHelp("The job.", valueName: "pipeline@job")) var job: String
        @Argument(help: ArgumentHelp("The datum (an id or unique prefix, as `pfs list datum` prints it).", valueName: "datum-id"))
        var datum: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            .inspectDatum(try CommandArguments.job(job), datum: try CommandArguments.jobID(datum, what: "datum id"))
        }
    }

    struct RestartDatum: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "datum",
            abstract: "Run datums of a job again: a stuck running one, or failed ones.",
            discussion: """
                Name datums by id (or unique prefix), or as pachctl does by input paths: an argument with a / is \
                a comma-separated list of paths (or content hashes), and names every datum whose files include \
                all of them.

                While the job runs: a running datum's command is killed and started again (the killed attempt \
                does not count against datum_tries) — pachctl's "restart a stuck datum"; a datum that already \
                failed in this job runs again, with new tries, before the job ends; one not started yet runs \
                anyway. Once the job has finished: if it is the pipeline's newest job, a new job of the pipeline \
                starts on its current inputs, and every failed datum of the job runs again in it (what succeeded \
                is skipped); if a newer job exists it has already run them again, and this is an error. A datum \
                that succeeded or was skipped cannot be restarted.

                Examples:
                  pfs restart datum edges@3f2a9c1e 9b1c4d2e
                  pfs restart datum edges@3f2a9c1e 9b1c 77aa
                  pfs restart datum edges@3f2a9c1e /images/a.png,/labels/a.txt
                  pachctl restart-datum edges@3f2a9c1e /images/a.png
                """,)

        @Argument(help: ArgumentHelp("The job.", valueName: "pipeline@job")) var job: String
        @Argument(help: ArgumentHelp("Datum ids (or prefixes), or comma-separated input paths.", valueName: "datum"))
        var datums: [String]
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { try Self.operation(job: job, datums: datums) }

        static func operation(job: String, datums: [String]) throws -> CLIOperation {
            guard !datums.isEmpty else {
                throw PFSError.invalid("name the datums to restart: ids from `pfs list datum \(job)`, or input paths")
            }
            return .restartDatums(try CommandArguments.job(job), datums: try datums.map {
                $0.contains("/") ? $0 : try CommandArguments.jobID($0, what: "datum id")
            })
        }
    }

    struct Logs: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "logs",
            abstract: "Print a pipeline's logs: what its commands wrote to stdout and stderr, datum by datum.",
            discussion: """
                Without --job, the logs of every job of the pipeline, oldest first. Each job's log starts with \
                the scheduler's notes (planning, skipped datums, failures); each datum's with [pfs] lines \
                (attempts, exit codes). --datum takes a datum id or a prefix of one (`pfs list datum`). With \
                -f, new lines are printed as they come until the job (without --job: every running job of the \
                pipeline) has finished.

                Examples:
                  pfs logs --pipeline edges
                  pfs logs -p edges --job 3f2a9c1e -f
                  pfs logs -p edges --job 3f2a9c1e --datum 9b1c
                  pachctl get-logs --pipeline=filter
                """,
            aliases: ["get-logs"])

        @Option(name: [.customShort("p"), .customLong("pipeline")], help: "The pipeline.") var pipeline: String?
        @Option(name: [.customShort("j"), .customLong("job")], help: ArgumentHelp("Only this job (an id or prefix).", valueName: "id"))
        var job: String?
        @Option(help: ArgumentHelp("Only this datum (an id or prefix).", valueName: "id")) var datum: String?
        @Flag(name: [.customShort("f"), .customLong("follow")], help: "Keep printing new lines until the job finishes.")
        var follow = false
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation {
            guard let pipeline else {
                throw PFSError.invalid("logs needs --pipeline NAME (pfs logs --pipeline edges)")
            }
            var jobID: String?
            if let job {
                let t = try CommandArguments.job(job)
                if let p = t.pipeline, p != pipeline {
                    throw PFSError.invalid("--job \(job) names pipeline \"\(p)\" but --pipeline is \"\(pipeline)\"")
                }
                jobID = t.id
            }
            return .logs(LogsRequest(pipeline: try pipelineName(pipeline), job: jobID,
                                     datum: try datum.map { try CommandArguments.jobID($0, what: "datum id") }, follow: follow))
        }
    }

    // MARK: 1.x spellings

    struct LegacyListJob: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-job",
            abstract: "List jobs, newest first (1.x spelling of `list job`).",
            discussion: """
                Examples:
                  pachctl list-job
                  pachctl list-job -p filter
                """)

        @Option(name: [.customShort("p"), .customLong("pipeline")], help: "Only this pipeline's jobs.") var pipeline: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .listJobs(pipeline: try optionalPipeline(pipeline)) }
    }

    struct LegacyInspectJob: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect-job",
            abstract: "Show a job (1.x spelling of `inspect job`).",
            discussion: """
                Examples:
                  pachctl inspect-job 3f2a9c1e4b5d6e7f
                  pachctl inspect-job filter@3f2a9c1e --raw
                """)

        @Argument(help: ArgumentHelp("The job.", valueName: "id | pipeline@id")) var job: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .inspectJob(try CommandArguments.job(job)) }
    }

    struct LegacyStopJob: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop-job",
            abstract: "Stop a running job (1.x spelling of `stop job`).",
            discussion: """
                Examples:
                  pachctl stop-job 3f2a9c1e4b5d6e7f
                  pachctl stop-job filter@3f2a9c1e
                """)

        @Argument(help: ArgumentHelp("The job.", valueName: "id | pipeline@id")) var job: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .stopJob(try CommandArguments.job(job)) }
    }

    struct LegacyInspectDatum: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect-datum",
            abstract: "Show one datum of a job (1.x spelling of `inspect datum`).",
            discussion: """
                Examples:
                  pachctl inspect-datum 3f2a9c1e4b5d6e7f 9b1c4d2e
                  pachctl inspect-datum filter@3f2a9c1e 9b1c4d2e --raw
                """)

        @Argument(help: ArgumentHelp("The job.", valueName: "id | pipeline@id")) var job: String
        @Argument(help: ArgumentHelp("The datum (an id or unique prefix).", valueName: "datum-id")) var datum: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            .inspectDatum(try CommandArguments.job(job), datum: try CommandArguments.jobID(datum, what: "datum id"))
        }
    }

    struct LegacyRestartDatum: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "restart-datum",
            abstract: "Run datums of a job again (1.x spelling of `restart datum`).",
            discussion: """
                Examples:
                  pachctl restart-datum 3f2a9c1e4b5d6e7f /images/a.png
                  pachctl restart-datum filter@3f2a9c1e 9b1c4d2e
                """)

        @Argument(help: ArgumentHelp("The job.", valueName: "id | pipeline@id")) var job: String
        @Argument(help: ArgumentHelp("Datum ids (or prefixes), or comma-separated input paths.", valueName: "datum"))
        var datums: [String]
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            try RestartDatum.operation(job: job, datums: datums)
        }
    }

    struct LegacyListDatum: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-datum",
            abstract: "List a job's datums (1.x spelling of `list datum`).",
            discussion: """
                Examples:
                  pachctl list-datum 3f2a9c1e4b5d6e7f
                  pachctl list-datum filter@3f2a9c1e
                """)

        @Argument(help: ArgumentHelp("The job.", valueName: "id | pipeline@id")) var job: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .listDatums(try CommandArguments.job(job)) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import PFSCore

/// The `pfs` command line, also installed as `pachctl` so Pachyderm's docs run verbatim.
///
/// Both executables call `await PFSCommand.runMain()`, which parses, runs, reports errors as `pfs: <message>`
/// and exits with a `PFSExitCode`.
public struct PFSCommand: AsyncParsableCommand {
    public init() {}

    /// `pachctl` when invoked under that name, so help and usage lines match what the user typed.
    static var invokedName: String {
        let argv0 = CommandLine.arguments.first ?? "pfs"
        let base = argv0.split(separator: "/").last.map(String.init) ?? argv0
        return base == "pachctl" ? "pachctl" : "pfs"
    }

    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: invokedName,
            abstract: "Version control for data with pipelines: repos, commits, files, pipelines and jobs (Pachyderm's pachctl verbs).",
            discussion: """
                Both spellings of Pachyderm's CLI work: 2.x (verb then noun, e.g. `pfs list commit data@master`) and \
                the 1.x hyphenated commands (e.g. `pfs list-commit data master`). 2.x `put file` replaces files \
                (-a appends); 1.x `put-file` appends (-o replaces), as Pachyderm did.

                Commits are named repo@branch, repo@<id or unique prefix>, repo@branch^ or repo@branch~N; files \
                as repo@ref:/path. Output is a table; --raw or -o json prints JSON.

                The daemon (`pfsmount`) listens on <data-dir>/pfs.sock; the data directory is --data-dir, \
                $PFS_DATA_DIR or ~/.pfs, and --socket / $PFS_SOCKET name the socket directly.

                Exit status: 0 ok, 1 other failure, 2 usage or invalid argument, 3 not found, 4 conflict, \
                5 daemon unreachable, 6 I/O error, 7 timeout, 8 corrupt data. See docs/cli.md.

                Examples:
                  pfs create repo data
                  pfs put file data@master:/sales.csv -f sales.csv
                  pfs list commit data
                  pfs get file data@master:/sales.csv
                  pfs create pipeline -f edges.json
                  pfs list job
                  pfs logs --pipeline edges
                  pachctl put-file data master sales -c -f set1.txt
                  pachctl create-pipeline -f pipeline.json
                """,
            groupedSubcommands: [
                CommandGroup(name: "Pachyderm 2.x (verb noun)", subcommands: [
                    Create.self, Update.self, List.self, Inspect.self, Delete.self,
                    Start.self, Finish.self, Wait.self,
                    Put.self, Get.self, Glob.self, Diff.self, Copy.self,
                    Stop.self, Restart.self, Run.self, Logs.self, Image.self,
                ]),
                CommandGroup(name: "Pachyderm 1.x", subcommands: [
                    LegacyCreateRepo.self, LegacyUpdateRepo.self, LegacyListRepo.self, LegacyInspectRepo.self,
                    LegacyDeleteRepo.self,
                    LegacyCreateBranch.self, LegacySetBranch.self, LegacyListBranch.self, LegacyDeleteBranch.self,
                    LegacyStartCommit.self, LegacyFinishCommit.self, LegacyListCommit.self, LegacyInspectCommit.self,
                    LegacyDeleteCommit.self, LegacyFlushCommit.self,
                    LegacyPutFile.self, LegacyGetFile.self, LegacyListFile.self, LegacyGlobFile.self,
                    LegacyDiffFile.self, LegacyInspectFile.self, LegacyDeleteFile.self, LegacyCopyFile.self,
                    LegacyCreatePipeline.self, LegacyUpdatePipeline.self, LegacyListPipeline.self,
                    LegacyInspectPipeline.self, LegacyDeletePipeline.self, LegacyStartPipeline.self,
                    LegacyStopPipeline.self, LegacyRunPipeline.self,
                    LegacyListJob.self, LegacyInspectJob.self, LegacyStopJob.self, LegacyListDatum.self,
                    LegacyInspectDatum.self, LegacyRestartDatum.self,
                ]),
                CommandGroup(name: "Maintenance", subcommands: [Version.self, Fsck.self, GC.self, Unmount.self]),
            ])
    }

    /// Parses the process's arguments, runs the command and exits.
    public static func runMain() async -> Never {
        let status = await run(arguments: Array(CommandLine.arguments.dropFirst()))
        Glibc.exit(status)
    }

    /// Parses and runs `arguments`; returns the exit status. Never prints a stack trace.
    public static func run(arguments: [String]) async -> Int32 {
        // A closed stdout reader shows up as EPIPE on write (handled quietly), not as a fatal signal.
        signal(SIGPIPE, SIG_IGN)
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(hoistingGlobalOptions(arguments))
        } catch {
            return reportParseError(error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
            return PFSExitCode.success.rawValue
        } catch {
            return report(error)
        }
    }

    /// Options that belong to every command are also accepted before the command (`pfs --data-dir D list repo`),
    /// as pachctl's global flags are: they are moved after it, where the command's option group parses them.
    static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
        var hoisted: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if first == "--data-dir" || first == "--socket" {
                guard rest.count >= 2 else { break }
                hoisted.append(contentsOf: rest.prefix(2))
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--data-dir=") || first.hasPrefix("--socket=") || first == "--raw" {
                hoisted.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard !hoisted.isEmpty else { return arguments }
        var result = Array(rest)
        let end = result.firstIndex(of: "--") ?? result.endIndex
        result.insert(contentsOf: hoisted, at: end)
        return result
    }

    static func reportParseError(_ error: any Error) -> Int32 {
        if exitCode(for: error) == .success {
            // --help, help <command>, --version.
            try? Console.out(fullMessage(for: error) + "\n")
            return PFSExitCode.success.rawValue
        }
        var message = fullMessage(for: error)
        if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
        Console.err("pfs: \(message)\n")
        return PFSExitCode.usage.rawValue
    }

    static func report(_ error: any Error) -> Int32 {
        switch error {
        case is Console.BrokenPipe:
            return PFSExitCode.success.rawValue
        case let e as PFSError:
            Console.err("pfs: \(e.message)\n")
            return PFSExitCode.forCode(e.code).rawValue
        case let e as ExitCode:
            return e.rawValue
        case let e as ValidationError:
            Console.err("pfs: \(e.message)\n")
            return PFSExitCode.usage.rawValue
        default:
            if exitCode(for: error) == .success {
                try? Console.out(fullMessage(for: error) + "\n")
                return PFSExitCode.success.rawValue
            }
            Console.err("pfs: \(String(describing: error))\n")
            return PFSExitCode.failure.rawValue
        }
    }
}

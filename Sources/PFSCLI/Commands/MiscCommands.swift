import ArgumentParser
import PFSCore

// `version`, `fsck`, `gc` / `garbage-collect`.

extension PFSCommand {
    struct Version: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "version",
            abstract: "Print the client's version and, if it is running, the daemon's.",
            discussion: """
                Succeeds even when the daemon is not running (its row then says why it is not reachable).

                Examples:
                  pfs version
                  pfs version --raw
                """)

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .version }
    }

    struct Fsck: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "fsck",
            abstract: "Check the store: every reachable object is present and (unless --fast) hashes correctly.",
            discussion: """
                Exits with status 8 when problems are found and lists them (OBJECT, PROBLEM, REFERENCED BY).

                Examples:
                  pfs fsck
                  pfs fsck --fast
                """)

        @Flag(help: "Check structure only; do not re-hash object contents.") var fast = false
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .fsck(verify: !fast) }
    }

    struct Unmount: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "unmount",
            abstract: "Stop the daemon: store what writers left, finish the commits the mount opened, unmount.",
            discussion: """
                Waits until the daemon has exited. `fusermount3 -u ~/pfs` and `umount ~/pfs` do the same.

                Examples:
                  pfs unmount
                  pfs unmount --data-dir /srv/pfs
                """)

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .unmount }
    }

    struct GC: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove stored objects no commit can reach.",
            discussion: """
                Objects reachable from any commit, open or finished, are kept.

                Examples:
                  pfs gc
                  pachctl garbage-collect
                """,
            aliases: ["garbage-collect"])

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .gc }
    }
}

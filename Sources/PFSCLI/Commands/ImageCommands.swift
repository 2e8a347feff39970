import ArgumentParser
import PFSCore

// Images a pipeline's `transform.image` can name: `image list`, `image alias`, `image unalias`.

extension PFSCommand {
    struct Image: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Images pipelines can run in: the host sandbox and aliases of it.",
            discussion: """
                A pipeline's transform.image must name an image the daemon has. `host` runs the command in a \
                bubblewrap sandbox over this machine's read-only root. A spec written for a Docker image whose \
                commands this machine also has (sh, grep, awk, python3…) runs unchanged once the image name is \
                an alias of host.

                Examples:
                  pfs image alias fruit_stand host
                  pfs image list
                  pfs image unalias fruit_stand
                """,
            subcommands: [ListImages.self, AliasImage.self, UnaliasImage.self])
    }

    struct ListImages: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List images: the built-in ones and the aliases.",
            discussion: """
                Prints NAME, KIND (builtin or alias), RUNS AS (what an alias stands for) and CREATED.

                Examples:
                  pfs image list
                  pfs image list --raw
                """)

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .listImages }
    }

    struct AliasImage: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "alias",
            abstract: "Make an image name stand for a built-in image (host).",
            discussion: """
                Pipelines naming the image then run as the target does. An existing alias of that name is \
                replaced. Aliases are kept in <data-dir>/images.json.

                Examples:
                  pfs image alias fruit_stand host
                  pfs image alias python:3.11-slim host
                """)

        @Argument(help: ArgumentHelp("The image name specs use, e.g. fruit_stand or ubuntu:22.04.", valueName: "name"))
        var name: String
        @Argument(help: ArgumentHelp("The image it stands for: host.", valueName: "target")) var target: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .aliasImage(name: name, target: target) }
    }

    struct UnaliasImage: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "unalias",
            abstract: "Remove an image alias (refused while a pipeline uses it).",
            discussion: """
                Examples:
                  pfs image unalias fruit_stand
                """)

        @Argument(help: ArgumentHelp("The alias.", valueName: "name")) var name: String
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation { .unaliasImage(name) }
    }
}

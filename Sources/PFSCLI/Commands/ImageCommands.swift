import ArgumentParser
import Foundation
import PFSCore

// Images a pipeline's `transform.image` can name: `image list`, `image alias`, `image unalias`, `image import`,
// `image inspect`, `image delete`.

extension PFSCommand {
    struct Image: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "image",
            abstract: "Images pipelines can run in: the host sandbox, imported images, and aliases.",
            discussion: """
                A pipeline's transform.image must name an image the daemon has. `host` runs the command in a \
                bubblewrap sandbox over this machine's read-only root. A spec written for a Docker image whose \
                commands this machine also has (sh, grep, awk, python3…) runs unchanged once the image name is \
                an alias of host.

                An image imported with `pfs image import` (an OCI layout directory, an OCI or docker-save \
                archive, or a rootfs tarball) runs in a container (crun by default); see docs/containers.md.

                Examples:
                  pfs image alias fruit_stand host
                  pfs image import busybox:1.36 ./busybox-oci
                  pfs image list
                  pfs image unalias fruit_stand
                """,
            subcommands: [ListImages.self, AliasImage.self, UnaliasImage.self, ImportImage.self, InspectImage.self, DeleteImage.self])
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
            abstract: "Make an image name stand for host or an imported image.",
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

    struct ImportImage: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import an image: an OCI layout directory, an OCI or docker-save archive, or a rootfs tarball.",
            discussion: """
                NAME without a tag gets :latest; an image of that name is replaced. Layers are checked (sha256, \
                no member may leave the root) and stored once under <data-dir>/images, shared by every image that \
                has them. The path is read by the daemon (same machine). No network is used.

                Examples:
                  pfs image import busybox ./busybox-rootfs.tar
                  pfs image import python:3.11-slim ./python.oci.tar
                  docker save myimage:1 -o my.tar && pfs image import myimage:1 my.tar
                """)

        @Argument(help: ArgumentHelp("The image name specs use, e.g. busybox or pachyderm/opencv:1.0.", valueName: "name"))
        var name: String
        @Argument(help: ArgumentHelp("An OCI layout directory, an OCI/docker-save archive, or a rootfs tarball.", valueName: "path"))
        var path: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            .importImage(name: name, path: URL(fileURLWithPath: path).standardizedFileURL.path)
        }
    }

    struct InspectImage: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect",
            abstract: "Show an imported image: id, layers, config (entrypoint, cmd, env, working dir, user).",
            discussion: """
                Examples:
                  pfs image inspect busybox
                """)

        @Argument(help: ArgumentHelp("The image.", valueName: "name")) var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        /// JSON either way (`--raw` accepted, as for the other inspect verbs).
        func outputFormat() throws -> OutputFormat { _ = try output.format(); return .json }
        func operation() throws -> CLIOperation { .inspectImage(name) }
    }

    struct DeleteImage: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete an imported image (refused while a pipeline uses it); layers no other image has go too.",
            discussion: """
                Examples:
                  pfs image delete busybox:1.36
                """)

        @Argument(help: ArgumentHelp("The image.", valueName: "name")) var name: String
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation { .deleteImage(name) }
    }
}

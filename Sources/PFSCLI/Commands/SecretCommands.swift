import ArgumentParser
import PFSCore

// Secrets for `transform.secrets`: `create secret`, `list secret`, `inspect secret`, `delete secret` (the
// spellings of Pachyderm 2.x's pachctl; Pachyderm 1.x kept secrets in Kubernetes, created with kubectl).

extension PFSCommand {
    struct CreateSecret: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "secret",
            abstract: "Store a secret for pipelines' transform.secrets.",
            discussion: """
                From a Kubernetes Secret file (JSON or YAML, values base64 under "data" or plain text under \
                "stringData"; the name is metadata.name unless NAME is given), or from KEY=VALUE literals. The \
                daemon keeps it under <data-dir>/secrets (0700, files 0600); no command or API call ever shows \
                the values again. A pipeline mounts it as files (mount_path) or reads one key into an \
                environment variable (env_var + key). See docs/secrets.md.

                Examples:
                  pfs create secret -f secret.json
                  pfs create secret db-credentials -f secret.yaml
                  pfs create secret db-credentials --from-literal user=app --from-literal password=s3cr3t
                  pfs create secret db-credentials -f secret.json --overwrite
                """)

        @Argument(help: ArgumentHelp("The secret's name (default: metadata.name of the file).", valueName: "name"))
        var name: String?
        @Option(name: .shortAndLong, help: ArgumentHelp("A Kubernetes Secret file (JSON or YAML); - for stdin.", valueName: "file"))
        var file: String?
        @Option(name: .customLong("from-literal"), parsing: .singleValue,
                help: ArgumentHelp("A key and its value (repeatable).", valueName: "key=value"))
        var literals: [String] = []
        @Flag(help: "Replace a secret of that name.") var overwrite = false
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            guard (file == nil) != literals.isEmpty else {
                throw ValidationError("give either -f FILE (a Kubernetes Secret) or --from-literal KEY=VALUE, not both and not neither")
            }
            if file == nil && name == nil {
                throw ValidationError("name the secret: pfs create secret NAME --from-literal KEY=VALUE")
            }
            if let name { try SecretNames.validate(name) }
            return .createSecret(CreateSecretRequest(name: name, file: file, literals: literals, overwrite: overwrite))
        }
    }

    struct ListSecret: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "secret",
            abstract: "List secrets (names and keys, never values).",
            discussion: """
                Examples:
                  pfs list secret
                  pfs list secret --raw
                """)

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .listSecrets }
    }

    struct InspectSecret: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "secret",
            abstract: "Show a secret's keys and times (never its values).",
            discussion: """
                Examples:
                  pfs inspect secret db-credentials
                """)

        @Argument(help: ArgumentHelp("The secret.", valueName: "name")) var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation { .inspectSecret(name) }
    }

    struct DeleteSecret: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "secret",
            abstract: "Delete a secret (refused while a pipeline uses it).",
            discussion: """
                Examples:
                  pfs delete secret db-credentials
                """)

        @Argument(help: ArgumentHelp("The secret.", valueName: "name")) var name: String
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation { .deleteSecret(name) }
    }
}

/// Secret names as the daemon takes them, checked before anything is sent.
enum SecretNames {
    static func validate(_ name: String) throws {
        let ok = !name.isEmpty && name.utf8.count <= 253 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { $0.value < 128 && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-._".unicodeScalars.contains($0)) }
        guard ok else {
            throw ValidationError("invalid secret name \"\(Names.printable(name))\": use letters, digits, '-', '_' and '.' (not first), e.g. db-credentials")
        }
    }
}

import ArgumentParser

/// `--raw` and `-o/--output json`, for commands whose own flags do not use `-o`.
public struct OutputOptions: ParsableArguments, Sendable {
    public init() {}

    @Flag(name: .customLong("raw"), help: "Print JSON instead of a table (same as -o json).")
    public var raw = false

    @Option(name: [.customShort("o"), .customLong("output")],
            help: ArgumentHelp("Output format: json (default: a human table).", valueName: "format"))
    public var output: String?

    public func format() throws -> OutputFormat { try OutputFormat.resolve(raw: raw, output: output) }
}

/// `--raw` alone, for commands where `-o` means something else (`get file -o FILE`, `put-file -o` = overwrite).
public struct RawOutputOption: ParsableArguments, Sendable {
    public init() {}

    @Flag(name: .customLong("raw"), help: "Print the result as JSON.")
    public var raw = false

    public func format() -> OutputFormat { raw ? .json : .table }
}

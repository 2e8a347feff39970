import PFSCore

/// How results are printed: a human table (the default) or JSON for scripts (`--raw`, `-o json`).
public enum OutputFormat: String, Sendable, Equatable {
    case table
    case json

    /// Combines `--raw` with an `-o/--output` value.
    public static func resolve(raw: Bool, output: String?) throws -> OutputFormat {
        if raw { return .json }
        guard let output else { return .table }
        switch output.lowercased() {
        case "json": return .json
        case "table", "text", "": return .table
        default:
            throw PFSError.invalid("unsupported output format \"\(Names.printable(output))\"; use -o json (or --raw) for JSON, or leave it out for a table")
        }
    }
}

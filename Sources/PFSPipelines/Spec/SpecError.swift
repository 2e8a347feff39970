import PFSCore

/// A pipeline spec that cannot be accepted: which field (`path`, e.g. `input.cross[1].pfs.glob`), what is wrong
/// with it and what to do (`message`), and where it is in the file when that is known.
public struct SpecError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The field's path in the spec, in the spelling the spec used (`input.join[0].pfs.joinOn`); empty for
    /// errors about the file as a whole (syntax errors, an empty file).
    public var path: String
    public var message: String
    /// The file name given to `SpecParser.parse`, if any.
    public var filename: String?
    /// 1-based position of the offending value (or of the object missing a field).
    public var line: Int?
    public var column: Int?

    public init(path: String, message: String, filename: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.path = path
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
    }

    /// `input.cross[1].pfs.glob: expected a string, got a number (5) (at edges.json:7:15)`.
    public var description: String {
        var text = path.isEmpty ? message : "\(path): \(message)"
        if let line {
            let col = column.map { ":\($0)" } ?? ""
            if let filename {
                text += " (at \(filename):\(line)\(col))"
            } else {
                text += " (at line \(line)\(col))"
            }
        }
        return text
    }

    /// The same error as pfs reports it through the API and the CLI.
    public var pfsError: PFSError {
        PFSError(.invalidArgument, description, cause: self)
    }
}

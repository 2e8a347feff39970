import Foundation

/// Parses pipeline specs — Pachyderm 2.x, 1.7 (`atom` inputs) and 1.x (`inputs` with methods) — in JSON or YAML
/// into validated `PipelineSpec`s. docs/pipeline-spec.md describes every field and the translations.
public enum SpecParser {
    /// One spec of a file, with what the parser noticed about it.
    public struct Document: Sendable {
        public var spec: PipelineSpec
        /// Paths of fields that were accepted but have no effect in pfs (`autoscaling`, `pod_patch`, …), for a
        /// "note: ignored …" line in `create pipeline`.
        public var ignoredFields: [String]
        /// 1-based line where the spec starts in the file.
        public var line: Int
    }

    /// Parses one file's text: JSON (one object, or a stream of several concatenated objects as Pachyderm 1.x
    /// examples ship them, e.g. `{...}\n{...}`), or YAML (one document or several separated by `---`).
    /// Returns every spec, in order. Throws `SpecError` naming the field path and what to do.
    public static func parse(_ text: String, filename: String? = nil) throws -> [PipelineSpec] {
        try parseDocuments(text, filename: filename).map(\.spec)
    }

    /// Like `parse`, keeping the ignored fields and positions of each spec.
    public static func parseDocuments(_ text: String, filename: String? = nil) throws -> [Document] {
        try parseDocuments(text, filename: filename, cpuCount: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// `cpuCount` is what 1.x `parallelism_spec.coefficient` multiplies (tests fix it).
    static func parseDocuments(_ text: String, filename: String?, cpuCount: Int) throws(SpecError) -> [Document] {
        let nodes = try readNodes(text, filename: filename)
        var documents: [Document] = []
        var firstLineByName: [String: Int] = [:]
        for node in nodes {
            guard case .object = node.value else {
                var message = "expected a pipeline spec object, got \(node.kindDescription)"
                if case .array = node.value {
                    message += "; to put several specs in one file, write the objects one after another ({…}\\n{…}) or as YAML documents separated by ---"
                }
                throw SpecError(path: "", message: message, filename: filename, line: node.line, column: node.column)
            }
            let context = SpecContext(filename: filename, cpuCount: cpuCount)
            let spec = try SpecTranslator(context: context).translate(node)
            if let earlier = firstLineByName[spec.name] {
                throw SpecError(path: "pipeline.name", message: "\"\(spec.name)\" is already defined by the spec at line \(earlier) of this file; give each pipeline its own name",
                                filename: filename, line: node.line, column: node.column)
            }
            firstLineByName[spec.name] = node.line
            documents.append(Document(spec: spec, ignoredFields: context.ignoredFields, line: node.line))
        }
        return documents
    }

    private enum Syntax { case json, yaml }

    /// JSON when the file says so (extension) or looks like it (starts with `{`), else YAML. A `{…}` text that is
    /// not valid JSON gets a second chance as YAML (flow mappings), and the JSON error if that fails too.
    private static func readNodes(_ text: String, filename: String?) throws(SpecError) -> [SpecNode] {
        let ext = filename.map { ($0 as NSString).pathExtension.lowercased() } ?? ""
        let start = text.unicodeScalars.first(where: { !$0.properties.isWhitespace && $0 != "\u{FEFF}" })
        let syntax: Syntax
        switch ext {
        case "json": syntax = .json
        case "yaml", "yml": syntax = .yaml
        default: syntax = start == "{" || start == "[" ? .json : .yaml
        }

        var nodes: [SpecNode]
        switch syntax {
        case .json:
            var reader = JSONSpecReader(text, filename: filename)
            do {
                nodes = try reader.readAll()
            } catch {
                guard ext != "json", let yaml = try? YAMLSpecReader.readAll(text, filename: filename),
                      yaml.contains(where: { !$0.isNull }) else { throw error }
                nodes = yaml
            }
        case .yaml:
            nodes = try YAMLSpecReader.readAll(text, filename: filename)
        }
        // Empty YAML documents (a trailing `---`, a file of comments) hold no spec.
        nodes.removeAll(where: \.isNull)
        guard !nodes.isEmpty else {
            throw SpecError(path: "", message: "the file holds no pipeline spec; a spec needs at least \"pipeline\", \"transform\" and \"input\"",
                            filename: filename)
        }
        return nodes
    }
}

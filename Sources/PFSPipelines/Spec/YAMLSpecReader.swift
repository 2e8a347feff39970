import Yams

/// Reads a YAML text holding one document or several separated by `---` into `SpecNode`s.
///
/// Scalars are typed the way YAML 1.1 plain scalars are (what Pachyderm's YAML-to-JSON step does too):
/// `5` is a number, `true`/`yes`/`on` a boolean, `~`/`null` null; quoted scalars are always strings.
enum YAMLSpecReader {
    static func readAll(_ text: String, filename: String?) throws(SpecError) -> [SpecNode] {
        var nodes: [SpecNode] = []
        do {
            var documents = try Yams.compose_all(yaml: text)
            while let document = documents.next() {
                nodes.append(try convert(document, filename: filename, depth: 0))
            }
            if let error = documents.error { throw error }
        } catch let error as SpecError {
            throw error
        } catch let error as YamlError {
            throw describe(error, filename: filename)
        } catch {
            throw SpecError(path: "", message: "invalid YAML: \(error)", filename: filename)
        }
        return nodes
    }

    private static func convert(_ node: Node, filename: String?, depth: Int) throws(SpecError) -> SpecNode {
        let line = node.mark?.line ?? 0
        let column = node.mark?.column ?? 0
        guard depth < 256 else {
            throw SpecError(path: "", message: "invalid YAML: nesting is deeper than 256 levels", filename: filename, line: line, column: column)
        }
        switch node {
        case .scalar(let scalar):
            return SpecNode(scalarValue(scalar), line: line, column: column)
        case .sequence(let sequence):
            var items: [SpecNode] = []
            for item in sequence {
                items.append(try convert(item, filename: filename, depth: depth + 1))
            }
            return SpecNode(.array(items), line: line, column: column)
        case .mapping(let mapping):
            var fields: [SpecField] = []
            var seen: Set<String> = []
            for (key, value) in mapping {
                let kl = key.mark?.line ?? line
                let kc = key.mark?.column ?? column
                guard case .scalar(let keyScalar) = key else {
                    throw SpecError(path: "", message: "invalid YAML: a mapping key must be a plain name, not a list or mapping",
                                    filename: filename, line: kl, column: kc)
                }
                let name = keyScalar.string
                guard seen.insert(name).inserted else {
                    throw SpecError(path: "", message: "field \"\(SpecNode.abbreviate(name))\" appears twice in the same mapping; keep one",
                                    filename: filename, line: kl, column: kc)
                }
                fields.append(SpecField(key: name, value: try convert(value, filename: filename, depth: depth + 1),
                                        line: kl, column: kc))
            }
            return SpecNode(.object(fields), line: line, column: column)
        case .alias:
            // The composer resolves aliases to their anchored nodes; an unresolved one is an undefined anchor.
            throw SpecError(path: "", message: "invalid YAML: unresolved alias", filename: filename, line: line, column: column)
        }
    }

    private static func scalarValue(_ scalar: Node.Scalar) -> SpecNode.Value {
        let text = scalar.string
        // Quoted and block scalars are strings whatever they look like; only plain ones are resolved.
        let tagName: Tag.Name
        let explicit = Tag.Name(rawValue: scalar.tag.rawValue)
        if explicit == .nonSpecific {
            tagName = .str
        } else if explicit != .implicit {
            tagName = explicit
        } else if scalar.style == .plain || scalar.style == .any {
            tagName = Resolver.default.resolveTag(of: Node.scalar(scalar))
        } else {
            tagName = .str
        }
        switch tagName {
        case .null:
            return .null
        case .bool:
            return .bool(["y", "yes", "true", "on"].contains(text.lowercased()))
        case .int:
            return .number(normalizedInteger(text))
        case .float:
            return .number(text.replacingOccurrences(of: "_", with: ""))
        default:
            return .string(text)
        }
    }

    /// YAML 1.1 integers may be written `1_000`, `0x1F`, `0o17`, `0b101`; the translator reads decimal literals.
    private static func normalizedInteger(_ text: String) -> String {
        var t = text.replacingOccurrences(of: "_", with: "")
        var sign = ""
        if t.hasPrefix("-") || t.hasPrefix("+") {
            sign = t.hasPrefix("-") ? "-" : ""
            t.removeFirst()
        }
        let radix: Int
        if t.hasPrefix("0x") { radix = 16; t.removeFirst(2) }
        else if t.hasPrefix("0o") { radix = 8; t.removeFirst(2) }
        else if t.hasPrefix("0b") { radix = 2; t.removeFirst(2) }
        else if t.count > 1, t.hasPrefix("0"), t.allSatisfy({ $0.isASCII && $0.isNumber }) { radix = 8; t.removeFirst() }
        else { return sign + t }
        guard let v = Int64(t, radix: radix) else { return text }
        return sign + String(v)
    }

    private static func describe(_ error: YamlError, filename: String?) -> SpecError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text))" }
            if message.contains("alias") || message.contains("anchor") {
                message += "; a value starting with '*' or '&' must be quoted, e.g. glob: \"*\""
            }
            return SpecError(path: "", message: message, filename: filename, line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return SpecError(path: "", message: "field \(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) appears twice in the same mapping; keep one (\(context.text))",
                             filename: filename, line: context.mark.line, column: context.mark.column)
        case .reader(let problem, _, _, _):
            return SpecError(path: "", message: "invalid YAML: \(problem)", filename: filename)
        default:
            return SpecError(path: "", message: "invalid YAML: \(error)", filename: filename)
        }
    }
}

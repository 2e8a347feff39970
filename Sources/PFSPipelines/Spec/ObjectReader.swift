import Foundation

/// Reads one object of a spec: checks up front that every key is a field known at this place (or one we accept
/// and ignore), then hands out typed values by canonical field name with their paths for errors.
struct ObjectReader {
    let context: SpecContext
    /// Path of this object (`input.cross[1].pfs`).
    let path: String
    let node: SpecNode
    /// canonical name → the field as written.
    private var present: [String: SpecField] = [:]

    /// - Parameters:
    ///   - fields: canonical names of the fields this object may hold.
    ///   - ignored: canonical names accepted with no effect (recorded in `SpecContext.ignoredFields`).
    ///   - hints: for keys that are not fields here, a message saying where they belong (checked before
    ///     "did you mean").
    init(_ node: SpecNode, path: String, context: SpecContext, fields: [String], ignored: [String] = [],
         hints: [String: String] = [:], what: String = "an object") throws(SpecError) {
        self.context = context
        self.path = path
        self.node = node
        guard case .object(let list) = node.value else {
            throw context.error(path, node, "expected \(what), got \(node.kindDescription)")
        }
        var bySpelling: [String: String] = [:]
        for name in fields + ignored {
            for spelling in FieldNames.spellings(name) { bySpelling[spelling] = name }
        }
        let ignoredSet = Set(ignored)
        for field in list {
            let fieldPath = SpecContext.join(path, field.key)
            guard let canonical = bySpelling[field.key] else {
                throw context.error(fieldPath, field: field, Self.unknownFieldMessage(field.key, known: fields + ignored, hints: hints))
            }
            if let other = present[canonical] {
                throw context.error(fieldPath, field: field,
                                    "\"\(other.key)\" and \"\(field.key)\" are two spellings of the same field; keep one")
            }
            present[canonical] = field
            if ignoredSet.contains(canonical), !field.value.isNull {
                context.noteIgnored(fieldPath, at: field)
            }
        }
    }

    private static func unknownFieldMessage(_ key: String, known: [String], hints: [String: String]) -> String {
        if let hint = hints[key] ?? hints[key.lowercased()] {
            return "unknown field; \(hint)"
        }
        if let suggestion = FieldNames.suggestion(for: key, among: known) {
            return "unknown field; did you mean \"\(suggestion)\"?"
        }
        let list = known.sorted().joined(separator: ", ")
        return "unknown field; the fields allowed here are: \(list)"
    }

    // MARK: - Lookup

    /// The field as written, if present and not null (protobuf's JSON mapping reads null as "not set").
    func field(_ name: String) -> SpecField? {
        guard let f = present[name], !f.value.isNull else { return nil }
        return f
    }

    func has(_ name: String) -> Bool { field(name) != nil }

    /// The path of a field: in the spelling the spec used if present, else the canonical one.
    func path(of name: String) -> String {
        SpecContext.join(path, present[name]?.key ?? name)
    }

    /// The error for a required field that is absent, pointing at this object.
    func missing(_ name: String, _ message: String) -> SpecError {
        context.error(SpecContext.join(path, name), node, message)
    }

    func error(_ name: String, _ message: String) -> SpecError {
        context.error(path(of: name), field(name)?.value ?? node, message)
    }

    // MARK: - Typed values

    func string(_ name: String) throws(SpecError) -> String? {
        guard let f = field(name) else { return nil }
        return try Value.string(f.value, path: path(of: name), context)
    }

    func requiredString(_ name: String, _ missingMessage: String) throws(SpecError) -> String {
        guard let s = try string(name) else { throw missing(name, missingMessage) }
        return s
    }

    func bool(_ name: String) throws(SpecError) -> Bool? {
        guard let f = field(name) else { return nil }
        return try Value.bool(f.value, path: path(of: name), context)
    }

    func int(_ name: String, min: Int64? = nil, max: Int64? = nil) throws(SpecError) -> Int64? {
        guard let f = field(name) else { return nil }
        return try Value.int(f.value, path: path(of: name), context, min: min, max: max)
    }

    func double(_ name: String) throws(SpecError) -> Double? {
        guard let f = field(name) else { return nil }
        return try Value.double(f.value, path: path(of: name), context)
    }

    func stringList(_ name: String) throws(SpecError) -> [String]? {
        guard let f = field(name) else { return nil }
        return try Value.stringList(f.value, path: path(of: name), context)
    }

    func stringMap(_ name: String) throws(SpecError) -> [String: String]? {
        guard let f = field(name) else { return nil }
        return try Value.stringMap(f.value, path: path(of: name), context)
    }

    /// The elements of a list field with their paths.
    func list(_ name: String) throws(SpecError) -> [(path: String, node: SpecNode)]? {
        guard let f = field(name) else { return nil }
        let p = path(of: name)
        guard case .array(let items) = f.value.value else {
            throw context.error(p, f.value, "expected a list, got \(f.value.kindDescription)")
        }
        return items.enumerated().map { (SpecContext.index(p, $0.offset), $0.element) }
    }

    func object(_ name: String, fields: [String], ignored: [String] = [], hints: [String: String] = [:],
                what: String = "an object") throws(SpecError) -> ObjectReader? {
        guard let f = field(name) else { return nil }
        return try ObjectReader(f.value, path: path(of: name), context: context, fields: fields, ignored: ignored,
                                hints: hints, what: what)
    }
}

/// Conversions of single values, shared by `ObjectReader` and list elements.
enum Value {
    static func string(_ node: SpecNode, path: String, _ context: SpecContext) throws(SpecError) -> String {
        guard case .string(let s) = node.value else {
            var message = "expected a string, got \(node.kindDescription)"
            if case .number = node.value { message += "; quote it" }
            if case .bool = node.value { message += "; quote it (YAML reads yes/no/on/off/true/false as booleans)" }
            throw context.error(path, node, message)
        }
        return s
    }

    static func bool(_ node: SpecNode, path: String, _ context: SpecContext) throws(SpecError) -> Bool {
        guard case .bool(let b) = node.value else {
            throw context.error(path, node, "expected true or false, got \(node.kindDescription)")
        }
        return b
    }

    /// Whole numbers. As in protobuf's JSON mapping, a string holding a whole number is accepted too
    /// (`"parallelism": "1"` in Pachyderm's 1.x fruit stand).
    static func int(_ node: SpecNode, path: String, _ context: SpecContext, min: Int64? = nil, max: Int64? = nil) throws(SpecError) -> Int64 {
        let literal: String
        switch node.value {
        case .number(let n): literal = n
        case .string(let s): literal = s.trimmingCharacters(in: .whitespaces)
        default: throw context.error(path, node, "expected a whole number, got \(node.kindDescription)")
        }
        guard let v = wholeNumber(literal) else {
            throw context.error(path, node, "expected a whole number, got \(node.kindDescription)")
        }
        if let min, v < min { throw context.error(path, node, "must be at least \(min), got \(v)") }
        if let max, v > max { throw context.error(path, node, "must be at most \(max), got \(v)") }
        return v
    }

    static func wholeNumber(_ literal: String) -> Int64? {
        if let v = Int64(literal) { return v }
        // 1.0, 1e3: whole-valued numbers written as floats.
        guard let d = Double(literal), d.isFinite, d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return Int64(d)
    }

    static func double(_ node: SpecNode, path: String, _ context: SpecContext) throws(SpecError) -> Double {
        let literal: String
        switch node.value {
        case .number(let n): literal = n
        case .string(let s): literal = s.trimmingCharacters(in: .whitespaces)
        default: throw context.error(path, node, "expected a number, got \(node.kindDescription)")
        }
        guard let d = Double(literal), d.isFinite else {
            throw context.error(path, node, "expected a number, got \(node.kindDescription)")
        }
        return d
    }

    static func stringList(_ node: SpecNode, path: String, _ context: SpecContext) throws(SpecError) -> [String] {
        guard case .array(let items) = node.value else {
            var message = "expected a list of strings, got \(node.kindDescription)"
            if case .string(let s) = node.value {
                let words = s.split(separator: " ", omittingEmptySubsequences: true)
                let list = words.map { "\"\(SpecNode.abbreviate(String($0)))\"" }.joined(separator: ", ")
                message += "; write it as a list, e.g. [\(list)]"
            }
            throw context.error(path, node, message)
        }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            out.append(try string(item, path: SpecContext.index(path, i), context))
        }
        return out
    }

    static func stringMap(_ node: SpecNode, path: String, _ context: SpecContext) throws(SpecError) -> [String: String] {
        guard case .object(let fields) = node.value else {
            throw context.error(path, node, "expected an object of names to strings, got \(node.kindDescription)")
        }
        var out: [String: String] = [:]
        for f in fields {
            out[f.key] = try string(f.value, path: SpecContext.join(path, f.key), context)
        }
        return out
    }
}

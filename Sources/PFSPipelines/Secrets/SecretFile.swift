import Foundation
import PFSCore
import Yams

/// A secret as users write it for Pachyderm: a Kubernetes `Secret` manifest in JSON or YAML
/// (`{"kind": "Secret", "metadata": {"name": …}, "data": {KEY: base64}}`, or plain text under `stringData`),
/// or `KEY=VALUE` literals (`--from-literal`, as `kubectl create secret generic` takes them).
///
/// Error messages name the file, the field and the key, never a value (a secret's text must not reach a
/// terminal or a log through an error).
public struct SecretFile: Sendable, Equatable {
    /// `metadata.name`, if the file has one.
    public var name: String?
    public var data: [String: Data]

    public init(name: String?, data: [String: Data]) { self.name = name; self.data = data }

    /// The total size a secret may have (Kubernetes' limit).
    public static let maxBytes = 1 << 20

    /// Parses a manifest. `filename` only appears in error messages.
    public static func parse(_ text: String, filename: String) throws -> SecretFile {
        let root: Node
        do {
            var documents = try Yams.compose_all(yaml: text)
            var all: [Node] = []
            while let d = documents.next() { all.append(d) }
            if documents.error != nil { throw PFSError.invalid("") }
            guard all.count == 1 else {
                throw PFSError.invalid("\(filename) holds \(all.count) documents; a secret file holds exactly one Secret")
            }
            root = all[0]
        } catch let e as PFSError where !e.message.isEmpty {
            throw e
        } catch {
            // The parser's own message quotes the offending line, which may be a value: give only the position.
            var at = ""
            if let y = error as? YamlError, case let .scanner(_, _, mark, _) = y { at = " (line \(mark.line), column \(mark.column))" }
            if let y = error as? YamlError, case let .parser(_, _, mark, _) = y { at = " (line \(mark.line), column \(mark.column))" }
            throw PFSError.invalid("\(filename) is not valid JSON or YAML\(at); a secret file is a Kubernetes Secret: {\"kind\": \"Secret\", \"metadata\": {\"name\": \"NAME\"}, \"data\": {\"KEY\": \"BASE64\"}} or with \"stringData\": {\"KEY\": \"TEXT\"}")
        }
        guard let topMapping = root.mapping else {
            throw PFSError.invalid("\(filename) is not a mapping; a secret file is a Kubernetes Secret: {\"kind\": \"Secret\", \"metadata\": {\"name\": \"NAME\"}, \"data\": {\"KEY\": \"BASE64\"}}")
        }
        let top = fields(topMapping)
        let allowed: Set<String> = ["apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable"]
        for k in top.keys.sorted() {
            if !allowed.contains(k) {
                throw PFSError.invalid("\(filename): unknown field \"\(Names.printable(k))\"; a Secret has: \(allowed.sorted().joined(separator: ", "))")
            }
        }
        if let kind = top["kind"]?.string, kind != "Secret" {
            throw PFSError.invalid("\(filename): kind is \"\(Names.printable(kind))\"; a secret file holds a \"Secret\"")
        }
        var name: String?
        if let meta = top["metadata"] {
            guard let m = meta.mapping else { throw PFSError.invalid("\(filename): metadata must be a mapping with a name") }
            if let n = fields(m)["name"] {
                guard let s = n.scalar?.string, !s.isEmpty else { throw PFSError.invalid("\(filename): metadata.name must be a non-empty string") }
                name = s
            }
        }
        var data: [String: Data] = [:]
        for (field, decode) in [("data", true), ("stringData", false)] {
            guard let node = top[field] else { continue }
            if case .scalar(let s) = node, s.string == "null" || s.string == "~" || s.string.isEmpty { continue }
            guard let m = node.mapping else {
                throw PFSError.invalid("\(filename): \(field) must be a mapping of KEY: \(decode ? "BASE64" : "TEXT")")
            }
            for (k, v) in m {
                guard let key = k.scalar?.string else { throw PFSError.invalid("\(filename): the keys of \(field) must be names") }
                try validateKey(key, where: "\(filename): \(field)")
                guard let scalar = v.scalar else {
                    throw PFSError.invalid("\(filename): \(field).\(key) must be a string, not a list or mapping")
                }
                if decode {
                    let b64 = scalar.string.filter { !$0.isWhitespace }
                    guard let bytes = Data(base64Encoded: b64) else {
                        throw PFSError.invalid("\(filename): data.\(key) is not valid base64; put plain text under stringData instead, or encode it with `base64 -w0`")
                    }
                    data[key] = bytes
                } else {
                    // stringData wins over data for the same key, as in Kubernetes.
                    data[key] = Data(scalar.string.utf8)
                }
            }
        }
        guard !data.isEmpty else {
            throw PFSError.invalid("\(filename) has no keys; put them under \"data\" (base64) or \"stringData\" (plain text)")
        }
        return SecretFile(name: name, data: data)
    }

    private static func fields(_ m: Node.Mapping) -> [String: Node] {
        var out: [String: Node] = [:]
        for (k, v) in m { if let s = k.scalar?.string { out[s] = v } }
        return out
    }

    /// `KEY=VALUE` literals.
    public static func literals(_ items: [String]) throws -> [String: Data] {
        var data: [String: Data] = [:]
        for item in items {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                // Only the part before any `=` could be a key; do not echo the rest.
                throw PFSError.invalid("--from-literal takes KEY=VALUE (e.g. --from-literal password=s3cr3t); one argument has no KEY=")
            }
            let key = String(item[..<eq])
            try validateKey(key, where: "--from-literal")
            guard data[key] == nil else { throw PFSError.invalid("--from-literal: key \"\(key)\" is given twice") }
            data[key] = Data(item[item.index(after: eq)...].utf8)
        }
        return data
    }

    /// Kubernetes' rule for keys (they become file names under `mount_path`).
    public static func validateKey(_ key: String, where context: String) throws {
        let ok = !key.isEmpty && key.utf8.count <= 253 && key != "." && key != ".."
            && key.unicodeScalars.allSatisfy { ($0.value < 128) && (CharacterSet.alphanumerics.contains($0) || "-._".unicodeScalars.contains($0)) }
        guard ok else {
            throw PFSError.invalid("\(context): invalid key \"\(Names.printable(String(key.prefix(64))))\"; keys are letters, digits, '-', '_' and '.' (at most 253), since each becomes a file name")
        }
    }

    /// Names as Kubernetes writes them (letters, digits, '-', '_', '.'), at most 253 bytes.
    public static func validateName(_ name: String) throws {
        let ok = !name.isEmpty && name.utf8.count <= 253 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { ($0.value < 128) && (CharacterSet.alphanumerics.contains($0) || "-._".unicodeScalars.contains($0)) }
        guard ok else {
            throw PFSError.invalid("invalid secret name \"\(Names.printable(name))\": use letters, digits, '-', '_' and '.' (not first), at most 253 bytes, e.g. db-credentials")
        }
    }
}

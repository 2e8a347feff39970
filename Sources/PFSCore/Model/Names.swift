import Foundation

/// Validation of the names users choose. Names starting with `.` are reserved for pfs.
public enum Names {
    public static let maxNameLength = 200

    /// Repo names: `[A-Za-z0-9_-]`, 1...200 characters.
    public static func validateRepo(_ name: String) throws {
        try validate(name, what: "repo", allowDot: false)
    }

    /// Branch names: `[A-Za-z0-9_.-]`, not starting with `.`, not 32 hex digits (that would shadow commit ids).
    public static func validateBranch(_ name: String) throws {
        try validate(name, what: "branch", allowDot: true)
        if name.utf8.count == 32, name.utf8.allSatisfy({ isHex($0) }) {
            throw PFSError.invalid("invalid branch name \"\(name)\": 32 hex digits would be read as a commit id; choose another name")
        }
        if name == "." || name == ".." || name.contains("..") {
            throw PFSError.invalid("invalid branch name \"\(name)\": \"..\" is not allowed in branch names")
        }
    }

    private static func validate(_ name: String, what: String, allowDot: Bool) throws {
        let allowed = allowDot ? "letters, digits, '_', '-' and '.'" : "letters, digits, '_' and '-'"
        if name.isEmpty {
            throw PFSError.invalid("\(what) name is empty; use \(allowed)")
        }
        if name.utf8.count > maxNameLength {
            throw PFSError.invalid("\(what) name is \(name.utf8.count) bytes long; the limit is \(maxNameLength)")
        }
        if name.hasPrefix(".") {
            throw PFSError.invalid("invalid \(what) name \"\(printable(name))\": names starting with '.' are reserved for pfs")
        }
        for c in name.utf8 {
            let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || (allowDot && c == UInt8(ascii: "."))
            if !ok {
                throw PFSError.invalid("invalid \(what) name \"\(printable(name))\": only \(allowed) are allowed")
            }
        }
    }

    static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
    }

    /// Shows control characters escaped so an error message never carries raw bytes to a terminal.
    public static func printable(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += String(format: "\\x%02x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Normalises a path inside a commit to `/a/b` form. Refuses `..`, NUL, control characters,
    /// empty components are collapsed, and components longer than 255 bytes are refused.
    /// Paths are split at every `/` byte — not at `/` Characters: a combining mark after a slash would make
    /// the two one Character, and a name containing a slash.
    public static func cleanPath(_ raw: String) throws -> String {
        var parts: [String] = []
        for comp in raw.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if comp.elementsEqual(".".utf8) { continue }
            if comp.elementsEqual("..".utf8) {
                throw PFSError.invalid("invalid path \"\(printable(raw))\": \"..\" is not allowed; give a path inside the commit")
            }
            if comp.count > 255 {
                throw PFSError.invalid("invalid path \"\(printable(raw))\": a component is longer than 255 bytes")
            }
            for c in comp where c < 0x20 || c == 0x7F {
                throw PFSError.invalid("invalid path \"\(printable(raw))\": control characters are not allowed in file names")
            }
            parts.append(String(decoding: comp, as: UTF8.self))
        }
        if raw.utf8.count > 4096 {
            throw PFSError.invalid("path is longer than 4096 bytes")
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Splits a clean path into components (empty for `/`).
    public static func components(_ clean: String) -> [String] {
        clean.utf8.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
    }
}

import Foundation
import PFSCore

/// Turns a `PutFileRequest` into the records of one put stream, looking at every local source first so that
/// a missing or unreadable path is reported, naming it, before anything is sent.
///
/// Naming (as pachctl): with one source and a destination that does not end in `/`, the destination is the
/// file (or, with `-r`, the directory the tree goes under). Otherwise each source keeps its base name under
/// the destination (the root when it is omitted). A source written `dir/.` puts the directory's contents
/// directly under the destination.
///
/// With `-r`, empty directories become `mkdir` records; a symlink to a file is followed (its content is put,
/// as pachctl does); a symlink to a directory, or a dangling one, is stored as a symlink (never followed, so
/// link cycles cannot loop); sockets and devices are skipped with a warning.
public struct PutPlanner {
    public struct Plan: Sendable, Equatable {
        public var items: [PutItem]
        public var warnings: [String]
    }

    /// Reads the CLI's standard input as text (for `-i -`); injectable for tests.
    public var readStandardInput: () throws -> String

    public init(readStandardInput: @escaping () throws -> String = PutPlanner.readAllStandardInput) {
        self.readStandardInput = readStandardInput
    }

    public func plan(_ request: PutFileRequest) throws -> Plan {
        var sources = request.sources
        var stdinTaken = false
        if let list = request.inputFile {
            let text: String
            if list == "-" {
                text = try readStandardInput()
                stdinTaken = true
            } else {
                text = try Self.readTextFile(list)
            }
            let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            if lines.isEmpty {
                throw PFSError.invalid("the input file \(LocalFile.quoted(list)) lists no sources; write one local path or URL per line")
            }
            sources.append(contentsOf: lines)
        }
        if sources.isEmpty { sources = ["-"] }

        let op: PutRecordHeader.Op = request.append ? .append : .put
        let single = sources.count == 1 && !request.pathIsDirectory
        var plan = Plan(items: [], warnings: [])
        var seenStdin = false

        for source in sources {
            if source == "-" {
                if stdinTaken {
                    throw PFSError.invalid("standard input is already read for the source list (-i -); it cannot also be a source")
                }
                if seenStdin {
                    throw PFSError.invalid("standard input (-) can be a source only once")
                }
                seenStdin = true
                guard single, let path = request.path, path != "/" else {
                    throw PFSError.invalid("reading from standard input needs a destination file name, e.g. \(request.repo)@\(request.ref):/data.txt")
                }
                plan.items.append(PutItem(header: PutRecordHeader(op: op, path: path), source: .standardInput))
                continue
            }
            if let scheme = Self.urlScheme(source) {
                guard scheme == "http" || scheme == "https" else {
                    throw PFSError.invalid("unsupported URL \(LocalFile.quoted(source)): pfs fetches http:// and https:// URLs")
                }
                let dest = try destination(single: single, request: request, baseName: Self.urlBaseName(source), source: source)
                plan.items.append(PutItem(header: PutRecordHeader(op: op, path: dest), source: .url(source)))
                continue
            }
            try planLocal(source, single: single, request: request, op: op, into: &plan)
        }
        return plan
    }

    // MARK: - Local sources

    private func planLocal(_ source: String, single: Bool, request: PutFileRequest, op: PutRecordHeader.Op,
                           into plan: inout Plan) throws {
        let st = try LocalFile.status(source)
        switch st.kind {
        case .directory:
            guard request.recursive else {
                throw PFSError.invalid("\(LocalFile.quoted(source)) is a directory; add -r to put it recursively")
            }
            let root = try destination(single: single, request: request, baseName: Self.localBaseName(source),
                                       source: source, allowRoot: true)
            let before = plan.items.count
            try walk(directory: source, destination: root, op: op, into: &plan)
            if plan.items.count == before {
                plan.items.append(PutItem(header: PutRecordHeader(op: .mkdir, path: root, mode: st.mode, mtimeNs: st.mtimeNs),
                                          source: .none))
            }
        case .regular:
            try LocalFile.checkReadable(source)
            let dest = try destination(single: single, request: request, baseName: Self.localBaseName(source), source: source)
            plan.items.append(PutItem(header: PutRecordHeader(op: op, path: dest, mode: st.mode, mtimeNs: st.mtimeNs),
                                      source: .localFile(source)))
        case .other, .symlink:
            // A FIFO or a character device such as /dev/stdin or <(command): streamed as it is read.
            let dest = try destination(single: single, request: request, baseName: Self.localBaseName(source), source: source)
            plan.items.append(PutItem(header: PutRecordHeader(op: op, path: dest), source: .localFile(source)))
        }
    }

    private func walk(directory: String, destination: String, op: PutRecordHeader.Op, into plan: inout Plan) throws {
        let names = try LocalFile.listDirectory(directory)
        for name in names {
            let local = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            let dest = try Self.join(destination, name, source: local)
            let lst = try LocalFile.status(local, followLinks: false)
            switch lst.kind {
            case .regular:
                try LocalFile.checkReadable(local)
                plan.items.append(PutItem(header: PutRecordHeader(op: op, path: dest, mode: lst.mode, mtimeNs: lst.mtimeNs),
                                          source: .localFile(local)))
            case .directory:
                let before = plan.items.count
                try walk(directory: local, destination: dest, op: op, into: &plan)
                if plan.items.count == before {
                    plan.items.append(PutItem(header: PutRecordHeader(op: .mkdir, path: dest, mode: lst.mode, mtimeNs: lst.mtimeNs),
                                              source: .none))
                }
            case .symlink:
                if let target = try? LocalFile.status(local), target.kind == .regular {
                    try LocalFile.checkReadable(local)
                    plan.items.append(PutItem(header: PutRecordHeader(op: op, path: dest, mode: target.mode, mtimeNs: target.mtimeNs),
                                              source: .localFile(local)))
                } else {
                    let target = try LocalFile.readLink(local)
                    plan.items.append(PutItem(header: PutRecordHeader(op: .symlink, path: dest, mtimeNs: lst.mtimeNs, target: target),
                                              source: .none))
                }
            case .other:
                plan.warnings.append("skipped \(LocalFile.quoted(local)): not a regular file, directory or symlink")
            }
        }
    }

    // MARK: - Naming

    private func destination(single: Bool, request: PutFileRequest, baseName: String, source: String,
                             allowRoot: Bool = false) throws -> String {
        let dest: String
        if single, let path = request.path {
            dest = path
        } else {
            guard !baseName.isEmpty || allowRoot else {
                throw PFSError.invalid("cannot name the destination for \(LocalFile.quoted(source)); give a destination path, e.g. \(request.repo)@\(request.ref):/name")
            }
            dest = try Self.join(request.path ?? "/", baseName, source: source)
        }
        if dest == "/" && !allowRoot {
            throw PFSError.invalid("cannot put a file at \"/\"; give a file name, e.g. \(request.repo)@\(request.ref):/name")
        }
        return dest
    }

    static func join(_ dir: String, _ name: String, source: String) throws -> String {
        if name.isEmpty { return try Names.cleanPath(dir) }
        do {
            return try Names.cleanPath(dir + "/" + name)
        } catch let error as PFSError {
            throw PFSError(error.code, "cannot store \(LocalFile.quoted(source)) in pfs: \(error.message)")
        }
    }

    /// The name a local source keeps: its last component; empty for `dir/.` and `/` (contents go directly
    /// under the destination); `..` resolves to the directory's real name.
    static func localBaseName(_ source: String) -> String {
        let comps = source.split(separator: "/", omittingEmptySubsequences: true)
        guard let last = comps.last, last != "." else { return "" }
        if last == ".." {
            return URL(fileURLWithPath: source).standardizedFileURL.lastPathComponent
        }
        return String(last)
    }

    /// The last component of a URL's path, percent-decoded; empty when the URL has no file name.
    static func urlBaseName(_ url: String) -> String {
        var rest = Substring(url)
        if let q = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<q] }
        if let schemeEnd = rest.range(of: "://") { rest = rest[schemeEnd.upperBound...] }
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        let path = rest[slash...]
        guard let last = path.split(separator: "/").last else { return "" }
        let decoded = String(last).removingPercentEncoding ?? String(last)
        return decoded == "." || decoded == ".." ? "" : decoded
    }

    /// The lowercased scheme if `s` looks like `scheme://…`.
    static func urlScheme(_ s: String) -> String? {
        guard let r = s.range(of: "://") else { return nil }
        let scheme = s[..<r.lowerBound]
        guard let first = scheme.first, first.isASCII, first.isLetter,
              scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") })
        else { return nil }
        return scheme.lowercased()
    }

    static func readTextFile(_ path: String) throws -> String {
        let st = try LocalFile.status(path, what: "input file")
        guard st.kind != .directory else {
            throw PFSError.invalid("the input file \(LocalFile.quoted(path)) is a directory; -i takes a file listing one source per line")
        }
        let fd = try LocalFile.openForReading(path, what: "input file")
        defer { close(fd) }
        return String(decoding: try readAll(fd: fd, name: path), as: UTF8.self)
    }

    public static func readAllStandardInput() throws -> String {
        String(decoding: try readAll(fd: 0, name: "standard input"), as: UTF8.self)
    }

    static func readAll(fd: Int32, name: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw PFSError(.io, "cannot read \(name): \(LocalFile.errnoMessage(e))")
            }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}

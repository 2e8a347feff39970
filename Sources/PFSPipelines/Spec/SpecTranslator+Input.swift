import Foundation
import PFSCore

/// The input tree of 2.x specs (`pfs`, `cross`, `union`, `join`, `group`, `cron`) and 1.7's `atom`.
extension SpecTranslator {
    /// A name a datum shows under `/pfs/<name>`, with the input object that set it.
    struct NameUse {
        var name: String
        /// Path of the `pfs`/`atom`/`cron` object (`input.cross[0].pfs`).
        var objectPath: String
        var node: SpecNode
    }

    static let inputKinds = ["pfs", "cross", "union", "join", "group", "cron", "atom", "git"]

    private static let inputHints: [String: String] = {
        var h: [String: String] = [:]
        for f in ["repo", "glob", "branch", "name", "lazy", "join_on", "joinOn", "group_by", "groupBy", "empty_files", "emptyFiles"] {
            h[f] = "\"\(f)\" belongs inside \"pfs\": {\"pfs\": {\"\(f)\": …}}"
        }
        h["method"] = "\"method\" is a 1.x field of the top-level \"inputs\" list; in \"input.pfs\" set \"glob\" instead (\"/*\": each top-level file or directory is a datum, \"/\": the whole repo is one datum)"
        return h
    }()

    static let pfsFields = [
        "name", "repo", "branch", "glob", "lazy", "empty_files", "join_on", "group_by", "outer_join", "project",
        "repo_type", "commit", "s3",
    ]
    static let pfsIgnored = ["trigger"]
    static let atomFields = ["name", "repo", "branch", "glob", "lazy", "empty_files", "commit"]

    private static let pfsHints: [String: String] = [
        "method": "\"method\" is a 1.x field of the top-level \"inputs\" list; here set \"glob\" instead (\"/*\": each top-level file or directory is a datum, \"/\": the whole repo is one datum)",
        "partition": "1.x partitions are written as \"glob\" here (\"/*\" or \"/\")",
        "incremental": "1.x incrementality is only available through the top-level \"inputs\" list",
    ]

    /// Translates one input object, checking that names seen together in a datum are distinct.
    func translateInput(_ node: SpecNode, path: String) throws(SpecError) -> (input: Input, names: [NameUse]) {
        let reader = try ObjectReader(node, path: path, context: context, fields: Self.inputKinds, hints: Self.inputHints,
                                      what: "an input object with one of pfs, cross, union, join, group or cron")
        let kinds = Self.inputKinds.filter { reader.has($0) }
        guard let kind = kinds.first else {
            throw context.error(path, node, "set one of pfs, cross, union, join, group or cron, e.g. {\"pfs\": {\"repo\": \"images\", \"glob\": \"/*\"}}")
        }
        guard kinds.count == 1 else {
            throw reader.error(kinds[1], "an input object holds exactly one kind, but this one sets both \"\(kinds[0])\" and \"\(kinds[1])\"; to combine inputs list them under cross or union, e.g. {\"cross\": [{\"pfs\": …}, {\"pfs\": …}]}")
        }
        switch kind {
        case "pfs", "atom":
            let atom = kind == "atom"
            if atom { sawAtom = true }
            let object = try reader.object(kind, fields: atom ? Self.atomFields : Self.pfsFields,
                                           ignored: atom ? [] : Self.pfsIgnored, hints: Self.pfsHints)!
            let (pfs, use) = try translatePFS(object, atom: atom)
            return (.pfs(pfs), [use])
        case "cron":
            let (cron, use) = try translateCron(reader)
            return (.cron(cron), [use])
        case "git":
            throw reader.error("git", "git inputs are not supported by pfs; copy the repository into a pfs repo (e.g. git archive | tar -x -C ~/pfs/code/master) and use a pfs input")
        default:
            return try translateCombination(reader, kind: kind)
        }
    }

    private func translateCombination(_ reader: ObjectReader, kind: String) throws(SpecError) -> (input: Input, names: [NameUse]) {
        guard let items = try reader.list(kind) else { throw reader.missing(kind, "required") }
        guard !items.isEmpty else {
            throw reader.error(kind, "needs at least one input, e.g. [{\"pfs\": {\"repo\": \"images\", \"glob\": \"/*\"}}]")
        }
        var children: [Input] = []
        var names: [NameUse] = []
        for (path, node) in items {
            let (child, childNames) = try translateInput(node, path: path)
            if kind == "join" || kind == "group" {
                try checkKeyed(child, childNames, path: path, node: node, kind: kind)
            }
            if kind == "union" {
                // A union's datums come from one of its inputs at a time, so its inputs may share a name
                // (Pachyderm recommends it); only names that meet in one datum must differ.
                for use in childNames where !names.contains(where: { $0.name == use.name }) {
                    names.append(use)
                }
            } else {
                for use in childNames {
                    if let earlier = names.first(where: { $0.name == use.name }) {
                        throw duplicateName(use, earlier: earlier, kind: kind)
                    }
                    names.append(use)
                }
            }
            children.append(child)
        }
        switch kind {
        case "cross": return (.cross(children), names)
        case "union": return (.union(children), names)
        case "join": return (.join(children), names)
        default: return (.group(children), names)
        }
    }

    /// Each input of a join needs `join_on`, of a group `group_by`.
    private func checkKeyed(_ child: Input, _ names: [NameUse], path: String, node: SpecNode, kind: String) throws(SpecError) {
        let field = kind == "join" ? "join_on" : "group_by"
        guard case .pfs(let pfs) = child, let use = names.first else {
            throw context.error(path, node, "each input of a \(kind) must be a pfs input with \"\(field)\", e.g. {\"pfs\": {\"repo\": \"stores\", \"glob\": \"/STOREID(*).txt\", \"\(field)\": \"$1\"}}")
        }
        let key = kind == "join" ? pfs.joinOn : pfs.groupBy
        guard let key, !key.isEmpty else {
            throw context.error(SpecContext.join(use.objectPath, field), use.node,
                                "required in a \(kind): the key built from the glob's capture groups, e.g. \"$1\" with glob \"/STOREID(*).txt\"")
        }
    }

    private func duplicateName(_ use: NameUse, earlier: NameUse, kind: String) -> SpecError {
        let hint = "inputs that meet in one datum need different names; set \"name\" on one of them (e.g. \"name\": \"\(use.name)2\"), it becomes /pfs/<name> in the worker"
        return context.error(SpecContext.join(use.objectPath, "name"), use.node,
                             "the input name \"\(use.name)\" is also used by \(earlier.objectPath) (line \(earlier.node.line)) in the same \(kind); \(hint)")
    }

    // MARK: - pfs and atom

    private func translatePFS(_ r: ObjectReader, atom: Bool) throws(SpecError) -> (PFSInput, NameUse) {
        if let f = r.field("repo"), case .object = f.value.value {
            throw r.error("repo", "expected the repo's name as a string, got an object; write \"repo\": \"data\" (the {\"name\": …} form belongs to the 1.x \"inputs\" list)")
        }
        let repo = try r.requiredString("repo", "required: the name of the repo to read")
        do {
            try Names.validateRepo(repo)
        } catch {
            throw r.error("repo", "\(error)")
        }
        let name = try r.string("name").flatMap { $0.isEmpty ? nil : $0 } ?? repo
        if r.has("name") {
            try validateInputName(name, path: r.path(of: "name"), node: r.field("name")!.value)
        } else {
            try validateInputName(name, path: r.path(of: "repo"), node: r.field("repo")!.value, defaulted: true)
        }
        let branch = try r.string("branch").flatMap { $0.isEmpty ? nil : $0 } ?? "master"
        do {
            try Names.validateBranch(branch)
        } catch {
            throw r.error("branch", "\(error)")
        }

        let globHelp = "which paths form datums, e.g. \"/*\" (each top-level file or directory is a datum) or \"/\" (the whole repo is one datum)"
        guard let glob = try r.string("glob"), !glob.isEmpty else {
            if r.has("glob") { throw r.error("glob", "must not be empty: \(globHelp)") }
            throw r.missing("glob", "required: \(globHelp)")
        }
        // CaptureGlob is what the datum planner matches with: it checks the glob (via PFSCore's Glob) and its
        // capture groups `( … )` the same way here as at planning time.
        let captures: Int
        do {
            captures = try CaptureGlob(glob).groupCount
        } catch {
            throw r.error("glob", "\(error)")
        }

        var pfs = PFSInput(name: name, repo: repo, branch: branch, glob: glob)
        pfs.lazy = try r.bool("lazy") ?? false
        pfs.emptyFiles = try r.bool("empty_files") ?? false
        if let joinOn = try r.string("join_on"), !joinOn.isEmpty {
            try checkCaptureReferences(joinOn, field: "join_on", glob: glob, captures: captures, r)
            pfs.joinOn = joinOn
        }
        if let groupBy = try r.string("group_by"), !groupBy.isEmpty {
            try checkCaptureReferences(groupBy, field: "group_by", glob: glob, captures: captures, r)
            pfs.groupBy = groupBy
        }
        pfs.outerJoin = try r.bool("outer_join") ?? false

        if let commit = try r.string("commit"), !commit.isEmpty {
            throw r.error("commit", "pinning an input to one commit is not supported by pfs; inputs follow their branch (create a branch at that commit and set \"branch\" instead)")
        }
        if !atom {
            try checkProject(r, "project", allowName: false)
            if let type = try r.string("repo_type"), !type.isEmpty, type != "user" {
                throw r.error("repo_type", "only \"user\" repos can be inputs in pfs, got \"\(SpecNode.abbreviate(type))\"")
            }
            if try r.bool("s3") == true {
                throw r.error("s3", "reading inputs through Pachyderm's S3 gateway is not supported by pfs; remove \"s3\" and read the files under /pfs/\(name)")
            }
        }
        return (pfs, NameUse(name: name, objectPath: r.path, node: r.node))
    }

    /// Input and cron names become `/pfs/<name>` and environment variable names in the worker.
    func validateInputName(_ name: String, path: String, node: SpecNode, defaulted: Bool = false) throws(SpecError) {
        let fix = defaulted ? " (the input's name defaults to its repo's; set \"name\")" : ""
        guard name.utf8.count <= Names.maxNameLength else {
            throw context.error(path, node, "the input name is longer than \(Names.maxNameLength) bytes")
        }
        guard name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D }) else {
            throw context.error(path, node, "invalid input name \"\(SpecNode.abbreviate(name))\": only letters, digits, '_' and '-' are allowed\(fix)")
        }
        if name == "out" || name == "prev" {
            throw context.error(path, node, "the input name \"\(name)\" is reserved (/pfs/\(name) is the pipeline's \(name == "out" ? "output" : "previous output") directory)\(fix)")
        }
    }

    /// `$N` and `${N}` in a join/group key must name a capture group of the glob (`$0` is the whole path, `$$` a
    /// literal `$`), as `CaptureGlob.key` reads them.
    private func checkCaptureReferences(_ key: String, field: String, glob: String, captures: Int, _ r: ObjectReader) throws(SpecError) {
        let t = Array(key.unicodeScalars)
        var i = 0
        while i < t.count {
            guard t[i] == "$" else { i += 1; continue }
            var j = i + 1
            var braced = false
            if j < t.count, t[j] == "$" { i = j + 1; continue }
            if j < t.count, t[j] == "{" { braced = true; j += 1 }
            var digits = ""
            while j < t.count, t[j].isASCII, ("0"..."9").contains(t[j]) { digits.unicodeScalars.append(t[j]); j += 1 }
            if braced {
                if j < t.count, t[j] == "}" { j += 1 } else { digits = "" }
            }
            guard let n = Int(digits) else {
                throw r.error(field, "'$' must be followed by a capture group number (\"$1\" or \"${1}\"); write \"$$\" for a literal '$'")
            }
            guard n <= captures else {
                let groups = captures == 0 ? "no capture groups" : "\(captures) capture group\(captures == 1 ? "" : "s")"
                throw r.error(field, "\"$\(n)\" refers to capture group \(n), but the glob \"\(glob)\" has \(groups); put the part of the path to match in parentheses, e.g. \"/(*).txt\"")
            }
            i = j
        }
    }

    // MARK: - cron

    private func translateCron(_ reader: ObjectReader) throws(SpecError) -> (CronInput, NameUse) {
        let c = try reader.object("cron", fields: ["name", "spec", "overwrite", "repo", "start", "project", "commit"])!
        let name = try c.requiredString("name", "required: the input's name (the worker sees the tick under /pfs/<name>), e.g. \"tick\"")
        try validateInputName(name, path: c.path(of: "name"), node: c.field("name")!.value)
        let spec = try c.requiredString("spec", "required: when to run, e.g. \"@every 1h\" or \"*/10 * * * *\"")
        if let problem = CronSchedule.problem(in: spec) {
            throw c.error("spec", problem)
        }
        var cron = CronInput(name: name, spec: spec)
        cron.overwrite = try c.bool("overwrite") ?? false
        if let repo = try c.string("repo"), !repo.isEmpty {
            do {
                try Names.validateRepo(repo)
            } catch {
                throw c.error("repo", "\(error)")
            }
            cron.repo = repo
        }
        if let start = try c.string("start"), !start.isEmpty {
            guard let date = Self.rfc3339(start) else {
                throw c.error("start", "\"\(SpecNode.abbreviate(start))\" is not an RFC 3339 time; write it like \"2024-01-31T09:00:00Z\"")
            }
            cron.start = date
        }
        try checkProject(c, "project", allowName: false)
        if let commit = try c.string("commit"), !commit.isEmpty {
            throw c.error("commit", "pinning a cron input to a commit is not supported by pfs; remove \"commit\"")
        }
        return (cron, NameUse(name: name, objectPath: c.path, node: c.node))
    }

    static func rfc3339(_ text: String) -> Date? {
        // A fresh formatter per call: ISO8601DateFormatter is not Sendable, and this runs once per cron input.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = formatter.date(from: text) { return d }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

import PFSCore

/// Pachyderm 1.x's top-level `inputs` list, translated to the 2.x input model (docs/pipeline-spec.md has the
/// tables).
///
/// 1.1–1.3 describe each input with a `method`: a partition unit (how data is split across containers) and an
/// incrementality (what a job sees of a changed input). pfs has no blocks and runs datums rather than
/// containers, so partitions become globs:
///
/// | partition | glob | why |
/// |---|---|---|
/// | BLOCK | `/*` | each top-level file is processed on its own, outputs are concatenated — what `map` code expects |
/// | FILE  | `/`  | 1.x showed all top-level objects to the one container a parallelism of 1 gives; `reduce` code (the fruit stand's `sum`) reads them all |
/// | REPO  | `/`  | the whole repo |
///
/// and Pachyderm's aliases, from its incrementality docs: `map` = BLOCK + DIFF, `reduce` = FILE + NONE,
/// `global` = REPO + NONE (and 1.0's `incremental_reduce` = FILE + DIFF; 1.0's `"reduce": bool` input field). A method without incrementality (NONE) means each job recomputes everything, so the
/// output starts empty (`overwriteOutput`). 1.4–1.6 inputs carry a `glob` instead of a method and behave like 2.x.
extension SpecTranslator {
    static let v1InputFields = ["repo", "name", "branch", "glob", "lazy", "method", "reduce"]
    /// `runEmpty` (run a job even when the input's diff is empty) and `from` (start from a commit) have no
    /// counterpart: pfs runs a job for every input commit and skips unchanged datums.
    static let v1InputIgnored = ["run_empty", "from"]

    private enum Partition: String { case block = "BLOCK", file = "FILE", repo = "REPO" }

    func translateV1Inputs(_ top: ObjectReader) throws(SpecError) -> (input: Input, impliedOverwrite: Bool) {
        guard let items = try top.list("inputs") else { throw top.missing("inputs", "required") }
        guard !items.isEmpty else {
            throw top.error("inputs", "needs at least one input (pfs pipelines run when an input changes), e.g. [{\"repo\": {\"name\": \"data\"}, \"method\": \"map\"}]")
        }
        var inputs: [Input] = []
        var names: [NameUse] = []
        var impliedOverwrite = false
        for (path, node) in items {
            let r = try ObjectReader(node, path: path, context: context, fields: Self.v1InputFields,
                                     ignored: Self.v1InputIgnored,
                                     hints: ["pfs": "1.x \"inputs\" name repos directly: {\"repo\": {\"name\": \"data\"}, \"glob\": \"/*\"}; for pfs inputs use the 2.x \"input\" field instead of \"inputs\""],
                                     what: "an input like {\"repo\": {\"name\": \"data\"}, \"method\": \"map\"}")
            guard let repoObject = try r.object("repo", fields: ["name"], what: "an object like {\"name\": \"data\"}") else {
                throw r.missing("repo", "required: the repo to read, e.g. \"repo\": {\"name\": \"data\"}")
            }
            let repo = try repoObject.requiredString("name", "required: the repo's name")
            do {
                try Names.validateRepo(repo)
            } catch {
                throw repoObject.error("name", "\(error)")
            }
            let name = try r.string("name").flatMap { $0.isEmpty ? nil : $0 } ?? repo
            if r.has("name") {
                try validateInputName(name, path: r.path(of: "name"), node: r.field("name")!.value)
            } else {
                try validateInputName(name, path: repoObject.path(of: "name"), node: repoObject.field("name")!.value, defaulted: true)
            }
            let branch = try r.string("branch").flatMap { $0.isEmpty ? nil : $0 } ?? "master"
            do {
                try Names.validateBranch(branch)
            } catch {
                throw r.error("branch", "\(error)")
            }

            let glob: String
            let incremental: PFSInput.Incremental
            if let g = try r.string("glob"), !g.isEmpty {
                if r.has("method") {
                    throw r.error("method", "set either \"method\" (1.1–1.3) or \"glob\" (1.4+), not both")
                }
                do {
                    _ = try Glob(g)
                } catch {
                    throw r.error("glob", "\(error)")
                }
                glob = g
                incremental = .none
            } else {
                let partition: Partition
                if let reduce = try r.bool("reduce") {
                    // 1.0: "reduce": true partitioned by files, false by blocks.
                    if r.has("method") { throw r.error("reduce", "\"reduce\" is the 1.0 form of \"method\"; keep one") }
                    (partition, incremental) = reduce ? (.file, .none) : (.block, .diff)
                } else {
                    (partition, incremental) = try method(r)
                }
                glob = partition == .block ? "/*" : "/"
                if incremental == .none { impliedOverwrite = true }
            }

            var pfs = PFSInput(name: name, repo: repo, branch: branch, glob: glob)
            pfs.incremental = incremental
            pfs.lazy = try r.bool("lazy") ?? false
            let use = NameUse(name: name, objectPath: path, node: node)
            if let earlier = names.first(where: { $0.name == name }) {
                // 1.x crosses its inputs, so every name is seen in every datum.
                throw context.error(SpecContext.join(path, "name"), node,
                                    "the input name \"\(name)\" is also used by \(earlier.objectPath) (line \(earlier.node.line)); 1.x inputs are crossed, so each needs its own name: set \"name\" on one of them, it becomes /pfs/<name> in the worker")
            }
            names.append(use)
            inputs.append(.pfs(pfs))
        }
        return (inputs.count == 1 ? inputs[0] : .cross(inputs), impliedOverwrite)
    }

    /// `method`: "map" | "reduce" | "global" | {partition, incremental}; absent means "map" (1.x's default).
    private func method(_ r: ObjectReader) throws(SpecError) -> (Partition, PFSInput.Incremental) {
        guard let f = r.field("method") else { return (.block, .diff) }
        let path = r.path(of: "method")
        switch f.value.value {
        case .string(let s):
            switch s.lowercased() {
            case "map": return (.block, .diff)
            case "reduce": return (.file, .none)
            case "global": return (.repo, .none)
            case "incremental_reduce": return (.file, .diff)  // 1.0–1.1
            default:
                throw context.error(path, f.value, "must be \"map\", \"reduce\", \"global\", \"incremental_reduce\" or {\"partition\": \"BLOCK\"|\"FILE\"|\"REPO\", \"incremental\": \"NONE\"|\"DIFF\"|\"FILE\"}, got \"\(SpecNode.abbreviate(s))\"")
            }
        case .object:
            // `incrementality` (a boolean) is the 1.0–1.1 spelling of `incremental`.
            let m = try ObjectReader(f.value, path: path, context: context, fields: ["partition", "incremental", "incrementality"])
            if m.has("incremental"), m.has("incrementality") {
                throw m.error("incrementality", "\"incrementality\" is the 1.0 spelling of \"incremental\"; keep one")
            }
            // Missing values are protobuf's zero values, as in Pachyderm 1.x: BLOCK and NONE.
            var partition = Partition.block
            if let p = try m.string("partition") {
                guard let value = Partition(rawValue: p.uppercased()) else {
                    throw m.error("partition", "must be \"BLOCK\", \"FILE\" or \"REPO\", got \"\(SpecNode.abbreviate(p))\"")
                }
                partition = value
            }
            var incremental = PFSInput.Incremental.none
            let incrementalName = m.has("incrementality") ? "incrementality" : "incremental"
            if let i = m.field(incrementalName) {
                let ipath = m.path(of: incrementalName)
                switch i.value.value {
                case .bool(let b):
                    incremental = b ? .diff : .none
                case .string(let s):
                    guard let value = PFSInput.Incremental(rawValue: s.lowercased()) else {
                        throw context.error(ipath, i.value, "must be \"NONE\", \"DIFF\" or \"FILE\" (or true/false), got \"\(SpecNode.abbreviate(s))\"")
                    }
                    incremental = value
                default:
                    throw context.error(ipath, i.value, "expected \"NONE\", \"DIFF\", \"FILE\" or a boolean, got \(i.value.kindDescription)")
                }
            }
            return (partition, incremental)
        default:
            throw context.error(path, f.value, "expected \"map\", \"reduce\", \"global\" or an object {\"partition\": …, \"incremental\": …}, got \(f.value.kindDescription)")
        }
    }
}

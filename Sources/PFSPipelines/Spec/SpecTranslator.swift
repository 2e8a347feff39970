import Foundation
import PFSCore

/// Translates one parsed spec document (any dialect) into a validated `PipelineSpec`.
/// Inputs are in `SpecTranslator+Input.swift` (2.x and 1.7) and `SpecTranslator+V1.swift` (1.x `inputs`).
final class SpecTranslator {
    let context: SpecContext
    /// Set when a 1.7 `atom` input was seen anywhere in the input tree.
    var sawAtom = false

    init(context: SpecContext) {
        self.context = context
    }

    // MARK: - Field tables

    static let topFields = [
        "pipeline", "description", "transform", "input", "inputs", "parallelism", "parallelism_spec",
        "datum_tries", "datum_timeout", "job_timeout", "resource_requests", "resource_limits", "output_branch",
        "reprocess_spec", "egress", "output", "s3_out", "spout", "service", "tf_job",
    ]

    /// Accepted with no effect (documented in docs/pipeline-spec.md): Kubernetes scheduling and sizing, stats,
    /// caches, and request flags that `pfs update pipeline` expresses as options.
    static let topIgnored = [
        "autoscaling", "pod_spec", "pod_patch", "scheduling_spec", "sidecar_resource_limits",
        "sidecar_resource_requests", "metadata", "tolerations", "datum_set_spec", "spec_commit", "salt", "standby",
        "cache_size", "max_queue_size", "chunk_spec", "enable_stats", "hashtree_spec", "scale_down_threshold",
        "gc_policy", "update", "reprocess", "dry_run", "batch", "incremental", "determined",
    ]

    static let topHints: [String: String] = {
        var h: [String: String] = [:]
        for f in ["cmd", "image", "stdin", "env", "secrets", "err_cmd", "errCmd", "err_stdin", "errStdin",
                  "accept_return_code", "acceptReturnCode", "user", "working_dir", "workingDir", "overwrite"] {
            h[f] = "\"\(f)\" belongs inside \"transform\": {\"transform\": {\"\(f)\": …}}"
        }
        for f in ["repo", "glob", "branch", "join_on", "joinOn", "group_by", "groupBy", "lazy"] {
            h[f] = "\"\(f)\" belongs inside the input: {\"input\": {\"pfs\": {\"\(f)\": …}}}"
        }
        for f in ["pfs", "cross", "union", "join", "group", "cron", "atom"] {
            h[f] = "\"\(f)\" belongs inside \"input\": {\"input\": {\"\(f)\": …}}"
        }
        h["name"] = "the pipeline's name goes in \"pipeline\": {\"pipeline\": {\"name\": …}}"
        h["resources"] = "did you mean \"resource_requests\" or \"resource_limits\"?"
        h["constant"] = "\"constant\" belongs inside \"parallelism_spec\": {\"parallelism_spec\": {\"constant\": …}}"
        h["coefficient"] = "\"coefficient\" belongs inside \"parallelism_spec\""
        h["git"] = "\"git\" inputs are not supported by pfs"
        return h
    }()

    static let transformFields = [
        "image", "cmd", "stdin", "env", "secrets", "err_cmd", "err_stdin", "accept_return_code", "user",
        "working_dir", "overwrite", "build", "datum_batching", "runner",
    ]
    static let transformIgnored = ["image_pull_secrets", "debug", "dockerfile", "memory_volume"]

    // MARK: - Translation

    func translate(_ root: SpecNode) throws(SpecError) -> PipelineSpec {
        let top = try ObjectReader(root, path: "", context: context, fields: Self.topFields, ignored: Self.topIgnored,
                                   hints: Self.topHints, what: "a pipeline spec object")
        try rejectUnsupported(top)

        let name = try pipelineName(top)
        let transform = try translateTransform(top)

        let input: Input
        var dialect: PipelineSpec.Dialect
        var impliedOverwrite = false
        if top.has("inputs") {
            if top.has("input") {
                throw top.error("inputs", "set either \"input\" (Pachyderm 1.4+ and 2.x) or \"inputs\" (1.x), not both")
            }
            (input, impliedOverwrite) = try translateV1Inputs(top)
            dialect = .v1
        } else if let field = top.field("input") {
            input = try translateInput(field.value, path: top.path(of: "input")).input
            dialect = sawAtom ? .v17 : .v2
        } else {
            throw top.missing("input", "required: what the pipeline reads, e.g. \"input\": {\"pfs\": {\"repo\": \"images\", \"glob\": \"/*\"}}")
        }

        var spec = PipelineSpec(name: name, transform: transform.transform, input: input)
        spec.dialect = dialect
        spec.overwriteOutput = transform.overwrite || impliedOverwrite
        if let d = try top.string("description") { spec.description = d }
        if let p = try parallelism(top) { spec.parallelism = p }
        if let tries = try top.int("datum_tries", min: 1, max: Int64(Int32.max)) { spec.datumTries = Int(tries) }
        spec.datumTimeout = try duration(top, "datum_timeout")
        spec.jobTimeout = try duration(top, "job_timeout")
        spec.resourceRequests = try resources(top, "resource_requests")
        spec.resourceLimits = try resources(top, "resource_limits")
        if let branch = try top.string("output_branch") {
            do {
                try Names.validateBranch(branch)
            } catch {
                throw top.error("output_branch", "\(error)")
            }
            spec.outputBranch = branch
        }
        if let r = try top.string("reprocess_spec") {
            guard let value = PipelineSpec.ReprocessSpec(rawValue: r) else {
                throw top.error("reprocess_spec", "must be \"until_success\" (skip datums that already succeeded, the default) or \"every_job\" (process every datum in every job), got \"\(SpecNode.abbreviate(r))\"")
            }
            spec.reprocessSpec = value
        }
        spec.egress = try egress(top)
        return spec
    }

    private func rejectUnsupported(_ top: ObjectReader) throws(SpecError) {
        if top.has("spout") {
            throw top.error("spout", "spout pipelines are not supported by pfs (there is no long-running ingest container); write to the input repo from outside instead (pfs put file, or cp into the mount), then let a normal pipeline process it")
        }
        if top.has("service") {
            throw top.error("service", "service pipelines are not supported by pfs (workers only run datums to completion); run the service outside pfs and read the data through the mount")
        }
        if top.has("tf_job") {
            throw top.error("tf_job", "Kubeflow TFJob pipelines are not supported by pfs; use a transform with \"cmd\"")
        }
        if try top.bool("s3_out") == true {
            throw top.error("s3_out", "writing output through Pachyderm's S3 gateway is not supported by pfs; remove s3_out and write files to /pfs/out")
        }
    }

    private func pipelineName(_ top: ObjectReader) throws(SpecError) -> String {
        guard let pipeline = try top.object("pipeline", fields: ["name", "project"],
                                            what: "an object like {\"name\": \"edges\"}") else {
            throw top.missing("pipeline", "required: the pipeline's name, e.g. \"pipeline\": {\"name\": \"edges\"}")
        }
        let name = try pipeline.requiredString("name", "required: the pipeline's name, which is also the name of its output repo")
        do {
            try Names.validateRepo(name)
        } catch {
            throw pipeline.error("name", "\(error) (a pipeline's name is also its output repo's name)")
        }
        try checkProject(pipeline, "project", allowName: true)
        return name
    }

    /// pfs has one namespace of repos; specs written for Pachyderm 2.5+ name the `default` project.
    func checkProject(_ object: ObjectReader, _ field: String, allowName: Bool) throws(SpecError) {
        guard let f = object.field(field) else { return }
        let path = object.path(of: field)
        let projectName: String
        if allowName, case .object = f.value.value {
            let project = try ObjectReader(f.value, path: path, context: context, fields: ["name"])
            projectName = try project.string("name") ?? ""
        } else {
            projectName = try Value.string(f.value, path: path, context)
        }
        guard projectName.isEmpty || projectName == "default" else {
            throw context.error(path, f.value, "pfs has no projects (all repos share one namespace); remove \"project\" or set it to \"default\"")
        }
    }

    // MARK: - Transform

    private func translateTransform(_ top: ObjectReader) throws(SpecError) -> (transform: Transform, overwrite: Bool) {
        guard let t = try top.object("transform", fields: Self.transformFields, ignored: Self.transformIgnored) else {
            throw top.missing("transform", "required: what to run, e.g. \"transform\": {\"image\": \"python:3\", \"cmd\": [\"python3\", \"/code/run.py\"]}")
        }
        if t.has("build") {
            throw t.error("build", "build pipelines are not supported by pfs; build the image yourself (or import it with pfs image import) and set transform.image")
        }
        if try t.bool("datum_batching") == true {
            throw t.error("datum_batching", "datum batching is not supported by pfs; remove it (each datum runs the command once)")
        }
        var transform = Transform()
        if let image = try t.string("image"), !image.isEmpty { transform.image = image }

        let cmdHelp = "the command to run, e.g. [\"python3\", \"/edges.py\"] (for a shell script use [\"sh\"] and put the lines in \"stdin\")"
        // An imported image may supply the command (its Entrypoint and Cmd, as Docker runs it); host images cannot.
        let imageCommand = transform.image.map { $0 != "host" } ?? false
        if let cmd = try t.stringList("cmd") {
            guard let first = cmd.first else { throw t.error("cmd", "must not be empty: \(cmdHelp)") }
            guard !first.isEmpty else {
                throw context.error(SpecContext.index(t.path(of: "cmd"), 0), t.field("cmd")?.value, "the program name must not be empty")
            }
            transform.cmd = cmd
        } else if !imageCommand {
            throw t.missing("cmd", "required without an image that has an Entrypoint or Cmd: \(cmdHelp)")
        }
        transform.stdin = try t.stringList("stdin") ?? []
        transform.errCmd = try t.stringList("err_cmd") ?? []
        transform.errStdin = try t.stringList("err_stdin") ?? []
        if !transform.errStdin.isEmpty, transform.errCmd.isEmpty {
            throw t.error("err_stdin", "err_stdin is fed to err_cmd; set err_cmd too (e.g. [\"sh\"])")
        }
        transform.env = try t.stringMap("env") ?? [:]
        for key in transform.env.keys where key.isEmpty || key.contains("=") || key.utf8.contains(0) {
            throw t.error("env", "invalid environment variable name \"\(SpecNode.abbreviate(key))\"")
        }
        transform.secrets = try secrets(t)
        if let codes = try t.list("accept_return_code") {
            for (path, node) in codes {
                let code = try Value.int(node, path: path, context, min: Int64(Int32.min), max: Int64(Int32.max))
                transform.acceptReturnCode.append(Int32(code))
            }
        }
        if let user = try t.string("user"), !user.isEmpty { transform.user = user }
        if let dir = try t.string("working_dir"), !dir.isEmpty {
            guard dir.hasPrefix("/") else {
                throw t.error("working_dir", "must be an absolute path, e.g. \"/code\", got \"\(SpecNode.abbreviate(dir))\"")
            }
            transform.workingDir = dir
        }
        if let runner = try t.string("runner") {
            guard let kind = RunnerKind(spelling: runner) else {
                throw t.error("runner", "must be one of \(RunnerKind.spellings) (or left out: the daemon's --runner), got \"\(SpecNode.abbreviate(runner))\"")
            }
            transform.runner = kind
        }
        let overwrite = try t.bool("overwrite") ?? false
        return (transform, overwrite)
    }

    private func secrets(_ t: ObjectReader) throws(SpecError) -> [SecretRef] {
        guard let list = try t.list("secrets") else { return [] }
        var out: [SecretRef] = []
        for (path, node) in list {
            let s = try ObjectReader(node, path: path, context: context, fields: ["name", "mount_path", "env_var", "key"])
            let name = try s.requiredString("name", "required: the secret's name")
            guard !name.isEmpty else { throw s.error("name", "must not be empty") }
            let mountPath = try s.string("mount_path")
            let envVar = try s.string("env_var")
            let key = try s.string("key")
            switch (mountPath, envVar) {
            case (nil, nil):
                throw context.error(path, node, "set either \"mount_path\" (mount the secret's files there) or \"env_var\" and \"key\" (put one key in an environment variable)")
            case (.some, .some):
                throw s.error("env_var", "set either \"mount_path\" or \"env_var\", not both")
            case (.some(let m), nil):
                guard m.hasPrefix("/") else { throw s.error("mount_path", "must be an absolute path, got \"\(SpecNode.abbreviate(m))\"") }
            case (nil, .some(let e)):
                guard !e.isEmpty else { throw s.error("env_var", "must not be empty") }
                guard let key, !key.isEmpty else {
                    throw s.missing("key", "required with env_var: which key of the secret goes into \(e)")
                }
            }
            out.append(SecretRef(name: name, mountPath: mountPath, envVar: envVar, key: key))
        }
        return out
    }

    // MARK: - Parallelism, timeouts, resources, egress

    /// `parallelism_spec{constant | coefficient, strategy}` (strategy is 1.x) or the 1.x top-level `parallelism`.
    private func parallelism(_ top: ObjectReader) throws(SpecError) -> Int? {
        let maxWorkers: Int64 = 100_000
        if top.has("parallelism") {
            if top.has("parallelism_spec") {
                throw top.error("parallelism", "set either \"parallelism\" (1.x) or \"parallelism_spec\", not both")
            }
            return Int(try top.int("parallelism", min: 1, max: maxWorkers)!)
        }
        guard let p = try top.object("parallelism_spec", fields: ["constant", "coefficient", "strategy"]) else { return nil }
        let constant = try p.int("constant", min: 1, max: maxWorkers)
        let coefficient = try p.double("coefficient")
        if let coefficient, coefficient <= 0 {
            throw p.error("coefficient", "must be positive (workers = coefficient × CPUs of this machine), got \(coefficient)")
        }
        var strategy = try p.string("strategy")?.uppercased()
        if strategy == nil {
            if constant != nil, coefficient != nil {
                throw p.error("coefficient", "set either \"constant\" or \"coefficient\", not both")
            }
            strategy = coefficient != nil ? "COEFFICIENT" : "CONSTANT"
        }
        switch strategy {
        case "CONSTANT":
            if coefficient != nil {
                throw p.error("coefficient", "strategy CONSTANT uses \"constant\"; remove \"coefficient\" or set strategy to COEFFICIENT")
            }
            return Int(constant ?? 1)
        case "COEFFICIENT":
            guard let coefficient else {
                throw p.missing("coefficient", "required with strategy COEFFICIENT: workers per CPU of this machine, e.g. 0.5")
            }
            if constant != nil {
                throw p.error("constant", "strategy COEFFICIENT uses \"coefficient\"; remove \"constant\" or set strategy to CONSTANT")
            }
            // Pachyderm multiplies by the cluster's node count; here the "cluster" is this machine's CPUs.
            return Int(min(Double(maxWorkers), max(1, (coefficient * Double(context.cpuCount)).rounded(.down))))
        default:
            throw p.error("strategy", "must be \"CONSTANT\" or \"COEFFICIENT\"")
        }
    }

    private func duration(_ top: ObjectReader, _ name: String) throws(SpecError) -> Double? {
        guard let f = top.field(name) else { return nil }
        let path = top.path(of: name)
        let seconds: Double?
        switch f.value.value {
        case .number(let n): seconds = Double(n)
        case .string(let s): seconds = SpecDuration.seconds(s)
        default: throw context.error(path, f.value, "expected a duration, got \(f.value.kindDescription); \(SpecDuration.syntaxHelp)")
        }
        guard let seconds, seconds.isFinite else {
            throw context.error(path, f.value, "\(f.value.kindDescription) is not a duration; \(SpecDuration.syntaxHelp)")
        }
        guard seconds > 0 else {
            throw context.error(path, f.value, "must be positive; remove \(name) for no limit")
        }
        return seconds
    }

    private func resources(_ top: ObjectReader, _ name: String) throws(SpecError) -> Resources? {
        guard let r = try top.object(name, fields: ["cpu", "memory", "disk", "gpu"]) else { return nil }
        var out = Resources()
        if let f = r.field("cpu") {
            let path = r.path(of: "cpu")
            switch f.value.value {
            case .number:
                let cpu = try Value.double(f.value, path: path, context)
                guard cpu >= 0 else { throw context.error(path, f.value, "must not be negative") }
                out.cpu = cpu
            case .string(let s):
                switch ResourceQuantity.cpu(s) {
                case .success(let cpu): out.cpu = cpu
                case .failure(.message(let m)): throw context.error(path, f.value, m)
                }
            default:
                throw context.error(path, f.value, "expected a number of CPUs (0.5, 2) or millicores (\"500m\"), got \(f.value.kindDescription)")
            }
        }
        out.memory = try bytes(r, "memory")
        out.disk = try bytes(r, "disk")
        if let f = r.field("gpu") {
            let path = r.path(of: "gpu")
            switch f.value.value {
            case .number, .string:
                // Older specs: "gpu": 1.
                let n = try Value.int(f.value, path: path, context, min: 0, max: 1024)
                out.gpu = n > 0 ? Resources.GPU(type: "nvidia.com/gpu", number: Int(n)) : nil
            case .object:
                let g = try ObjectReader(f.value, path: path, context: context, fields: ["type", "number"])
                let n = try g.int("number", min: 0, max: 1024) ?? 0
                let type = try g.string("type") ?? ""
                if n > 0 {
                    out.gpu = Resources.GPU(type: type.isEmpty ? "nvidia.com/gpu" : type, number: Int(n))
                }
            default:
                throw context.error(path, f.value, "expected {\"type\": \"nvidia.com/gpu\", \"number\": 1} or a number of GPUs, got \(f.value.kindDescription)")
            }
        }
        return out
    }

    private func bytes(_ r: ObjectReader, _ name: String) throws(SpecError) -> Int64? {
        guard let f = r.field(name) else { return nil }
        let path = r.path(of: name)
        let text: String
        switch f.value.value {
        case .number(let n): text = n  // a bare number is bytes
        case .string(let s): text = s
        default: throw context.error(path, f.value, "expected a size like \"512Mi\", \"2Gi\" or \"1G\", got \(f.value.kindDescription)")
        }
        switch ResourceQuantity.bytes(text) {
        case .success(let b): return b
        case .failure(.message(let m)): throw context.error(path, f.value, m)
        }
    }

    /// `egress{URL}` (2.x; `url` accepted) or the 1.3 `output{URL}`.
    private func egress(_ top: ObjectReader) throws(SpecError) -> Egress? {
        if top.has("egress"), top.has("output") {
            throw top.error("output", "\"output\" is the 1.x name of \"egress\"; keep one")
        }
        let name = top.has("output") ? "output" : "egress"
        guard let e = try top.object(name, fields: ["url", "object_storage", "sql_database"],
                                     what: "an object like {\"URL\": \"s3://bucket/dir\"}") else { return nil }
        if e.has("object_storage") || e.has("sql_database") {
            let which = e.has("object_storage") ? "object_storage" : "sql_database"
            throw e.error(which, "egress targets other than a URL are not supported by pfs; use {\"URL\": \"s3://bucket/dir\"}")
        }
        let url = try e.requiredString("url", "required: where to copy each output commit, e.g. {\"URL\": \"s3://bucket/dir\"}")
        guard let schemeEnd = url.range(of: "://"), schemeEnd.lowerBound > url.startIndex else {
            throw e.error("url", "\"\(SpecNode.abbreviate(url))\" is not a URL; write it with a scheme, e.g. \"s3://bucket/dir\" or \"file:///backup/dir\"")
        }
        return Egress(url: url)
    }
}

import Foundation
import GRDB

/// A pipeline as the store keeps it. The spec is opaque JSON here (PFSPipelines owns its meaning).
public struct PipelineRow: Sendable, Equatable {
    public var name: String
    public var spec: String
    public var version: Int
    /// running | paused | failed
    public var state: String
    public var reason: String
    /// Part of every datum hash: kept across updates unless the update asks to reprocess.
    public var salt: String
    public var created: Date
    public var updated: Date
    public init(name: String, spec: String, version: Int, state: String, reason: String, salt: String, created: Date, updated: Date) {
        self.name = name; self.spec = spec; self.version = version; self.state = state; self.reason = reason
        self.salt = salt; self.created = created; self.updated = updated
    }
}

/// A job (one per output commit): its id is the commit set's id. `info` is opaque JSON.
public struct JobRow: Sendable, Equatable {
    public var pipeline: String
    public var id: String
    public var state: String
    public var info: String
    public var seq: Int64
    public init(pipeline: String, id: String, state: String, info: String, seq: Int64) {
        self.pipeline = pipeline; self.id = id; self.state = state; self.info = info; self.seq = seq
    }
}

/// One datum of one job.
public struct DatumRow: Sendable, Equatable {
    public var pipeline: String
    public var job: String
    public var id: String
    public var hash: String
    public var state: String
    public var info: String
    public init(pipeline: String, job: String, id: String, hash: String, state: String, info: String) {
        self.pipeline = pipeline; self.job = job; self.id = id; self.hash = hash; self.state = state; self.info = info
    }
}

extension MetadataStore {
    static func pipelineRow(_ r: Row) -> PipelineRow {
        PipelineRow(name: r["name"], spec: r["spec"], version: r["version"], state: r["state"], reason: r["reason"],
                    salt: r["salt"], created: Date(timeIntervalSince1970: r["created"]),
                    updated: Date(timeIntervalSince1970: r["updated"]))
    }

    static func jobRow(_ r: Row) -> JobRow {
        JobRow(pipeline: r["pipeline"], id: r["id"], state: r["state"], info: r["info"], seq: r["seq"])
    }

    static func datumRow(_ r: Row) -> DatumRow {
        DatumRow(pipeline: r["pipeline"], job: r["job"], id: r["id"], hash: r["hash"], state: r["state"], info: r["info"])
    }
}

extension Store {
    // MARK: pipelines

    public func pipelineRows() throws -> [PipelineRow] {
        try meta.read { db in try Row.fetchAll(db, sql: "SELECT * FROM pipelines ORDER BY name").map(MetadataStore.pipelineRow) }
    }

    public func pipelineRow(_ name: String) throws -> PipelineRow? {
        try meta.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM pipelines WHERE name = ?", arguments: [name]).map(MetadataStore.pipelineRow)
        }
    }

    /// Creates or replaces a pipeline: its output repo (created if missing; refused if it is an ordinary repo
    /// with commits), its output branch's provenance (the input branches), and the stored spec — one transaction.
    public func savePipeline(_ row: PipelineRow, outputBranch: String, inputs: [BranchRef], isUpdate: Bool) throws {
        try Names.validateRepo(row.name)
        try Names.validateBranch(outputBranch)
        let me = BranchRef(repo: row.name, branch: outputBranch)
        try locked {
            try meta.write { db in
                let existing = try Row.fetchOne(db, sql: "SELECT name FROM pipelines WHERE name = ?", arguments: [row.name])
                if isUpdate && existing == nil {
                    throw PFSError.notFound("pipeline \"\(row.name)\" not found; create it with `pfs create pipeline -f SPEC`")
                }
                if !isUpdate && existing != nil {
                    throw PFSError(.alreadyExists, "pipeline \"\(row.name)\" already exists; change it with `pfs update pipeline -f SPEC`")
                }
                for u in inputs {
                    guard try MetadataStore.repo(db, u.repo) != nil else {
                        throw PFSError.notFound("input repo \"\(u.repo)\" of pipeline \"\(row.name)\" does not exist; create it with `pfs create repo \(u.repo)`")
                    }
                    if u.repo == row.name {
                        throw PFSError.invalid("pipeline \"\(row.name)\" cannot read its own output repo")
                    }
                }
                if try MetadataStore.repo(db, row.name) == nil {
                    try MetadataStore.insertRepo(db, RepoRow(name: row.name, description: "Output repo for pipeline \(row.name).", created: Date()))
                } else if existing == nil {
                    throw PFSError(.alreadyExists, "a repo named \"\(row.name)\" already exists; a pipeline writes to a repo of its own name — choose another pipeline name or delete the repo")
                }
                if try MetadataStore.branch(db, row.name, outputBranch) == nil {
                    try MetadataStore.insertBranch(db, BranchRow(repo: row.name, name: outputBranch, head: nil, created: Date()))
                }
                // Cycle check over the whole provenance graph with this branch's new inputs.
                var prov: [BranchRef: [BranchRef]] = [:]
                for b in try MetadataStore.allBranches(db) { prov[BranchRef(repo: b.repo, branch: b.name)] = b.provenance }
                prov[me] = inputs
                var stack = inputs, seen = Set<BranchRef>()
                while let u = stack.popLast() {
                    if u == me {
                        throw PFSError.invalid("pipeline \"\(row.name)\" would read its own output through \(inputs.map(\.description).joined(separator: ", ")): a cycle")
                    }
                    if seen.insert(u).inserted { stack += prov[u] ?? [] }
                }
                for u in inputs where try MetadataStore.branch(db, u.repo, u.branch) == nil {
                    try MetadataStore.insertBranch(db, BranchRow(repo: u.repo, name: u.branch, head: nil, created: Date()))
                }
                try MetadataStore.setProvenance(db, row.name, outputBranch, inputs)
                try db.execute(sql: """
                    INSERT INTO pipelines (name, spec, version, state, reason, salt, created, updated)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, version = excluded.version,
                        state = excluded.state, reason = excluded.reason, salt = excluded.salt, updated = excluded.updated
                    """, arguments: [row.name, row.spec, row.version, row.state, row.reason, row.salt,
                                     row.created.timeIntervalSince1970, row.updated.timeIntervalSince1970])
            }
        }
    }

    public func setPipelineState(_ name: String, state: String, reason: String) throws {
        try locked {
            try meta.write { db in
                try db.execute(sql: "UPDATE pipelines SET state = ?, reason = ? WHERE name = ?", arguments: [state, reason, name])
                guard db.changesCount > 0 else { throw PFSError.notFound("pipeline \"\(name)\" not found; list pipelines with `pfs list pipeline`") }
            }
        }
    }

    /// Deletes a pipeline, its jobs and datum records, and (with `keepRepo` false) its output repo.
    public func deletePipeline(_ name: String, keepRepo: Bool = false) throws {
        try locked {
            try meta.write { db in
                guard try Row.fetchOne(db, sql: "SELECT name FROM pipelines WHERE name = ?", arguments: [name]) != nil else {
                    throw PFSError.notFound("pipeline \"\(name)\" not found; list pipelines with `pfs list pipeline`")
                }
                let downstream = try MetadataStore.allBranches(db).filter { $0.provenance.contains { $0.repo == name } }
                if let d = downstream.first {
                    throw PFSError.precondition("pipeline \"\(d.repo)\" reads the output of \"\(name)\"; delete it first")
                }
                for t in ["pipelines", "jobs", "datums", "datum_outputs"] {
                    try db.execute(sql: "DELETE FROM \(t) WHERE \(t == "pipelines" ? "name" : "pipeline") = ?", arguments: [name])
                }
                if keepRepo {
                    try db.execute(sql: "UPDATE branches SET provenance = '[]' WHERE repo = ?", arguments: [name])
                } else {
                    try MetadataStore.deleteRepo(db, name)
                }
            }
            openTrees.withLock { t in for k in t.keys where k.hasPrefix("\(name)@") { t[k] = nil } }
        }
        finishEvents.notifyAll()
    }

    // MARK: jobs and datums

    public func saveJob(_ job: JobRow) throws {
        try meta.write { db in
            try db.execute(sql: """
                INSERT INTO jobs (pipeline, id, state, info, seq) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(pipeline, id) DO UPDATE SET state = excluded.state, info = excluded.info
                """, arguments: [job.pipeline, job.id, job.state, job.info, job.seq])
        }
    }

    public func nextJobSeq() throws -> Int64 {
        try meta.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs") ?? 1 }
    }

    /// Jobs newest first (of one pipeline, or all).
    public func jobRows(pipeline: String? = nil) throws -> [JobRow] {
        try meta.read { db in
            if let pipeline {
                return try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE pipeline = ? ORDER BY seq DESC", arguments: [pipeline]).map(MetadataStore.jobRow)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY seq DESC").map(MetadataStore.jobRow)
        }
    }

    public func jobRow(pipeline: String, id: String) throws -> JobRow? {
        try meta.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE pipeline = ? AND id = ?", arguments: [pipeline, id]).map(MetadataStore.jobRow)
        }
    }

    public func saveDatum(_ d: DatumRow) throws {
        try saveDatums([d])
    }

    /// Records many datums in one transaction (a job's skipped datums: one commit, not one per datum).
    public func saveDatums(_ rows: [DatumRow]) throws {
        guard !rows.isEmpty else { return }
        try meta.write { db in
            for d in rows { try Self.upsertDatum(db, d) }
        }
    }

    /// Records a finished datum and, when given, its outputs (replacing the ones it had) in one transaction:
    /// a job resumed after a crash sees both or neither.
    public func saveDatum(_ d: DatumRow, outputs: [(path: String, entry: TreeEntry)]?) throws {
        let enc = JSONEncoder()
        try meta.write { db in
            if let outputs { try Self.replaceDatumOutputs(db, pipeline: d.pipeline, datum: d.id, outputs, enc) }
            try Self.upsertDatum(db, d)
        }
    }

    static func upsertDatum(_ db: Database, _ d: DatumRow) throws {
        // A cached statement: a job records thousands of datums.
        try db.cachedStatement(sql: """
            INSERT INTO datums (pipeline, job, id, hash, state, info) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(pipeline, job, id) DO UPDATE SET hash = excluded.hash, state = excluded.state, info = excluded.info
            """).execute(arguments: [d.pipeline, d.job, d.id, d.hash, d.state, d.info])
    }

    @discardableResult
    static func replaceDatumOutputs(_ db: Database, pipeline: String, datum: String,
                                    _ outputs: [(path: String, entry: TreeEntry)], _ enc: JSONEncoder) throws -> [String] {
        let old = try String.fetchAll(db, sql: "SELECT path FROM datum_outputs WHERE pipeline = ? AND datum = ?", arguments: [pipeline, datum])
        try db.execute(sql: "DELETE FROM datum_outputs WHERE pipeline = ? AND datum = ?", arguments: [pipeline, datum])
        let insert = try db.cachedStatement(sql: "INSERT INTO datum_outputs (pipeline, datum, path, entry) VALUES (?, ?, ?, ?)")
        for o in outputs { try insert.execute(arguments: [pipeline, datum, o.path, try enc.encode(o.entry)]) }
        return old
    }

    public func datumRows(pipeline: String, job: String) throws -> [DatumRow] {
        try meta.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM datums WHERE pipeline = ? AND job = ? ORDER BY id", arguments: [pipeline, job]).map(MetadataStore.datumRow)
        }
    }

    // MARK: datum outputs

    /// Replaces the outputs recorded for a datum; returns the paths it had before (they need rebuilding).
    @discardableResult
    public func setDatumOutputs(pipeline: String, datum: String, _ outputs: [(path: String, entry: TreeEntry)]) throws -> [String] {
        let enc = JSONEncoder()
        return try meta.write { db in try Self.replaceDatumOutputs(db, pipeline: pipeline, datum: datum, outputs, enc) }
    }

    /// Every datum's pieces of each of `paths`, in datum-id order, in one read (a job rebuilding thousands of
    /// paths; many paths: one scan of the pipeline's outputs).
    public func datumOutputs(pipeline: String, paths: [String]) throws -> [String: [(datum: String, entry: TreeEntry)]] {
        let dec = JSONDecoder()
        return try meta.read { db in
            var result: [String: [(datum: String, entry: TreeEntry)]] = [:]
            result.reserveCapacity(paths.count)
            if paths.count > 64 {
                let wanted = Set(paths)
                let rows = try Row.fetchCursor(db, sql: "SELECT path, datum, entry FROM datum_outputs WHERE pipeline = ? ORDER BY path, datum",
                                               arguments: [pipeline])
                while let r = try rows.next() {
                    let path: String = r["path"]
                    guard wanted.contains(path) else { continue }
                    result[path, default: []].append((r["datum"], try dec.decode(TreeEntry.self, from: r["entry"] as Data)))
                }
            } else {
                let select = try db.cachedStatement(sql: "SELECT datum, entry FROM datum_outputs WHERE pipeline = ? AND path = ? ORDER BY datum")
                for path in paths {
                    let rows = try Row.fetchAll(select, arguments: [pipeline, path])
                    if !rows.isEmpty {
                        result[path] = try rows.map { ($0["datum"], try dec.decode(TreeEntry.self, from: $0["entry"] as Data)) }
                    }
                }
            }
            return result
        }
    }

    /// Every datum's piece of `path`, in datum-id order.
    public func datumOutputs(pipeline: String, path: String) throws -> [(datum: String, entry: TreeEntry)] {
        let dec = JSONDecoder()
        return try meta.read { db in
            try Row.fetchAll(db, sql: "SELECT datum, entry FROM datum_outputs WHERE pipeline = ? AND path = ? ORDER BY datum",
                             arguments: [pipeline, path]).map { ($0["datum"], try dec.decode(TreeEntry.self, from: $0["entry"] as Data)) }
        }
    }
}

extension Store {
    /// What a datum wrote (its current outputs), by path.
    public func datumOutputList(pipeline: String, datum: String) throws -> [(path: String, entry: TreeEntry)] {
        let dec = JSONDecoder()
        return try meta.read { db in
            try Row.fetchAll(db, sql: "SELECT path, entry FROM datum_outputs WHERE pipeline = ? AND datum = ? ORDER BY path",
                             arguments: [pipeline, datum]).map { ($0["path"], try dec.decode(TreeEntry.self, from: $0["entry"] as Data)) }
        }
    }
}

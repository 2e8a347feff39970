import Foundation
import GRDB

/// Repos, branches, commits and the staged-op logs of open commits, in SQLite (WAL, synchronous=FULL)
/// through a GRDB `DatabasePool`: one writer, concurrent readers. Every state change is one transaction;
/// the store's objects are always durable before a transaction that references them commits.
public final class MetadataStore: Sendable {
    let pool: DatabasePool

    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // FULL: a finished commit survives power loss, not only a crash of the daemon. Set on the writer
            // after the pool exists: DatabasePool switches its writer to WAL with synchronous=NORMAL after
            // `prepareDatabase` has run, which left every transaction since the last checkpoint unsynced (found
            // by `scripts/torture --power-loss`: a power cut lost every repo and commit).
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Self.migrator.migrate(pool)
        } catch {
            throw Self.map(error, "opening the metadata database \(path)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE repos (
                    name TEXT PRIMARY KEY NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    created REAL NOT NULL);
                CREATE TABLE branches (
                    repo TEXT NOT NULL REFERENCES repos(name) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    head TEXT,
                    created REAL NOT NULL,
                    PRIMARY KEY (repo, name));
                CREATE TABLE commits (
                    id TEXT NOT NULL,
                    repo TEXT NOT NULL REFERENCES repos(name) ON DELETE CASCADE,
                    branch TEXT,
                    parent TEXT,
                    root TEXT,
                    state TEXT NOT NULL,
                    origin TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    started REAL NOT NULL,
                    finished REAL,
                    size INTEGER NOT NULL DEFAULT 0,
                    commit_set TEXT NOT NULL,
                    provenance TEXT NOT NULL DEFAULT '[]',
                    seq INTEGER NOT NULL,
                    PRIMARY KEY (repo, id));
                CREATE INDEX commits_repo_seq ON commits(repo, seq);
                CREATE INDEX commits_parent ON commits(repo, parent);
                CREATE INDEX commits_set ON commits(commit_set);
                CREATE TABLE staged_ops (
                    repo TEXT NOT NULL,
                    commit_id TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    op BLOB NOT NULL,
                    PRIMARY KEY (repo, commit_id, seq),
                    FOREIGN KEY (repo, commit_id) REFERENCES commits(repo, id) ON DELETE CASCADE);
                """)
        }
        m.registerMigration("v2: staged op times") { db in
            // The time each op was applied at: a replay after a restart gives directories the same mtimes.
            try db.execute(sql: "ALTER TABLE staged_ops ADD COLUMN now_ns INTEGER NOT NULL DEFAULT 0")
        }
        m.registerMigration("v3: branch provenance, pipelines, jobs, datums") { db in
            // A branch's provenance: the branches its commits are computed from (a pipeline's inputs).
            try db.execute(sql: """
                ALTER TABLE branches ADD COLUMN provenance TEXT NOT NULL DEFAULT '[]';
                CREATE TABLE pipelines (
                    name TEXT PRIMARY KEY NOT NULL,
                    spec TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    reason TEXT NOT NULL DEFAULT '',
                    salt TEXT NOT NULL,
                    created REAL NOT NULL,
                    updated REAL NOT NULL);
                CREATE TABLE jobs (
                    pipeline TEXT NOT NULL,
                    id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    info TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    PRIMARY KEY (pipeline, id));
                CREATE INDEX jobs_seq ON jobs(seq);
                CREATE TABLE datums (
                    pipeline TEXT NOT NULL,
                    job TEXT NOT NULL,
                    id TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    state TEXT NOT NULL,
                    info TEXT NOT NULL,
                    PRIMARY KEY (pipeline, job, id));
                CREATE TABLE datum_outputs (
                    pipeline TEXT NOT NULL,
                    datum TEXT NOT NULL,
                    path TEXT NOT NULL,
                    entry BLOB NOT NULL,
                    PRIMARY KEY (pipeline, datum, path));
                CREATE INDEX datum_outputs_path ON datum_outputs(pipeline, path);
                """)
        }
        return m
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw Self.map(error, "reading metadata") }
    }

    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch { throw Self.map(error, "writing metadata") }
    }

    /// One transaction committed with `synchronous = NORMAL`: it survives a crash of the process at once (the
    /// WAL is in the kernel's page cache), and a power loss from the next `synchronous = FULL` commit or
    /// checkpoint on (the WAL is synced in order, so it never outlives a later transaction). For the mount's
    /// staged ops; see docs/storage.md, "Durability steps".
    public func writeUnsynced<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch { throw Self.map(error, "writing metadata") }
    }

    /// Makes every committed transaction durable against power loss (a checkpoint syncs the WAL, then the
    /// database file).
    public func syncWAL() throws {
        do { try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.full) } } catch { throw Self.map(error, "syncing metadata") }
    }

    static func map(_ error: any Error, _ what: String) -> any Error {
        if error is PFSError { return error }
        if let db = error as? DatabaseError {
            switch db.resultCode {
            case .SQLITE_FULL:
                return PFSError(.noSpace, "\(what): the disk holding the pfs data directory is full; free some space and retry — nothing committed was changed", cause: error)
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                return PFSError(.corrupt, "\(what): the metadata database is damaged (\(db.message ?? "")); restore it from a backup", cause: error)
            case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN:
                return PFSError(.failedPrecondition, "\(what): cannot open or write the metadata database (\(db.message ?? "")); check the data directory's permissions", cause: error)
            default:
                break
            }
        }
        return PFSError(.io, "\(what): \(error)", cause: error)
    }
}

// MARK: rows

public struct RepoRow: Sendable {
    public var name: String
    public var description: String
    public var created: Date
}

public struct BranchRow: Sendable {
    public var repo: String
    public var name: String
    public var head: String?
    public var created: Date
    /// The branches this branch's commits are computed from.
    public var provenance: [BranchRef] = []
}

public struct CommitRow: Sendable {
    public var id: String
    public var repo: String
    public var branch: String?
    public var parent: String?
    public var root: ObjectHash?
    public var state: CommitState
    public var origin: CommitOrigin
    public var description: String
    public var started: Date
    public var finished: Date?
    public var size: Int64
    public var commitSet: String
    public var provenance: [CommitRefInfo]
    public var seq: Int64
}

extension MetadataStore {
    // MARK: repos

    static func repo(_ db: Database, _ name: String) throws -> RepoRow? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM repos WHERE name = ?"), arguments: [name]).map(repoRow)
    }

    static func repos(_ db: Database) throws -> [RepoRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM repos ORDER BY name").map(repoRow)
    }

    static func insertRepo(_ db: Database, _ r: RepoRow) throws {
        try db.execute(sql: "INSERT INTO repos (name, description, created) VALUES (?, ?, ?)",
                       arguments: [r.name, r.description, r.created.timeIntervalSince1970])
    }

    static func setRepoDescription(_ db: Database, _ name: String, _ d: String) throws {
        try db.execute(sql: "UPDATE repos SET description = ? WHERE name = ?", arguments: [d, name])
    }

    static func deleteRepo(_ db: Database, _ name: String) throws {
        try db.execute(sql: "DELETE FROM repos WHERE name = ?", arguments: [name])
    }

    private static func repoRow(_ row: Row) -> RepoRow {
        RepoRow(name: row["name"], description: row["description"], created: Date(timeIntervalSince1970: row["created"]))
    }

    // MARK: branches

    static func branch(_ db: Database, _ repo: String, _ name: String) throws -> BranchRow? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM branches WHERE repo = ? AND name = ?"), arguments: [repo, name]).map(branchRow)
    }

    static func branches(_ db: Database, _ repo: String) throws -> [BranchRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM branches WHERE repo = ? ORDER BY name", arguments: [repo]).map(branchRow)
    }

    static func insertBranch(_ db: Database, _ b: BranchRow) throws {
        try db.execute(sql: "INSERT INTO branches (repo, name, head, created) VALUES (?, ?, ?, ?)",
                       arguments: [b.repo, b.name, b.head, b.created.timeIntervalSince1970])
    }

    static func setHead(_ db: Database, _ repo: String, _ branch: String, _ head: String?) throws {
        try db.execute(sql: "UPDATE branches SET head = ? WHERE repo = ? AND name = ?", arguments: [head, repo, branch])
    }

    static func deleteBranch(_ db: Database, _ repo: String, _ name: String) throws {
        try db.execute(sql: "DELETE FROM branches WHERE repo = ? AND name = ?", arguments: [repo, name])
    }

    static func branchesPointingAt(_ db: Database, _ repo: String, _ commit: String) throws -> [BranchRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM branches WHERE repo = ? AND head = ?", arguments: [repo, commit]).map(branchRow)
    }

    private static func branchRow(_ row: Row) -> BranchRow {
        let prov: String = row["provenance"] ?? "[]"
        return BranchRow(repo: row["repo"], name: row["name"], head: row["head"], created: Date(timeIntervalSince1970: row["created"]),
                         provenance: (try? JSONDecoder().decode([BranchRef].self, from: Data(prov.utf8))) ?? [])
    }

    static func setProvenance(_ db: Database, _ repo: String, _ branch: String, _ prov: [BranchRef]) throws {
        let json = String(decoding: try JSONEncoder().encode(prov), as: UTF8.self)
        try db.execute(sql: "UPDATE branches SET provenance = ? WHERE repo = ? AND name = ?", arguments: [json, repo, branch])
    }

    static func allBranches(_ db: Database) throws -> [BranchRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM branches ORDER BY repo, name").map(branchRow)
    }

    // MARK: commits

    /// Commit ids are unique within a repo; the commits of one commit set share their id across repos.
    static func commit(_ db: Database, _ repo: String, _ id: String) throws -> CommitRow? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM commits WHERE repo = ? AND id = ?"), arguments: [repo, id]).map(commitRow)
    }

    /// Commits of `repo` whose id starts with `prefix` (at most `limit`).
    static func commits(_ db: Database, repo: String, idPrefix: String, limit: Int = 10) throws -> [CommitRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM commits WHERE repo = ? AND id >= ? AND id < ? ORDER BY id LIMIT ?",
                         arguments: [repo, idPrefix, idPrefix + "g", limit]).map(commitRow)
    }

    /// Every commit of `repo`, newest first.
    static func commits(_ db: Database, repo: String) throws -> [CommitRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM commits WHERE repo = ? ORDER BY seq DESC", arguments: [repo]).map(commitRow)
    }

    static func allCommits(_ db: Database) throws -> [CommitRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM commits ORDER BY seq").map(commitRow)
    }

    static func openCommits(_ db: Database) throws -> [CommitRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM commits WHERE state = 'open' ORDER BY seq").map(commitRow)
    }

    static func commits(_ db: Database, commitSet: String) throws -> [CommitRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM commits WHERE commit_set = ? ORDER BY seq", arguments: [commitSet]).map(commitRow)
    }

    static func children(_ db: Database, _ repo: String, _ id: String) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT id FROM commits WHERE repo = ? AND parent = ? ORDER BY seq", arguments: [repo, id])
    }

    static func nextSeq(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM commits") ?? 1
    }

    static func insertCommit(_ db: Database, _ c: CommitRow) throws {
        let prov = String(decoding: try JSONEncoder().encode(c.provenance), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO commits (id, repo, branch, parent, root, state, origin, description, started, finished,
                                 size, commit_set, provenance, seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [c.id, c.repo, c.branch, c.parent, c.root?.hex, c.state.rawValue, c.origin.rawValue,
                             c.description, c.started.timeIntervalSince1970, c.finished?.timeIntervalSince1970,
                             c.size, c.commitSet, prov, c.seq])
    }

    /// Inserts `c` and makes it the head of its branch (creating the branch if it does not exist).
    static func insertCommitAsHead(_ db: Database, _ c: CommitRow) throws {
        try insertCommit(db, c)
        guard let branch = c.branch else { return }
        if try MetadataStore.branch(db, c.repo, branch) == nil {
            try insertBranch(db, BranchRow(repo: c.repo, name: branch, head: c.id, created: c.started))
        } else {
            try setHead(db, c.repo, branch, c.id)
        }
    }

    static func markFinished(_ db: Database, _ repo: String, _ id: String, root: ObjectHash, size: Int64, finished: Date,
                             description: String?) throws {
        if let description {
            try db.execute(sql: "UPDATE commits SET description = ? WHERE repo = ? AND id = ?", arguments: [description, repo, id])
        }
        try db.execute(sql: "UPDATE commits SET state = 'finished', root = ?, size = ?, finished = ? WHERE repo = ? AND id = ?",
                       arguments: [root.hex, size, finished.timeIntervalSince1970, repo, id])
        try db.execute(sql: "DELETE FROM staged_ops WHERE repo = ? AND commit_id = ?", arguments: [repo, id])
    }

    static func deleteCommit(_ db: Database, _ repo: String, _ id: String) throws {
        try db.execute(sql: "DELETE FROM commits WHERE repo = ? AND id = ?", arguments: [repo, id])
    }

    private static func commitRow(_ row: Row) -> CommitRow {
        let provJSON: String = row["provenance"]
        let prov = (try? JSONDecoder().decode([CommitRefInfo].self, from: Data(provJSON.utf8))) ?? []
        let rootHex: String? = row["root"]
        let fin: Double? = row["finished"]
        return CommitRow(id: row["id"], repo: row["repo"], branch: row["branch"], parent: row["parent"],
                         root: rootHex.flatMap { ObjectHash(hex: $0) },
                         state: CommitState(rawValue: row["state"]) ?? .open,
                         origin: CommitOrigin(rawValue: row["origin"]) ?? .user,
                         description: row["description"], started: Date(timeIntervalSince1970: row["started"]),
                         finished: fin.map { Date(timeIntervalSince1970: $0) }, size: row["size"],
                         commitSet: row["commit_set"], provenance: prov, seq: row["seq"])
    }

    // MARK: staged ops

    /// The op log of an open commit, in order, each op with the time it was applied at (0: not recorded).
    static func stagedOps(_ db: Database, _ repo: String, _ commit: String) throws -> [(op: StagedOp, nowNs: Int64)] {
        let rows = try Row.fetchAll(db, sql: "SELECT op, now_ns FROM staged_ops WHERE repo = ? AND commit_id = ? ORDER BY seq",
                                    arguments: [repo, commit])
        let dec = JSONDecoder()
        return try rows.map { (try dec.decode(StagedOp.self, from: $0["op"] as Data), $0["now_ns"] as Int64) }
    }

    /// Appends to the op log of an open commit; `nowNs` is the time the ops were applied to the working tree at.
    static func appendStagedOps(_ db: Database, _ repo: String, _ commit: String, _ ops: [StagedOp], nowNs: Int64) throws {
        // Cached statements: the mount appends one op per closed file.
        var seq = try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(seq), 0) FROM staged_ops WHERE repo = ? AND commit_id = ?"),
                                     arguments: [repo, commit]) ?? 0
        let enc = JSONEncoder()
        let insert = try db.cachedStatement(sql: "INSERT INTO staged_ops (repo, commit_id, seq, op, now_ns) VALUES (?, ?, ?, ?, ?)")
        for op in ops {
            seq += 1
            try insert.execute(arguments: [repo, commit, seq, try enc.encode(op), nowNs])
        }
    }
}

import Foundation
import PFSCore

/// The human output of every command: pure functions from model values to text, so they are tested without a daemon.
public enum Render {
    // MARK: Repos

    public static func repos(_ repos: [RepoInfo], now: Date) -> String {
        var t = Table(header: ["NAME", "CREATED", "SIZE (MASTER)", "DESCRIPTION"])
        for r in repos {
            t.append([r.name, Humanize.ago(r.created, now: now), Humanize.bytes(r.sizeBytes), r.description])
        }
        return t.render()
    }

    public static func repo(_ r: RepoInfo, now: Date) -> String {
        var lines = [
            "Name: \(r.name)",
            "Description: \(r.description)",
            "Created: \(Humanize.ago(r.created, now: now))",
            "Size of HEAD on master: \(Humanize.bytes(r.sizeBytes))",
            "Branches: \(r.branches.isEmpty ? "<none>" : r.branches.joined(separator: ", "))",
        ]
        lines = lines.map(Table.clean)
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Branches

    public static func branches(_ branches: [BranchInfo]) -> String {
        var t = Table(header: ["BRANCH", "HEAD"])
        for b in branches { t.append([b.name, b.head ?? "-"]) }
        return t.render()
    }

    public static func branch(_ b: BranchInfo, now: Date) -> String {
        [
            "Name: \(b.repo)@\(b.name)",
            "Head Commit: \(b.head.map { "\(b.repo)@\($0)" } ?? "<none>")",
            "Created: \(Humanize.ago(b.created, now: now))",
        ].map(Table.clean).joined(separator: "\n") + "\n"
    }

    // MARK: Commits

    public static func commits(_ commits: [CommitInfo], now: Date) -> String {
        var t = Table(header: ["REPO", "BRANCH", "COMMIT", "FINISHED", "SIZE", "ORIGIN", "PARENT", "DESCRIPTION"])
        for c in commits {
            t.append([
                c.repo,
                c.branch ?? "-",
                c.id,
                c.finished.map { Humanize.ago($0, now: now) } ?? "-",
                Humanize.bytes(c.sizeBytes),
                c.origin.rawValue.uppercased(),
                c.parent ?? "<none>",
                c.description,
            ])
        }
        return t.render()
    }

    public static func commit(_ c: CommitInfo, now: Date) -> String {
        var lines = [
            "Commit: \(c.repo)@\(c.id)",
            "Original Branch: \(c.branch ?? "<none>")",
            "Parent: \(c.parent ?? "<none>")",
            "Children: \(c.children.isEmpty ? "<none>" : c.children.joined(separator: ", "))",
            "State: \(c.state.rawValue)",
            "Origin: \(c.origin.rawValue.uppercased())",
            "Started: \(Humanize.ago(c.started, now: now))",
            "Finished: \(c.finished.map { Humanize.ago($0, now: now) } ?? "<open>")",
            "Size: \(Humanize.bytes(c.sizeBytes))",
            "Root: \(c.root ?? "<open>")",
            "Commit Set: \(c.commitSet)",
            "Description: \(c.description)",
        ]
        if !c.provenance.isEmpty {
            let provenance = c.provenance.map { p in "\(p.repo)@\(p.id)" + (p.branch.map { " (\($0))" } ?? "") }
            lines.append("Provenance: \(provenance.joined(separator: ", "))")
        }
        return lines.map(Table.clean).joined(separator: "\n") + "\n"
    }

    // MARK: Files

    /// NAME TYPE SIZE; directories are shown with a trailing `/` as pachctl does.
    public static func files(_ files: [FileInfo]) -> String {
        var t = Table(header: ["NAME", "TYPE", "SIZE"])
        for f in files {
            let name = f.type == .dir && f.path != "/" ? f.path + "/" : f.path
            let size = f.type == .symlink ? "-> " + (f.target ?? "?") : Humanize.bytes(f.sizeBytes)
            t.append([name, f.type.rawValue, size])
        }
        return t.render()
    }

    public static func file(_ f: FileInfo) -> String {
        let typeChar: Character = f.type == .dir ? "d" : f.type == .symlink ? "l" : "-"
        var lines = [
            "Path: \(f.path)",
            "Type: \(f.type.rawValue)",
            "Size: \(Humanize.bytes(f.sizeBytes)) (\(f.sizeBytes) bytes)",
            "Mode: \(Humanize.mode(f.mode, typeChar: typeChar)) (\(String(f.mode, radix: 8).leftPad(4)))",
            "Modified: \(Humanize.mtime(f.mtimeNs))",
            "Hash: \(f.hash)",
            "Commit: \(f.commit)",
        ]
        if let target = f.target { lines.append("Target: \(target)") }
        if let chunks = f.chunks { lines.append("Chunks: \(chunks)") }
        return lines.map(Table.clean).joined(separator: "\n") + "\n"
    }

    public static func diff(_ entries: [DiffEntry]) -> String {
        var t = Table(header: ["CHANGE", "PATH", "TYPE", "OLD SIZE", "NEW SIZE"])
        for e in entries {
            let type = (e.new ?? e.old)?.type.rawValue ?? "-"
            t.append([e.change.rawValue, e.path, type,
                      e.old.map { Humanize.bytes($0.sizeBytes) } ?? "-",
                      e.new.map { Humanize.bytes($0.sizeBytes) } ?? "-"])
        }
        return t.render()
    }

    // MARK: Writes

    /// One line for stderr after a put/copy/delete: what was written where.
    public static func putSummary(_ r: PutResult, repo: String, verb: String) -> String {
        let files = r.files == 1 ? "1 file" : "\(r.files) files"
        let state = r.finished ? "finished commit" : "open commit"
        var line = "\(verb) \(files) (\(Humanize.bytes(r.bytes))"
        if verb == "put" { line += ", \(Humanize.bytes(r.newBytes)) new" }
        line += ") in \(state) \(repo)@\(r.commit)"
        return line + "\n"
    }

    // MARK: Maintenance

    public static func fsck(_ r: FsckReport, verified: Bool) -> String {
        var out = "checked \(r.commitsChecked) commits, \(r.objectsChecked) objects"
        out += verified ? " (\(Humanize.bytes(r.bytesChecked)) re-hashed)" : " (structure only, --fast)"
        if r.problems.isEmpty {
            return out + ": no problems found\n"
        }
        out += ": \(r.problems.count) problem\(r.problems.count == 1 ? "" : "s") found\n"
        var t = Table(header: ["OBJECT", "PROBLEM", "REFERENCED BY"])
        for p in r.problems { t.append([p.object, p.problem, p.referencedBy]) }
        return out + t.render()
    }

    public static func gc(_ r: GCReport) -> String {
        "removed \(r.objectsRemoved) unreachable object\(r.objectsRemoved == 1 ? "" : "s") (\(Humanize.bytes(r.bytesRemoved))), kept \(r.objectsKept)\n"
    }

    public static func version(client: String, daemon: VersionInfo?, daemonError: String?) -> String {
        var t = Table(header: ["COMPONENT", "VERSION"])
        t.append(["pfs", client])
        if let daemon {
            t.append(["pfsmount", "\(daemon.version) (API v\(daemon.apiVersion))"])
        } else {
            t.append(["pfsmount", "not reachable" + (daemonError.map { ": \($0)" } ?? "")])
        }
        return t.render()
    }
}

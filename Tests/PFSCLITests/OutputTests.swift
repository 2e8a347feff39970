import Foundation
import PFSCore
import XCTest
@testable import PFSCLI

final class OutputTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func testBytes() {
        XCTAssertEqual(Humanize.bytes(0), "0B")
        XCTAssertEqual(Humanize.bytes(6), "6B")
        XCTAssertEqual(Humanize.bytes(1023), "1023B")
        XCTAssertEqual(Humanize.bytes(1024), "1KiB")
        XCTAssertEqual(Humanize.bytes(1500), "1.465KiB")
        XCTAssertEqual(Humanize.bytes(1_258_291), "1.2MiB")
        XCTAssertEqual(Humanize.bytes(10 << 30), "10GiB")
        XCTAssertEqual(Humanize.bytes(1_048_575), "1024KiB")
    }

    func testDurations() {
        XCTAssertEqual(Humanize.ago(now, now: now), "Less than a second ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(-1), now: now), "1 second ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(-3), now: now), "3 seconds ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(-70), now: now), "About a minute ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(-300), now: now), "5 minutes ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(-3600), now: now), "About an hour ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(-5 * 3600), now: now), "5 hours ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(-3 * 86400), now: now), "3 days ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(-21 * 86400), now: now), "3 weeks ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(-90 * 86400), now: now), "3 months ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(-800 * 86400), now: now), "2 years ago")
        XCTAssertEqual(Humanize.ago(now.addingTimeInterval(10), now: now), "Less than a second ago")
    }

    func testParseDuration() {
        XCTAssertEqual(Humanize.parseDuration("30"), 30)
        XCTAssertEqual(Humanize.parseDuration("30s"), 30)
        XCTAssertEqual(Humanize.parseDuration("1.5m"), 90)
        XCTAssertEqual(Humanize.parseDuration("2h"), 7200)
        XCTAssertEqual(Humanize.parseDuration("500ms"), 0.5)
        XCTAssertNil(Humanize.parseDuration("soon"))
        XCTAssertNil(Humanize.parseDuration("-1"))
    }

    func testMode() {
        XCTAssertEqual(Humanize.mode(0o644, typeChar: "-"), "-rw-r--r--")
        XCTAssertEqual(Humanize.mode(0o755, typeChar: "d"), "drwxr-xr-x")
    }

    func testTableAlignsColumnsAndEscapesControls() {
        var t = Table(header: ["NAME", "TYPE", "SIZE"])
        t.append(["/a", "file", "6B"])
        t.append(["/longer-name/", "dir", "1.2MiB"])
        t.append(["/x\ny", "file", "\u{1b}[31m"])
        XCTAssertEqual(t.render(), """
            NAME            TYPE   SIZE
            /a              file   6B
            /longer-name/   dir    1.2MiB
            /x y            file   \\x1b[31m

            """)
    }

    func repo(_ name: String, _ size: Int64, _ age: TimeInterval, _ desc: String = "") -> RepoInfo {
        RepoInfo(name: name, description: desc, created: now.addingTimeInterval(-age), sizeBytes: size, branches: ["master"])
    }

    func commit(_ id: String, parent: String?, finishedAgo: TimeInterval?, size: Int64, desc: String = "") -> CommitInfo {
        CommitInfo(id: id, repo: "data", branch: "master", parent: parent, children: [], state: finishedAgo == nil ? .open : .finished,
                   origin: .user, description: desc, started: now.addingTimeInterval(-100),
                   finished: finishedAgo.map { now.addingTimeInterval(-$0) }, sizeBytes: size, root: nil, commitSet: id, provenance: [])
    }

    func testReposTable() {
        let out = Render.repos([repo("data", 1_258_291, 3, "sales"), repo("images", 0, 3600)], now: now)
        XCTAssertEqual(out, """
            NAME     CREATED             SIZE (MASTER)   DESCRIPTION
            data     3 seconds ago       1.2MiB          sales
            images   About an hour ago   0B

            """)
    }

    func testCommitsTable() {
        let a = String(repeating: "a", count: 32), b = String(repeating: "b", count: 32)
        let out = Render.commits([commit(b, parent: a, finishedAgo: nil, size: 12), commit(a, parent: nil, finishedAgo: 3, size: 1024, desc: "first")], now: now)
        let lines = out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "REPO   BRANCH   COMMIT                             FINISHED        SIZE   ORIGIN   PARENT                             DESCRIPTION")
        XCTAssertEqual(lines[1], "data   master   \(b)   -               12B    USER     \(a)")
        XCTAssertEqual(lines[2], "data   master   \(a)   3 seconds ago   1KiB   USER     <none>                             first")
    }

    func testFilesAndDiff() {
        let files = [
            FileInfo(path: "/raw", type: .dir, sizeBytes: 2048, mode: 0o755, mtimeNs: 0, hash: "h", commit: "c"),
            FileInfo(path: "/sales.csv", type: .file, sizeBytes: 6, mode: 0o644, mtimeNs: 0, hash: "h", commit: "c"),
            FileInfo(path: "/link", type: .symlink, sizeBytes: 9, mode: 0o777, mtimeNs: 0, hash: "h", commit: "c", target: "sales.csv"),
        ]
        XCTAssertEqual(Render.files(files), """
            NAME         TYPE      SIZE
            /raw/        dir       2KiB
            /sales.csv   file      6B
            /link        symlink   -> sales.csv

            """)
        let diff = [DiffEntry(path: "/sales.csv", change: .modified, old: files[1], new: files[1]),
                    DiffEntry(path: "/raw", change: .added, old: nil, new: files[0])]
        XCTAssertEqual(Render.diff(diff), """
            CHANGE     PATH         TYPE   OLD SIZE   NEW SIZE
            modified   /sales.csv   file   6B         6B
            added      /raw         dir    -          2KiB

            """)
    }

    func testInspectAndReports() {
        let c = commit(String(repeating: "a", count: 32), parent: nil, finishedAgo: 3, size: 1024, desc: "first")
        let text = Render.commit(c, now: now)
        XCTAssertTrue(text.contains("Commit: data@\(c.id)\n"))
        XCTAssertTrue(text.contains("Finished: 3 seconds ago\n"))
        XCTAssertTrue(text.contains("Parent: <none>\n"))
        let f = FileInfo(path: "/a", type: .file, sizeBytes: 6, mode: 0o644, mtimeNs: 1_800_000_000_123_000_000, hash: "h", commit: "c", chunks: 1)
        XCTAssertTrue(Render.file(f).contains("Mode: -rw-r--r-- (0644)\n"))
        XCTAssertTrue(Render.file(f).contains("Modified: 2027-01-15T08:00:00.123Z\n"))
        XCTAssertEqual(Render.fsck(FsckReport(commitsChecked: 2, objectsChecked: 10, bytesChecked: 2048, problems: []), verified: true),
                       "checked 2 commits, 10 objects (2KiB re-hashed): no problems found\n")
        let bad = Render.fsck(FsckReport(commitsChecked: 1, objectsChecked: 1, bytesChecked: 0,
                                         problems: [FsckProblem(object: "ab12", problem: "missing", referencedBy: "data@x:/a")]), verified: false)
        XCTAssertTrue(bad.contains("1 problem found\nOBJECT   PROBLEM   REFERENCED BY\nab12     missing   data@x:/a\n"))
        XCTAssertEqual(Render.gc(GCReport(objectsKept: 5, objectsRemoved: 1, bytesRemoved: 1024)), "removed 1 unreachable object (1KiB), kept 5\n")
        XCTAssertTrue(Render.version(client: "0.1.0", daemon: VersionInfo(version: "0.1.0", apiVersion: 1), daemonError: nil)
            .contains("pfsmount    0.1.0 (API v1)"))
    }

    func testExitCodes() {
        XCTAssertEqual(PFSExitCode.forCode(.invalidArgument), .usage)
        XCTAssertEqual(PFSExitCode.forCode(.notFound), .notFound)
        for code: PFSError.Code in [.alreadyExists, .failedPrecondition, .ambiguous, .readOnly, .notEmpty, .isDirectory, .notDirectory] {
            XCTAssertEqual(PFSExitCode.forCode(code), .conflict, "\(code)")
        }
        XCTAssertEqual(PFSExitCode.forCode(.unavailable), .unavailable)
        XCTAssertEqual(PFSExitCode.forCode(.io), .io)
        XCTAssertEqual(PFSExitCode.forCode(.noSpace), .io)
        XCTAssertEqual(PFSExitCode.forCode(.timeout), .timeout)
        XCTAssertEqual(PFSExitCode.forCode(.corrupt), .corrupt)
        XCTAssertEqual(PFSExitCode.forCode(.internal), .failure)
        XCTAssertEqual(PFSExitCode.forCode(PFSError.Code(rawValue: "SOMETHING_NEW")), .failure)
        XCTAssertEqual(Set(PFSExitCode.allCases.map(\.rawValue)).count, PFSExitCode.allCases.count)
    }

    func testSocketLocation() {
        let env = ["HOME": "/home/u"]
        XCTAssertEqual(SocketLocation.resolve(socketFlag: nil, dataDirFlag: nil, environment: env),
                       SocketLocation(path: "/home/u/.pfs/pfs.sock", origin: .defaultLocation))
        XCTAssertEqual(SocketLocation.resolve(socketFlag: nil, dataDirFlag: nil, environment: env.merging(["PFS_DATA_DIR": "/d"]) { $1 }),
                       SocketLocation(path: "/d/pfs.sock", origin: .dataDirEnvironment))
        XCTAssertEqual(SocketLocation.resolve(socketFlag: nil, dataDirFlag: nil,
                                              environment: env.merging(["PFS_DATA_DIR": "/d", "PFS_SOCKET": "/s"]) { $1 }),
                       SocketLocation(path: "/s", origin: .socketEnvironment))
        XCTAssertEqual(SocketLocation.resolve(socketFlag: nil, dataDirFlag: "~/x/", environment: env.merging(["PFS_SOCKET": "/s"]) { $1 }),
                       SocketLocation(path: "/home/u/x/pfs.sock", origin: .dataDirFlag))
        XCTAssertEqual(SocketLocation.resolve(socketFlag: "/f", dataDirFlag: "/x", environment: env),
                       SocketLocation(path: "/f", origin: .socketFlag))
    }
}

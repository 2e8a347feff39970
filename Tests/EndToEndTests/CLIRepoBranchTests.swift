import Foundation
import XCTest

/// Repos and branches through the CLI, both spellings, against a real daemon.
final class RepoBranchCLITests: CLITestCase {
    static let longName = String(repeating: "r", count: 201)
    static let badNames = ["bad/name", ".hidden", longName]

    func testRepoVerbsBothSpellings() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["create-repo", "images", "-d", "raw camera images"], binary: "pachctl")
        try quiet(["create", "repo", String(repeating: "x", count: 200), "--description", "longest name"])
        try quiet(["create-repo", "A-Z_0-9"])

        let repos = try array(["list", "repo"])
        XCTAssertEqual(repos.compactMap { $0["name"] as? String }, ["A-Z_0-9", "data", "images", String(repeating: "x", count: 200)])
        XCTAssertEqual(try array(["list-repo"]).compactMap { $0["name"] as? String }, repos.compactMap { $0["name"] as? String })
        let rows = try table(["list-repo"], columns: ["NAME", "CREATED", "SIZE (MASTER)", "DESCRIPTION"], binary: "pachctl")
        XCTAssertEqual(rows.map(\.first), ["A-Z_0-9", "data", "images", String(repeating: "x", count: 200)])
        XCTAssertEqual(rows[2].count, 4)
        XCTAssertEqual(rows[2].last, "raw camera images")
        XCTAssertEqual(rows[2][2], "0B")

        // inspect, both spellings
        let images = try object(["inspect", "repo", "images"])
        XCTAssertEqual(images["description"] as? String, "raw camera images")
        XCTAssertEqual(images["size_bytes"] as? Int, 0)
        XCTAssertEqual((images["branches"] as? [Any])?.count, 0)  // no branches until the first commit
        let text = try out(["inspect-repo", "images"], binary: "pachctl")
        XCTAssertTrue(text.contains("Name: images\nDescription: raw camera images\n"), text)
        XCTAssertTrue(text.contains("Branches: <none>"), text)

        // update, both spellings
        try quiet(["update", "repo", "images", "-d", "thumbnails"])
        XCTAssertEqual(try object(["inspect", "repo", "images"])["description"] as? String, "thumbnails")
        try quiet(["update-repo", "images", "--description", "originals"], binary: "pachctl")
        XCTAssertEqual(try object(["inspect-repo", "images"])["description"] as? String, "originals")

        // A repo's size is its master head's.
        try local("a.txt", "12345")
        try quiet(["put", "file", "data@master:/a.txt", "-f", "a.txt"])
        XCTAssertEqual(try object(["inspect", "repo", "data"])["size_bytes"] as? Int, 5)
        XCTAssertTrue(try out(["inspect", "repo", "data"]).contains("Size of HEAD on master: 5B\nBranches: master\n"))

        // delete, both spellings: a repo with commits goes without --force.
        try quiet(["delete", "repo", "data"])
        try fails(["inspect", "repo", "data"], status: 3, mentions: ["repo \"data\" not found"])
        try quiet(["delete-repo", "images"], binary: "pachctl")
        try quiet(["put", "file", "A-Z_0-9@master:/a.txt", "-f", "a.txt"])
        try quiet(["delete", "repo", "A-Z_0-9", "--force"])
        XCTAssertEqual(try array(["list", "repo"]).count, 1)
        // The name is free again and the new repo is empty.
        try quiet(["create", "repo", "data"])
        XCTAssertEqual(try allCommits("data"), [])
        try fails(["get", "file", "data@master:/a.txt"], status: 3)

        // --all, several names
        try quiet(["create", "repo", "one"])
        try quiet(["create", "repo", "two"])
        try quiet(["put", "file", "two@master:/a.txt", "-f", "a.txt"])
        try quiet(["delete", "repo", "one", "two"])
        XCTAssertEqual(try array(["list", "repo"]).compactMap { $0["name"] as? String }, ["data", String(repeating: "x", count: 200)])
        try quiet(["delete-repo", "--all"], binary: "pachctl")
        XCTAssertEqual(try array(["list", "repo"]).count, 0)
        XCTAssertEqual(try out(["list", "repo"]), "NAME   CREATED   SIZE (MASTER)   DESCRIPTION\n")
    }

    func testRepoErrors() throws {
        try quiet(["create", "repo", "data"])
        for bin in ["pfs", "pachctl"] {
            try fails(["create", "repo", "data"], status: 4, mentions: ["repo \"data\" already exists"], binary: bin)
            try fails(["create-repo", "data"], status: 4, mentions: ["already exists"], binary: bin)
            for verb in [["inspect", "repo"], ["inspect-repo"], ["delete", "repo"], ["delete-repo"], ["list", "branch"],
                         ["list-branch"]] {
                try fails(verb + ["nope"], status: 3, mentions: ["repo \"nope\" not found"], binary: bin)
            }
            try fails(["update", "repo", "nope", "-d", "x"], status: 3, mentions: ["repo \"nope\" not found"], binary: bin)
            try fails(["update-repo", "nope", "-d", "x"], status: 3, mentions: ["repo \"nope\" not found"], binary: bin)
        }
        XCTAssertEqual(try array(["list", "repo"]).compactMap { $0["name"] as? String }, ["data"], "update must not create repos")

        for name in Self.badNames {
            let problem = name.hasPrefix(".") ? "reserved" : name.count > 200 ? "limit is 200" : "only letters"
            for args in [["create", "repo", name], ["create-repo", name], ["inspect", "repo", name], ["inspect-repo", name],
                         ["update", "repo", name, "-d", "x"], ["update-repo", name, "-d", "x"], ["delete", "repo", name],
                         ["delete-repo", name], ["list", "branch", name], ["list-branch", name],
                         ["list", "commit", name], ["list-commit", name],
                         ["put", "file", "\(name)@master:/a", "-f", "/etc/hostname"],
                         ["put-file", name, "master", "a", "-f", "/etc/hostname"],
                         ["get", "file", "\(name)@master:/a"], ["get-file", name, "master", "a"]] {
                try fails(args, status: 2, mentions: [problem])
            }
        }
        XCTAssertEqual(try array(["list", "repo"]).count, 1)

        // Usage errors: missing arguments, both --all and names, unknown flags.
        try fails(["create", "repo"], status: 2)
        try fails(["delete", "repo"], status: 2, mentions: ["--all"])
        try fails(["delete", "repo", "data", "--all"], status: 2, mentions: ["not both"])
        try fails(["update", "repo", "data"], status: 2, mentions: ["description"])
        try fails(["list", "repo", "--bogus"], status: 2, mentions: ["--bogus"])
        try fails(["create-repo", "a", "b"], status: 2)
        XCTAssertEqual(try array(["list", "repo"]).count, 1)
    }

    func testBranchVerbsBothSpellings() throws {
        try quiet(["create", "repo", "data"])
        var ids: [String] = []
        for i in 1...4 {
            try quiet(["put", "file", "data@master:/n.txt"], stdin: Data("\(i)\n".utf8))
            ids.append(try commitID("data"))
        }
        // create branch: empty; --head master, master~2, master^, an 8-hex prefix, a full id, repo@ref
        try quiet(["create", "branch", "data@empty"])
        try quiet(["create", "branch", "data@release", "--head", "master"])
        try quiet(["create", "branch", "data@old", "--head", "master~2"])
        try quiet(["create-branch", "data", "prev", "--head", "master^"], binary: "pachctl")
        try quiet(["create-branch", "data", "first", "--head", String(ids[0].prefix(8))])
        try quiet(["create", "branch", "data@full", "--head", ids[1]])
        try quiet(["create", "branch", "data@qualified", "--head", "data@master~3"])
        try quiet(["set-branch", "data", "master~1", "rollback"], binary: "pachctl")
        try quiet(["set-branch", "data", String(ids[1].prefix(10)) + "^", "root"])
        try quiet(["create-branch", "data", "v1.0"])

        let heads = Dictionary(uniqueKeysWithValues: try array(["list", "branch", "data"]).map {
            ($0["name"] as? String ?? "", $0["head"] as? String ?? "-")
        })
        XCTAssertEqual(heads, ["empty": "-", "first": ids[0], "full": ids[1], "master": ids[3], "old": ids[1],
                               "prev": ids[2], "qualified": ids[0], "release": ids[3], "rollback": ids[2], "root": ids[0],
                               "v1.0": "-"])
        let rows = try table(["list-branch", "data"], columns: ["BRANCH", "HEAD"], binary: "pachctl")
        XCTAssertEqual(rows.first, ["empty", "-"])
        XCTAssertEqual(rows.count, 11)
        XCTAssertEqual(try content("data@old:/n.txt"), "2\n")
        XCTAssertEqual(try content("data@rollback:/n.txt"), "3\n")

        // inspect branch
        let b = try object(["inspect", "branch", "data@old"])
        XCTAssertEqual(b["head"] as? String, ids[1])
        XCTAssertEqual(b["repo"] as? String, "data")
        let text = try out(["inspect", "branch", "data@old"])
        XCTAssertTrue(text.hasPrefix("Name: data@old\nHead Commit: data@\(ids[1])\nCreated: "), text)
        XCTAssertTrue(try out(["inspect", "branch", "data@empty"]).contains("Head Commit: <none>"))

        // --head on an existing branch moves it; set-branch too.
        try quiet(["create", "branch", "data@old", "--head", "master"])
        XCTAssertEqual(try commitID("data", "old"), ids[3])
        try quiet(["set-branch", "data", ids[0], "old"])
        XCTAssertEqual(try commitID("data", "old"), ids[0])
        // A branch made from a commit grows independently.
        try quiet(["put", "file", "data@old:/n.txt", "-a"], stdin: Data("old\n".utf8))
        XCTAssertEqual(try content("data@old:/n.txt"), "1\nold\n")
        XCTAssertEqual(try content("data@master:/n.txt"), "4\n")
        XCTAssertEqual(try commitID("data", "old^"), ids[0])

        // delete, both spellings; the commits stay reachable by id.
        try quiet(["delete", "branch", "data@old"])
        let oldHead = try commitIDs(["list", "commit", "data", "--all"]).first!
        try quiet(["delete-branch", "data", "rollback"], binary: "pachctl")
        try quiet(["delete-branch", "data", "empty"])
        XCTAssertEqual(try array(["list", "branch", "data"]).count, 8)
        XCTAssertEqual(try content("data@\(oldHead):/n.txt"), "1\nold\n")
        XCTAssertEqual(try content("data@\(ids[2]):/n.txt"), "3\n")
        try fails(["inspect", "branch", "data@old"], status: 3, mentions: ["branch \"old\" not found", "data"])
    }

    func testBranchErrors() throws {
        try quiet(["create", "repo", "data"])
        try quiet(["put", "file", "data@master:/a"], stdin: Data("a".utf8))
        try quiet(["create", "branch", "data@dev"])
        for bin in ["pfs", "pachctl"] {
            try fails(["create", "branch", "data@dev"], status: 4, mentions: ["branch \"dev\" already exists", "--head"], binary: bin)
            try fails(["create-branch", "data", "dev"], status: 4, mentions: ["already exists"], binary: bin)
            try fails(["create", "branch", "nope@dev"], status: 3, mentions: ["repo \"nope\" not found"], binary: bin)
            try fails(["create-branch", "nope", "dev"], status: 3, mentions: ["repo \"nope\" not found"], binary: bin)
            try fails(["inspect", "branch", "data@nope"], status: 3, mentions: ["branch \"nope\" not found"], binary: bin)
            try fails(["inspect", "branch", "nope@master"], status: 3, mentions: ["repo \"nope\" not found"], binary: bin)
            try fails(["delete", "branch", "data@nope"], status: 3, mentions: ["branch \"nope\" not found"], binary: bin)
            try fails(["delete-branch", "data", "nope"], status: 3, mentions: ["\"nope\""], binary: bin)
            try fails(["delete-branch", "nope", "dev"], status: 3, mentions: ["repo \"nope\" not found"], binary: bin)
            // --head naming a missing commit, branch, or too many steps back
            try fails(["create", "branch", "data@x", "--head", "deadbeef"], status: 3, mentions: ["deadbeef"], binary: bin)
            try fails(["create", "branch", "data@x", "--head", "nope"], status: 3, mentions: ["\"nope\""], binary: bin)
            try fails(["create", "branch", "data@x", "--head", "master~5"], status: 3, mentions: ["no parent"], binary: bin)
            try fails(["set-branch", "data", "feedface99", "x"], status: 3, mentions: ["feedface99"], binary: bin)
            try fails(["create", "branch", "data@x", "--head", "other@master"], status: 2, mentions: ["data"], binary: bin)
        }
        XCTAssertEqual(try array(["list", "branch", "data"]).compactMap { $0["name"] as? String }, ["dev", "master"])

        for name in ["bad/name", ".hidden", String(repeating: "b", count: 201), "a..b", String(repeating: "ab", count: 16)] {
            for args in [["create", "branch", "data@\(name)"], ["create-branch", "data", name], ["set-branch", "data", "master", name],
                         ["delete-branch", "data", name], ["start-commit", "data", name],
                         ["put-file", "data", name, "a", "-c", "-f", "/etc/hostname"]] {
                try fails(args, status: 2, mentions: ["branch"])
            }
        }
        // In 2.x form, what follows '@' is a reference; a slash is not part of one.
        try fails(["create", "branch", "data@bad/name"], status: 2)
        try fails(["inspect", "branch", "data@master^"], status: 2, mentions: ["repo@branch"])
        try fails(["create", "branch", "data@"], status: 2, mentions: ["nothing after '@'"])
        XCTAssertEqual(try array(["list", "branch", "data"]).count, 2)
    }
}

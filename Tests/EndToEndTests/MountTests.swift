import Foundation
import XCTest

/// The filesystem through a real FUSE mount, driven by real shell tools. Each statement of
/// docs/filesystem.md has a test here (named after it).
final class MountTests: XCTestCase {
    var h: Harness!

    override func setUpWithError() throws {
        guard FileManager.default.isReadableFile(atPath: "/dev/fuse") else { throw XCTSkip("no /dev/fuse") }
        h = try Harness()
        try h.startMounted()
    }

    override func tearDown() {
        h?.cleanup()
        if let h { XCTAssertFalse(Harness.isMounted(h.mnt.path), "the test left its mount behind") }
    }

    func commits(_ repo: String, branch: String = "master") throws -> [[String: Any]] {
        try h.json(["list", "commit", "\(repo)@\(branch)"]) as? [[String: Any]] ?? []
    }

    /// Waits until the branch has no open commit (the settle window passed).
    func waitSettled(_ repo: String, _ branch: String = "master", file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let r = try h.run(["inspect", "commit", "\(repo)@\(branch)", "--raw"])
            if r.status == 0, let c = try JSONSerialization.jsonObject(with: r.out) as? [String: Any],
               c["state"] as? String == "finished" { return }
            usleep(50_000)
        }
        XCTFail("\(repo)@\(branch) still has an open commit after 10 s", file: file, line: line)
    }

    func testMkdirMakesReposAndBranchesAndLsShowsThem() throws {
        try h.sh("""
            mkdir $MNT/data
            test -d $MNT/data/master
            test -d $MNT/data/.commits
            ls $MNT | grep -qx data
            echo one > $MNT/data/master/a.txt
            sync $MNT/data/master
            mkdir $MNT/data/dev
            test "$(cat $MNT/data/dev/a.txt)" = one
            echo two > $MNT/data/dev/b.txt
            sync $MNT/data/dev
            test ! -e $MNT/data/master/b.txt
            ls $MNT/data | grep -qx dev
            """)
        let repos = try h.json(["list", "repo"]) as! [[String: Any]]
        XCTAssertEqual(repos.map { $0["name"] as? String }, ["data"])
        // Invalid names are refused with EINVAL/ENOENT-style errors, not created.
        let bad = try h.sh("mkdir '$MNT/bad name' 2>&1 || true; mkdir $MNT/.hidden 2>&1 || true", check: false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.mnt.appendingPathComponent("bad name").path), bad.stdout)
    }

    func testCpRecursiveMakesExactlyOneCommit() throws {
        try h.sh("""
            mkdir -p $W/ds/sub/deeper
            for i in $(seq 1 200); do head -c $((i * 37)) /dev/urandom > $W/ds/f$i.bin; done
            echo deep > $W/ds/sub/deeper/x.txt
            mkdir $MNT/data
            cp -r $W/ds/. $MNT/data/master/
            """)
        try waitSettled("data")
        XCTAssertEqual(try commits("data").count, 1, "cp -r must make exactly one commit")
        try h.sh("diff -r $W/ds $MNT/data/master")
        // The finished commit is readable by id, read-only.
        let id = try XCTUnwrap(try commits("data").first?["id"] as? String)
        try h.sh("""
            diff -r $W/ds $MNT/data/\(id)
            diff -r $W/ds $MNT/data/\(id.prefix(8))
            ! touch $MNT/data/\(id)/new 2>$W/err
            grep -q 'Read-only file system' $W/err
            """)
    }

    func testShellEditingToolsWork() throws {
        try h.sh("""
            mkdir $MNT/data
            B=$MNT/data/master
            printf 'alpha\\nbeta\\n' > $B/t.txt
            echo gamma >> $B/t.txt
            sed -i 's/beta/BETA/' $B/t.txt
            test "$(cat $B/t.txt)" = "$(printf 'alpha\\nBETA\\ngamma')"
            mkdir -p $B/d1/d2 && echo x > $B/d1/d2/f
            mv $B/d1 $B/moved
            test -f $B/moved/d2/f && test ! -e $B/d1
            mv $B/t.txt $B/moved/t2.txt
            rm -r $B/moved/d2
            test ! -e $B/moved/d2
            python3 - "$B/p.bin" <<'PY'
            import sys
            p = sys.argv[1]
            with open(p, 'wb') as f: f.write(b'0123456789')
            with open(p, 'r+b') as f:
                f.seek(3); f.write(b'XY'); f.seek(0, 2); f.write(b'END')
            with open(p, 'rb') as f: assert f.read() == b'012XY56789END', 'seek+write'
            with open(p, 'r+b') as f: f.truncate(4)
            with open(p, 'rb') as f: assert f.read() == b'012X'
            PY
            mkdir $W/src && echo in-tar > $W/src/a && mkdir $W/src/b && echo bee > $W/src/b/c
            tar -C $W/src -cf $W/x.tar .
            mkdir $B/untar && tar -C $B/untar -xf $W/x.tar
            diff -r $W/src $B/untar
            chmod 600 $B/untar/a
            test "$(stat -c %a $B/untar/a)" = 600
            touch -d '2001-02-03 04:05:06' $W/src/a
            cp -p $W/src/a $B/kept
            test "$(stat -c %Y $B/kept)" = "$(stat -c %Y $W/src/a)"
            ln -s untar/a $B/link
            test "$(readlink $B/link)" = untar/a
            test "$(cat $B/link)" = in-tar
            """)
        try waitSettled("data")
        // Everything survived the commit, including modes and mtimes.
        try h.sh("""
            B=$MNT/data/master
            test "$(stat -c %a $B/untar/a)" = 600
            test "$(stat -c %Y $B/kept)" = "$(stat -c %Y $W/src/a)"
            test "$(cat $B/moved/t2.txt | wc -l)" = 3
            """)
    }

    func testGitCloneAndRsyncIntoABranch() throws {
        try h.sh("""
            command -v git >/dev/null || exit 0
            mkdir $W/repo && cd $W/repo && git init -q && git config user.email t@t && git config user.name t
            for i in 1 2 3; do echo "v$i" > f$i; git add f$i; git commit -qm "c$i"; done
            mkdir $MNT/code
            git clone -q $W/repo $MNT/code/master/repo
            cd $MNT/code/master/repo && git fsck --no-progress && test "$(git log --oneline | wc -l)" = 3
            """)
        try h.sh("""
            command -v rsync >/dev/null || exit 0
            mkdir -p $W/rs/a && echo 1 > $W/rs/a/one && echo 2 > $W/rs/two
            rsync -a $W/rs/ $MNT/code/master/rs/
            rsync -a $MNT/code/master/rs/ $W/rs-back/
            diff -r $W/rs $W/rs-back
            """)
    }

    func testErrnosForUnsupportedOperations() throws {
        try h.sh("""
            mkdir $MNT/data $MNT/other
            echo a > $MNT/data/master/a
            ! ln $MNT/data/master/a $MNT/data/master/hard 2>$W/e1 && grep -q 'Operation not permitted' $W/e1
            python3 -c "
            import os, errno
            try:
                os.setxattr('$MNT/data/master/a', 'user.k', b'v')
                raise SystemExit('setxattr succeeded')
            except OSError as e:
                assert e.errno == errno.ENOTSUP, e
            try:
                os.rename('$MNT/data/master/a', '$MNT/other/master/a')
                raise SystemExit('cross-branch rename succeeded')
            except OSError as e:
                assert e.errno == errno.EXDEV, e
            "
            # mv falls back to copy + delete across branches
            mv $MNT/data/master/a $MNT/other/master/a
            test "$(cat $MNT/other/master/a)" = a && test ! -e $MNT/data/master/a
            """)
    }

    func testAncestorsAndCommitsDirectory() throws {
        try h.sh("""
            mkdir $MNT/data
            for v in 1 2 3; do echo v$v > $MNT/data/master/f; sync $MNT/data/master; done
            test "$(cat $MNT/data/master/f)" = v3
            test "$(cat $MNT/data/master^/f)" = v2
            test "$(cat $MNT/data/master~2/f)" = v1
            test "$(ls $MNT/data/.commits | wc -l)" = 3
            """)
        let ids = try commits("data").compactMap { $0["id"] as? String }
        XCTAssertEqual(ids.count, 3)
        try h.sh("test \"$(cat $MNT/data/.commits/\(ids[2])/f)\" = v1")
    }

    func testSyncOfBranchDirectoryFinishesAtOnce() throws {
        try h.sh("mkdir $MNT/data && echo x > $MNT/data/master/x")
        h.stop()
        try h.startMounted(settleMs: 60_000)  // a settle window far longer than the test
        try h.sh("echo y > $MNT/data/master/y && sync $MNT/data/master")
        let head = try h.json(["inspect", "commit", "data@master"]) as! [String: Any]
        XCTAssertEqual(head["state"] as? String, "finished")
    }

    func testPutFileThroughTheCLIIsVisibleInTheMountAtOnce() throws {
        try h.sh("mkdir $MNT/data && echo old > $MNT/data/master/f && sync $MNT/data/master && cat $MNT/data/master/f >/dev/null")
        let local = try h.write("new.txt", "new\n")
        try h.ok(["put", "file", "data@master:/f", "-f", local])
        try h.ok(["put", "file", "data@master:/g", "-f", local])
        try h.sh("test \"$(cat $MNT/data/master/f)\" = new && test -f $MNT/data/master/g")
    }

    func testStartCommitIsJoinedNotDuplicated() throws {
        try h.sh("mkdir $MNT/data && echo a > $MNT/data/master/a && sync $MNT/data/master")
        let started = try h.ok(["start", "commit", "data@master"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try h.sh("echo b > $MNT/data/master/b")
        usleep(600_000)
        let head = try h.json(["inspect", "commit", "data@master"]) as! [String: Any]
        XCTAssertEqual(head["id"] as? String, started, "the mount must write into the commit the user started")
        XCTAssertEqual(head["state"] as? String, "open", "a commit started with the CLI is finished by its owner")
        try h.ok(["finish", "commit", "data@master"])
        XCTAssertEqual(try commits("data").count, 2)
    }

    func testUnmountAndSigtermFinishOpenCommits() throws {
        h.stop()
        try h.startMounted(settleMs: 60_000)
        try h.sh("mkdir $MNT/data && echo a > $MNT/data/master/a")
        XCTAssertEqual(h.stop(signal: SIGTERM), 0)
        XCTAssertFalse(Harness.isMounted(h.mnt.path))
        try h.start()
        let head = try h.json(["inspect", "commit", "data@master"]) as! [String: Any]
        XCTAssertEqual(head["state"] as? String, "finished")
        XCTAssertEqual(try h.ok(["get", "file", "data@master:/a"]).stdout, "a\n")
    }

    func testPfsUnmountFinishesCommitsAndStopsTheDaemon() throws {
        h.stop()
        try h.startMounted(settleMs: 60_000)
        try h.sh("mkdir $MNT/data && echo a > $MNT/data/master/a")
        try h.ok(["unmount"])
        XCTAssertFalse(Harness.isMounted(h.mnt.path), "pfs unmount must unmount")
        XCTAssertFalse(h.daemonIsRunning, "pfs unmount must stop the daemon")
        try h.start()
        let head = try h.json(["inspect", "commit", "data@master"]) as! [String: Any]
        XCTAssertEqual(head["state"] as? String, "finished")
    }

    func testFusermountUnmountStopsTheDaemonCleanly() throws {
        try h.sh("mkdir $MNT/data && echo a > $MNT/data/master/a && fusermount3 -u $MNT")
        let deadline = Date().addingTimeInterval(10)
        while h.daemonIsRunning && Date() < deadline { usleep(50_000) }
        XCTAssertFalse(h.daemonIsRunning, "the daemon exits when its mount goes away")
        try h.start()
        XCTAssertEqual(try h.ok(["get", "file", "data@master:/a"]).stdout, "a\n")
    }

    func testKill9KeepsClosedFilesAndRecoversTheMountPoint() throws {
        h.stop()
        try h.startMounted(settleMs: 60_000)
        try h.sh("""
            mkdir $MNT/data
            for i in $(seq 1 20); do echo "file $i" > $MNT/data/master/f$i; done
            head -c 5000000 /dev/urandom > $W/big && cp $W/big $MNT/data/master/big
            """)
        h.stop(signal: SIGKILL)
        // The kernel still has the dead mount; restarting must recover it without manual steps.
        try h.startMounted()
        try h.sh("""
            for i in $(seq 1 20); do test "$(cat $MNT/data/master/f$i)" = "file $i"; done
            cmp $W/big $MNT/data/master/big
            """)
        let head = try h.json(["inspect", "commit", "data@master"]) as! [String: Any]
        XCTAssertEqual(head["state"] as? String, "finished", "a commit the crashed mount had opened is finished on restart")
        XCTAssertEqual(try h.run(["fsck"]).status, 0)
    }

    /// docs/filesystem.md: every close() of a descriptor stores the file, also a forked child's close of one it
    /// inherited; after kill -9 while the writer still holds the file open, that prefix is what comes back.
    func testAChildClosingAnInheritedDescriptorStoresTheFileSoFar() throws {
        h.stop()
        try h.startMounted(settleMs: 60_000)
        let pid = try XCTUnwrap(h.daemonPID)
        try h.sh("""
            mkdir $MNT/data && echo old > $MNT/data/master/f
            python3 - <<'PY'
            import os, signal, subprocess
            f = open(os.environ["MNT"] + "/data/master/f", "wb")
            f.write(b"a" * (1 << 20)); f.flush()
            subprocess.run(["true"], check=True)   # the child closes its copy of the descriptor at exec
            f.write(b"b" * (1 << 20)); f.flush()   # written, not closed by anyone
            os.kill(\(pid), signal.SIGKILL)
            PY
            """)
        h.stop(signal: SIGKILL)
        try h.startMounted()
        try h.sh("""
            test "$(wc -c < $MNT/data/master/f)" = 1048576
            test "$(tr -d a < $MNT/data/master/f | wc -c)" = 0
            """)
        XCTAssertEqual(try h.run(["fsck"]).status, 0)
    }

    func testLargeFileStreamsAndSmallReadsDoNotFetchTheWholeFile() throws {
        try h.sh("""
            mkdir $MNT/data
            head -c 67108864 /dev/urandom > $W/big
            cp $W/big $MNT/data/master/big
            sync $MNT/data/master
            cmp $W/big $MNT/data/master/big
            test "$(head -c 4096 $MNT/data/master/big | md5sum)" = "$(head -c 4096 $W/big | md5sum)"
            test "$(tail -c 1000 $MNT/data/master/big | md5sum)" = "$(tail -c 1000 $W/big | md5sum)"
            echo tail >> $MNT/data/master/big
            sync $MNT/data/master
            test "$(tail -c 5 $MNT/data/master/big)" = tail
            """)
    }

    /// Random operation sequences checked against a native directory doing the same operations.
    func testRandomOperationsMatchANativeDirectory() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["PFS_FS_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        let steps = Int(ProcessInfo.processInfo.environment["PFS_FS_STEPS"] ?? "") ?? 300
        print("random fs ops: seed \(seed), \(steps) steps (rerun with PFS_FS_SEED=\(seed))")
        try h.sh("mkdir $MNT/data")
        let script = """
            import os, random, sys, shutil
            rnd = random.Random(int(sys.argv[1])); steps = int(sys.argv[2])
            roots = [sys.argv[3], sys.argv[4]]
            names = ['a', 'b', 'c', 'd.txt', 'e e']
            def paths(root):
                out = []
                for d, ds, fs in os.walk(root):
                    for n in ds + fs: out.append(os.path.relpath(os.path.join(d, n), root))
                return sorted(out)
            for step in range(steps):
                existing = paths(roots[1])
                dirs = [''] + [p for p in existing if os.path.isdir(os.path.join(roots[1], p))]
                files = [p for p in existing if os.path.isfile(os.path.join(roots[1], p))]
                op = rnd.choice(['write', 'write', 'append', 'truncate', 'pwrite', 'mkdir', 'rename', 'unlink', 'rmdir'])
                target = os.path.join(rnd.choice(dirs), rnd.choice(names))
                data = bytes(rnd.getrandbits(8) for _ in range(rnd.choice([0, 1, 100, 5000])))
                off = rnd.choice([0, 3, 50, 10000])
                src = rnd.choice(files + dirs[1:]) if files or dirs[1:] else None
                results = []
                for root in roots:
                    p = os.path.join(root, target)
                    try:
                        if op == 'write':
                            with open(p, 'wb') as f: f.write(data)
                        elif op == 'append':
                            with open(p, 'ab') as f: f.write(data)
                        elif op == 'truncate':
                            os.truncate(p, off)
                        elif op == 'pwrite':
                            fd = os.open(p, os.O_RDWR); os.pwrite(fd, data, off); os.close(fd)
                        elif op == 'mkdir':
                            os.mkdir(p)
                        elif op == 'rename' and src is not None:
                            os.rename(os.path.join(root, src), p)
                        elif op == 'unlink':
                            os.unlink(p)
                        elif op == 'rmdir':
                            os.rmdir(p)
                        results.append('ok')
                    except OSError as e:
                        results.append(e.errno)
                if results[0] != results[1]:
                    sys.exit(f'step {step}: {op} {target} (src {src}): native {results[1]} vs pfs {results[0]}')
            for r in roots:
                print(r, len(paths(r)))
            if paths(roots[0]) != paths(roots[1]):
                sys.exit(f'trees differ: {paths(roots[0])} vs {paths(roots[1])}')
            for p in paths(roots[1]):
                a, b = os.path.join(roots[0], p), os.path.join(roots[1], p)
                if os.path.isfile(b):
                    if open(a, 'rb').read() != open(b, 'rb').read(): sys.exit(f'content of {p} differs')
            """
        try h.write("model.py", script)
        try h.sh("mkdir $W/native && python3 $W/model.py \(seed) \(steps) $MNT/data/master $W/native")
        try waitSettled("data")
        // The finished commit holds exactly the same tree.
        try h.sh("diff -r $W/native $MNT/data/master")
    }
}

import Foundation
import XCTest

/// Tries to break pfs from outside, through the real binaries, the mount and the API socket
/// (docs/reliability.md): bad names and escaping paths everywhere, a full disk, a small file-descriptor limit,
/// a datum that fills /pfs/out, many output files, owner-only permissions and the private mount, and the POSIX
/// behaviours tools rely on that MountTests does not already cover. The kill -9 and power-loss torture is
/// `scripts/torture`.
final class ReliabilityTests: XCTestCase {
    var h: Harness!
    /// Filesystems a test mounted (tmpfs data directories), detached in tearDown.
    var mounted: [String] = []

    override func setUpWithError() throws {
        guard FileManager.default.isReadableFile(atPath: "/dev/fuse") else { throw XCTSkip("no /dev/fuse") }
        // /dev/shm: fsyncs are free there, so many small writes cost what the code costs, not the VM disk.
        let shm = URL(fileURLWithPath: "/dev/shm")
        h = try Harness(under: access(shm.path, W_OK) == 0 ? shm : nil)
    }

    override func tearDown() {
        // The daemon first, then the tmpfs under it, then the directories (which a mounted tmpfs would keep).
        h?.stop()
        for m in mounted.reversed() { _ = try? Harness.collect(Self.process("/bin/umount", ["-l", m]), stdin: nil) }
        h?.cleanup()
        if let h { XCTAssertFalse(Harness.isMounted(h.mnt.path), "the test left its mount behind") }
    }

    static func process(_ path: String, _ args: [String]) -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        return p
    }

    var isRoot: Bool { getuid() == 0 }

    /// Puts the data directory on a tmpfs of `mib` MiB (root only).
    func smallDataDir(mib: Int) throws {
        guard isRoot else { throw XCTSkip("a size-limited data directory needs root (mount -t tmpfs)") }
        try FileManager.default.createDirectory(at: h.dataDir, withIntermediateDirectories: true)
        let r = try Harness.collect(Self.process("/bin/mount", ["-t", "tmpfs", "-o", "size=\(mib)m,mode=700", "tmpfs", h.dataDir.path]), stdin: nil)
        guard r.status == 0 else { throw XCTSkip("cannot mount a tmpfs: \(r.stderr)") }
        mounted.append(h.dataDir.path)
    }

    // MARK: bad input

    /// `..`, `/`, control characters, reserved and over-long names, and paths that leave the repo are refused by
    /// the CLI, the API (raw HTTP on the socket, with NUL bytes the CLI cannot pass), the mount and spec globs,
    /// with an error that names the problem; nothing is created by any of them.
    func testBadNamesAndEscapingPathsAreRefusedEverywhere() throws {
        try h.startMounted()
        try h.sh(#"""
            mkdir $MNT/data && echo keep > $MNT/data/master/keep && sync $MNT/data/master
            echo x > $W/f
            refused() { if "$@" >$W/out 2>$W/err; then echo "accepted: $*" >&2; exit 1; fi; test -s $W/err || { echo "no message: $*" >&2; exit 1; }; }
            long=$(head -c 300 /dev/zero | tr '\0' a)
            for name in '../x' 'a/b' '.hidden' "$(printf 'a\001b')" "$long" '' 'a b' '..'; do
              refused pfs create repo "$name"
              refused pfs create branch "data@$name"
            done
            grep -q 'only letters' $W/err || grep -q "invalid" $W/err
            for p in '/../x' '/a/../../x' "/$(printf 'a\001')" "/$(printf 'a\033[2J')" "/$long"; do
              refused pfs put file "data@master:$p" -f $W/f
              refused pfs get file "data@master:$p"
            done
            refused pfs get file 'data@..:/keep'
            refused pfs get file '../data@master:/keep'
            # The mount: invalid repo and branch names, control characters, names over 255 bytes.
            refused mkdir "$MNT/a b"
            refused mkdir "$MNT/.x"
            refused mkdir "$MNT/data/.b"
            refused touch "$MNT/data/master/$(printf 'a\001b')"
            refused touch "$MNT/data/master/$(head -c 256 /dev/zero | tr '\0' a)"
            # Spec globs and names that leave the repo.
            for glob in '/../*' '/a/../../*' '../x'; do
              printf '{"pipeline": {"name": "p"}, "transform": {"cmd": ["true"]}, "input": {"pfs": {"repo": "data", "glob": "%s"}}}' "$glob" > $W/spec.json
              refused pfs create pipeline -f $W/spec.json
            done
            printf '{"pipeline": {"name": "../p"}, "transform": {"cmd": ["true"]}, "input": {"pfs": {"repo": "data", "glob": "/"}}}' > $W/spec.json
            refused pfs create pipeline -f $W/spec.json
            printf '{"pipeline": {"name": "p"}, "transform": {"cmd": ["true"]}, "input": {"pfs": {"repo": "../data", "glob": "/"}}}' > $W/spec.json
            refused pfs create pipeline -f $W/spec.json
            # The API: raw requests, NUL bytes included.
            S=$PFS_DATA_DIR/pfs.sock
            api() { code=$(curl -s -o $W/body -w '%{http_code}' --unix-socket $S "$@"); case $code in 4*) grep -q '"code"' $W/body || { echo "no JSON error for $*: $(cat $W/body)" >&2; exit 1; };; *) echo "HTTP $code for $*: $(cat $W/body)" >&2; exit 1;; esac; }
            for name in '../x' 'a\u0000b' 'a/b' '.x' "$long"; do
              api -X POST -H 'content-type: application/json' -d "{\"name\": \"$name\"}" http://pfs/v1/repos
              api -X POST -H 'content-type: application/json' -d "{\"name\": \"$name\"}" http://pfs/v1/repos/data/branches
            done
            for q in 'path=/../../etc/passwd' 'path=%2F..%2Fx' 'path=/a%00b' 'path=/a%01b'; do
              api "http://pfs/v1/repos/data/file?ref=master&$q"
              api "http://pfs/v1/repos/data/file/content?ref=master&$q"
            done
            api "http://pfs/v1/repos/..%2F..%2Fetc/commits"
            api "http://pfs/v1/repos/data/commit?ref=..%2Fmaster"
            api -X PUT --data-binary @$W/f "http://pfs/v1/repos/data/files?ref=..%2Fmaster"
            api -X POST -H 'content-type: application/json' -d '{"paths": ["/../keep"]}' "http://pfs/v1/repos/data/files/delete?ref=master"
            api -X POST -H 'content-type: application/json' -d '{"src_repo": "data", "src_ref": "master", "src_path": "/../../x", "dst_path": "/y"}' "http://pfs/v1/repos/data/files/copy?ref=master"
            api -X POST -H 'content-type: application/json' -d '{"spec": "{\"pipeline\": {\"name\": \"p\"}, \"transform\": {\"cmd\": [\"true\"]}, \"input\": {\"pfs\": {\"repo\": \"data\", \"glob\": \"/../*\"}}}"}' http://pfs/v1/pipelines
            api -X POST -H 'content-type: application/json' -d '{not json' http://pfs/v1/repos
            # Nothing was created by any of it.
            test "$(ls $MNT)" = data
            test "$(ls $MNT/data)" = master
            test "$(ls $MNT/data/master)" = keep
            test "$(pfs list pipeline --raw | tr -d ' \n')" = "[]"
            pfs fsck
            """#)
    }

    // MARK: resource exhaustion

    /// A data directory on a 48 MiB filesystem: a put, a mount write and a put inside an open commit that do not
    /// fit fail with "no space", commit nothing damaged, leave the daemon serving, and what they wrote is reclaimed
    /// by gc; a datum that fills /pfs/out fails its job with the reason and the daemon keeps serving.
    func testFullDiskFailsCleanlyAndIsReclaimed() throws {
        try smallDataDir(mib: 48)
        try h.startMounted()
        try h.sh(#"""
            used() { df --output=used -k $PFS_DATA_DIR | tail -1; }
            head -c 1000000 /dev/urandom > $W/small
            head -c 80000000 /dev/urandom > $W/big
            mkdir $MNT/data && cp $W/small $MNT/data/master/keep && sync $MNT/data/master
            pfs put file data@master:/keep2 -f $W/small
            before=$(used); head=$(pfs inspect commit data@master --raw | grep '"id"')
            # A put that does not fit.
            if pfs put file data@master:/big -f $W/big 2>$W/err; then echo "the put of 80 MB into 48 MiB succeeded" >&2; exit 1; fi
            grep -qi 'space' $W/err || { echo "put: no 'space' in: $(cat $W/err)" >&2; exit 1; }
            test "$(pfs inspect commit data@master --raw | grep '"id"')" = "$head"
            # A write through the mount that does not fit: cp reports the error.
            if cp $W/big $MNT/data/master/big 2>$W/err; then echo "cp of 80 MB into 48 MiB succeeded" >&2; exit 1; fi
            grep -qi 'space' $W/err || { echo "cp: no 'space' in: $(cat $W/err)" >&2; exit 1; }
            # The failed file shows only what was stored (nothing), its spool is gone, and the mount takes changes again.
            # (close() returns before the kernel's asynchronous release reaches the daemon.)
            for i in $(seq 1 50); do test -s $MNT/data/master/big || break; sleep 0.1; done
            test ! -s $MNT/data/master/big || { echo "the failed cp left $(stat -c %s $MNT/data/master/big) unacknowledged bytes" >&2; exit 1; }
            pfs list repo >/dev/null
            rm -f $MNT/data/master/big; sync $MNT/data/master
            pfs gc
            # Inside an open commit: the failed put leaves the commit usable, and finishing keeps what succeeded.
            pfs start commit data@master >/dev/null
            echo one | pfs put file data@master:/one
            if pfs put file data@master:/big -f $W/big 2>$W/err; then echo "put in an open commit succeeded" >&2; exit 1; fi
            pfs finish commit data@master
            test "$(pfs get file data@master:/one)" = one
            # Everything committed is intact, the daemon serves, gc gives the space back again.
            cmp $W/small $MNT/data/master/keep
            pfs get file data@master:/keep2 | cmp - $W/small
            pfs list repo >/dev/null
            pfs fsck
            pfs gc
            after=$(used)
            test "$after" -le $((before + 4096)) || { echo "gc left ${after} KiB used, ${before} KiB before the failures" >&2; exit 1; }
            echo after | pfs put file data@master:/after
            """#)
        // A datum that fills /pfs/out.
        guard ["/usr/bin/bwrap", "/bin/bwrap"].contains(where: FileManager.default.isExecutableFile) else { return }
        try h.sh(#"""
            printf '{"pipeline": {"name": "fill"}, "transform": {"cmd": ["sh", "-c", "head -c 200000000 /dev/urandom > /pfs/out/x"]}, "input": {"pfs": {"repo": "data", "glob": "/"}}}' > $W/fill.json
            pfs create pipeline -f $W/fill.json
            id=$(pfs inspect commit data@master --raw | sed -n 's/.*"id" : "\(.*\)".*/\1/p')
            pfs wait job "fill@$id" --timeout 120 >/dev/null 2>&1 || true
            pfs inspect job "fill@$id" --raw > $W/job.json
            grep -q '"state" : "failure"' $W/job.json || { echo "the job that filled the disk did not fail: $(cat $W/job.json)" >&2; exit 1; }
            pfs logs --pipeline fill > $W/logs 2>&1 || true
            grep -qi 'space' $W/logs $W/job.json || { echo "no 'space' in the job or its logs: $(cat $W/job.json $W/logs)" >&2; exit 1; }
            pfs list repo >/dev/null
            pfs delete pipeline fill
            pfs gc
            pfs fsck
            echo again | pfs put file data@master:/again
            test "$(cat $MNT/data/master/again)" = again
            """#)
    }

    /// With the daemon limited to 160 open files, 250 files held open at once through the mount: opens past the
    /// limit fail with an error (EMFILE/ENFILE), never a hang or a crash; every file whose close succeeded is
    /// stored; the daemon keeps serving.
    func testTooManyOpenFilesFailsCleanly() throws {
        try h.startMounted()
        guard let pid = h.daemonPID else { return XCTFail("no daemon") }
        let limit = try h.sh("prlimit --pid \(pid) --nofile=160:160 && prlimit --pid \(pid) --nofile --noheadings -o SOFT")
        XCTAssertEqual(limit.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "160")
        try h.sh(#"""
            mkdir $MNT/data
            python3 - $MNT/data/master $W/ok <<'PY'
            import os, sys
            base, okfile = sys.argv[1], sys.argv[2]
            held, ok, errors = [], [], set()
            for i in range(250):
                try:
                    f = open(f"{base}/f{i}", "wb"); f.write(b"%d\n" % i); held.append((i, f))
                except OSError as e:
                    errors.add(e.errno)
            for i, f in held:
                try:
                    f.close(); ok.append(i)
                except OSError as e:
                    errors.add(e.errno)
            open(okfile, "w").write("\n".join(map(str, ok)))
            print("held", len(held), "closed", len(ok), "errors", sorted(errors), file=sys.stderr)
            assert len(ok) > 0, "nothing could be written"
            assert errors <= {24, 23}, f"unexpected errnos {errors} (EMFILE/ENFILE expected)"
            PY
            pfs list repo >/dev/null
            sync $MNT/data/master
            for i in $(cat $W/ok); do test "$(pfs get file data@master:/f$i)" = "$i"; done
            pfs fsck
            """#)
        XCTAssertTrue(h.daemonIsRunning, "the daemon died of file-descriptor exhaustion")
    }

    /// A pipeline that writes $PFS_MANY_OUTPUTS (default 10,000) files from one datum: all of them are committed.
    func testPipelineWithManyOutputFiles() throws {
        guard ["/usr/bin/bwrap", "/bin/bwrap"].contains(where: FileManager.default.isExecutableFile) else { throw XCTSkip("no bubblewrap") }
        let n = Int(ProcessInfo.processInfo.environment["PFS_MANY_OUTPUTS"] ?? "") ?? 10_000
        try h.startMounted()
        let t0 = Date()
        try h.sh(#"""
            pfs create repo data && echo go | pfs put file data@master:/go
            printf '{"pipeline": {"name": "many"}, "transform": {"cmd": ["sh", "-c", "i=0; mkdir -p /pfs/out/d; while [ $i -lt %d ]; do echo $i > /pfs/out/d/f$i; i=$((i+1)); done"]}, "input": {"pfs": {"repo": "data", "glob": "/"}}}' \#(n) > $W/many.json
            pfs create pipeline -f $W/many.json
            pfs wait commit data@master --timeout 600 >/dev/null
            test "$(ls $MNT/many/master/d | wc -l)" = \#(n)
            test "$(cat $MNT/many/master/d/f\#(n - 1))" = \#(n - 1)
            pfs fsck --fast
            """#)
        print("pipeline with \(n) output files: \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
    }

    // MARK: isolation and permissions

    /// The data directory, the metadata database and the API socket are the owner's alone; the mount is private
    /// unless --allow-other (and then file modes are enforced); a pipeline sees only its inputs, read-only.
    func testOwnerOnlyFilesPrivateMountAndPipelineIsolation() throws {
        try h.startMounted()
        for path in [h.dataDir.path, h.dataDir.appendingPathComponent("metadata.db").path, h.dataDir.appendingPathComponent("pfs.sock").path] {
            let mode = try XCTUnwrap((try FileManager.default.attributesOfItem(atPath: path))[.posixPermissions] as? Int)
            XCTAssertEqual(mode & 0o077, 0, "\(path) has mode \(String(mode, radix: 8)): others or the group can reach it")
        }
        XCTAssertFalse(try h.sh("grep ' \(h.mnt.path) ' /proc/mounts").stdout.contains("allow_other"))
        try h.sh("mkdir $MNT/data $MNT/secret && echo open > $MNT/data/master/pub && echo s3cret > $MNT/secret/master/s && chmod 600 $MNT/data/master/pub && sync $MNT/data/master $MNT/secret/master")
        guard isRoot, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("other-user checks need root and setpriv") }
        let asNobody = "setpriv --reuid=65534 --regid=65534 --clear-groups"
        // The base directory of the test must be traversable for the other user to reach the mount point at all.
        try h.sh("chmod 755 $(dirname $MNT)")
        try h.sh("if \(asNobody) ls $MNT/data/master 2>$W/err; then echo 'another user read the private mount' >&2; exit 1; fi; grep -qi 'permission denied' $W/err")
        h.stop()
        try h.startMounted(extra: ["--allow-other"])
        try h.sh("""
            chmod 644 $MNT/secret/master/s
            \(asNobody) cat $MNT/secret/master/s | grep -q s3cret
            if \(asNobody) cat $MNT/data/master/pub 2>/dev/null; then echo 'mode 600 not enforced for other users' >&2; exit 1; fi
            if \(asNobody) sh -c "echo x > $MNT/data/master/new" 2>/dev/null; then echo 'another user wrote into a 755 directory' >&2; exit 1; fi
            """)
        // The pipeline: only its input, read-only; no other repo, no mount, no data directory.
        guard ["/usr/bin/bwrap", "/bin/bwrap"].contains(where: FileManager.default.isExecutableFile) else { return }
        try h.sh(#"""
            cat > $W/probe.json <<EOF
            {"pipeline": {"name": "probe"}, "transform": {"cmd": ["sh"], "stdin": [
              "exec > /pfs/out/report 2>&1",
              "ls /pfs",
              "cat /pfs/secret/s 2>/dev/null && echo READ-SECRET",
              "cat $MNT/secret/master/s 2>/dev/null && echo READ-MOUNT",
              "cat $PFS_DATA_DIR/metadata.db >/dev/null 2>&1 && echo READ-DATA-DIR",
              "(echo x > /pfs/data/pub) 2>/dev/null && echo WROTE-INPUT",
              "rm /pfs/data/pub 2>/dev/null && echo REMOVED-INPUT",
              "(echo x > /pfs/x) 2>/dev/null && echo WROTE-PFS",
              "echo ok > /tmp/t && echo tmp-ok"]},
             "input": {"pfs": {"repo": "data", "glob": "/"}}}
            EOF
            pfs create pipeline -f $W/probe.json
            pfs wait commit data@master --timeout 120 >/dev/null
            r=$(cat $MNT/probe/master/report)
            test "$r" = "$(printf 'data\nout\ntmp-ok')" || { echo "the sandbox allowed: $r" >&2; exit 1; }
            test "$(cat $MNT/data/master/pub)" = open
            """#)
    }

    // MARK: filesystem conformance

    /// POSIX behaviours beyond MountTests: O_EXCL, atomic rename over a file being read, O_APPEND from
    /// concurrent writers, truncate/extend, sparse writes, unlink of an open file, directory rename with open
    /// files, mtime and ctime updates; all checked live and again from the finished commit; then a short fio
    /// verify workload.
    func testPosixBehavioursToolsRelyOn() throws {
        try h.startMounted()
        try h.sh(#"""
            mkdir $MNT/data
            python3 - $MNT/data/master <<'PY'
            import errno, os, sys, threading, time
            b = sys.argv[1]
            def p(n): return os.path.join(b, n)
            def read(n):
                with open(p(n), "rb") as f: return f.read()
            # O_EXCL
            fd = os.open(p("excl"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644); os.write(fd, b"first"); os.close(fd)
            try:
                os.open(p("excl"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644); raise SystemExit("O_EXCL opened an existing file")
            except FileExistsError: pass
            # Atomic rename over an existing file, with a reader holding the old one open.
            open(p("cfg"), "wb").write(b"old" * 1000)
            reader = open(p("cfg"), "rb")
            open(p("cfg.tmp"), "wb").write(b"new" * 1000)
            os.rename(p("cfg.tmp"), p("cfg"))
            assert read("cfg") == b"new" * 1000 and not os.path.exists(p("cfg.tmp"))
            assert reader.read() == b"old" * 1000, "an open reader must keep the replaced content"
            reader.close()
            # O_APPEND with concurrent writers: every record whole, none lost.
            def appender(k):
                fd = os.open(p("log"), os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)
                for i in range(200): os.write(fd, (f"{k:02d}-{i:04d}-" + "x" * 90 + "\n").encode())
                os.close(fd)
            ts = [threading.Thread(target=appender, args=(k,)) for k in range(4)]
            [t.start() for t in ts]; [t.join() for t in ts]
            lines = read("log").split(b"\n")[:-1]
            assert len(lines) == 800 and all(len(l) == 98 for l in lines), f"{len(lines)} records, torn: {[l for l in lines if len(l) != 98][:3]}"
            for k in range(4):
                mine = [int(l[3:7]) for l in lines if l.startswith(b"%02d-" % k)]
                assert mine == list(range(200)), f"writer {k}: records out of order or lost"
            # truncate / extend
            open(p("t"), "wb").write(b"abcdef")
            os.truncate(p("t"), 3); assert read("t") == b"abc"
            os.truncate(p("t"), 8); assert read("t") == b"abc" + b"\0" * 5
            # Sparse writes far past the end.
            with open(p("sparse"), "wb") as f:
                f.seek(10 << 20); f.write(b"end")
            st = os.stat(p("sparse")); assert st.st_size == (10 << 20) + 3
            d = read("sparse"); assert d[:10 << 20] == bytes(10 << 20) and d[-3:] == b"end"
            # Unlink of an open file: its handle keeps working, the name is gone.
            f = open(p("gone"), "w+b"); f.write(b"still here"); f.flush()
            os.unlink(p("gone")); assert not os.path.exists(p("gone"))
            f.write(b"!"); f.seek(0); assert f.read() == b"still here!"; f.close()
            assert not os.path.exists(p("gone")), "closing an unlinked file brought it back"
            # Directory rename with a file open inside it.
            os.makedirs(p("d1/d2")); open(p("d1/d2/a"), "wb").write(b"A")
            h = open(p("d1/d2/w"), "wb"); h.write(b"part1")
            os.rename(p("d1"), p("moved"))
            h.write(b"part2"); h.close()
            assert read("moved/d2/a") == b"A" and read("moved/d2/w") == b"part1part2" and not os.path.exists(p("d1"))
            # mtime and ctime as POSIX keeps them, read with `stat -c %Y/%Z` (seconds: a step sleeps past one):
            # a write or truncate advances both; chmod, rename and utime advance only the ctime (utime sets the mtime).
            import subprocess
            def times(n):
                out = subprocess.run(["stat", "-c", "%Y %Z", p(n)], check=True, capture_output=True, text=True).stdout
                return tuple(int(x) for x in out.split())
            s0 = times("t"); time.sleep(1.1)
            with open(p("t"), "ab") as f: f.write(b"z")
            m1, c1 = times("t"); assert m1 > s0[0] and c1 == m1, f"write: mtime/ctime {s0} -> {(m1, c1)}"
            time.sleep(1.1)
            os.chmod(p("t"), 0o600); assert os.stat(p("t")).st_mode & 0o777 == 0o600
            m2, c2 = times("t"); assert m2 == m1 and c2 > c1, f"chmod: mtime must stay and ctime advance: {(m1, c1)} -> {(m2, c2)}"
            time.sleep(1.1)
            os.rename(p("t"), p("t2")); os.rename(p("t2"), p("t"))
            m3, c3 = times("t"); assert m3 == m2 and c3 > c2, f"rename: {(m2, c2)} -> {(m3, c3)}"
            time.sleep(1.1)
            os.utime(p("t"), ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
            assert os.stat(p("t")).st_mtime_ns == 1_000_000_000_000_000_000
            m4, c4 = times("t"); assert m4 == 1_000_000_000 and c4 > c3, f"utime: ctime must advance: {(m3, c3)} -> {(m4, c4)}"
            # A directory's ctime: chmod advances it.
            os.mkdir(p("cd")); dm, dc = times("cd"); time.sleep(1.1)
            os.chmod(p("cd"), 0o700); dm2, dc2 = times("cd"); assert dm2 == dm and dc2 > dc, f"chmod dir: {(dm, dc)} -> {(dm2, dc2)}"
            # Truncate moves both again.
            open(p("tr"), "wb").write(b"123456"); os.utime(p("tr"), ns=(10**18, 10**18)); time.sleep(1.1)
            os.truncate(p("tr"), 2); m5, c5 = times("tr"); assert m5 == c5 and m5 > 10**9, f"truncate: {(m5, c5)}"
            open(os.environ["W"] + "/times", "w").write(f"{m4} {c4} {dm2} {dc2}")
            PY
            sync $MNT/data/master
            # The finished commit holds the same.
            test "$(pfs get file data@master:/excl)" = first
            test "$(pfs get file data@master:/log | wc -l)" = 800
            test "$(pfs get file data@master:/cfg | head -c 3)" = new
            pfs get file data@master:/sparse | cmp - $MNT/data/master/sparse
            test "$(pfs get file data@master:/moved/d2/w)" = part1part2
            if pfs get file data@master:/gone 2>/dev/null; then echo "the unlinked file is in the commit" >&2; exit 1; fi
            test "$(pfs inspect file data@master:/t --raw | grep -c '"mode" : 384')" = 1
            # ctimes are stored: the finished commit (by id, read-only) shows the same ones.
            id=$(pfs inspect commit data@master --raw | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
            test "$(stat -c '%Y %Z' $MNT/data/$id/t) $(stat -c '%Y %Z' $MNT/data/$id/cd)" = "$(cat $W/times)"
            """#)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/fio") else { throw XCTSkip("no fio (scripts/install-deps.sh --test installs it)") }
        try h.sh("""
            mkdir -p $MNT/data/master/fio
            # fio exits non-zero when a block reads back wrong.
            fio --name=verify --directory=$MNT/data/master/fio --size=16m --bs=4k --rw=randwrite --verify=crc32c \
                --ioengine=psync --numjobs=2 --output=$W/fio.txt || { cat $W/fio.txt >&2; exit 1; }
            fio --name=seq --directory=$MNT/data/master/fio --size=32m --bs=128k --rw=write --verify=md5 \
                --ioengine=psync --output=$W/fio2.txt || { cat $W/fio2.txt >&2; exit 1; }
            sync $MNT/data/master
            pfs fsck
            """)
    }

    /// dbench (Samba's file-server load: creates, writes, reads, renames, unlinks, directory scans, fsyncs and
    /// locks from several clients at once) on a branch mount, with Debian's loadfile. It must finish without an
    /// error (dbench exits 1 and prints "failed" when a call returns what the loadfile did not expect); then the
    /// commit finishes, the finished commit (read by id) holds exactly what the branch showed, and fsck is clean.
    func testDbenchOnABranchMount() throws {
        let loadfile = "/usr/share/dbench/client.txt"
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dbench"), FileManager.default.isReadableFile(atPath: loadfile) else {
            throw XCTSkip("no dbench (scripts/install-deps.sh --test installs it)")
        }
        let seconds = ProcessInfo.processInfo.environment["PFS_DBENCH_SECONDS"] ?? "12"
        try h.startMounted()
        try h.sh("""
            mkdir $MNT/data && mkdir $MNT/data/master/db
            # --skip-cleanup: the clients' files stay, so the finished commit can be compared with the live view.
            # (dbench prints "failed to create barrier semaphore" when SysV semaphores are unavailable; harmless.)
            cd $W && dbench -c \(loadfile) -D $MNT/data/master/db -t \(seconds) --skip-cleanup 4 >$W/dbench.txt 2>&1 \
                || { tail -40 $W/dbench.txt >&2; exit 1; }
            if grep -v 'barrier semaphore' $W/dbench.txt | grep -Ei 'fail|error|unexpected' >&2; then exit 1; fi
            grep -E '^Throughput .* 4 clients' $W/dbench.txt >&2 || { tail -40 $W/dbench.txt >&2; exit 1; }
            test "$(grep -cE '^ +4 +[0-9]+ +[0-9.]+ MB/sec +execute' $W/dbench.txt)" -ge 3 || { echo "dbench barely ran" >&2; exit 1; }
            test -d $MNT/data/master/db/clients/client3
            # Path, type, size, mode and content hash of everything below a directory. A finished commit is shown
            # read-only (no write bits), so those are left out of the comparison.
            cat >$W/tree.py <<'PY'
            import hashlib, os, stat, sys
            top = sys.argv[1]
            for d, dirs, files in sorted(os.walk(top)):
                for n in sorted(dirs + files):
                    p = os.path.join(d, n); st = os.lstat(p)
                    h = hashlib.sha256(open(p, "rb").read()).hexdigest() if stat.S_ISREG(st.st_mode) else "-"
                    print(os.path.relpath(p, top), stat.S_IFMT(st.st_mode), st.st_size, oct(st.st_mode & 0o7555), h)
            PY
            python3 $W/tree.py $MNT/data/master >$W/live.txt
            sync $MNT/data/master
            info=$(pfs inspect commit data@master --raw)
            echo "$info" | python3 -c 'import json,sys; c=json.load(sys.stdin); assert c["finished"], c' >&2
            id=$(echo "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
            python3 $W/tree.py $MNT/data/$id >$W/commit.txt
            diff $W/live.txt $W/commit.txt >&2
            test "$(grep -c ' 32768 ' $W/live.txt)" -gt 10  # regular files
            pfs fsck
            """)
    }
}

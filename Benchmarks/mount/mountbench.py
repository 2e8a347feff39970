#!/usr/bin/env python3
"""Benchmarks of the pfs FUSE mount against a native directory on the same disk, in one run.

Started by Benchmarks/mount/run.sh (which builds pfsmount and owns the scratch directory and the cleanup trap).
Standard library only. Every figure is the median of --runs timed repetitions; the report lists every sample.
"""
import argparse
import ctypes
import datetime
import json
import os
import platform
import random
import select
import signal
import statistics
import subprocess
import sys
import threading
import time

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
DEVNULL = subprocess.DEVNULL


def log(msg):
    print(f"[mountbench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def human_bytes(n):
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"


def drop_caches(tools=()):
    """Empties the page cache, dentries and inodes. The tools about to be timed are then loaded again
    (`tool --version`), so a cold run measures the data's caches, not loading the tool's binary."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")
    for t in tools:
        subprocess.run([t, "--version"], stdout=DEVNULL, stderr=DEVNULL)


def sh(argv, ok=(0,), capture=False, cwd=None):
    """Runs argv (no shell); raises with its stderr when the exit code is not in `ok`."""
    p = subprocess.run(argv, stdout=subprocess.PIPE if capture else DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    if p.returncode not in ok:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
    return p.stdout if capture else None


def timed(steps, ok=(0,)):
    """Wall time of running each argv of `steps` one after the other (each its own process)."""
    t0 = time.perf_counter()
    for s in steps:
        sh(s, ok=ok)
    return time.perf_counter() - t0


def pdeathsig():
    """In the daemon's child process: SIGTERM it if the harness dies (Linux PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass


def loadavg():
    with open("/proc/loadavg") as f:
        return tuple(float(x) for x in f.read().split()[:3])


def cpu_busy_seconds():
    """Non-idle CPU time of the whole machine so far (all CPUs), in seconds."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Daemon:
    """A private pfsmount: started with --announce, stopped with SIGTERM, its mount always detached."""

    def __init__(self, exe, mnt, data, log_path, pid_file):
        self.exe, self.mnt, self.data, self.log_path, self.pid_file = exe, mnt, data, log_path, pid_file
        self.p = None

    def start(self):
        os.makedirs(self.mnt, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        logf = open(self.log_path, "ab")
        self.p = subprocess.Popen([self.exe, self.mnt, "--data-dir", self.data, "--announce", "--no-pipelines"],
                                  stdout=subprocess.PIPE, stderr=logf, preexec_fn=pdeathsig)
        logf.close()
        with open(self.pid_file, "w") as f:
            f.write(str(self.p.pid))
        deadline = time.time() + 120
        line = b""
        while time.time() < deadline:
            r, _, _ = select.select([self.p.stdout], [], [], 0.5)
            if r:
                line = self.p.stdout.readline()
                if line.strip() == b"ready":
                    break
                if not line:
                    break
            if self.p.poll() is not None:
                break
        if line.strip() != b"ready":
            self.stop()
            raise RuntimeError(f"pfsmount did not become ready; its log:\n{self.tail_log()}")
        # Keep draining stdout so the daemon never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.p.stdout], daemon=True).start()
        log(f"pfsmount ready (pid {self.p.pid}) at {self.mnt}")

    def tail_log(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def status(self, key):
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1]) * KiB
        except OSError:
            return None
        return None

    def cpu_seconds(self):
        try:
            with open(f"/proc/{self.p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return 0.0

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        with open("/proc/mounts") as f:
            mounted = any(line.split()[1] == self.mnt for line in f)
        if mounted:
            subprocess.run(["fusermount3", "-u", "-z", self.mnt], stderr=DEVNULL)


class Probe:
    """Optional perf / strace of the daemon during one extra (untimed) pfs run."""

    def __init__(self, kind, daemon, work):
        self.kind, self.daemon, self.work = kind, daemon, work
        self.n = 0

    def around(self, label, fn):
        self.n += 1
        out = os.path.join(self.work, f"{self.kind}-{self.n}.data")
        if self.kind == "perf":
            argv = ["perf", "record", "-F", "999", "-g", "-p", str(self.daemon.pid), "-o", out]
        else:
            argv = ["strace", "-c", "-f", "-p", str(self.daemon.pid), "-o", out]
        p = subprocess.Popen(argv, stdout=DEVNULL, stderr=DEVNULL)
        time.sleep(1.0)
        try:
            fn()
        finally:
            p.send_signal(signal.SIGINT)
            p.wait(timeout=120)
        if self.kind == "strace":
            with open(out) as f:
                return f"{label}\n" + "\n".join(f.read().splitlines()[:22])

        def report(*extra):
            text = subprocess.run(["perf", "report", "--stdio", "-g", "none", "--percent-limit", "1", "-i", out, *extra],
                                  capture_output=True, text=True).stdout
            lines = [" ".join(l.split()) for l in text.splitlines() if l.strip() and not l.startswith("#")]
            return [l.replace(" - -", "") for l in lines]
        own = report("--no-children", "--sort", "dso,symbol")[:15]
        # Inclusive time of the daemon's own functions (frame-pointer stacks: a lower bound).
        pfs = [l for l in report("--children", "--sort", "symbol")
               if any(k in l for k in ("PFSFileSystem", "OpenFile", "FuseAdapter", "ChunkReader", "Store.",
                                       "InodeTable", "MetadataStore", "WorkingTree", "FileIngester", "sqlite3"))][:15]
        text = "self time (top symbols):\n" + "\n".join(own) + "\n\nincluding callees (pfs functions):\n" + "\n".join(pfs)
        try:
            text = subprocess.run(["swift", "demangle", "--simplified"], input=text, capture_output=True,
                                  text=True, timeout=60).stdout or text
        except Exception:
            pass
        return f"{label}\n{text}"


class Bench:
    def __init__(self, a):
        self.a = a
        self.work = a.work
        self.native = os.path.join(self.work, "native")
        self.src = os.path.join(self.work, "src")
        self.mnt = os.path.join(self.work, "mnt")
        os.makedirs(self.native, exist_ok=True)
        os.makedirs(self.src, exist_ok=True)
        self.daemon = Daemon(a.pfsmount, self.mnt, os.path.join(self.work, "data"),
                             os.path.join(self.work, "pfsmount.log"), a.pid_file)
        q = a.quick
        self.big = a.big_mib * MiB if a.big_mib else 64 * MiB if q else 1 * GiB
        self.ncp = a.cp_files or (1_000 if q else 10_000)
        self.ntree = a.tree_files or (5_000 if q else 100_000)
        self.runs = a.runs
        self.results = []      # one dict per measurement
        self.sections = []     # per benchmark: name, load, cpu, rss
        self.probes = []       # profile / strace texts
        self.checks = []       # sanity checks (text, ok)
        self.probe = Probe("perf" if a.profile else "strace", self.daemon, self.work) if (a.profile or a.strace) else None
        self.big_commit = None

    # --- helpers -------------------------------------------------------------------------------------------------
    def repo(self, name):
        path = os.path.join(self.mnt, name)
        if not os.path.isdir(path):
            os.mkdir(path)
        return path

    def newest_commit(self, repo):
        ids = os.listdir(os.path.join(self.mnt, repo, ".commits"))
        # The directory lists newest first; listdir keeps the kernel's order.
        return ids[0]

    def commit_count(self, repo):
        return len(os.listdir(os.path.join(self.mnt, repo, ".commits")))

    def check(self, text, ok):
        self.checks.append((text, bool(ok)))
        if not ok:
            log(f"CHECK FAILED: {text}")

    def wait_quiet(self):
        if self.a.wait_load is None:
            return
        t0 = time.time()
        while loadavg()[0] >= self.a.wait_load and time.time() - t0 < self.a.wait_max:
            if int(time.time() - t0) % 60 < 5:
                log(f"waiting for the load to fall below {self.a.wait_load} (now {loadavg()[0]:.2f})")
            time.sleep(5)

    def section(self, title, fn):
        self.wait_quiet()
        log(f"== {title}")
        l0, c0, d0, ch0 = loadavg(), cpu_busy_seconds(), self.daemon.cpu_seconds(), os.times()
        t0 = time.time()
        fn()
        ch1 = os.times()
        wall = time.time() - t0
        busy = cpu_busy_seconds() - c0
        daemon = self.daemon.cpu_seconds() - d0
        children = (ch1.children_user - ch0.children_user) + (ch1.children_system - ch0.children_system)
        mine = (ch1.user - ch0.user) + (ch1.system - ch0.system)
        self.sections.append({
            "title": title, "wall_s": wall, "load_before": l0, "load_after": loadavg(),
            "daemon_cpu_s": daemon, "tools_cpu_s": children + mine,
            "others_cpu_s": max(0.0, busy - daemon - children - mine),
            "vmhwm": self.daemon.status("VmHWM"), "vmrss": self.daemon.status("VmRSS"),
        })

    def measure(self, bench, name, variants, runs=None, cold=False, warmup=False, ok=(0,), kind="time",
                nbytes=None, target=None, probe_variants=("commit", "branch")):
        """variants: {label: [argv, ...]}; each run times every variant once (interleaved, each run starting with
        the next variant)."""
        runs = runs or self.runs
        samples = {k: [] for k in variants}
        if warmup:
            for steps in variants.values():
                timed(steps, ok=ok)
        names = list(variants)
        for i in range(runs):
            # Each run starts with another variant, so no variant always pays for (or profits from) going first.
            for k in names[i % len(names):] + names[:i % len(names)]:
                steps = variants[k]
                if cold:
                    drop_caches({s[0] for s in steps})
                samples[k].append(timed(steps, ok=ok))
        if self.probe:
            for k, steps in variants.items():
                if k in probe_variants:
                    if cold:
                        drop_caches({s[0] for s in steps})
                    self.probes.append(self.probe.around(f"### {bench}. {name} — pfs {k}",
                                                         lambda s=steps: timed(s, ok=ok)))
        self.results.append({"bench": bench, "name": name, "kind": kind, "samples": samples, "bytes": nbytes,
                             "target": target, "cold": cold})
        med = {k: statistics.median(v) for k, v in samples.items()}
        log(f"{bench}. {name}: " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in med.items()))
        return samples

    # --- data ------------------------------------------------------------------------------------------------------
    def random_file(self, path, size):
        sh(["openssl", "rand", "-out", path, str(size)])

    def ensure_big(self):
        """The big file: natively at native/big.bin and committed to repo `rd` (one commit)."""
        if self.big_commit:
            return
        nat = os.path.join(self.native, "big.bin")
        self.random_file(nat, self.big)
        rd = self.repo("rd")
        os.sync()
        t = timed([["cp", nat, os.path.join(rd, "master", "big.bin")], ["sync", os.path.join(rd, "master")]])
        self.big_commit = self.newest_commit("rd")
        log(f"setup: {human_bytes(self.big)} file committed to rd@{self.big_commit} in {t:.2f} s (cp + sync)")
        committed = os.path.join(rd, self.big_commit, "big.bin")
        self.check(f"the {human_bytes(self.big)} file reads back identical through rd/<commit> and rd/master",
                   subprocess.run(["cmp", nat, committed]).returncode == 0
                   and subprocess.run(["cmp", nat, os.path.join(rd, "master", "big.bin")]).returncode == 0)
        self.check("rd has exactly one commit after cp + sync", self.commit_count("rd") == 1)

    def big_paths(self):
        rd = os.path.join(self.mnt, "rd")
        return {"native": os.path.join(self.native, "big.bin"),
                "commit": os.path.join(rd, self.big_commit, "big.bin"),
                "branch": os.path.join(rd, "master", "big.bin")}

    def small_tree(self, root, nfiles, per_dir, seed, size=None):
        """nfiles files in nfiles/per_dir directories. size=None: text files of 200-2000 bytes, 1 in 500 holds
        the word 'needle'; else random bytes of exactly `size`."""
        rnd = random.Random(seed)
        words = ["alpha", "beta", "gamma", "delta", "data", "commit", "branch", "chunk", "tree", "mount",
                 "version", "file", "record", "value", "sample", "row", "col", "x", "y", "z"]
        n = 0
        d = 0
        while n < nfiles:
            dpath = os.path.join(root, f"d{d:04d}")
            os.makedirs(dpath, exist_ok=True)
            for _ in range(min(per_dir, nfiles - n)):
                if size is None:
                    target = rnd.randint(200, 2000)
                    parts, length = [], 0
                    while length < target:
                        line = " ".join(rnd.choice(words) for _ in range(8)) + f" {rnd.random():.6f}\n"
                        parts.append(line)
                        length += len(line)
                    if n % 500 == 7:
                        parts.insert(rnd.randrange(len(parts)), "the needle is here\n")
                    body = "".join(parts).encode()
                else:
                    body = rnd.randbytes(size)
                with open(os.path.join(dpath, f"f{n:06d}.txt" if size is None else f"f{n:06d}.bin"), "wb") as f:
                    f.write(body)
                n += 1
            d += 1

    # --- 1. sequential read ----------------------------------------------------------------------------------------
    def b1(self):
        self.ensure_big()
        p = self.big_paths()
        for tool in ("dd", "cat"):
            def argv(path):
                return [["dd", f"if={path}", "of=/dev/null", "bs=1M"]] if tool == "dd" else [["cat", path]]
            variants = {k: argv(v) for k, v in p.items()}
            self.measure(1, f"`{tool}` sequential read, cold", variants, cold=True, kind="throughput", runs=max(5, self.runs),
                         nbytes=self.big, target=0.9, probe_variants=("commit",) if tool == "dd" else ())
            self.measure(1, f"`{tool}` sequential read, warm", variants, warmup=True, kind="throughput",
                         nbytes=self.big, target=0.8, probe_variants=())

    # --- 2. head -c 4096, cold -------------------------------------------------------------------------------------
    def b2(self):
        self.ensure_big()
        p = self.big_paths()
        self.measure(2, "`head -c 4096`, cold (process start to exit; `head` itself loaded)", {k: [["head", "-c", "4096", v]] for k, v in p.items()},
                     runs=max(5, self.runs), cold=True, target=0.010, kind="latency", probe_variants=())
        # The same without the process start: open + read 4 KiB + close in this process.
        samples = {k: [] for k in p}
        for _ in range(max(5, self.runs)):
            for k, path in p.items():
                drop_caches()
                t0 = time.perf_counter()
                fd = os.open(path, os.O_RDONLY)
                data = os.read(fd, 4096)
                os.close(fd)
                samples[k].append(time.perf_counter() - t0)
                assert len(data) == 4096
        self.results.append({"bench": 2, "name": "open + read 4 KiB + close in-process, cold", "kind": "latency",
                             "samples": samples, "target": 0.010, "cold": True})

    # --- 3. sequential write + commit --------------------------------------------------------------------------------
    def b3(self):
        wr = self.repo("wr")
        src = os.path.join(self.src, "w.bin")
        samples = {"native": [], "branch": []}
        before = self.commit_count("wr")
        runs = self.runs + (1 if self.probe else 0)
        for i in range(runs):
            self.random_file(src, self.big)  # fresh content each run: no deduplication against earlier runs
            nat = os.path.join(self.native, f"w{i}.bin")
            pfs = os.path.join(wr, "master", f"w{i}.bin")
            steps = {
                "native": [["dd", f"if={src}", f"of={nat}", "bs=1M"], ["sync", nat]],
                "branch": [["dd", f"if={src}", f"of={pfs}", "bs=1M"], ["sync", os.path.join(wr, "master")]],
            }
            order = ["native", "branch"] if i % 2 == 0 else ["branch", "native"]
            for k in order:
                os.sync()
                if i == self.runs:  # the extra run, under the profiler
                    if k == "branch":
                        self.probes.append(self.probe.around("### 3. sequential write + commit — pfs branch",
                                                             lambda s=steps[k]: timed(s)))
                    continue
                samples[k].append(timed(steps[k]))
            os.unlink(nat) if os.path.exists(nat) else None
        last = self.newest_commit("wr")
        self.check(f"the last written file reads back identical through wr/<commit> ({human_bytes(self.big)})",
                   subprocess.run(["cmp", src, os.path.join(wr, last, f"w{runs - 1}.bin")]).returncode == 0)
        self.check(f"dd + sync made exactly one commit per run ({runs})", self.commit_count("wr") - before == runs)
        self.results.append({"bench": 3, "name": "`dd bs=1M` sequential write + `sync` (pfs: incl. the commit finish)",
                             "kind": "throughput", "samples": samples, "bytes": self.big, "target": 0.5})
        med = {k: statistics.median(v) for k, v in samples.items()}
        log("3. write: " + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))
        os.unlink(src)

    # --- 4. cp -r of many small files + commit -------------------------------------------------------------------------
    def b4(self):
        cp = self.repo("cp")
        samples = {"native": [], "branch": []}
        before = self.commit_count("cp")
        runs = self.runs + (1 if self.probe else 0)
        for i in range(runs):
            srcdir = os.path.join(self.src, f"small{i}")
            self.small_tree(srcdir, self.ncp, 1000, seed=100 + i, size=4 * KiB)  # fresh content each run
            nat = os.path.join(self.native, f"cp{i}")
            pfs = os.path.join(cp, "master", f"cp{i}")
            steps = {
                "native": [["cp", "-r", srcdir, nat], ["sync", "-f", nat]],
                "branch": [["cp", "-r", srcdir, pfs], ["sync", os.path.join(cp, "master")]],
            }
            order = ["native", "branch"] if i % 2 == 0 else ["branch", "native"]
            for k in order:
                os.sync()
                if i == self.runs:
                    if k == "branch":
                        self.probes.append(self.probe.around(f"### 4. cp -r {self.ncp} files + commit — pfs branch",
                                                             lambda s=steps[k]: timed(s)))
                    continue
                samples[k].append(timed(steps[k]))
        last = self.newest_commit("cp")
        srcdir = os.path.join(self.src, f"small{runs - 1}")
        self.check(f"the last copied tree ({self.ncp} files) is identical through cp/<commit> (diff -r)",
                   subprocess.run(["diff", "-r", "-q", srcdir, os.path.join(cp, last, f"cp{runs - 1}")],
                                  stdout=DEVNULL).returncode == 0)
        self.check(f"cp -r + sync made exactly one commit per run ({runs})", self.commit_count("cp") - before == runs)
        self.results.append({"bench": 4, "name": f"`cp -r` of {self.ncp:,} × 4 KiB files + sync (pfs: incl. the commit finish)",
                             "kind": "time", "samples": samples, "target": 1 / 3})
        med = {k: statistics.median(v) for k, v in samples.items()}
        log("4. cp -r: " + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))

    # --- 5. find, ls -lR, grep -r over a tree of small files -----------------------------------------------------------
    def b5(self):
        n = self.ntree
        nat = os.path.join(self.native, "tree")
        t0 = time.time()
        self.small_tree(nat, n, 1000, seed=7)
        log(f"setup: native tree of {n:,} files written in {time.time() - t0:.1f} s")
        tr = self.repo("tree")
        os.sync()
        t = timed([["cp", "-r", nat, os.path.join(tr, "master", "tree")], ["sync", os.path.join(tr, "master")]])
        self.tree_setup = t
        cid = self.newest_commit("tree")
        log(f"setup: cp -r of the tree into tree/master + sync: {t:.1f} s (commit {cid})")
        paths = {"native": nat, "commit": os.path.join(tr, cid, "tree"), "branch": os.path.join(tr, "master", "tree")}

        # Sanity: the same names and the same grep hits through every path.
        def rel(out, base):
            return sorted(l[len(base):] for l in out.decode().splitlines())
        finds = {k: rel(sh(["find", v], capture=True), v) for k, v in paths.items()}
        greps = {k: rel(sh(["grep", "-rl", "needle", v], capture=True, ok=(0, 1)), v) for k, v in paths.items()}
        self.check(f"find lists the same {len(finds['native']):,} paths natively, in the commit and in the branch",
                   finds["native"] == finds["commit"] == finds["branch"])
        self.check(f"grep -rl finds the same {len(greps['native'])} files natively, in the commit and in the branch",
                   greps["native"] == greps["commit"] == greps["branch"] and len(greps["native"]) > 0)

        tools = [("find", lambda p: [["find", p]], 2 / 3), ("ls -lR", lambda p: [["ls", "-lR", p]], 2 / 3),
                 ("grep -r", lambda p: [["grep", "-r", "needle", p]], 0.5)]
        for mode in ("warm", "cold"):
            for name, argv, target in tools:
                if mode == "cold" and name == "grep -r":
                    target = None  # the target is for warm grep
                self.measure(5, f"`{name}` over {n:,} files, {mode}", {k: argv(v) for k, v in paths.items()},
                             cold=mode == "cold", warmup=mode == "warm", target=target, ok=(0, 1),
                             probe_variants=("commit",))

    # --- report --------------------------------------------------------------------------------------------------------
    def rows(self):
        out = []
        for r in self.results:
            med = {k: statistics.median(v) for k, v in r["samples"].items() if v}
            row = {"bench": r["bench"], "name": r["name"], "kind": r["kind"], "median_s": med, "target": r.get("target"),
                   "samples": r["samples"]}
            if r["kind"] == "throughput":
                row["MBps"] = {k: r["bytes"] / v / 1e6 for k, v in med.items()}
            ratios, met = {}, {}
            for k in ("commit", "branch"):
                if k in med and "native" in med and r["kind"] != "latency":
                    ratios[k] = med["native"] / med[k]  # throughput pfs÷native == time native÷pfs
                    if r.get("target") is not None:
                        met[k] = ratios[k] >= r["target"]
                elif k in med and r["kind"] == "latency" and r.get("target") is not None:
                    met[k] = med[k] <= r["target"]
            row["ratio"], row["met"] = ratios, met
            out.append(row)
        return out

    def report(self, started):
        rows = self.rows()
        a = self.a
        L = []
        L.append(f"# pfs mount benchmarks — {'quick' if a.quick else 'full'} run")
        L.append("")
        L.append(f"- date: {started:%Y-%m-%d %H:%M} UTC; command: `{a.command}`; revision: {a.revision}")
        L.append(f"- machine: {os.cpu_count()} CPUs, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / GiB:.0f} GiB RAM, "
                 f"kernel {platform.release()}; scratch on {fs_of(self.work)}; nice {a.priority}")
        L.append(f"- sizes: {human_bytes(self.big)} file; cp -r of {self.ncp:,} × 4 KiB files; tree of {self.ntree:,} files; "
                 f"{self.runs} timed runs per figure (medians)")
        hwm = max((s["vmhwm"] or 0) for s in self.sections) if self.sections else 0
        L.append(f"- pfsmount peak RSS (VmHWM): {hwm / MiB:.0f} MiB")
        L.append("")
        L.append("Ratios: throughput pfs÷native, time native÷pfs — higher is better, 1.0 = as fast as native. "
                 "Latencies are absolute.")
        L.append("")
        L.append("| # | measurement | native | pfs commit | pfs branch | ratio commit | ratio branch | target | met |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            def cell(k):
                if k not in r["median_s"]:
                    return "—"
                if r["kind"] == "throughput":
                    return f"{r['MBps'][k]:,.0f} MB/s"
                s = r["median_s"][k]
                return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"
            def ratio(k):
                return f"{r['ratio'][k]:.2f}" if k in r["ratio"] else "—"
            t = r["target"]
            if t is None:
                tgt = "—"
            elif r["kind"] == "latency":
                tgt = f"≤ {t * 1000:.0f} ms"
            elif r["kind"] == "time":
                tgt = f"≥ {t:.2f} (pfs ≤ {1 / t:.1f}× native time)"
            else:
                tgt = f"≥ {t:.1f}×"
            met = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in r["met"].items()) or "—"
            L.append(f"| {r['bench']} | {r['name']} | {cell('native')} | {cell('commit')} | {cell('branch')} | "
                     f"{ratio('commit')} | {ratio('branch')} | {tgt} | {met} |")
        L.append("")
        if getattr(self, "tree_setup", None):
            L.append(f"Setup of benchmark 5: `cp -r` of the {self.ntree:,}-file tree into `tree/master` + `sync`: "
                     f"{self.tree_setup:.1f} s.")
            L.append("")
        L.append("## Sanity checks")
        for text, ok in self.checks:
            L.append(f"- {'ok' if ok else 'FAILED'}: {text}")
        L.append("")
        L.append("## Conditions per benchmark")
        L.append("")
        L.append("| benchmark | wall | load avg before → after | pfsmount CPU | tools CPU | other CPU | pfsmount RSS / peak |")
        L.append("|---|---|---|---|---|---|---|")
        for s in self.sections:
            L.append(f"| {s['title']} | {s['wall_s']:.0f} s | {s['load_before'][0]:.2f} → {s['load_after'][0]:.2f} | "
                     f"{s['daemon_cpu_s']:.1f} s | {s['tools_cpu_s']:.1f} s | {s['others_cpu_s']:.1f} s | "
                     f"{(s['vmrss'] or 0) / MiB:.0f} / {(s['vmhwm'] or 0) / MiB:.0f} MiB |")
        L.append("")
        L.append("'other CPU' is the machine's busy time not spent by pfsmount, the measured tools or this script "
                 "(other users' builds, kernel writeback threads).")
        L.append("")
        L.append("## Samples (seconds)")
        for r in rows:
            L.append(f"- {r['bench']}. {r['name']}: " + "; ".join(
                f"{k} " + ", ".join(f"{x:.4f}" for x in v) for k, v in r["samples"].items()))
        if self.probes:
            L.append("")
            L.append("## Profiles of the daemon (one extra, untimed pfs run each)")
            for p in self.probes:
                L.append("")
                L.append(p.split("\n", 1)[0])
                L.append("```")
                L.append(p.split("\n", 1)[1] if "\n" in p else "")
                L.append("```")
        return "\n".join(L) + "\n", rows

    def run(self):
        started = datetime.datetime.now(datetime.timezone.utc)
        self.daemon.start()
        only = set(int(x) for x in self.a.only.split(",")) if self.a.only else {1, 2, 3, 4, 5}
        try:
            titles = {1: "1. sequential read", 2: "2. head -c 4096", 3: "3. sequential write + commit",
                      4: "4. cp -r small files + commit", 5: "5. find / ls -lR / grep -r"}
            for b in sorted(only):
                self.section(titles[b], getattr(self, f"b{b}"))
        finally:
            hwm = self.daemon.status("VmHWM")
            self.daemon.stop()
        text, rows = self.report(started)
        with open(self.a.out, "w") as f:
            f.write(text)
        with open(os.path.splitext(self.a.out)[0] + ".json", "w") as f:
            json.dump({"started": started.isoformat(), "command": self.a.command, "revision": self.a.revision,
                       "quick": self.a.quick, "vmhwm": hwm, "rows": rows, "sections": self.sections,
                       "checks": self.checks}, f, indent=1)
        print(text)
        log(f"report: {self.a.out}")
        failed = [c for c in self.checks if not c[1]]
        if failed:
            return 1
        if self.a.check_targets and any(not v for r in rows for v in r["met"].values()):
            return 3
        return 0


def fs_of(path):
    best = ("", "?", "?")
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, fstype = line.split()[:3]
            if path.startswith(mnt.rstrip("/") + "/") and len(mnt) >= len(best[0]):
                best = (mnt, fstype, dev)
    return f"{best[2]} ({best[1]}, mounted at {best[0]})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pfsmount", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pid-file", required=True)
    ap.add_argument("--command", default="")
    ap.add_argument("--revision", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big-mib", type=int, default=0)
    ap.add_argument("--cp-files", type=int, default=0)
    ap.add_argument("--tree-files", type=int, default=0)
    ap.add_argument("--wait-load", type=float, default=None)
    ap.add_argument("--wait-max", type=float, default=600)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--strace", action="store_true")
    ap.add_argument("--check-targets", action="store_true")
    ap.add_argument("--priority", default="0")
    a = ap.parse_args()
    b = Bench(a)
    try:
        sys.exit(b.run())
    except BaseException:
        b.daemon.stop()
        raise


if __name__ == "__main__":
    main()

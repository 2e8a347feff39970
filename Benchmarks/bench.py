#!/usr/bin/env python3
"""The pfs benchmarks: each one measures pfs and a reference in the same run and reports the ratio
against its target. Run it through Benchmarks/run.sh (which builds the binaries and installs DVC);
see Benchmarks/README.md for what each benchmark measures and why.

Exit status: 0 when every sanity check passed (targets missed are reported, not failures, unless
--check-targets), 1 when a sanity check or a step failed, 3 when --check-targets and a target was missed.
"""

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import pfsapi  # noqa: E402
from drivers import APIDriver, CLIDriver, DriverError, cli_usable  # noqa: E402

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

# name: (big file, big-file reps, small files, small-file reps, branch files, commit reps)
SIZES = {
    "full": dict(big=1 * GiB, big_reps=3, small_n=10_000, small_size=4 * KiB, small_reps=3,
                 branch_n=100_000, branch_file=256, commit_reps=20, append=1 * MiB),
    "quick": dict(big=128 * MiB, big_reps=1, small_n=1_000, small_size=4 * KiB, small_reps=1,
                  branch_n=10_000, branch_file=256, commit_reps=8, append=1 * MiB),
}


class SanityError(Exception):
    """A result that cannot be right (bytes read back differ, a count is off): the run is invalid."""


# ---------------------------------------------------------------------------------------------- helpers

def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fmt_time(s):
    if s is None:
        return "—"
    if s >= 1:
        return f"{s:.2f} s"
    return f"{s * 1000:.1f} ms"


def fmt_bytes(n):
    if n is None:
        return "—"
    if abs(n) < KiB:
        return f"{n} B"
    if abs(n) < MiB:
        return f"{n / KiB:.1f} KiB"
    if abs(n) < GiB:
        return f"{n / MiB:.2f} MiB"
    return f"{n / GiB:.2f} GiB"


def fmt_rate(nbytes, s):
    return f"{nbytes / MiB / s:.0f} MiB/s" if s else "—"


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def pct(xs, p):
    """Nearest-rank percentile (p90 of 20 samples is the 18th smallest)."""
    xs = sorted(xs)
    k = max(1, -(-len(xs) * p // 100))
    return xs[int(k) - 1]


def run(cmd, cwd=None, env=None):
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError(f"`{' '.join(map(str, cmd))}` exited {p.returncode}: {p.stderr.decode(errors='replace').strip()[-2000:]}")
    return p.stdout


def timed(cmd, cwd=None, env=None):
    t0 = time.perf_counter()
    run(cmd, cwd=cwd, env=env)
    return time.perf_counter() - t0


def settle():
    """Flush every dirty page before a timed step, so no step pays for the write-back of the previous one."""
    os.sync()


def write_random(path, size, rng=None):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 8 * MiB)
            f.write(os.urandom(n) if rng is None else rng.randbytes(n))
            left -= n


def warm(path):
    """Reads a file so it is in the page cache (the benchmarks measure pfs, not the source disk)."""
    with open(path, "rb", buffering=0) as f:
        while f.read(8 * MiB):
            pass


def sha256_file(path, extra=None):
    h = hashlib.sha256()
    for p in [path] + ([extra] if extra else []):
        with open(p, "rb") as f:
            while True:
                b = f.read(8 * MiB)
                if not b:
                    break
                h.update(b)
    return h.hexdigest()


def du_bytes(path):
    return int(run(["du", "-sb", path]).split()[0])


def make_small_tree(root, n, size, per_dir=None):
    """n files of `size` random bytes each (all distinct), flat or in subdirectories of per_dir files."""
    os.makedirs(root)
    width = len(str(n - 1))
    for i in range(n):
        d = root if not per_dir else os.path.join(root, f"d{i // per_dir:04d}")
        if per_dir and i % per_dir == 0:
            os.makedirs(d)
        with open(os.path.join(d, f"f{i:0{width}d}"), "wb") as f:
            f.write(os.urandom(size))


def machine_facts(work):
    facts = {"nproc": os.cpu_count()}
    with open("/proc/meminfo") as f:
        kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
    facts["memory"] = f"{kb / (1 << 20):.1f} GiB"
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.+)", f.read())
    facts["cpu"] = m.group(1).strip() if m else platform.processor()
    try:
        src = run(["df", "--output=source,fstype", work]).decode().splitlines()[1].split()
        dev, fstype = src[0], src[1]
        name = os.path.basename(os.path.realpath(dev))
        rota = None
        base = re.sub(r"p?\d+$", "", name) if not os.path.exists(f"/sys/block/{name}") else name
        rp = f"/sys/block/{base}/queue/rotational"
        if os.path.exists(rp):
            rota = open(rp).read().strip()
        kind = "virtio block device" if base.startswith("vd") else ("NVMe" if base.startswith("nvme") else "block device")
        journal = ""
        if fstype in ("ext3", "ext4") and os.path.isdir("/proc/fs/jbd2"):
            has = any(e.startswith(name + "-") or e.startswith(name + ":") for e in os.listdir("/proc/fs/jbd2"))
            journal = "" if has else " without a journal"
        facts["disk"] = f"{dev} ({kind}, {fstype}{journal}" + (f", rotational={rota}" if rota is not None else "") + ")"
    except Exception as e:  # facts are best effort
        facts["disk"] = f"unknown ({e})"
    facts["kernel"] = platform.release()
    return facts


# ---------------------------------------------------------------------------------------------- daemon

def _die_with_parent():
    """In the daemon's child process: SIGTERM it if the harness dies, even by SIGKILL (Linux PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except Exception:
        pass  # best effort: run.sh's EXIT trap still stops the daemon by its pid


class Daemon:
    """`pfsmount --no-mount --data-dir D --announce`, started and always stopped by the harness."""

    def __init__(self, pfsmount, data_dir, log_path, pid_file):
        self.pfsmount, self.data_dir, self.log_path, self.pid_file = pfsmount, data_dir, log_path, pid_file
        self.proc = None

    def start(self, timeout=120):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.pfsmount, "--no-mount", "--data-dir", self.data_dir, "--announce",
                                      "--log-level", "warning"],
                                     stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        with open(self.pid_file, "w") as f:
            f.write(f"{self.proc.pid}\n")
        deadline = time.monotonic() + timeout
        os.set_blocking(self.proc.stdout.fileno(), False)
        buf = b""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pfsmount exited {self.proc.returncode} before it was ready; see {self.log_path}")
            chunk = self.proc.stdout.read()
            if chunk:
                buf += chunk
                if b"ready\n" in buf:
                    return
            time.sleep(0.02)
        raise RuntimeError(f"pfsmount did not print `ready` within {timeout}s; see {self.log_path}")

    def cpu_seconds(self):
        """User + system CPU the daemon has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tick

    def io_write_bytes(self):
        """Bytes the daemon caused to be sent to the storage layer (/proc/PID/io write_bytes)."""
        try:
            with open(f"/proc/{self.proc.pid}/io") as f:
                return int(re.search(r"^write_bytes:\s+(\d+)", f.read(), re.M).group(1))
        except (OSError, AttributeError):
            return None

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            log("pfsmount did not stop within 60 s of SIGTERM; killing it")
            self.proc.kill()
            self.proc.wait()
        try:
            os.unlink(self.pid_file)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------- profiling

class Profile:
    """`perf record` of the daemon around one step (with --profile); the flat top of `perf report` goes to the details."""

    def __init__(self, bench, label):
        self.bench, self.label, self.proc = bench, label, None
        self.data = os.path.join(bench.work, f"perf-{re.sub(r'[^a-z0-9]+', '-', label.lower())}.data")

    def __enter__(self):
        if self.bench.args.profile:
            self.proc = subprocess.Popen(["perf", "record", "-F", "999", "-o", self.data, "-p", str(self.bench.daemon.proc.pid)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # let perf attach before the step starts
        return self

    def __exit__(self, *exc):
        if not self.proc:
            return False
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)
        try:
            out = run(["perf", "report", "-i", self.data, "--stdio", "--no-children", "--sort", "dso,sym",
                       "--percent-limit", "1.5"]).decode(errors="replace")
            top = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith("#")][:18]
            self.bench.detail(f"- perf profile of the daemon during {self.label} (share of samples, dso, symbol):")
            self.bench.detail("  ```")
            self.bench.details += ["  " + ln.rstrip()[:150] for ln in top]
            self.bench.detail("  ```")
        except Exception as e:
            self.bench.detail(f"- perf profile of {self.label} failed: {e}")
        return False


NoProfile = contextlib.nullcontext


# ---------------------------------------------------------------------------------------------- DVC

class Dvc:
    def __init__(self, dvc_bin):
        self.bin = dvc_bin
        self.env = dict(os.environ, DVC_NO_ANALYTICS="1", DVC_NO_UPDATER="1", GIT_TERMINAL_PROMPT="0")
        self.version = run([dvc_bin, "--version"], env=self.env).decode().strip()

    def new_repo(self, path):
        os.makedirs(path)
        run([self.bin, "init", "--no-scm", "-q"], cwd=path, env=self.env)
        run([self.bin, "config", "core.analytics", "false"], cwd=path, env=self.env)
        return path

    def add(self, repo, target):
        return timed([self.bin, "add", "-q", target], cwd=repo, env=self.env)

    @staticmethod
    def check(repo, target, size=None, nfiles=None):
        meta = open(os.path.join(repo, target + ".dvc")).read()
        if size is not None and f"size: {size}" not in meta:
            raise SanityError(f"dvc add {target}: the .dvc file does not record size {size}:\n{meta}")
        if nfiles is not None and f"nfiles: {nfiles}" not in meta:
            raise SanityError(f"dvc add {target}: the .dvc file does not record nfiles {nfiles}:\n{meta}")


# ---------------------------------------------------------------------------------------------- harness

class Bench:
    def __init__(self, args):
        self.args = args
        self.sz = SIZES["quick" if args.quick else "full"]
        self.work = args.work
        self.data_dir = os.path.join(self.work, "data")
        self.rows = []      # the summary table
        self.details = []   # markdown lines: samples, stages, cross-checks
        self.notes = []
        self.failures = []
        self.raw = {}       # everything, for results/latest.json
        self.other_by_step = {}
        self.fixtures = os.path.join(self.work, "fixtures")
        os.makedirs(self.fixtures, exist_ok=True)
        self.dvc = None
        self.dvc_reason = None
        if args.dvc and args.dvc != "none":
            try:
                self.dvc = Dvc(args.dvc)
            except Exception as e:
                self.dvc_reason = f"DVC at {args.dvc} does not run: {e}"
        else:
            self.dvc_reason = args.dvc_reason or "DVC is not installed (pip could not install it)"
        if self.dvc_reason:
            self.notes.append(f"DVC columns skipped: {self.dvc_reason}.")

    def row(self, what, pfs, ref, ratio, target, met, note=""):
        self.rows.append(dict(what=what, pfs=pfs, ref=ref, ratio=ratio, target=target, met=met, note=note))
        mark = {True: "met", False: "MISSED", None: ""}[met]
        log(f"ROW  {what}: pfs {pfs} | ref {ref} | {ratio} | target {target} {mark}")

    def detail(self, line):
        self.details.append(line)

    def with_dvc(self, where, fn):
        """Runs a DVC step; if DVC itself fails, its column is dropped (with a note), not pfs's figures."""
        try:
            fn()
        except (RuntimeError, SanityError, OSError) as e:
            self.notes.append(f"DVC failed in {where}, so its column is left out from then on: {e}")
            log(f"dvc failed in {where}: {e}")
            self.dvc = None

    def check(self, cond, msg):
        if not cond:
            raise SanityError(msg)

    # ----------------------------------------------------------------------------------- 1. one big file
    def big_file(self, i):
        """The i-th big random file (fresh content per repetition, so dedup never makes a put free)."""
        p = os.path.join(self.fixtures, f"big{i}.bin")
        if not os.path.exists(p):
            write_random(p, self.sz["big"])
        return p

    def bench_big(self):
        size, reps = self.sz["big"], self.sz["big_reps"]
        label = fmt_bytes(size)
        log(f"1. put file of a {label} random file vs cp, cp + fsync, dvc add ({reps} repetitions)")
        self.pfs.create_repo("big")
        scratch = os.path.join(self.work, "cp")
        os.makedirs(scratch, exist_ok=True)
        samples = dict(pfs=[], cp=[], cp_fsync=[], dvc=[], daemon_cpu=[], cli_cpu=[], daemon_written=[])
        for i in range(reps):
            src = self.big_file(i)
            expect = sha256_file(src)
            # cp, page cache warm, no durability.
            dst = os.path.join(scratch, "copy.bin")
            settle(); warm(src)
            samples["cp"].append(timed(["cp", src, dst]))
            os.unlink(dst); settle()
            # cp, then fsync of the copy (coreutils `sync FILE` calls fsync on it): as durable as pfs.
            warm(src)
            t0 = time.perf_counter()
            run(["cp", src, dst]); run(["sync", dst])
            samples["cp_fsync"].append(time.perf_counter() - t0)
            os.unlink(dst); settle()
            # pfs
            warm(src)
            cpu0, w0 = self.daemon.cpu_seconds(), self.daemon.io_write_bytes()
            with Profile(self, f"the put of {label}") if i == 0 else NoProfile():
                dt, res = self.pfs.put("big", "master", f"/big{i}.bin", src)
            samples["pfs"].append(dt)
            samples["cli_cpu"].append(self.pfs.last_cpu)
            samples["daemon_cpu"].append(self.daemon.cpu_seconds() - cpu0)
            w1 = self.daemon.io_write_bytes()
            samples["daemon_written"].append(None if w0 is None or w1 is None else w1 - w0)
            self.check(res.get("finished") is True, f"put file big@master: commit not finished: {res}")
            self.check(res.get("files") == 1 and res.get("bytes") == size, f"put file big@master: PutResult {res} does not match one file of {size} bytes")
            self.check(res.get("new_bytes", 0) >= size, f"put file big@master: new_bytes {res.get('new_bytes')} < {size} for fresh random content")
            # dvc add of the same bytes, in a fresh DVC repo (its cache would dedup a second add).
            if self.dvc:
                def dvc_big():
                    drepo = self.dvc.new_repo(os.path.join(self.work, f"dvc-big{i}"))
                    run(["cp", src, os.path.join(drepo, "big.bin")])
                    settle(); warm(os.path.join(drepo, "big.bin"))
                    samples["dvc"].append(self.dvc.add(drepo, "big.bin"))
                    Dvc.check(drepo, "big.bin", size=size)
                    shutil.rmtree(drepo); settle()
                self.with_dvc("benchmark 1", dvc_big)
            if i == reps - 1:
                got, n = self.pfs.file_sha256("big", "master", f"/big{i}.bin")
                self.check((got, n) == (expect, size), f"get file big@master:/big{i}.bin: sha256 {got} ({n} bytes) != put {expect} ({size} bytes)")
                self.detail(f"- sanity: `pfs get file big@master:/big{i}.bin` streams {n} bytes with the sha256 of the source ({expect[:16]}…).")
        if not self.dvc:
            samples["dvc"] = []  # DVC failed part-way: no half column
        self.raw["big"] = samples
        pfs, cp, cps = median(samples["pfs"]), median(samples["cp"]), median(samples["cp_fsync"])
        self.row(f"put file, 1 × {label} (vs cp, no fsync)", f"{fmt_time(pfs)} ({fmt_rate(size, pfs)})",
                 f"cp: {fmt_time(cp)} ({fmt_rate(size, cp)})", f"{cp / pfs:.2f}× cp throughput", "≥ 0.5×", cp / pfs >= 0.5,
                 "cp leaves the copy in the page cache; pfs fsyncs before it commits")
        self.row(f"put file, 1 × {label} (vs cp + fsync)", f"{fmt_time(pfs)} ({fmt_rate(size, pfs)})",
                 f"cp + sync FILE: {fmt_time(cps)} ({fmt_rate(size, cps)})", f"{cps / pfs:.2f}× cp throughput", "≥ 0.5×",
                 cps / pfs >= 0.5, "the like-for-like peer: both end durable")
        if samples["dvc"]:
            d = median(samples["dvc"])
            self.row(f"put file, 1 × {label} (vs dvc add)", fmt_time(pfs), f"dvc add: {fmt_time(d)}",
                     f"{d / pfs:.2f}× faster", "≥ 2.5× faster", d / pfs >= 2.5, "dvc add does not fsync")
        self.detail(f"- samples (s): pfs {fmt_list(samples['pfs'])}; cp {fmt_list(samples['cp'])}; cp + fsync {fmt_list(samples['cp_fsync'])}"
                    + (f"; dvc add {fmt_list(samples['dvc'])}" if samples["dvc"] else ""))
        cli_cpu = f"; CLI CPU per put: {fmt_list(samples['cli_cpu'])} s" if samples["cli_cpu"][0] is not None else ""
        self.detail(f"- daemon CPU per put (user + sys): {fmt_list(samples['daemon_cpu'])} s{cli_cpu}; "
                    f"daemon write_bytes per put: {', '.join(fmt_bytes(x) for x in samples['daemon_written'])}")
        t0 = time.perf_counter(); sha256_file(self.big_file(0)); sha_s = time.perf_counter() - t0
        self.detail(f"- for scale: sha256 of the file in Python (OpenSSL, one core, page cache warm) takes {fmt_time(sha_s)} ({fmt_rate(size, sha_s)}).")
        self.raw["big"]["sha256_s"] = sha_s

    # ----------------------------------------------------------------------------------- 2. many small files
    def bench_small(self):
        n, size, reps = self.sz["small_n"], self.sz["small_size"], self.sz["small_reps"]
        log(f"2. put file -r of {n:,} files of {fmt_bytes(size)} vs dvc add, cp -r + sync ({reps} repetitions)")
        self.pfs.create_repo("small")
        samples = dict(pfs=[], dvc=[], cp=[], daemon_cpu=[], cli_cpu=[])
        for i in range(reps):
            src = os.path.join(self.fixtures, f"small{i}")
            make_small_tree(src, n, size)
            settle()
            cpu0 = self.daemon.cpu_seconds()
            with Profile(self, f"the put of {n:,} small files") if i == 0 else NoProfile():
                dt, res = self.pfs.put("small", "master", f"/set{i}", src, recursive=True)
            samples["pfs"].append(dt)
            samples["cli_cpu"].append(self.pfs.last_cpu)
            samples["daemon_cpu"].append(self.daemon.cpu_seconds() - cpu0)
            self.check(res.get("files") == n and res.get("bytes") == n * size, f"put file -r: PutResult {res} does not match {n} files of {size} bytes")
            self.check(res.get("finished") is True, f"put file -r: commit not finished: {res}")
            settle()
            # Trees of many files are only removed at the end: on ext4 without a journal, allocating inodes
            # right after thousands were deleted is several times slower (ext4 skips recently deleted inodes).
            dst = os.path.join(self.work, f"cp-small{i}")
            t0 = time.perf_counter()
            run(["cp", "-r", src, dst]); run(["sync", "-f", dst])
            samples["cp"].append(time.perf_counter() - t0)
            settle()
            if self.dvc:
                def dvc_small():
                    drepo = self.dvc.new_repo(os.path.join(self.work, f"dvc-small{i}"))
                    run(["cp", "-r", src, os.path.join(drepo, "files")])
                    settle()
                    samples["dvc"].append(self.dvc.add(drepo, "files"))
                    Dvc.check(drepo, "files", nfiles=n)
                    settle()
                self.with_dvc("benchmark 2", dvc_small)
            # sanity: a sample of files reads back byte for byte; the listing has every file.
            names = sorted(os.listdir(src))
            listing = self.api.list_files("small", "master", f"/set{i}")
            self.check(len(listing) == n, f"list files small@master:/set{i}: {len(listing)} entries, expected {n}")
            for name in random.Random(i).sample(names, 3):
                got, m = self.pfs.file_sha256("small", "master", f"/set{i}/{name}")
                self.check((got, m) == (sha256_file(os.path.join(src, name)), size), f"get file small@master:/set{i}/{name} differs from the source")
        self.detail(f"- sanity: each set lists {n:,} entries and 3 sampled files per set read back with the source's sha256.")
        if not self.dvc:
            samples["dvc"] = []
        self.raw["small"] = samples
        pfs = median(samples["pfs"])
        total = n * size
        if samples["dvc"]:
            d = median(samples["dvc"])
            self.row(f"put file -r, {n:,} × {fmt_bytes(size)} (vs dvc add)", f"{fmt_time(pfs)} ({n / pfs:,.0f} files/s)",
                     f"dvc add: {fmt_time(d)} ({n / d:,.0f} files/s)", f"{d / pfs:.2f}× faster", "≥ 5× faster", d / pfs >= 5)
        c = median(samples["cp"])
        self.row(f"put file -r, {n:,} × {fmt_bytes(size)} (vs cp -r + sync -f)", fmt_time(pfs),
                 f"cp -r + sync -f: {fmt_time(c)}", f"{c / pfs:.2f}× cp throughput", "— (for scale)", None)
        self.detail(f"- samples (s): pfs {fmt_list(samples['pfs'])}; dvc add {fmt_list(samples['dvc']) or '—'}; cp -r + sync -f {fmt_list(samples['cp'])}; "
                    f"daemon CPU {fmt_list(samples['daemon_cpu'])}"
                    + (f"; CLI CPU {fmt_list(samples['cli_cpu'])}" if samples["cli_cpu"][0] is not None else "")
                    + f" ({fmt_bytes(total)} in all).")

    # ----------------------------------------------------------------------------------- 3. dedup
    def bench_dedup(self):
        size, app = self.sz["big"], self.sz["append"]
        log(f"3. dedup: the same {fmt_bytes(size)} file into a second repo, then append {fmt_bytes(app)}")
        src = self.big_file(0)
        if not self.has_big:  # run alone: store the file once first
            self.pfs.create_repo("big")
            self.pfs.put("big", "master", "/big0.bin", src)
        objects = os.path.join(self.data_dir, "objects")
        self.pfs.create_repo("dedup")
        settle(); warm(src)
        du0, w0 = du_bytes(objects), self.daemon.io_write_bytes()
        dt, res = self.pfs.put("dedup", "master", "/copy.bin", src)
        settle()
        du1, w1 = du_bytes(objects), self.daemon.io_write_bytes()
        self.check(res.get("bytes") == size, f"put file dedup@master: PutResult {res} does not count {size} bytes")
        nb = res["new_bytes"]
        self.row(f"dedup: same {fmt_bytes(size)} file into a 2nd repo", f"new_bytes {fmt_bytes(nb)} (du +{fmt_bytes(du1 - du0)})",
                 f"a copy stores {fmt_bytes(size)}", f"{fmt_time(dt)} to put", "0 new bytes", nb == 0,
                 "du also counts the new commit's tree objects")
        appendix = os.path.join(self.fixtures, "appendix.bin")
        write_random(appendix, app)
        settle()
        du2 = du_bytes(objects)
        dt2, res2 = self.pfs.put("dedup", "master", "/copy.bin", appendix, append=True)
        settle()
        du3, w3 = du_bytes(objects), self.daemon.io_write_bytes()
        self.check(res2.get("bytes") == app, f"put file -a: PutResult {res2} does not count {app} appended bytes")
        nb2 = res2["new_bytes"]
        self.row(f"dedup: append {fmt_bytes(app)} to it (`put file -a`)", f"new_bytes {fmt_bytes(nb2)} (du +{fmt_bytes(du3 - du2)})",
                 f"a copy stores {fmt_bytes(size + app)}", f"{fmt_time(dt2)} to put", "≤ 3 MiB", nb2 <= 3 * MiB)
        expect = sha256_file(src, appendix)
        got, n = self.pfs.file_sha256("dedup", "master", "/copy.bin")
        self.check((got, n) == (expect, size + app), f"get file dedup@master:/copy.bin: sha256 {got} ({n} bytes) != source + appendix {expect}")
        info = self.api.inspect_file("dedup", "master", "/copy.bin")
        chunks = info.get("chunks")
        chunks = len(chunks) if isinstance(chunks, list) else chunks
        self.detail(f"- sanity: the appended file reads back as {n} bytes with the sha256 of source + appendix"
                    + (f"; it has {chunks} chunks." if chunks else "."))
        wtxt = "" if None in (w0, w1, w3) else f"; daemon write_bytes: +{fmt_bytes(w1 - w0)} (dedup put), +{fmt_bytes(w3 - w1)} (append)"
        self.detail(f"- objects/ du -sb: {du0} → {du1} → {du2} → {du3}{wtxt}.")
        self.raw["dedup"] = dict(new_bytes=nb, du_delta=du1 - du0, append_new_bytes=nb2, append_du_delta=du3 - du2,
                                 put_s=dt, append_s=dt2)

    # ----------------------------------------------------------------------------------- 4. commit latency
    def bench_commit(self):
        n, fsize, reps = self.sz["branch_n"], self.sz["branch_file"], self.sz["commit_reps"]
        log(f"4. one-file commits on a branch of {n:,} files ({reps} repetitions per variant)")
        src = os.path.join(self.fixtures, "branch")
        make_small_tree(src, n, fsize)
        names = sorted(os.listdir(src))
        self.pfs.create_repo("wide")
        settle()
        cpu0 = self.daemon.cpu_seconds()
        build_s, res = self.pfs.put("wide", "master", "/dir", src, recursive=True)
        build_cpu = self.daemon.cpu_seconds() - cpu0
        self.check(res.get("files") == n, f"building the {n}-file branch: PutResult {res}")
        native = os.path.join(self.work, "native")
        os.makedirs(native)
        settle()
        t0 = time.perf_counter()
        run(["cp", "-r", src, os.path.join(native, "dir")]); run(["sync", "-f", native])
        native_build = time.perf_counter() - t0
        self.detail(f"- building the branch: `put file -r` of {n:,} files of {fsize} B in one commit took {fmt_time(build_s)} "
                    f"({n / build_s:,.0f} files/s, daemon CPU {build_cpu:.2f} s); `cp -r` + `sync -f` of the same: {fmt_time(native_build)}.")

        rng = random.Random(42)
        small = os.path.join(self.fixtures, "small.bin")
        s = {k: [] for k in ("cli_put", "api_put", "cli_finish", "api_finish", "span", "native", "trivial")}

        def fresh_target():
            name = rng.choice(names)
            with open(small, "wb") as f:
                f.write(os.urandom(fsize))
            return name

        last = None
        prof = Profile(self, "the one-file commits (all variants)")
        prof.__enter__()
        for _ in range(reps):
            # a) the whole CLI call: one request = one commit (open, apply, write trees, fsync, record).
            name = fresh_target()
            dt, r = self.pfs.put("wide", "master", f"/dir/{name}", small)
            self.check(r.get("finished") is True, f"put into wide@master did not finish its commit: {r}")
            s["cli_put"].append(dt)
            # b) the same request sent by this process: the daemon's side, no process start.
            name = fresh_target()
            t0 = time.perf_counter()
            self.api.put_file("wide", "master", f"/dir/{name}", small)
            s["api_put"].append(time.perf_counter() - t0)
            # c) explicit start / put / finish through the CLI; the finish call is timed on its own.
            name = fresh_target()
            self.pfs.start_commit("wide", "master")
            self.pfs.put("wide", "master", f"/dir/{name}", small)
            s["cli_finish"].append(self.pfs.finish_commit("wide", "master"))
            c = self.api.inspect_commit("wide", "master")
            s["span"].append(iso_seconds(c["finished"]) - iso_seconds(c["started"]))
            # d) the same through the API: the finish request alone is the daemon-side commit finish.
            name = fresh_target()
            self.api.start_commit("wide", "master")
            self.api.put_file("wide", "master", f"/dir/{name}", small)
            t0 = time.perf_counter()
            self.api.finish_commit("wide", "master")
            s["api_finish"].append(time.perf_counter() - t0)
            last = (name, sha256_file(small))
            # e) native: one file replaced in a directory of n files, made durable.
            nname = rng.choice(names)
            t0 = time.perf_counter()
            run(["cp", small, os.path.join(native, "dir", nname)]); run(["sync", "-f", os.path.join(native, "dir", nname)])
            s["native"].append(time.perf_counter() - t0)
            # f) the CLI's fixed cost: one trivial request.
            s["trivial"].append(self.pfs.trivial("wide"))

        prof.__exit__(None, None, None)
        # sanity: the branch still has n files, the last change reads back, one commit per change.
        listing = self.api.list_files("wide", "master", "/dir")
        self.check(len(listing) == n, f"wide@master:/dir lists {len(listing)} entries after the commits, expected {n}")
        got, m = self.pfs.file_sha256("wide", "master", f"/dir/{last[0]}")
        self.check(got == last[1], f"wide@master:/dir/{last[0]} does not read back as last written")
        commits = self.api.list_commits("wide")
        self.check(len(commits) == 1 + 4 * reps, f"wide has {len(commits)} commits, expected {1 + 4 * reps}")
        self.detail(f"- sanity: after the {4 * reps} one-file commits `wide@master:/dir` still lists {n:,} entries, "
                    f"the last file written reads back with its sha256, and the history has {len(commits)} commits.")
        self.raw["commit"] = s
        self.raw["commit"]["build_s"] = build_s

        def mp(xs):
            return f"{fmt_time(median(xs))} / {fmt_time(pct(xs, 90))}"

        nat = mp(s["native"])
        target = "≤ 20 ms (median)"

        def ok(xs):
            return median(xs) <= 0.020

        if self.pfs.name == "cli":
            self.row(f"1-file commit in a {n:,}-file branch: whole `pfs put file` call, median / p90", mp(s["cli_put"]),
                     f"cp + sync -f: {nat}", f"{median(s['native']) / median(s['cli_put']):.2f}× native", target, ok(s["cli_put"]),
                     f"includes starting the CLI process: a trivial `pfs inspect repo` takes {fmt_time(median(s['trivial']))}")
        self.row(f"1-file commit in a {n:,}-file branch: the put request alone (daemon side), median / p90", mp(s["api_put"]),
                 f"cp + sync -f: {nat}", f"{median(s['native']) / median(s['api_put']):.2f}× native", target, ok(s["api_put"]),
                 "one HTTP request from the harness (no process start): open, apply, write trees, fsync, record")
        self.row("finish commit after a 1-file put (daemon side), median / p90", mp(s["api_finish"]),
                 f"cp + sync -f: {nat}", f"{median(s['native']) / median(s['api_finish']):.2f}× native", target, ok(s["api_finish"]),
                 "the finish request alone, after start commit + put: write changed trees, fsync, record")
        if self.pfs.name == "cli":
            self.detail(f"- `pfs finish commit` (whole CLI call), median / p90: {mp(s['cli_finish'])}; a trivial CLI call (`pfs inspect repo`) "
                        f"costs {mp(s['trivial'])}: the CLI's fixed cost (process start, connect).")
        self.detail(f"- started → finished of the explicit start / put / finish commits (includes the client's calls): {mp(s['span'])}.")
        for k in ("cli_put", "api_put", "api_finish", "native"):
            self.detail(f"- samples {k} (ms): {', '.join(f'{x * 1000:.1f}' for x in s[k])}")

    def wait_quiet(self, key):
        """With --wait-quiet S: waits up to S seconds for other processes to leave the CPUs (< 10% busy over 3 s)."""
        limit = self.args.wait_quiet
        if not limit:
            return
        deadline = time.monotonic() + limit
        while True:
            b0, o0 = cpu_busy_seconds(), own_cpu_seconds() + self.daemon.cpu_seconds()
            time.sleep(3)
            other = (cpu_busy_seconds() - b0) - (own_cpu_seconds() + self.daemon.cpu_seconds() - o0)
            share = max(0.0, other) / (3 * (os.cpu_count() or 1))
            if share < 0.10:
                return
            if time.monotonic() >= deadline:
                log(f"benchmark {key}: the machine is still busy ({share:.0%} of CPU used by other processes); running anyway")
                return
            log(f"benchmark {key}: waiting for the machine to be quiet ({share:.0%} of CPU used by other processes)")

    # ----------------------------------------------------------------------------------- run + report
    def run(self):
        binp = self.args.bin
        self.daemon = Daemon(os.path.join(binp, "pfsmount"), self.data_dir, os.path.join(self.work, "pfsmount.log"),
                             self.args.pid_file or os.path.join(self.work, "pfsmount.pid"))
        started = time.time()
        self.load_start = os.getloadavg()
        busy0, own0 = cpu_busy_seconds(), own_cpu_seconds()
        self.daemon.start()
        try:
            self.api = pfsapi.Client(os.path.join(self.data_dir, "pfs.sock"))
            pfs_bin = os.path.join(binp, "pfs")
            if self.args.via == "api" or (self.args.via == "auto" and not cli_usable(pfs_bin, self.data_dir)):
                if self.args.via == "auto":
                    self.notes.append("The `pfs` CLI was not usable (not built, or `put file` has no `--raw`): pfs was driven through "
                                      "its API from the harness, so no timing includes a CLI process start.")
                if self.args.via == "api":
                    why = self.args.via_reason or "as asked with --via api"
                    self.notes.append(f"pfs was driven through its API from the harness ({why}): no timing includes a CLI process start.")
                self.pfs = APIDriver(self.api)
            else:
                self.pfs = CLIDriver(pfs_bin, self.data_dir, self.api)
            self.version = self.api.request("GET", "version")
            only = set(self.args.only.split(",")) if self.args.only else {"1", "2", "3", "4"}
            self.has_big = "1" in only
            steps = [("1", self.bench_big), ("2", self.bench_small), ("3", self.bench_dedup), ("4", self.bench_commit)]
            for key, fn in steps:
                if key not in only:
                    continue
                self.wait_quiet(key)
                b0, o0, t0 = cpu_busy_seconds(), own_cpu_seconds() + self.daemon.cpu_seconds(), time.monotonic()
                try:
                    fn()
                except Exception as e:
                    if not isinstance(e, (SanityError, DriverError, pfsapi.APIError, RuntimeError)):
                        traceback.print_exc()
                    log(f"benchmark {key} FAILED: {e}")
                    self.failures.append(f"benchmark {key}: {e}")
                    if key == "1":
                        self.has_big = False
                other = (cpu_busy_seconds() - b0) - (own_cpu_seconds() + self.daemon.cpu_seconds() - o0)
                share = max(0.0, other) / ((time.monotonic() - t0) * (os.cpu_count() or 1))
                self.other_by_step[key] = share
                self.detail(f"- (benchmark {key}: other processes used {share:.0%} of the machine's CPU while it ran)")
        finally:
            self.daemon.stop()
        self.elapsed = time.time() - started
        busy, own = cpu_busy_seconds() - busy0, own_cpu_seconds() - own0
        self.other_cpu = max(0.0, busy - own) / (self.elapsed * (os.cpu_count() or 1))
        return self.report()

    def report(self):
        facts = machine_facts(self.work)
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        rev = self.args.revision or "unknown"
        mode = "quick" if self.args.quick else "full"
        lines = [f"# pfs benchmarks — {mode} run, {now}", "",
                 f"- command: `{self.args.command or 'Benchmarks/run.sh'}` ({self.elapsed / 60:.1f} min)",
                 f"- pfs {self.version.get('version', '?')} (API {self.version.get('api_version', '?')}), git {rev}, release build; driven through the {'`pfs` CLI' if self.pfs.name == 'cli' else 'API'}",
                 f"- machine: {facts['nproc']} CPUs ({facts['cpu']}), {facts['memory']} memory, disk {facts['disk']}, Linux {facts['kernel']}",
                 "- references: coreutils `cp`/`sync`; " + (f"DVC {self.dvc.version} (`dvc add`, a fresh `dvc init --no-scm` repo per run)" if self.dvc else "DVC skipped"),
                 f"- other work on the machine: load average {self.load_start[0]:.2f} at the start; processes outside the benchmark used "
                 f"{self.other_cpu:.0%} of all CPU time during the run"
                 + (" — busy: timings are noisier than on an idle machine" if self.other_cpu > 0.1 or self.load_start[0] > 1 else "")
                 + (f"; the benchmark ran at nice {self.args.priority} (pfs and the references alike)" if self.args.priority else ""),
                 "- ratio: reference time ÷ pfs time (> 1 means pfs is faster); inputs are page-cache warm, dirty pages are flushed before each timed step", ""]
        lines += ["| benchmark | pfs | reference | ratio | target | met? |", "|---|---|---|---|---|---|"]
        for r in self.rows:
            met = {True: "yes", False: "**NO**", None: "—"}[r["met"]]
            note = f" <br><sub>{r['note']}</sub>" if r["note"] else ""
            lines.append(f"| {r['what']}{note} | {r['pfs']} | {r['ref']} | {r['ratio']} | {r['target']} | {met} |")
        if self.failures:
            lines += ["", "## FAILED", ""] + [f"- {f}" for f in self.failures]
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        lines += ["", "## Details", ""] + self.details
        text = "\n".join(lines) + "\n"
        os.makedirs(os.path.dirname(self.args.out), exist_ok=True)
        with open(self.args.out, "w") as f:
            f.write(text)
        with open(os.path.splitext(self.args.out)[0] + ".json", "w") as f:
            json.dump(dict(date=now, mode=mode, machine=facts, rows=self.rows, failures=self.failures, raw=self.raw),
                      f, indent=1, default=str)
        print(text)
        log(f"results written to {self.args.out}")
        if self.failures:
            return 1
        if self.args.check_targets and any(r["met"] is False for r in self.rows):
            return 3
        return 0


def cpu_busy_seconds():
    """CPU seconds all processes have used (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    """CPU seconds of this process and its waited-for children (the daemon, the CLI, cp, dvc)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def fmt_list(xs):
    return ", ".join(f"{x:.2f}" for x in xs)


def iso_seconds(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="directory with the release pfsmount and pfs")
    ap.add_argument("--work", help="scratch directory (default: a new one under $TMPDIR, removed afterwards)")
    ap.add_argument("--out", required=True, help="markdown report to write (a .json twin is written beside it)")
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run in well under 2 minutes")
    ap.add_argument("--dvc", help="the dvc executable, or 'none'")
    ap.add_argument("--dvc-reason", help="why DVC is missing (shown in the report)")
    ap.add_argument("--via", choices=["auto", "cli", "api"], default="auto", help="drive pfs through the CLI or the API")
    ap.add_argument("--via-reason", help="why the API is used (for the report)")
    ap.add_argument("--only", help="comma-separated benchmark numbers, e.g. 1,3")
    ap.add_argument("--pid-file", help="where to write the daemon's pid (run.sh kills it on exit)")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="S",
                    help="before each benchmark, wait up to S seconds for other processes to leave the CPUs")
    ap.add_argument("--revision", help="the git revision the binaries were built from (for the report)")
    ap.add_argument("--priority", type=int, default=0, help="the nice value the harness runs at (for the report)")
    ap.add_argument("--profile", action="store_true", help="perf-record the daemon during the main steps (needs perf)")
    ap.add_argument("--check-targets", action="store_true", help="exit 3 when a target is missed")
    ap.add_argument("--command", help="the command line to show in the report")
    args = ap.parse_args()
    own = args.work is None
    if own:
        args.work = tempfile.mkdtemp(prefix="pfs-bench-")
    try:
        sys.exit(Bench(args).run())
    except KeyboardInterrupt:
        log("interrupted; the daemon was stopped and nothing was reported")
        sys.exit(130)
    finally:
        if own:
            shutil.rmtree(args.work, ignore_errors=True)


if __name__ == "__main__":
    # SIGTERM/SIGHUP unwind like Ctrl-C, so the finally blocks stop the daemon and remove the scratch space.
    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)
    main()

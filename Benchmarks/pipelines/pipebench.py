#!/usr/bin/env python3
"""Pipeline benchmarks: a private pfsmount (release build) runs a trivial pipeline over N one-file datums, and each
figure is measured against its reference in the same run. See Benchmarks/pipelines/README.md.

  1. N one-file datums through `cp /pfs/in/* /pfs/out/` (job time: input commit finished -> job finished) vs a
     shell loop running the same command in the same bubblewrap sandbox: the exact bwrap command line the runner
     used (read from a datum's log), with the datum's view replaced by a native directory holding its one file.
  2. One file changed in the N-file input: plan, skip N-1 unchanged datums (also: one file added -> N skipped),
     run the changed one, write the output commit (input commit finished -> job finished).
  3. Latency from a commit finishing to its first datum's command starting (daemon timestamps: the input commit's
     `finished`, the datum's `started`), on a one-file pipeline and in benchmark 2's jobs.
  4. The same one-changed-file update under `dvc repro` of an equivalent stage (deps in/, outs out/, the same cp),
     vs pfs end to end (`pfs put file` + `pfs wait commit`).
"""
import argparse
import datetime
import json
import os
import resource
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import ctypes

DEVNULL = subprocess.DEVNULL


def log(msg):
    print(f"[pipebench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def iso(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def cpu_busy_seconds():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def pdeathsig():
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass


class Load:
    """CPU used by other processes while a benchmark ran (machine busy time minus ours and the daemon's)."""

    def __init__(self, daemon):
        self.daemon = daemon

    def __enter__(self):
        self.t0, self.busy0, self.own0, self.d0 = time.time(), cpu_busy_seconds(), own_cpu_seconds(), self.daemon.cpu_seconds()
        self.load0 = os.getloadavg()[0]
        return self

    def __exit__(self, *exc):
        wall = time.time() - self.t0
        busy = cpu_busy_seconds() - self.busy0
        own = own_cpu_seconds() - self.own0 + self.daemon.cpu_seconds() - self.d0
        ncpu = os.cpu_count() or 1
        self.others = max(0.0, busy - own) / max(wall, 1e-9) / ncpu
        self.load1 = os.getloadavg()[0]
        return False

    def text(self):
        return f"other processes used {self.others * 100:.0f}% of the {os.cpu_count()} CPUs; load {self.load0:.1f} -> {self.load1:.1f}"


class Daemon:
    def __init__(self, exe, data, log_path, pid_file, extra=()):
        self.exe, self.data, self.log_path, self.pid_file = exe, data, log_path, pid_file
        self.extra = list(extra)
        self.p = None

    def start(self):
        os.makedirs(self.data, exist_ok=True)
        logf = open(self.log_path, "ab")
        self.p = subprocess.Popen([self.exe, "--no-mount", "--data-dir", self.data, "--announce", *self.extra],
                                  stdout=subprocess.PIPE, stderr=logf, preexec_fn=pdeathsig)
        logf.close()
        with open(self.pid_file, "w") as f:
            f.write(str(self.p.pid))
        deadline, line = time.time() + 120, b""
        while time.time() < deadline:
            r, _, _ = select.select([self.p.stdout], [], [], 0.5)
            if r:
                line = self.p.stdout.readline()
                if line.strip() == b"ready" or not line:
                    break
            if self.p.poll() is not None:
                break
        if line.strip() != b"ready":
            self.stop()
            raise RuntimeError("pfsmount did not become ready; see " + self.log_path)
        threading.Thread(target=lambda: [None for _ in self.p.stdout], daemon=True).start()
        log(f"pfsmount ready (pid {self.p.pid}), data {self.data}")

    def cpu_seconds(self):
        try:
            with open(f"/proc/{self.p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError):
            return 0.0

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


class Bench:
    def __init__(self, a):
        self.a = a
        self.work = a.work
        self.env = dict(os.environ, PFS_DATA_DIR=os.path.join(a.work, "data"))
        self.pfs_bin = os.path.join(a.bin, "pfs")
        self.daemon = Daemon(os.path.join(a.bin, "pfsmount"), self.env["PFS_DATA_DIR"],
                             os.path.join(a.work, "daemon.log"), a.pid_file)
        self.rows, self.details, self.raw = [], [], {}
        self.n = a.datums

    # -- helpers ------------------------------------------------------------------------------------------------
    def pfs(self, *args, stdin=None, raw=False):
        argv = [self.pfs_bin, *args] + (["--raw"] if raw else [])
        r = subprocess.run(argv, env=self.env, input=stdin, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"pfs {' '.join(args)} failed ({r.returncode}): {r.stderr.decode(errors='replace')}")
        return json.loads(r.stdout) if raw else r.stdout.decode()

    def commit(self, repo, ref="master"):
        return self.pfs("inspect", "commit", f"{repo}@{ref}", raw=True)

    def job(self, pipeline, cid):
        return self.pfs("inspect", "job", f"{pipeline}@{cid}", raw=True)

    def datums(self, pipeline, cid):
        return self.pfs("list", "datum", f"{pipeline}@{cid}", raw=True)

    def wait(self, target):
        self.pfs("wait", "commit", target, "--timeout", "3600")

    def create_pipeline(self, name, repo, cmd):
        spec = {"pipeline": {"name": name}, "transform": {"cmd": ["sh", "-c", cmd]},
                "input": {"pfs": {"repo": repo, "glob": "/*"}}}
        path = os.path.join(self.work, f"{name}.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        self.pfs("create", "pipeline", "-f", path)

    def job_figures(self, pipeline, cid, repo):
        """Daemon timestamps of one job: seconds from its input commit finishing."""
        c = self.commit(repo, cid)
        j = self.job(pipeline, cid)
        t0 = iso(c["finished"])
        ds = self.datums(pipeline, cid)
        starts = [iso(d["started"]) for d in ds if d.get("started")]
        return {"job_seconds": iso(j["finished"]) - t0, "job_start_delay": iso(j["started"]) - t0,
                "plan_seconds": j.get("plan_seconds", 0), "first_datum": (min(starts) - t0) if starts else None,
                "processed": j.get("processed"), "skipped": j.get("skipped"), "failed": j.get("failed"),
                "total": j.get("datums_total"), "state": j.get("state")}

    def check_job(self, fig, processed, skipped, what):
        if fig["state"] != "success" or fig["processed"] != processed or fig["skipped"] != skipped or fig["failed"]:
            raise RuntimeError(f"{what}: expected {processed} processed and {skipped} skipped, got {fig}")

    def row(self, name, pfs, ref, ratio, target, met, load):
        self.rows.append({"name": name, "pfs": pfs, "ref": ref, "ratio": ratio, "target": target, "met": met, "load": load})

    # -- benchmarks ---------------------------------------------------------------------------------------------
    def setup_input(self):
        src = os.path.join(self.work, "src")
        os.makedirs(src)
        for i in range(self.n):
            with open(os.path.join(src, f"f{i:05d}"), "w") as f:
                f.write(f"datum {i}\n")
        self.pfs("create", "repo", "in")
        self.pfs("put", "file", "in@master:/", "-r", "-f", src + "/.")
        self.src = src

    def bench_many(self):
        n = self.n
        with Load(self.daemon) as load:
            self.create_pipeline("copy", "in", "cp /pfs/in/* /pfs/out/")
            cid = self.commit("in")["id"]
            self.wait(f"in@{cid}")
        fig = self.job_figures("copy", cid, "in")
        self.check_job(fig, n, 0, "the first job")
        outs = self.pfs("glob", "file", "copy@master:/*", raw=True)
        if len(outs) != n:
            raise RuntimeError(f"copy@master has {len(outs)} files, expected {n}")
        if self.pfs("get", "file", "copy@master:/f00007") != "datum 7\n":
            raise RuntimeError("copy@master:/f00007 does not hold its input's content")
        self.cid0 = cid
        if not self.with_loop:
            self.details.append(f"benchmark 1 (its pfs side only, --only without 1): pfs job {fig}")
            return
        # The reference: the runner's own bwrap command line, from a datum's log.
        logdir = os.path.join(self.env["PFS_DATA_DIR"], "logs", "copy", cid)
        line = None
        for name in sorted(os.listdir(logdir)):
            if name == "job.log":
                continue
            with open(os.path.join(logdir, name)) as f:
                for l in f:
                    if l.startswith("[pfs] sandbox: "):
                        line = l[len("[pfs] sandbox: "):].strip()
                        break
            if line:
                break
        if not line:
            raise RuntimeError(f"no '[pfs] sandbox:' line in the datum logs under {logdir}")
        argv = shlex.split(line)
        self.raw["bwrap_example"] = argv
        ref = os.path.join(self.work, "ref")
        for i in range(n):
            d = os.path.join(ref, "in", str(i))
            os.makedirs(d)
            shutil.copyfile(os.path.join(self.src, f"f{i:05d}"), os.path.join(d, f"f{i:05d}"))
        # Substitute the per-datum paths (view, out, scratch) with the loop's own.
        parts = []
        k = 0
        while k < len(argv):
            x = argv[k]
            if x in ("--ro-bind", "--bind") and k + 2 < len(argv) and argv[k + 2] in ("/pfs/in", "/pfs/out", "/tmp"):
                src = {"/pfs/in": '"$R/in/$i"', "/pfs/out": '"$R/out/$i"', "/tmp": '"$R/tmp/$i"'}[argv[k + 2]]
                parts += [x, src, argv[k + 2]]
                k += 3
                continue
            parts.append(shlex.quote(x))
            k += 1
        script = os.path.join(self.work, "loop.sh")
        with open(script, "w") as f:
            f.write("#!/bin/bash\nset -e\nR=%s\nfor i in $(seq 0 %d); do\n  mkdir -p \"$R/out/$i\" \"$R/tmp/$i\"\n  %s </dev/null\ndone\n"
                    % (shlex.quote(ref), n - 1, " ".join(parts)))
        subprocess.run(["sync"])
        with Load(self.daemon) as rload:
            t0 = time.perf_counter()
            subprocess.run(["bash", script], check=True)
            loop = time.perf_counter() - t0
        with open(os.path.join(ref, "out", "7", "f00007")) as f:
            if f.read() != "datum 7\n":
                raise RuntimeError("the shell loop did not copy its file")
        ratio = fig["job_seconds"] / loop
        self.raw["many"] = {"pfs": fig, "loop_seconds": loop}
        self.row(f"1. {n:,} one-file datums, `cp /pfs/in/* /pfs/out/`: job time ÷ shell loop of the same bwrap",
                 f"{fig['job_seconds']:.2f} s", f"{loop:.2f} s", f"{ratio:.2f}×", "≤ 1.5×", ratio <= 1.5,
                 f"pfs: {load.text()}; loop: {rload.text()}")
        self.details.append(f"benchmark 1: pfs job {fig}; loop {loop:.3f} s; per datum pfs "
                            f"{fig['job_seconds'] / n * 1000:.2f} ms, loop {loop / n * 1000:.2f} ms")

    def bench_skip(self):
        n = self.n
        figs = []
        with Load(self.daemon) as load:
            # One file added: n skipped, 1 new.
            self.pfs("put", "file", f"in@master:/f{n:05d}", stdin=b"added\n")
            cid = self.commit("in")["id"]
            self.wait(f"in@{cid}")
            add = self.job_figures("copy", cid, "in")
            self.check_job(add, 1, n, "adding one file")
            for r in range(self.a.runs):
                self.pfs("put", "file", f"in@master:/f{n:05d}", stdin=f"changed {r}\n".encode())
                cid = self.commit("in")["id"]
                self.wait(f"in@{cid}")
                fig = self.job_figures("copy", cid, "in")
                self.check_job(fig, 1, n, "changing one file")
                figs.append(fig)
        if self.pfs("get", "file", f"copy@master:/f{n:05d}") != f"changed {self.a.runs - 1}\n":
            raise RuntimeError("the changed datum's output is not the new one")
        med = statistics.median(f["job_seconds"] for f in figs)
        self.raw["skip"] = {"add": add, "change": figs}
        self.row(f"2. plan + skip {n:,} unchanged datums + 1 changed: input commit finished → job finished (median of {len(figs)})",
                 f"{med * 1000:.0f} ms", "—", "—", "≤ 1 s", med <= 1.0, load.text())
        self.details.append("benchmark 2: one added: job %.0f ms (plan %.0f ms); one changed: %s ms (plan %s ms)" % (
            add["job_seconds"] * 1000, add["plan_seconds"] * 1000,
            ", ".join(f"{f['job_seconds'] * 1000:.0f}" for f in figs), ", ".join(f"{f['plan_seconds'] * 1000:.0f}" for f in figs)))
        self.skip_figs = figs

    def bench_latency(self):
        self.pfs("create", "repo", "tiny")
        self.pfs("put", "file", "tiny@master:/x", stdin=b"0\n")
        self.create_pipeline("tinycopy", "tiny", "cp /pfs/tiny/* /pfs/out/")
        self.wait("tiny@master")
        lat = []
        with Load(self.daemon) as load:
            for r in range(self.a.latency_runs):
                self.pfs("put", "file", "tiny@master:/x", stdin=f"{r + 1}\n".encode())
                cid = self.commit("tiny")["id"]
                self.wait(f"tiny@{cid}")
                fig = self.job_figures("tinycopy", cid, "tiny")
                self.check_job(fig, 1, 0, "the one-file pipeline")
                lat.append(fig)
        med = statistics.median(f["first_datum"] for f in lat)
        big = statistics.median(f["first_datum"] for f in self.skip_figs)
        self.raw["latency"] = lat
        self.row(f"3. commit finished → first datum's command started (one-file pipeline, median of {len(lat)})",
                 f"{med * 1000:.1f} ms", "—", "—", "≤ 50 ms", med <= 0.050, load.text())
        self.details.append("benchmark 3: one-file pipeline, commit finished → job started %s ms, → first datum %s ms; "
                            "in benchmark 2 (plan of %d datums first): → first datum median %.0f ms" % (
                                ", ".join(f"{f['job_start_delay'] * 1000:.1f}" for f in lat),
                                ", ".join(f"{f['first_datum'] * 1000:.1f}" for f in lat), self.n + 1, big * 1000))

    def bench_dvc(self):
        if self.a.dvc == "none":
            self.row("4. one changed file: `dvc repro` ÷ pfs", "—", "skipped", "—", "a ratio", None, self.a.dvc_reason)
            return
        n = self.n
        env = dict(os.environ, DVC_NO_ANALYTICS="1", DVC_NO_UPDATER="1", GIT_TERMINAL_PROMPT="0")
        repo = os.path.join(self.work, "dvc")
        os.makedirs(repo)
        dvc = lambda *a: subprocess.run([self.a.dvc, *a], cwd=repo, env=env, check=True, stdout=DEVNULL)
        version = subprocess.run([self.a.dvc, "--version"], env=env, capture_output=True, text=True).stdout.strip()
        dvc("init", "--no-scm", "-q")
        dvc("config", "core.analytics", "false")
        shutil.copytree(self.src, os.path.join(repo, "in"))
        with open(os.path.join(repo, "in", f"f{n:05d}"), "w") as f:
            f.write("added\n")
        dvc("stage", "add", "-q", "-n", "copy", "-d", "in", "-o", "out", "mkdir -p out && cp in/* out/")
        t0 = time.perf_counter()
        dvc("repro", "-q")
        first = time.perf_counter() - t0
        d_times, p_times, p_daemon = [], [], []
        with Load(self.daemon) as load:
            for r in range(self.a.runs):
                with open(os.path.join(repo, "in", f"f{n:05d}"), "w") as f:
                    f.write(f"dvc {r}\n")
                subprocess.run(["sync"])
                t0 = time.perf_counter()
                dvc("repro", "-q")
                d_times.append(time.perf_counter() - t0)
                subprocess.run(["sync"])
                t0 = time.perf_counter()
                self.pfs("put", "file", f"in@master:/f{n:05d}", stdin=f"dvc {r}\n".encode())
                cid = self.commit("in")["id"]
                self.wait(f"in@{cid}")
                p_times.append(time.perf_counter() - t0)
                fig = self.job_figures("copy", cid, "in")
                self.check_job(fig, 1, n, "the dvc comparison's pfs update")
                p_daemon.append(fig["job_seconds"])
        with open(os.path.join(repo, "out", f"f{n:05d}")) as f:
            if f.read() != f"dvc {self.a.runs - 1}\n":
                raise RuntimeError("dvc repro did not update out/")
        dm, pm = statistics.median(d_times), statistics.median(p_times)
        self.raw["dvc"] = {"version": version, "first_repro": first, "dvc": d_times, "pfs_end_to_end": p_times, "pfs_job": p_daemon}
        self.row(f"4. one changed file of {n + 1:,}: `dvc repro` ÷ pfs (`put file` + `wait commit`, median of {len(d_times)})",
                 f"{pm * 1000:.0f} ms", f"{dm * 1000:.0f} ms", f"{dm / pm:.1f}× faster", "a ratio", None, load.text())
        self.details.append(f"benchmark 4: {version}; first `dvc repro` of {n + 1} files {first:.2f} s; dvc repro "
                            f"{', '.join(f'{x:.2f}' for x in d_times)} s; pfs end to end {', '.join(f'{x:.3f}' for x in p_times)} s, "
                            f"job {', '.join(f'{x:.3f}' for x in p_daemon)} s")

    # -- report -------------------------------------------------------------------------------------------------
    def report(self):
        lines = [f"# pfs pipeline benchmarks — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
                 f"Command: `{self.a.command}`; revision {self.a.revision}; {os.cpu_count()} CPUs; nice {self.a.priority}; "
                 f"{self.n:,} datums", "",
                 "| benchmark | pfs | reference | ratio | target | met | load during the run |", "|---|---|---|---|---|---|---|"]
        for r in self.rows:
            met = "—" if r["met"] is None else ("yes" if r["met"] else "**no**")
            lines.append(f"| {r['name']} | {r['pfs']} | {r['ref']} | {r['ratio']} | {r['target']} | {met} | {r['load']} |")
        lines += ["", "## Details", ""] + [f"- {d}" for d in self.details]
        if "bwrap_example" in self.raw:
            lines += ["", "The runner's bwrap command line (one datum), which the shell loop repeats:", "", "```",
                      shlex.join(self.raw["bwrap_example"]), "```"]
        text = "\n".join(lines) + "\n"
        with open(self.a.out, "w") as f:
            f.write(text)
        with open(os.path.splitext(self.a.out)[0] + ".json", "w") as f:
            json.dump({"rows": self.rows, "raw": self.raw}, f, indent=1, default=str)
        print(text)

    def run(self):
        self.daemon.start()
        try:
            self.setup_input()
            only = set(self.a.only.split(",")) if self.a.only else {"1", "2", "3", "4"}
            self.with_loop = "1" in only
            self.bench_many()
            if "2" in only or "3" in only:
                self.bench_skip()
            if "3" in only:
                self.bench_latency()
            if "4" in only:
                self.bench_dvc()
        finally:
            self.daemon.stop()
        self.report()
        if self.a.check_targets and any(r["met"] is False for r in self.rows):
            return 3
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pid-file", required=True)
    ap.add_argument("--datums", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency-runs", type=int, default=10)
    ap.add_argument("--only", default="")
    ap.add_argument("--dvc", default="none")
    ap.add_argument("--dvc-reason", default="")
    ap.add_argument("--command", default="")
    ap.add_argument("--revision", default="")
    ap.add_argument("--priority", default="0")
    ap.add_argument("--check-targets", action="store_true")
    return Bench(ap.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())

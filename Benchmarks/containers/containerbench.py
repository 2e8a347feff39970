#!/usr/bin/env python3
"""Container runner benchmarks: per-datum overhead of pfs's crun runner (`pfsmount --runner oci`) and podman runner
(`--runner podman`, warm containers) for N trivial datums, each against a bare loop of the same command in the same
image measured in the same run. See Benchmarks/containers/README.md.

  1. crun: a pipeline `cp /pfs/in/* /pfs/out/` in a busybox image over N one-file datums (parallelism 1; job time
     from the input commit finishing to the job finishing, divided by N) vs a bash loop of bare `crun run` of the
     same command in the same root filesystem, one container per file (a config per file written before the clock
     starts; on a hybrid-cgroup host the loop runs in one private mount namespace without the cgroup2 mount, which
     crun needs there). Target: <= 1.2x the loop's time per run.
  2. podman: the same pipeline under `--runner podman` (images from podman's store) vs a bash loop of
     `podman run --rm` of the same command with the options podman needs on this host. Target: <= 0.2x.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pipelines"))
from pipebench import Daemon, Load, iso, log  # noqa: E402

CMD = "cp /pfs/in/* /pfs/out/"
PODMAN_IMAGE = "localhost/pfsbench-bb:latest"


def hybrid():
    """Whether the host mounts cgroup v1 controllers beside an (empty) cgroup2 at /sys/fs/cgroup/unified."""
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == "/sys/fs/cgroup/unified" for line in f)


class Bench:
    def __init__(self, a):
        self.a, self.work, self.n = a, a.work, a.datums
        self.pfs_bin = os.path.join(a.bin, "pfs")
        self.rows, self.details, self.raw = [], [], {}
        self.hybrid = hybrid()

    # -- helpers ------------------------------------------------------------------------------------------------
    def pfs(self, *args, raw=False):
        r = subprocess.run([self.pfs_bin, *args] + (["--raw"] if raw else []), env=self.env, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"pfs {' '.join(args)} failed ({r.returncode}): {r.stderr.decode(errors='replace')}")
        return json.loads(r.stdout) if raw else r.stdout.decode()

    def in_namespace(self, script):
        """bash running `script`, in a private mount namespace without the cgroup2 mount on a hybrid host."""
        if self.hybrid:
            return ["unshare", "-m", "--propagation", "private", "bash", "-c",
                    "umount /sys/fs/cgroup/unified 2>/dev/null; " + script]
        return ["bash", "-c", script]

    def build_image(self):
        busybox = next((p for p in ("/bin/busybox", "/usr/bin/busybox") if os.access(p, os.X_OK)), None)
        if not busybox:
            raise RuntimeError("no busybox: apt-get install busybox-static (scripts/install-deps.sh --test)")
        root = os.path.join(self.work, "rootfs")
        for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "pfs/in", "pfs/out"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        shutil.copy2(busybox, os.path.join(root, "bin", "busybox"))
        for tool in ("sh", "cp", "cat", "ls", "true"):
            os.symlink("busybox", os.path.join(root, "bin", tool))
        with open(os.path.join(root, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/:/bin/sh\n")
        self.rootfs, self.tar = root, os.path.join(self.work, "bb.tar")
        with tarfile.open(self.tar, "w") as t:
            for name in sorted(os.listdir(root)):
                t.add(os.path.join(root, name), arcname=name)

    def make_input(self):
        self.src = os.path.join(self.work, "src")
        os.makedirs(self.src)
        for i in range(self.n):
            with open(os.path.join(self.src, f"f{i:05d}"), "w") as f:
                f.write(f"datum {i}\n")

    def ref_dirs(self, name, runs):
        """Per-run input (holding its one file), output and scratch directories for a reference loop."""
        base = os.path.join(self.work, name)
        for i in range(runs):
            for d in ("in", "out", "tmp"):
                os.makedirs(os.path.join(base, d, str(i)))
            shutil.copyfile(os.path.join(self.src, f"f{i:05d}"), os.path.join(base, "in", str(i), f"f{i:05d}"))
        return base

    def check_ref(self, base, runs):
        for i in (0, runs - 1):
            with open(os.path.join(base, "out", str(i), f"f{i:05d}")) as f:
                if f.read() != f"datum {i}\n":
                    raise RuntimeError(f"the reference loop's output {i} does not hold its input")

    def time_loop(self, loop, base, runs):
        """Seconds a reference loop takes (see in_namespace) and the load meanwhile; its outputs checked."""
        subprocess.run(["sync"])
        with Load(_NoDaemon()) as load:
            t0 = time.perf_counter()
            subprocess.run(self.in_namespace(loop), check=True)
            seconds = time.perf_counter() - t0
        self.check_ref(base, runs)
        return seconds, load

    # -- pfs side -----------------------------------------------------------------------------------------------
    def pfs_job(self, runner, image, setup):
        data = os.path.join(self.work, f"data-{runner}")
        self.env = dict(os.environ, PFS_DATA_DIR=data)
        daemon = Daemon(os.path.join(self.a.bin, "pfsmount"), data, os.path.join(self.work, f"daemon-{runner}.log"),
                        self.a.pid_file, extra=["--runner", runner])
        daemon.start()
        try:
            setup()
            self.pfs("create", "repo", "in")
            self.pfs("put", "file", "in@master:/", "-r", "-f", self.src + "/.")
            spec = {"pipeline": {"name": "copy"}, "parallelism_spec": {"constant": 1},
                    "transform": {"image": image, "cmd": ["sh", "-c", CMD]},
                    "input": {"pfs": {"repo": "in", "glob": "/*"}}}
            path = os.path.join(self.work, f"copy-{runner}.json")
            with open(path, "w") as f:
                json.dump(spec, f)
            with Load(daemon) as load:
                self.pfs("create", "pipeline", "-f", path)
                cid = self.pfs("inspect", "commit", "in@master", raw=True)["id"]
                self.pfs("wait", "commit", f"in@{cid}", "--timeout", "7200")
            c = self.pfs("inspect", "commit", f"in@{cid}", raw=True)
            j = self.pfs("inspect", "job", f"copy@{cid}", raw=True)
            if j.get("state") != "success" or j.get("processed") != self.n:
                raise RuntimeError(f"the {runner} job did not process its {self.n} datums: {j}")
            if self.pfs("get", "file", "copy@master:/f00007") != "datum 7\n":
                raise RuntimeError(f"copy@master:/f00007 ({runner}) does not hold its input's content")
            seconds = iso(j["finished"]) - iso(c["finished"])
            self.raw[f"{runner}_job"] = j
            return seconds, load
        finally:
            daemon.stop()

    # -- benchmark 1: crun --------------------------------------------------------------------------------------
    def bench_crun(self):
        crun = shutil.which("crun")
        if not crun:
            self.details.append("crun: not installed (apt-get install crun); skipped")
            return
        pfs_s, pload = self.pfs_job("oci", "bb", lambda: self.pfs("image", "import", "bb", self.tar))
        runs = self.n
        base = self.ref_dirs("ref-crun", runs)
        spec_dir = os.path.join(self.work, "crun-spec")
        os.makedirs(spec_dir)
        subprocess.run([crun, "spec"], cwd=spec_dir, check=True)
        with open(os.path.join(spec_dir, "config.json")) as f:
            template = json.load(f)
        template["process"]["terminal"] = False
        template["process"]["args"] = ["sh", "-c", CMD]
        template["root"] = {"path": self.rootfs, "readonly": True}
        template["hostname"] = "pfs-bench"
        bundle = os.path.join(self.work, "crun-bundle")
        os.makedirs(bundle)
        for i in range(runs):
            c = json.loads(json.dumps(template))
            c["mounts"] += [
                {"destination": "/pfs/in", "type": "bind", "source": f"{base}/in/{i}", "options": ["rbind", "ro"]},
                {"destination": "/pfs/out", "type": "bind", "source": f"{base}/out/{i}", "options": ["rbind", "rw"]},
                {"destination": "/tmp", "type": "bind", "source": f"{base}/tmp/{i}", "options": ["rbind", "rw"]}]
            with open(os.path.join(bundle, f"c{i}.json"), "w") as f:
                json.dump(c, f)
        # Bare `crun run` with its defaults; if this host's crun cannot manage cgroups, as pfs runs it.
        manager = []
        probe = subprocess.run(self.in_namespace(f"{crun} run --bundle {bundle} --config {bundle}/c0.json pfsbench-probe </dev/null"),
                               capture_output=True)
        if probe.returncode != 0:
            manager = ["--cgroup-manager=disabled"]
            self.details.append(f"crun: `crun run` with its default cgroup manager failed here "
                                f"({probe.stderr.decode(errors='replace').strip()[:200]}); the loop uses --cgroup-manager=disabled, as pfs does")
        shutil.rmtree(f"{base}/out/0")
        os.makedirs(f"{base}/out/0")
        loop = (f"for i in $(seq 0 {runs - 1}); do {crun} {' '.join(manager)} run --bundle {bundle} --config {bundle}/c$i.json "
                f"pfsbench-$i </dev/null || exit 1; done")
        ref_s, rload = self.time_loop(loop, base, runs)
        per_pfs, per_ref = pfs_s / self.n, ref_s / runs
        ratio = per_pfs / per_ref
        self.rows.append({"name": f"{self.n:,} trivial datums, crun runner (`--runner oci`), vs a loop of bare `crun run`",
                          "pfs": f"{pfs_s:.1f} s ({per_pfs * 1000:.1f} ms/datum)",
                          "ref": f"{ref_s:.1f} s for {runs:,} runs ({per_ref * 1000:.1f} ms/run)",
                          "ratio": f"{ratio:.2f}×", "target": "≤ 1.2×", "met": ratio <= 1.2,
                          "load": f"{pload.others * 100:.0f}% / {rload.others * 100:.0f}%"})

    # -- benchmark 2: podman ------------------------------------------------------------------------------------
    def bench_podman(self):
        podman = shutil.which("podman")
        if not podman:
            self.details.append("podman: not installed (apt-get install podman); skipped")
            return
        subprocess.run([podman, "rmi", "-f", PODMAN_IMAGE], capture_output=True)
        subprocess.run([podman, "import", "-q", self.tar, PODMAN_IMAGE], check=True, capture_output=True)
        try:
            pfs_s, pload = self.pfs_job("podman", "pfsbench-bb", lambda: None)
            runs = min(self.a.podman_runs, self.n)
            base = self.ref_dirs("ref-podman", runs)
            opts = "--cgroups=disabled --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
            loop = (f"for i in $(seq 0 {runs - 1}); do {podman} run --rm {opts} -v {base}/in/$i:/pfs/in:ro -v {base}/out/$i:/pfs/out:rw "
                    f"-v {base}/tmp/$i:/tmp:rw {PODMAN_IMAGE} sh -c '{CMD}' </dev/null || exit 1; done")
            ref_s, rload = self.time_loop(loop, base, runs)
        finally:
            subprocess.run([podman, "rmi", "-f", PODMAN_IMAGE], capture_output=True)
        per_pfs, per_ref = pfs_s / self.n, ref_s / runs
        ratio = per_pfs / per_ref
        self.rows.append({"name": f"{self.n:,} trivial datums, podman runner (`--runner podman`, warm containers), vs a loop of `podman run --rm`",
                          "pfs": f"{pfs_s:.1f} s ({per_pfs * 1000:.1f} ms/datum)",
                          "ref": f"{ref_s:.1f} s for {runs:,} runs ({per_ref * 1000:.0f} ms/run)",
                          "ratio": f"{ratio:.3f}×", "target": "≤ 0.2×", "met": ratio <= 0.2,
                          "load": f"{pload.others * 100:.0f}% / {rload.others * 100:.0f}%"})
        if runs < self.n:
            self.details.append(f"podman: the reference loop ran {runs:,} of the {self.n:,} files (--podman-runs); "
                                "its time per run is compared")

    # -- report -------------------------------------------------------------------------------------------------
    def report(self):
        lines = [f"# pfs container runner benchmarks — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
                 f"Command: `{self.a.command}`; revision {self.a.revision}; {os.cpu_count()} CPUs; nice {self.a.priority}; "
                 f"{self.n:,} datums; cgroups {'hybrid' if self.hybrid else 'unified or v1'}", "",
                 "| benchmark | pfs | reference | ratio per datum | target | met | other processes' CPU share (pfs / loop) |",
                 "|---|---|---|---|---|---|---|"]
        for r in self.rows:
            lines.append(f"| {r['name']} | {r['pfs']} | {r['ref']} | {r['ratio']} | {r['target']} | "
                         f"{'yes' if r['met'] else '**no**'} | {r['load']} |")
        if self.details:
            lines += ["", "## Details", ""] + [f"- {d}" for d in self.details]
        text = "\n".join(lines) + "\n"
        with open(self.a.out, "w") as f:
            f.write(text)
        with open(os.path.splitext(self.a.out)[0] + ".json", "w") as f:
            json.dump({"rows": self.rows, "details": self.details, "raw": self.raw}, f, indent=1, default=str)
        print(text)

    def run(self):
        self.build_image()
        self.make_input()
        only = set(self.a.only.split(",")) if self.a.only else {"1", "2"}
        if "1" in only:
            self.bench_crun()
        if "2" in only:
            self.bench_podman()
        self.report()
        if self.a.check_targets and any(not r["met"] for r in self.rows):
            return 3
        return 0


class _NoDaemon:
    """Load's daemon for a reference loop: none."""

    def cpu_seconds(self):
        return 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pid-file", required=True)
    ap.add_argument("--datums", type=int, default=1000)
    ap.add_argument("--podman-runs", type=int, default=200)
    ap.add_argument("--only", default="")
    ap.add_argument("--command", default="")
    ap.add_argument("--revision", default="")
    ap.add_argument("--priority", default="0")
    ap.add_argument("--check-targets", action="store_true")
    return Bench(ap.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())

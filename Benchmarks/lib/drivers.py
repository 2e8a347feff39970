"""How the harness talks to pfs: through the `pfs` CLI (what users run) or, when the CLI is not
available, through the daemon's API directly (pfsapi.Client). Both expose the same methods; every
write returns the daemon's PutResult `{commit, finished, files, bytes, new_bytes}`.
"""

import hashlib
import json
import os
import resource
import subprocess
import time

import pfsapi


class DriverError(Exception):
    pass


class CLIDriver:
    name = "cli"

    def __init__(self, pfs_bin, data_dir, api):
        self.pfs = pfs_bin
        self.env = dict(os.environ, PFS_DATA_DIR=data_dir)
        self.env.pop("PFS_SOCKET", None)
        self.api = api  # for reads that must not depend on the CLI's output format
        self.last_cpu = 0.0  # user + system CPU seconds of the last `pfs` process

    def run(self, *args, check=True):
        """Runs `pfs ARGS`; returns (seconds, stdout). The time is the wall time of the whole process."""
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run([self.pfs, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.last_cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        if check and p.returncode != 0:
            raise DriverError(f"`pfs {' '.join(args)}` exited {p.returncode}: {p.stderr.decode(errors='replace').strip()}")
        return dt, p.stdout

    def _put_result(self, out, repo, branch):
        try:
            r = json.loads(out)
            if isinstance(r, dict) and "new_bytes" in r:
                return r
        except ValueError:
            pass
        raise DriverError(f"`pfs put file --raw` did not print a PutResult JSON object; it printed: {out[:300]!r}")

    def create_repo(self, repo):
        self.run("create", "repo", repo)

    def put(self, repo, branch, path, local, recursive=False, append=False):
        """Returns (seconds, PutResult)."""
        args = ["put", "file", f"{repo}@{branch}:{path}", "-f", local, "--raw"]
        if recursive:
            args.append("-r")
        if append:
            args.append("-a")
        dt, out = self.run(*args)
        return dt, self._put_result(out, repo, branch)

    def start_commit(self, repo, branch):
        dt, out = self.run("start", "commit", f"{repo}@{branch}", "--raw")
        return dt, out

    def finish_commit(self, repo, ref):
        dt, _ = self.run("finish", "commit", f"{repo}@{ref}")
        return dt

    def inspect_commit(self, repo, ref):
        _, out = self.run("inspect", "commit", f"{repo}@{ref}", "--raw")
        return json.loads(out)

    def trivial(self, repo):
        """One cheap request through the CLI: its wall time is the CLI's fixed cost (process start, connect)."""
        dt, _ = self.run("inspect", "repo", repo, "--raw")
        return dt

    def file_sha256(self, repo, ref, path):
        """sha256 and size of `pfs get file` output, streamed."""
        p = subprocess.Popen([self.pfs, "get", "file", f"{repo}@{ref}:{path}"], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        h, n = hashlib.sha256(), 0
        while True:
            b = p.stdout.read(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
        err = p.stderr.read()
        if p.wait() != 0:
            raise DriverError(f"`pfs get file {repo}@{ref}:{path}` exited {p.returncode}: {err.decode(errors='replace').strip()}")
        return h.hexdigest(), n


class APIDriver:
    """Drives the daemon over its socket from this process: no CLI process start in the timings."""
    name = "api"

    def __init__(self, api):
        self.api = api
        self.last_cpu = None

    def _timed(self, fn, *a, **kw):
        t0 = time.perf_counter()
        r = fn(*a, **kw)
        return time.perf_counter() - t0, r

    def create_repo(self, repo):
        self.api.create_repo(repo)

    def put(self, repo, branch, path, local, recursive=False, append=False):
        if recursive:
            return self._timed(self.api.put_dir, repo, branch, path, local)
        return self._timed(self.api.put_file, repo, branch, path, local, append=append)

    def start_commit(self, repo, branch):
        return self._timed(self.api.start_commit, repo, branch)

    def finish_commit(self, repo, ref):
        return self._timed(self.api.finish_commit, repo, ref)[0]

    def inspect_commit(self, repo, ref):
        return self.api.inspect_commit(repo, ref)

    def trivial(self, repo):
        return self._timed(self.api.request, "GET", f"repos/{repo}")[0]

    def file_sha256(self, repo, ref, path):
        return self.api.file_sha256(repo, ref, path)


def cli_usable(pfs_bin, data_dir):
    """True when the built `pfs` answers `version`, and `put file --raw` is a documented flag."""
    if not (pfs_bin and os.access(pfs_bin, os.X_OK)):
        return False
    env = dict(os.environ, PFS_DATA_DIR=data_dir)
    try:
        p = subprocess.run([pfs_bin, "put", "file", "--help"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0 and b"--raw" in p.stdout


__all__ = ["CLIDriver", "APIDriver", "DriverError", "cli_usable", "pfsapi"]

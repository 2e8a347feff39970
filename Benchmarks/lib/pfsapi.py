"""A minimal client of the pfs daemon's HTTP/JSON API over its Unix socket (docs/api/README.md).

The benchmarks drive pfs through the `pfs` CLI; this client is used for what the CLI cannot tell
(the daemon-side time of one request, without a process start) and for sanity checks that must not
depend on the CLI's output format. Standard library only.
"""

import http.client
import json
import os
import socket
import struct
import urllib.parse

SEGMENT = 8 << 20  # data segment size of the put stream (the daemon accepts up to 16 MiB)


class APIError(Exception):
    def __init__(self, status, body):
        self.status = status
        try:
            err = json.loads(body)["error"]
            self.code, self.message = err.get("code"), err.get("message")
        except Exception:  # not the API's JSON error body
            self.code, self.message = None, body[:500].decode("utf-8", "replace")
        super().__init__(f"HTTP {status} {self.code}: {self.message}")


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


def _record(header, data_iter=None):
    """One put-stream record: u32be(len) header_json, then for put/append the data segments and u32be(0)."""
    h = json.dumps(header, separators=(",", ":")).encode()
    yield struct.pack(">I", len(h)) + h
    if data_iter is not None:
        for seg in data_iter:
            for i in range(0, len(seg), SEGMENT):
                piece = seg[i:i + SEGMENT]
                if piece:
                    yield struct.pack(">I", len(piece)) + bytes(piece)
        yield struct.pack(">I", 0)


def _file_segments(path):
    with open(path, "rb") as f:
        while True:
            b = f.read(SEGMENT)
            if not b:
                return
            yield b


class Client:
    def __init__(self, socket_path, timeout=3600):
        self.socket_path = socket_path
        self.timeout = timeout
        self._conn = None

    def _connection(self):
        if self._conn is None:
            self._conn = _UnixConnection(self.socket_path, self.timeout)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method, path, query=None, body=None, chunked=False, raw=False):
        url = "/v1/" + path
        if query:
            url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        headers = {}
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if chunked:
            headers["Content-Type"] = "application/octet-stream"
        # Keep-alive on one connection; reconnect once if the daemon closed it between requests.
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(method, url, body=body, headers=headers, encode_chunked=chunked)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (ConnectionError, http.client.RemoteDisconnected, BrokenPipeError):
                self.close()
                if attempt or chunked:
                    raise
        if resp.status >= 300:
            raise APIError(resp.status, data)
        if raw:
            return data
        return json.loads(data) if data else None

    # --- operations used by the harness ---
    def create_repo(self, name):
        return self.request("POST", "repos", body={"name": name})

    def put_files(self, repo, ref, records):
        """records: iterable of (op, path, data_iter or None). Returns the PutResult dict."""
        def stream():
            for op, path, data in records:
                yield from _record({"op": op, "path": path}, data if op in ("put", "append") else None)
        return self.request("PUT", f"repos/{repo}/files", query={"ref": ref}, body=stream(), chunked=True)

    def put_file(self, repo, ref, path, local, append=False):
        return self.put_files(repo, ref, [("append" if append else "put", path, _file_segments(local))])

    def put_dir(self, repo, ref, prefix, local_dir):
        def records():
            for root, dirs, files in os.walk(local_dir):
                dirs.sort()
                for name in sorted(files):
                    full = os.path.join(root, name)
                    rel = os.path.relpath(full, local_dir)
                    yield "put", prefix.rstrip("/") + "/" + rel, _file_segments(full)
        return self.put_files(repo, ref, records())

    def start_commit(self, repo, branch):
        return self.request("POST", f"repos/{repo}/commits", body={"branch": branch})

    def finish_commit(self, repo, ref):
        return self.request("POST", f"repos/{repo}/commit/finish", query={"ref": ref})

    def inspect_commit(self, repo, ref):
        return self.request("GET", f"repos/{repo}/commit", query={"ref": ref})

    def list_commits(self, repo, branch=None):
        q = {"branch": branch} if branch else None
        return self.request("GET", f"repos/{repo}/commits", query=q)

    def list_files(self, repo, ref, path="/", recursive=False):
        q = {"ref": ref, "path": path}
        if recursive:
            q["recursive"] = "true"
        return self.request("GET", f"repos/{repo}/files", query=q)

    def inspect_file(self, repo, ref, path):
        return self.request("GET", f"repos/{repo}/file", query={"ref": ref, "path": path})

    def file_sha256(self, repo, ref, path):
        """Streams a file's content and returns (sha256 hex, size)."""
        import hashlib
        conn = _UnixConnection(self.socket_path, self.timeout)
        try:
            q = urllib.parse.urlencode({"ref": ref, "path": path}, quote_via=urllib.parse.quote)
            conn.request("GET", f"/v1/repos/{repo}/file/content?{q}")
            resp = conn.getresponse()
            if resp.status >= 300:
                raise APIError(resp.status, resp.read())
            h, n = hashlib.sha256(), 0
            while True:
                b = resp.read(1 << 20)
                if not b:
                    break
                h.update(b)
                n += len(b)
            return h.hexdigest(), n
        finally:
            conn.close()

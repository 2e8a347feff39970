import Foundation
import XCTest

/// Test images built from Debian's busybox-static (no network): a rootfs directory with /bin/busybox and its
/// applet symlinks, packed as a rootfs tarball; an OCI layout written here (blobs, index.json, manifest, config,
/// sha256) with a second layer holding a whiteout and an entrypoint script; that layout as an OCI archive; a
/// `docker save` archive (manifest.json, config, <id>/layer.tar); and layers that try to leave the root.
enum ContainerImages {
    /// Built once per test process.
    nonisolated(unsafe) private static var built: URL?
    private static let lock = NSLock()

    static var busybox: String? {
        ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func directory() throws -> URL {
        try lock.withLock {
            if let built { return built }
            guard let busybox else { throw XCTSkip("no busybox (scripts/install-deps.sh --test installs busybox-static)") }
            let dir = URL(fileURLWithPath: "/var/tmp/pfs-test-images-\(getpid())")
            let script = dir.deletingLastPathComponent().appendingPathComponent("pfs-test-images-\(getpid()).py")
            try builder.write(to: script, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: script) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3", script.path, dir.path, busybox]
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw XCTSkip("building the test images failed (python3 \(script.path))") }
            built = dir
            return dir
        }
    }

    static func remove() {
        lock.withLock {
            if let built { try? FileManager.default.removeItem(at: built) }
            built = nil
        }
    }

    static let builder = #"""
# Builds test images from Debian's busybox-static: a rootfs tarball, an OCI layout (two layers, a whiteout,
# an image config), an OCI archive of it, a docker-save archive, and layers that try to escape.
import gzip, hashlib, io, json, os, shutil, subprocess, sys, tarfile
out = sys.argv[1]
busybox = sys.argv[2] if len(sys.argv) > 2 else "/bin/busybox"
root = os.path.join(out, "rootfs")
shutil.rmtree(out, ignore_errors=True)
for d in ["bin", "etc", "tmp", "usr/bin", "data-in"]:
    os.makedirs(os.path.join(root, d), exist_ok=True)
shutil.copy(busybox, os.path.join(root, "bin/busybox"))
applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
for a in applets:
    if a != "busybox":
        os.symlink("/bin/busybox", os.path.join(root, "bin", a))
open(os.path.join(root, "etc/os-release"), "w").write('ID=pfs-busybox\nNAME="pfs test busybox"\n')
open(os.path.join(root, "etc/passwd"), "w").write("root:x:0:0:root:/root:/bin/sh\nworker:x:1000:1000::/tmp:/bin/sh\n")
open(os.path.join(root, "etc/group"), "w").write("root:x:0:\nworker:x:1000:\n")
open(os.path.join(root, "etc/removed-later"), "w").write("lower layer\n")

def tar_dir(path, base):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(base)):
            t.add(os.path.join(base, name), arcname=name, recursive=True)
    open(path, "wb").write(buf.getvalue())
    return buf.getvalue()

def tar_entries(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            if kind == "dir":
                ti.type = tarfile.DIRTYPE; ti.mode = 0o755; t.addfile(ti)
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE; ti.linkname = data; t.addfile(ti)
            else:
                b = data.encode(); ti.size = len(b); ti.mode = 0o755; t.addfile(ti, io.BytesIO(b))
    return buf.getvalue()

base = tar_dir(os.path.join(out, "rootfs.tar"), root)
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()

def oci_layout(path, layers, config, tag):
    os.makedirs(os.path.join(path, "blobs/sha256"))
    def blob(b):
        open(os.path.join(path, "blobs/sha256", hashlib.sha256(b).hexdigest()), "wb").write(b)
        return sha(b)
    descs = []
    for raw in layers:
        z = gzip.compress(raw, mtime=0)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(z), "size": len(z)})
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": config,
                      "rootfs": {"type": "layers", "diff_ids": [sha(r) for r in layers]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(cfg), "size": len(cfg)},
                           "layers": descs}).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": blob(manifest), "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    json.dump(index, open(os.path.join(path, "index.json"), "w"))
    open(os.path.join(path, "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}')

# Layer 2: removes /etc/removed-later (whiteout), adds /app/run.sh, the image's entrypoint.
app = tar_entries([("app", "dir", None), ("app/run.sh", "file",
    "#!/bin/sh\necho \"greeting=$GREETING\" > /pfs/out/entry\necho \"pwd=$(pwd)\" >> /pfs/out/entry\necho \"args=$*\" >> /pfs/out/entry\n"
    "ls /etc >> /pfs/out/entry\n"),
    ("etc", "dir", None), ("etc/.wh.removed-later", "file", "")])
oci_layout(os.path.join(out, "oci"), [base, app],
           {"Entrypoint": ["/app/run.sh"], "Cmd": ["from-image-cmd"], "Env": ["GREETING=hello-from-image", "PATH=/app:/bin:/usr/bin"],
            "WorkingDir": "/app"}, "1.0")
subprocess.run(["tar", "-C", os.path.join(out, "oci"), "-cf", os.path.join(out, "oci.tar"), "."], check=True)

# docker save (the classic layout): manifest.json, <config>.json, <id>/layer.tar.
d = os.path.join(out, "docker")
os.makedirs(os.path.join(d, "l1"))
open(os.path.join(d, "l1/layer.tar"), "wb").write(base)
dcfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh", "-c", "echo docker-cmd > /pfs/out/cmd"], "Env": ["FROM_DOCKER=yes", "PATH=/bin"]},
                   "rootfs": {"type": "layers", "diff_ids": [sha(base)]}}).encode()
cname = hashlib.sha256(dcfg).hexdigest() + ".json"
open(os.path.join(d, cname), "wb").write(dcfg)
json.dump([{"Config": cname, "RepoTags": ["bbdocker:latest"], "Layers": ["l1/layer.tar"]}], open(os.path.join(d, "manifest.json"), "w"))
subprocess.run(["tar", "-C", d, "-cf", os.path.join(out, "docker.tar"), "."], check=True)

# Layers that try to leave the root.
open(os.path.join(out, "evil-dotdot.tar"), "wb").write(tar_entries([("ok", "file", "x"), ("../../escaped-dotdot", "file", "x")]))
open(os.path.join(out, "evil-symlink.tar"), "wb").write(tar_entries([("etc", "sym", "/tmp"), ("etc/escaped-symlink", "file", "x")]))
open(os.path.join(out, "evil-relative.tar"), "wb").write(tar_entries([("a", "dir", None), ("a/up", "sym", "../../../../etc")]))
"""#
}

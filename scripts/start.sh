#!/usr/bin/env bash
# Builds pfs (release) and starts the daemon on embedded defaults, mounted at ~/pfs: data in ~/.pfs (SQLite
# metadata + local object directory), API on ~/.pfs/pfs.sock. Extra arguments go to pfsmount
# (e.g. --no-mount for the API only). Stop it with Ctrl-C, `pfs unmount` or `fusermount3 -u ~/pfs`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --product pfsmount >&2
swift build -c release --product pfs >&2
swift build -c release --product pachctl >&2
bin="$(swift build -c release --show-bin-path)"
echo "pfs CLI: $bin/pfs  (add it to PATH: export PATH=\"$bin:\$PATH\")" >&2
exec "$bin/pfsmount" "$@"

#!/usr/bin/env bash
# Installs the Debian packages pfs needs to build and run (idempotent; quiet when all are present).
set -euo pipefail
pkgs=(libsqlite3-dev libfuse3-dev fuse3 pkg-config bubblewrap crun)
if [ "${1:-}" = "--test" ]; then pkgs+=(python3-venv curl git rsync); fi
# The examples (scripts/examples.sh): jq reads the CLI's JSON; numpy for linear-regression's host workers.
if [ "${1:-}" = "--test" ]; then pkgs+=(jq python3-numpy mmdebstrap); fi
if [ "${1:-}" = "--test" ]; then pkgs+=(busybox-static podman); fi  # container tests build their images from it
if [ "${1:-}" = "--test" ]; then pkgs+=(fio dbench util-linux openssl); fi  # reliability: fio and dbench workloads, loop devices for power-loss torture, openssl for scripts/load
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The API fuzzer (scripts/api-fuzz): schemathesis from PyPI, pinned, in a venv cached across runs.
if [ "${1:-}" = "--test" ]; then
  venv="${PFS_TOOLS_DIR:-$HOME/.cache/pfs}/schemathesis-4.32.5"
  if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "installing schemathesis 4.32.5 into $venv" >&2
    rm -rf "$venv" && python3 -m venv "$venv" && "$venv/bin/pip" install -q schemathesis==4.32.5 >&2
  fi
fi
if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH
  else echo "swift 6 is not installed: install the Swift toolchain (swift.org) and put it on PATH" >&2; exit 1; fi
fi

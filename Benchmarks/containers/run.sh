#!/usr/bin/env bash
# Container runner benchmarks: per-datum overhead of the crun runner and of the podman runner (warm containers)
# against bare `crun run` / `podman run` loops of the same command, measured in the same run.
# See Benchmarks/containers/README.md.
#
#   Benchmarks/containers/run.sh             1,000 trivial datums per runner (~5-10 min on 2 cores, plus the build)
#   options: --datums N       one-file datums per runner (default 1,000)
#            --podman-runs N  runs of the `podman run` reference loop (default 200; its time per run is compared)
#            --only 1|2       1: crun, 2: podman
#            --no-build       use the release binaries already in .build
#            --results NAME   write Benchmarks/containers/results/NAME.md and NAME.json (default: latest)
#            --keep           keep the scratch directory
#            --check-targets  exit 3 if a target is missed
#
# Needs crun, podman, busybox-static, bubblewrap, fusermount3 and python3 (scripts/install-deps.sh --test); root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cmdline="Benchmarks/containers/run.sh${*:+ $*}"

build=1 keep=0 results=latest extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --check-targets) extra+=("$1") ;;
    --datums|--podman-runs|--only) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; extra+=("$1" "$2"); shift ;;
    --results) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; results="$2"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "[containers/run.sh $(date +%H:%M:%S)] $*" >&2; }
[ "$(id -u)" = 0 ] || { say "run as root (crun, podman and the datum views need it)"; exit 1; }

work="$(mktemp -d "${TMPDIR:-/var/tmp}/pfs-containerbench.XXXXXX")"
pidfile="$work/pfsmount.pid"
cleanup() {
  local rc=$?
  if [ -s "$pidfile" ]; then
    local pid; pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  for m in $(awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do umount -l "$m" 2>/dev/null || true; done
  if [ "$keep" = 1 ]; then say "scratch kept in $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cd "$root"
command -v swift >/dev/null 2>&1 || { [ -x /opt/swift/usr/bin/swift ] && export PATH=/opt/swift/usr/bin:$PATH; }
bin="$(swift build -c release --show-bin-path)"
rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git --no-optional-locks -C "$root" status --porcelain -- Sources Package.swift 2>/dev/null)" ]; then rev="$rev + uncommitted changes in Sources/"; fi
if [ "$build" = 1 ]; then
  say "building pfsmount and pfs (swift build -c release)"
  swift build -c release --product pfsmount >&2
  swift build -c release --product pfs >&2
else
  rev="$rev (--no-build: binaries as found in .build, $(date -r "$bin/pfsmount" '+built %F %T' 2>/dev/null || echo missing))"
fi
[ -x "$bin/pfsmount" ] && [ -x "$bin/pfs" ] || { say "no release pfsmount/pfs in $bin: build them first"; exit 1; }

mkdir -p "$here/results"
prio=0
if renice -n -10 -p $$ >/dev/null 2>&1; then prio=-10; fi
say "running (scratch: $work, nice $prio)"
python3 "$here/containerbench.py" --bin "$bin" --work "$work" --out "$here/results/$results.md" --pid-file "$pidfile" \
  --command "$cmdline" --revision "$rev" --priority "$prio" "${extra[@]}"

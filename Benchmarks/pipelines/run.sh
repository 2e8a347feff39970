#!/usr/bin/env bash
# Pipeline benchmarks: a private pfsmount (release build) with its scheduler and bubblewrap workers, driven by the
# pfs CLI; every figure is measured against its reference in the same run. See Benchmarks/pipelines/README.md.
#
#   Benchmarks/pipelines/run.sh              full size: 10,000 one-file datums (~5-10 min on 2 cores, plus the build)
#   Benchmarks/pipelines/run.sh --quick      1,000 datums, a smoke run (< 2 min once built)
#   options: --datums N     the number of one-file datums (default 10,000)
#            --runs N       one-changed-file updates per figure (default 3; medians are reported)
#            --only 2,3     benchmarks to run (the first job of 1 always runs: the others build on its pipeline;
#                           without 1 its shell-loop reference is skipped)
#            --no-dvc       skip the dvc repro comparison
#            --no-build     use the release binaries already in .build
#            --results NAME write Benchmarks/pipelines/results/NAME.md and NAME.json (default: latest)
#            --keep         keep the scratch directory
#            --check-targets exit 3 if a target is missed
#
# Needs bubblewrap, fusermount3 (the datum views are a FUSE mount) and python3. Scratch goes under $TMPDIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cmdline="Benchmarks/pipelines/run.sh${*:+ $*}"

quick=0 build=1 keep=0 dvc=1 results=latest extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --no-dvc) dvc=0 ;;
    --keep) keep=1 ;;
    --check-targets) extra+=("$1") ;;
    --datums|--runs|--only) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; extra+=("$1" "$2"); shift ;;
    --results) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; results="$2"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "[pipelines/run.sh $(date +%H:%M:%S)] $*" >&2; }
command -v bwrap >/dev/null || { say "bubblewrap is missing (apt-get install bubblewrap)"; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/pfs-pipebench.XXXXXX")"
pidfile="$work/pfsmount.pid"
cleanup() {
  local rc=$?
  if [ -s "$pidfile" ]; then
    local pid; pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping the benchmark daemon (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  if grep -qs " $work/data/run/views " /proc/mounts; then fusermount3 -u -z "$work/data/run/views" 2>/dev/null || true; fi
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
  say "building pfsmount and pfs (swift build -c release; waits if another build holds .build)"
  swift build -c release --product pfsmount >&2
  swift build -c release --product pfs >&2
else
  rev="$rev (--no-build: binaries as found in .build, $(date -r "$bin/pfsmount" '+built %F %T' 2>/dev/null || echo missing))"
fi
[ -x "$bin/pfsmount" ] && [ -x "$bin/pfs" ] || { say "no release pfsmount/pfs in $bin: build them first"; exit 1; }

# DVC, the reference of benchmark 4: the same virtualenv as Benchmarks/run.sh.
dvc_args=(--dvc none --dvc-reason "disabled with --no-dvc")
if [ "$dvc" = 1 ]; then
  venv="$root/Benchmarks/.venv"
  if [ ! -x "$venv/bin/dvc" ]; then
    say "installing DVC with pip into $venv (once)"
    if python3 -m venv "$venv" >"$work/venv.log" 2>&1 && "$venv/bin/pip" install -q dvc >>"$work/venv.log" 2>&1; then :; else
      say "pip could not install DVC; benchmark 4 is skipped:"; tail -n 5 "$work/venv.log" >&2
    fi
  fi
  if [ -x "$venv/bin/dvc" ]; then dvc_args=(--dvc "$venv/bin/dvc"); else dvc_args=(--dvc none --dvc-reason "pip could not install DVC"); fi
fi

mkdir -p "$here/results"
args=(--bin "$bin" --work "$work" --out "$here/results/$results.md" --pid-file "$pidfile" --command "$cmdline"
      --revision "$rev" "${dvc_args[@]}" "${extra[@]}")
[ "$quick" = 1 ] && args+=(--datums 1000 --latency-runs 5)
prio=0
if [ "$(id -u)" = 0 ] && renice -n -10 -p $$ >/dev/null 2>&1; then prio=-10; fi
args+=(--priority "$prio")
say "running (scratch: $work, nice $prio)"
python3 "$here/pipebench.py" "${args[@]}"

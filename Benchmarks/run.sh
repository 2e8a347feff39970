#!/usr/bin/env bash
# The pfs benchmarks: builds the release binaries, installs DVC into Benchmarks/.venv (the reference),
# starts a private daemon on a scratch data directory, measures pfs and its references in the same run,
# and writes Benchmarks/results/latest.md (+ latest.json). See Benchmarks/README.md.
#
#   Benchmarks/run.sh                full sizes (3-7 min on 2 cores, plus the build): 1 GiB file, 10,000 files, 100,000-file branch
#   Benchmarks/run.sh --quick        small sizes, a smoke run for CI (< 2 min once built)
#   options: --no-dvc  --only 1,3  --via cli|api  --check-targets (exit 3 if a target is missed)  --keep (keep scratch)
#            --no-build (use the release binaries already in .build, e.g. while the tree does not compile)
#            --profile (perf-record the daemon during the main steps; the top symbols go into the report)
#            --wait-quiet S (full runs: wait up to S seconds, default 120, for other processes to leave the CPUs
#            before each benchmark; 0 = never wait)
#
# Scratch space goes under $TMPDIR (default /tmp): the full run needs ~10 GiB free there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cmdline="Benchmarks/run.sh${*:+ $*}"

quick=0 dvc=1 keep=0 build=1 wait_quiet=120 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-dvc) dvc=0 ;;
    --keep) keep=1 ;;
    --no-build) build=0 ;;
    --check-targets|--profile) extra+=("$1") ;;
    --wait-quiet) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; wait_quiet="$2"; shift ;;
    --only|--via) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; extra+=("$1" "$2"); shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }

# --- scratch space and cleanup: the daemon never outlives this script ------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/pfs-bench.XXXXXX")"
pidfile="$work/pfsmount.pid"
cleanup() {
  local rc=$?
  if [ -s "$pidfile" ]; then
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping the benchmark daemon (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  if [ "$keep" = 1 ]; then say "scratch kept in $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_kib=$(( quick == 1 ? 1 << 20 : 10 << 20 ))
avail_kib="$(df -Pk "$work" | awk 'NR == 2 { print $4 }')"
if [ "$avail_kib" -lt "$need_kib" ]; then
  say "only $((avail_kib >> 20)) GiB free under ${TMPDIR:-/tmp}; this run needs $((need_kib >> 20)) GiB (set TMPDIR to a roomier place on the disk to measure)"
  exit 1
fi

# --- build -------------------------------------------------------------------------------------------------
cd "$root"
command -v swift >/dev/null 2>&1 || { [ -x /opt/swift/usr/bin/swift ] && export PATH=/opt/swift/usr/bin:$PATH; }
bin="$(swift build -c release --show-bin-path)"
# What is measured: the commit the binaries are built from, and whether the sources differ from it.
rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git --no-optional-locks -C "$root" status --porcelain -- Sources Package.swift 2>/dev/null)" ]; then rev="$rev + uncommitted changes in Sources/"; fi
[ "$build" = 0 ] && rev="$rev (--no-build: binaries as found in .build)"
if [ "$build" = 0 ]; then
  say "--no-build: using the binaries in $bin as they are ($(date -r "$bin/pfsmount" '+built %F %T' 2>/dev/null || echo 'pfsmount missing'))"
  [ -x "$bin/pfsmount" ] || { say "no $bin/pfsmount: build it first (swift build -c release --product pfsmount)"; exit 1; }
else
  say "building release binaries (swift build -c release; shares .build with other builds)"
  swift build -c release --product pfsmount >&2
fi
if [ "$build" = 0 ]; then
  [ -x "$bin/pfs" ] || extra+=(--via api --via-reason "there is no pfs binary in .build")
elif ! swift build -c release --product pfs >"$work/build-pfs.log" 2>&1; then
  say "the pfs CLI does not build (see below); pfs will be driven through its API"
  tail -n 20 "$work/build-pfs.log" >&2
  # A pfs binary left in .build by an older build is not the current CLI: do not use it.
  extra+=(--via api --via-reason "the pfs CLI did not build")
fi

# --- DVC, the reference (pip, into Benchmarks/.venv) ----------------------------------------------------------
dvc_args=(--dvc none --dvc-reason "disabled with --no-dvc")
if [ "$dvc" = 1 ]; then
  venv="$here/.venv"
  if [ ! -x "$venv/bin/dvc" ]; then
    say "installing DVC with pip into $venv (once)"
    if python3 -m venv "$venv" >"$work/venv.log" 2>&1 && "$venv/bin/pip" install -q dvc >>"$work/venv.log" 2>&1; then :; else
      say "pip could not install DVC; the dvc columns are skipped:"; tail -n 5 "$work/venv.log" >&2
    fi
  fi
  if [ -x "$venv/bin/dvc" ]; then
    dvc_args=(--dvc "$venv/bin/dvc")
  else
    dvc_args=(--dvc none --dvc-reason "pip could not install DVC into Benchmarks/.venv (see the run's output)")
  fi
fi

# --- run ---------------------------------------------------------------------------------------------------------
mkdir -p "$here/results"
args=(--bin "$bin" --work "$work" --out "$here/results/latest.md" --pid-file "$pidfile" --command "$cmdline" --revision "$rev" "${dvc_args[@]}" "${extra[@]}")
if [ "$quick" = 1 ]; then args+=(--quick --wait-quiet 0); else args+=(--wait-quiet "$wait_quiet"); fi
# Measured processes (the daemon, the CLI, cp, dvc) run at a higher CPU priority when we may raise it, so that
# concurrent builds on a shared machine disturb the timings less; the report notes the priority.
prio=0
if [ "$(id -u)" = 0 ] && renice -n -10 -p $$ >/dev/null 2>&1; then prio=-10; fi
args+=(--priority "$prio")
say "running the benchmarks (scratch: $work, nice $prio)"
python3 "$here/bench.py" "${args[@]}"

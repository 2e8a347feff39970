#!/usr/bin/env bash
# Benchmarks of the FUSE mount: reads, writes, cp -r and tree walks through a private pfsmount, each measured
# against a native directory on the same disk in the same run. See Benchmarks/mount/README.md.
#
#   Benchmarks/mount/run.sh              full sizes (~10-20 min on 2 cores): 1 GiB file, 10,000 and 100,000 files
#   Benchmarks/mount/run.sh --quick      small sizes (64 MiB, 1,000 and 5,000 files): a CI smoke run, < 2 min once built
#   options: --only 1,3      run only these benchmarks (1 seq read, 2 head, 3 seq write, 4 cp -r, 5 find/ls/grep)
#            --runs N        timed repetitions per measurement (default 3, cold reads at least 5; medians are reported)
#            --big-mib N, --cp-files N, --tree-files N   override the sizes (file of benchmarks 1-3, files of 4, of 5)
#            --wait-load L   before each benchmark wait (up to --wait-max S seconds, default 600) until the
#                            1-minute load average is below L (default: full runs 1.0, --quick no wait)
#            --profile       perf-record the daemon during each pfs step of benchmarks 3-5 (top symbols in the report)
#            --strace        strace -c -f the daemon during the same steps (syscall counts in the report)
#            --no-build      use the pfsmount already in .build/release
#            --pfsmount PATH measure this pfsmount binary instead (e.g. a baseline build, for before/after figures)
#            --results NAME  write Benchmarks/mount/results/NAME.md and NAME.json (default: latest)
#            --keep          keep the scratch directory
#            --check-targets exit 3 if a target is missed
#
# Needs root (drop_caches for the cold runs), fusermount3, python3, openssl. Scratch goes under $TMPDIR
# (default /tmp, the disk that is measured): the full run needs ~8 GiB free.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cmdline="Benchmarks/mount/run.sh${*:+ $*}"

quick=0 build=1 keep=0 extra=() wait_load="" exe="" results=latest
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --keep) keep=1 ;;
    --profile|--strace|--check-targets) extra+=("$1") ;;
    --only|--runs|--wait-max|--big-mib|--cp-files|--tree-files) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; extra+=("$1" "$2"); shift ;;
    --wait-load) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; wait_load="$2"; shift ;;
    --results) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; results="$2"; shift ;;
    --pfsmount) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; exe="$(realpath "$2")"; build=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "[mount/run.sh $(date +%H:%M:%S)] $*" >&2; }
[ "$(id -u)" = 0 ] || { say "needs root: the cold runs drop the page cache (/proc/sys/vm/drop_caches)"; exit 1; }
command -v fusermount3 >/dev/null || { say "fusermount3 is missing (apt-get install fuse3)"; exit 1; }

# --- scratch space and cleanup: the daemon and its mount never outlive this script --------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/pfs-mountbench.XXXXXX")"
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
  if grep -qs " $work/mnt " /proc/mounts; then fusermount3 -u -z "$work/mnt" 2>/dev/null || umount -l "$work/mnt" 2>/dev/null || true; fi
  if [ "$keep" = 1 ]; then say "scratch kept in $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need_kib=$(( quick == 1 ? 1 << 20 : 8 << 20 ))
avail_kib="$(df -Pk "$work" | awk 'NR == 2 { print $4 }')"
if [ "$avail_kib" -lt "$need_kib" ]; then
  say "only $((avail_kib >> 20)) GiB free under ${TMPDIR:-/tmp}; this run needs $((need_kib >> 20)) GiB"; exit 1
fi

# --- build ---------------------------------------------------------------------------------------------------------
cd "$root"
command -v swift >/dev/null 2>&1 || { [ -x /opt/swift/usr/bin/swift ] && export PATH=/opt/swift/usr/bin:$PATH; }
bin="$(swift build -c release --show-bin-path)"
rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git --no-optional-locks -C "$root" status --porcelain -- Sources Package.swift 2>/dev/null)" ]; then rev="$rev + uncommitted changes in Sources/"; fi
if [ -n "$exe" ]; then
  [ -x "$exe" ] || { say "$exe is not an executable"; exit 1; }
  rev="given binary $exe ($(date -r "$exe" '+built %F %T'))"
elif [ "$build" = 1 ]; then
  say "building pfsmount (swift build -c release --product pfsmount; waits if another build holds .build)"
  swift build -c release --product pfsmount >&2
  exe="$bin/pfsmount"
else
  [ -x "$bin/pfsmount" ] || { say "no $bin/pfsmount: build it first"; exit 1; }
  rev="$rev (--no-build: pfsmount as found in .build, $(date -r "$bin/pfsmount" '+built %F %T'))"
  exe="$bin/pfsmount"
fi

# --- run ---------------------------------------------------------------------------------------------------------------
mkdir -p "$here/results"
args=(--pfsmount "$exe" --work "$work" --out "$here/results/$results.md" --pid-file "$pidfile"
      --command "$cmdline" --revision "$rev" "${extra[@]}")
[ "$quick" = 1 ] && args+=(--quick)
if [ -n "$wait_load" ]; then args+=(--wait-load "$wait_load"); elif [ "$quick" = 0 ]; then args+=(--wait-load 1.0); fi
# Measured processes run at a higher priority, so concurrent builds disturb the timings less.
prio=0
if renice -n -10 -p $$ >/dev/null 2>&1; then prio=-10; fi
args+=(--priority "$prio")
say "running (scratch: $work, nice $prio)"
python3 "$here/mountbench.py" "${args[@]}"

#!/usr/bin/env bash
# Runs every example's check (examples/*/check), each with a time limit, printing a failed check's output, then a
# closing summary line `examples: N passed, N failed`. Exit status 0 only when every check passed.
#
#   scripts/examples.sh                 # all of them
#   scripts/examples.sh fruit-stand     # only the named ones
#
# Environment: EXAMPLE_TIMEOUT (seconds per check, default 300), PFS_BIN (the folder with pfsmount, pfs and
# pachctl; default: the package's debug build folder, built if missing).
set -uo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
limit="${EXAMPLE_TIMEOUT:-300}"
if [ -z "${PFS_BIN:-}" ]; then
  PFS_BIN="$(swift build --show-bin-path 2>/dev/null)"
  if [ ! -x "$PFS_BIN/pfsmount" ]; then swift build >&2 || { echo "examples: swift build failed" >&2; exit 1; }; fi
fi
export PFS_BIN

checks=()
if [ $# -gt 0 ]; then
  for name in "$@"; do
    [ -x "examples/$name/check" ] || { echo "examples: no executable examples/$name/check" >&2; exit 2; }
    checks+=("examples/$name/check")
  done
else
  for c in examples/*/check; do [ -x "$c" ] && checks+=("$c"); done
fi

mounts_before=$(grep -c ' /tmp/pfs-example-' /proc/mounts)
passed=0; failed=0; failures=()
for c in "${checks[@]}"; do
  name="$(basename "$(dirname "$c")")"
  log="$(mktemp)"
  dirs_before="$(ls -d /tmp/pfs-example-* 2>/dev/null || true)"
  start=$(date +%s)
  # timeout signals its whole process group, so the check's daemon and workers end with it.
  timeout --kill-after=20 "$limit" "$root/$c" >"$log" 2>&1 </dev/null
  status=$?
  secs=$(( $(date +%s) - start ))
  if [ $status -eq 0 ]; then
    echo "example $name: passed (${secs} s)"
    passed=$((passed + 1))
    # A passed check's working directories (/tmp/pfs-example-*) go; a failed one's stay for a look.
    for d in /tmp/pfs-example-*; do
      [ -d "$d" ] || continue
      grep -qxF "$d" <<<"$dirs_before" && continue
      grep -q " $d/" /proc/mounts || rm -rf "$d"
    done
  else
    if [ $status -eq 124 ] || [ $status -eq 137 ]; then why="timed out after ${limit} s"; else why="exit $status"; fi
    echo "example $name: FAILED ($why, ${secs} s); its output:"
    sed 's/^/  | /' "$log"
    failed=$((failed + 1)); failures+=("$name")
  fi
  rm -f "$log"
done
# An example's mount (or a datum view) left behind is a failure even when its check passed.
if [ "$(grep -c ' /tmp/pfs-example-' /proc/mounts)" -gt "$mounts_before" ]; then
  echo "an example left a FUSE mount behind:"; grep ' /tmp/pfs-example-' /proc/mounts
  failed=$((failed + 1)); failures+=("(mount left behind)")
fi
[ $failed -gt 0 ] && echo "failed examples: ${failures[*]}"
echo "examples: $passed passed, $failed failed"
[ $failed -eq 0 ]

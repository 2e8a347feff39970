#!/usr/bin/env bash
# Shared by every example's run.sh and check: a private pfsmount daemon on its own data directory and mount
# point, the built `pfs`/`pachctl` on PATH, and cleanup on exit (unmount, stop the daemon) whatever happens.
#
#   source "$(dirname "$0")/../lib.sh"
#   example_start                # starts pfsmount; sets EX_DIR, PFS_DATA_DIR, PFS_MNT; PATH has pfs and pachctl
#   ... pfs create repo data; cp x "$PFS_MNT/data/master/"; ...
#   example_wait_jobs            # waits until no job of any pipeline is starting or running
#
# Environment: EX_DIR (default: a new temporary directory), PFS_BIN (default: the package's debug build folder),
# KEEP=1 leaves the daemon running and the mount in place at exit (to explore by hand afterwards).
set -euo pipefail

EX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

example_bin() {
  if [ -n "${PFS_BIN:-}" ]; then echo "$PFS_BIN"; return; fi
  local d
  d="$(cd "$EX_ROOT" && swift build --show-bin-path 2>/dev/null)"
  if [ ! -x "$d/pfsmount" ]; then
    echo "example: building pfs (swift build) in $EX_ROOT" >&2
    (cd "$EX_ROOT" && swift build >&2)
  fi
  echo "$d"
}

example_cleanup() {
  local status=$?
  if [ "${KEEP:-0}" = "1" ]; then
    echo "example: KEEP=1 — daemon left running (pid ${EX_DAEMON_PID:-?}), mounted at $PFS_MNT, data in $PFS_DATA_DIR" >&2
    return $status
  fi
  if [ -n "${EX_DAEMON_PID:-}" ] && kill -0 "$EX_DAEMON_PID" 2>/dev/null; then
    kill -TERM "$EX_DAEMON_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$EX_DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$EX_DAEMON_PID" 2>/dev/null || true
  fi
  if [ -n "${PFS_MNT:-}" ] && grep -q " $PFS_MNT fuse" /proc/mounts 2>/dev/null; then
    fusermount3 -u "$PFS_MNT" 2>/dev/null || umount -l "$PFS_MNT" 2>/dev/null || true
  fi
  if [ $status -ne 0 ] && [ -f "${EX_DIR:-}/daemon.log" ]; then
    echo "example: failed (exit $status); last lines of the daemon's log:" >&2
    tail -n 40 "$EX_DIR/daemon.log" >&2 || true
    echo "example: its data directory and log are kept in $EX_DIR" >&2
  elif [ -n "${EX_DIR:-}" ] && [ "$EX_OWN_DIR" = 1 ] && ! grep -q " $EX_DIR/" /proc/mounts 2>/dev/null; then
    rm -rf "$EX_DIR"
  fi
  return $status
}

# Starts pfsmount on $EX_DIR/data mounted at $EX_DIR/mnt and waits until it is ready. Extra arguments go to pfsmount.
example_start() {
  local bin; bin="$(example_bin)"
  export PATH="$bin:$PATH"
  EX_OWN_DIR=0
  if [ -z "${EX_DIR:-}" ]; then EX_DIR="$(mktemp -d /tmp/pfs-example-XXXXXX)"; EX_OWN_DIR=1; fi
  export EX_DIR
  export PFS_DATA_DIR="$EX_DIR/data" PFS_MNT="$EX_DIR/mnt"
  unset PFS_SOCKET
  mkdir -p "$PFS_MNT"
  trap example_cleanup EXIT
  local fifo="$EX_DIR/ready.fifo"
  rm -f "$fifo"; mkfifo "$fifo"
  pfsmount "$PFS_MNT" --data-dir "$PFS_DATA_DIR" --commit-settle "${EX_SETTLE_MS:-300}" --announce "$@" \
    >"$fifo" 2>>"$EX_DIR/daemon.log" &
  EX_DAEMON_PID=$!
  if ! timeout 60 grep -q -m1 ready <"$fifo"; then
    echo "example: pfsmount did not become ready in 60 s" >&2
    return 1
  fi
  # Keep the announce pipe drained so the daemon never blocks writing to it.
  (cat <"$fifo" >/dev/null &) ; rm -f "$fifo"
  echo "example: pfsmount ready (pid $EX_DAEMON_PID), mounted at $PFS_MNT, data in $PFS_DATA_DIR" >&2
}

# Waits until every pipeline's jobs are done (none starting or running), at most ${1:-120} seconds.
example_wait_jobs() {
  local limit="${1:-120}" t=0
  while [ "$t" -lt $((limit * 10)) ]; do
    if ! pfs list job --raw 2>/dev/null | grep -Eq '"state" *: *"(starting|running)"'; then return 0; fi
    sleep 0.1; t=$((t + 1))
  done
  echo "example: jobs still running after ${limit} s:" >&2
  pfs list job >&2 || true
  return 1
}

# Fails the example with a message when "$1" and "$2" differ.
expect_eq() {
  if [ "$1" != "$2" ]; then
    echo "check failed: ${3:-values differ}: expected '$2', got '$1'" >&2
    exit 1
  fi
}

#!/usr/bin/env bash
# Installs what the tests need, builds with warnings as errors, and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
export PFS_STRICT=1
swift build --build-tests 2>&1 | grep -v "unhandled; explicitly declare them as resources" >&2
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "build failed" >&2; exit 1; }
swift test --skip-build 2>&1 | tee /tmp/pfs-test-$$.log
status=${PIPESTATUS[0]}
# A FUSE mount left behind by a test is a failure even when the tests passed.
if grep -qE ' fuse\.pfs ' /proc/mounts; then echo "a pfs FUSE mount was left behind:" >&2; grep ' fuse\.pfs ' /proc/mounts >&2; exit 1; fi
exit "$status"

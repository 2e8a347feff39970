#!/usr/bin/env bash
# Installs what the tests need, builds with warnings as errors, and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
export PFS_STRICT=1
swift build --build-tests 2>&1 | grep -v "unhandled; explicitly declare them as resources" >&2
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "build failed" >&2; exit 1; }
log="$(mktemp)"
set +e
# XCTest only: no Swift Testing suites exist, and its empty run would print a misleading "0 tests" line.
swift test --skip-build --disable-swift-testing 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# One plain closing line with the totals of XCTest's last summary.
# (the last "Executed N tests, with [K tests skipped and] F failures" line: the whole run's)
summary=$(grep -E "Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?" "$log" | tail -1)
executed=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failures=$(echo "$summary" | sed -E 's/.*[ ,]([0-9]+) failures?.*/\1/')
skipped=$(echo "$summary" | grep -oE '[0-9]+ tests? skipped' | grep -oE '^[0-9]+' || echo 0)
rm -f "$log"
if [ -n "$summary" ]; then echo "tests: $((executed - failures - skipped)) passed, $failures failed, $skipped skipped"; fi
# Reliability: kill -9 torture of the built binaries (docs/reliability.md), short mode.
./scripts/torture --short --bin "$(swift build --show-bin-path)" || status=1
./scripts/torture --short --power-loss --bin "$(swift build --show-bin-path)" || status=1
# The API against docs/api/openapi.yaml: schemathesis on a live daemon (docs/reliability.md), short mode.
./scripts/api-fuzz --short --bin "$(swift build --show-bin-path)" || status=1
# Load: concurrent writers, readers, 8 pipelines, many files, big files, all checked (scripts/load), small sizes.
./scripts/load --short --bin "$(swift build --show-bin-path)" || status=1
# Every examples/*/check (scripts/examples.sh), with its own closing line "examples: N passed, N failed".
./scripts/examples.sh
examples_status=$?
# A FUSE mount left behind by a test is a failure even when the tests passed.
if grep -E ' fuse\.pfs ' /proc/mounts | grep -q 'pfs-e2e-'; then
  echo "a test left a pfs FUSE mount behind:" >&2
  grep 'pfs-e2e-' /proc/mounts >&2
  exit 1
fi
[ "$status" -ne 0 ] && exit "$status"
exit "$examples_status"

#!/usr/bin/env bash
# The fruit stand, from nothing, on a private daemon and mount (examples/lib.sh):
#   ./run.sh            Pachyderm 1.1's beginner tutorial: its commands and its pipeline.json, verbatim
#   ./run.sh 1.3        the same commands with Pachyderm 1.2–1.3's incremental spec (pipeline-1.3.json)
#   ./run.sh 2.x        the 2.x spelling (pfs create repo, put file, create pipeline) with a 2.x spec (fruit.yaml)
# What the tutorial reads is printed and copied to $EX_DIR/results/ (check asserts on it). KEEP=1 keeps the
# daemon and the mount for exploring afterwards.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
mode="${1:-1.1}"
case "$mode" in 1.1|1.3|2.x) ;; *) echo "usage: $0 [1.1|1.3|2.x]" >&2; exit 2 ;; esac
example_start
results="$EX_DIR/results"; mkdir -p "$results"
cd "$here"
step() { echo; echo "\$ $*"; "$@"; }

if [ "$mode" = "2.x" ]; then
  step pfs create repo data
  step pfs put file data@master:/set1.txt -f set1.txt
  step pfs create pipeline -f fruit.yaml
  step pfs wait commit data@master
  first="$(pfs inspect commit sum@master --raw | jq -r .id)"
  step pfs get file "sum@$first:/apple"
  # A second file: a second datum of filter; the first one is skipped.
  step pfs put file data@master:/set2.txt -f set2.txt
  step pfs wait commit data@master
  step pfs list job
  second="$(pfs inspect commit sum@master --raw | jq -r .id)"
  step pfs get file "sum@$second:/apple"
else
  spec=pipeline.json; [ "$mode" = "1.3" ] && spec=pipeline-1.3.json
  step pachctl create-repo data
  step pachctl put-file data master sales -c -f set1.txt
  # The 1.1 tutorial's image `fruit_stand` (busybox with grep and awk) runs as the host sandbox.
  [ "$mode" = "1.1" ] && step pfs image alias fruit_stand host
  step pachctl create-pipeline -f "$spec"
  step pachctl flush-commit data/master
  step pachctl list-job
  step pachctl list-commit sum
  first="$(pfs inspect commit sum@master --raw | jq -r .id)"
  step pachctl get-file sum "$first" apple
  # 1.x put-file appends: the sales file now holds set1 and set2, and the totals are cumulative.
  step pachctl put-file data master sales -c -f set2.txt
  step pachctl flush-commit data/master
  step pachctl list-job
  second="$(pfs inspect commit sum@master --raw | jq -r .id)"
  step pachctl get-file sum "$second" apple
fi

# Browsing the results through the mount: every commit is a read-only directory.
step ls "$PFS_MNT/sum/$second"
step cat "$PFS_MNT/sum/$first/apple" "$PFS_MNT/sum/$second/apple"
mkdir -p "$results/first" "$results/second"
cp "$PFS_MNT/sum/$first/"* "$results/first/"
cp "$PFS_MNT/sum/$second/"* "$results/second/"
pfs list job --raw >"$results/jobs.json"
echo "$first" >"$results/first.id"; echo "$second" >"$results/second.id"

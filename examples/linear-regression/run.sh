#!/usr/bin/env bash
# The regression workshop, from nothing, on a private daemon and mount (examples/lib.sh):
#   training/diabetes.csv --model--> model/model.json --predict (x attributes/*)--> predict/<one file per attributes file>
# then more attributes files (only they run), then update-pipeline --reprocess to a multiple regression (every
# prediction is redone), with provenance naming the model commit behind each prediction commit.
#   ./run.sh            the host sandbox: /usr/bin/python3 with Debian's python3-numpy
#   ./run.sh image      the same specs with transform.image set to an imported image: a Debian rootfs with
#                       python3-numpy that build-image.sh makes with mmdebstrap (cached), imported with
#                       `pfs image import regression-numpy:bookworm <tarball>` (needs the OCI runner, crun)
# Results (files, jobs, commits) go to $EX_DIR/results/ for check. KEEP=1 keeps the daemon and the mount.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
mode="${1:-host}"
case "$mode" in
  host)
    /usr/bin/python3 -c 'import numpy' 2>/dev/null ||
      { echo "linear-regression: /usr/bin/python3 has no numpy; install python3-numpy (scripts/install-deps.sh --test)" >&2; exit 1; }
    ;;
  image) rootfs="$("$here/build-image.sh")" ;;
  *) echo "usage: $0 [host|image]" >&2; exit 2 ;;
esac
example_start
results="$EX_DIR/results"; mkdir -p "$results"
cd "$here"
specs="$here"
if [ "$mode" = "image" ]; then
  # The same specs, each with the imported image as its transform.image.
  specs="$EX_DIR/specs"; mkdir -p "$specs"
  for f in model.yaml model-multiple.yaml predict.yaml; do
    sed 's/^transform:$/transform:\n  image: regression-numpy:bookworm/' "$f" >"$specs/$f"
  done
fi
step() { echo; echo "\$ $*"; "$@"; }
save() { # save NAME: the state after a stage (predictions, model, jobs, predict's commit)
  mkdir -p "$results/$1"
  pfs get file predict@master:/ -r -o "$results/$1/predict" >/dev/null
  pfs get file model@master:/model.json -o "$results/$1/model.json"
  pfs inspect commit predict@master --raw >"$results/$1/predict-commit.json"
  pfs inspect commit model@master --raw >"$results/$1/model-commit.json"
  pfs list job --raw >"$results/$1/jobs.json"
}

step pfs create repo training
step pfs create repo attributes
step pfs put file training@master:/diabetes.csv -f data/diabetes.csv
[ "$mode" = "image" ] && step pfs image import regression-numpy:bookworm "$rootfs"
step pfs create pipeline -f "$specs/model.yaml"
step pfs create pipeline -f "$specs/predict.yaml"
step pfs put file attributes@master:/ -r -f data/attributes/.
step pfs wait commit attributes@master
step pfs list job
step pfs get file model@master:/model.json
step pfs get file predict@master:/patients-1.csv
save first

# Two more attributes files, through the mount this time: only their two datums run.
step cp data/more-attributes/patients-4.csv data/more-attributes/patients-5.csv "$PFS_MNT/attributes/master/"
step sync "$PFS_MNT/attributes/master"
step pfs wait commit attributes@master
step pfs list job -p predict
save second

# A better model: the multiple regression. --reprocess reruns model; every prediction then runs again.
step pfs update pipeline -f "$specs/model-multiple.yaml" --reprocess
step pfs wait commit model@master
step pfs list job
step pfs inspect commit predict@master
step pfs get file predict@master:/patients-1.csv
save third

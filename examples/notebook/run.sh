#!/usr/bin/env bash
# Fills a repo `stand` with a fruit stand's sales, one day per commit (appended to sales.csv through the mount),
# then executes explore.ipynb headless against the mount (jupyter nbconvert --execute, from the virtualenv that
# venv.sh makes or reuses). The executed notebook is $EX_DIR/results/explore.ipynb. KEEP=1 keeps the daemon and
# the mount, e.g. to open the notebook in Jupyter with PFS_MNT set to the printed mount point.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
venv="$("$here/venv.sh")"
example_start
results="$EX_DIR/results"; mkdir -p "$results"
cd "$here"
step() { echo; echo "\$ $*"; "$@"; }

# Four days of sales from the fruit stand example's logs: 50 lines a day, "day,fruit,count".
days="$EX_DIR/days"; mkdir -p "$days"
cat ../fruit-stand/set1.txt ../fruit-stand/set2.txt |
  awk -v dir="$days" '{ d = int((NR - 1) / 50) + 1; printf "%d,%s,%d\n", d, $1, $2 > (dir "/day" d ".csv") }'

step mkdir "$PFS_MNT/stand"
# One writer for the first commit: the header and day 1.
{ echo "day,fruit,count"; cat "$days/day1.csv"; } >"$PFS_MNT/stand/master/sales.csv"
step sync "$PFS_MNT/stand/master"
for d in 2 3 4; do
  step sh -c "cat $days/day$d.csv >> $PFS_MNT/stand/master/sales.csv"   # appending makes the next commit
  step sync "$PFS_MNT/stand/master"
done
step ls -l "$PFS_MNT/stand/.commits"
cp "$days"/day*.csv "$results/"

step env PFS_MNT="$PFS_MNT" REPO=stand "$venv/bin/jupyter" nbconvert --to notebook --execute explore.ipynb \
  --ExecutePreprocessor.timeout=120 --output-dir "$results" --output explore.ipynb
# The notebook's closing line, from its outputs.
jq -r '.cells[].outputs[]?.text? // empty | if type == "array" then join("") else . end' "$results/explore.ipynb" | grep '^SUMMARY '

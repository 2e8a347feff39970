#!/usr/bin/env bash
# Word count with nothing but the shell: no `pfs` command at all. A repo is a directory made with mkdir, data
# goes in with cp, the pipeline is a spec copied into $PFS_MNT/.pfs/pipelines/, and jobs are read from
# $PFS_MNT/.pfs/jobs/<id>/info.json. Results and each job's info.json are copied to $EX_DIR/results/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"
example_start          # the daemon and its mount only; everything below is plain file operations
results="$EX_DIR/results"; mkdir -p "$results"
cd "$here"
step() { echo; echo "\$ $*"; "$@"; }

# The newest commit of a repo (.commits/ lists one directory per commit; ls -t puts the newest first).
newest_commit() { ls -t "$PFS_MNT/$1/.commits" | head -n 1; }

# Waits until the job of commit set $1 is done: its info.json says success or failure.
wait_job() {
  local info="$PFS_MNT/.pfs/jobs/$1/info.json"
  for _ in $(seq 1 600); do
    if [ -f "$info" ] && grep -Eq '"state" *: *"(success|failure)"' "$info"; then
      cat "$info"; return 0
    fi
    sleep 0.1
  done
  echo "job $1 did not finish in 60 s" >&2; return 1
}

step mkdir "$PFS_MNT/books"                        # a repo, with an empty master branch
step cp books/*.txt "$PFS_MNT/books/master/"       # one commit, once cp has closed its files
step sync "$PFS_MNT/books/master"                  # finish it now instead of after the settle window
step ls "$PFS_MNT/books/master"
step cp wordcount.json "$PFS_MNT/.pfs/pipelines/"  # creates the pipeline; its first job runs on what is there
step cat "$PFS_MNT/.pfs/pipelines/wordcount/state"
first="$(newest_commit books)"                     # the job's id is the commit set's id
echo; echo "\$ cat $PFS_MNT/.pfs/jobs/$first/info.json"
wait_job "$first" | tee "$results/first.json"
step cat "$PFS_MNT/wordcount/master/totals"
step head -n 5 "$PFS_MNT/wordcount/master/gettysburg.counts"

# A new book: only it is processed, the three others are skipped.
step cp more/new-colossus.txt "$PFS_MNT/books/master/"
step sync "$PFS_MNT/books/master"
second="$(newest_commit books)"
echo; echo "\$ cat $PFS_MNT/.pfs/jobs/$second/info.json"
wait_job "$second" | tee "$results/second.json"
step cat "$PFS_MNT/wordcount/master/totals"
step cat "$PFS_MNT/.pfs/jobs/$second/logs"
step ls "$PFS_MNT/.pfs/jobs/"

echo "$first" >"$results/first.id"; echo "$second" >"$results/second.id"
cp -r "$PFS_MNT/wordcount/master" "$results/output"
cp -r "$PFS_MNT/wordcount/$first" "$results/output-first"

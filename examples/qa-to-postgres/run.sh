#!/usr/bin/env bash
# Questions and contexts (CSV) → extractive answers (all-MiniLM-L6-v2) → PostgreSQL. Sets everything up from
# nothing: the Python environment (cached), a private PostgreSQL server, a pfs daemon and mount, the secret,
# the two pipelines; copies the CSVs in and prints the answers table. KEEP=1 leaves it all running.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/setup.sh"
qa_venv
example_start
trap qa_cleanup EXIT
qa_postgres_start
qa_secret_and_pipelines
cp "$QA_DIR"/data/*.csv "$PFS_MNT/questions/master/"
sync "$PFS_MNT/questions/master"
pfs wait commit questions@master --timeout 180 >/dev/null
example_wait_jobs 180
pfs list job
qa_sql "SELECT source, id, question, answer, score FROM answers ORDER BY source, id" | column -t -s '|'

#!/bin/sh
# Pipeline 2 (load): one datum per answers file. The file's rows replace that source's rows in one transaction,
# so a new file adds only its rows and an edited one replaces them. Connection settings come from the pfs
# secret "postgres" as PGHOST (the server's socket directory), PGUSER, PGPASSWORD and PGDATABASE.
set -eu
psql="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql"
for f in /pfs/answer/*.csv; do
  source="$(basename "$f" .csv)"
  rows=$(($(wc -l < "$f") - 1))
  "$psql" -X -q -v ON_ERROR_STOP=1 -v src="$source" <<SQL
BEGIN;
DELETE FROM answers WHERE source = :'src';
\copy answers (source, id, question, answer, score) FROM '$f' WITH (FORMAT csv, HEADER true)
COMMIT;
SQL
  echo "loaded $rows row(s) of $source"
  echo "$rows" > "/pfs/out/$source.rows"
done

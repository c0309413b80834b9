# Shared shell helpers for a throwaway PostgreSQL server (sourced by .ci/run, examples/make-sample-dump.sh and
# bench/issue11/subset-compare.sh). The C# integration tests have their own fixture (PostgresServer.cs) doing the same.
#
#   source .ci/lib/pg.sh
#   pg_start            # initdb + start on 127.0.0.1:<free port>; exports PGHOST PGPORT PGUSER PG_BIN PG_ROOT
#   psql -X -d postgres -c 'SELECT 1'
#   pg_stop             # stop the server and delete its directory
#
# PG_EXTRA_CONF (optional, set before pg_start): extra postgresql.conf lines, e.g. for bulk loading.
# REPLICA_PG_TMP (optional): parent directory of the server directory (default /tmp).
# PostgreSQL refuses to run as root, so as root the server programs run as the 'postgres' OS user (runuser).

# Prints the directory holding initdb/pg_ctl/postgres/psql/pg_dump, or fails.
pg_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n "$dir" && -x "$dir/initdb" ]]; then
            echo "$dir"
            return 0
        fi
    fi
    # Debian layout: /usr/lib/postgresql/<major>/bin; take the newest major.
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -n 1)
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
        return 0
    fi
    echo "pg.sh: PostgreSQL server binaries not found; install them: apt-get install postgresql-15" >&2
    return 1
}

# Runs a server program (initdb, pg_ctl) as the postgres OS user when we are root.
pg_as_server_user() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    PG_BIN=$(pg_bindir) || return 1
    local parent="${REPLICA_PG_TMP:-/tmp}"
    mkdir -p "$parent"
    PG_ROOT=$(mktemp -d "$parent/replica-pg-XXXXXXXX")
    mkdir -p "$PG_ROOT/sock"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R postgres: "$PG_ROOT"
    fi
    # --no-sync and fsync=off: throwaway data, speed matters more than durability.
    pg_as_server_user "$PG_BIN/initdb" --pgdata="$PG_ROOT/data" --username=postgres --auth=trust \
        --encoding=UTF8 --locale=C --no-sync >"$PG_ROOT/initdb.log" 2>&1 \
        || { cat "$PG_ROOT/initdb.log" >&2; return 1; }

    local attempt port
    for attempt in 1 2 3 4 5; do
        # A random high port that nothing answers on; if postgres still cannot bind it, the loop tries another.
        port=$((20000 + RANDOM % 40000))
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            continue
        fi
        # Later lines in postgresql.conf win, so a retry just appends a new port.
        cat >>"$PG_ROOT/data/postgresql.conf" <<CONF
# Added by .ci/lib/pg.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_ROOT/sock'
fsync = off
full_page_writes = off
synchronous_commit = off
timezone = 'UTC'
log_timezone = 'UTC'
${PG_EXTRA_CONF:-}
CONF
        if pg_as_server_user "$PG_BIN/pg_ctl" start --pgdata="$PG_ROOT/data" --log="$PG_ROOT/server.log" \
            --wait --timeout=60 >/dev/null; then
            export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PG_BIN PG_ROOT
            unset PGDATABASE PGPASSWORD PGOPTIONS PGSERVICE
            return 0
        fi
        if ! grep -qE 'could not bind|already in use' "$PG_ROOT/server.log" 2>/dev/null; then
            break
        fi
    done
    echo "pg.sh: PostgreSQL did not start; server log ($PG_ROOT/server.log):" >&2
    tail -n 30 "$PG_ROOT/server.log" >&2 || true
    return 1
}

pg_stop() {
    if [[ -n "${PG_ROOT:-}" && -d "$PG_ROOT" ]]; then
        if [[ -f "$PG_ROOT/data/postmaster.pid" ]]; then
            pg_as_server_user "$PG_BIN/pg_ctl" stop --pgdata="$PG_ROOT/data" --mode=fast --wait --timeout=60 >/dev/null \
                || pg_as_server_user "$PG_BIN/pg_ctl" stop --pgdata="$PG_ROOT/data" --mode=immediate --wait >/dev/null \
                || true
        fi
        rm -rf "$PG_ROOT"
    fi
    PG_ROOT=
}

#!/usr/bin/env bash
# Issue 10 §3/§4/§6: a live PostgreSQL database dumped and restored by replica with --jobs 1 and 2, side by side with
# what a DBA runs (pg_dump plain, pg_dump -Fd -j 2; psql -f, pg_restore -j 2), interleaved on a throwaway PostgreSQL
# server this script starts, fills (bench/scripts/fill-bench-db.sh) and stops.
#
#   bench/issue10/live-compare.sh [--db-mb N] [--rounds N] [--replica BINARY] [--baseline BINARY] [--restore-only]
#                                 [--label L] [--results DIR]
#     --db-mb N         size of the source database in MiB, indexes included (default 1024)
#     --rounds N        rounds (default 3); every round runs every case once, the first case rotating round to round
#     --replica BINARY  the replica executable to time (default: src/Replica.Cli built here in Release)
#     --baseline BINARY another replica (e.g. built from main) whose restore --jobs 2 runs as case replica-restore-j2-base,
#                       reading the same bridge: before and after a change in one interleaved run
#     --restore-only    only the restore cases
#     --label L         appended to the result files' names
#     --results DIR     where the CSV and Markdown go (default bench/results; a smoke run should point elsewhere)
#
# Dump cases (source: database 'bench'; replica masks customers' 4 PII columns, zstd 1, AES-256-GCM key_file, as
# bench/replica-bench-live.yaml; OUT is a fresh directory per run):
#   pg_dump           pg_dump --format=plain bench > /dev/null
#   pg_dump-Fd-j2     pg_dump --format=directory --jobs=2 --file=OUT/dir bench   (its default gzip compression)
#   replica-dump-j1   replica dump -c CFG --jobs 1   (today's single pg_dump stream)
#   replica-dump-j2   replica dump -c CFG --jobs 2   (the snapshot source: tables on 2 connections)
# Restore cases (into a database 'bench_restore' that does not exist before; row counts checked after every restore):
#   psql-f            psql -X -v ON_ERROR_STOP=1 --single-transaction -f plain.sql   (pg_dump --format=plain of bench)
#   pg_restore-j2     pg_restore --jobs=2 --dbname=bench_restore custom.dump        (pg_dump --format=custom of bench)
#   replica-restore-j1  replica restore -c CFG --latest --jobs 1
#   replica-restore-j2  replica restore -c CFG --latest --jobs 2
# The replica restores read one bridge made before the rounds (replica dump --jobs 2, or today's dump when --jobs is
# not there); the destination comes from the config (destination.connection_uri), as `replica restore` takes it today.
# A replica binary whose `dump --help` / `restore --help` has no --jobs runs the j1 cases without the flag (the same
# single stream) and skips the j2 cases, saying so.
#
# Timed with /usr/bin/time: wall, CPU s = user + sys of the command and its children (pg_dump's and pg_restore's
# workers, the pg_dump or psql replica runs), peak RSS of the largest process. The server's CPU during a case
# (postmaster and its children, from /proc) is the CSV's note column. Printed per case: client and server CPU s per GB
# (10^9 bytes of pg_dump's plain output): what a machine with more cores can spread over them.
# Server: as bench/run-issue4.sh (not durable: fsync=off, full_page_writes=off, synchronous_commit=off; autovacuum=off).
# Writes DIR/issue10-live-<UTC date>[-L].{csv,md}. Needs: dotnet (unless --replica), PostgreSQL 15 server and client,
# /usr/bin/time, runuser as root, and about 5x the database size free in /tmp.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
. bench/scripts/bench-lib.sh
. .ci/lib/pg.sh

db_mb=1024
rounds=3
replica=""
baseline=""
restore_only=0
label=""
results=bench/results
while (($# > 0)); do
    case "$1" in
        --db-mb) db_mb=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --replica) replica=$(realpath "$2"); shift 2 ;;
        --baseline) baseline=$(realpath "$2"); shift 2 ;;
        --restore-only) restore_only=1; shift ;;
        --label) label=-$2; shift 2 ;;
        --results) results=$2; shift 2 ;;
        -h|--help) sed -n '2,42p' "$0"; exit 0 ;;
        *) echo "live-compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for value in "$rounds" "$db_mb"; do
    if ! [[ "$value" =~ ^[1-9][0-9]*$ ]]; then
        echo "live-compare.sh: --rounds and --db-mb need positive whole numbers, got '$value'" >&2
        exit 2
    fi
done
bench_require /usr/bin/time
if [[ -z "$replica" ]]; then
    bench_require dotnet
    bench_build_cli
    build="replica built from this tree"
else
    build="replica: $replica ($("$replica" --version 2>/dev/null | head -n 1 || echo 'no --version'))"
fi
[[ -x "$replica" ]] || { echo "live-compare.sh: $replica is not an executable" >&2; exit 2; }
if [[ -n "$baseline" ]]; then
    [[ -x "$baseline" ]] || { echo "live-compare.sh: $baseline is not an executable" >&2; exit 2; }
    build="$build; baseline (case replica-restore-j2-base): $baseline"
fi

# Does this build have --jobs? (Being built on other branches; without it the j2 cases are skipped.)
dump_jobs=0 restore_jobs=0
if "$replica" dump --help 2>&1 | grep -q -- '--jobs'; then dump_jobs=1; fi
if "$replica" restore --help 2>&1 | grep -q -- '--jobs'; then restore_jobs=1; fi
skipped=()
((dump_jobs)) || skipped+=("replica dump has no --jobs: replica-dump-j1 runs without it (the same single stream), replica-dump-j2 is skipped")
((restore_jobs)) || skipped+=("replica restore has no --jobs: replica-restore-j1 runs without it, replica-restore-j2 is skipped")
for line in "${skipped[@]}"; do echo "live-compare.sh: $line" >&2; done

tmp_parent=${TMPDIR:-/tmp}
bench_check_space "$tmp_parent" $((db_mb * 1048576 * 5))
work=$(mktemp -d "$tmp_parent/replica-live10.XXXXXX")
cleanup() {
    pg_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_seconds=$SECONDS
phase() { echo "[$((SECONDS - start_seconds)) s] $*"; }

bench_live_server "$db_mb"
db_bytes=$(sql -d bench -c "SELECT pg_database_size('bench')")

uri="postgres://$PGUSER@127.0.0.1:$PGPORT"
export REPLICA_BENCH_SOURCE_URI="$uri/bench" REPLICA_BENCH_DEST_URI="$uri/bench_restore"
export REPLICA_BENCH_KEY_FILE="$work/bench.key"
(umask 077 && head -c 32 /dev/urandom | base64 >"$REPLICA_BENCH_KEY_FILE")
config=bench/replica-bench-live.yaml
# What the restore cases read, made once: the plain and custom-format dumps, and the replica bridge.
"$PG_BIN/pg_dump" --format=plain --dbname=bench --file="$work/plain.sql"
"$PG_BIN/pg_dump" --format=custom --dbname=bench --file="$work/custom.dump"
plain_bytes=$(stat -c %s "$work/plain.sql")
gb=$(awk -v b="$plain_bytes" 'BEGIN { print b / 1e9 }')
restore_bridge_jobs=()
((dump_jobs)) && restore_bridge_jobs=(--jobs 2)
REPLICA_BENCH_BRIDGE="$work/restore-bridge" "$replica" dump -c "$config" "${restore_bridge_jobs[@]}" --quiet >/dev/null
bridge_bytes=$(du -sb "$work/restore-bridge" | cut -f1)
phase "database bench: $db_bytes bytes; pg_dump plain $plain_bytes bytes, custom $(stat -c %s "$work/custom.dump") bytes; replica bridge $bridge_bytes bytes"
counts_sql="SELECT (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM orders) || ' ' || (SELECT count(*) FROM events)"
source_counts=$(sql -d bench -c "$counts_sql")

mkdir -p "$results"
date_utc=$(date -u +%Y-%m-%d)
csv="$results/issue10-live-$date_utc$label.csv"
md="$results/issue10-live-$date_utc$label.md"
echo "round,case,input,input_bytes,wall_s,cpu_s,peak_rss_kib,output_bytes,note" >"$csv"
log="$work/runs.txt"
hz=$(getconf CLK_TCK)

# live_case NAME KIND COMMAND... : KIND dump (output: OUT's bytes) or restore (bench_restore dropped before, row
# counts checked and dropped after; output: its size). The note column is the server's CPU seconds during the case.
live_case() {
    local name=$1 kind=$2
    shift 2
    rm -rf "$work/out"
    mkdir "$work/out"
    sql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS bench_restore"
    if [[ "$name" == psql-f || "$name" == pg_restore-j2 ]]; then
        # psql and pg_restore need the database; replica creates it (and with --jobs 2 needs it absent).
        sql -d postgres -c "CREATE DATABASE bench_restore TEMPLATE template0 ENCODING 'UTF8'"
    fi
    sync
    sql -d postgres -c CHECKPOINT
    local before after
    before=$(bench_server_ticks "$postmaster_pid")
    if ! REPLICA_BENCH_BRIDGE="$work/out/bridge" /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt"; then
        echo "live-compare.sh: case $name failed (round $round): $*" >&2
        tail -n 20 "$work/stderr.txt" "$work/time.txt" >&2 || true
        exit 1
    fi
    sleep 0.2 # let the postmaster reap the backends, so that their CPU is counted
    after=$(bench_server_ticks "$postmaster_pid")
    local wall user sys rss cpu out_bytes
    read -r wall user sys rss <"$work/time.txt"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    if [[ "$kind" == dump ]]; then
        out_bytes=$(du -sb "$work/out" | cut -f1)
    else
        out_bytes=$(sql -d postgres -c "SELECT pg_database_size('bench_restore')")
        local counts
        counts=$(sql -d bench_restore -c "$counts_sql")
        if [[ "$counts" != "$source_counts" ]]; then
            echo "live-compare.sh: case $name restored rows (customers orders events) $counts, the source has $source_counts" >&2
            exit 1
        fi
        sql -d postgres -c "DROP DATABASE bench_restore"
    fi
    local server_cpu
    server_cpu=$(awk -v t=$((after - before)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
    echo "$round,$name,db:bench,$plain_bytes,$wall,$cpu,$rss,$out_bytes,$server_cpu" >>"$csv"
    printf '   %-20s %7s s wall %7s s CPU %8s KiB peak RSS %7s s server CPU\n' "$name" "$wall" "$cpu" "$rss" "$server_cpu"
    rm -rf "$work/out"
}

jobs_flag() { if (($1)); then echo "--jobs $2"; fi; }
run_case() {
    case "$1" in
        pg_dump) live_case pg_dump dump "$PG_BIN/pg_dump" --format=plain --dbname=bench ;;
        pg_dump-Fd-j2) live_case pg_dump-Fd-j2 dump "$PG_BIN/pg_dump" --format=directory --jobs=2 --file="$work/out/dir" --dbname=bench ;;
        # shellcheck disable=SC2046
        replica-dump-j1) live_case replica-dump-j1 dump "$replica" dump -c "$config" $(jobs_flag "$dump_jobs" 1) --quiet ;;
        replica-dump-j2) live_case replica-dump-j2 dump "$replica" dump -c "$config" --jobs 2 --quiet ;;
        psql-f) live_case psql-f restore "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 --single-transaction --dbname=bench_restore -f "$work/plain.sql" ;;
        pg_restore-j2) live_case pg_restore-j2 restore "$PG_BIN/pg_restore" --jobs=2 --dbname=bench_restore "$work/custom.dump" ;;
        # The replica restores read the bridge made before the rounds, not the per-case one.
        # shellcheck disable=SC2046
        replica-restore-j1) live_case replica-restore-j1 restore env REPLICA_BENCH_BRIDGE="$work/restore-bridge" \
            "$replica" restore -c "$config" --latest $(jobs_flag "$restore_jobs" 1) --quiet ;;
        replica-restore-j2) live_case replica-restore-j2 restore env REPLICA_BENCH_BRIDGE="$work/restore-bridge" \
            "$replica" restore -c "$config" --latest --jobs 2 --quiet ;;
        replica-restore-j2-base) live_case replica-restore-j2-base restore env REPLICA_BENCH_BRIDGE="$work/restore-bridge" \
            "$baseline" restore -c "$config" --latest --jobs 2 --quiet ;;
    esac
}
cases=()
if ((!restore_only)); then
    cases+=(pg_dump pg_dump-Fd-j2 replica-dump-j1)
    ((dump_jobs)) && cases+=(replica-dump-j2)
fi
cases+=(psql-f pg_restore-j2 replica-restore-j1)
((restore_jobs)) && cases+=(replica-restore-j2)
[[ -n "$baseline" ]] && cases+=(replica-restore-j2-base)

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= rounds; round++)); do
    phase "round $round of $rounds" | tee -a "$log"
    for ((i = 0; i < ${#cases[@]}; i++)); do
        run_case "${cases[$(((i + round - 1) % ${#cases[@]}))]}" | tee -a "$log"
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

med() { bench_median "$csv" "$1" "$2"; }
ratio() { # A B: median wall of A / median wall of B, or why not
    if grep -q ",$1," "$csv" && grep -q ",$2," "$csv"; then bench_div "$(med "$1" 5)" "$(med "$2" 5)"; else echo "n/a ($1 not run)"; fi
}
verdict() { if [[ "$2" =~ ^[0-9.]+$ ]] && bench_ge "$1" "$2"; then echo met; elif [[ "$2" =~ ^[0-9.]+$ ]]; then echo "NOT met"; else echo "not measured"; fi; }
per_gb=$(
    echo "| case | median wall s | client CPU s per GB | server CPU s per GB | client + server CPU s per GB |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    for name in "${cases[@]}"; do
        client=$(bench_div "$(med "$name" 6)" "$gb")
        server=$(bench_div "$(med "$name" 9)" "$gb")
        echo "| $name | $(med "$name" 5) | $client | $server | $(awk -v a="$client" -v b="$server" 'BEGIN { printf "%.2f", a + b }') |"
    done
)
r_restore_psql=$(ratio replica-restore-j2 psql-f)
r_restore_pg=$(ratio replica-restore-j2 pg_restore-j2)
goals=$(
    if ((!restore_only)); then
        echo "- replica-dump-j2 / pg_dump wall: $(ratio replica-dump-j2 pg_dump); replica-dump-j2 / pg_dump-Fd-j2: $(ratio replica-dump-j2 pg_dump-Fd-j2);" \
             "replica-dump-j1 / pg_dump: $(ratio replica-dump-j1 pg_dump)"
    fi
    echo "- replica-restore-j2 / psql-f wall: **$r_restore_psql** (goal <= 0.7: $(verdict 0.7 "$r_restore_psql"))"
    echo "- replica-restore-j2 / pg_restore-j2 wall: **$r_restore_pg** (goal <= 1.0: $(verdict 1.0 "$r_restore_pg"));" \
         "replica-restore-j1 / psql-f: $(ratio replica-restore-j1 psql-f)"
    if [[ -n "$baseline" ]]; then
        echo "- replica-restore-j2 / replica-restore-j2-base (the baseline, $baseline) wall: $(ratio replica-restore-j2 replica-restore-j2-base)"
    fi
)

{
    echo "# Issue 10: live dump and restore, replica --jobs 1/2 vs pg_dump, pg_dump -Fd -j 2, psql -f, pg_restore -j 2, $date_utc"
    echo
    echo "Machine: $(bench_machine), $pg_version. $build."
    echo
    echo "Source database 'bench' (bench/scripts/fill-bench-db.sh --db-mb $db_mb): $db_bytes bytes with indexes;" \
         "pg_dump --format=plain writes $plain_bytes bytes (GB below = 10^9 of those bytes). Replica's bridge for the restores:" \
         "$bridge_bytes bytes (${restore_bridge_jobs[*]:-single stream}). $rounds rounds, the first case rotating each round;" \
         "median per case. Load average (1/5/15 min) before: $load_before, after: $load_after."
    for line in "${skipped[@]}"; do echo; echo "**Skipped**: $line."; done
    echo
    echo "Server: throwaway, not durable (fsync=off, full_page_writes=off, synchronous_commit=off), shared_buffers=256MB," \
         "maintenance_work_mem=256MB, max_wal_size=4GB, autovacuum=off; sync and CHECKPOINT before every case."
    echo
    bench_table "$csv"
    echo
    echo "$per_gb"
    echo
    echo "$goals"
    echo
    echo "Client CPU = the command's process tree (/usr/bin/time); server CPU = the postmaster and its children during the" \
         "case. On a machine with more cores, a case's wall time per GB cannot fall below its busiest single stream, nor" \
         "below (client + server CPU s per GB) / cores."
    echo
    echo "Commands: see the header of bench/issue10/live-compare.sh. Per run:"
    echo
    echo '```'
    cat "$log"
    echo '```'
    echo
    echo "Raw runs: $(basename "$csv") (note = server CPU s)."
} >"$md"

phase "done"
echo
cat "$md"

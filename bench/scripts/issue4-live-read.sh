#!/usr/bin/env bash
# Why does `replica dump` cost more CPU reading from pg_dump than reading the same SQL from a file? Runs replica's
# pass-through config (no rules, no compression, no encryption) on the same bytes, fed four ways, on a throwaway
# PostgreSQL server filled by fill-bench-db.sh (bench/run-issue4.sh measured the gap; this narrows it down).
#
#   bench/scripts/issue4-live-read.sh [--db-mb N] [--runs N]   (default 512 MiB, 2 rounds; needs a Release build)
#
# Variants (every round, in this order):
#   file        replica dump --input FILE            (FILE written once by pg_dump; page cache warm)
#   live        replica dump (source.connection_uri: replica runs pg_dump, reads its stdout pipe)
#   stdin       pg_dump | replica dump --input -     (a shell pipe instead of replica's own)
#   live-nospin replica dump, DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 (idle thread-pool workers do not spin)
#   stdin-1m    pg_dump | dd bs=1M iflag=fullblock | replica dump --input -   (what bigger, fewer reads would give)
# Per variant: wall, CPU (user / sys of the timed tree: pg_dump's included for live, stdin and live-nospin), voluntary and involuntary context switches of the whole tree, and replica's read
# syscalls with the average bytes per read (from /proc/PID/io, sampled every 0.1 s until it exits).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
. bench/scripts/bench-lib.sh
. .ci/lib/pg.sh
db_mb=512
runs=2
while (($# > 0)); do
    case "$1" in
        --db-mb) db_mb=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "issue4-live-read.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
replica="$PWD/src/Replica.Cli/bin/Release/net10.0/replica"
[[ -x "$replica" ]] || { echo "issue4-live-read.sh: build first: dotnet build -c Release src/Replica.Cli" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/replica-live-read.XXXXXX")
cleanup() { pg_stop; rm -rf "$work"; }
trap cleanup EXIT
PG_EXTRA_CONF="shared_buffers = 256MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
autovacuum = off"
pg_start
export REPLICA_PG_BINDIR=$PG_BIN
"$PG_BIN/createdb" --template=template0 --encoding=UTF8 bench
PG_BIN=$PG_BIN bench/scripts/fill-bench-db.sh --db-mb "$db_mb" --dbname bench
export REPLICA_BENCH_SOURCE_URI="postgres://$PGUSER@127.0.0.1:$PGPORT/bench"
"$PG_BIN/pg_dump" --format=plain --dbname=bench --file="$work/bench.sql"
echo "pg_dump output: $(stat -c %s "$work/bench.sql") bytes"
config=bench/replica-bench-live-passthrough.yaml

# run VARIANT COMMAND... : COMMAND runs under /usr/bin/time in the background; its replica's /proc/PID/io is polled.
run() {
    local variant=$1
    shift
    rm -rf "$work/out"
    sync
    REPLICA_BENCH_BRIDGE="$work/out/bridge" /usr/bin/time -f '%e %U %S %M %w %c' -o "$work/time.txt" "$@" >/dev/null &
    local timer=$! pid="" io="" syscr=0 rchar=0
    while kill -0 "$timer" 2>/dev/null; do
        [[ -z "$pid" ]] && pid=$(pgrep -n -x replica || true)
        if [[ -n "$pid" ]] && io=$(cat "/proc/$pid/io" 2>/dev/null); then
            syscr=$(awk '$1 == "syscr:" { print $2 }' <<<"$io")
            rchar=$(awk '$1 == "rchar:" { print $2 }' <<<"$io")
        fi
        sleep 0.1
    done
    wait "$timer"
    local wall user sys rss vol invol
    read -r wall user sys rss vol invol <"$work/time.txt"
    printf '%-12s %6s s wall %6s s user %5s s sys %7s KiB  ctx %7s vol %6s invol  replica reads %7s, %6s bytes/read\n' \
        "$variant" "$wall" "$user" "$sys" "$rss" "$vol" "$invol" "$syscr" "$((syscr > 0 ? rchar / syscr : 0))"
}
for ((round = 1; round <= runs; round++)); do
    echo "== round $round of $runs (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    run file "$replica" dump -c "$config" --input "$work/bench.sql" --quiet
    run live "$replica" dump -c "$config" --quiet
    run stdin bash -c 'set -o pipefail; "$1" --format=plain --dbname=bench | "$2" dump -c "$3" --input - --quiet' _ "$PG_BIN/pg_dump" "$replica" "$config"
    run stdin-1m bash -c 'set -o pipefail; "$1" --format=plain --dbname=bench | dd bs=1M iflag=fullblock status=none | "$2" dump -c "$3" --input - --quiet' _ "$PG_BIN/pg_dump" "$replica" "$config"
    run live-nospin env DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 "$replica" dump -c "$config" --quiet
done

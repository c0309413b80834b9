#!/usr/bin/env bash
# Issue 4 benchmark: `replica dump` from a live PostgreSQL database and `replica restore` into one, side by side with
# pg_dump and psql, in the same run, on a throwaway PostgreSQL 15 server this script starts and stops.
#
#   bench/run-issue4.sh [--db-mb N] [--quick] [--runs N] [--label L] [--no-profile] [--no-build]
#     --db-mb N     size of the source database in MiB, indexes included (default $BENCH_DB_MB, else 1024)
#     --quick       a 100 MiB database and label "quick" (to try the script out; ~3 min)
#     --runs N      rounds; each round runs every case once, interleaved (default 3)
#     --label L     name the results issue4-<UTC date>-L.{md,csv}
#     --no-profile  skip the profile round (each main case once more, with /proc sampled: who uses the CPU)
#     --no-build    use the existing Release build of src/Replica.Cli
#
# Cases (every round, in this order; DB is the source database 'bench', SQL the masked dump restored to a file once):
#   pg_dump                pg_dump --format=plain DB > /dev/null
#   pg_dump-cat            pg_dump --format=plain DB | cat > /dev/null   (the cost of a pipe alone)
#   replica-mask-zstd-aes  replica dump -c bench/replica-bench-live.yaml: pg_dump spawned by replica, 4 customers
#                          columns masked, zstd 1, AES-256-GCM with a raw key_file, default 8 MiB chunks, fresh local bridge
#   replica-passthrough    replica dump -c bench/replica-bench-live-passthrough.yaml: no rules, no compression, no
#                          encryption, fresh local bridge (does the rewriter keep up with pg_dump?)
#   psql-restore           psql -X -v ON_ERROR_STOP=1 --single-transaction -f SQL > /dev/null, into a new empty database
#   replica-restore        replica restore -c bench/replica-bench-live.yaml --latest into a new empty database, from
#                          the bridge that SQL came from (both restore the same SQL; replica also decrypts, unzstds and
#                          checks every chunk's SHA-256, and feeds psql through a pipe)
# Before every case: sync and CHECKPOINT (not timed). The restore database is created empty before and dropped after
# each restore case (not timed); its row counts are checked against the source every time.
# Timed with /usr/bin/time -f '%e %U %S %M'. CPU s is user + sys of the command and its children (replica's includes
# the pg_dump or psql it runs; no case includes the server's). Peak RSS is that of the largest process of the tree:
# for the replica cases it is replica's own unless pg_dump/psql was bigger (their peaks are in the pg_dump and
# psql-restore rows). The note column holds the server's CPU seconds during the case (postmaster and its children).
#
# Server: PostgreSQL from /usr/lib/postgresql/*/bin (.ci/lib/pg.sh), run as the postgres OS user, 127.0.0.1, free
# port, trust auth, data directory in a temp dir under /tmp (REPLICA_PG_TMP to move it). Not durable, for speed:
# fsync=off, full_page_writes=off, synchronous_commit=off; also shared_buffers=256MB, maintenance_work_mem=256MB,
# max_wal_size=4GB, checkpoint_timeout=30min, autovacuum=off (no background work between cases).
#
# Writes bench/results/issue4-<UTC date>[-L].csv and .md (machine, commands, tables, goals, profile) and prints them.
# Needs: dotnet, PostgreSQL 15 server and client (apt-get install postgresql-15), /usr/bin/time, and about 3.5x the
# database size free in /tmp (source, restore, the SQL file and bridges).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. bench/scripts/bench-lib.sh
. .ci/lib/pg.sh

db_mb=${BENCH_DB_MB:-1024}
runs=3
label=""
profile=1
build=1
args="$*"
while (($# > 0)); do
    case "$1" in
        --db-mb) db_mb=$2; shift 2 ;;
        --quick) db_mb=100; label=${label:--quick}; shift ;;
        --runs) runs=$2; shift 2 ;;
        --label) label=-$2; shift 2 ;;
        --no-profile) profile=0; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
        *) echo "run-issue4.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "run-issue4.sh: --runs needs a positive whole number, got '$runs'" >&2
    exit 2
fi
if ! [[ "$db_mb" =~ ^[1-9][0-9]*$ ]]; then
    echo "run-issue4.sh: --db-mb needs a positive whole number of MiB, got '$db_mb'" >&2
    exit 2
fi
bench_require dotnet /usr/bin/time runuser
if ((build)); then
    bench_build_cli
else
    replica="$PWD/src/Replica.Cli/bin/Release/net10.0/replica"
    [[ -x "$replica" ]] || { echo "run-issue4.sh: $replica is missing; run without --no-build" >&2; exit 2; }
fi

tmp_parent=${TMPDIR:-/tmp}
bench_check_space "$tmp_parent" $((db_mb * 1048576 * 7 / 2))
work=$(mktemp -d "$tmp_parent/replica-issue4.XXXXXX")
sampler_pid=""
cleanup() {
    if [[ -n "$sampler_pid" ]]; then kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; fi
    pg_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_seconds=$SECONDS
phase() { echo "[$((SECONDS - start_seconds)) s] $*"; }

# --- the server and the source database ---
bench_live_server "$db_mb"
db_bytes=$(sql -d bench -c "SELECT pg_database_size('bench')")
table_sizes=$(sql -d bench -F' ' -c "
    SELECT c.relname || ' ' || c.reltuples::bigint || ' rows, ' || pg_size_pretty(pg_total_relation_size(c.oid))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname" | paste -sd ';' | sed 's/;/; /g')
phase "database bench: $db_bytes bytes ($table_sizes)"

# --- what the cases share ---
uri="postgres://$PGUSER@127.0.0.1:$PGPORT"
export REPLICA_BENCH_SOURCE_URI="$uri/bench" REPLICA_BENCH_DEST_URI="$uri/bench_restore"
export REPLICA_BENCH_KEY_FILE="$work/bench.key"
(umask 077 && head -c 32 /dev/urandom | base64 >"$REPLICA_BENCH_KEY_FILE")
plain_bytes=$("$PG_BIN/pg_dump" --format=plain bench | wc -c)
# The bridge that replica-restore reads, and the same SQL as a file for psql-restore.
REPLICA_BENCH_BRIDGE="$work/restore-bridge" "$replica" dump -c bench/replica-bench-live.yaml --quiet >/dev/null
REPLICA_BENCH_BRIDGE="$work/restore-bridge" "$replica" restore -c bench/replica-bench-live.yaml --latest --quiet -o "$work/masked.sql"
sql_file="$work/masked.sql"
sql_bytes=$(stat -c %s "$sql_file")
bridge_bytes=$(du -sb "$work/restore-bridge" | cut -f1)
phase "pg_dump writes $plain_bytes bytes; the masked dump is $sql_bytes bytes of SQL, $bridge_bytes bytes in the bridge"
# Fixed costs, not per byte: replica's start (.NET, config, pg_dump --version, the server's version) against pg_dump's,
# on an empty database, 3 times each; the medians go in the summary.
"$PG_BIN/createdb" --template=template0 --encoding=UTF8 empty
# One empty table for the config's rule: replica refuses a rule that matches nothing (the data would go unmasked).
sql -d empty -c "CREATE TABLE public.customers (id bigint, first_name text, last_name text, email text, phone text)"
startup() {
    local i
    for i in 1 2 3; do
        rm -rf "$work/out"
        REPLICA_BENCH_SOURCE_URI="$uri/empty" REPLICA_BENCH_BRIDGE="$work/out/bridge" \
            /usr/bin/time -f '%e %U %S' -a -o "$work/startup-$1.txt" "${@:2}" >/dev/null
    done
    rm -rf "$work/out"
    sort -n "$work/startup-$1.txt" | awk 'NR == 2 { printf "%.2f s wall, %.2f s CPU", $1, $2 + $3 }'
}
startup_pg_dump=$(startup pg_dump "$PG_BIN/pg_dump" --format=plain --dbname=empty)
startup_replica=$(startup replica "$replica" dump -c bench/replica-bench-live.yaml --quiet)
phase "empty database: pg_dump $startup_pg_dump, replica-mask-zstd-aes $startup_replica"
counts_sql="SELECT (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM orders) || ' ' || (SELECT count(*) FROM events)"
source_counts=$(sql -d bench -c "$counts_sql")

date_utc=$(date -u +%Y-%m-%d)
mkdir -p bench/results
csv="bench/results/issue4-$date_utc$label.csv"
md="bench/results/issue4-$date_utc$label.md"
echo "round,case,input,input_bytes,wall_s,cpu_s,peak_rss_kib,output_bytes,note" >"$csv"
log="$work/runs.txt"

hz=$(getconf CLK_TCK)
server_ticks() { bench_server_ticks "$postmaster_pid"; }
fresh_restore_db() {
    sql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS bench_restore" -c "CREATE DATABASE bench_restore TEMPLATE template0 ENCODING 'UTF8'"
}
# live_case NAME KIND COMMAND... : KIND is dump (input: the source database, output: the bridge's bytes) or restore
# (input: the SQL, output: the restored database's size; checks its row counts). Appends a CSV line.
live_case() {
    local name=$1 kind=$2
    shift 2
    rm -rf "$work/out"
    mkdir "$work/out"
    [[ "$kind" == restore ]] && fresh_restore_db
    sync
    sql -d postgres -c CHECKPOINT
    local before after
    before=$(server_ticks)
    if ! REPLICA_BENCH_BRIDGE="$work/out/bridge" /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt"; then
        echo "run-issue4.sh: case $name failed (round $round): $*" >&2
        tail -n 20 "$work/stderr.txt" "$work/time.txt" >&2 || true
        exit 1
    fi
    sleep 0.2 # let the postmaster reap the backend, so that its CPU is counted
    after=$(server_ticks)
    local wall user sys rss cpu input input_bytes out_bytes
    read -r wall user sys rss <"$work/time.txt"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    if [[ "$kind" == dump ]]; then
        input="db:bench"; input_bytes=$plain_bytes
        out_bytes=$(du -sb "$work/out" | cut -f1)
    else
        input=$(basename "$sql_file"); input_bytes=$sql_bytes
        out_bytes=$(sql -d postgres -c "SELECT pg_database_size('bench_restore')")
        local counts
        counts=$(sql -d bench_restore -c "$counts_sql")
        if [[ "$counts" != "$source_counts" ]]; then
            echo "run-issue4.sh: case $name restored rows (customers orders events) $counts, the source has $source_counts" >&2
            exit 1
        fi
        sql -d postgres -c "DROP DATABASE bench_restore"
    fi
    local note
    note="server CPU $(awk -v t=$((after - before)) -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }') s"
    echo "$round,$name,$input,$input_bytes,$wall,$cpu,$rss,$out_bytes,$note" >>"$csv"
    printf '   %-22s %7s s wall %7s s CPU %8s KiB peak RSS  %s\n' "$name" "$wall" "$cpu" "$rss" "$note"
    rm -rf "$work/out"
}

pg_dump_cmd=("$PG_BIN/pg_dump" --format=plain --dbname=bench)
psql_cmd=("$PG_BIN/psql" -X -v ON_ERROR_STOP=1 --single-transaction --dbname=bench_restore -f "$sql_file")
run_cases() {
    live_case pg_dump dump "${pg_dump_cmd[@]}"
    live_case pg_dump-cat dump bash -c 'set -o pipefail; "$@" | cat' _ "${pg_dump_cmd[@]}"
    live_case replica-mask-zstd-aes dump "$replica" dump -c bench/replica-bench-live.yaml --quiet
    live_case replica-passthrough dump "$replica" dump -c bench/replica-bench-live-passthrough.yaml --quiet
    live_case psql-restore restore "${psql_cmd[@]}"
    # replica restores from the bridge made above, not from the per-case one.
    live_case replica-restore restore env REPLICA_BENCH_BRIDGE="$work/restore-bridge" \
        "$replica" restore -c bench/replica-bench-live.yaml --latest --quiet
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= runs; round++)); do
    phase "round $round of $runs" | tee -a "$log"
    run_cases | tee -a "$log"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- profile round: the main cases once more, with /proc sampled every 0.25 s (not in the CSV) ---
profile_table=""
if ((profile)); then
    phase "profile round"
    profile_case() {
        local name=$1 kind=$2
        shift 2
        [[ "$kind" == restore ]] && fresh_restore_db
        rm -rf "$work/out"
        mkdir "$work/out"
        sync
        sql -d postgres -c CHECKPOINT
        rm -f "$work/samples.txt"
        bench/scripts/cpu-profile.sh sample "$work/samples.txt" 0.25 &
        sampler_pid=$!
        sleep 0.5
        REPLICA_BENCH_BRIDGE="$work/out/bridge" "$@" >/dev/null
        sleep 0.5
        kill "$sampler_pid"
        wait "$sampler_pid" 2>/dev/null || true
        sampler_pid=""
        [[ "$kind" == restore ]] && sql -d postgres -c "DROP DATABASE bench_restore"
        rm -rf "$work/out"
        echo "| $name $(bench/scripts/cpu-profile.sh summarize "$work/samples.txt")"
    }
    profile_table=$(
        bench/scripts/cpu-profile.sh header
        round=profile
        profile_case pg_dump dump "${pg_dump_cmd[@]}"
        profile_case replica-mask-zstd-aes dump "$replica" dump -c bench/replica-bench-live.yaml --quiet
        profile_case replica-passthrough dump "$replica" dump -c bench/replica-bench-live-passthrough.yaml --quiet
        profile_case psql-restore restore "${psql_cmd[@]}"
        profile_case replica-restore restore env REPLICA_BENCH_BRIDGE="$work/restore-bridge" \
            "$replica" restore -c bench/replica-bench-live.yaml --latest --quiet
    )
    echo "$profile_table"
fi

# --- summary and the goals of issue 4 ---
med() { bench_median "$csv" "$1" "$2"; }
verdict() { if "$@"; then echo met; else echo "NOT met"; fi; }
# Per-round ratios of wall time, "r1, r2, r3": every round runs both cases within a minute or two, under similar noise.
round_ratios() {
    awk -F, -v a="$1" -v b="$2" '
    NR > 1 && $2 == a { x[$1] = $5 } NR > 1 && $2 == b { y[$1] = $5; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
    END { for (i = 1; i <= n; i++) printf "%s%.2f", (i > 1 ? ", " : ""), x[order[i]] / y[order[i]] }' "$csv"
}
mib() { bench_div "$1" 1024 %.1f; }
r_dump=$(bench_div "$(med replica-mask-zstd-aes 5)" "$(med pg_dump 5)")
r_pass=$(bench_div "$(med replica-passthrough 5)" "$(med pg_dump 5)")
r_cat=$(bench_div "$(med pg_dump-cat 5)" "$(med pg_dump 5)")
r_restore=$(bench_div "$(med replica-restore 5)" "$(med psql-restore 5)")
goals=$(
    echo "- replica-mask-zstd-aes / pg_dump wall time: **${r_dump}x** (goal <= 1.10: $(verdict bench_ge 1.10 "$r_dump"));" \
         "per round: $(round_ratios replica-mask-zstd-aes pg_dump)"
    echo "- replica-passthrough / pg_dump wall time: **${r_pass}x** (per round: $(round_ratios replica-passthrough pg_dump));" \
         "pg_dump-cat / pg_dump: ${r_cat}x (per round: $(round_ratios pg_dump-cat pg_dump))"
    echo "- replica-restore / psql-restore wall time: **${r_restore}x** (goal <= 1.05: $(verdict bench_ge 1.05 "$r_restore"));" \
         "per round: $(round_ratios replica-restore psql-restore)"
    echo "- fixed costs, dumping an empty database (median of 3): pg_dump $startup_pg_dump; replica-mask-zstd-aes $startup_replica"
    echo "- pg_dump throughput: $(bench_div "$plain_bytes" "$(awk -v w="$(med pg_dump 5)" 'BEGIN { print w * 1048576 }')" %.0f) MiB/s of SQL;" \
         "replica-mask-zstd-aes: $(bench_div "$plain_bytes" "$(awk -v w="$(med replica-mask-zstd-aes 5)" 'BEGIN { print w * 1048576 }')" %.0f) MiB/s"
    echo "- median peak RSS: replica-mask-zstd-aes $(mib "$(med replica-mask-zstd-aes 7)") MiB, replica-passthrough" \
         "$(mib "$(med replica-passthrough 7)") MiB, replica-restore $(mib "$(med replica-restore 7)") MiB;" \
         "pg_dump alone $(mib "$(med pg_dump 7)") MiB, psql alone $(mib "$(med psql-restore 7)") MiB"
    echo "- median CPU s (process tree, server excluded): pg_dump $(med pg_dump 6), replica-mask-zstd-aes $(med replica-mask-zstd-aes 6)," \
         "replica-passthrough $(med replica-passthrough 6), psql-restore $(med psql-restore 6), replica-restore $(med replica-restore 6)"
)

{
    echo "# Issue 4 benchmark: live PostgreSQL dump and restore, $date_utc"
    echo
    echo "Machine: $(bench_machine), $pg_version. Shared machine (other builds and tests run at the same time): compare ratios from this one run," \
         "not absolute figures across runs."
    echo
    echo "Source database 'bench': $db_bytes bytes ($(bench_div "$db_bytes" 1048576 %.0f) MiB, indexes included; asked for" \
         "$db_mb MiB): $table_sizes. pg_dump --format=plain writes $plain_bytes bytes. The masked dump: $sql_bytes bytes of" \
         "SQL, $bridge_bytes bytes in the bridge (zstd 1 + AES-256-GCM). $runs rounds, cases interleaved; median per case." \
         "Load average (1/5/15 min) before the rounds: $load_before, after: $load_after."
    echo
    echo "Server: throwaway $pg_version on 127.0.0.1, trust auth, **fsync=off, full_page_writes=off, synchronous_commit=off**" \
         "(not durable, as for any throwaway bench server), shared_buffers=256MB, maintenance_work_mem=256MB, max_wal_size=4GB," \
         "autovacuum=off. Encryption: a raw 32-byte key_file (no passphrase, so no PBKDF2 per run). sync and CHECKPOINT before" \
         "every case; restores go into a new empty database, dropped afterwards; restored row counts checked every time."
    echo
    echo "MiB/s = MiB of SQL (pg_dump's output for the dump cases, the masked SQL for the restore cases) per wall second." \
         "CPU s = user + sys of the command and its children (replica's include pg_dump's or psql's), never the server's;" \
         "the server's CPU per case is in the CSV's note column."
    echo
    bench_table "$csv"
    echo
    echo "$goals"
    if ((profile)); then
        echo
        echo "Profile round (each case once more, /proc sampled every 0.25 s by bench/scripts/cpu-profile.sh; not in the" \
             "table above). CPU s per process group; in parentheses the busiest process's CPU share while it ran (100% =" \
             "one full core; replica is multi-threaded and can exceed it). backend = the server processes serving the case;" \
             "others = every other process on the machine (other agents' builds and tests), from /proc/stat. Machine busy =" \
             "all CPU time used / ($(nproc) cores x wall)."
        echo
        echo "$profile_table"
    fi
    echo
    echo "Commands (timed with \`/usr/bin/time -f '%e %U %S %M'\`; BRIDGE is fresh per run and deleted after, KEY a fresh base64 32-byte key):"
    echo
    echo '```sh'
    echo "export REPLICA_PG_BINDIR=$PG_BIN REPLICA_BENCH_KEY_FILE=KEY"
    echo "export REPLICA_BENCH_SOURCE_URI=postgres://postgres@127.0.0.1:PORT/bench REPLICA_BENCH_DEST_URI=postgres://postgres@127.0.0.1:PORT/bench_restore"
    echo "pg_dump --format=plain --dbname=bench > /dev/null                                        # pg_dump"
    echo "pg_dump --format=plain --dbname=bench | cat > /dev/null                                  # pg_dump-cat"
    echo "REPLICA_BENCH_BRIDGE=BRIDGE replica dump -c bench/replica-bench-live.yaml --quiet             # replica-mask-zstd-aes"
    echo "REPLICA_BENCH_BRIDGE=BRIDGE replica dump -c bench/replica-bench-live-passthrough.yaml --quiet # replica-passthrough"
    echo "# once, before the rounds: a dump into RBRIDGE, and its SQL as a file"
    echo "REPLICA_BENCH_BRIDGE=RBRIDGE replica dump -c bench/replica-bench-live.yaml --quiet"
    echo "REPLICA_BENCH_BRIDGE=RBRIDGE replica restore -c bench/replica-bench-live.yaml --latest --quiet -o masked.sql"
    echo "psql -X -v ON_ERROR_STOP=1 --single-transaction --dbname=bench_restore -f masked.sql > /dev/null   # psql-restore"
    echo "REPLICA_BENCH_BRIDGE=RBRIDGE replica restore -c bench/replica-bench-live.yaml --latest --quiet     # replica-restore"
    echo '```'
    echo
    echo "Per run:"
    echo
    echo '```'
    cat "$log"
    echo '```'
    echo
    echo "Raw runs: $(basename "$csv"). Rerun: bench/run-issue4.sh $args"
} >"$md"

phase "done"
echo
cat "$md"

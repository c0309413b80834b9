#!/usr/bin/env bash
# Issue 11: candidate key stores for FK-aware subsetting (bench/Replica.KeyStoreBench), each store and size in its own
# process under /usr/bin/time -v, one CSV line per run appended to $CSV (time -v and progress lines go to $LOG).
# "none" stores nothing: it is the harness floor (key generation and checking, .NET runtime RSS).
#
#   bench/keystore/run.sh                       # all stores at 1M, 10M, 100M keys
#   STORES="runs rocksdb" SIZES="1000000" CSV=/tmp/k.csv bench/keystore/run.sh
#   BIN=/tmp/ksb/Replica.KeyStoreBench bench/keystore/run.sh   # an already built copy, no build
#
# A 100M run is skipped when the store's 10M line extrapolates past $SKIP_OVER_S (10 x its insert + enumerate time plus its
# lookup time; default 1500 s = 25 min); a 100M run's insert phase is cut at $MAX_INSERT_S, a smaller one's at
# $SMALL_MAX_INSERT_S (600 s; the line then says "cut" and its note gives the extrapolated insert time).
# Each run gets a fresh temp dir under /tmp, removed afterwards; a 100M run needs $NEED_GIB GiB free there.
set -euo pipefail
cd "$(dirname "$0")/../.."

STORES=${STORES:-"none runs rocksdb sqlite duckdb duckdb-anti"}
SIZES=${SIZES:-"1000000 10000000 100000000"}
BUDGET_MB=${BUDGET_MB:-64}
CSV=${CSV:-bench/results/issue11-keystore-$(date +%F).csv}
LOG=${LOG:-/tmp/issue11-keystore.log}
SKIP_OVER_S=${SKIP_OVER_S:-1500}
MAX_INSERT_S=${MAX_INSERT_S:-1500}
SMALL_MAX_INSERT_S=${SMALL_MAX_INSERT_S:-600}
NEED_GIB=${NEED_GIB:-20}

command -v /usr/bin/time >/dev/null || { echo "run.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }
bin=${BIN:-bench/Replica.KeyStoreBench/bin/Release/net10.0/Replica.KeyStoreBench}
if [[ -z "${BIN:-}" ]]; then
    echo "== building bench/Replica.KeyStoreBench (Release)"
    dotnet build -c Release -warnaserror -nologo -v quiet bench/Replica.KeyStoreBench >/dev/null
fi
mkdir -p "$(dirname "$CSV")"
[[ -s "$CSV" ]] || "$bin" --header >"$CSV"
{ echo "== $(date -u +%FT%TZ) $(nproc) cores, dotnet $(dotnet --version), stores: $STORES, sizes: $SIZES"; } >>"$LOG"

# skip_big STORE : true (and says why) when the store's last 10M line extrapolates past $SKIP_OVER_S seconds at 100M.
skip_big() {
    local line
    line=$(awk -F, -v s="$1" '$1 == s && $2 == 10000000 { l = $0 } END { print l }' "$CSV")
    if [[ -z "$line" ]]; then
        echo "no 10M line for $1"; return 0
    fi
    awk -F, -v limit="$SKIP_OVER_S" '{
        if ($12 == "cut" || $12 == "error") { print "10M run: " $12 " (" $NF ")"; exit 0 }
        est = 10 * ($3 + $9) + $7
        if (est > limit) { printf "10M extrapolates to %.0f s at 100M (10 x (insert %s s + enumerate %s s) + lookups %s s)\n", est, $3, $9, $7; exit 0 }
        exit 1 }' <<<"$line"
}

for n in $SIZES; do
    for store in $STORES; do
        if ((n >= 100000000)); then
            if why=$(skip_big "$store"); then
                echo "-- skip $store at $n keys: $why" | tee -a "$LOG"
                continue
            fi
            avail_gib=$(df -Pk /tmp | awk 'NR == 2 { printf "%d", $4 / 1048576 }')
            df -h /tmp | tee -a "$LOG"
            if ((avail_gib < NEED_GIB)); then
                echo "-- skip $store at $n keys: /tmp has ${avail_gib} GiB free, needs $NEED_GIB" | tee -a "$LOG"
                continue
            fi
        fi
        dir=$(mktemp -d /tmp/keystore-"$store"-XXXXXX)
        echo "-- $store $n keys ($(date -u +%T))" | tee -a "$LOG"
        rc=0
        cap=$MAX_INSERT_S
        ((n >= 100000000)) || cap=$SMALL_MAX_INSERT_S
        /usr/bin/time -v -o "$dir.time" "$bin" --store "$store" --keys "$n" --budget-mb "$BUDGET_MB" --dir "$dir" \
            --max-insert-s "$cap" >"$dir.out" 2>>"$LOG" || rc=$?
        cat "$dir.out" >>"$CSV"
        cat "$dir.out"
        grep -E "Maximum resident|Elapsed \(wall|User time|System time|Exit status" "$dir.time" | sed 's/^\s*/   /' | tee -a "$LOG"
        ((rc == 0)) || echo "   exit $rc" | tee -a "$LOG"
        rm -rf "$dir" "$dir.out" "$dir.time"
    done
done
echo "== done: $CSV"

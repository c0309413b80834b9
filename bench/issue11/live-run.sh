#!/usr/bin/env bash
# live-run.sh BIN CONFIG [sha]: one `replica dump -c $WORK/CONFIG` of bench/issue11/subset-compare.sh's shop database
# (its first half, up to the configs, with the server left running; export WORK, PGPORT, PGDATA,
# REPLICA_BENCH_SOURCE_URI and REPLICA_BENCH_KEY_FILE as it sets them). Prints the wall, the client's CPU s (user+sys),
# peak RSS, the wall to the last "subset: round N done" line (closure), the server's CPU s during the run (the
# postmaster's exited children: every backend of the run) and the 1-minute load average before/after; with "sha", also
# the SHA-256 (first 16 hex digits) and size of `replica restore --latest --output`.
set -euo pipefail
: "${WORK:?}" "${PGPORT:?}" "${PGDATA:?}"
bin=$1 cfg=$2
export REPLICA_BENCH_BRIDGE=$(mktemp -d "$WORK/bridge.XXXX")
psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d shop -c CHECKPOINT >/dev/null
pm=$(head -1 "$PGDATA/postmaster.pid"); hz=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15+$16+$17}' "/proc/$pm/stat"; }
a=$(cpu); l0=$(cut -d' ' -f1 /proc/loadavg)
s=$EPOCHREALTIME
/usr/bin/time -f '%e %U %S %M' -o "$WORK/t.$$" "$bin/replica" dump -c "$WORK/$cfg" 2>&1 >/dev/null \
  | while IFS= read -r l; do echo "$(echo "$EPOCHREALTIME - $s" | bc) $l"; done >"$WORK/ph.$$"
b=$(cpu); l1=$(cut -d' ' -f1 /proc/loadavg)
c=$(grep "round .* done" "$WORK/ph.$$" | tail -1 | cut -d' ' -f1 || true)
read -r w u y m <"$WORK/t.$$"
printf '%s %s wall %.2f cpu %.2f (%s+%s) rss %d closure %.2f server %.2f load %s/%s' "$(basename "$bin")" "$cfg" "$w" \
    "$(echo "$u+$y" | bc)" "$u" "$y" $((m / 1024)) "${c:-0}" "$(echo "($b - $a) / $hz" | bc -l)" "$l0" "$l1"
if [[ ${3:-} == sha ]]; then
    "$bin/replica" restore -c "$WORK/$cfg" --latest --output "$WORK/out.$$.sql" -q
    printf ' sha %s bytes %s' "$(sha256sum "$WORK/out.$$.sql" | cut -c1-16)" "$(stat -c %s "$WORK/out.$$.sql")"
    rm -f "$WORK/out.$$.sql"
fi
echo
rm -rf "$REPLICA_BENCH_BRIDGE" "$WORK/t.$$" "$WORK/ph.$$"

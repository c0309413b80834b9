#!/usr/bin/env bash
# live-phases.sh BIN [CONFIG]: one live subset dump of bench/issue11/subset-compare.sh's shop database (its first half,
# up to the configs, with the server left running; WORK is its scratch directory, PGPORT the server's port), printing
# the wall to the last "subset: round N done" line (closure), the rest (data), and the client's user and sys CPU s.
# Needs REPLICA_BENCH_SOURCE_URI and REPLICA_BENCH_KEY_FILE exported as subset-compare.sh exports them.
set -euo pipefail
: "${WORK:?the scratch directory of subset-compare.sh}" "${PGPORT:?port of the bench server}"
export REPLICA_BENCH_BRIDGE=$(mktemp -d "$WORK/bridge.XXXX")
psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d shop -c CHECKPOINT >/dev/null
s=$EPOCHREALTIME
/usr/bin/time -f '%U %S' -o "$WORK/ptime.txt" "$1/replica" dump -c "$WORK/${2:-subset.yaml}" 2>&1 >/dev/null \
    | while IFS= read -r l; do echo "$(echo "$EPOCHREALTIME - $s" | bc) $l"; done >"$WORK/phases.txt"
e=$(echo "$EPOCHREALTIME - $s" | bc)
c=$(grep "round .* done" "$WORK/phases.txt" | tail -1 | cut -d' ' -f1 || true)
c=${c:-0}
printf '%s total %.2f closure %.2f data %.2f cpu %s load %s\n' "$(basename "$1")" "$e" "$c" "$(echo "$e - $c" | bc)" \
    "$(tr '\n' ' ' <"$WORK/ptime.txt")" "$(cut -d' ' -f1 /proc/loadavg)"
rm -rf "$REPLICA_BENCH_BRIDGE"

#!/usr/bin/env bash
# live-server-cpu.sh BIN [CONFIG]: live-phases.sh, plus the server's CPU s during the run (the postmaster's own and
# its exited children's: every backend of the run) and the machine's idle CPU s (both cores). PGDATA: the server's data
# directory (subset-compare.sh's $PG_ROOT/data).
set -euo pipefail
: "${PGDATA:?data directory of the bench server}"
pm=$(head -1 "$PGDATA/postmaster.pid")
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15+$16+$17}' "/proc/$pm/stat"; }
idle() { awk '/^cpu /{print $5+$6}' /proc/stat; }
a=$(cpu); i=$(idle)
"$(dirname "$0")/live-phases.sh" "$@"
b=$(cpu); j=$(idle)
printf '  server cpu s: %.2f  machine idle cpu s: %.2f\n' "$(echo "($b - $a) / $hz" | bc -l)" "$(echo "($j - $i) / $hz" | bc -l)"

#!/usr/bin/env bash
# Stops the cluster that radosgw-start.sh started in CEPH_BASE and deletes CEPH_BASE (--keep: leaves it, for its logs).
# Only the processes whose pids that start wrote are signalled.
set -uo pipefail
base=${CEPH_BASE:?CEPH_BASE must name the directory radosgw-start.sh used}
keep=0
if [[ "${1:-}" == "--keep" ]]; then keep=1; fi

pids=()
for daemon in rgw osd mon; do
    if [[ -f "$base/$daemon.pid" ]]; then pids+=("$(cat "$base/$daemon.pid")"); fi
done
for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
for _ in $(seq 1 100); do
    alive=0
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    if ((alive == 0)); then break; fi
    sleep 0.1
done
for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
rm -f "$base"/{rgw,osd,mon}.pid
if ((keep == 0)); then rm -rf "$base"; fi
exit 0

#!/usr/bin/env bash
# Issue 13 §2: the cost of sanitize against a plain masked dump (bench/results/issue13-sanitize-2026-12-03.md).
# Three cases, interleaved, each run --rounds times on the same generated shop dump (--input, so the source costs the
# same in every case): plain (masked, zstd 1, AES-256-GCM), sanitize-noop (the same plus a scratch database round
# trip whose one statement changes nothing: the fixed cost) and sanitize-update (an UPDATE of ~90 % of the customers
# and a DELETE of ~10 % of the payments).
# Usage: SCRATCH_SERVER=postgres://postgres@127.0.0.1:55433 bench/issue13/sanitize-cost.sh [--rounds 3] [--input /tmp/san-shop.sql]
# With SERVER_PID (the postmaster's pid, first line of $PGDATA/postmaster.pid) on this machine, server_cpu_s is the CPU
# its backends used during the run (the postmaster's cutime + cstime: backends that ended); /usr/bin/time counts
# replica and the psql / pg_dump it runs, not the server.
set -euo pipefail
rounds=3
input=/tmp/san-shop.sql
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --input) input=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 1 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
replica=${REPLICA:-$here/../../src/Replica.Cli/bin/Release/net10.0/replica}
# The input is this script's own generated dump: the scratch role may be a superuser (sanitize.allow_privileged_role).
server=${SCRATCH_SERVER:?set SCRATCH_SERVER=postgres://user@host:port (a server where the user may CREATE DATABASE)}
work=$(mktemp -d /tmp/replica-sanitize-bench-XXXX)
trap 'rm -rf "$work"' EXIT
[[ -f $input ]] || "$replica" bench generate --size 200MiB > "$input"

base=$here/../replica-bench-zstd-aes-mask.yaml
cp "$base" "$work/plain.yaml"
{ cat "$base"; printf 'sanitize:\n  scratch_uri: %s/replica_bench_scratch\n  allow_privileged_role: true\n  statements:\n    - "UPDATE public.customers SET city = city WHERE false"\n' "$server"; } > "$work/sanitize-noop.yaml"
{ cat "$base"; printf 'sanitize:\n  scratch_uri: %s/replica_bench_scratch\n  allow_privileged_role: true\n  statements:\n' "$server"
  printf '    - "UPDATE public.customers SET street = '"'"'redacted'"'"', profile = NULL WHERE country <> '"'"'Germany'"'"'"\n'
  printf '    - "DELETE FROM public.payments WHERE amount > 900"\n'; } > "$work/sanitize-update.yaml"

server_cpu() { if [[ -n ${SERVER_PID:-} ]]; then awk '{ print $16 + $17 }' "/proc/$SERVER_PID/stat"; else echo 0; fi; }
echo "case,round,wall_s,user_s,sys_s,max_rss_kb,stored_bytes,server_cpu_s"
for round in $(seq 1 "$rounds"); do
    for case in plain sanitize-noop sanitize-update; do
        export REPLICA_BENCH_BRIDGE=$work/bridge-$case-$round
        sync
        before=$(server_cpu)
        /usr/bin/time -f '%e s wall %U+%S cpu %M KB' -o "$work/time" "$replica" dump -c "$work/$case.yaml" --input "$input" --quiet > /dev/null
        after=$(server_cpu)
        echo "$case round $round: $(cat "$work/time")" >&2
        read -r wall _ _ cpu _ rss _ < "$work/time"
        user=${cpu%+*}
        sys=${cpu#*+}
        server=$(awk -v a="$after" -v b="$before" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (a - b) / hz }')
        stored=$(du -sb "$REPLICA_BENCH_BRIDGE" | cut -f1)
        echo "$case,$round,$wall,$user,$sys,$rss,$stored,$server"
        rm -rf "$REPLICA_BENCH_BRIDGE"
    done
done

#!/usr/bin/env bash
# bench/issue11/ab-builds.sh ROUNDS BUILD...: interleaved live subset, full live dump and file encode of replica builds
# copied to /tmp/s11/BUILD (see bench/results/issue11-spin-2026-12-04.md for the setup: /tmp/s11/env.txt, /tmp/s11/enc/key).
set -u
cd /work/main
set -a; . <(sed 's/ /\n/g' /tmp/s11/env.txt); set +a
export REPLICA_BENCH_KEY_FILE
rounds=$1; shift
for r in $(seq "$rounds"); do
  for b in "$@"; do
    bash bench/issue11/live-phases.sh /tmp/s11/$b | sed "s/^/subset r$r /"
  done
  for b in "$@"; do
    export REPLICA_BENCH_BRIDGE=$(mktemp -d $WORK/b.XXX)
    /usr/bin/time -f "full r$r $b wall %e cpu %U %S rss %M load $(cut -d' ' -f1 /proc/loadavg)" /tmp/s11/$b/replica dump -c $WORK/full.yaml --jobs 1 -q >/dev/null 2>/tmp/s11/t.txt; tail -1 /tmp/s11/t.txt
    rm -rf $REPLICA_BENCH_BRIDGE
  done
  for b in "$@"; do
    export REPLICA_BENCH_BRIDGE=$(mktemp -d /tmp/s11/enc/b.XXX)
    REPLICA_BENCH_KEY_FILE=/tmp/s11/enc/key /usr/bin/time -f "encode r$r $b wall %e cpu %U %S rss %M load $(cut -d' ' -f1 /proc/loadavg)" /tmp/s11/$b/replica dump -c bench/issue10/mask-zstd-aes.yaml --input bench/data/shop-1g.sql -q >/dev/null 2>/tmp/s11/t.txt; tail -1 /tmp/s11/t.txt
    rm -rf $REPLICA_BENCH_BRIDGE
  done
  # rotate order
  set -- "${@:2}" "$1"
done

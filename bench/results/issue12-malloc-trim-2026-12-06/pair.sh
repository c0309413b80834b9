#!/bin/bash
# Interleaved pairs: base and trim builds, 20 GiB into the local bridge, CSV once a second.
out=/tmp/rss12/pairs; mkdir -p $out
for round in 1 2; do
  for v in base trim; do
    if [[ $v == base ]]; then bin=/tmp/base-fb6/src/Replica.Cli/bin/Release/net10.0/replica; else bin=/tmp/rss12/trim-bin/replica; fi
    nice -n 5 $bin bench --size 20GiB --sink bridge --csv $out/$v-$round.csv > $out/$v-$round.txt 2>&1
    rm -rf /tmp/replica-bench-*
  done
done
echo done > $out/done

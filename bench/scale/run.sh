#!/usr/bin/env bash
# Issue 12 §3: the scale runs. `replica bench` (the real pipeline: masking + zstd 1 + AES-256-GCM, the built-in config)
# on synthetic dumps of growing size, one run after another, each writing its time series (once a second: bytes in
# and out, RSS, GC heap, MiB/s, CPU s) as it goes, then a summary table and plots (gnuplot, PNG).
#
#   bench/scale/run.sh [--runs LIST] [--out DIR] [--seed N] [--replica BINARY]
#     --runs LIST   space-separated runs, each SIZE:SINK[:DIALECT], SINK = bridge (stored in a temp bridge, restored
#                   into the checker, --restore) or discard; DIALECT = pg (COPY, default) or mysql (INSERTs)
#                   (default: "1GiB:bridge 10GiB:bridge 100GiB:bridge 10GiB:bridge:mysql 1TiB:discard")
#     --out DIR     where the CSVs, logs, summary and plots go (default bench/results/scale-<date>)
#     --seed N      the generator's seed (default 1): a run that was cut off is rerun with the same seed
#     --replica B   a built replica executable (default: build src/Replica.Cli in Release)
#
# Each run: `replica bench --size SIZE --sink SINK [--restore] --csv OUT/NAME.csv` under /usr/bin/time (external peak
# RSS as a cross-check of the one the process reads from /proc/self/status), with DOTNET_GCHeapHardLimit unset (what
# users get). A bridge run needs ~35 % of SIZE free under TMPDIR (checked first; the run is skipped with a message
# when it does not fit). Runs are resumable by hand: a finished run leaves OUT/NAME.done and is not rerun.
# Afterwards (and after every run): OUT/summary.md (the table), OUT/NAME.png (RSS and MiB/s against GiB processed),
# OUT/overview.png (RSS of every run against GiB processed).
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/scripts/bench-lib.sh

runs="1GiB:bridge 10GiB:bridge 100GiB:bridge 10GiB:bridge:mysql 1TiB:discard"
out="bench/results/scale-$(date -u +%Y-%m-%d)"
seed=1
replica=""
while (($#)); do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --replica) replica=$2; shift 2 ;;
        -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! command -v gnuplot >/dev/null; then
    echo "== installing gnuplot-nox (apt-get)"
    # A fresh machine has no package lists yet: update them first, as .ci/run does.
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
fi
[[ -n "$replica" ]] || bench_build_cli
mkdir -p "$out"
unset DOTNET_GCHeapHardLimit DOTNET_GCgen0size

bytes_of() { # 1GiB -> 1073741824
    local n=${1%%[A-Za-z]*} unit=${1##*[0-9]}
    case "$unit" in
        GiB) echo $((n << 30)) ;; TiB) echo $((n << 40)) ;; MiB) echo $((n << 20)) ;; *) echo "$n" ;;
    esac
}

plot_run() { # NAME
    local name=$1
    gnuplot <<GP
set terminal pngcairo size 1100,600 font ",10"
set output "$out/$name.png"
set datafile separator ","
set title "replica bench $name: RSS and throughput against data processed"
set xlabel "GiB processed (dump: SQL read; restore: SQL restored)"
set ylabel "RSS (MiB)"
set y2label "MiB/s"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key outside bottom center horizontal
plot "$out/$name.csv" every ::1 using (\$3/1073741824):(strcol(2) eq "dump" ? \$5 : 1/0) with lines lw 2 title "RSS, dump", \
     "" every ::1 using (\$3/1073741824):(strcol(2) eq "restore" ? \$5 : 1/0) with lines lw 2 title "RSS, restore", \
     "" every ::1 using (\$3/1073741824):(strcol(2) eq "dump" ? \$7 : 1/0) axes x1y2 with lines lc rgb "#999999" title "MiB/s, dump", \
     "" every ::1 using (\$3/1073741824):(strcol(2) eq "restore" ? \$7 : 1/0) axes x1y2 with lines lc rgb "#cc9966" title "MiB/s, restore"
GP
}

plot_overview() {
    local plots="" name
    for name in $(ls "$out"/*.csv 2>/dev/null | xargs -rn1 basename | sed 's/\.csv$//'); do
        plots+="${plots:+, }\"$out/$name.csv\" every ::1 using (\$3/1073741824):(strcol(2) eq \"dump\" ? \$5 : 1/0) with lines lw 2 title \"$name\""
    done
    [[ -n "$plots" ]] || return 0
    gnuplot <<GP
set terminal pngcairo size 1100,600 font ",10"
set output "$out/overview.png"
set datafile separator ","
set title "replica bench: RSS of the dump against data processed, every run (log scale)"
set xlabel "GiB processed"
set ylabel "RSS (MiB)"
set logscale x
set yrange [0:*]
set key outside bottom center horizontal
plot $plots
GP
}

# summary_row NAME : one table row from the run's log and CSV.
summary_row() {
    local name=$1 log="$out/$1.log" csv="$out/$1.csv"
    local dump restore peak_ext figures check
    dump=$(grep -m1 '^dump:' "$log" | sed 's/^dump: *//; s/ (\([0-9.]*\) s\/GiB)/ (\1 s\/GiB)/' || true)
    restore=$(grep -m1 '^restore:' "$log" | sed 's/^restore: *//' || true)
    check=$(grep -m1 '^check:' "$log" | sed 's/^check: *//; s/;.*//' || true)
    peak_ext=$(awk '/Maximum resident set size/ { printf "%.1f", $6 / 1024 }' "$log")
    # From the time series: CPU s per GiB after the first quarter of the dump (startup and JIT left out), and the RSS
    # growth after the first GiB per 100 GiB: (RSS at the last dump sample - RSS at the first sample past 1 GiB) /
    # GiB between them * 100.
    figures=$(awk -F, 'NR > 1 && $2 == "dump" { last = $3; if (!q && $3 >= total / 4) { q = 1; c0 = $8; b0 = $3 } c1 = $8; b1 = $3
            if (!a && $3 >= 1073741824) { a = 1; r0 = $5; g0 = $3 } r1 = $5 }
        END { steady = (q && b1 > b0) ? sprintf("%.2f", (c1 - c0) / ((b1 - b0) / 1073741824)) : "n/a"
              growth = (a && b1 > g0 + 1073741824) ? sprintf("%+.1f", (r1 - r0) / ((b1 - g0) / 1073741824) * 100) : "n/a"
              printf "%s | %s", steady, growth }' total="$(awk -F, 'NR > 1 && $2 == "dump" { b = $3 } END { print b + 0 }' "$csv")" "$csv")
    echo "| $name | ${dump:-failed} | $figures | ${restore:--} | ${check:--} | $peak_ext |"
}

write_summary() {
    {
        echo "# Issue 12 §3: scale runs of replica bench, $(date -u +%Y-%m-%d)"
        echo
        echo "Machine: $(bench_machine)."
        echo "Command per run: \`replica bench --size SIZE --sink SINK [--restore] [--dialect MySql --format inserts] --seed $seed --csv NAME.csv\`"
        echo "(built-in config: customers' names, e-mail, phone, street, birth date and the e-mail inside the JSON profile,"
        echo "orders' shipping address, payments' card number and IBAN masked; zstd 1; AES-256-GCM with a random key), under"
        echo "\`/usr/bin/time -v\`, DOTNET_GCHeapHardLimit unset. Rerun: \`bench/scale/run.sh --runs \"...\"\`."
        echo
        echo "| run | dump (as replica bench prints it) | dump CPU s/GiB after the first quarter | dump RSS growth after the first GiB (MiB per 100 GiB) | restore into the checker | check | peak RSS of the process, /usr/bin/time (MiB) |"
        echo "| --- | --- | ---: | ---: | --- | --- | ---: |"
        local name
        for name in $(ls "$out"/*.log 2>/dev/null | xargs -rn1 basename | sed 's/\.log$//'); do
            summary_row "$name"
        done
        echo
        echo "Plots: one PNG per run (RSS and MiB/s against GiB processed), overview.png (every run's RSS)."
        echo "Time series: NAME.csv (elapsed_s, phase, bytes_in, bytes_out, rss_mib, gc_heap_mib, mib_per_s, cpu_s, gc_committed_mib; once a second)."
    } >"$out/summary.md"
}

for run in $runs; do
    IFS=: read -r size sink dialect <<<"$run"
    dialect=${dialect:-pg}
    name="$size-$sink-$dialect"
    if [[ -e "$out/$name.done" ]]; then
        echo "== $name: done before, skipped"
        continue
    fi
    args=(bench --size "$size" --sink "$sink" --seed "$seed" --csv "$out/$name.csv")
    [[ "$sink" == bridge ]] && args+=(--restore)
    [[ "$dialect" == mysql ]] && args+=(--dialect MySql --format inserts)
    if [[ "$sink" == bridge ]]; then
        need=$(($(bytes_of "$size") * 35 / 100 + (2 << 30)))
        avail=$(($(df -Pk "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $4 }') * 1024))
        if ((avail < need)); then
            echo "== $name: skipped: needs $((need >> 30)) GiB free under ${TMPDIR:-/tmp}, has $((avail >> 30)) GiB" | tee "$out/$name.skipped"
            continue
        fi
    fi
    echo "== $name: $(date -u +%H:%M:%S) replica ${args[*]}"
    if /usr/bin/time -v "$replica" "${args[@]}" >"$out/$name.log" 2>&1; then
        touch "$out/$name.done"
        grep -E '^(dump|restore|check):' "$out/$name.log" | sed 's/^/   /'
    else
        echo "   FAILED (see $out/$name.log)"; tail -5 "$out/$name.log" | sed 's/^/   /'
    fi
    plot_run "$name" || true
    write_summary
    plot_overview || true
done
write_summary
plot_overview || true
echo "== summary: $out/summary.md"

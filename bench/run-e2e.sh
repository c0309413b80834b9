#!/usr/bin/env bash
# End-to-end benchmark of `replica dump` (issue 2: the rewriter) on a large pg_dump file, side by side with awk and cat
# in the same run.
#
#   bench/run-e2e.sh [--dump FILE] [--size-mb N] [--small-dump FILE] [--small-size-mb N] [--runs N] [--no-small] [--label L]
#     --dump FILE         the big dump (default bench/data/shop-1g.sql; generated with --size-mb MiB when missing)
#     --size-mb N         size of the big dump when it must be generated (default 1024)
#     --small-dump FILE   a small dump, to check that peak RSS does not grow with dump size (default bench/data/shop-100m.sql)
#     --small-size-mb N   size of the small dump when it must be generated (default 100)
#     --runs N            rounds; each round runs every case once, interleaved (default 3)
#     --no-small          skip the small-dump case
#     --label L           name the results e2e-<UTC date>-L.{md,csv} instead of e2e-<UTC date>.{md,csv}
#
# Cases, each timed with /usr/bin/time -f '%e %U %S %M' (wall s, user + sys CPU s, peak RSS KiB):
#   replica-mask   replica dump -c bench/replica-bench.yaml (4 customers columns faked) into a fresh local bridge
#   replica-pass   replica dump -c bench/replica-bench-passthrough.yaml (no rules: lex, copy, chunk, store)
#   awk-1col       mawk replacing field 4 (email) of the customers COPY block with a constant, written to a file
#   cat            cat FILE > /dev/null: the I/O floor
#   replica-mask-small  replica-mask on the small dump (peak RSS must not grow with dump size)
# Both configs set `compression: { algorithm: none }` (bridge.compression defaults to zstd), so this measures the
# rewriter and the store, not zstd; bench/run-issue3.sh measures the codecs.
# Rounds are interleaved (a b c d e, a b c d e, ...) so a noisy neighbour hits every case alike; the summary takes
# the median of each case. Both dumps are read once before timing, so every case reads from the page cache (the machine
# has far more RAM than the dump): this measures CPU cost, not the disk. Note that the local bridge fsyncs every chunk
# while awk's output is left to the page cache.
#
# Writes bench/results/e2e-<UTC date>[-L].csv (one line per run) and .md (machine, commands, table, goals), and prints
# the table. Needs: dotnet, mawk, /usr/bin/time (Debian package 'time'); missing dumps are written by
# `replica bench generate` (a few seconds per GiB).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. bench/scripts/bench-lib.sh

dump=bench/data/shop-1g.sql
size_mb=1024
small_dump=bench/data/shop-100m.sql
small_size_mb=100
runs=3
with_small=1
label=""
while (($# > 0)); do
    case "$1" in
        --dump) dump=$2; shift 2 ;;
        --size-mb) size_mb=$2; shift 2 ;;
        --small-dump) small_dump=$2; shift 2 ;;
        --small-size-mb) small_size_mb=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --no-small) with_small=0; shift ;;
        --label) label=-$2; shift 2 ;;
        -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
        *) echo "run-e2e.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "run-e2e.sh: --runs needs a positive whole number, got '$runs'" >&2
    exit 2
fi
bench_require dotnet mawk /usr/bin/time

# 1. Build the CLI in Release.
bench_build_cli

# 2. Make sure the dumps exist (the synthetic shop dump of `replica bench generate`).
ensure_dump() { # file size_mb
    if [[ ! -s "$1" ]]; then
        echo "== $1 is missing: generating ~$2 MiB"
        "$replica" bench generate --size "$2MiB" -o "$1"
    fi
}
ensure_dump "$dump" "$size_mb"
if ((with_small)); then ensure_dump "$small_dump" "$small_size_mb"; fi
dump_bytes=$(stat -c %s "$dump")
small_bytes=0
if ((with_small)); then small_bytes=$(stat -c %s "$small_dump"); fi

# 3. Scratch space: one case at a time writes about one dump's worth (bridge chunks or awk output), deleted right
#    after it; ask for 1.5x the big dump free so the machine is never filled.
tmp_parent=${TMPDIR:-/tmp}
bench_check_space "$tmp_parent" $((dump_bytes * 3 / 2))
work=$(mktemp -d "$tmp_parent/replica-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT

date_utc=$(date -u +%Y-%m-%d)
mkdir -p bench/results
csv="bench/results/e2e-$date_utc$label.csv"
md="bench/results/e2e-$date_utc$label.md"
echo "round,case,input,input_bytes,wall_s,cpu_s,peak_rss_kib,output_bytes,note" >"$csv"

# The awk case: inside the customers COPY block replace field 4 (email) with a constant; pass every other line through.
# The '\.' line ends the block (COPY text format). mawk is Debian's default awk and the fastest common one.
awk_program='
/^COPY public\.customers / { inside = 1; print; next }
inside && $0 == "\\." { inside = 0; print; next }
inside { $4 = "masked@example.com"; print; next }
{ print }'

# The machine may be shared: record its load around the timed part, so a reader can judge the noise.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Warm the page cache so that the first case is not the only one reading from disk.
cat "$dump" >/dev/null
if ((with_small)); then cat "$small_dump" >/dev/null; fi

log="$work/runs.txt"
for ((round = 1; round <= runs; round++)); do
    echo "== round $round of $runs" | tee -a "$log"
    {
        time_case replica-mask "$dump" /dev/null "$replica" dump -c bench/replica-bench.yaml --input "$dump" --quiet
        time_case replica-pass "$dump" /dev/null "$replica" dump -c bench/replica-bench-passthrough.yaml --input "$dump" --quiet
        time_case awk-1col "$dump" OUT mawk -F'\t' -v OFS='\t' "$awk_program" "$dump"
        time_case cat "$dump" /dev/null cat "$dump"
        if ((with_small)); then
            time_case replica-mask-small "$small_dump" /dev/null "$replica" dump -c bench/replica-bench.yaml --input "$small_dump" --quiet
        fi
    } | tee -a "$log"
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# 4. Summary: medians per case and the goals of issue 2.
wall_mask=$(bench_median "$csv" replica-mask 5)
wall_pass=$(bench_median "$csv" replica-pass 5)
wall_awk=$(bench_median "$csv" awk-1col 5)
wall_cat=$(bench_median "$csv" cat 5)
rss_mask=$(bench_median "$csv" replica-mask 7)
rss_pass=$(bench_median "$csv" replica-pass 7)
rss_small=$(bench_median "$csv" replica-mask-small 7)
speedup=$(bench_div "$wall_awk" "$wall_mask")
rss_mask_mib=$(bench_div "$rss_mask" 1024 %.1f)
rss_pass_mib=$(bench_div "$rss_pass" 1024 %.1f)
verdict() { if "$@"; then echo met; else echo "NOT met"; fi; }
goals=$(
    echo "- awk-1col / replica-mask wall time: **${speedup}x** (goal >= 1.5x: $(verdict bench_ge "$speedup" 1.5))"
    echo "- replica-mask / replica-pass wall time: $(bench_div "$wall_mask" "$wall_pass")x (cost of faking 4 customers columns)"
    echo "- replica-mask / cat wall time: $(bench_div "$wall_mask" "$wall_cat" %.1f)x (cat is the I/O floor)"
    echo "- peak RSS, replica-mask: $rss_mask_mib MiB, replica-pass: $rss_pass_mib MiB (goal <= 128 MiB: $(verdict bench_ge 128 "$(bench_div "$(awk -v a="$rss_mask" -v b="$rss_pass" 'BEGIN { print (a > b ? a : b) }')" 1024 %.1f)"))"
    if ((with_small)); then
        echo "- peak RSS, replica-mask on the big vs the small dump: $rss_mask_mib MiB vs $(bench_div "$rss_small" 1024 %.1f) MiB" \
             "($(bench_div "$dump_bytes" "$small_bytes" %.1f)x the input, $(bench_div "$rss_mask" "$rss_small")x the RSS)"
    fi
)
table=$(bench_table "$csv")

{
    echo "# End-to-end benchmark (issue 2), $date_utc"
    echo
    echo "Machine: $(bench_machine), $(mawk -W version 2>&1 | head -n 1)." \
         "Shared machine: compare ratios from this one run, not absolute figures across runs."
    echo
    echo "Input: $dump ($dump_bytes bytes)$( ((with_small)) && echo ", small: $small_dump ($small_bytes bytes)")," \
         "made by replica bench generate; page cache warm. $runs rounds, cases interleaved; median per case." \
         "Load average (1/5/15 min) before: $load_before, after: $load_after. CPU s = user + sys of the process tree."
    echo
    echo "$table"
    echo
    echo "$goals"
    echo
    echo "Commands (timed with \`/usr/bin/time -f '%e %U %S %M'\`; BRIDGE is a fresh temp dir per run, deleted after;" \
         "both configs store with \`compression: { algorithm: none }\`):"
    echo
    echo '```sh'
    echo "REPLICA_BENCH_BRIDGE=BRIDGE replica dump -c bench/replica-bench.yaml --input $dump --quiet            # replica-mask"
    echo "REPLICA_BENCH_BRIDGE=BRIDGE replica dump -c bench/replica-bench-passthrough.yaml --input $dump --quiet # replica-pass"
    echo "mawk -F'\\t' -v OFS='\\t' '$(echo "$awk_program" | sed '1d' | tr '\n' ' ' | sed 's/ *$//')' $dump > BRIDGE/awk.sql  # awk-1col"
    echo "cat $dump > /dev/null                                                                                  # cat"
    if ((with_small)); then
        echo "REPLICA_BENCH_BRIDGE=BRIDGE replica dump -c bench/replica-bench.yaml --input $small_dump --quiet     # replica-mask-small"
    fi
    echo '```'
    echo
    echo "Per run:"
    echo
    echo '```'
    cat "$log"
    echo '```'
    echo
    echo "Raw runs: $(basename "$csv"). Rerun: bench/run-e2e.sh$( [[ -n "$label" ]] && echo " --label ${label#-}")" \
         "$( [[ "$dump" != bench/data/shop-1g.sql ]] && echo "--dump $dump")$( ((with_small)) && [[ "$small_dump" != bench/data/shop-100m.sql ]] && echo " --small-dump $small_dump")"
} >"$md"

echo
cat "$md"

#!/usr/bin/env bash
# End-to-end benchmark of `replica dump` on a large pg_dump file, side by side with awk and cat in the same run.
#
#   bench/run-e2e.sh [--dump FILE] [--size-mb N] [--small-dump FILE] [--small-size-mb N] [--runs N] [--no-small]
#     --dump FILE         the big dump (default bench/data/shop-1g.sql; generated with --size-mb MiB when missing)
#     --size-mb N         size of the big dump when it must be generated (default 1024)
#     --small-dump FILE   a small dump, to check that peak RSS does not grow with dump size (default bench/data/shop-100m.sql)
#     --small-size-mb N   size of the small dump when it must be generated (default 100)
#     --runs N            rounds; each round runs every case once, interleaved (default 3)
#     --no-small          skip the small-dump case
#
# Cases, each timed with /usr/bin/time -f '%e s %M KiB' (wall seconds, peak RSS):
#   replica-mask   replica dump -c bench/replica-bench.yaml (4 customers columns faked) into a fresh local bridge
#   replica-pass   replica dump -c bench/replica-bench-passthrough.yaml (no rules: lex, copy, chunk, store)
#   awk-1col       mawk replacing field 4 (email) of the customers COPY block with a constant, written to a file
#   cat            cat FILE > /dev/null: the I/O floor
#   replica-mask-small  replica-mask on the small dump (peak RSS must not grow with dump size)
# Rounds are interleaved (a b c d e, a b c d e, ...) so a noisy neighbour hits every case alike; the summary takes
# the median wall time and the median peak RSS of each case. Both dumps are read once before timing, so every case
# reads from the page cache (the machine has far more RAM than the dump): this measures CPU cost, not the disk.
#
# Writes bench/results/e2e-<UTC date>.csv (one line per run) and bench/results/e2e-<UTC date>.md (machine, commands,
# table), and prints the table. Needs: dotnet, mawk, /usr/bin/time (Debian package 'time'), and for generating dumps
# the PostgreSQL server binaries (see bench/scripts/generate-dump.sh: ~90 s per GiB).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

dump=bench/data/shop-1g.sql
size_mb=1024
small_dump=bench/data/shop-100m.sql
small_size_mb=100
runs=3
with_small=1
while (($# > 0)); do
    case "$1" in
        --dump) dump=$2; shift 2 ;;
        --size-mb) size_mb=$2; shift 2 ;;
        --small-dump) small_dump=$2; shift 2 ;;
        --small-size-mb) small_size_mb=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --no-small) with_small=0; shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "run-e2e.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "run-e2e.sh: --runs needs a positive whole number, got '$runs'" >&2
    exit 2
fi
for tool in dotnet mawk /usr/bin/time; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run-e2e.sh: $tool not found (apt-get install mawk time; dotnet from the .NET SDK)" >&2
        exit 2
    fi
done

# 1. Build the CLI in Release (the Debug build uses 509-byte read blocks on purpose, which is useless to time).
echo "== building src/Replica.Cli (Release)"
dotnet build -c Release src/Replica.Cli -nologo -v quiet >/dev/null
replica="$repo/src/Replica.Cli/bin/Release/net10.0/replica"

# 2. Make sure the dumps exist (generate-dump.sh starts and stops its own throwaway PostgreSQL).
ensure_dump() { # file size_mb
    if [[ ! -s "$1" ]]; then
        echo "== $1 is missing: generating ~$2 MiB (about 90 s per GiB)"
        bench/scripts/generate-dump.sh --size-mb "$2" --out "$1"
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
avail_kib=$(df -Pk "$tmp_parent" | awk 'NR == 2 { print $4 }')
need_kib=$((dump_bytes * 3 / 2 / 1024))
if ((avail_kib < need_kib)); then
    echo "run-e2e.sh: $tmp_parent has $((avail_kib / 1024)) MiB free, needs $((need_kib / 1024)) MiB" >&2
    exit 1
fi
work=$(mktemp -d "$tmp_parent/replica-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT

date_utc=$(date -u +%Y-%m-%d)
mkdir -p bench/results
csv="bench/results/e2e-$date_utc.csv"
md="bench/results/e2e-$date_utc.md"
echo "round,case,input,input_bytes,wall_s,peak_rss_kib,output_bytes" >"$csv"

# The awk case: inside the customers COPY block replace field 4 (email) with a constant; pass every other line through.
# The '\.' line ends the block (COPY text format). mawk is Debian's default awk and the fastest common one.
awk_program='
/^COPY public\.customers / { inside = 1; print; next }
inside && $0 == "\\." { inside = 0; print; next }
inside { $4 = "masked@example.com"; print; next }
{ print }'

# Runs one case: time_case NAME INPUT STDOUT_TARGET COMMAND... ; the output directory is fresh and deleted after.
time_case() {
    local name=$1 input=$2 target=$3
    shift 3
    rm -rf "$work/out"
    mkdir "$work/out"
    local stdout=$target
    [[ "$stdout" == OUT ]] && stdout="$work/out/awk.sql"
    if ! REPLICA_BENCH_BRIDGE="$work/out/bridge" /usr/bin/time -f '%e s %M KiB' -o "$work/time.txt" "$@" >"$stdout"; then
        echo "run-e2e.sh: case $name failed: $*" >&2
        exit 1
    fi
    local wall rss out_bytes
    read -r wall _ rss _ <"$work/time.txt"
    out_bytes=$(du -sb "$work/out" | cut -f1)
    echo "$round,$name,$input,$(stat -c %s "$input"),$wall,$rss,$out_bytes" >>"$csv"
    printf '   %-20s %8s s %8s KiB peak RSS\n' "$name" "$wall" "$rss"
    rm -rf "$work/out"
}

# The machine may be shared: record its load around the timed part, so a reader can judge the noise.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Warm the page cache so that the first case is not the only one reading from disk.
cat "$dump" >/dev/null
if ((with_small)); then cat "$small_dump" >/dev/null; fi

for ((round = 1; round <= runs; round++)); do
    echo "== round $round of $runs"
    time_case replica-mask "$dump" /dev/null "$replica" dump -c bench/replica-bench.yaml --input "$dump" --quiet
    time_case replica-pass "$dump" /dev/null "$replica" dump -c bench/replica-bench-passthrough.yaml --input "$dump" --quiet
    time_case awk-1col "$dump" OUT mawk -F'\t' -v OFS='\t' "$awk_program" "$dump"
    time_case cat "$dump" /dev/null cat "$dump"
    if ((with_small)); then
        time_case replica-mask-small "$small_dump" /dev/null "$replica" dump -c bench/replica-bench.yaml --input "$small_dump" --quiet
    fi
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# 4. Summary: median wall time and median peak RSS per case, MiB/s of input, ratios against the awk baseline.
table=$(awk -F, '
NR == 1 { next }
{
    n[$2]++; wall[$2, n[$2]] = $5; rss[$2, n[$2]] = $6; bytes[$2] = $4
    if (!($2 in seen)) { seen[$2] = 1; order[++cases] = $2 }
}
function median(arr, name, count,    i, j, t, v) {
    for (i = 1; i <= count; i++) v[i] = arr[name, i] + 0
    for (i = 2; i <= count; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
}
END {
    print "| case | input MiB | runs | median wall s | MiB/s | median peak RSS MiB | max peak RSS MiB | wall s (all runs) |"
    print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    for (k = 1; k <= cases; k++) {
        c = order[k]; w = median(wall, c, n[c]); r = median(rss, c, n[c])
        maxr = 0; all = ""
        for (i = 1; i <= n[c]; i++) { if (rss[c, i] + 0 > maxr) maxr = rss[c, i] + 0; all = all (i > 1 ? ", " : "") wall[c, i] }
        med[c] = w; medr[c] = r
        printf "| %s | %.0f | %d | %.2f | %.0f | %.1f | %.1f | %s |\n", c, bytes[c] / 1048576, n[c], w, bytes[c] / 1048576 / w, r / 1024, maxr / 1024, all
    }
    print ""
    if (med["replica-mask"] > 0) {
        printf "- awk-1col / replica-mask wall time: **%.2fx** (goal >= 1.5x: %s)\n", med["awk-1col"] / med["replica-mask"], (med["awk-1col"] / med["replica-mask"] >= 1.5 ? "met" : "NOT met")
        printf "- replica-mask / replica-pass wall time: %.2fx (cost of faking 4 customers columns)\n", med["replica-mask"] / med["replica-pass"]
        printf "- replica-mask / cat wall time: %.1fx (cat is the I/O floor)\n", med["replica-mask"] / med["cat"]
        printf "- replica-mask peak RSS: %.1f MiB (goal <= 128 MiB: %s)\n", medr["replica-mask"] / 1024, (medr["replica-mask"] / 1024 <= 128 ? "met" : "NOT met")
    }
    if (medr["replica-mask-small"] > 0)
        printf "- peak RSS, big dump vs small dump (replica-mask): %.1f MiB vs %.1f MiB\n", medr["replica-mask"] / 1024, medr["replica-mask-small"] / 1024
}' "$csv")

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
ram=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release && echo "$PRETTY_NAME")
{
    echo "# End-to-end benchmark, $date_utc"
    echo
    echo "Machine: $(nproc) cores ($cpu), $ram RAM, $os, kernel $(uname -r), .NET SDK $(dotnet --version)," \
         "$(mawk -W version 2>&1 | head -n 1). Shared machine: compare ratios from this one run, not absolute figures across runs."
    echo
    echo "Input: $dump ($dump_bytes bytes)$( ((with_small)) && echo ", small: $small_dump ($small_bytes bytes)")," \
         "made by bench/scripts/generate-dump.sh; page cache warm. $runs rounds, cases interleaved; median per case." \
         "Load average (1/5/15 min) before: $load_before, after: $load_after."
    echo
    echo "$table"
    echo
    echo "Commands (timed with \`/usr/bin/time -f '%e s %M KiB'\`; BRIDGE is a fresh temp dir per run, deleted after):"
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
    echo "Raw runs: $(basename "$csv"). Rerun: bench/run-e2e.sh"
} >"$md"

echo
cat "$md"

#!/usr/bin/env bash
# Issue 10 §1: `replica dump --input` with 11 columns masked over 4 tables, zstd 1 and AES-256-GCM (key_file), against
# what a shell does with the same dump, interleaved on the same machine:
#
#   replica    REPLICA_BENCH_BRIDGE=OUT replica dump -c bench/issue10/mask-zstd-aes.yaml --input FILE --quiet
#   pipeline   mawk (the same 11 columns -> constants) < FILE | zstd -1 -T1 | openssl enc -aes-256-ctr -pbkdf2 -pass file:KEY > OUT
#              (openssl enc has no streaming GCM; CTR is GCM without the GHASH tag, so this is a lower bound)
#   zstd       zstd -1 -T1 < FILE > OUT: compression alone, the CPU floor of any compressed dump
#
#   bench/issue10/encode-compare.sh [--dump FILE] [--size-mb N] [--rounds N] [--replica BINARY] [--label L] [--results DIR]
#     --dump FILE       a `replica bench generate` dump (default bench/data/shop-1g.sql, generated with --size-mb if missing)
#     --size-mb N       size to generate when FILE is missing (default 1024)
#     --rounds N        rounds (default 5); each round runs the three cases, the first case rotating round to round
#     --replica BINARY  the replica executable to time (default: src/Replica.Cli built here in Release)
#     --label L         appended to the result files' names
#     --results DIR     where the CSV and Markdown go (default bench/results; a smoke run should point elsewhere)
#
# Prints, from the medians: replica wall / pipeline wall (goal <= 0.75), replica CPU / zstd CPU (goal <= 1.5) and
# replica's peak RSS (goal <= 128 MiB at default settings), and the same wall ratio paired within each round.
# CPU s = user + sys of the process tree (/usr/bin/time); a pipeline's peak RSS is that of its largest process.
# The dump is read once before timing, so every case reads from the page cache. Writes
# DIR/issue10-encode-<UTC date>[-L].{csv,md}. Needs: dotnet (unless --replica), mawk, zstd, openssl, /usr/bin/time,
# and to generate the dump the PostgreSQL server binaries.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
. bench/scripts/bench-lib.sh

dump=bench/data/shop-1g.sql
size_mb=1024
rounds=5
replica=""
label=""
results=bench/results
while (($# > 0)); do
    case "$1" in
        --dump) dump=$2; shift 2 ;;
        --size-mb) size_mb=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --replica) replica=$(realpath "$2"); shift 2 ;;
        --label) label=-$2; shift 2 ;;
        --results) results=$2; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "encode-compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
    echo "encode-compare.sh: --rounds needs a positive whole number, got '$rounds'" >&2
    exit 2
fi
bench_require mawk zstd openssl /usr/bin/time

if [[ -z "$replica" ]]; then
    bench_require dotnet
    bench_build_cli
    built_here=1
else
    built_here=0
fi
if [[ ! -x "$replica" ]]; then
    echo "encode-compare.sh: $replica is not an executable" >&2
    exit 2
fi

if [[ ! -s "$dump" ]]; then
    echo "== $dump is missing: generating ~$size_mb MiB"
    "$replica" bench generate --size "${size_mb}MiB" -o "$dump"
fi
dump=$(realpath "$dump")
dump_bytes=$(stat -c %s "$dump")

# The mawk program rewrites fixed field numbers, so the dump must have `replica bench generate`'s columns, in its order.
expected_headers='COPY public.customers (id, first_name, last_name, email, phone, street, city, country, birth_date, profile, created_at) FROM stdin;
COPY public.orders (id, customer_id, status, total, ordered_at, shipping_address, note) FROM stdin;
COPY public.payments (id, order_id, card_number, iban, amount, paid_at) FROM stdin;
COPY public.products (id, sku, name, description, price) FROM stdin;'
if [[ "$(grep -E '^COPY public\.(customers|orders|payments|products) ' "$dump")" != "$expected_headers" ]]; then
    echo "encode-compare.sh: $dump does not have replica bench generate's customers/orders/payments/products columns" \
         "(a dump of the retired generate-dump.sh? regenerate it with: replica bench generate --size 1GiB -o $dump)" >&2
    exit 1
fi

tmp_parent=${TMPDIR:-/tmp}
bench_check_space "$tmp_parent" $((dump_bytes * 3 / 2))
work=$(mktemp -d "$tmp_parent/replica-encode.XXXXXX")
trap 'rm -rf "$work"' EXIT
key="$work/key"
openssl rand -base64 32 >"$key"
export REPLICA_BENCH_KEY_FILE="$key"
config=bench/issue10/mask-zstd-aes.yaml

mkdir -p "$results"
date_utc=$(date -u +%Y-%m-%d)
csv="$results/issue10-encode-$date_utc$label.csv"
md="$results/issue10-encode-$date_utc$label.md"
echo "round,case,input,input_bytes,wall_s,cpu_s,peak_rss_kib,output_bytes,note" >"$csv"

# The same 11 columns as the config, replaced by constants inside their COPY blocks ('\.' ends a block; \N, SQL NULL,
# stays NULL as the transformers keep it). mawk is Debian's default awk and the fastest common one.
export AWK_PROGRAM='
/^COPY / { split($0, word, " "); table = word[2]; print; next }
$0 == "\\." { table = ""; print; next }
table == "public.customers" {
    $2 = "Alex"; $3 = "Doe"; $4 = "masked@example.com"; if ($5 != "\\N") $5 = "+1 555 0100000"
    if ($6 != "\\N") $6 = "1 Main Street"; $7 = "Springfield"; if ($9 != "\\N") $9 = "1970-01-01"; print; next
}
table == "public.orders" { if ($6 != "\\N") $6 = "1 Main Street"; print; next }
table == "public.payments" { $3 = "4000000000000002"; $4 = "DE00000000000000000000"; print; next }
table == "public.products" { $4 = "************"; print; next }
{ print }'
pipeline='mawk -F"\t" -v OFS="\t" "$AWK_PROGRAM" "$1" | zstd -q -1 -T1 | openssl enc -aes-256-ctr -pbkdf2 -pass file:"$2"'

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cat "$dump" >/dev/null

run_case() {
    case "$1" in
        replica) time_case replica "$dump" OUT "$replica" dump -c "$config" --input "$dump" --quiet ;;
        pipeline) time_case pipeline "$dump" OUT bash -c "$pipeline" _ "$dump" "$key" ;;
        zstd) time_case zstd "$dump" OUT zstd -q -1 -T1 -c "$dump" ;;
    esac
}
cases=(replica pipeline zstd)
log="$work/runs.txt"
for ((round = 1; round <= rounds; round++)); do
    echo "== round $round of $rounds" | tee -a "$log"
    for ((i = 0; i < ${#cases[@]}; i++)); do
        run_case "${cases[$(((i + round - 1) % ${#cases[@]}))]}" | tee -a "$log"
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

wall_replica=$(bench_median "$csv" replica 5)
wall_pipeline=$(bench_median "$csv" pipeline 5)
cpu_replica=$(bench_median "$csv" replica 6)
cpu_zstd=$(bench_median "$csv" zstd 6)
cpu_pipeline=$(bench_median "$csv" pipeline 6)
rss_replica_mib=$(bench_div "$(bench_median "$csv" replica 7)" 1024 %.1f)
# Paired: replica wall / pipeline wall within each round, then the median of those.
paired_wall=$(awk -F, 'NR > 1 { w[$1, $2] = $5; r[$1] = 1 }
    END {
        for (k in r) if (w[k, "pipeline"] > 0) v[++n] = w[k, "replica"] / w[k, "pipeline"]
        for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        if (n == 0) print "n/a"; else printf "%.2f", (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)
    }' "$csv")
gb=$(awk -v b="$dump_bytes" 'BEGIN { print b / 1e9 }')
wall_ratio=$(bench_div "$wall_replica" "$wall_pipeline")
cpu_ratio=$(bench_div "$cpu_replica" "$cpu_zstd")
verdict() { if "$@"; then echo met; else echo "NOT met"; fi; }
goals=$(
    echo "- replica wall / pipeline wall: **$wall_ratio** (paired per round: $paired_wall; goal <= 0.75: $(verdict bench_ge 0.75 "$wall_ratio"))"
    echo "- replica CPU / zstd CPU: **$cpu_ratio** (goal <= 1.5: $(verdict bench_ge 1.5 "$cpu_ratio"))"
    echo "- replica peak RSS: **$rss_replica_mib MiB** (goal <= 128 MiB: $(verdict bench_ge 128 "$rss_replica_mib"))"
    echo "- CPU s per GB (10^9 bytes of dump): replica $(bench_div "$cpu_replica" "$gb"), pipeline $(bench_div "$cpu_pipeline" "$gb")," \
         "zstd alone $(bench_div "$cpu_zstd" "$gb")"
)

if ((built_here)); then
    build="replica built from this tree: $(bench_machine | sed 's/.*replica at/at/')"
else
    build="replica: $replica ($("$replica" --version 2>/dev/null | head -n 1 || echo 'no --version'))"
fi
{
    echo "# Issue 10 §1: replica dump --input vs mawk | zstd | openssl, $date_utc"
    echo
    echo "Machine: $(bench_machine), $(zstd --version | sed 's/^\*\*\* //; s/, by.*//'), $(openssl version | cut -d' ' -f1-2)." \
         "$build."
    echo
    echo "Input: $dump ($dump_bytes bytes, replica bench generate), page cache warm; $rounds rounds, the first" \
         "case rotating each round; median per case. Load average (1/5/15 min) before: $load_before, after: $load_after."
    echo
    bench_table "$csv"
    echo
    echo "$goals"
    echo
    echo "Commands (timed with \`/usr/bin/time -f '%e %U %S %M'\`; OUT is a fresh directory per run, deleted after; KEY" \
         "is \`openssl rand -base64 32\`, the key_file of the config and openssl's pass file):"
    echo
    echo '```sh'
    echo "REPLICA_BENCH_BRIDGE=OUT REPLICA_BENCH_KEY_FILE=KEY replica dump -c $config --input FILE --quiet   # replica"
    echo "${pipeline//\"\$1\"/FILE} > OUT/out   # pipeline" | sed 's/"\$2"/KEY/'
    echo "zstd -q -1 -T1 -c FILE > OUT/out   # zstd"
    echo '```'
    echo
    echo "AWK_PROGRAM (the config's 11 columns, to constants):"
    echo
    echo '```awk'
    echo "$AWK_PROGRAM" | sed '1d'
    echo '```'
    echo
    echo "Per run:"
    echo
    echo '```'
    cat "$log"
    echo '```'
    echo
    echo "Raw runs: $(basename "$csv")."
} >"$md"

echo
cat "$md"

#!/usr/bin/env bash
# Issue 3 benchmark: `replica dump` with compression and encryption, and uploading to S3, side by side with the shell
# tools a user would otherwise pipe together, in the same run.
#
#   bench/run-issue3.sh [--dump FILE] [--small-dump FILE] [--runs N] [--no-local] [--no-s3] [--s3-dump FILE]
#                       [--s3-port N] [--python PYTHON] [--label L]
#     --dump FILE        the big dump (default bench/data/shop-1g.sql; make it with: replica bench generate --size 1GiB -o bench/data/shop-1g.sql)
#     --small-dump FILE  a small dump, to check that peak RSS does not grow with dump size (default bench/data/shop-100m.sql)
#     --runs N           rounds; each round runs every case once, interleaved (default 3)
#     --no-local         skip the codec cases (local bridge)
#     --no-s3            skip the S3 upload cases
#     --s3-dump FILE     the dump to upload (default: --dump). moto keeps objects in memory; see below.
#     --s3-port N        port for the moto server (default 5077)
#     --python PYTHON    a python3 with moto installed (default: python3 on PATH, else /root/.pyenv/versions/*/bin/python3)
#     --label L          name the results issue3-<UTC date>-L.{md,csv}
#
# Codec cases (no masking rules unless named -mask; every replica case stores 16 MiB chunks in a fresh local bridge):
#   replica-zstd           bench/replica-bench-zstd.yaml: zstd level 1
#   replica-zstd-aes       bench/replica-bench-zstd-aes.yaml: zstd level 1, then AES-256-GCM (passphrase, PBKDF2 600k)
#   replica-zstd-aes-mask  bench/replica-bench-zstd-aes-mask.yaml: 4 customers columns faked, zstd 1, AES-256-GCM
#   sh-zstd                zstd -1 -T1 < FILE > OUT
#   sh-zstd-aes            zstd -1 -T1 < FILE | openssl enc -aes-256-ctr -pbkdf2 -pass env:P > OUT
#                          (openssl enc has no streaming GCM; CTR is GCM without the GHASH tag, so this is a lower bound)
#   sh-awk-zstd-aes        mawk (email of customers -> constant) < FILE | zstd -1 -T1 | openssl enc ... > OUT
#   replica-zstd-aes-mask-small  replica-zstd-aes-mask on the small dump (peak RSS must not grow with dump size)
# S3 cases (a local moto server, reset and given a fresh bucket before every case; not timed):
#   replica-s3             bench/replica-bench-s3.yaml: no rules, compression none, 16 MiB chunk objects (one PUT each)
#   s3cmd-put              s3cmd put FILE s3://BUCKET/KEY with a temporary .s3cfg (multipart, 15 MiB parts by default)
#   replica-s3-small       replica-s3 on the small dump (peak RSS must not grow with dump size)
# Timed with /usr/bin/time -f '%e %U %S %M'; a pipeline's peak RSS is that of its largest process. The local bridge
# fsyncs every chunk, the shell pipelines leave their output to the page cache. The moto server runs on the same 2
# cores and is single-process Python: it is part of what both S3 cases measure.
#
# Writes bench/results/issue3-<UTC date>[-L].csv and .md (machine, commands, tables, goals) and prints them.
# Needs: dotnet, zstd, openssl, mawk, /usr/bin/time, curl, s3cmd (apt-get install s3cmd), python3 with moto.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. bench/scripts/bench-lib.sh

dump=bench/data/shop-1g.sql
small_dump=bench/data/shop-100m.sql
s3_dump=""
runs=3
with_local=1
with_s3=1
port=5077
python=""
label=""
args="$*"
while (($# > 0)); do
    case "$1" in
        --dump) dump=$2; shift 2 ;;
        --small-dump) small_dump=$2; shift 2 ;;
        --s3-dump) s3_dump=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --no-local) with_local=0; shift ;;
        --no-s3) with_s3=0; shift ;;
        --s3-port) port=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        --label) label=-$2; shift 2 ;;
        -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
        *) echo "run-issue3.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "run-issue3.sh: --runs needs a positive whole number, got '$runs'" >&2
    exit 2
fi
s3_dump=${s3_dump:-$dump}
for f in "$dump" "$small_dump" "$s3_dump"; do
    if [[ ! -s "$f" ]]; then
        echo "run-issue3.sh: $f is missing; make it with replica bench generate --size 1GiB -o FILE, or pass its path" >&2
        exit 2
    fi
done
bench_require dotnet zstd openssl mawk curl /usr/bin/time
if ((with_s3)); then
    bench_require s3cmd
    if [[ -z "$python" ]]; then
        for candidate in python3 /root/.pyenv/versions/*/bin/python3; do
            if "$candidate" -c 'import moto.server' >/dev/null 2>&1; then python=$candidate; break; fi
        done
    fi
    if [[ -z "$python" ]] || ! "$python" -c 'import moto.server' >/dev/null 2>&1; then
        echo "run-issue3.sh: no python3 with moto found (pip install 'moto[server]', or pass --python)" >&2
        exit 2
    fi
fi

bench_build_cli
dump_bytes=$(stat -c %s "$dump")
small_bytes=$(stat -c %s "$small_dump")
s3_bytes=$(stat -c %s "$s3_dump")
tmp_parent=${TMPDIR:-/tmp}
bench_check_space "$tmp_parent" $((dump_bytes * 3 / 2))
work=$(mktemp -d "$tmp_parent/replica-issue3.XXXXXX")
moto_pid=""
cleanup() {
    if [[ -n "$moto_pid" ]]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

date_utc=$(date -u +%Y-%m-%d)
mkdir -p bench/results
csv="bench/results/issue3-$date_utc$label.csv"
md="bench/results/issue3-$date_utc$label.md"
echo "round,case,input,input_bytes,wall_s,cpu_s,peak_rss_kib,output_bytes,note" >"$csv"
log="$work/runs.txt"

# A fixed benchmark passphrase, the same for Replica (its config reads REPLICA_BENCH_PASSPHRASE) and openssl (env:P).
export REPLICA_BENCH_PASSPHRASE=replica-benchmark-passphrase
export P=$REPLICA_BENCH_PASSPHRASE

# Same masking as bench/run-e2e.sh's awk case: email of the customers COPY block becomes a constant.
awk_program='
/^COPY public\.customers / { inside = 1; print; next }
inside && $0 == "\\." { inside = 0; print; next }
inside { $4 = "masked@example.com"; print; next }
{ print }'
export AWK_PROGRAM=$awk_program
sh_zstd_aes='zstd -q -1 -T1 < "$1" | openssl enc -aes-256-ctr -pbkdf2 -pass env:P'
sh_awk_zstd_aes='mawk -F"\t" -v OFS="\t" "$AWK_PROGRAM" "$1" | zstd -q -1 -T1 | openssl enc -aes-256-ctr -pbkdf2 -pass env:P'

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cat "$dump" "$small_dump" "$s3_dump" >/dev/null # page cache warm: measure CPU, not the disk

if ((with_local)); then
    for ((round = 1; round <= runs; round++)); do
        echo "== codecs, round $round of $runs" | tee -a "$log"
        {
            time_case replica-zstd "$dump" /dev/null "$replica" dump -c bench/replica-bench-zstd.yaml --input "$dump" --quiet
            time_case replica-zstd-aes "$dump" /dev/null "$replica" dump -c bench/replica-bench-zstd-aes.yaml --input "$dump" --quiet
            time_case replica-zstd-aes-mask "$dump" /dev/null "$replica" dump -c bench/replica-bench-zstd-aes-mask.yaml --input "$dump" --quiet
            time_case sh-zstd "$dump" OUT zstd -q -1 -T1 -c "$dump"
            time_case sh-zstd-aes "$dump" OUT bash -c "set -o pipefail; $sh_zstd_aes" _ "$dump"
            time_case sh-awk-zstd-aes "$dump" OUT bash -c "set -o pipefail; $sh_awk_zstd_aes" _ "$dump"
            time_case replica-zstd-aes-mask-small "$small_dump" /dev/null "$replica" dump -c bench/replica-bench-zstd-aes-mask.yaml --input "$small_dump" --quiet
        } | tee -a "$log"
    done
fi

if ((with_s3)); then
    endpoint="http://127.0.0.1:$port"
    bucket=replica-bench
    export REPLICA_BENCH_S3_ENDPOINT=$endpoint REPLICA_BENCH_BUCKET=$bucket
    export REPLICA_BENCH_S3_ACCESS_KEY=test REPLICA_BENCH_S3_SECRET_KEY=test
    cat >"$work/s3cfg" <<CFG
[default]
access_key = test
secret_key = test
host_base = 127.0.0.1:$port
host_bucket = 127.0.0.1:$port
use_https = False
signature_v2 = False
bucket_location = us-east-1
CFG
    if curl -s -o /dev/null "$endpoint"; then
        echo "run-issue3.sh: something already listens on port $port; pass --s3-port" >&2
        exit 1
    fi
    "$python" -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
    moto_pid=$!
    for _ in $(seq 100); do curl -s -o /dev/null "$endpoint/moto-api/" && break; sleep 0.2; done
    if ! curl -s -o /dev/null "$endpoint/moto-api/"; then
        echo "run-issue3.sh: moto did not start; its log:" >&2
        cat "$work/moto.log" >&2
        exit 1
    fi
    # Every case starts from an empty moto (objects live in its memory) and a fresh bucket.
    fresh_bucket() {
        curl -sf -X POST "$endpoint/moto-api/reset" >/dev/null
        s3cmd -c "$work/s3cfg" mb "s3://$bucket" >/dev/null
    }
    kib() { awk -v k="$2" '$1 == k { print $2 }' "/proc/$1/status"; }
    # The note column: what the bucket holds after the case, and moto's memory (it holds the objects).
    bench_after_case() {
        local stored
        stored=$(s3cmd -c "$work/s3cfg" du "s3://$bucket" | awk '{ print $1 }')
        echo "bucket $stored bytes; moto RSS $(($(kib "$moto_pid" VmRSS:) / 1024)) MiB (peak $(($(kib "$moto_pid" VmHWM:) / 1024)) MiB)"
    }
    for ((round = 1; round <= runs; round++)); do
        echo "== S3 upload, round $round of $runs" | tee -a "$log"
        {
            fresh_bucket
            time_case replica-s3 "$s3_dump" /dev/null "$replica" dump -c bench/replica-bench-s3.yaml --input "$s3_dump" --quiet
            fresh_bucket
            time_case s3cmd-put "$s3_dump" /dev/null s3cmd -c "$work/s3cfg" --no-progress put "$s3_dump" "s3://$bucket/shop.sql"
            fresh_bucket
            time_case replica-s3-small "$small_dump" /dev/null "$replica" dump -c bench/replica-bench-s3.yaml --input "$small_dump" --quiet
        } | tee -a "$log"
    done
    curl -sf -X POST "$endpoint/moto-api/reset" >/dev/null
    moto_peak_mib=$(($(kib "$moto_pid" VmHWM:) / 1024))
    kill "$moto_pid"
    wait "$moto_pid" 2>/dev/null || true
    moto_pid=""
    unset -f bench_after_case
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Summary and the goals of issue 3.
med() { bench_median "$csv" "$1" "$2"; }
verdict() { if "$@"; then echo met; else echo "NOT met"; fi; }
goals=$(
    if ((with_local)); then
        r=$(bench_div "$(med sh-zstd-aes 5)" "$(med replica-zstd-aes 5)")
        echo "- sh-zstd-aes / replica-zstd-aes wall time: **${r}x** (goal: Replica not slower, >= 1.0: $(verdict bench_ge "$r" 1.0))"
        r=$(bench_div "$(med sh-awk-zstd-aes 5)" "$(med replica-zstd-aes-mask 5)")
        echo "- sh-awk-zstd-aes / replica-zstd-aes-mask wall time: **${r}x** (same, with masking; awk masks 1 column, Replica 4)"
        r=$(bench_div "$(med replica-zstd-aes 5)" "$(med replica-zstd 5)")
        over=$(awk -v r="$r" 'BEGIN { printf "%.1f", (r - 1) * 100 }')
        echo "- replica-zstd-aes / replica-zstd wall time: **${r}x**, AES-GCM adds ${over}% (goal <= 10%: $(verdict bench_ge 10 "$over"))"
        echo "- replica-zstd / sh-zstd wall time: $(bench_div "$(med replica-zstd 5)" "$(med sh-zstd 5)")x;" \
             "CPU s: replica-zstd $(med replica-zstd 6), sh-zstd $(med sh-zstd 6), replica-zstd-aes $(med replica-zstd-aes 6), sh-zstd-aes $(med sh-zstd-aes 6)"
        max_rss=0
        for c in replica-zstd replica-zstd-aes replica-zstd-aes-mask; do
            v=$(med "$c" 7); if ((v > max_rss)); then max_rss=$v; fi
        done
        max_mib=$(bench_div "$max_rss" 1024 %.1f)
        echo "- largest median peak RSS of the replica codec cases: $max_mib MiB (goal <= 128 MiB: $(verdict bench_ge 128 "$max_mib"))"
        echo "- peak RSS, replica-zstd-aes-mask on the big vs the small dump: $(bench_div "$(med replica-zstd-aes-mask 7)" 1024 %.1f) MiB vs" \
             "$(bench_div "$(med replica-zstd-aes-mask-small 7)" 1024 %.1f) MiB ($(bench_div "$dump_bytes" "$small_bytes" %.1f)x the input)"
    fi
    if ((with_s3)); then
        r=$(bench_div "$(med s3cmd-put 5)" "$(med replica-s3 5)")
        echo "- S3 upload, replica-s3 throughput / s3cmd-put throughput: **${r}x** (goal >= 0.8: $(verdict bench_ge "$r" 0.8));" \
             "moto peak RSS over the S3 rounds: $moto_peak_mib MiB"
        echo "- peak RSS, replica-s3 on the S3 dump vs the small dump: $(bench_div "$(med replica-s3 7)" 1024 %.1f) MiB vs" \
             "$(bench_div "$(med replica-s3-small 7)" 1024 %.1f) MiB (goal <= 128 MiB: $(verdict bench_ge 128 "$(bench_div "$(med replica-s3 7)" 1024 %.1f)"))"
    fi
)

{
    echo "# Issue 3 benchmark: codecs and S3 upload, $date_utc"
    echo
    echo "Machine: $(bench_machine), $(zstd --version | sed 's/^\*\*\* //; s/, by.*//'), $(openssl version | cut -d' ' -f1-2)," \
         "$(mawk -W version 2>&1 | head -n 1)$( ((with_s3)) && echo ", moto $("$python" -c 'import moto; print(moto.__version__)') ($("$python" --version)), $(s3cmd --version)")." \
         "Shared machine: compare ratios from this one run, not absolute figures across runs."
    echo
    echo "Inputs: $dump ($dump_bytes bytes), small: $small_dump ($small_bytes bytes)$( ((with_s3)) && echo ", S3 upload: $s3_dump ($s3_bytes bytes)")," \
         "page cache warm. $runs rounds, cases interleaved; median per case. Load average (1/5/15 min) before: $load_before," \
         "after: $load_after. CPU s = user + sys of the process tree."
    echo
    bench_table "$csv"
    echo
    echo "$goals"
    echo
    echo "Commands (timed with \`/usr/bin/time -f '%e %U %S %M'\`; BRIDGE and OUT are fresh per run and deleted after):"
    echo
    echo '```sh'
    echo "export REPLICA_BENCH_PASSPHRASE=replica-benchmark-passphrase P=replica-benchmark-passphrase"
    if ((with_local)); then
        echo "AWK_PROGRAM='$(echo "$awk_program" | sed '1d' | tr '\n' ' ' | sed 's/ *$//')'"
        echo "REPLICA_BENCH_BRIDGE=BRIDGE replica dump -c bench/replica-bench-zstd.yaml --input $dump --quiet           # replica-zstd"
        echo "REPLICA_BENCH_BRIDGE=BRIDGE replica dump -c bench/replica-bench-zstd-aes.yaml --input $dump --quiet       # replica-zstd-aes"
        echo "REPLICA_BENCH_BRIDGE=BRIDGE replica dump -c bench/replica-bench-zstd-aes-mask.yaml --input $dump --quiet  # replica-zstd-aes-mask"
        echo "zstd -q -1 -T1 -c $dump > OUT                                                                          # sh-zstd"
        echo "${sh_zstd_aes//\"\$1\"/$dump} > OUT   # sh-zstd-aes"
        echo "${sh_awk_zstd_aes//\"\$1\"/$dump} > OUT   # sh-awk-zstd-aes"
        echo "REPLICA_BENCH_BRIDGE=BRIDGE replica dump -c bench/replica-bench-zstd-aes-mask.yaml --input $small_dump --quiet  # replica-zstd-aes-mask-small"
    fi
    if ((with_s3)); then
        echo "$python -m moto.server -H 127.0.0.1 -p $port &   # then before every case:"
        echo "curl -X POST http://127.0.0.1:$port/moto-api/reset && s3cmd -c S3CFG mb s3://replica-bench"
        echo "REPLICA_BENCH_S3_ENDPOINT=http://127.0.0.1:$port REPLICA_BENCH_S3_ACCESS_KEY=test REPLICA_BENCH_S3_SECRET_KEY=test \\"
        echo "  replica dump -c bench/replica-bench-s3.yaml --input $s3_dump --quiet   # replica-s3"
        echo "s3cmd -c S3CFG --no-progress put $s3_dump s3://replica-bench/shop.sql   # s3cmd-put"
        echo "REPLICA_BENCH_S3_ENDPOINT=... replica dump -c bench/replica-bench-s3.yaml --input $small_dump --quiet   # replica-s3-small"
        echo "# S3CFG: access_key = test, secret_key = test, host_base = host_bucket = 127.0.0.1:$port, use_https = False"
    fi
    echo '```'
    echo
    echo "Per run:"
    echo
    echo '```'
    cat "$log"
    echo '```'
    echo
    echo "Raw runs: $(basename "$csv"). Rerun: bench/run-issue3.sh $args"
} >"$md"

echo
cat "$md"

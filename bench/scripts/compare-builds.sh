#!/usr/bin/env bash
# Two builds of `replica` side by side: the same dumps through both, interleaved, to tell whether a change costs CPU.
#
#   bench/scripts/compare-builds.sh --old REV --new REV [--copy-dump FILE] [--insert-dump FILE] [--rounds N] [--out FILE]
#     --old REV, --new REV  commits (or branches) to compare; each is built in a detached worktree under $work
#     --copy-dump FILE      pg_dump COPY-form dump (default bench/data/shop-512m.sql, generated with the new build's
#                           replica bench generate --size 512MiB when missing)
#     --insert-dump FILE    optional pg_dump --column-inserts dump (one row per INSERT); skipped when not given
#     --rounds N            rounds (default 5); each round runs every case with both builds, old first in odd rounds and
#                           new first in even rounds (so neither gets a position advantage)
#     --out FILE            CSV (default bench/results/compare-<UTC date>.csv)
#
# Cases (configs in bench/):
#   lex        replica-bench-passthrough.yaml: no rules, no compression: the lexer, chunking, the local bridge
#   mask       replica-bench.yaml: 4 customers columns faked, no compression: adds the rewriter and the fakes
#   e2e        replica-bench-zstd-aes-mask.yaml: the masking plus zstd 1 and AES-256-GCM: the whole dump path
#   ins-mask   replica-bench.yaml on the INSERT dump (only with --insert-dump)
# Each run: /usr/bin/time -f '%e %U %S %M' (wall, user, sys CPU s, peak RSS KiB), stdout discarded, a fresh bridge.
# Prints per case the median CPU s of each build and their ratio (new / old), and the paired median (new / old within a
# round). CPU seconds, not wall: the machine is shared and noisy.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
. bench/scripts/bench-lib.sh

old="" new="" copy_dump=bench/data/shop-512m.sql insert_dump="" rounds=5 out=""
while (($# > 0)); do
    case "$1" in
        --old) old=$2; shift 2 ;;
        --new) new=$2; shift 2 ;;
        --copy-dump) copy_dump=$2; shift 2 ;;
        --insert-dump) insert_dump=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "compare-builds.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [[ -z "$old" || -z "$new" ]]; then
    echo "compare-builds.sh: --old and --new are required (see --help)" >&2
    exit 2
fi
if ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
    echo "compare-builds.sh: --rounds needs a positive whole number, got '$rounds'" >&2
    exit 2
fi
bench_require dotnet git /usr/bin/time
out=${out:-bench/results/compare-$(date -u +%F).csv}

work=$(mktemp -d /tmp/replica-compare-XXXXXX)
cleanup() {
    for v in old new; do
        [[ -d "$work/$v" ]] && git worktree remove --force "$work/$v" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

declare -A bin
for v in old new; do
    rev=${!v}
    git worktree add --detach "$work/$v" "$rev" >/dev/null
    echo "== building $v ($rev = $(git -C "$work/$v" rev-parse --short HEAD))"
    (cd "$work/$v" && dotnet build src/Replica.Cli -c Release -nologo -v quiet >/dev/null)
    bin[$v]="$work/$v/src/Replica.Cli/bin/Release/net10.0/replica"
done

if [[ ! -f "$copy_dump" ]]; then
    "${bin[new]}" bench generate --size 512MiB -o "$copy_dump"
fi
cases=("lex:bench/replica-bench-passthrough.yaml:$copy_dump" "mask:bench/replica-bench.yaml:$copy_dump"
       "e2e:bench/replica-bench-zstd-aes-mask.yaml:$copy_dump")
if [[ -n "$insert_dump" ]]; then
    cases+=("ins-mask:bench/replica-bench.yaml:$insert_dump")
fi
cat "$copy_dump" ${insert_dump:+"$insert_dump"} >/dev/null   # into the page cache: time CPU, not the disk

echo "round,case,build,wall_s,cpu_s,peak_rss_kib" >"$out"
for ((round = 1; round <= rounds; round++)); do
    order=(old new)
    ((round % 2 == 0)) && order=(new old)
    for spec in "${cases[@]}"; do
        IFS=: read -r name config input <<<"$spec"
        for v in "${order[@]}"; do
            rm -rf "$work/bridge"
            if ! REPLICA_BENCH_BRIDGE="$work/bridge" /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" \
                "${bin[$v]}" dump -c "$config" --input "$input" --quiet >/dev/null; then
                echo "compare-builds.sh: $v failed on $name (round $round)" >&2
                exit 1
            fi
            read -r wall user sys rss <"$work/time.txt"
            cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
            echo "$round,$name,$v,$wall,$cpu,$rss" >>"$out"
            printf '%2d %-9s %-4s %6s s wall %6s s CPU %8s KiB\n' "$round" "$name" "$v" "$wall" "$cpu" "$rss"
        done
    done
done
rm -rf "$work/bridge"

echo
echo "case       CPU s old  CPU s new  new/old  paired median  wall old  wall new  RSS MiB old/new"
awk -F, 'NR > 1 { cpu[$2, $3, $1] = $5; wall[$2, $3, $1] = $4; rss[$2, $3, $1] = $6; cases[$2] = 1; if ($1 > n) n = $1 }
    function median(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
    END { for (c in cases) { for (r = 1; r <= n; r++) { co[r] = cpu[c, "old", r]; cn[r] = cpu[c, "new", r]; p[r] = cpu[c, "new", r] / cpu[c, "old", r]
            wo[r] = wall[c, "old", r]; wn[r] = wall[c, "new", r]; ro[r] = rss[c, "old", r]; rn[r] = rss[c, "new", r] }
        mo = median(co, n); mn = median(cn, n)
        printf "%-9s %10.2f %10.2f %8.3f %14.3f %9.2f %9.2f %8.0f/%.0f\n", c, mo, mn, mn / mo, median(p, n), median(wo, n), median(wn, n), median(ro, n) / 1024, median(rn, n) / 1024 } }' "$out"
echo
echo "CSV: $out"

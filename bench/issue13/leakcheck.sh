#!/usr/bin/env bash
# Issue 13 §3: `replica leakcheck` on the synthetic shop dump, with replica bench's built-in rules (zstd 1, AES-256-GCM,
# a local bridge), interleaved between binaries: plain and --everywhere, each with /usr/bin/time (wall, user, sys,
# peak RSS). Prints one CSV line per run: binary,case,exit,wall_s,user_s,sys_s,max_rss_kib,leaks.
# Usage: bench/issue13/leakcheck.sh [--input shop.sql] [--rounds 1] BINARY [BINARY...]
# (make the input with `replica bench generate --size 1GiB -o shop.sql`)
set -euo pipefail
rounds=1
input=bench/data/shop-1g.sql
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --input) input=$2; shift 2 ;;
        *) break ;;
    esac
done
[[ $# -gt 0 ]] || { echo "usage: $0 [--input FILE] [--rounds N] BINARY..." >&2; exit 2; }
[[ -f $input ]] || { echo "no input $input: make it with 'replica bench generate --size 1GiB -o $input'" >&2; exit 2; }
work=$(mktemp -d /tmp/replica-leakcheck-bench-XXXX)
trap 'rm -rf "$work"' EXIT
export REPLICA_SECRET=leakcheck-bench-secret-0123456789
key=$(head -c 32 /dev/urandom | base64)
cat > "$work/bench.yaml" <<YAML
secret: \${REPLICA_SECRET}
locale: en
bridge:
  local:
    path: $work/bridge
  compression: { algorithm: zstd, level: 1 }
  encryption: { key: "$key" }
transformers:
  - table: public.customers
    columns:
      first_name: first-name
      last_name: last-name
      email: email
      phone: phone-number
      street: street-address
      birth_date: { transformer: date-shift, options: { days: 365 } }
      profile: { transformer: json, options: { paths: { \$.contact.email: email, \$.contact.phone: phone-number } } }
  - table: public.orders
    columns:
      shipping_address: street-address
  - table: public.payments
    columns:
      card_number: credit-card
      iban: random
YAML
# One stored dump, made by the first binary, checked by every binary.
"$1" dump -c "$work/bench.yaml" --input "$input" -q --name shop >/dev/null
echo "binary,case,exit,wall_s,user_s,sys_s,max_rss_kib,leaks"
for ((r = 0; r < rounds; r++)); do
    for case in plain everywhere; do
        for binary in "$@"; do
            extra=()
            [[ $case == everywhere ]] && extra=(--everywhere)
            set +e
            /usr/bin/time -f '%e,%U,%S,%M' -o "$work/time" "$binary" leakcheck -c "$work/bench.yaml" --name shop --input "$input" --json -q "${extra[@]}" > "$work/out.json"
            code=$?
            set -e
            leaks=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["leaks"])' "$work/out.json" 2>/dev/null || echo "?")
            echo "$binary,$case,$code,$(tail -1 "$work/time"),$leaks"
        done
    done
done

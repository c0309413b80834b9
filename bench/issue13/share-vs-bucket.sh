#!/usr/bin/env bash
# Issue 13 §1: restore through a share link (--from-url, plain HTTP GETs) against the same restore from the bucket
# (AWS SDK), on a synthetic dump stored in moto. Prints one /usr/bin/time line per step; ROUNDS interleaved rounds.
#   bench/issue13/share-vs-bucket.sh [SIZE] [ROUNDS]     (default 1GiB 3; needs python3 with moto, as CI installs it)
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-1GiB}
rounds=${2:-3}
work=$(mktemp -d /tmp/replica-share-bench-XXXX)
port=$((20000 + RANDOM % 20000))
python3 -m moto.server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf -X PUT "http://127.0.0.1:$port/share-bench" >/dev/null
dotnet build src/Replica.Cli -c Release -nologo -v q >/dev/null
replica=src/Replica.Cli/bin/Release/net10.0/replica
export REPLICA_BENCH_PASSPHRASE=share-bench-passphrase-0123456789
cat > "$work/s3.yaml" <<YAML
bridge:
  s3: { bucket: share-bench, endpoint: "http://127.0.0.1:$port", region: us-east-1, force_path_style: true,
        access_key_id: bench, secret_access_key: bench-secret }
  compression: { algorithm: zstd, level: 1 }
  encryption: { passphrase: \${REPLICA_BENCH_PASSPHRASE} }
YAML
printf 'bridge:\n  encryption: { passphrase: ${REPLICA_BENCH_PASSPHRASE} }\n' > "$work/key-only.yaml"
"$replica" bench generate --size "$size" -o "$work/shop.sql"
/usr/bin/time -f "dump %e s %U+%S cpu %M KB" "$replica" dump -c "$work/s3.yaml" --input "$work/shop.sql" --name big --quiet
rm -f "$work/shop.sql"
/usr/bin/time -f "share %e s %U+%S cpu %M KB" "$replica" share -c "$work/s3.yaml" big --quiet > "$work/link.txt"
for _ in $(seq "$rounds"); do
    /usr/bin/time -f "bucket %e s %U+%S cpu %M KB" "$replica" restore -c "$work/s3.yaml" --name big -o /dev/null --quiet
    /usr/bin/time -f "link %e s %U+%S cpu %M KB" "$replica" restore -c "$work/key-only.yaml" --from-url - -o /dev/null --quiet < "$work/link.txt"
done

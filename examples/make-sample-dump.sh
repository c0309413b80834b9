#!/usr/bin/env bash
# Regenerates examples/sample-dump.sql: loads examples/shop.sql into a throwaway PostgreSQL server and dumps it with
# pg_dump in plain format (COPY blocks, pg_dump's defaults). Needs the PostgreSQL server binaries (postgresql-15).
# Usage: examples/make-sample-dump.sh [output path]   (default: examples/sample-dump.sql)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/examples/sample-dump.sql}
source "$repo/.ci/lib/pg.sh"

pg_start
trap pg_stop EXIT

"$PG_BIN/createdb" --template=template0 --encoding=UTF8 shop
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 --single-transaction --dbname=shop --file="$repo/examples/shop.sql"
# A fixed \restrict key (pg_dump 15.14+ writes a random one by default) keeps the file byte-for-byte reproducible.
"$PG_BIN/pg_dump" --format=plain --restrict-key=ReplicaSampleDump --dbname=shop --file="$out"
echo "wrote $out ($(wc -c <"$out") bytes, $("$PG_BIN/pg_dump" --version))"

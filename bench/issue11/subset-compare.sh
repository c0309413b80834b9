#!/usr/bin/env bash
# Issue 11 §7: a subset dump (10 % of customers, their orders, order items and payments followed) against a full dump
# of the same shop-like database, live (source.connection_uri) and from a pg_dump plain file (--input), and a subset
# of 100 % (every key) that must complete within the memory budget by spilling its key store to disk. Runs on a
# throwaway PostgreSQL server this script starts, fills (plain SQL generate_series, deterministic) and stops.
#
#   bench/issue11/subset-compare.sh [--rounds N] [--scale F] [--replica BINARY] [--timeout S] [--label L] [--results DIR]
#                                   [--keep-input DIR]
#     --rounds N        rounds (default 3); every round runs every case once, the first case rotating round to round
#     --scale F         size of the database relative to the issue's (default 1: 1M customers, 1M orders, 3M order
#                       items, 1M payments, 50k products, ~1 GB of pg_dump plain output); e.g. 0.05 for a smoke run
#     --replica BINARY  the replica executable to time (default: src/Replica.Cli built here in Release, then copied
#                       into the scratch directory so that a rebuild of the tree during the run does not change it)
#     --timeout S       a case running longer than S seconds is killed and recorded as failed (default 3600)
#     --label L         appended to the result files' names
#     --results DIR     where the CSV and Markdown go (default bench/results; a smoke run should point elsewhere)
#     --keep-input DIR  also copy the pg_dump file (shop.sql) into DIR, to compare two builds' subsets of it byte for byte
#
# Database 'shop' (issue 11 §7's tables; each also has one text column, address or note, so that the issue's row counts
# make ~1 GB of pg_dump output): customers(id, name, email, phone, country, created, address),
# products(id, sku, name, price), orders(id, customer_id -> customers, placed, total, note),
# order_items(id, order_id -> orders, product_id -> products, qty, price, note), payments(id, order_id -> orders,
# amount, card, note); every foreign key NOT NULL and indexed (as a shop indexes them); ANALYZE.
# Configs (written to the scratch directory): a fixed secret, customers' name/email/phone masked (full-name, email,
# phone-number), zstd 1 and AES-256-GCM with a key_file as bench/replica-bench-live.yaml, a local bridge that is
# removed after every run; the subset configs add
#   subset: { roots: [{table: public.customers, percent: P}], follow_children: [public.orders, public.order_items,
#             public.payments], memory: 64MiB }
# with P = 10 (subset.yaml) or 100 (subset100.yaml). The key store spills into TMPDIR, set to a scratch directory
# whose peak size is sampled every 0.5 s (the spill column).
#
# Cases (stdout to /dev/null; stderr kept to read the kept rows and the closure's progress lines):
#   full-live         replica dump -c full.yaml --jobs 1
#   subset-live       replica dump -c subset.yaml
#   full-file         replica dump -c full.yaml --input shop.sql        (pg_dump --format=plain, made once)
#   subset-file       replica dump -c subset.yaml --input shop.sql
#   subset-100-live   replica dump -c subset100.yaml
#   subset-100-file   replica dump -c subset100.yaml --input shop.sql
# Timed with /usr/bin/time: wall, CPU s = user + sys of replica and its children (pg_dump for full-live), peak RSS of
# the largest process. rows/s = kept rows (full cases: rows dumped) / wall: end to end, closure and data together.
# closure s: live = from the start to the last "subset: round N done" line (startup, snapshot, catalog and closure);
# file = from "subset: keys read" (pass 2 has recorded every row's keys in the key store) to the last round; closure
# rows/s = kept rows / closure s. File mode also gives the key store's insert rate: rows of "keys read (N rows)" / the
# time from "schema read" to "keys read" (pass 2 reads the whole file as well). Server CPU s during a case is the note.
# After round 1 (so that a run cut short has them), round 1's bridge of each subset case is restored (replica restore
# --latest --output), loaded with psql ON_ERROR_STOP=1 --single-transaction into a fresh database (every foreign key
# validated) and checked: customers kept = 10 % +- 2 points (100 %: all), and orders, order items, payments and
# products kept are exactly those of the kept customers in the source; no masked customer keeps its source email or
# phone (a fake full name can equal a source name by chance: counted, not failed).
# Writes DIR/issue11-subset-<UTC date>[-L].{csv,md}: the CSV line by line, the Markdown after every round.
# Needs: dotnet (unless --replica), PostgreSQL 15 server and client, /usr/bin/time, timeout, runuser as root, and
# about 6x the dump size free in /tmp.
set -euo pipefail

script=$(realpath "$0")
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
. bench/scripts/bench-lib.sh
. .ci/lib/pg.sh

rounds=3
scale=1
replica=""
timeout_s=3600
label=""
results=bench/results
keep_input=""
while (($# > 0)); do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --scale) scale=$2; shift 2 ;;
        --replica) replica=$(realpath "$2"); shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --label) label=-$2; shift 2 ;;
        --results) results=$2; shift 2 ;;
        --keep-input) keep_input=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$script"; exit 0 ;;
        *) echo "subset-compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for value in "$rounds" "$timeout_s"; do
    if ! [[ "$value" =~ ^[1-9][0-9]*$ ]]; then
        echo "subset-compare.sh: --rounds and --timeout need positive whole numbers, got '$value'" >&2
        exit 2
    fi
done
if ! [[ "$scale" =~ ^[0-9]*\.?[0-9]+$ ]] || ! bench_ge "$scale" 0.001; then
    echo "subset-compare.sh: --scale needs a number >= 0.001, got '$scale'" >&2
    exit 2
fi
customers=$(awk -v s="$scale" 'BEGIN { printf "%d", 1000000 * s + 0.5 }')
orders=$customers
items=$((orders * 3))
payments=$orders
products=$(awk -v s="$scale" 'BEGIN { n = int(50000 * s + 0.5); print (n < 100 ? 100 : n) }')

bench_require /usr/bin/time timeout
tmp_parent=${TMPDIR:-/tmp}
bench_check_space "$tmp_parent" $((customers * 6000))
work=$(mktemp -d "$tmp_parent/replica-subset11.XXXXXX")
sampler_pid=""
cleanup() {
    if [[ -n "$sampler_pid" ]]; then kill "$sampler_pid" 2>/dev/null || true; fi
    pg_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z "$replica" ]]; then
    bench_require dotnet
    bench_build_cli
    build="replica built from this tree ($("$replica" --version 2>/dev/null | head -n 1))"
    # A private copy: the tree may be rebuilt while the rounds run.
    cp -a "$(dirname "$replica")" "$work/replica-bin"
    replica="$work/replica-bin/replica"
else
    build="replica: $replica ($("$replica" --version 2>/dev/null | head -n 1 || echo 'no --version'))"
fi
[[ -x "$replica" ]] || { echo "subset-compare.sh: $replica is not an executable" >&2; exit 2; }
machine=$(bench_machine) # now: HEAD and the tree's state when the binary was built

start_seconds=$SECONDS
phase() { echo "[$((SECONDS - start_seconds)) s] $*"; }

# The server: as bench_live_server (bench-lib.sh), which fills its own database; wal_level minimal for the load.
PG_EXTRA_CONF="shared_buffers = 256MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
wal_level = minimal
max_wal_senders = 0
autovacuum = off"
pg_start
pg_version=$("$PG_BIN/postgres" --version)
export REPLICA_PG_BINDIR=$PG_BIN
postmaster_pid=$(head -n 1 "$PG_ROOT/data/postmaster.pid")
sql() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
phase "$pg_version on 127.0.0.1:$PGPORT; filling shop: $customers customers, $orders orders, $items order items, $payments payments, $products products"
"$PG_BIN/createdb" --template=template0 --encoding=UTF8 shop

# Word lists (constants: evaluated once per statement, indexed per row).
words="WITH w AS (SELECT
    ARRAY['James','Mary','Liam','Olivia','Noah','Emma','Lucas','Sofia','Mateo','Anna','Jonas','Chloé','Ethan','Mia',
          'Jakub','Léa','Finn','Amelia','Hugo','Ella','Oscar','Grace','Leon','Emily','Théo','Sara','Elias','Lucía',
          'Ingrid','Aisha','Yuki','Søren','Zoë','Pieter','Maja','Daniel','Hannah','Samuel','Julia','Nora'] AS first,
    ARRAY['Smith','Johnson','Müller','García','Rossi','de Vries','Martin','Nowak','Andersson','Brown','Taylor',
          'O''Brien','Dubois','Jensen','Gruber','Virtanen','Ricci','Becker','Kowalski','Murphy','Schneider',
          'Lefèvre','Novák','Wright','Hansen','Peeters','Costa','Huber','Bakker','Anderson','Horvat','Wagner',
          'Martínez','Thompson','Nilsen','Haddad','Khan','Janssens','Tanaka','Kierkegaard'] AS last,
    ARRAY['Main Street','High Street','Baker Street','Friedrichstraße','Calle Mayor','Rue de la Paix','Via Roma',
          'Kungsgatan','Prinsengracht','Market Street','Queen Street','Oak Avenue','Elm Road','Station Road'] AS street,
    ARRAY['London','Berlin','Madrid','Paris','Roma','Stockholm','Amsterdam','Chicago','Toronto','Dublin','Wien',
          'Kraków','Lisboa','Zürich','Oslo','Helsinki'] AS city,
    ARRAY['GB','DE','ES','FR','IT','SE','NL','US','CA','IE','AT','PL','PT','CH','NO','FI'] AS country,
    ARRAY['gift wrap','leave at the door','call before delivery','fragile','express','no invoice in the parcel',
          'deliver to the neighbour','pick-up point','weekend delivery','reuse the box'] AS remark,
    ARRAY['red','blue','green','black','white','grey','large','small','organic','refurbished','wooden','steel'] AS adj,
    ARRAY['mug','lamp','chair','kettle','backpack','notebook','umbrella','headphones','bottle','blanket','bicycle bell',
          'desk','teapot','scarf'] AS noun)"
shop_sql() { sql --dbname=shop "$@"; }
# Two loads at a time (2 cores); each table created and filled in one transaction (wal_level minimal: no WAL).
shop_sql <<SQL &
BEGIN;
CREATE TABLE public.customers (id bigint NOT NULL, name text NOT NULL, email text NOT NULL, phone text,
    country character(2) NOT NULL, created timestamp with time zone NOT NULL, address text);
$words
INSERT INTO public.customers
SELECT g, f || ' ' || l,
       lower(replace(f, ' ', '')) || '.' || lower(replace(replace(l, ' ', ''), '''', '')) || '.' || g || '@example.com',
       CASE WHEN g % 10 = 0 THEN NULL ELSE '+1 555 ' || lpad(((g * 2654435761) % 10000000)::text, 7, '0') END,
       w.country[1 + c],
       timestamptz '2015-01-01 00:00:00+00' + ((g * 97) % 300000000) * interval '1 second',
       ((g * 31) % 999 + 1) || ' ' || w.street[1 + ((g * 13) % 14)::integer] || ', ' || lpad(((g * 7) % 99999)::text, 5, '0')
           || ' ' || w.city[1 + c] || ', door code ' || substr(md5(g::text), 1, 6) || ', floor ' || (g % 12)
           || ', account ' || md5((g * 5)::text) || md5((g * 7)::text)
FROM w, generate_series(1::bigint, $customers) AS g,
     LATERAL (SELECT w.first[1 + ((g * 7919) % 40)::integer] AS f, w.last[1 + ((g * 104729) % 40)::integer] AS l,
                     ((g * 17) % 16)::integer AS c) AS pick;
COMMIT;
BEGIN;
CREATE TABLE public.products (id bigint NOT NULL, sku text NOT NULL, name text NOT NULL, price numeric(10,2) NOT NULL);
$words
INSERT INTO public.products
SELECT g, 'SKU-' || lpad(g::text, 7, '0'), initcap(w.adj[1 + (g % 12)::integer]) || ' ' || w.noun[1 + ((g * 7) % 14)::integer] || ' ' || g,
       round((199 + (g * 7919) % 50000) / 100.0, 2)
FROM w, generate_series(1::bigint, $products) AS g;
COMMIT;
SQL
load1=$!
shop_sql <<SQL &
BEGIN;
CREATE TABLE public.orders (id bigint NOT NULL, customer_id bigint NOT NULL, placed timestamp with time zone NOT NULL,
    total numeric(12,2) NOT NULL, note text);
$words
INSERT INTO public.orders
SELECT g, 1 + (g * 2654435761) % $customers,
       timestamptz '2018-01-01 00:00:00+00' + ((g * 53) % 200000000) * interval '1 second',
       round((500 + (g * 7919) % 100000) / 100.0, 2),
       w.remark[1 + (g % 10)::integer] || '; ship to ' || ((g * 29) % 999 + 1) || ' ' || w.street[1 + ((g * 11) % 14)::integer]
           || ', ' || w.city[1 + ((g * 7) % 16)::integer] || '; ref ' || md5(g::text) || '; tracking ' || md5((g * 3)::text) || md5((g * 11)::text)
FROM w, generate_series(1::bigint, $orders) AS g;
COMMIT;
SQL
load2=$!
wait "$load1" || { echo "subset-compare.sh: loading customers/products failed" >&2; exit 1; }
wait "$load2" || { echo "subset-compare.sh: loading orders failed" >&2; exit 1; }
phase "customers, products, orders loaded"
# order_items: exactly 3 per order (7919 is coprime with the order count unless it divides it), any product.
shop_sql <<SQL &
BEGIN;
CREATE TABLE public.order_items (id bigint NOT NULL, order_id bigint NOT NULL, product_id bigint NOT NULL,
    qty integer NOT NULL, price numeric(10,2) NOT NULL, note text);
$words
INSERT INTO public.order_items
SELECT g, 1 + (g * 7919) % $orders, 1 + (g * 104729) % $products, 1 + (g % 5)::integer,
       round((199 + (g * 7919) % 50000) / 100.0, 2),
       w.adj[1 + (g % 12)::integer] || ' ' || w.noun[1 + ((g * 3) % 14)::integer] || ', lot ' || substr(md5(g::text), 1, 20)
           || ', serial ' || md5((g * 13)::text) || md5((g * 17)::text)
           || CASE WHEN g % 4 = 0 THEN ', ' || w.remark[1 + ((g / 4) % 10)::integer] ELSE '' END
FROM w, generate_series(1::bigint, $items) AS g;
COMMIT;
SQL
load1=$!
shop_sql <<SQL &
BEGIN;
CREATE TABLE public.payments (id bigint NOT NULL, order_id bigint NOT NULL, amount numeric(12,2) NOT NULL,
    card text NOT NULL, note text);
INSERT INTO public.payments
SELECT g, 1 + (g * 15485863) % $orders, round((500 + (g * 7919) % 100000) / 100.0, 2),
       lpad(((g * 2654435761) % 10000000000000000)::text, 16, '4'),
       'captured ' || (timestamptz '2018-01-01 00:00:00+00' + ((g * 59) % 200000000) * interval '1 second')::text
           || ', psp ' || md5((g * 3)::text) || ', auth ' || md5((g * 19)::text) || md5((g * 23)::text)
FROM generate_series(1::bigint, $payments) AS g;
COMMIT;
SQL
load2=$!
wait "$load1" || { echo "subset-compare.sh: loading order_items failed" >&2; exit 1; }
wait "$load2" || { echo "subset-compare.sh: loading payments failed" >&2; exit 1; }
phase "order_items, payments loaded"
shop_sql <<'SQL' &
ALTER TABLE public.customers ADD PRIMARY KEY (id);
ALTER TABLE public.products ADD PRIMARY KEY (id);
ALTER TABLE public.orders ADD PRIMARY KEY (id);
CREATE INDEX orders_customer_id_idx ON public.orders (customer_id);
ALTER TABLE public.payments ADD PRIMARY KEY (id);
CREATE INDEX payments_order_id_idx ON public.payments (order_id);
SQL
load1=$!
shop_sql <<'SQL' &
ALTER TABLE public.order_items ADD PRIMARY KEY (id);
CREATE INDEX order_items_order_id_idx ON public.order_items (order_id);
CREATE INDEX order_items_product_id_idx ON public.order_items (product_id);
SQL
load2=$!
wait "$load1" || { echo "subset-compare.sh: keys failed" >&2; exit 1; }
wait "$load2" || { echo "subset-compare.sh: keys failed" >&2; exit 1; }
shop_sql <<'SQL'
ALTER TABLE public.orders ADD FOREIGN KEY (customer_id) REFERENCES public.customers (id);
ALTER TABLE public.order_items ADD FOREIGN KEY (order_id) REFERENCES public.orders (id),
                               ADD FOREIGN KEY (product_id) REFERENCES public.products (id);
ALTER TABLE public.payments ADD FOREIGN KEY (order_id) REFERENCES public.orders (id);
VACUUM ANALYZE;
SQL
db_bytes=$(shop_sql -c "SELECT pg_database_size('shop')")
phase "keys, indexes, foreign keys, VACUUM ANALYZE done; database shop: $db_bytes bytes"

"$PG_BIN/pg_dump" --format=plain --dbname=shop --file="$work/shop.sql"
plain_bytes=$(stat -c %s "$work/shop.sql")
if [[ -n "$keep_input" ]]; then mkdir -p "$keep_input" && cp "$work/shop.sql" "$keep_input/shop.sql"; fi
gb=$(awk -v b="$plain_bytes" 'BEGIN { printf "%.3f", b / 1e9 }')
phase "pg_dump --format=plain: $plain_bytes bytes ($gb GB); by table: $(shop_sql -c "SELECT string_agg(relname || ' ' || pg_size_pretty(pg_table_size(oid)), ', ' ORDER BY relname) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace")"

# Configs.
export REPLICA_BENCH_SOURCE_URI="postgres://$PGUSER@127.0.0.1:$PGPORT/shop"
export REPLICA_BENCH_KEY_FILE="$work/bench.key"
(umask 077 && head -c 32 /dev/urandom | base64 >"$REPLICA_BENCH_KEY_FILE")
cat >"$work/full.yaml" <<'YAML'
# bench/issue11/subset-compare.sh: the shop database, customers' name/email/phone masked, zstd 1, AES-256-GCM.
secret: replica-issue11-subset-benchmark-secret
locale: en
source:
  connection_uri: ${REPLICA_BENCH_SOURCE_URI}
bridge:
  local:
    path: ${REPLICA_BENCH_BRIDGE}
  compression: { algorithm: zstd, level: 1 }
  encryption: { key_file: "${REPLICA_BENCH_KEY_FILE}" }
transformers:
  - table: public.customers
    columns:
      name: full-name
      email: email
      phone: phone-number
YAML
for percent in 10 100; do
    name=subset; ((percent == 100)) && name=subset100
    { cat "$work/full.yaml"; cat <<YAML; } >"$work/$name.yaml"
subset:
  roots: [{ table: public.customers, percent: $percent }]
  follow_children: [public.orders, public.order_items, public.payments]
  memory: 64MiB
YAML
done
REPLICA_BENCH_BRIDGE="$work/plan-bridge" "$replica" subset plan -c "$work/subset.yaml" >"$work/plan.txt" 2>&1 \
    || { echo "subset-compare.sh: replica subset plan failed:" >&2; cat "$work/plan.txt" >&2; exit 1; }

mkdir -p "$results"
date_utc=$(date -u +%Y-%m-%d)
csv="$results/issue11-subset-$date_utc$label.csv"
md="$results/issue11-subset-$date_utc$label.md"
echo "round,case,input,input_bytes,wall_s,cpu_s,peak_rss_kib,output_bytes,note,status,rows,closure_rounds,closure_s,rows_per_s,closure_rows_per_s,key_rows,key_s,spill_peak_kib" >"$csv"
log="$work/runs.txt"
failures="$work/failures.txt"
: >"$failures"
hz=$(getconf CLK_TCK)
mkdir -p "$work/keep"

# stamp: prefixes every line with the time it arrived ($EPOCHREALTIME).
stamp() { local line; while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done; }
# spill_sampler DIR OUT: writes the peak size (KiB) of DIR to OUT every 0.5 s until killed.
spill_sampler() {
    local peak=0 now
    while :; do
        now=$(du -sk "$1" 2>/dev/null | cut -f1) || now=0
        if ((${now:-0} > peak)); then peak=$now; echo "$peak" >"$2"; fi
        sleep 0.5
    done
}

# dump_case NAME CONFIG [ARGS...]: one timed replica dump; appends a CSV line (status ok or failed: ...).
dump_case() {
    local name=$1 config=$2
    shift 2
    local input=db:shop
    [[ " $* " == *" --input "* ]] && input=shop.sql
    rm -rf "$work/out" "$work/keys"
    mkdir "$work/out" "$work/keys"
    echo 0 >"$work/spill.txt"
    sync
    sql -d postgres -c CHECKPOINT
    local before after status t0
    before=$(bench_server_ticks "$postmaster_pid")
    spill_sampler "$work/keys" "$work/spill.txt" &
    sampler_pid=$!
    t0=$EPOCHREALTIME
    # stderr goes through stamp (a pipeline, so that it is complete when the command returns); stdout to /dev/null.
    set +e
    { REPLICA_BENCH_BRIDGE="$work/out/bridge" TMPDIR="$work/keys" /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" \
        timeout -k 30 "$timeout_s" "$replica" dump -c "$config" "$@" 2>&1 >/dev/null; } | stamp >"$work/stderr.txt"
    status=${PIPESTATUS[0]}
    set -e
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=""
    sleep 0.2 # let the postmaster reap the backends, so that their CPU is counted
    after=$(bench_server_ticks "$postmaster_pid")
    local wall user sys rss cpu out_bytes server_cpu spill
    read -r wall user sys rss <<<"$(tail -n 1 "$work/time.txt")"
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    out_bytes=$(du -sb "$work/out" | cut -f1)
    server_cpu=$(awk -v t=$((after - before)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
    spill=$(cat "$work/spill.txt")
    # Rows: "subset: kept N rows of M tables in R rounds (...)", else the summary's "N rows"; the closure's timings.
    local parsed
    parsed=$(awk -v t0="$t0" -v file=$([[ $input == shop.sql ]] && echo 1 || echo 0) '
        { t = $1; $1 = "" }
        / subset: schema read / { schema = t }
        / subset: keys read \(/ { keys = t; match($0, /\(([0-9]+) rows/); key_rows = substr($0, RSTART + 1, RLENGTH - 6) }
        / subset: round [0-9]+ done/ { last_round = t }
        / subset: kept [0-9]+ rows of / { for (i = 1; i <= NF; i++) if ($i == "kept") kept = $(i + 1); for (i = 1; i <= NF; i++) if ($i == "rounds" || $i == "round") r = $(i - 1) }
        / dump .* complete in / { for (i = 1; i <= NF; i++) if ($i == "rows,") total = $(i - 1) }
        END {
            rows = kept != "" ? kept : total
            closure = ""
            if (last_round != "") closure = sprintf("%.2f", last_round - (file && keys != "" ? keys : t0))
            key_s = (keys != "" && schema != "") ? sprintf("%.2f", keys - schema) : ""
            printf "%s %s %s %s %s\n", rows == "" ? "-" : rows, r == "" ? "-" : r, closure == "" ? "-" : closure,
                key_rows == "" ? "-" : key_rows, key_s == "" ? "-" : key_s
        }' "$work/stderr.txt")
    local rows closure_rounds closure_s key_rows key_s
    read -r rows closure_rounds closure_s key_rows key_s <<<"$parsed"
    [[ "$rows" == - ]] && rows="" ; [[ "$closure_rounds" == - ]] && closure_rounds=""
    [[ "$closure_s" == - ]] && closure_s="" ; [[ "$key_rows" == - ]] && key_rows="" ; [[ "$key_s" == - ]] && key_s=""
    local result=ok
    if ((status != 0)); then
        result="failed: exit $status$( ((status == 124)) && echo " (timeout after $timeout_s s)")"
        {
            echo "round $round, $name: replica dump -c $(basename "$config") $* exited $status after $wall s; stderr (last 20 lines):"
            tail -n 20 "$work/stderr.txt" | cut -d' ' -f2-
            echo
        } >>"$failures"
        echo "subset-compare.sh: case $name failed (round $round), exit $status:" >&2
        tail -n 20 "$work/stderr.txt" | cut -d' ' -f2- >&2
    fi
    local rate="" closure_rate=""
    [[ -n "$rows" ]] && rate=$(bench_div "$rows" "$wall" %.0f)
    [[ -n "$rows" && -n "$closure_s" && "$name" == subset* ]] && closure_rate=$(bench_div "$rows" "$closure_s" %.0f)
    echo "$round,$name,$input,$plain_bytes,$wall,$cpu,$rss,$out_bytes,$server_cpu,$result,$rows,$closure_rounds,$closure_s,$rate,$closure_rate,$key_rows,$key_s,$spill" >>"$csv"
    printf '   %-16s %8s s wall %8s s CPU %8s KiB RSS %7s s server CPU  rows %9s  %8s rows/s  closure %s s %s rounds  spill %s KiB  %s\n' \
        "$name" "$wall" "$cpu" "$rss" "$server_cpu" "${rows:--}" "${rate:--}" "${closure_s:--}" "${closure_rounds:--}" "$spill" "$result"
    # A failed case has neither line: grep's status 1 must not end the script (pipefail, set -e).
    { grep -E 'subset: kept|complete in' "$work/stderr.txt" || true; } | cut -d' ' -f2- | sed 's/^/      /'
    # The first round's subset bridges are kept for the checks made after it.
    if ((round == 1)) && [[ "$name" == subset* && "$result" == ok ]]; then
        rm -rf "$work/keep/$name"
        mv "$work/out/bridge" "$work/keep/$name"
    fi
    rm -rf "$work/out" "$work/keys"
}

run_case() {
    case "$1" in
        full-live) dump_case full-live "$work/full.yaml" --jobs 1 ;;
        subset-live) dump_case subset-live "$work/subset.yaml" ;;
        full-file) dump_case full-file "$work/full.yaml" --input "$work/shop.sql" ;;
        subset-file) dump_case subset-file "$work/subset.yaml" --input "$work/shop.sql" ;;
        subset-100-live) dump_case subset-100-live "$work/subset100.yaml" ;;
        subset-100-file) dump_case subset-100-file "$work/subset100.yaml" --input "$work/shop.sql" ;;
    esac
}
cases=(full-live subset-live full-file subset-file subset-100-live subset-100-file)

# Checks: restore each kept subset bridge, load it into a fresh database with every foreign key validated, compare.
checks="$work/checks.txt"
: >"$checks"
check_case() {
    local name=$1 config=$2 percent=$3
    local bridge="$work/keep/$name" verdict="" restored expected
    if [[ ! -d "$bridge" ]]; then
        echo "- $name: **not checked** (no successful run in round 1)" >>"$checks"
        return
    fi
    sql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS verify"
    sql -d postgres -c "CREATE DATABASE verify TEMPLATE template0 ENCODING 'UTF8'"
    if ! REPLICA_BENCH_BRIDGE="$bridge" "$replica" restore -c "$config" --latest --output "$work/out.sql" --quiet 2>"$work/restore.txt"; then
        echo "- $name: **FAILED**: replica restore: $(tail -n 5 "$work/restore.txt" | tr '\n' ' ')" >>"$checks"
        return
    fi
    local out_sql_bytes
    out_sql_bytes=$(stat -c %s "$work/out.sql")
    if ! "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 --single-transaction --dbname=verify -f "$work/out.sql" >/dev/null 2>"$work/load.txt"; then
        echo "- $name: **FAILED**: psql ON_ERROR_STOP --single-transaction: $(tail -n 5 "$work/load.txt" | tr '\n' ' ')" >>"$checks"
        rm -f "$work/out.sql"
        return
    fi
    rm -f "$work/out.sql"
    local fks
    fks=$(sql -d verify -c "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated")
    restored=$(sql -d verify -c "SELECT (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM orders) || ' ' ||
        (SELECT count(*) FROM order_items) || ' ' || (SELECT count(*) FROM payments) || ' ' || (SELECT count(*) FROM products)")
    # What the source holds for the kept customers; and how many kept customers still have a source value.
    expected=$(sql -d verify -c "COPY (SELECT id, name, email, coalesce(phone, '') FROM customers) TO STDOUT" |
        sql -d shop -c "CREATE TEMP TABLE k (id bigint PRIMARY KEY, name text, email text, phone text)" -c "COPY k FROM STDIN" \
            -c "CREATE TEMP TABLE o AS SELECT id FROM orders WHERE customer_id IN (SELECT id FROM k)" \
            -c "SELECT (SELECT count(*) FROM k) || ' ' || (SELECT count(*) FROM o) || ' ' ||
                (SELECT count(*) FROM order_items WHERE order_id IN (SELECT id FROM o)) || ' ' ||
                (SELECT count(*) FROM payments WHERE order_id IN (SELECT id FROM o)) || ' ' ||
                (SELECT count(DISTINCT product_id) FROM order_items WHERE order_id IN (SELECT id FROM o)) || ' ' ||
                (SELECT count(*) FROM k JOIN customers c USING (id) WHERE k.email = c.email OR (c.phone <> '' AND k.phone = c.phone)) || ' ' ||
                (SELECT count(*) FROM k JOIN customers c USING (id) WHERE k.name = c.name)")
    local kept_customers share unmasked
    kept_customers=${restored%% *}
    share=$(awk -v k="$kept_customers" -v n="$customers" 'BEGIN { printf "%.2f", 100 * k / n }')
    local same_name
    same_name=${expected##* }
    expected=${expected% *}
    unmasked=${expected##* }
    local problems=()
    [[ "$restored" == "${expected% *}" ]] || problems+=("rows (customers orders items payments products) restored $restored, the source has ${expected% *} for the kept customers")
    if ((percent == 100)); then
        [[ "$restored" == "$customers $orders $items $payments "* ]] || problems+=("100 %: expected $customers $orders $items $payments ... rows, got $restored")
    elif ! awk -v s="$share" -v p="$percent" 'BEGIN { exit !(s >= p - 2 && s <= p + 2) }'; then
        problems+=("customers kept $share %, not $percent +- 2")
    fi
    ((unmasked == 0)) || problems+=("$unmasked kept customers still have their source email or phone")
    ((fks == 4)) || problems+=("$fks validated foreign keys, expected 4")
    if ((${#problems[@]} == 0)); then verdict="ok"; else verdict="**FAILED**: $(IFS=';'; echo "${problems[*]}")"; fi
    echo "- $name: $verdict. Restored $(printf '%s' "$restored" | awk '{ printf "%s customers (%s), %s orders, %s order items, %s payments, %s products", $1, "'"$share"' %", $2, $3, $4, $5 }'); $fks foreign keys validated; restored SQL $out_sql_bytes bytes; $unmasked customers with their source email or phone, $same_name whose fake name happens to equal the source name (names come from short lists)." >>"$checks"
    sql -d postgres -c "DROP DATABASE verify"
    rm -rf "$bridge"
}

run_checks() {
    phase "checking round 1's subset dumps"
    : >"$checks"
    check_case subset-live "$work/subset.yaml" 10
    check_case subset-file "$work/subset.yaml" 10
    check_case subset-100-live "$work/subset100.yaml" 100
    check_case subset-100-file "$work/subset100.yaml" 100
    cat "$checks"
}

# write_report: the CSV so far summarised into the Markdown file (rewritten after every round).
write_report() {
    # Summary over the runs that succeeded.
    ok_csv="$work/ok.csv"
    awk -F, 'NR == 1 || $10 == "ok"' "$csv" >"$ok_csv"
    med() { bench_median "$ok_csv" "$1" "$2"; }
    m2() { bench_div "$(med "$1" "$2")" 1 %.2f; }
    m0() { bench_div "$(med "$1" "$2")" 1 %.0f; }
    has() { awk -F, -v c="$1" 'NR > 1 && $2 == c { f = 1 } END { exit !f }' "$ok_csv"; }
    ratio() { if has "$1" && has "$2"; then bench_div "$(med "$1" 5)" "$(med "$2" 5)"; else echo "n/a"; fi; }
    verdict_le() { if [[ "$2" =~ ^[0-9.]+$ ]]; then if bench_ge "$1" "$2"; then echo met; else echo "NOT met"; fi; else echo "not measured"; fi; }
    table=$(
        echo "| case | runs ok | median wall s | median CPU s | median peak RSS MiB | max peak RSS MiB | rows kept (full: dumped) | rows/s (end to end) | closure s | closure rows/s | key store spill peak MiB | server CPU s | wall s (all runs) |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
        for name in "${cases[@]}"; do
            total=$(awk -F, -v c="$name" 'NR > 1 && $2 == c' "$csv" | wc -l)
            good=$(awk -F, -v c="$name" 'NR > 1 && $2 == c' "$ok_csv" | wc -l)
            walls=$(awk -F, -v c="$name" 'NR > 1 && $2 == c { s = s (s == "" ? "" : ", ") $5 ($10 == "ok" ? "" : " (failed)") } END { print s }' "$csv")
            maxrss=$(awk -F, -v c="$name" 'NR > 1 && $2 == c && $7 + 0 > m { m = $7 + 0 } END { printf "%.1f", m / 1024 }' "$csv")
            if ((good > 0)); then
                closure="-" crate="-"
                if [[ "$name" == subset* ]]; then closure=$(m2 "$name" 13); crate=$(m0 "$name" 15); fi
                echo "| $name | $good/$total | $(m2 "$name" 5) | $(m2 "$name" 6) | $(bench_div "$(med "$name" 7)" 1024 %.1f) | $maxrss | $(m0 "$name" 11) | $(m0 "$name" 14) | $closure | $crate | $(bench_div "$(med "$name" 18)" 1024 %.1f) | $(m2 "$name" 9) | $walls |"
            else
                echo "| $name | 0/$total | - | - | - | $maxrss | - | - | - | - | - | - | $walls |"
            fi
        done
    )
    key_rates=$(awk -F, 'NR > 1 && $10 == "ok" && $16 != "" && $17 + 0 > 0 { printf "%s%s round %s: %s rows in %s s = %.0f rows/s", (n++ ? "; " : ""), $2, $1, $16, $17, $16 / $17 }' "$csv")
    r_live=$(ratio subset-live full-live)
    r_file=$(ratio subset-file full-file)
    rss_lines=$(
        for name in subset-live subset-file subset-100-live subset-100-file; do
            maxrss=$(awk -F, -v c="$name" 'NR > 1 && $2 == c && $7 + 0 > m { m = $7 + 0 } END { printf "%.1f", m / 1024 }' "$csv")
            n=$(awk -F, -v c="$name" 'NR > 1 && $2 == c' "$csv" | wc -l)
            if ((n == 0)); then v="not run"; elif bench_ge 256 "$maxrss"; then v=met; else v="NOT met"; fi
            echo "  - $name: max $maxrss MiB over $n runs: $v"
        done
    )
    complete_lines=$(
        for name in subset-100-live subset-100-file; do
            total=$(awk -F, -v c="$name" 'NR > 1 && $2 == c' "$csv" | wc -l)
            good=$(awk -F, -v c="$name" 'NR > 1 && $2 == c' "$ok_csv" | wc -l)
            check=$(grep -- "^- $name:" "$checks" | sed 's/^- [^:]*: //' | cut -d. -f1)
            if ((total > 0 && good == total)) && [[ "$check" == ok ]]; then v=met; else v="NOT met"; fi
            echo "  - $name: $good of $total runs completed, check: $check: $v"
        done
    )
    goals=$(
        echo "- subset-live / full-live wall: **$r_live** (goal <= 1.0: $(verdict_le 1.0 "$r_live"))"
        echo "- subset-file / full-file wall: **$r_file** (goal <= 2.5: $(verdict_le 2.5 "$r_file"))"
        echo "- peak RSS of the subset cases (goal <= 256 MiB):"
        echo "$rss_lines"
        echo "- 100 % subsets complete within the memory budget (spilling):"
        echo "$complete_lines"
    )

    {
        echo "# Issue 11 §7: subset dump vs full dump, live and from a file, $date_utc"
        echo
        echo "Machine: $machine (when the binary was built), $pg_version. $build. Shared, noisy VM."
        echo
        echo "Database 'shop' (--scale $scale): $customers customers, $products products, $orders orders, $items order items," \
             "$payments payments; $db_bytes bytes with indexes (pg_database_size); pg_dump --format=plain writes" \
             "$plain_bytes bytes ($gb GB), the input of the file cases. Foreign keys NOT NULL and indexed." \
             "$rounds_done of $rounds rounds done, the first case rotating each round; medians over the runs that succeeded." \
             "Load average (1/5/15 min) before: $load_before, after: $load_after. /tmp before the rounds: $df_before."
        echo
        echo "Server: throwaway, not durable (fsync=off, full_page_writes=off, synchronous_commit=off), shared_buffers=256MB," \
             "wal_level=minimal, autovacuum=off; sync and CHECKPOINT before every case."
        echo
        echo "Rerun: \`bench/issue11/subset-compare.sh --rounds $rounds${label:+ --label ${label#-}}$([[ $scale == 1 ]] || echo " --scale $scale")\`" \
             "(a smoke run: \`bench/issue11/subset-compare.sh --scale 0.05 --rounds 1 --results /tmp/smoke\`)."
        echo
        echo "$table"
        echo
        echo "$goals"
        echo
        echo "Rates: rows/s = rows kept (full cases: rows dumped) / wall, end to end (closure and data together, including" \
             "startup). Closure s: live = from the start to the last \"subset: round N done\" line (startup, snapshot, catalog," \
             "closure); file = from \"subset: keys read\" (every row's keys recorded in the key store) to the last round." \
             "Closure rows/s = rows kept / closure s. Key store inserts in file mode (pass 2, rows recorded / time from" \
             "\"schema read\" to \"keys read\", which includes reading the whole file): ${key_rates:-none}."
        echo
        echo "Checks after round 1 (round 1's bridge of each subset case restored with replica restore --latest" \
             "--output, loaded with psql ON_ERROR_STOP=1 --single-transaction into a fresh database; rows compared with what" \
             "the source holds for the kept customers):"
        echo
        cat "$checks"
        if [[ -s "$failures" ]]; then
            echo
            echo "Failures (replica's stderr):"
            echo
            echo '```'
            cat "$failures"
            echo '```'
        fi
        echo
        echo "Configs: full.yaml masks customers' name (full-name), email (email) and phone (phone-number), zstd 1, AES-256-GCM" \
             "key_file, a local bridge; subset.yaml adds \`subset: { roots: [{table: public.customers, percent: 10}]," \
             "follow_children: [public.orders, public.order_items, public.payments], memory: 64MiB }\`, subset100.yaml the" \
             "same with percent: 100. \`replica subset plan -c subset.yaml\`:"
        echo
        echo '```'
        cat "$work/plan.txt"
        echo '```'
        echo
        echo "Per run:"
        echo
        echo '```'
        cat "$log"
        echo '```'
        echo
        echo "Raw runs: $(basename "$csv") (note = server CPU s; status; rows; closure_rounds; closure_s; rows_per_s;" \
             "closure_rows_per_s; key_rows and key_s: file mode's pass 2; spill_peak_kib: the key store's temp directory)."
    } >"$md"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
df_before=$(df -h "$tmp_parent" | awk 'NR == 2 { print $4 " free of " $2 }')
rounds_done=0
echo "- pending (made after round 1)" >"$checks"
for ((round = 1; round <= rounds; round++)); do
    phase "round $round of $rounds" | tee -a "$log"
    for ((i = 0; i < ${#cases[@]}; i++)); do
        run_case "${cases[$(((i + round - 1) % ${#cases[@]}))]}" | tee -a "$log"
    done
    rounds_done=$round
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    if ((round == 1)); then run_checks; fi
    write_report
    phase "round $round done; $md written"
done

phase "done"
echo
cat "$md"

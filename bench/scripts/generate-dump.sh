#!/usr/bin/env bash
# Generates a large plain-format pg_dump file (COPY blocks) of a shop-like database, for benchmarks.
# Deterministic: the same size gives the same data (only pg_dump's header, e.g. its \restrict key, varies).
#
#   bench/scripts/generate-dump.sh [--size-mb N] [--out PATH]
#     --size-mb N   approximate size of the dump in MiB (default 1024)
#     --out PATH    output file (default bench/data/shop-1g.sql; bench/data/ is gitignored)
#
# Schema: customers (10 columns, PII: first_name, last_name, email, phone, birth_date, street, city; also country,
# created_at), products, orders (customer_id FK, shipping_address), order_items (order_id/product_id FK), payments
# (order_id FK, card_number, iban, amount, paid_at): names, e-mails, phones, addresses, cards and IBANs to mask.
# Per customer: 4 orders, 4 payments and 10 order items on average; customers make ~13% of the dump's bytes.
#
# How: a throwaway PostgreSQL server (.ci/lib/pg.sh) tuned for bulk loading; each table is created and filled with
# INSERT ... SELECT FROM generate_series in one transaction (with wal_level=minimal that writes no WAL for the rows),
# two tables at a time (2 cores); constraints are added after the load; then pg_dump writes the file.
# Needs the PostgreSQL server binaries (apt-get install postgresql-15) and about 2.5x the dump size free in /tmp.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
size_mb=1024
out="$repo/bench/data/shop-1g.sql"
while (($# > 0)); do
    case "$1" in
        --size-mb) size_mb=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "generate-dump.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ "$size_mb" =~ ^[0-9]+$ ]] || ((size_mb < 1)); then
    echo "generate-dump.sh: --size-mb needs a positive whole number of MiB, got '$size_mb'" >&2
    exit 2
fi

# Measured (pg_dump 15): one customer with its 4 orders, 4 payments and ~10 order items is ~1000 dump bytes at 20 MiB
# (~660 before payments were added); ids get longer as the data grows. The 10,000 products add a fixed ~1 MiB. See bench/scripts/README.md.
bytes_per_customer=1010
customers=$(( (size_mb - 1) * 1024 * 1024 / bytes_per_customer ))
if ((customers < 100)); then customers=100; fi
orders=$((customers * 4))
products=10000

source "$repo/.ci/lib/pg.sh"
PG_EXTRA_CONF="wal_level = minimal
max_wal_senders = 0
shared_buffers = 512MB
maintenance_work_mem = 512MB
max_wal_size = 8GB
checkpoint_timeout = 30min
autovacuum = off"
pg_start
trap pg_stop EXIT

start_seconds=$SECONDS
phase() { echo "[$((SECONDS - start_seconds)) s] $*"; }
sql() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 --dbname=shop "$@"; }

"$PG_BIN/createdb" --template=template0 --encoding=UTF8 shop
phase "server on port $PGPORT; generating $customers customers, $orders orders, ~$((orders * 5 / 2)) order items, $products products"

# Word lists shared by the generators (constants: evaluated once per statement, indexed per row).
words="
    WITH w AS (SELECT
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
        ARRAY['new','paid','shipped','delivered','cancelled'] AS status
    )"

load_customers_and_products() {
    sql <<SQL
BEGIN;
CREATE TABLE public.customers (
    id bigint NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL,
    phone text,
    birth_date date,
    street text,
    city text,
    country character(2),
    created_at timestamp with time zone NOT NULL
);
$words
INSERT INTO public.customers
SELECT g, f, l,
       lower(replace(f, ' ', '')) || '.' || lower(replace(replace(l, ' ', ''), '''', '')) || '.' || g || '@example.com',
       CASE WHEN g % 10 = 0 THEN NULL ELSE '+1 555 ' || lpad(((g * 2654435761) % 10000000)::text, 7, '0') END,
       date '1940-01-01' + ((g * 48271) % 23000)::integer,
       ((g * 31) % 999 + 1) || ' ' || w.street[1 + ((g * 13) % 14)::integer],
       w.city[1 + c],
       w.country[1 + c],
       timestamptz '2015-01-01 00:00:00+00' + ((g * 97) % 300000000) * interval '1 second'
FROM w, generate_series(1::bigint, $customers) AS g,
     LATERAL (SELECT w.first[1 + ((g * 7919) % 40)::integer] AS f, w.last[1 + ((g * 104729) % 40)::integer] AS l, ((g * 17) % 16)::integer AS c) AS pick;
COMMIT;

BEGIN;
CREATE TABLE public.products (
    id integer NOT NULL,
    sku text NOT NULL,
    name text NOT NULL,
    description text,
    price numeric(10,2) NOT NULL
);
INSERT INTO public.products
SELECT g, 'SKU-' || lpad(g::text, 6, '0'), 'Product ' || g,
       'A fine product, number ' || g || E'.\nMade with care; ships in ' || (1 + g % 9) || ' days.',
       round((199 + (g * 7919) % 50000) / 100.0, 2)
FROM generate_series(1, $products) AS g;
COMMIT;
SQL
}

load_orders() {
    sql <<SQL
BEGIN;
CREATE TABLE public.orders (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    status text NOT NULL,
    total numeric(12,2) NOT NULL,
    ordered_at timestamp with time zone NOT NULL,
    shipping_address text
);
$words
INSERT INTO public.orders
SELECT g,
       1 + (g * 2654435761) % $customers,
       w.status[1 + (g % 5)::integer],
       round((500 + (g * 7919) % 100000) / 100.0, 2),
       timestamptz '2018-01-01 00:00:00+00' + ((g * 53) % 200000000) * interval '1 second',
       ((g * 29) % 999 + 1) || ' ' || w.street[1 + ((g * 11) % 14)::integer] || ', ' || w.city[1 + ((g * 7) % 16)::integer]
FROM w, generate_series(1::bigint, $orders) AS g;
COMMIT;
SQL
}

# One payment per order, with a 16-digit card number and a German-style IBAN (DE + 2 check digits + 18 digits); the
# digits are deterministic functions of the id (no real checksums: masking does not read them).
load_payments() {
    sql <<SQL
BEGIN;
CREATE TABLE public.payments (
    id bigint NOT NULL,
    order_id bigint NOT NULL,
    card_number text NOT NULL,
    iban text NOT NULL,
    amount numeric(12,2) NOT NULL,
    paid_at timestamp with time zone NOT NULL
);
INSERT INTO public.payments
SELECT g, g,
       '4' || lpad(((g::numeric * 107514823816783) % 1000000000000000)::text, 15, '0'),
       'DE' || lpad((2 + (g * 7919) % 97)::text, 2, '0') || lpad(((g::numeric * 40032455530021331) % 1000000000000000000)::text, 18, '0'),
       round((500 + (g * 7919) % 100000) / 100.0, 2),
       timestamptz '2018-01-01 00:00:00+00' + ((g * 53) % 200000000 + 600) * interval '1 second'
FROM generate_series(1::bigint, $orders) AS g;
COMMIT;
SQL
}

load_order_items() {
    sql <<SQL
BEGIN;
CREATE TABLE public.order_items (
    order_id bigint NOT NULL,
    line_number integer NOT NULL,
    product_id integer NOT NULL,
    quantity integer NOT NULL,
    unit_price numeric(10,2) NOT NULL
);
INSERT INTO public.order_items
SELECT o, l, 1 + (o * 31 + l * 7919) % $products, 1 + (o + l) % 5, round((199 + ((o * 31 + l * 7919) % $products * 7919) % 50000) / 100.0, 2)
FROM generate_series(1::bigint, $orders) AS o, generate_series(1, 1 + (o % 4)::integer) AS l;
COMMIT;
SQL
}

# Two loaders at a time on 2 cores; fail if either fails.
load_customers_and_products & pid_a=$!
load_orders & pid_b=$!
wait "$pid_a"
wait "$pid_b"
load_order_items & pid_a=$!
load_payments & pid_b=$!
wait "$pid_a"
wait "$pid_b"
phase "tables loaded"

sql <<'SQL'
ALTER TABLE public.customers ADD PRIMARY KEY (id), ADD UNIQUE (email);
ALTER TABLE public.products ADD PRIMARY KEY (id);
ALTER TABLE public.orders ADD PRIMARY KEY (id);
ALTER TABLE public.order_items ADD PRIMARY KEY (order_id, line_number);
ALTER TABLE public.payments ADD PRIMARY KEY (id);
ALTER TABLE public.orders ADD FOREIGN KEY (customer_id) REFERENCES public.customers (id);
ALTER TABLE public.order_items ADD FOREIGN KEY (order_id) REFERENCES public.orders (id),
                               ADD FOREIGN KEY (product_id) REFERENCES public.products (id);
ALTER TABLE public.payments ADD FOREIGN KEY (order_id) REFERENCES public.orders (id);
SQL
phase "constraints added"

mkdir -p "$(dirname "$out")"
dump_start=$SECONDS
"$PG_BIN/pg_dump" --format=plain --dbname=shop --file="$out"
bytes=$(stat -c %s "$out")
total=$((SECONDS - start_seconds))
phase "pg_dump done in $((SECONDS - dump_start)) s"
echo "wrote $out: $bytes bytes ($((bytes / 1024 / 1024)) MiB, asked for $size_mb MiB) in $total s;" \
     "$((bytes / customers)) bytes per customer"

#!/usr/bin/env bash
# Fills a PostgreSQL database with a realistic shop-like data set of about N MiB (pg_database_size), server-side with
# INSERT ... SELECT FROM generate_series (fast: no data crosses the connection), for bench/run-issue4.sh.
# Deterministic: the same size gives the same rows.
#
#   bench/scripts/fill-bench-db.sh --db-mb N --dbname NAME
#     --db-mb N      target size of the database in MiB, indexes included (default 1024)
#     --dbname NAME  an existing, empty database (connection from PGHOST, PGPORT, PGUSER; psql from $PG_BIN or PATH)
#
# Schema (public):
#   customers (id PK, first_name, last_name, email UNIQUE, phone, birth_date, address, city, created_at, notes text):
#             4 PII columns masked by bench/replica-bench-live.yaml; notes is NULL for 2 rows of 3, else free text
#             with quotes, a tab, a newline and a backslash (COPY escapes them)
#   orders    (id PK, customer_id FK, status, total numeric, ordered_at, shipping_address): 4 per customer
#   events    (id PK, customer_id FK, kind, payload jsonb, created_at): 3 per customer
# Constraints and indexes are added after the load, then VACUUM ANALYZE.
set -euo pipefail

db_mb=1024
dbname=""
while (($# > 0)); do
    case "$1" in
        --db-mb) db_mb=$2; shift 2 ;;
        --dbname) dbname=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "fill-bench-db.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ "$db_mb" =~ ^[0-9]+$ ]] || ((db_mb < 1)); then
    echo "fill-bench-db.sh: --db-mb needs a positive whole number of MiB, got '$db_mb'" >&2
    exit 2
fi
if [[ -z "$dbname" ]]; then
    echo "fill-bench-db.sh: --dbname is required" >&2
    exit 2
fi

# Measured (PostgreSQL 15, this script): one customer with its 4 orders and 3 events takes BYTES_PER_CUSTOMER bytes of
# database, indexes included (1547 at 1 GiB: 725,501 customers made 1,122,663,783 bytes; 1649 at 100 MiB, where the
# empty database's ~7.5 MB counts). Override with BYTES_PER_CUSTOMER.
bytes_per_customer=${BYTES_PER_CUSTOMER:-1540}
customers=$((db_mb * 1024 * 1024 / bytes_per_customer))
if ((customers < 100)); then customers=100; fi
psql_bin=${PG_BIN:+$PG_BIN/}psql
sql() { "$psql_bin" -X -q -v ON_ERROR_STOP=1 --dbname="$dbname" "$@"; }

# Word lists (constants: evaluated once per statement, indexed per row).
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
        ARRAY['new','paid','shipped','delivered','cancelled'] AS status,
        ARRAY['page_view','search','add_to_cart','checkout','login','logout','review'] AS kind,
        ARRAY['Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0','Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) Safari/604.1',
              'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0','curl/8.5.0'] AS agent
    )"

sql <<SQL
CREATE TABLE public.customers (
    id bigint NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL,
    phone text,
    birth_date date,
    address text,
    city text,
    created_at timestamp with time zone NOT NULL,
    notes text
);
CREATE TABLE public.orders (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    status text NOT NULL,
    total numeric(12,2) NOT NULL,
    ordered_at timestamp with time zone NOT NULL,
    shipping_address text
);
CREATE TABLE public.events (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    kind text NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL
);
SQL

load_customers() {
    sql <<SQL
$words
INSERT INTO public.customers
SELECT g, f, l,
       lower(replace(f, ' ', '')) || '.' || lower(replace(replace(l, ' ', ''), '''', '')) || '.' || g || '@example.com',
       CASE WHEN g % 10 = 0 THEN NULL ELSE '+1 555 ' || lpad(((g * 2654435761) % 10000000)::text, 7, '0') END,
       date '1940-01-01' + ((g * 48271) % 23000)::integer,
       ((g * 31) % 999 + 1) || ' ' || w.street[1 + ((g * 13) % 14)::integer],
       w.city[1 + ((g * 17) % 16)::integer],
       timestamptz '2015-01-01 00:00:00+00' + ((g * 97) % 300000000) * interval '1 second',
       CASE WHEN g % 3 = 0 THEN
           'Called on ' || to_char(date '2024-01-01' + (g % 365)::integer, 'YYYY-MM-DD') || E':\tprefers "email", it''s fine.'
           || E'\nFollow-up: order ' || (g * 4) || E' arrived late; refund C:\\\\refunds\\\\' || (g % 1000) || '.'
       END
FROM w, generate_series(1::bigint, $customers) AS g,
     LATERAL (SELECT w.first[1 + ((g * 7919) % 40)::integer] AS f, w.last[1 + ((g * 104729) % 40)::integer] AS l) AS pick;
SQL
}

load_orders() {
    sql <<SQL
$words
INSERT INTO public.orders
SELECT g,
       1 + (g * 2654435761) % $customers,
       w.status[1 + (g % 5)::integer],
       round((500 + (g * 7919) % 100000) / 100.0, 2),
       timestamptz '2018-01-01 00:00:00+00' + ((g * 53) % 200000000) * interval '1 second',
       ((g * 29) % 999 + 1) || ' ' || w.street[1 + ((g * 11) % 14)::integer] || ', ' || w.city[1 + ((g * 7) % 16)::integer]
FROM w, generate_series(1::bigint, $((customers * 4))) AS g;
SQL
}

load_events() {
    sql <<SQL
$words
INSERT INTO public.events
SELECT g,
       1 + (g * 40503) % $customers,
       w.kind[1 + (g % 7)::integer],
       jsonb_build_object(
           'ip', '10.' || (g % 256) || '.' || ((g / 256) % 256) || '.' || ((g * 7) % 256),
           'agent', w.agent[1 + (g % 4)::integer],
           'path', '/products/' || (g * 31) % 10000,
           'items', jsonb_build_array((g * 13) % 10000, (g * 17) % 10000),
           'ms', (g * 7919) % 5000),
       timestamptz '2020-01-01 00:00:00+00' + ((g * 61) % 150000000) * interval '1 second'
FROM w, generate_series(1::bigint, $((customers * 3))) AS g;
SQL
}

# Two loaders at a time on 2 cores; fail if any fails.
load_customers & pid_a=$!
load_orders & pid_b=$!
wait "$pid_a"
load_events & pid_c=$!
wait "$pid_b"
wait "$pid_c"

sql <<'SQL'
ALTER TABLE public.customers ADD PRIMARY KEY (id), ADD UNIQUE (email);
ALTER TABLE public.orders ADD PRIMARY KEY (id), ADD FOREIGN KEY (customer_id) REFERENCES public.customers (id);
ALTER TABLE public.events ADD PRIMARY KEY (id), ADD FOREIGN KEY (customer_id) REFERENCES public.customers (id);
VACUUM ANALYZE;
SQL
echo "fill-bench-db.sh: $customers customers, $((customers * 4)) orders, $((customers * 3)) events in $dbname:" \
     "$(sql -At -c "SELECT pg_database_size(current_database())") bytes"

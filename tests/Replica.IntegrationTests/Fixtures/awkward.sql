-- awkward.sql: a small database full of things that trip up dump parsers, for oracle tests:
-- load it, pg_dump it, run replica over the dump, restore with psql, compare.
-- Load into an empty UTF-8 database:  psql -X -v ON_ERROR_STOP=1 -1 -f awkward.sql
-- Deterministic: only literals and generate_series (no random(), no now()), so two loads are identical.
--
-- PII columns (what tests configure transformers for; every other column is not PII):
--   public.customers           first_name, last_name, email (UNIQUE), phone
--   public.orders              email_at_order            (the customer's email, copied at order time)
--   public.employees           full_name, email (UNIQUE)
--   "Mixed Case"."Customers"   "First Name", "Last Name", "E-Mail" (UNIQUE), "Phone #"
--
-- What is awkward, by table:
--   public.all_types             every common type, NaN/Infinity, infinity dates, BC dates, arrays with NULL/quotes, enum
--   public.text_edge_cases       NULL vs '' vs the text \N, tab/LF/CR/backslash, "\." lines, COPY look-alikes, emoji
--   "Mixed Case"."Tab.le, ""x"""  quoted names with spaces, dots, commas, quotes, non-ASCII letters, a keyword column
--   public.no_columns            a table with no columns (its COPY rows are empty lines)
--   public.measurements          partitioned (range) with partitions measurements_2023 and measurements_2024
--   public.order_lines           a GENERATED ALWAYS ... STORED column (pg_dump leaves it out of COPY)
--   public.customers/orders      unique email, FK orders -> customers, self-referencing FK customers.referred_by
--   public.employees             self-referencing FK manager_id -> employees (a tree), a domain-typed column
--   "Mixed Case"."Customers"/"Orders"  the customers/orders pair again with quoted mixed-case names
--   public.big_values            one row with a ~240 KB text value and a 100 KB bytea value
--   public."order"               a table and a column ("group") named by SQL keywords
-- Functions/views: a dollar-quoted body containing a "COPY ... FROM stdin;" line and a "\." line plus the tags $$ and
-- $_$; a body with nested /* /* */ */ comments; a BEGIN ATOMIC body (semicolons inside one statement); a view whose
-- definition here has nested comments and string literals with ; -- /*.

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET TimeZone = 'UTC';

/* A nested comment at top level: /* inner; COPY x FROM stdin; */ still inside the outer comment ' " $$ */

CREATE SCHEMA "Mixed Case";

CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy', 'très "heureux"');

CREATE DOMAIN public.email_address AS text CHECK (VALUE LIKE '%_@_%');

-- ---------------------------------------------------------------------------------------------------------------------
-- Every common type, with the special values each one has.
CREATE TABLE public.all_types (
    id integer PRIMARY KEY,
    c_int integer,
    c_bigint bigint,
    c_numeric numeric(20,6),
    c_numeric_any numeric,
    c_real real,
    c_double double precision,
    c_bool boolean,
    c_text text,
    c_varchar varchar(12),
    c_char char(5),
    c_date date,
    c_timestamp timestamp without time zone,
    c_timestamptz timestamp with time zone,
    c_interval interval,
    c_uuid uuid,
    c_inet inet,
    c_json json,
    c_jsonb jsonb,
    c_bytea bytea,
    c_int_array integer[],
    c_text_array text[],
    c_mood public.mood
);

INSERT INTO public.all_types
SELECT g,
       CASE WHEN g % 10 = 0 THEN NULL ELSE (g * 7919) % 100000 - 50000 END,
       CASE g WHEN 1 THEN 9223372036854775807 WHEN 2 THEN -9223372036854775808 ELSE g::bigint * 1000000007 END,
       CASE g WHEN 3 THEN 'NaN'::numeric ELSE round(g * 12.3456789, 6) * (CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END) END,
       CASE g % 7 WHEN 0 THEN 'NaN'::numeric WHEN 1 THEN NULL WHEN 2 THEN 'Infinity'::numeric WHEN 3 THEN '-Infinity'::numeric
                  ELSE g::numeric / 7 END,
       CASE g % 11 WHEN 0 THEN 'Infinity'::real WHEN 1 THEN '-Infinity'::real WHEN 2 THEN 'NaN'::real WHEN 3 THEN '-0'::real
                   ELSE (g / 3.0)::real END,
       CASE g % 13 WHEN 0 THEN 1e-300 WHEN 1 THEN -1.7976931348623157e308 ELSE g * pi() END,
       CASE g % 3 WHEN 0 THEN true WHEN 1 THEN false END,
       'row ' || g,
       left('varchar ' || g || ' padding', 12),
       CASE WHEN g % 5 = 0 THEN 'ab' ELSE chr(97 + g % 26) END,
       CASE g WHEN 3 THEN 'infinity'::date WHEN 4 THEN '-infinity'::date WHEN 5 THEN '0044-03-15 BC'::date
              ELSE date '2000-01-01' + g * 37 END,
       CASE g WHEN 6 THEN 'infinity'::timestamp WHEN 7 THEN '-infinity'::timestamp WHEN 8 THEN '4713-01-01 00:00:00 BC'::timestamp
              ELSE timestamp '2024-02-29 12:34:56.789' + g * interval '1 day 3 hours 17 minutes 1.000001 seconds' END,
       CASE g WHEN 9 THEN 'infinity'::timestamptz
              ELSE timestamptz '2024-03-31 01:30:00+01' + g * interval '1 hour 1 second' END,
       CASE WHEN g % 4 = 0 THEN -(g * interval '1 mon 2 days 03:04:05.6') ELSE g * interval '1 year 1 mon 2 days 03:04:05.6' END,
       md5('uuid' || g)::uuid,
       CASE WHEN g % 3 = 0 THEN ('2001:db8::' || to_hex(g) || '/64')::inet ELSE ('10.' || (g % 256) || '.0.1/' || (8 + g % 25))::inet END,
       CASE WHEN g % 2 = 0 THEN ('{ "id" : ' || g || ',  "s": "tab\there \"q\" \\ \u00e9", "n": null }')::json
            ELSE json_build_object('id', g, 'name', 'item ' || g, 'tags', json_build_array('a', 'b,c', 'd"e')) END,
       jsonb_build_object('id', g, 'contact', jsonb_build_object('email', 'user' || g || '@example.com'),
                          'unicode', 'ü€𝄞', 'text', E'line1\nline2\ttab\\back', 'empty', ''),
       CASE WHEN g % 9 = 0 THEN ''::bytea ELSE decode(md5(g::text), 'hex') || '\x00ff0a0d5c09'::bytea END,
       CASE WHEN g % 6 = 0 THEN '{{1,2},{3,4}}'::integer[] WHEN g % 6 = 1 THEN '{}'::integer[] ELSE ARRAY[g, NULL, -g] END,
       CASE WHEN g % 5 = 0 THEN NULL
            ELSE ARRAY['plain', 'with space', 'with,comma', 'with"quote', E'back\\slash', 'NULL', NULL, '', '{brace}',
                       E'tab\there', E'new\nline', E'\\N', 'ü ' || g] END,
       (enum_range(NULL::public.mood))[1 + g % 4]
FROM generate_series(1, 60) AS g;

-- ---------------------------------------------------------------------------------------------------------------------
-- Text that COPY's text format must escape, and text that looks like dump syntax.
CREATE TABLE public.text_edge_cases (
    id integer PRIMARY KEY,
    label text NOT NULL,
    v text,
    note text DEFAULT 'COPY x FROM stdin;'
);

INSERT INTO public.text_edge_cases (id, label, v) VALUES
    (1, 'null', NULL),
    (2, 'empty string', ''),
    (3, 'the text \N', E'\\N'),
    (4, 'the word NULL', 'NULL'),
    (5, 'tab', E'a\tb'),
    (6, 'newline', E'line1\nline2'),
    (7, 'carriage return', E'a\rb'),
    (8, 'crlf', E'a\r\nb'),
    (9, 'backslashes', E'C:\\temp\\new\\'),
    (10, 'backslash-dot alone', E'\\.'),
    (11, 'backslash-dot line', E'first\n\\.\nlast'),
    (12, 'copy look-alike', E'COPY public.customers (id) FROM stdin;\n1\n\\.\n'),
    (13, 'sql injection look-alike', 'x''); DROP TABLE public.customers; --'),
    (14, 'comment look-alike', '/* not a comment */ -- nor this'),
    (15, 'dollar quotes', '$$ $_$ $tag$ $'),
    (16, 'emoji', '😀👍🏽 👨‍👩‍👧‍👦 🇩🇪'),
    (17, 'non-ascii', 'Zoë Ørsted – naïve café, Straße, Ελληνικά, Русский, 日本語, العربية, עברית'),
    (18, 'combining accent', E'e\u0301'),
    (19, 'zero width', E'a\u200Bb\uFEFF'),
    (20, 'control characters', E'\x01\x02\x1f\x7f'),
    (21, 'leading and trailing spaces', '  padded  '),
    (22, 'only spaces', '   '),
    (23, 'single quote', 'O''Brien'),
    (24, 'double quote', 'say "hi"'),
    (25, 'separators', 'a|b,c;d'),
    (26, 'ends with backslash', E'ends with \\'),
    (27, 'escaped-tab text', E'\\t is not a tab'),
    (28, 'four-byte utf-8', '𝄞 𠜎 🀄'),
    (29, 'long line', repeat('0123456789', 1000)),
    (30, 'vertical tab and form feed', E'a\x0bb\x0cc'),
    (31, 'backspace', E'a\bb'),
    (32, 'only newline', E'\n'),
    (33, 'only tab', E'\t'),
    (34, 'only backslash', E'\\'),
    (35, 'end-of-copy marker with CR', E'\\.\r');

-- Generated rows mixing the awkward characters at varying positions.
INSERT INTO public.text_edge_cases (id, label, v, note)
SELECT g,
       'generated ' || g,
       repeat(E'\t', g % 3) || 'value ' || g || repeat(E'\n', g % 2) || repeat(E'\\', g % 4) || repeat('é', g % 5)
           || CASE WHEN g % 7 = 0 THEN E'\r\n' ELSE '' END,
       CASE WHEN g % 4 = 0 THEN NULL WHEN g % 4 = 1 THEN '' ELSE 'note ' || g END
FROM generate_series(36, 120) AS g;

-- ---------------------------------------------------------------------------------------------------------------------
-- Quoted names: spaces, dots, commas, quotes, non-ASCII letters, keywords.
CREATE TABLE "Mixed Case"."Tab.le, ""x""" (
    "Id" integer PRIMARY KEY,
    "Col One" text,
    "a,b" integer,
    "quote""d" text,
    "ünïcødé Spalte" text,
    "日本語" text,
    "select" boolean,
    "UPPER" text,
    lower_case text
);

INSERT INTO "Mixed Case"."Tab.le, ""x"""
SELECT g,
       'one ' || g,
       g * 3,
       'he said "' || g || '"',
       'Grüße ' || g,
       '値' || g,
       g % 2 = 0,
       upper('upper ' || g),
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'lower ' || g END
FROM generate_series(1, 40) AS g;

-- ---------------------------------------------------------------------------------------------------------------------
-- A table with no columns: pg_dump writes "COPY public.no_columns  FROM stdin;" and one empty line per row.
CREATE TABLE public.no_columns ();
INSERT INTO public.no_columns SELECT FROM generate_series(1, 20);

-- ---------------------------------------------------------------------------------------------------------------------
-- A partitioned table: the data is dumped per partition.
CREATE TABLE public.measurements (
    id integer NOT NULL,
    measured_on date NOT NULL,
    sensor text NOT NULL,
    reading double precision
) PARTITION BY RANGE (measured_on);

CREATE TABLE public.measurements_2023 PARTITION OF public.measurements
    FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE public.measurements_2024 PARTITION OF public.measurements
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

INSERT INTO public.measurements
SELECT g, date '2023-06-01' + g * 4, 'sensor-' || (g % 5), CASE WHEN g % 17 = 0 THEN NULL ELSE g * 0.25 END
FROM generate_series(1, 120) AS g;

-- ---------------------------------------------------------------------------------------------------------------------
-- Customers and orders: unique email, foreign keys, a self-reference.
CREATE TABLE public.customers (
    id integer PRIMARY KEY,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL UNIQUE,
    phone text,
    referred_by integer REFERENCES public.customers (id),
    vip boolean NOT NULL DEFAULT false,
    created_at timestamp with time zone NOT NULL
);

COMMENT ON TABLE public.customers IS E'People who buy things.\nSecond line; with a semicolon -- and dashes /* and a star comment */ and it''s quoted.';
COMMENT ON COLUMN public.customers.email IS 'PII: unique, used to log in';

INSERT INTO public.customers (id, first_name, last_name, email, phone, referred_by, vip, created_at)
SELECT g,
       (ARRAY['José', 'Zoë', 'Łukasz', 'Søren', 'Ægir', 'Renée', 'Mary-Jane', 'Nguyễn', '王', 'Ada',
              'Björn', 'Chloé', 'Dmitrij', 'Émile', 'Fatima', 'Grace', 'Hiroshi', 'Ingrid', 'Jürgen', 'Kai'])[1 + (g - 1) % 20],
       (ARRAY['O''Connor', 'van der Berg', 'Müller', 'Smith', 'García Márquez', 'Østergaard', 'Dupont', 'Kowalski',
              'Nakamura', 'Lovelace', 'd''Arc', 'Schmidt-Weiß', 'Ivanov', 'Zola', 'Haddad'])[1 + (g * 7) % 15],
       CASE WHEN g = 7 THEN '"john..doe"@example.com'
            WHEN g % 10 = 3 THEN 'Mixed.Case+tag' || g || '@Example.COM'
            ELSE 'customer' || g || '@example.com' END,
       CASE WHEN g % 9 = 0 THEN NULL WHEN g % 9 = 1 THEN '' ELSE '+44 20 7946 ' || lpad((g * 37 % 10000)::text, 4, '0') END,
       CASE WHEN g > 3 AND g % 4 = 0 THEN g / 4 END,
       g % 8 = 0,
       timestamptz '2021-01-01 00:00:00+00' + g * interval '3 days 5 hours 7 minutes'
FROM generate_series(1, 80) AS g;

CREATE TABLE public.orders (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES public.customers (id),
    email_at_order text NOT NULL,
    status text NOT NULL CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    total numeric(10,2) NOT NULL,
    ordered_at timestamp with time zone NOT NULL
);

INSERT INTO public.orders (id, customer_id, email_at_order, status, total, ordered_at)
SELECT g, c.id, c.email, (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + g % 4], round(g * 13.37 % 1000, 2),
       c.created_at + g * interval '1 day 2 hours'
FROM generate_series(1, 150) AS g
JOIN public.customers AS c ON c.id = 1 + (g * 13) % 80;
ALTER TABLE public.orders ALTER COLUMN id RESTART WITH 151;

CREATE TABLE public.order_lines (
    order_id integer NOT NULL REFERENCES public.orders (id),
    line_number integer NOT NULL,
    quantity integer NOT NULL,
    unit_price_cents bigint NOT NULL,
    line_total_cents bigint GENERATED ALWAYS AS (quantity * unit_price_cents) STORED,
    PRIMARY KEY (order_id, line_number)
);

INSERT INTO public.order_lines (order_id, line_number, quantity, unit_price_cents)
SELECT 1 + (g - 1) / 2, 1 + (g - 1) % 2, 1 + g % 5, 199 + g * 101 % 5000
FROM generate_series(1, 200) AS g;

CREATE VIEW public.customer_emails AS
/* A view comment /* with a nested comment */ that pg_dump does not keep */
SELECT id, email, 'it''s; -- not a comment /* nor this */' AS note
FROM public.customers
WHERE email LIKE '%@%';

-- ---------------------------------------------------------------------------------------------------------------------
-- A tree: employees reporting to employees.
CREATE TABLE public.employees (
    id integer PRIMARY KEY,
    full_name text NOT NULL,
    email public.email_address NOT NULL UNIQUE,
    manager_id integer REFERENCES public.employees (id)
);

INSERT INTO public.employees
SELECT g, 'Employee Nº ' || g, 'employee' || g || '@corp.example', CASE WHEN g = 1 THEN NULL ELSE g / 2 END
FROM generate_series(1, 31) AS g;

-- ---------------------------------------------------------------------------------------------------------------------
-- The customers/orders pair again, with quoted mixed-case names.
CREATE TABLE "Mixed Case"."Customers" (
    "Id" integer PRIMARY KEY,
    "First Name" text NOT NULL,
    "Last Name" text NOT NULL,
    "E-Mail" text NOT NULL UNIQUE,
    "Phone #" text
);

INSERT INTO "Mixed Case"."Customers"
SELECT g,
       (ARRAY['Ana', 'Bo', 'Çağla', 'Dörte', 'Eoin', 'Фёдор', 'Guðrún', 'Hélène'])[1 + g % 8],
       (ARRAY['Ångström', 'Brontë', 'Czech', 'D''Souza', 'Eßer'])[1 + g % 5],
       'Mixed.Customer' || g || '@Example.org',
       CASE WHEN g % 6 = 0 THEN NULL ELSE '+49 30 ' || (1000000 + g * 4567) END
FROM generate_series(1, 50) AS g;

CREATE TABLE "Mixed Case"."Orders" (
    "Order Id" integer PRIMARY KEY,
    "Customer Id" integer NOT NULL REFERENCES "Mixed Case"."Customers" ("Id"),
    "Amount €" numeric(10,2)
);

INSERT INTO "Mixed Case"."Orders"
SELECT g, 1 + g % 50, g * 2.5
FROM generate_series(1, 100) AS g;

CREATE SEQUENCE "Mixed Case"."Seq, ""odd""" START 42;
ALTER SEQUENCE "Mixed Case"."Seq, ""odd""" RESTART WITH 4242;

-- ---------------------------------------------------------------------------------------------------------------------
-- Big values: a row that no small buffer holds.
CREATE TABLE public.big_values (
    id integer PRIMARY KEY,
    payload text,
    blob bytea
);

INSERT INTO public.big_values VALUES
    (1, repeat(E'ab\tc\\d\n', 40000), decode(repeat('00ff5c0a0d09', 17000), 'hex')),
    (2, repeat('x', 100), NULL),
    (3, NULL, ''::bytea);

-- Keyword names.
CREATE TABLE public."order" (
    "group" integer,
    "from" text
);
INSERT INTO public."order" SELECT g, 'from ' || g FROM generate_series(1, 20) AS g;

-- ---------------------------------------------------------------------------------------------------------------------
-- Function bodies that contain dump syntax. pg_dump keeps these bodies verbatim inside dollar quotes, so a dump parser
-- must not take the "COPY ... FROM stdin;" line for the start of a COPY block, nor the "\." line for its end.
-- The body also contains $$ and $_$, so pg_dump has to pick yet another dollar tag for it.
CREATE FUNCTION public.copy_lookalike() RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    AS $body$
DECLARE
    fake text := $fake$
COPY public.customers (id, email) FROM stdin;
1	someone@example.com
\.
$fake$;
BEGIN
    -- Neither the line above starting with COPY nor the "\." line is dump syntax here.
    RETURN fake || '$$' || '$_$';
END
$body$;

CREATE FUNCTION public.nested_comments(x integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
    /* outer /* inner; COPY x FROM stdin; */ still a comment ' " */
    SELECT x + 1 -- a trailing comment; with a semicolon
$$;

-- A SQL-standard body: pg_dump prints it as BEGIN ATOMIC ... END with semicolons inside the one statement.
CREATE FUNCTION public.double_it(a integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT a * 2;
END;

CREATE FUNCTION "Mixed Case"."Odd Function, ""quoted"""(t text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS 'SELECT t || '';'' || E''\\.''';

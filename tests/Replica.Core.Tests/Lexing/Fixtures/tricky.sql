--
-- PostgreSQL database dump
--

\restrict AbCdEf0123456789

-- Dumped from database version 15.18
-- Dumped by pg_dump version 15.18

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

\connect -reuse-previous=on "dbname='shop'"

CREATE FUNCTION public.tricky() RETURNS text
    LANGUAGE plpgsql
    AS $_$
BEGIN
  -- looks like data: COPY public.customers (id) FROM stdin;
  RETURN 'a;b' || $x$ \. ; $x$; /* nested /* comment; */ still; */
END;
$_$;

/* a block comment; with /* nesting */ and a semicolon; */
CREATE TABLE public.customers (
    id integer NOT NULL,
    email character varying(60) NOT NULL,
    "First Name" text,
    note text DEFAULT 'it''s; fine'::text
);

CREATE TABLE "Odd Schema"."Tab.le, ""x""" (
    "ÄÖ" text,
    n numeric(10,2)
);

CREATE TABLE public.empty_cols (
);

COMMENT ON COLUMN public.customers.note IS E'escaped \' quote; and \\ backslash';

COPY public.customers (id, email, "First Name", note) FROM stdin;
1	alice@example.com	Alice	\N
2	bob@example.com	Bob	tab\there\nnewline \\ backslash
3	carol@example.com	\\N	
4	dave@example.com	D\303\251j\xe0	emoji 😀 and bad utf8 ��
\.

COPY "Odd Schema"."Tab.le, ""x""" ("ÄÖ", n) FROM stdin;
ü	1.50
\N	NaN
\.

COPY public.empty_cols  FROM stdin;


\.

INSERT INTO public.customers VALUES (5, 'eve@example.com', 'Eve', NULL);
INSERT INTO public.customers (id, email, "First Name", note) VALUES (6, 'o''neil@example.com', E'Fr\\u00e4nk', 'x'::text);
INSERT INTO public.customers (id, email, "First Name", note) VALUES
	(7, 'g@example.com', 'G', NULL),
	(8, 'h@example.com', 'H;', 'semi;colon');

ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_email_key UNIQUE (email);

\unrestrict AbCdEf0123456789

--
-- PostgreSQL database dump complete
--


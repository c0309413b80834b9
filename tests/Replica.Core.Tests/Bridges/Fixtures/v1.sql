--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

CREATE TABLE public.customers (
    id integer NOT NULL,
    name text,
    email text
);

CREATE TABLE public.orders (
    id integer NOT NULL,
    customer_id integer,
    total numeric(10,2)
);

COPY public.customers (id, name, email) FROM stdin;
1	Customer 1	customer1@example.com
2	Customer 2	customer2@example.com
3	Customer 3	customer3@example.com
4	Customer 4	customer4@example.com
5	Customer 5	customer5@example.com
6	Customer 6	customer6@example.com
7	Customer 7	customer7@example.com
8	Customer 8	customer8@example.com
9	Customer 9	customer9@example.com
10	Customer 10	customer10@example.com
11	Customer 11	customer11@example.com
12	Customer 12	customer12@example.com
13	Customer 13	customer13@example.com
14	Customer 14	customer14@example.com
15	Customer 15	customer15@example.com
16	Customer 16	customer16@example.com
17	Customer 17	customer17@example.com
18	Customer 18	customer18@example.com
19	Customer 19	customer19@example.com
20	Customer 20	customer20@example.com
21	Customer 21	customer21@example.com
22	Customer 22	customer22@example.com
23	Customer 23	customer23@example.com
24	Customer 24	customer24@example.com
25	Customer 25	customer25@example.com
26	Customer 26	customer26@example.com
27	Customer 27	customer27@example.com
28	Customer 28	customer28@example.com
29	Customer 29	customer29@example.com
30	Customer 30	customer30@example.com
31	Customer 31	customer31@example.com
32	Customer 32	customer32@example.com
33	Customer 33	customer33@example.com
34	Customer 34	customer34@example.com
35	Customer 35	customer35@example.com
36	Customer 36	customer36@example.com
37	Customer 37	customer37@example.com
38	Customer 38	customer38@example.com
39	Customer 39	customer39@example.com
40	Customer 40	customer40@example.com
41	Customer 41	customer41@example.com
42	Customer 42	customer42@example.com
43	Customer 43	customer43@example.com
44	Customer 44	customer44@example.com
45	Customer 45	customer45@example.com
46	Customer 46	customer46@example.com
47	Customer 47	customer47@example.com
48	Customer 48	customer48@example.com
49	Customer 49	customer49@example.com
50	Customer 50	customer50@example.com
51	Customer 51	customer51@example.com
52	Customer 52	customer52@example.com
53	Customer 53	customer53@example.com
54	Customer 54	customer54@example.com
55	Customer 55	customer55@example.com
56	Customer 56	customer56@example.com
57	Customer 57	customer57@example.com
58	Customer 58	customer58@example.com
59	Customer 59	customer59@example.com
60	Customer 60	customer60@example.com
\.


COPY public.orders (id, customer_id, total) FROM stdin;
1	8	13.01
2	15	26.02
3	22	39.03
4	29	52.04
5	36	65.05
6	43	78.06
7	50	91.07
8	57	104.08
9	4	117.09
10	11	130.10
11	18	143.11
12	25	156.12
13	32	169.13
14	39	182.14
15	46	195.15
16	53	208.16
17	60	221.17
18	7	234.18
19	14	247.19
20	21	260.20
21	28	273.21
22	35	286.22
23	42	299.23
24	49	312.24
25	56	325.25
26	3	338.26
27	10	351.27
28	17	364.28
29	24	377.29
30	31	390.30
31	38	403.31
32	45	416.32
33	52	429.33
34	59	442.34
35	6	455.35
36	13	468.36
37	20	481.37
38	27	494.38
39	34	507.39
40	41	520.40
41	48	533.41
42	55	546.42
43	2	559.43
44	9	572.44
45	16	585.45
46	23	598.46
47	30	611.47
48	37	624.48
49	44	637.49
50	51	650.50
51	58	663.51
52	5	676.52
53	12	689.53
54	19	702.54
55	26	715.55
56	33	728.56
57	40	741.57
58	47	754.58
59	54	767.59
60	1	780.60
61	8	793.61
62	15	806.62
63	22	819.63
64	29	832.64
65	36	845.65
66	43	858.66
67	50	871.67
68	57	884.68
69	4	897.69
70	11	910.70
71	18	923.71
72	25	936.72
73	32	949.73
74	39	962.74
75	46	975.75
76	53	988.76
77	60	1.77
78	7	14.78
79	14	27.79
80	21	40.80
\.


ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);

--
-- PostgreSQL database dump complete
--


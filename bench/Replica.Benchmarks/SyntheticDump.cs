using System.Text;

namespace Replica.Benchmarks;

/// <summary>
/// A COPY-heavy dump shaped like pg_dump output: a customers table of 10 columns (4 of them personal data) and an
/// orders table, generated deterministically so every run measures the same bytes.
/// </summary>
internal static class SyntheticDump
{
    public static byte[] Create(int targetBytes)
    {
        var random = new Random(12345);
        string[] first = ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy"];
        string[] last = ["Smith", "Jones", "Mueller", "O'Neil", "Garcia", "Nguyen", "Kowalski", "Rossi"];
        var sb = new StringBuilder(targetBytes + 4096);
        sb.Append("""
            --
            -- PostgreSQL database dump
            --

            SET statement_timeout = 0;
            SET standard_conforming_strings = on;

            CREATE TABLE public.customers (
                id integer NOT NULL,
                first_name text,
                last_name text,
                email text,
                phone text,
                city text,
                country text,
                score numeric(10,2),
                created_at timestamp with time zone,
                active boolean
            );

            CREATE TABLE public.orders (
                id bigint NOT NULL,
                customer_id integer,
                total numeric(10,2),
                status text,
                note text
            );

            COPY public.customers (id, first_name, last_name, email, phone, city, country, score, created_at, active) FROM stdin;

            """.Replace("\r", ""));
        var id = 0;
        var half = targetBytes / 2;
        while (sb.Length < half)
        {
            id++;
            var f = first[random.Next(first.Length)];
            var l = last[random.Next(last.Length)];
            sb.Append(id).Append('\t').Append(f).Append('\t').Append(l).Append('\t')
              .Append(f.ToLowerInvariant()).Append('.').Append(id).Append("@example.com\t")
              .Append("+1-555-").Append(random.Next(1000000, 9999999)).Append('\t')
              .Append("Springfield\tUS\t").Append(random.Next(0, 100000) / 100.0).Append('\t')
              .Append("2024-05-01 12:34:56.123456+00\t").Append(random.Next(2) == 0 ? 't' : 'f').Append('\n');
        }
        sb.Append("\\.\n\n\nCOPY public.orders (id, customer_id, total, status, note) FROM stdin;\n");
        var orderId = 0L;
        while (sb.Length < targetBytes)
        {
            orderId++;
            sb.Append(orderId).Append('\t').Append(random.Next(1, id + 1)).Append('\t').Append(random.Next(100, 99999) / 100.0)
              .Append("\tshipped\t").Append(random.Next(10) == 0 ? "gift\\nwrap" : "\\N").Append('\n');
        }
        sb.Append("\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}

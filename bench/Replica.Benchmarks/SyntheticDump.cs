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

    /// <summary>
    /// The same customers and orders as mysqldump writes them: extended INSERTs of about 1 MB each (its default
    /// --net-buffer-length packs rows up to the client's packet size), MySQL string escapes, backtick names.
    /// </summary>
    public static byte[] CreateMySql(int targetBytes)
    {
        var random = new Random(12345);
        string[] first = ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy"];
        string[] last = ["Smith", "Jones", "Mueller", "O\\'Neil", "Garcia", "Nguyen", "Kowalski", "Rossi"];
        var sb = new StringBuilder(targetBytes + (2 << 20));
        sb.Append("""
            -- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
            --
            -- Host: 127.0.0.1    Database: shop
            -- ------------------------------------------------------
            /*!40101 SET NAMES utf8mb4 */;
            DROP TABLE IF EXISTS `customers`;
            CREATE TABLE `customers` (
              `id` int(11) NOT NULL,
              `first_name` varchar(100) DEFAULT NULL,
              `last_name` varchar(100) DEFAULT NULL,
              `email` varchar(200) DEFAULT NULL,
              `phone` varchar(40) DEFAULT NULL,
              `city` varchar(100) DEFAULT NULL,
              `country` char(2) DEFAULT NULL,
              `score` decimal(10,2) DEFAULT NULL,
              `created_at` datetime DEFAULT NULL,
              `active` tinyint(1) DEFAULT NULL,
              PRIMARY KEY (`id`)
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
            LOCK TABLES `customers` WRITE;

            """.Replace("\r", ""));
        const int StatementBytes = 1_000_000;
        var id = 0;
        var half = targetBytes / 2;
        while (sb.Length < half)
        {
            var start = sb.Length;
            sb.Append("INSERT INTO `customers` VALUES ");
            do
            {
                id++;
                var f = first[random.Next(first.Length)];
                var l = last[random.Next(last.Length)];
                sb.Append('(').Append(id).Append(",'").Append(f).Append("','").Append(l).Append("','")
                  .Append(f.ToLowerInvariant()).Append('.').Append(id).Append("@example.com','")
                  .Append("+1-555-").Append(random.Next(1000000, 9999999)).Append("','Springfield','US',")
                  .Append(random.Next(0, 100000) / 100.0).Append(",'2024-05-01 12:34:56',").Append(random.Next(2)).Append("),");
            }
            while (sb.Length - start < StatementBytes);
            sb.Length--;
            sb.Append(";\n");
        }
        sb.Append("UNLOCK TABLES;\nDROP TABLE IF EXISTS `orders`;\nCREATE TABLE `orders` (\n  `id` bigint(20) NOT NULL,\n  `customer_id` int(11) DEFAULT NULL,\n"
            + "  `total` decimal(10,2) DEFAULT NULL,\n  `status` varchar(20) DEFAULT NULL,\n  `note` text DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n"
            + "LOCK TABLES `orders` WRITE;\n");
        var orderId = 0L;
        while (sb.Length < targetBytes)
        {
            var start = sb.Length;
            sb.Append("INSERT INTO `orders` VALUES ");
            do
            {
                orderId++;
                sb.Append('(').Append(orderId).Append(',').Append(random.Next(1, id + 1)).Append(',').Append(random.Next(100, 99999) / 100.0)
                  .Append(",'shipped',").Append(random.Next(10) == 0 ? "'gift\\nwrap'" : "NULL").Append("),");
            }
            while (sb.Length - start < StatementBytes);
            sb.Length--;
            sb.Append(";\n");
        }
        sb.Append("UNLOCK TABLES;\n-- Dump completed on 2026-11-22 12:00:00\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}

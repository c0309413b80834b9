namespace Replica.Sources;

/// <summary>
/// The fixed text of a synthetic dump, laid out as pg_dump 15 (plain format, https://www.postgresql.org/docs/15/app-pgdump.html)
/// and mysqldump 8.0 write it. No psql meta-command (\connect, \restrict) and no OWNER TO, so any psql restores it into
/// any database; the MySQL DDL avoids MySQL-8-only collations so MariaDB restores it too.
/// </summary>
internal static class SyntheticSchema
{
    public const string PostgresHeader = """
        --
        -- PostgreSQL database dump
        --

        -- Dumped from database version 15.8
        -- Dumped by pg_dump version 15.8

        SET statement_timeout = 0;
        SET lock_timeout = 0;
        SET idle_in_transaction_session_timeout = 0;
        SET client_encoding = 'UTF8';
        SET standard_conforming_strings = on;
        SELECT pg_catalog.set_config('search_path', '', false);
        SET check_function_bodies = false;
        SET xmloption = content;
        SET client_min_messages = warning;
        SET row_security = off;

        SET default_tablespace = '';

        SET default_table_access_method = heap;


        """;

    static string Columns(SyntheticTable table) => table switch
    {
        SyntheticTable.Customers => "id, first_name, last_name, email, phone, street, city, country, birth_date, profile, created_at",
        SyntheticTable.OrderItems => "order_id, line_number, product_id, quantity, unit_price",
        SyntheticTable.Orders => "id, customer_id, status, total, ordered_at, shipping_address, note",
        SyntheticTable.Payments => "id, order_id, card_number, iban, amount, paid_at",
        _ => "id, sku, name, description, price",
    };

    public static string PostgresCreateTable(SyntheticTable table)
    {
        var name = SyntheticTables.Name(table);
        var columns = table switch
        {
            SyntheticTable.Customers => """
                    id bigint NOT NULL,
                    first_name text,
                    last_name text,
                    email text,
                    phone text,
                    street text,
                    city text,
                    country text,
                    birth_date date,
                    profile jsonb,
                    created_at timestamp with time zone
                """,
            SyntheticTable.OrderItems => """
                    order_id bigint NOT NULL,
                    line_number integer NOT NULL,
                    product_id integer NOT NULL,
                    quantity integer,
                    unit_price numeric(10,2)
                """,
            SyntheticTable.Orders => """
                    id bigint NOT NULL,
                    customer_id bigint NOT NULL,
                    status text,
                    total numeric(12,2),
                    ordered_at timestamp with time zone,
                    shipping_address text,
                    note text
                """,
            SyntheticTable.Payments => """
                    id bigint NOT NULL,
                    order_id bigint NOT NULL,
                    card_number text,
                    iban text,
                    amount numeric(12,2),
                    paid_at timestamp with time zone
                """,
            _ => """
                    id integer NOT NULL,
                    sku text NOT NULL,
                    name text,
                    description text,
                    price numeric(10,2)
                """,
        };
        return $"--\n-- Name: {name}; Type: TABLE; Schema: public; Owner: -\n--\n\nCREATE TABLE public.{name} (\n{columns}\n);\n\n\n";
    }

    public static string PostgresDataStart(SyntheticTable table, bool copy)
    {
        var name = SyntheticTables.Name(table);
        var comment = $"--\n-- Data for Name: {name}; Type: TABLE DATA; Schema: public; Owner: -\n--\n\n";
        return copy ? $"{comment}COPY public.{name} ({Columns(table)}) FROM stdin;\n" : comment;
    }

    static readonly (string Table, string Name, string Definition)[] s_postgresConstraints =
    [
        ("customers", "customers_pkey", "PRIMARY KEY (id)"),
        ("order_items", "order_items_pkey", "PRIMARY KEY (order_id, line_number)"),
        ("orders", "orders_pkey", "PRIMARY KEY (id)"),
        ("payments", "payments_pkey", "PRIMARY KEY (id)"),
        ("products", "products_pkey", "PRIMARY KEY (id)"),
        ("products", "products_sku_key", "UNIQUE (sku)"),
    ];

    static readonly (string Table, string Name, string Definition)[] s_postgresForeignKeys =
    [
        ("order_items", "order_items_order_id_fkey", "FOREIGN KEY (order_id) REFERENCES public.orders(id)"),
        ("order_items", "order_items_product_id_fkey", "FOREIGN KEY (product_id) REFERENCES public.products(id)"),
        ("orders", "orders_customer_id_fkey", "FOREIGN KEY (customer_id) REFERENCES public.customers(id)"),
        ("payments", "payments_order_id_fkey", "FOREIGN KEY (order_id) REFERENCES public.orders(id)"),
    ];

    /// <summary>Post-data as pg_dump writes it: primary keys and unique constraints, then foreign keys, then the end.</summary>
    public static readonly string PostgresPostData = BuildPostgresPostData();

    static string BuildPostgresPostData()
    {
        var text = new System.Text.StringBuilder();
        foreach (var (table, name, definition) in s_postgresConstraints)
        {
            text.Append($"--\n-- Name: {table} {name}; Type: CONSTRAINT; Schema: public; Owner: -\n--\n\n")
                .Append($"ALTER TABLE ONLY public.{table}\n    ADD CONSTRAINT {name} {definition};\n\n\n");
        }
        foreach (var (table, name, definition) in s_postgresForeignKeys)
        {
            text.Append($"--\n-- Name: {table} {name}; Type: FK CONSTRAINT; Schema: public; Owner: -\n--\n\n")
                .Append($"ALTER TABLE ONLY public.{table}\n    ADD CONSTRAINT {name} {definition};\n\n\n");
        }
        text.Append("--\n-- PostgreSQL database dump complete\n--\n\n");
        return text.ToString();
    }

    public const string MySqlHeader = """
        -- MySQL dump 10.13  Distrib 8.0.40, for Linux (x86_64)
        --
        -- Host: localhost    Database: shop
        -- ------------------------------------------------------
        -- Server version	8.0.40

        /*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
        /*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
        /*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
        /*!50503 SET NAMES utf8mb4 */;
        /*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
        /*!40103 SET TIME_ZONE='+00:00' */;
        /*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
        /*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
        /*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
        /*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;


        """;

    /// <summary>A table's structure and the start of its data, as mysqldump writes them (structure and data interleave).</summary>
    public static string MySqlTable(SyntheticTable table)
    {
        var name = SyntheticTables.Name(table);
        var body = table switch
        {
            SyntheticTable.Customers => """
                  `id` bigint NOT NULL,
                  `first_name` varchar(255) DEFAULT NULL,
                  `last_name` varchar(255) DEFAULT NULL,
                  `email` varchar(255) DEFAULT NULL,
                  `phone` varchar(64) DEFAULT NULL,
                  `street` varchar(255) DEFAULT NULL,
                  `city` varchar(255) DEFAULT NULL,
                  `country` varchar(255) DEFAULT NULL,
                  `birth_date` date DEFAULT NULL,
                  `profile` json DEFAULT NULL,
                  `created_at` datetime DEFAULT NULL,
                  PRIMARY KEY (`id`)
                """,
            SyntheticTable.OrderItems => """
                  `order_id` bigint NOT NULL,
                  `line_number` int NOT NULL,
                  `product_id` int NOT NULL,
                  `quantity` int DEFAULT NULL,
                  `unit_price` decimal(10,2) DEFAULT NULL,
                  PRIMARY KEY (`order_id`,`line_number`),
                  KEY `order_items_product_id_fkey` (`product_id`),
                  CONSTRAINT `order_items_order_id_fkey` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`),
                  CONSTRAINT `order_items_product_id_fkey` FOREIGN KEY (`product_id`) REFERENCES `products` (`id`)
                """,
            SyntheticTable.Orders => """
                  `id` bigint NOT NULL,
                  `customer_id` bigint NOT NULL,
                  `status` varchar(32) DEFAULT NULL,
                  `total` decimal(12,2) DEFAULT NULL,
                  `ordered_at` datetime DEFAULT NULL,
                  `shipping_address` text,
                  `note` text,
                  PRIMARY KEY (`id`),
                  KEY `orders_customer_id_fkey` (`customer_id`),
                  CONSTRAINT `orders_customer_id_fkey` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`)
                """,
            SyntheticTable.Payments => """
                  `id` bigint NOT NULL,
                  `order_id` bigint NOT NULL,
                  `card_number` varchar(32) DEFAULT NULL,
                  `iban` varchar(34) DEFAULT NULL,
                  `amount` decimal(12,2) DEFAULT NULL,
                  `paid_at` datetime DEFAULT NULL,
                  PRIMARY KEY (`id`),
                  KEY `payments_order_id_fkey` (`order_id`),
                  CONSTRAINT `payments_order_id_fkey` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`)
                """,
            _ => """
                  `id` int NOT NULL,
                  `sku` varchar(64) NOT NULL,
                  `name` varchar(255) DEFAULT NULL,
                  `description` text,
                  `price` decimal(10,2) DEFAULT NULL,
                  PRIMARY KEY (`id`),
                  UNIQUE KEY `products_sku_key` (`sku`)
                """,
        };
        return $"""
            --
            -- Table structure for table `{name}`
            --

            DROP TABLE IF EXISTS `{name}`;
            /*!40101 SET @saved_cs_client     = @@character_set_client */;
            /*!50503 SET character_set_client = utf8mb4 */;
            CREATE TABLE `{name}` (
            {body}
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
            /*!40101 SET character_set_client = @saved_cs_client */;

            --
            -- Dumping data for table `{name}`
            --

            LOCK TABLES `{name}` WRITE;
            /*!40000 ALTER TABLE `{name}` DISABLE KEYS */;

            """;
    }

    public static string MySqlTableEnd(SyntheticTable table)
    {
        var name = SyntheticTables.Name(table);
        return $"/*!40000 ALTER TABLE `{name}` ENABLE KEYS */;\nUNLOCK TABLES;\n\n";
    }

    /// <summary>mysqldump's restoring footer; the completion date is fixed so that the output stays deterministic.</summary>
    public const string MySqlFooter = """
        /*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

        /*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
        /*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
        /*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
        /*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
        /*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
        /*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
        /*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

        -- Dump completed on 2026-12-03 12:00:00

        """;
}

using System.Text;

namespace Replica.IntegrationTests.Databases;

/// <summary>A source database shaped to exercise the catalog reader, the scan and strict mode.</summary>
internal static class CatalogFixture
{
    public static string Sql()
    {
        var sql = new StringBuilder("""
            CREATE TABLE customers (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                email character varying(200) NOT NULL UNIQUE,
                first_name text,
                last_name text,
                phone text,
                mobile text,
                contact text,
                notes text,
                email_verified boolean NOT NULL DEFAULT false,
                login_count integer NOT NULL DEFAULT 0,
                birth_date date,
                last_ip inet,
                referrer_id bigint REFERENCES customers (id) ON DELETE SET NULL
            );
            CREATE TABLE "Mixed Case" ("Id" integer PRIMARY KEY, "EmailAddress" text, "Label" text);
            CREATE TABLE order_lines (
                order_id integer,
                line_no integer,
                sku text NOT NULL,
                PRIMARY KEY (order_id, line_no),
                CONSTRAINT order_lines_sku_order_key UNIQUE (sku, order_id)
            );
            CREATE TABLE shipments (
                id serial PRIMARY KEY,
                order_id integer NOT NULL,
                line_no integer NOT NULL,
                tracking_code text,
                CONSTRAINT shipments_line_fk FOREIGN KEY (order_id, line_no) REFERENCES order_lines (order_id, line_no) ON DELETE CASCADE
            );
            CREATE UNIQUE INDEX shipments_tracking_code_idx ON shipments (tracking_code);
            CREATE TABLE events (id bigint, happened_at timestamptz NOT NULL, ip_address text, payload text) PARTITION BY RANGE (happened_at);
            CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
            CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE products (id integer PRIMARY KEY, name text, description text);

            """);
        for (var i = 1; i <= 30; i++)
        {
            sql.Append($"""
                INSERT INTO customers (email, first_name, last_name, phone, mobile, contact, notes, birth_date, last_ip, referrer_id)
                VALUES ('user{i}@example.com', 'First{i}', 'Last{i}', '+49 30 1234{i:000}', 'n/a', 'contact{i}@mail.example.org',
                        'called about order {i}, wants delivery on Tuesday', DATE '1980-01-01' + {i * 100}, '10.0.0.{i}', {(i > 1 ? "1" : "NULL")});
                INSERT INTO "Mixed Case" VALUES ({i}, 'mixed{i}@example.com', 'label {i}');
                INSERT INTO order_lines VALUES ({i}, 1, 'SKU-{i}');
                INSERT INTO shipments (order_id, line_no, tracking_code) VALUES ({i}, 1, 'TRK{i:00000}');
                INSERT INTO events VALUES ({i}, TIMESTAMPTZ '2024-06-01' + interval '{i * 12} days', '192.168.1.{i}', 'payload {i}');
                INSERT INTO products VALUES ({i}, 'Product {i}', 'A fine product');

                """);
        }
        sql.Append("ANALYZE;\n");
        return sql.ToString();
    }
}

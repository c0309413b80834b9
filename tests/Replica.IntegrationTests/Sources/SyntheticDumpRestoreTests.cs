using System.Globalization;
using Replica.IntegrationTests.MariaDb;
using Replica.IntegrationTests.Postgres;
using Replica.Lexing;
using Replica.Sources;

namespace Replica.IntegrationTests.Sources;

/// <summary>
/// The oracle for the synthetic dump: real psql restores it with ON_ERROR_STOP in one transaction into a fresh database,
/// where the primary and foreign keys the dump itself adds hold, and every table has the rows the stream announced.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SyntheticDumpPostgresRestoreTests(PostgresServer server)
{
    [Theory]
    [InlineData(SyntheticFormat.Copy, 50)]
    [InlineData(SyntheticFormat.Inserts, 5)]
    public async Task Restore_WithPsql_EveryKeyHoldsAndCountsMatch(SyntheticFormat format, int mebibytes)
    {
        var db = await server.CreateDatabaseAsync();
        await using var dump = new SyntheticDumpStream(new SyntheticOptions((long)mebibytes << 20) { Format = format, Seed = 12 });

        var restore = await server.RunPsqlStreamAsync(db, dump, onErrorStop: true, singleTransaction: true);

        Assert.Equal(0, restore.ExitCode);
        Assert.DoesNotContain("ERROR", restore.Stderr, StringComparison.Ordinal);
        var counts = dump.Counts;
        var rows = await server.QueryAsync(db, SyntheticShopQueries.Counts);
        Assert.Equal(
            new[] { counts.Customers, counts.Products, counts.Orders, counts.OrderItems, counts.Payments },
            rows[0].Select(v => long.Parse(v!, CultureInfo.InvariantCulture)).ToArray());
        // The dump's own constraints were validated by the restore; this is the check a user would run.
        var orphans = await server.QueryAsync(db, SyntheticShopQueries.Orphans);
        Assert.Equal("0", orphans[0][0]);
        var constraints = await server.QueryAsync(db, "SELECT count(*) FROM pg_constraint WHERE contype IN ('p', 'f', 'u') AND connamespace = 'public'::regnamespace");
        Assert.Equal("10", constraints[0][0]);
        // Values arrived as written: escapes decoded, JSON valid with an email inside, non-ASCII intact.
        var values = await server.QueryAsync(db,
            "SELECT (SELECT count(*) FROM orders WHERE note LIKE E'%\\t%' OR note LIKE E'%\\n%'), " +
            "(SELECT count(*) FROM orders WHERE strpos(note, E'\\\\') > 0), " +
            "(SELECT count(*) FROM customers WHERE profile->'contact'->>'email' = email), " +
            "(SELECT count(*) FROM customers WHERE last_name = 'Müller' OR last_name = 'O''Brien'), " +
            "(SELECT count(*) FROM customers WHERE phone IS NULL)");
        Assert.All(values[0], v => Assert.NotEqual("0", v));
        await server.DropDatabaseAsync(db);
    }
}

/// <summary>The MySQL twin: the mariadb client restores a synthetic mysqldump into MariaDB with the tables' rows.</summary>
[Collection(MariaDbCollection.Name)]
public sealed class SyntheticDumpMariaDbRestoreTests(MariaDbServer server) : IDisposable
{
    readonly string _work = Directory.CreateTempSubdirectory("replica-synthetic-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Restore_WithMariaDbClient_CountsMatchAndKeysHold()
    {
        var path = Path.Combine(_work, "shop.sql");
        SyntheticCounts counts;
        await using (var dump = new SyntheticDumpStream(new SyntheticOptions(5L << 20) { Dialect = SqlDialect.MySql, Format = SyntheticFormat.Inserts, Seed = 12 }))
        await using (var file = File.Create(path))
        {
            counts = dump.Counts;
            await dump.CopyToAsync(file);
        }
        var db = await server.CreateDatabaseAsync();

        await server.ExecuteFileAsync(db, path);

        var rows = await server.QueryAsync(db, SyntheticShopQueries.Counts);
        Assert.Equal(
            new[] { counts.Customers, counts.Products, counts.Orders, counts.OrderItems, counts.Payments },
            rows[0].Select(v => long.Parse(v!, CultureInfo.InvariantCulture)).ToArray());
        var orphans = await server.ScalarAsync(db, SyntheticShopQueries.Orphans);
        Assert.Equal("0", orphans);
        var values = await server.QueryAsync(db,
            "SELECT (SELECT count(*) FROM orders WHERE note LIKE '%\\n%' OR note LIKE '%\\t%'), " +
            "(SELECT count(*) FROM customers WHERE JSON_VALUE(profile, '$.contact.email') = email), " +
            "(SELECT count(*) FROM customers WHERE last_name = 'Müller' OR last_name = 'O\\'Brien'), " +
            "(SELECT count(*) FROM customers WHERE phone IS NULL)");
        Assert.All(values[0], v => Assert.NotEqual("0", v));
        await server.DropDatabaseAsync(db);
    }
}

/// <summary>What a user asks a restored synthetic shop, in SQL both servers speak.</summary>
static class SyntheticShopQueries
{
    /// <summary>Rows of customers, products, orders, order_items, payments (in that order).</summary>
    public const string Counts =
        "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM products), (SELECT count(*) FROM orders), " +
        "(SELECT count(*) FROM order_items), (SELECT count(*) FROM payments)";

    /// <summary>Rows whose foreign key points at no row: 0 when every key holds.</summary>
    public const string Orphans =
        "SELECT (SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL) + " +
        "(SELECT count(*) FROM order_items i LEFT JOIN orders o ON o.id = i.order_id WHERE o.id IS NULL) + " +
        "(SELECT count(*) FROM order_items i LEFT JOIN products p ON p.id = i.product_id WHERE p.id IS NULL) + " +
        "(SELECT count(*) FROM payments y LEFT JOIN orders o ON o.id = y.order_id WHERE o.id IS NULL)";
}

namespace Replica.IntegrationTests.Postgres;

/// <summary>Assertions comparing whole databases on one <see cref="PostgresServer"/>: the oracle for dump/restore tests.</summary>
public static class DatabaseAssert
{
    /// <summary>
    /// Asserts both databases have the same user tables and, per table, the same rows (compared as PostgreSQL's text
    /// output, order-insensitive). The failure message names the table and the first differing row.
    /// </summary>
    public static async Task SameTablesAndRowsAsync(PostgresServer server, string expectedDb, string actualDb)
    {
        List<string> tables = await server.ListTablesAsync(expectedDb);
        Assert.Equal(tables, await server.ListTablesAsync(actualDb));
        foreach (string table in tables)
        {
            List<string?[]> expected = await server.QueryTableAsync(expectedDb, table);
            List<string?[]> actual = await server.QueryTableAsync(actualDb, table);
            Assert.True(expected.Count == actual.Count, $"{table}: expected {expected.Count} rows, found {actual.Count} in {actualDb}");
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]),
                    $"{table}: sorted row {i + 1} differs: expected [{Format(expected[i])}], found [{Format(actual[i])}]");
            }
        }
    }

    /// <summary>Per-table checksums of the rows (order-insensitive), sequence values and large objects: what a user compares.</summary>
    public static async Task<List<string>> ChecksumsAsync(PostgresServer server, string db)
    {
        var sums = new List<string>();
        foreach (var table in await server.ListTablesAsync(db))
        {
            var rows = await server.QueryAsync(db, $"SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text COLLATE \"C\")), '') FROM {table} t");
            sums.Add($"{table} {rows[0][0]}");
        }
        foreach (var row in await server.QueryAsync(db,
            "SELECT s FROM (SELECT format('%I.%I', schemaname, sequencename) || ' ' || coalesce(last_value::text, 'not called') AS s FROM pg_sequences) q "
            + "ORDER BY s COLLATE \"C\""))
        {
            sums.Add(row[0]!);
        }
        var objects = await server.QueryAsync(db, "SELECT coalesce(string_agg(oid || ':' || md5(lo_get(oid)), ',' ORDER BY oid), '') FROM pg_largeobject_metadata");
        sums.Add("large objects " + objects[0][0]);
        return sums;
    }

    private static string Format(string?[] row) => string.Join(", ", Array.ConvertAll(row, v => v is null ? "NULL" : $"'{v}'"));
}

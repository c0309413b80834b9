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

    private static string Format(string?[] row) => string.Join(", ", Array.ConvertAll(row, v => v is null ? "NULL" : $"'{v}'"));
}

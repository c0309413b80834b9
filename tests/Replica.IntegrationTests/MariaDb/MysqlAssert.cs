using System.Text;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>Compares what two MariaDB databases hold: definitions and every value, byte for byte.</summary>
public static class MysqlAssert
{
    /// <summary>
    /// Every row of a table, each value as the hex of its bytes (CAST AS BINARY: a decimal's text, a blob's bytes, a
    /// string's utf8mb4 bytes) joined by '|' after an "r", NULL as the text NULL; sorted, so that two tables with the same content compare equal.
    /// <paramref name="columns"/> limits the comparison to some columns (e.g. those without a transformer).
    /// </summary>
    public static async Task<List<string>> RowsAsync(MariaDbServer server, string db, string table, IReadOnlyList<string>? columns = null)
    {
        columns ??= await ColumnsAsync(server, db, table);
        // A leading "r" keeps a row of one empty value from being an empty (skipped) output line.
        var select = new StringBuilder("SELECT CONCAT_WS('|', 'r'");
        foreach (string column in columns)
        {
            select.Append($", COALESCE(HEX(CAST({MariaDbServer.QuoteIdentifier(column)} AS BINARY)), 'NULL')");
        }
        select.Append($") AS r FROM {MariaDbServer.QuoteIdentifier(table)} ORDER BY r");
        List<string?[]> rows = await server.QueryAsync(db, select.ToString());
        return rows.ConvertAll(r => r[0]!);
    }

    public static async Task<List<string>> ColumnsAsync(MariaDbServer server, string db, string table)
    {
        List<string?[]> rows = await server.QueryAsync(null,
            $"SELECT column_name FROM information_schema.columns WHERE table_schema = {MariaDbServer.Literal(db)} "
            + $"AND table_name = {MariaDbServer.Literal(table)} ORDER BY ordinal_position");
        return rows.ConvertAll(r => r[0] ?? "NULL"); // a column named NULL: the client prints it as SQL NULL
    }

    /// <summary>Same base tables, same SHOW CREATE TABLE (without AUTO_INCREMENT=), same rows.</summary>
    public static async Task SameTablesAndDataAsync(MariaDbServer server, string expectedDb, string actualDb)
    {
        List<string> tables = await server.ListTablesAsync(expectedDb);
        Assert.Equal(tables, await server.ListTablesAsync(actualDb));
        foreach (string table in tables)
        {
            Assert.Equal(await server.ShowCreateTableAsync(expectedDb, table), await server.ShowCreateTableAsync(actualDb, table));
            Assert.Equal(await RowsAsync(server, expectedDb, table), await RowsAsync(server, actualDb, table));
        }
    }

    /// <summary>Same views (definitions without the database name), triggers and routines (bodies).</summary>
    public static async Task SameObjectsAsync(MariaDbServer server, string expectedDb, string actualDb)
    {
        Assert.Equal(await ObjectsAsync(server, expectedDb), await ObjectsAsync(server, actualDb));
    }

    public static async Task<List<string>> ObjectsAsync(MariaDbServer server, string db)
    {
        string literal = MariaDbServer.Literal(db);
        List<string?[]> rows = await server.QueryAsync(null,
            $"SELECT CONCAT('view ', table_name, ': ', REPLACE(view_definition, CONCAT('`', table_schema, '`.'), '')) FROM information_schema.views WHERE table_schema = {literal} "
            + $"UNION ALL SELECT CONCAT('trigger ', trigger_name, ' ', action_timing, ' ', event_manipulation, ' ON ', event_object_table, ': ', action_statement, ' mode ', sql_mode) FROM information_schema.triggers WHERE trigger_schema = {literal} "
            + $"UNION ALL SELECT CONCAT(routine_type, ' ', routine_name, ': ', routine_definition, ' mode ', sql_mode) FROM information_schema.routines WHERE routine_schema = {literal} "
            + "ORDER BY 1");
        return rows.ConvertAll(r => r[0]!);
    }
}

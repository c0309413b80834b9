namespace Replica.IntegrationTests.Postgres;

/// <summary>
/// Self-tests of the PostgreSQL fixture and of the SQL fixtures: if these fail, the oracle tests built on them prove nothing.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresServerTests(PostgresServer server)
{
    [Fact]
    public async Task CreateDatabaseAsync_TwoCalls_CreateDistinctEmptyDatabases()
    {
        string first = await server.CreateDatabaseAsync();
        string second = await server.CreateDatabaseAsync();

        Assert.NotEqual(first, second);
        Assert.Empty(await server.ListTablesAsync(first));
        Assert.Empty(await server.ListTablesAsync(second));
        List<string?[]> encoding = await server.QueryAsync(first, "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()");
        Assert.Equal("UTF8", encoding[0][0]);
    }

    [Fact]
    public async Task PsqlAsync_StatementsAndCopyFromStdin_ReturnsQueryOutput()
    {
        string db = await server.CreateDatabaseAsync();

        string output = await server.PsqlAsync(db,
            "CREATE TABLE t (id int, name text);\n" +
            "COPY t (id, name) FROM stdin;\n1\tone\n2\t\\N\n\\.\n" +
            "INSERT INTO t VALUES (3, 'three');\n" +
            "SELECT id, coalesce(name, 'null') FROM t ORDER BY id;\n");

        Assert.Equal("1|one\n2|null\n3|three\n", output);
    }

    [Fact]
    public async Task PsqlAsync_FailingStatement_ThrowsWithPsqlError()
    {
        string db = await server.CreateDatabaseAsync();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => server.PsqlAsync(db, "SELECT * FROM missing_table;"));

        Assert.Contains("relation \"missing_table\" does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunPsqlFileAsync_OnErrorStopOff_ContinuesAndReportsErrorInStderr()
    {
        string db = await server.CreateDatabaseAsync();
        string dir = TestPaths.CreateTempDirectory();
        try
        {
            string path = Path.Combine(dir, "script.sql");
            await File.WriteAllTextAsync(path, "CREATE TABLE a (x int);\nINSERT INTO nope VALUES (1);\nCREATE TABLE b (x int);\n");

            ProcessOutput output = await server.RunPsqlFileAsync(db, path, onErrorStop: false, singleTransaction: false);

            Assert.Equal(0, output.ExitCode);
            Assert.Contains("relation \"nope\" does not exist", output.Stderr, StringComparison.Ordinal);
            Assert.Equal(["public.a", "public.b"], await server.ListTablesAsync(db));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task RunPsqlFileAsync_SingleTransactionWithError_ThrowsAndLeavesNothing()
    {
        string db = await server.CreateDatabaseAsync();
        string dir = TestPaths.CreateTempDirectory();
        try
        {
            string path = Path.Combine(dir, "script.sql");
            await File.WriteAllTextAsync(path, "CREATE TABLE a (x int);\nINSERT INTO nope VALUES (1);\n");

            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => server.RunPsqlFileAsync(db, path));

            Assert.Contains("nope", ex.Message, StringComparison.Ordinal);
            Assert.Empty(await server.ListTablesAsync(db));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task QueryAsync_MixedTypes_ReturnsPostgresTextFormAndNulls()
    {
        string db = await server.CreateDatabaseAsync();

        List<string?[]> rows = await server.QueryAsync(db,
            "SELECT 1, NULL::text, E'a\\tb', true, '\\x00ff'::bytea, ARRAY[1,NULL], '2024-01-02 03:04:05+02'::timestamptz, 'NaN'::numeric");

        string?[] row = Assert.Single(rows);
        Assert.Equal<IEnumerable<string?>>(["1", null, "a\tb", "t", "\\x00ff", "{1,NULL}", "2024-01-02 01:04:05+00", "NaN"], row);
    }

    [Fact]
    public async Task PgDumpToFileAsync_ExtraArgs_ArePassedToPgDump()
    {
        string db = await server.CreateDatabaseAsync();
        await server.PsqlAsync(db, "CREATE TABLE t (id int, name text); INSERT INTO t VALUES (1, 'it''s');");
        string dir = TestPaths.CreateTempDirectory();
        try
        {
            string copyDump = Path.Combine(dir, "copy.sql");
            string insertDump = Path.Combine(dir, "inserts.sql");

            await server.PgDumpToFileAsync(db, copyDump);
            await server.PgDumpToFileAsync(db, insertDump, "--column-inserts");

            string copyText = await File.ReadAllTextAsync(copyDump);
            string insertText = await File.ReadAllTextAsync(insertDump);
            Assert.Contains("COPY public.t (id, name) FROM stdin;\n1\tit's\n\\.\n", copyText, StringComparison.Ordinal);
            Assert.Contains("INSERT INTO public.t (id, name) VALUES (1, 'it''s');", insertText, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AwkwardFixture_PgDumpAndRestore_RestoresIdenticalRows()
    {
        string source = await server.CreateDatabaseAsync();
        await server.RunPsqlFileAsync(source, TestPaths.Fixture("awkward.sql"));
        string dir = TestPaths.CreateTempDirectory();
        try
        {
            string dump = Path.Combine(dir, "awkward-dump.sql");
            await server.PgDumpToFileAsync(source, dump);
            string target = await server.CreateDatabaseAsync();

            await server.RunPsqlFileAsync(target, dump);

            await DatabaseAssert.SameTablesAndRowsAsync(server, source, target);
            // The dump really has the traps the fixture promises (pg_dump could change how it writes them).
            string text = await File.ReadAllTextAsync(dump);
            Assert.Contains("COPY public.no_columns  FROM stdin;\n\n", text, StringComparison.Ordinal);
            Assert.Contains("\nCOPY public.customers (id, email) FROM stdin;\n1\tsomeone@example.com\n\\.\n$fake$;", text, StringComparison.Ordinal);
            Assert.Contains("COPY \"Mixed Case\".\"Tab.le, \"\"x\"\"\" (\"Id\", \"Col One\", \"a,b\", \"quote\"\"d\"", text, StringComparison.Ordinal);
            Assert.Contains("COPY public.measurements_2023 ", text, StringComparison.Ordinal);
            Assert.Contains("COPY public.order_lines (order_id, line_number, quantity, unit_price_cents) FROM stdin;", text, StringComparison.Ordinal);
            Assert.Contains("BEGIN ATOMIC", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AwkwardFixture_Loaded_HasPromisedEdgeCases()
    {
        string db = await server.CreateDatabaseAsync();
        await server.RunPsqlFileAsync(db, TestPaths.Fixture("awkward.sql"));

        List<string?[]> nullish = await server.QueryAsync(db, "SELECT v FROM public.text_edge_cases WHERE id IN (1, 2, 3) ORDER BY id");
        Assert.Equal<IEnumerable<string?>>([null, "", "\\N"], [nullish[0][0], nullish[1][0], nullish[2][0]]);
        Assert.Equal(20, (await server.QueryTableAsync(db, "public.no_columns")).Count);
        Assert.Equal(120, (await server.QueryTableAsync(db, "public.measurements")).Count);
        List<string?[]> nan = await server.QueryAsync(db, "SELECT count(*) FROM public.all_types WHERE c_numeric_any = 'NaN'");
        Assert.NotEqual("0", nan[0][0]);
        List<string?[]> body = await server.QueryAsync(db, "SELECT public.copy_lookalike()");
        Assert.StartsWith("\nCOPY public.customers (id, email) FROM stdin;\n", body[0][0], StringComparison.Ordinal);
        Assert.Contains("\"Mixed Case\".\"Customers\"", await server.ListTablesAsync(db));
    }

    [Fact]
    public async Task SampleDump_RestoredWithPsql_MatchesDatabaseBuiltFromShopSql()
    {
        string built = await server.CreateDatabaseAsync();
        await server.RunPsqlFileAsync(built, TestPaths.Example("shop.sql"));
        string restored = await server.CreateDatabaseAsync();

        await server.RunPsqlFileAsync(restored, TestPaths.Example("sample-dump.sql"));

        await DatabaseAssert.SameTablesAndRowsAsync(server, built, restored);
        Assert.Equal(
            ["public.audit_log", "public.customers", "public.orders", "public.payments", "public.support_tickets"],
            await server.ListTablesAsync(restored));
        Assert.Equal(50, (await server.QueryTableAsync(restored, "public.customers")).Count);
    }

    [Fact]
    public async Task SameTablesAndRowsAsync_OneValueDiffers_FailsNamingTableAndRow()
    {
        const string Setup = "CREATE TABLE \"Odd, Name\" (id int, v text); INSERT INTO \"Odd, Name\" VALUES (1, 'a'), (2, NULL);";
        string expected = await server.CreateDatabaseAsync();
        string actual = await server.CreateDatabaseAsync();
        await server.PsqlAsync(expected, Setup);
        await server.PsqlAsync(actual, Setup + "UPDATE \"Odd, Name\" SET v = '' WHERE id = 2;");

        var ex = await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(() => DatabaseAssert.SameTablesAndRowsAsync(server, expected, actual));

        Assert.Contains("public.\"Odd, Name\": sorted row 2 differs: expected ['2', NULL], found ['2', '']", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposeAsync_RunningServer_StopsItAndDeletesItsDirectory()
    {
        var own = new PostgresServer();
        await own.InitializeAsync();
        string root = own.RootDirectory;
        int port = own.Port;
        Assert.True(Directory.Exists(root));

        await own.DisposeAsync();

        Assert.False(Directory.Exists(root), $"server directory {root} still exists");
        using var client = new System.Net.Sockets.TcpClient();
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => client.ConnectAsync(PostgresServer.Host, port));
    }
}

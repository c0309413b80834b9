using System.Globalization;
using System.Text;
using Replica.Clients;
using Replica.IntegrationTests.Postgres;
using Replica.Sources;

namespace Replica.IntegrationTests.Sources;

/// <summary>
/// The snapshot source against a real PostgreSQL: its parts, concatenated in order and restored by psql in one
/// transaction, must give the database pg_dump's output gives (rows, sequence values, large objects, schema), from the
/// snapshot and nothing later, the same bytes on every run, with a read-only role too, and on a hot standby
/// (PostgresSnapshotSourceTests.Standby.cs).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class PostgresSnapshotSourceTests(PostgresServer server, PostgresStandbyFixture standbyFixture)
{
    const string RestrictKey = "ReplicaSnapshotTestKey";

    static readonly PostgresTools s_tools = PostgresTools.Find(ChildEnvironment.WithoutConfig);

    sealed record ReadPart(SnapshotPartKind Kind, string? Table, byte[] Bytes);

    /// <summary>awkward.sql (a partitioned table, a sequence, foreign keys, text with tabs, newlines, backslashes, NULLs, non-ASCII).</summary>
    async Task<string> AwkwardDatabaseAsync(bool largeObject)
    {
        var db = await server.CreateDatabaseAsync();
        var load = await server.RunPsqlFileAsync(db, TestPaths.Fixture("awkward.sql"));
        Assert.Equal(0, load.ExitCode);
        if (largeObject)
        {
            await server.ExecuteAsync(db, "SELECT lo_from_bytea(424242, 'a large object\\001'::bytea)");
        }
        return db;
    }

    /// <summary>Reads every part, table parts concurrently as a consumer of the source would, and returns them in the order yielded.</summary>
    static async Task<List<ReadPart>> ReadAllAsync(PostgresSnapshotSource source)
    {
        var reads = new List<Task<ReadPart>>();
        await foreach (var part in source.ReadPartsAsync(CancellationToken.None))
        {
            reads.Add(Task.Run(async () =>
            {
                await using (part)
                {
                    using var buffer = new MemoryStream();
                    await part.Content.CopyToAsync(buffer, 4093);
                    return new ReadPart(part.Kind, part.Table?.QualifiedName, buffer.ToArray());
                }
            }));
        }
        return [.. await Task.WhenAll(reads)];
    }

    static async Task<List<ReadPart>> DumpAsync(string uri, int jobs, Func<Task>? afterSnapshot = null)
    {
        await using var source = new PostgresSnapshotSource(DatabaseUri.Parse(uri), new SourceOptions(), s_tools, jobs) { RestrictKey = RestrictKey };
        await source.OpenAsync(CancellationToken.None);
        if (afterSnapshot is not null)
        {
            await afterSnapshot();
        }
        return await ReadAllAsync(source);
    }

    static byte[] Concatenate(List<ReadPart> parts) => [.. parts.SelectMany(p => p.Bytes)];

    /// <summary>Restores <paramref name="sql"/> with psql -1 -v ON_ERROR_STOP=1 into a new database and returns its name.</summary>
    async Task<string> RestoreAsync(byte[] sql)
    {
        var db = await server.CreateDatabaseAsync();
        using var input = new MemoryStream(sql);
        var restore = await server.RunPsqlStreamAsync(db, input);
        Assert.True(restore.ExitCode == 0 && !restore.Stderr.Contains("ERROR", StringComparison.Ordinal), restore.Stderr);
        return db;
    }

    /// <summary>What pg_dump of <paramref name="source"/> gives when restored: the expected database.</summary>
    async Task<string> RestorePgDumpAsync(string source)
    {
        var dir = TestPaths.CreateTempDirectory();
        try
        {
            var path = Path.Combine(dir, "dump.sql");
            await server.PgDumpToFileAsync(source, path);
            return await RestoreAsync(await File.ReadAllBytesAsync(path));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    async Task<string> SchemaAsync(string db)
    {
        var dir = TestPaths.CreateTempDirectory();
        try
        {
            var path = Path.Combine(dir, "schema.sql");
            await server.PgDumpToFileAsync(db, path, "--schema-only", "--restrict-key=" + RestrictKey);
            return await File.ReadAllTextAsync(path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    async Task AssertRestoresLikePgDumpAsync(string expectedDb, byte[] sql)
    {
        var actualDb = await RestoreAsync(sql);
        await DatabaseAssert.SameTablesAndRowsAsync(server, expectedDb, actualDb);
        Assert.Equal(await DatabaseAssert.ChecksumsAsync(server, expectedDb), await DatabaseAssert.ChecksumsAsync(server, actualDb));
        Assert.Equal(await SchemaAsync(expectedDb), await SchemaAsync(actualDb));
    }

    [Fact]
    public async Task ReadParts_AwkwardDatabase_RestoresLikePgDump()
    {
        var source = await AwkwardDatabaseAsync(largeObject: true);
        var expected = await RestorePgDumpAsync(source);

        var parts = await DumpAsync(server.ConnectionUri(source), jobs: 2);

        Assert.Equal(SnapshotPartKind.PreData, parts[0].Kind);
        Assert.Equal([SnapshotPartKind.OtherData, SnapshotPartKind.PostData], parts.Skip(parts.Count - 2).Select(p => p.Kind));
        var tables = parts.Where(p => p.Kind == SnapshotPartKind.TableData).Select(p => p.Table!).ToList();
        // Leaf tables only: the partitions, never the partitioned parent; each once.
        Assert.Contains("public.measurements_2023", tables);
        Assert.Contains("public.measurements_2024", tables);
        Assert.DoesNotContain("public.measurements", tables);
        Assert.Equal(tables.Distinct().Count(), tables.Count);
        Assert.Equal(14, tables.Count);
        // Each table part is the table's data as pg_dump writes it; the other data holds no table's rows.
        Assert.All(parts.Where(p => p.Kind == SnapshotPartKind.TableData), p =>
        {
            var text = Encoding.UTF8.GetString(p.Bytes);
            Assert.StartsWith($"COPY {p.Table} ", text, StringComparison.Ordinal);
            Assert.EndsWith("\n\\.\n\n\n", text, StringComparison.Ordinal);
        });
        var other = Encoding.UTF8.GetString(parts[^2].Bytes);
        Assert.DoesNotContain("\nCOPY ", other, StringComparison.Ordinal);
        Assert.Contains("setval('\"Mixed Case\".\"Seq, \"\"odd\"\"\"', 4242, false)", other, StringComparison.Ordinal);

        await AssertRestoresLikePgDumpAsync(expected, Concatenate(parts));
    }

    [Fact]
    public async Task ReadParts_TwoRunsWithTwoJobs_AreByteIdentical()
    {
        var source = await AwkwardDatabaseAsync(largeObject: false);

        var first = await DumpAsync(server.ConnectionUri(source), jobs: 2);
        var second = await DumpAsync(server.ConnectionUri(source), jobs: 2);

        Assert.Equal(first.Select(p => (p.Kind, p.Table)), second.Select(p => (p.Kind, p.Table)));
        for (var i = 0; i < first.Count; i++)
        {
            Assert.True(first[i].Bytes.AsSpan().SequenceEqual(second[i].Bytes), $"part {i + 1} ({first[i].Kind} {first[i].Table}) differs");
        }
    }

    [Fact]
    public async Task ReadParts_RowsWrittenAfterTheSnapshot_DoNotAppear()
    {
        var source = await AwkwardDatabaseAsync(largeObject: false);
        var expected = await RestorePgDumpAsync(source);

        var parts = await DumpAsync(server.ConnectionUri(source), jobs: 2, afterSnapshot: () => server.ExecuteAsync(source, """
            INSERT INTO public.customers (id, first_name, last_name, email, created_at) VALUES (9001, 'Late', 'Comer', 'late@example.com', now());
            INSERT INTO public.measurements VALUES (9001, date '2024-12-31', 'late', 1);
            DELETE FROM public.order_lines;
            UPDATE public.text_edge_cases SET note = 'changed after the snapshot';
            CREATE TABLE public.created_later (id integer);
            """));

        await AssertRestoresLikePgDumpAsync(expected, Concatenate(parts));
    }

    [Fact]
    public async Task ReadParts_ReadOnlyRole_RestoresLikePgDump()
    {
        var source = await AwkwardDatabaseAsync(largeObject: false);
        var expected = await RestorePgDumpAsync(source);
        var role = "snapshot_reader_" + Guid.NewGuid().ToString("N")[..8];
        await server.ExecuteAsync("postgres",
            $"CREATE ROLE {role} LOGIN; GRANT pg_read_all_data TO {role}; ALTER ROLE {role} SET default_transaction_read_only = on");

        var uri = $"postgres://{role}@{PostgresServer.Host}:{server.Port.ToString(CultureInfo.InvariantCulture)}/{source}";
        var parts = await DumpAsync(uri, jobs: 3);

        await AssertRestoresLikePgDumpAsync(expected, Concatenate(parts));
    }

    [Fact]
    public async Task ReadParts_JobsTablePartsOpen_NextTableWaitsForOneToBeDisposed()
    {
        var source = await AwkwardDatabaseAsync(largeObject: false);
        await using var snapshot = new PostgresSnapshotSource(DatabaseUri.Parse(server.ConnectionUri(source)), new SourceOptions(), s_tools, jobs: 2);
        await snapshot.OpenAsync(CancellationToken.None);
        await using var parts = snapshot.ReadPartsAsync(CancellationToken.None).GetAsyncEnumerator();

        Assert.True(await parts.MoveNextAsync());
        await using var preData = parts.Current;
        Assert.True(await parts.MoveNextAsync());
        var firstTable = parts.Current;
        Assert.True(await parts.MoveNextAsync());
        var secondTable = parts.Current;
        var third = parts.MoveNextAsync().AsTask();
        await Task.Delay(500);
        Assert.False(third.IsCompleted, "a third table part was yielded while two (= jobs) were open");

        // Disposed before its end: its COPY is cancelled and the next table gets a fresh connection to the snapshot.
        await firstTable.DisposeAsync();
        Assert.True(await third.WaitAsync(TimeSpan.FromSeconds(30)));
        await using var thirdTable = parts.Current;
        Assert.Equal(SnapshotPartKind.TableData, thirdTable.Kind);
        using var rows = new MemoryStream();
        await thirdTable.Content.CopyToAsync(rows);
        Assert.EndsWith("\\.\n\n\n", Encoding.UTF8.GetString(rows.ToArray()), StringComparison.Ordinal);
        await secondTable.DisposeAsync();
    }

    [Fact]
    public async Task ReadParts_ExcludeTableData_CopiesNoneOfItsRows()
    {
        var source = await AwkwardDatabaseAsync(largeObject: false);
        await using var snapshot = new PostgresSnapshotSource(DatabaseUri.Parse(server.ConnectionUri(source)),
            new SourceOptions { ExcludeTableData = ["public.measurements", "public.customers"], ExcludeTables = ["public.big_values"] }, s_tools, jobs: 2);
        await snapshot.OpenAsync(CancellationToken.None);

        var parts = await ReadAllAsync(snapshot);

        var tables = parts.Where(p => p.Kind == SnapshotPartKind.TableData).Select(p => p.Table).ToList();
        Assert.DoesNotContain("public.customers", tables);
        Assert.DoesNotContain("public.measurements_2023", tables);
        Assert.DoesNotContain("public.big_values", tables);
        Assert.Contains("public.orders", tables);
        var sql = Encoding.UTF8.GetString(Concatenate(parts));
        Assert.DoesNotContain("COPY public.customers (id, first_name", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("CREATE TABLE public.big_values", sql, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE public.customers", sql, StringComparison.Ordinal);
    }

    /// <summary>
    /// DDL queued behind the snapshot's lock (the exporting session holds ACCESS SHARE on every copied table, idle, until
    /// the dump ends): a lock requested after it is queued behind the DDL and never granted, with no deadlock to detect.
    /// The pg_dump part gives up after the lock wait bound and the table part at once (NOWAIT), each naming the table;
    /// once the source is closed the DDL proceeds.
    /// </summary>
    [Fact]
    public async Task ReadParts_AlterTableQueuedBehindTheSnapshot_FailNamingTheTableInsteadOfWaitingForEver()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, "CREATE TABLE public.small (id int); INSERT INTO public.small VALUES (1);");
        var source = new PostgresSnapshotSource(DatabaseUri.Parse(server.ConnectionUri(db)), new SourceOptions(), s_tools, jobs: 1);
        Task alter;
        try
        {
            await source.OpenAsync(CancellationToken.None);
            alter = server.ExecuteAsync(db, "SET lock_timeout = '120s'; ALTER TABLE public.small ADD COLUMN z int");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await server.QueryAsync(db, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE public.small%' AND wait_event_type = 'Lock'"))[0][0] == "0")
            {
                Assert.True(DateTime.UtcNow < deadline, "the ALTER TABLE never waited for the snapshot's lock");
                await Task.Delay(20);
            }
            var bound = PostgresSnapshotSource.LockWaitTimeout + TimeSpan.FromSeconds(20);
            await using var parts = source.ReadPartsAsync(CancellationToken.None).GetAsyncEnumerator();

            Assert.True(await parts.MoveNextAsync());
            await using (var preData = parts.Current)
            {
                var preDataError = await Assert.ThrowsAsync<DatabaseException>(() => preData.Content.CopyToAsync(Stream.Null).WaitAsync(bound));
                Assert.Contains("LOCK TABLE public.small", preDataError.Message, StringComparison.Ordinal);
                Assert.Contains("another session is waiting for a conflicting lock", preDataError.Message, StringComparison.Ordinal);
            }
            var tableError = await Assert.ThrowsAsync<DatabaseException>(() => parts.MoveNextAsync().AsTask().WaitAsync(bound));
            Assert.Contains("copying the rows of public.small", tableError.Message, StringComparison.Ordinal);
            Assert.Contains("another session is waiting for a conflicting lock on public.small", tableError.Message, StringComparison.Ordinal);
        }
        finally
        {
            await source.DisposeAsync();
        }
        await alter.WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// A table whose first row takes over 30 s to come (a subset's sorted batch, or a long run of dead tuples before the
    /// first live one): the COPY waits as pg_dump does (statement_timeout 0), not only Npgsql's default 30 s command timeout.
    /// </summary>
    [Fact]
    public async Task ReadParts_FirstRowAfter35Seconds_IsRead()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, "CREATE TABLE public.slow (id int); INSERT INTO public.slow VALUES (1);");
        await using var source = new PostgresSnapshotSource(DatabaseUri.Parse(server.ConnectionUri(db)), new SourceOptions(), s_tools, jobs: 1)
        {
            RowQueries = _ => ["COPY (SELECT id FROM public.slow, pg_catalog.pg_sleep(35)) TO STDOUT"],
        };
        await source.OpenAsync(CancellationToken.None);

        string? rows = null;
        await foreach (var part in source.ReadPartsAsync(CancellationToken.None))
        {
            await using (part)
            {
                using var reader = new StreamReader(part.Content, Encoding.UTF8);
                var text = await reader.ReadToEndAsync();
                if (part.Table is not null)
                {
                    rows = text;
                }
            }
        }

        Assert.Equal("COPY public.slow (id) FROM stdin;\n1\n\\.\n\n\n", rows);
    }

    /// <summary>
    /// A table read through several COPY statements (a subset's key batches): the rows come in the statements' order,
    /// as one COPY block, and the connection then serves the next table; a later statement that fails fails the part,
    /// naming the table and the server's error, and the source can still be read again.
    /// </summary>
    static readonly int[] s_batchStarts = [20000, 0, 10000, 5000, 15000];

    [Fact]
    public async Task ReadPartsAsync_SeveralStatementsPerTable_RowsInStatementOrderAndAFailureNamesTheTable()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, """
            CREATE TABLE big (id int PRIMARY KEY, v text);
            INSERT INTO big SELECT i, repeat('x', i % 50) FROM generate_series(1, 30000) i;
            CREATE TABLE small (id int PRIMARY KEY);
            INSERT INTO small SELECT generate_series(1, 10);
            """);
        await using var source = new PostgresSnapshotSource(DatabaseUri.Parse(server.ConnectionUri(db)), new SourceOptions(), s_tools, jobs: 1) { RestrictKey = RestrictKey };
        await source.OpenAsync(CancellationToken.None);
        // The sessions' search_path is empty (as pg_dump's): the statements name the table with its schema, as SubsetDump's do.
        // Five batches, in an order that is not the key's: 20001-25000 first, then 1-5000 ... (each ordered by id).
        List<string> batches = [.. s_batchStarts.Select(from => $"COPY (SELECT id, v FROM public.big WHERE id > {from} AND id <= {from + 5000} ORDER BY id) TO STDOUT")];
        var fail = true;
        source.RowQueries = table => table.Name != "big" ? null
            : fail ? [.. batches, "COPY (SELECT id, (1 / (id - id))::text FROM public.big WHERE id = 1) TO STDOUT"] : batches;

        string? bigRows = null;
        var error = await Assert.ThrowsAsync<DatabaseException>(async () =>
        {
            await foreach (var part in source.ReadPartsAsync(CancellationToken.None))
            {
                await using (part)
                {
                    using var reader = new StreamReader(part.Content, Encoding.UTF8);
                    var text = await reader.ReadToEndAsync();
                    if (part.Table?.Name == "big")
                    {
                        bigRows = text;
                    }
                }
            }
        });
        Assert.Contains("copying the rows of public.big", error.Message, StringComparison.Ordinal);
        Assert.Contains("division by zero", error.Message, StringComparison.Ordinal);
        Assert.Null(bigRows);

        // Without the failing statement, on the same source: every row once, batch after batch, one COPY block.
        fail = false;
        var parts = await ReadAllAsync(source);
        var big = Encoding.UTF8.GetString(parts.Single(p => p.Table == "public.big").Bytes);
        var ids = big.Split('\n').Skip(1).TakeWhile(line => line != "\\.").Select(line => int.Parse(line.Split('\t')[0], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal([.. Enumerable.Range(20001, 5000), .. Enumerable.Range(1, 5000), .. Enumerable.Range(10001, 5000), .. Enumerable.Range(5001, 5000), .. Enumerable.Range(15001, 5000)], ids);
        Assert.StartsWith("COPY public.big (id, v) FROM stdin;\n", big, StringComparison.Ordinal);
        Assert.EndsWith("\n\\.\n\n\n", big, StringComparison.Ordinal);
        Assert.Equal("COPY public.small (id) FROM stdin;\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n\\.\n\n\n",
            Encoding.UTF8.GetString(parts.Single(p => p.Table == "public.small").Bytes));
    }
}

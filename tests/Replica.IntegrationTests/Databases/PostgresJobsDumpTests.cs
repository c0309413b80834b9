using System.Globalization;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// `replica dump --jobs N` end to end with the real executable, pg_dump and psql: the SQL `replica restore --output`
/// writes from a dump in parts, loaded by psql -f, gives the database plain pg_dump gives (no rules) or the one
/// `--jobs 1` gives (masking rules), the same bytes on every run, with a read-only role too.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresJobsDumpTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>awkward.sql: a partitioned table, a sequence, foreign keys, text with tabs, newlines, backslashes, NULLs.</summary>
    async Task<string> AwkwardDatabaseAsync()
    {
        var db = await server.CreateDatabaseAsync();
        var load = await server.RunPsqlFileAsync(db, TestPaths.Fixture("awkward.sql"));
        Assert.Equal(0, load.ExitCode);
        return db;
    }

    async Task<string> ShopDatabaseAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.PsqlAsync(db, await File.ReadAllTextAsync(TestPaths.Example("shop.sql")));
        return db;
    }

    /// <summary>A config for <paramref name="sourceUri"/> with the quickstart's masking rules, or none.</summary>
    string WriteConfig(string sourceUri, bool rules, string name = "replica.yaml")
    {
        var transformers = "";
        if (rules)
        {
            var example = File.ReadAllText(TestPaths.Example("replica.yaml"));
            transformers = example[example.IndexOf("transformers:", StringComparison.Ordinal)..];
        }
        return _cli.WriteConfig($"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            source:
              connection_uri: '{sourceUri}'
            bridge:
              local:
                path: {_cli.BridgePath}
            {transformers}
            """, name);
    }

    /// <summary>Dumps with `replica dump --jobs`, restores the dump with `replica restore --output` and returns that SQL.</summary>
    async Task<byte[]> DumpAndRestoreSqlAsync(string config, int jobs)
    {
        var dump = await _cli.RunAsync("dump", "-c", config, "--jobs", jobs.ToString(CultureInfo.InvariantCulture));
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var name = dump.Stdout.Trim();
        var output = Path.Combine(_cli.WorkingDirectory, name + ".sql");
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", name, "--output", output);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        return await File.ReadAllBytesAsync(output);
    }

    /// <summary>psql -f of <paramref name="sql"/> into a new database (one transaction, stop on error); returns its name.</summary>
    async Task<string> LoadAsync(byte[] sql)
    {
        var db = await server.CreateDatabaseAsync();
        var path = Path.Combine(_cli.WorkingDirectory, db + ".sql");
        await File.WriteAllBytesAsync(path, sql);
        var load = await server.RunPsqlFileAsync(db, path);
        Assert.True(load.ExitCode == 0 && !load.Stderr.Contains("ERROR", StringComparison.Ordinal), load.Stderr);
        return db;
    }

    async Task<string> PgDumpRestoredAsync(string source)
    {
        var path = Path.Combine(_cli.WorkingDirectory, source + ".pg_dump.sql");
        await server.PgDumpToFileAsync(source, path);
        return await LoadAsync(await File.ReadAllBytesAsync(path));
    }

    async Task<string> SchemaAsync(string db)
    {
        var path = Path.Combine(_cli.WorkingDirectory, db + ".schema.sql");
        await server.PgDumpToFileAsync(db, path, "--schema-only", "--restrict-key=JobsDumpTestKey");
        return await File.ReadAllTextAsync(path);
    }

    async Task AssertSameDatabaseAsync(string expected, string actual)
    {
        Assert.Equal(await SchemaAsync(expected), await SchemaAsync(actual));
        Assert.Equal(await DatabaseAssert.ChecksumsAsync(server, expected), await DatabaseAssert.ChecksumsAsync(server, actual));
    }

    [Fact]
    public async Task DumpJobs2_NoRules_RestoresTheDatabasePgDumpGives()
    {
        var source = await AwkwardDatabaseAsync();
        var expected = await PgDumpRestoredAsync(source);
        var config = WriteConfig(server.PasswordUri(source), rules: false);

        var sql = await DumpAndRestoreSqlAsync(config, jobs: 2);

        await AssertSameDatabaseAsync(expected, await LoadAsync(sql));
    }

    [Fact]
    public async Task DumpJobs2_MaskingRules_MasksAsJobs1AndKeepsTheRest()
    {
        var source = await ShopDatabaseAsync();
        var config = WriteConfig(server.PasswordUri(source), rules: true);

        var single = await LoadAsync(await DumpAndRestoreSqlAsync(config, jobs: 1));
        var parted = await LoadAsync(await DumpAndRestoreSqlAsync(config, jobs: 2));

        // The transformers are deterministic: the same rules give the same database, masked values included.
        await AssertSameDatabaseAsync(single, parted);
        foreach (var (table, column) in new[] { ("customers", "email"), ("customers", "first_name"), ("customers", "phone") })
        {
            var original = await server.QueryAsync(source, $"SELECT {column} FROM {table} ORDER BY id");
            var masked = await server.QueryAsync(parted, $"SELECT {column} FROM {table} ORDER BY id");
            Assert.Equal(original.Count, masked.Count);
            Assert.NotEmpty(original);
            // NULL stays NULL; no value of the source is left.
            Assert.Empty(original.Select(r => r[0]).OfType<string>().Intersect(masked.Select(r => r[0]).OfType<string>()));
        }
        Assert.Equal(await server.QueryAsync(source, "SELECT id, country FROM customers ORDER BY id"),
            await server.QueryAsync(parted, "SELECT id, country FROM customers ORDER BY id"));
        // data: skip keeps the table without rows.
        Assert.Equal("0", (await server.QueryAsync(parted, "SELECT count(*) FROM audit_log"))[0][0]);
    }

    [Fact]
    public async Task DumpJobs2_TwoRuns_RestoreByteIdenticalSql()
    {
        var source = await AwkwardDatabaseAsync();
        var config = WriteConfig(server.PasswordUri(source), rules: false);

        var first = await DumpAndRestoreSqlAsync(config, jobs: 2);
        var second = await DumpAndRestoreSqlAsync(config, jobs: 2);

        Assert.True(first.AsSpan().SequenceEqual(second), "two dumps with --jobs 2 of the same data restored to different SQL");
    }

    [Fact]
    public async Task DumpJobs3_ReadOnlyRole_RestoresTheDatabasePgDumpGives()
    {
        var source = await AwkwardDatabaseAsync();
        var expected = await PgDumpRestoredAsync(source);
        var role = "jobs_reader_" + Guid.NewGuid().ToString("N")[..8];
        await server.ExecuteAsync("postgres",
            $"CREATE ROLE {role} LOGIN; GRANT pg_read_all_data TO {role}; ALTER ROLE {role} SET default_transaction_read_only = on");
        var config = WriteConfig($"postgres://{role}@{PostgresServer.Host}:{server.Port.ToString(CultureInfo.InvariantCulture)}/{source}", rules: false);

        var sql = await DumpAndRestoreSqlAsync(config, jobs: 3);

        await AssertSameDatabaseAsync(expected, await LoadAsync(sql));
    }

    /// <summary>
    /// reg* values are names resolved through the search_path: pg_dump's session (search_path '') writes public.target,
    /// which the restore (search_path '' too) reads back; the parts' COPY sessions must write the same.
    /// </summary>
    [Fact]
    public async Task DumpJobs2_RegclassColumn_RestoresAsJobs1()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, """
            CREATE TABLE public.target (x int);
            CREATE FUNCTION public.myfn() RETURNS int LANGUAGE sql AS 'SELECT 1';
            CREATE TABLE public.refs (id int PRIMARY KEY, r regclass, p regproc);
            INSERT INTO public.refs VALUES (1, 'public.target', 'public.myfn');
            """);
        var config = WriteConfig(server.PasswordUri(source), rules: false);

        var single = await LoadAsync(await DumpAndRestoreSqlAsync(config, jobs: 1));
        var parted = await LoadAsync(await DumpAndRestoreSqlAsync(config, jobs: 2));

        const string Refs = "SELECT id, r::text, p::text FROM public.refs";
        Assert.Equal([["1", "target", "myfn"]], await server.QueryAsync(single, Refs));
        Assert.Equal(await server.QueryAsync(single, Refs), await server.QueryAsync(parted, Refs));
    }

    /// <summary>
    /// A migration's ALTER TABLE queued behind the dump's lock while --jobs 2 runs: the dump's own later lock requests
    /// would queue behind the ALTER, which waits for the dump: nobody moves, no deadlock is detected, and the application
    /// waits behind the ALTER. The dump must end (failing, naming the table, and listing nothing; or done, had it locked
    /// the table before the ALTER came), and the ALTER then proceeds.
    /// </summary>
    [Fact]
    public async Task DumpJobs2_AlterTableQueuedDuringDump_DoesNotHangAndTheAlterProceeds()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, """
            CREATE TABLE public.big (id int, v text);
            INSERT INTO public.big SELECT i, repeat('x', 200) FROM generate_series(1, 100000) i;
            CREATE TABLE public.small (id int);
            INSERT INTO public.small VALUES (1);
            """);
        var config = WriteConfig(server.PasswordUri(source), rules: false);
        var dump = _cli.RunAsync("dump", "-c", config, "--jobs", "2");
        // Once the exporting session holds its lock, queue an ALTER TABLE behind it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await server.QueryAsync(source, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'small' AND l.granted"))[0][0] == "0")
        {
            Assert.True(DateTime.UtcNow < deadline, "the dump never locked public.small");
            await Task.Delay(20);
        }
        var alter = server.ExecuteAsync(source, "SET lock_timeout = '120s'; ALTER TABLE public.small ADD COLUMN z int");

        var finished = await Task.WhenAny(dump, Task.Delay(TimeSpan.FromSeconds(60)));
        var sessions = await server.QueryAsync(source,
            "SELECT pid, state, wait_event_type, left(query, 60) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        Assert.True(finished == dump, "dump --jobs 2 still running after 60 s: " + string.Join(" | ", sessions.Select(r => string.Join(",", r))));
        var result = await dump;
        if (result.ExitCode != 0)
        {
            Assert.Contains("public.small", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("another session is waiting for a conflicting lock", result.Stderr, StringComparison.Ordinal);
            Assert.Empty(await _cli.ListedNamesAsync(config));
        }
        await alter.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task DumpJobs2_InputFile_ExitsTwoSayingItIsOneStream()
    {
        var input = Path.Combine(_cli.WorkingDirectory, "in.sql");
        await File.WriteAllTextAsync(input, "SELECT 1;\n");
        var config = WriteConfig(server.PasswordUri("postgres"), rules: false);

        var dump = await _cli.RunAsync("dump", "-c", config, "--jobs", "2", "--input", input);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("--jobs above 1 reads a live PostgreSQL database (source.connection_uri) in parts from one snapshot; "
            + "--input is one stream (a file or standard input) and is read with --jobs 1", dump.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_cli.BridgePath) && Directory.EnumerateDirectories(_cli.BridgePath).Any());
    }

    [Fact]
    public async Task DumpJobs2_MysqlSource_ExitsTwoSayingWhyItIsOneStream()
    {
        var config = WriteConfig("mysql://reader@localhost:3306/shop", rules: false);

        var dump = await _cli.RunAsync("dump", "-c", config, "--jobs", "2");

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("global read lock (FLUSH TABLES WITH READ LOCK)", dump.Stderr, StringComparison.Ordinal);
        Assert.Contains("a MySQL source is dumped as one stream with --jobs 1", dump.Stderr, StringComparison.Ordinal);
    }
}

using System.Globalization;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// `replica dump --jobs N` with table names holding control characters (a newline): exclude patterns leave out the
/// tables pg_dump leaves out, and a dump in parts restores, to a file or into a database, as `--jobs 1`'s does.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresJobsNamesTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    string WriteConfig(string source, string name, string sourceExtra = "", string? destination = null) => _cli.WriteConfig($"""
        secret: ${"{"}REPLICA_SECRET{"}"}
        source:
          connection_uri: '{server.PasswordUri(source)}'
          {sourceExtra}
        {(destination is null ? "" : $"destination:\n  connection_uri: '{server.PasswordUri(destination)}'\n  allow_privileged_role: true")}
        bridge:
          local:
            path: {_cli.BridgePath}
        """, name);

    async Task<string> DumpAsync(string config, int jobs)
    {
        var dump = await _cli.RunAsync("dump", "-c", config, "--jobs", jobs.ToString(CultureInfo.InvariantCulture));
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        return dump.Stdout.Trim();
    }

    async Task<byte[]> RestoreSqlAsync(string config, string name)
    {
        var output = Path.Combine(_cli.WorkingDirectory, name + ".sql");
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", name, "--output", output);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        return await File.ReadAllBytesAsync(output);
    }

    async Task<string> LoadAsync(byte[] sql)
    {
        var db = await server.CreateDatabaseAsync();
        var path = Path.Combine(_cli.WorkingDirectory, db + ".sql");
        await File.WriteAllBytesAsync(path, sql);
        var load = await server.RunPsqlFileAsync(db, path);
        Assert.True(load.ExitCode == 0 && !load.Stderr.Contains("ERROR", StringComparison.Ordinal), load.Stderr);
        return db;
    }

    async Task<string> SchemaAsync(string db)
    {
        var path = Path.Combine(_cli.WorkingDirectory, db + ".schema.sql");
        await server.PgDumpToFileAsync(db, path, "--schema-only", "--restrict-key=JobsNamesTestKey");
        return await File.ReadAllTextAsync(path);
    }

    async Task AssertSameDatabaseAsync(string expected, string actual)
    {
        Assert.Equal(await SchemaAsync(expected), await SchemaAsync(actual));
        Assert.Equal(await DatabaseAssert.ChecksumsAsync(server, expected), await DatabaseAssert.ChecksumsAsync(server, actual));
    }

    /// <summary>
    /// exclude_tables 'public.audit*': pg_dump's pattern (a server regular expression, where '.' matches a newline)
    /// matches public."audit\nlog" and the partitioned public."audit\nparent"; --jobs 2 copied the first (a data part
    /// with its rows, unmasked) and both --jobs 1 and 2 kept the partition of the second.
    /// </summary>
    [Fact]
    public async Task DumpJobs2_ExcludePatternMatchingNameWithNewline_ExcludesAsJobs1()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, """
            CREATE TABLE public.audit_a (v text); INSERT INTO public.audit_a VALUES ('secret-a');
            CREATE TABLE public."audit
            log" (v text); INSERT INTO public."audit
            log" VALUES ('secret-newline');
            CREATE TABLE public."audit
            parent" (id int, v text) PARTITION BY RANGE (id);
            CREATE TABLE public.p_child PARTITION OF public."audit
            parent" FOR VALUES FROM (0) TO (100);
            INSERT INTO public.p_child VALUES (1, 'secret-child');
            CREATE TABLE public.kept (v text); INSERT INTO public.kept VALUES ('kept');
            """);
        var config = WriteConfig(source, "exclude.yaml", "exclude_tables: ['public.audit*']");

        var singleName = await DumpAsync(config, 1);
        var partedName = await DumpAsync(config, 2);

        var manifest = await File.ReadAllTextAsync(Path.Combine(_cli.BridgePath, partedName, "manifest.json"));
        Assert.Contains("public.kept", manifest, StringComparison.Ordinal);
        Assert.DoesNotContain("audit", manifest, StringComparison.Ordinal);
        Assert.DoesNotContain("p_child", manifest, StringComparison.Ordinal);
        var single = await RestoreSqlAsync(config, singleName);
        var parted = await RestoreSqlAsync(config, partedName);
        Assert.DoesNotContain("secret", System.Text.Encoding.UTF8.GetString(single), StringComparison.Ordinal);
        Assert.DoesNotContain("secret", System.Text.Encoding.UTF8.GetString(parted), StringComparison.Ordinal);
        var singleDb = await LoadAsync(single);
        var partedDb = await LoadAsync(parted);
        await AssertSameDatabaseAsync(singleDb, partedDb);
        Assert.Equal("kept", (await server.QueryAsync(partedDb, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"))[0][0]);
    }

    /// <summary>
    /// A table whose name holds a newline: --jobs 2 stored it (exit 0) with the raw name in its manifest, which the
    /// manifest reader refuses ("an empty table name or one with a control character"), so the dump could not restore.
    /// </summary>
    [Fact]
    public async Task DumpJobs2_TableNameWithNewline_RestoresAsJobs1()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, """
            CREATE TABLE public."line
            break" (id int PRIMARY KEY, v text);
            INSERT INTO public."line
            break" SELECT i, 'row ' || i FROM generate_series(1, 50) i;
            CREATE TABLE public.plain (id int REFERENCES public."line
            break"); INSERT INTO public.plain VALUES (1);
            """);
        // A tab, a backslash (doubled in the U&"..." form) and a double quote in one name.
        await server.ExecuteAsync(source, "CREATE TABLE public.\"tab\tand \\ \"\"q\"\"\" (v text); INSERT INTO public.\"tab\tand \\ \"\"q\"\"\" VALUES ('t');");
        var config = WriteConfig(source, "newline.yaml");

        var singleDb = await LoadAsync(await RestoreSqlAsync(config, await DumpAsync(config, 1)));
        var partedName = await DumpAsync(config, 2);
        var partedDb = await LoadAsync(await RestoreSqlAsync(config, partedName));

        await AssertSameDatabaseAsync(singleDb, partedDb);
        Assert.Equal("50", (await server.QueryAsync(partedDb, "SELECT count(*) FROM public.\"line\nbreak\""))[0][0]);
        foreach (var jobs in new[] { 1, 2 })
        {
            var destination = "restored_" + Guid.NewGuid().ToString("N")[..10];
            var restore = await _cli.RunAsync("restore", "-c", WriteConfig(source, destination + ".yaml", destination: destination),
                "--name", partedName, "--jobs", jobs.ToString(CultureInfo.InvariantCulture));
            Assert.True(restore.ExitCode == 0, restore.Stderr);
            await AssertSameDatabaseAsync(singleDb, destination);
        }
    }
}

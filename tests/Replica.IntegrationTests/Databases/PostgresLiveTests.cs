using System.Text.Json;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// Live PostgreSQL at both ends: `replica dump` runs the real pg_dump against a source database, `replica restore` runs
/// the real psql into a destination database, both on the fixture's server.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresLiveTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    async Task<string> CreateShopAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.PsqlAsync(db, await File.ReadAllTextAsync(TestPaths.Example("shop.sql")));
        return db;
    }

    /// <summary>The quickstart's rules, with a live source and destination.</summary>
    string WriteConfig(string sourceUri, string destinationUri, string extraSource = "", string extraDestination = "")
    {
        var rules = File.ReadAllText(TestPaths.Example("replica.yaml"));
        rules = rules[rules.IndexOf("transformers:", StringComparison.Ordinal)..];
        return _cli.WriteConfig($"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            source:
              connection_uri: '{sourceUri}'
            {extraSource}
            destination:
              connection_uri: '{destinationUri}'
              allow_privileged_role: true
            {extraDestination}
            bridge:
              local:
                path: {_cli.BridgePath}
            {rules}
            """);
    }

    async Task<string[]> ColumnAsync(string db, string sql) =>
        (await server.PsqlAsync(db, sql)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    async Task<string> SchemaAsync(string db)
    {
        var output = await ProcessRunner.RunAsync(server.Tool("pg_dump"), ["--schema-only", "--no-owner", "--dbname=" + server.ConnectionUri(db)], server.ClientEnvironment);
        // \restrict keys are random per run.
        return string.Join('\n', output.Stdout.Split('\n').Where(l => !l.StartsWith("\\restrict", StringComparison.Ordinal) && !l.StartsWith("\\unrestrict", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Dump_BareCapitalisedRuleColumnOnTableWithThatSpelling_ExitsWith2AndStoresNothing(bool withLowerCase)
    {
        // Bare Email folds to email: beside a column email the rule masked that one and left "Email" in clear; without one
        // it masked nothing (here silently: the rule is optional).
        var source = await server.CreateDatabaseAsync();
        var lower = withLowerCase ? ", email text" : "";
        var lowerValue = withLowerCase ? "'lower@example.com', " : "";
        await server.PsqlAsync(source, $"CREATE TABLE public.users (id int{lower}, \"Email\" text); INSERT INTO public.users VALUES (1, {lowerValue}'Mixed@example.com');");
        var config = _cli.WriteConfig($"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            source:
              connection_uri: '{server.PasswordUri(source)}'
            bridge:
              local:
                path: {_cli.BridgePath}
            transformers:
              - table: public.users
                optional: true
                columns:
                  Email: email
            """);

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains(":11:7: the rule's column Email of table public.users is a bare name, which folds to lower case: ", dump.Stderr, StringComparison.Ordinal);
        Assert.Contains(withLowerCase ? "it would mask column email and leave column \"Email\" unmasked" : "it names no column email of public.users",
            dump.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Mixed@example.com", dump.Stderr + dump.Stdout, StringComparison.Ordinal);
        var list = await _cli.RunAsync("list", "-c", config, "--json");
        Assert.Equal("[]", list.Stdout.Trim());
    }

    [Fact]
    public async Task DumpAndRestore_LiveDatabases_MasksRulesKeepsEverythingElse()
    {
        var source = await CreateShopAsync();
        var destination = "replica_dest_" + Guid.NewGuid().ToString("N")[..8];
        var config = WriteConfig(server.PasswordUri(source), server.PasswordUri(destination));

        var dump = await _cli.RunAsync("dump", "-c", config);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var restore = await _cli.RunAsync("restore", "-c", config, "--latest");
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Matches(@"restored dump-\d+ \(.+, \d+ rows\) to database replica_dest_", restore.Stderr);
        Assert.DoesNotContain(PostgresServer.Password, dump.Stderr + dump.Stdout + restore.Stderr + restore.Stdout);

        // The destination was created and has the source's schema exactly.
        Assert.Equal(await SchemaAsync(source), await SchemaAsync(destination));

        // Columns without a rule are equal to the source's, row for row.
        foreach (var sql in new[]
        {
            "SELECT id, country FROM customers ORDER BY id",
            "SELECT id, customer_id, total, ordered_at FROM orders ORDER BY id",
            "SELECT id, order_id, amount FROM payments ORDER BY id",
            "SELECT id, customer_id, metadata - 'contact' FROM support_tickets ORDER BY id",
        })
        {
            Assert.Equal(await ColumnAsync(source, sql), await ColumnAsync(destination, sql));
        }

        // Masked columns hold none of the original values.
        foreach (var (table, column) in new[] { ("customers", "email"), ("customers", "first_name"), ("customers", "phone"), ("payments", "card_number"), ("payments", "iban") })
        {
            var original = await ColumnAsync(source, $"SELECT {column} FROM {table} ORDER BY id");
            var masked = await ColumnAsync(destination, $"SELECT {column} FROM {table} ORDER BY id");
            Assert.Equal(original.Length, masked.Length);
            Assert.NotEmpty(original);
            Assert.Empty(original.Intersect(masked));
        }

        // skip rule: audit_log exists but is empty; every foreign key and unique constraint holds (the restore validated
        // them as it created them; check the unique e-mail explicitly).
        Assert.Equal(["0"], await ColumnAsync(destination, "SELECT count(*) FROM audit_log"));
        Assert.Equal(["0"], await ColumnAsync(destination, "SELECT count(*) - count(DISTINCT email) FROM customers"));
        Assert.Equal(["0"], await ColumnAsync(destination,
            "SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL"));
        Assert.Equal(await ColumnAsync(source, "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'"),
            await ColumnAsync(destination, "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'"));
    }

    [Fact]
    public async Task Restore_ConflictingTableWithNoWipe_LeavesDestinationUnchanged()
    {
        var source = await CreateShopAsync();
        var destination = await server.CreateDatabaseAsync();
        await server.PsqlAsync(destination, "CREATE TABLE public.payments (id int PRIMARY KEY, note text); INSERT INTO public.payments VALUES (1, 'keep me');");
        var before = await SchemaAsync(destination);
        var config = WriteConfig(server.PasswordUri(source), server.PasswordUri(destination));
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config)).ExitCode);

        var restore = await _cli.RunAsync("restore", "-c", config, "--latest", "--no-wipe");

        Assert.True(restore.ExitCode == 7, restore.Stderr);
        Assert.Contains("relation \"payments\" already exists", restore.Stderr);
        Assert.Contains("rolled back", restore.Stderr);
        Assert.Equal(before, await SchemaAsync(destination));
        Assert.Equal(["1|keep me"], await ColumnAsync(destination, "SELECT * FROM public.payments"));
    }

    [Theory]
    [InlineData("schemas")]
    [InlineData("database")]
    public async Task Restore_Wipe_ReplacesWhatWasThere(string wipe)
    {
        var source = await CreateShopAsync();
        var destination = await server.CreateDatabaseAsync();
        await server.PsqlAsync(destination, "CREATE TABLE public.payments (id int); CREATE SCHEMA old_stuff; CREATE TABLE old_stuff.t (x int);");
        var config = WriteConfig(server.PasswordUri(source), server.PasswordUri(destination));
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config)).ExitCode);

        var refused = await _cli.RunAsync("restore", "-c", config, "--latest", "--wipe", wipe);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--yes", refused.Stderr);

        var restore = await _cli.RunAsync("restore", "-c", config, "--latest", "--wipe", wipe, "--yes");

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Equal(await SchemaAsync(source), await SchemaAsync(destination));
        // No staging database is left behind.
        Assert.Empty(await ColumnAsync("postgres", "SELECT datname FROM pg_database WHERE datname LIKE '%\\_replica\\_%'"));
    }

    [Fact]
    public async Task Restore_WipeDatabaseThatFails_KeepsOldDatabaseAndDropsStaging()
    {
        var source = await CreateShopAsync();
        var destination = await server.CreateDatabaseAsync();
        await server.PsqlAsync(destination, "CREATE TABLE keep (x int); INSERT INTO keep VALUES (42);");
        // Make the restore fail after psql already received part of the dump: corrupt the stored chunk.
        var config = WriteConfig(server.PasswordUri(source), server.PasswordUri(destination));
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", config)).ExitCode);
        var chunk = Directory.EnumerateFiles(_cli.BridgePath, "*", SearchOption.AllDirectories).First(f => f.EndsWith(".chunk", StringComparison.Ordinal));
        var bytes = await File.ReadAllBytesAsync(chunk);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(chunk, bytes);

        var restore = await _cli.RunAsync("restore", "-c", config, "--latest", "--wipe", "database", "--yes");

        Assert.Equal(5, restore.ExitCode);
        Assert.Equal(["42"], await ColumnAsync(destination, "SELECT x FROM keep"));
        Assert.Empty(await ColumnAsync("postgres", "SELECT datname FROM pg_database WHERE datname LIKE '%\\_replica\\_%'"));
    }

    [Fact]
    public async Task Dump_WrongPassword_FailsBeforeStoringAndShowsNoSecret()
    {
        var source = await CreateShopAsync();
        var wrong = "not-the-Password-77";
        var config = WriteConfig(server.PasswordUri(source, wrong), server.PasswordUri("unused"));

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(7, dump.ExitCode);
        Assert.Contains("password authentication failed for user \"replica_pw\"", dump.Stderr);
        Assert.DoesNotContain(wrong, dump.Stderr + dump.Stdout);
        Assert.Equal("[]", (await _cli.RunAsync("list", "-c", config, "--json")).Stdout.Trim());
    }

    [Fact]
    public async Task Dump_UnreachableHost_FailsClearly()
    {
        var config = WriteConfig("postgres://replica_pw:hunter2-secret@127.0.0.1:1/shop", server.PasswordUri("unused"));

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(7, dump.ExitCode);
        Assert.Contains("cannot connect to database shop on 127.0.0.1:1", dump.Stderr);
        Assert.Contains("Connection refused", dump.Stderr);
        Assert.DoesNotContain("hunter2-secret", dump.Stderr);
    }

    [Fact]
    public async Task Dump_PgDumpFailsMidway_ListsNothingAndKeepsEarlierDumps()
    {
        var source = await CreateShopAsync();
        var config = WriteConfig(server.PasswordUri(source), server.PasswordUri("unused"));
        var first = await _cli.RunAsync("dump", "-c", config, "--name", "good");
        Assert.Equal(0, first.ExitCode);
        // A role that may connect but not read payments: pg_dump fails when it reaches that table's data.
        var role = "limited_" + Guid.NewGuid().ToString("N")[..8];
        await server.PsqlAsync(source, $"""
            CREATE ROLE {role} LOGIN PASSWORD 'limited-pw';
            GRANT SELECT ON customers, orders, support_tickets, audit_log TO {role};
            """);
        var limited = WriteConfig($"postgres://{role}@127.0.0.1:{server.Port}/{source}", server.PasswordUri("unused"));

        var dump = await _cli.RunAsync("dump", "-c", limited, "--name", "partial");

        Assert.Equal(7, dump.ExitCode);
        Assert.Contains("pg_dump failed", dump.Stderr);
        Assert.Contains("permission denied for table payments", dump.Stderr);
        using var list = JsonDocument.Parse((await _cli.RunAsync("list", "-c", config, "--json")).Stdout);
        Assert.Equal(["good"], list.RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()!));
        Assert.Equal(["good"], Directory.GetDirectories(_cli.BridgePath).Select(Path.GetFileName));
        Assert.Equal(0, (await _cli.RunAsync("verify", "-c", config, "--name", "good")).ExitCode);
    }

    [Fact]
    public async Task Dump_SourceOptions_MapToPgDump()
    {
        var source = await CreateShopAsync();
        var destination = await server.CreateDatabaseAsync();
        var config = WriteConfig(server.PasswordUri(source), server.PasswordUri(destination),
            extraSource: "  data_format: inserts\n  exclude_tables: [public.audit_log]\n  exclude_table_data: [public.support_tickets]");

        var dump = await _cli.RunAsync("dump", "-c", config);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var restored = await _cli.RunAsync("restore", "-c", config, "--latest", "--output", "-");

        Assert.Contains("INSERT INTO public.customers (id, first_name,", restored.Stdout);
        Assert.DoesNotContain("audit_log", restored.Stdout);
        Assert.Contains("CREATE TABLE public.support_tickets", restored.Stdout);
        Assert.DoesNotContain("INSERT INTO public.support_tickets", restored.Stdout);
    }

    [Fact]
    public async Task Dump_OldLocalPgDump_SaysItIsTooOld()
    {
        // A stand-in pg_dump that reports an old version; the real one is used by every other test here.
        var bin = Path.Combine(_cli.WorkingDirectory, "old-bin");
        Directory.CreateDirectory(bin);
        var fake = Path.Combine(bin, "pg_dump");
        await File.WriteAllTextAsync(fake, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n");
        await ProcessRunner.RunAsync("chmod", ["755", fake]);
        File.CreateSymbolicLink(Path.Combine(bin, "psql"), server.Tool("psql"));
        var source = await CreateShopAsync();
        var config = WriteConfig(server.PasswordUri(source), server.PasswordUri("unused"));

        var dump = await ProcessRunner.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "replica.dll"), "dump", "-c", config],
            new Dictionary<string, string?> { ["REPLICA_SECRET"] = ReplicaCli.Secret, ["REPLICA_PG_BINDIR"] = bin }, null, throwOnError: false, workingDirectory: _cli.WorkingDirectory);

        Assert.Equal(7, dump.ExitCode);
        Assert.Contains("is version 9, older than the PostgreSQL 15 server", dump.Stderr);
    }
}

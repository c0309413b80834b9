using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// A typo in a live PostgreSQL source's exclude entries, and a table that appears after the catalog was read in strict
/// mode: each used to dump rows in clear with exit 0; each fails with exit 2 and stores nothing.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TypoLeakLiveTests(PostgresServer server) : IDisposable
{
    const string RealEmail = "jane.real@corp.example";

    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    async Task<string> CreateSourceAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.PsqlAsync(db, $"""
            CREATE TABLE public.customers (id integer PRIMARY KEY, email text);
            INSERT INTO public.customers VALUES (1, 'someone@corp.example');
            CREATE TABLE public.audit_log (id integer PRIMARY KEY, actor_email text);
            INSERT INTO public.audit_log VALUES (1, '{RealEmail}');
            CREATE SCHEMA archive;
            CREATE TABLE archive.old_logins (id integer, actor_email text);
            INSERT INTO archive.old_logins VALUES (1, '{RealEmail}');
            """);
        return db;
    }

    string Config(string db, string extra, string top = "") => _cli.WriteLiveConfig(server.PasswordUri(db), "public.customers", extra, top);

    [Theory]
    [InlineData("1", "  exclude_table_data: [public.audit_logs]", "source.exclude_table_data entry 'public.audit_logs' matches no table in {db} (did you mean public.audit_log?)")]
    [InlineData("2", "  exclude_table_data: [public.audit_logs]", "source.exclude_table_data entry 'public.audit_logs' matches no table in {db} (did you mean public.audit_log?)")]
    [InlineData("1", "  exclude_tables: [public.audit_lgo]", "source.exclude_tables entry 'public.audit_lgo' matches no table in {db} (did you mean public.audit_log?)")]
    [InlineData("2", "  exclude_schemas: [archiv]", "source.exclude_schemas entry 'archiv' matches no schema in {db} (did you mean archive?)")]
    public async Task Dump_ExcludeEntryMatchingNothing_ExitsWith2NamingTheClosestNameAndStoresNothing(string jobs, string extra, string message)
    {
        var db = await CreateSourceAsync();
        var config = Config(db, extra);

        var result = await _cli.RunAsync("dump", "-c", config, "--jobs", jobs, "--name", "typo");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message.Replace("{db}", db, StringComparison.Ordinal), result.Stderr);
        Assert.Contains("nothing was stored", result.Stderr);
        Assert.Equal("", result.Stdout);
        Assert.Empty(await _cli.ListedNamesAsync(config));
        _cli.AssertNoDumpFolder();
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public async Task Dump_ExcludeEntriesSpelledRight_LeaveTheirRowsOut(string jobs)
    {
        var db = await CreateSourceAsync();
        var config = Config(db, "  exclude_table_data: [public.audit_log]\n  exclude_schemas: ['archiv*']");

        var dump = await _cli.RunAsync("dump", "-c", config, "--jobs", jobs, "--name", "right");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var restored = await _cli.RunAsync("restore", "-c", config, "--name", "right", "--output", "-");

        Assert.True(restored.ExitCode == 0, restored.Stderr);
        Assert.Contains("CREATE TABLE public.audit_log", restored.Stdout);
        Assert.DoesNotContain("archive", restored.Stdout);
        Assert.DoesNotContain(RealEmail, restored.Stdout);
    }

    [Fact]
    public async Task Dump_ExcludeEntryMatchingNothingWithUnmatchedRulesWarn_CompletesWithAWarning()
    {
        var db = await CreateSourceAsync();
        var config = Config(db, "  exclude_table_data: [public.audit_logs]", top: "unmatched_rules: warn");

        var dump = await _cli.RunAsync("dump", "-c", config, "--name", "warned", "--quiet");

        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.Contains($"replica: warning: source.exclude_table_data entry 'public.audit_logs' matches no table in {db} (did you mean public.audit_log?); it left nothing out", dump.Stderr);
        Assert.Equal(["warned"], await _cli.ListedNamesAsync(config));
    }

    /// <summary>
    /// Strict mode reads the catalog before pg_dump takes its snapshot: a table created in between (here by a pg_dump
    /// wrapper, just before the real one starts) was dumped in clear with exit 0. pg_dump's own CREATE TABLE is checked now.
    /// </summary>
    [Fact]
    public async Task Dump_StrictWithTableCreatedAfterTheCatalogWasRead_ExitsWith2AndStoresNothing()
    {
        var db = await CreateSourceAsync();
        var bin = Path.Combine(_cli.WorkingDirectory, "racing-bin");
        Directory.CreateDirectory(bin);
        var wrapper = Path.Combine(bin, "pg_dump");
        await File.WriteAllTextAsync(wrapper, $"""
            #!/bin/sh
            case "$1" in --version|-V) exec '{server.Tool("pg_dump")}' "$@";; esac
            '{server.Tool("psql")}' -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE public.newsletter (id integer, email text); INSERT INTO public.newsletter VALUES (1, '{RealEmail}')" >&2 || exit 1
            exec '{server.Tool("pg_dump")}' "$@"

            """);
        await ProcessRunner.RunAsync("chmod", ["755", wrapper]);
        File.CreateSymbolicLink(Path.Combine(bin, "psql"), server.Tool("psql"));
        var config = Config(db, "  exclude_table_data: [public.audit_log]\n  exclude_schemas: [archive]", top: "policy: strict");

        var dump = await _cli.RunAsync(["dump", "-c", config, "--name", "raced"], null,
            new Dictionary<string, string?> { ["REPLICA_PG_BINDIR"] = bin });

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("strict mode", dump.Stderr);
        Assert.Contains("public.newsletter.email", dump.Stderr);
        Assert.DoesNotContain("public.audit_log.actor_email", dump.Stderr); // its rows are left out: nothing to check
        Assert.Equal("", dump.Stdout);
        Assert.Empty(await _cli.ListedNamesAsync(config));
        _cli.AssertNoDumpFolder();
        Assert.Equal("1", (await server.PsqlAsync(db, "SELECT count(*) FROM public.newsletter")).Trim());
    }
}

using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// A typo in a MariaDB source's exclude_tables or exclude_table_data: mariadb-dump ignores an --ignore-table of a table
/// that does not exist, so the rows it meant to leave out were dumped with exit 0. It fails with exit 2 and stores nothing.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlExcludeTypoTests(MariaDbServer server) : IDisposable
{
    const string RealEmail = "jane.real@corp.example";

    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    async Task<string> CreateSourceAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, $"""
            CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(200));
            INSERT INTO customers VALUES (1, 'someone@corp.example');
            CREATE TABLE audit_log (id INT PRIMARY KEY, actor_email VARCHAR(200));
            INSERT INTO audit_log VALUES (1, '{RealEmail}');
            """);
        return db;
    }

    string Config(string db, string extra, string top = "") => _cli.WriteLiveConfig(server.ConnectionUri(db), "customers", extra, top);

    [Theory]
    [InlineData("  exclude_table_data: [audit_logs]", "source.exclude_table_data entry 'audit_logs' matches no table of ", "(did you mean audit_log?)")]
    [InlineData("  exclude_tables: ['{db}.audit_lgo']", "source.exclude_tables entry '{db}.audit_lgo' matches no table of ", "(did you mean {db}.audit_log?)")]
    public async Task Dump_ExcludeEntryMatchingNoTable_ExitsWith2NamingTheClosestTableAndStoresNothing(string extra, string message, string suggestion)
    {
        var db = await CreateSourceAsync();
        var config = Config(db, extra.Replace("{db}", db, StringComparison.Ordinal));

        var result = await _cli.RunAsync("dump", "-c", config, "--name", "typo");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message.Replace("{db}", db, StringComparison.Ordinal), result.Stderr);
        Assert.Contains(suggestion.Replace("{db}", db, StringComparison.Ordinal), result.Stderr);
        Assert.Contains("nothing was stored", result.Stderr);
        Assert.DoesNotContain(server.Password, result.Stderr, StringComparison.Ordinal);
        Assert.Empty(await _cli.ListedNamesAsync(config));
        _cli.AssertNoDumpFolder();
    }

    [Fact]
    public async Task Dump_ExcludeTableDataSpelledRight_LeavesTheRowsOut()
    {
        var db = await CreateSourceAsync();
        var config = Config(db, "  exclude_table_data: [audit_log]");

        var dump = await _cli.RunAsync("dump", "-c", config, "--name", "right");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var restored = await _cli.RunAsync("restore", "-c", config, "--name", "right", "--output", "-");

        Assert.True(restored.ExitCode == 0, restored.Stderr);
        Assert.Contains("CREATE TABLE `audit_log`", restored.Stdout);
        Assert.DoesNotContain(RealEmail, restored.Stdout);
    }

    [Fact]
    public async Task Dump_ExcludeEntryMatchingNoTableWithUnmatchedRulesWarn_CompletesWithAWarning()
    {
        var db = await CreateSourceAsync();
        var config = Config(db, "  exclude_table_data: [audit_logs]", top: "unmatched_rules: warn");

        var dump = await _cli.RunAsync("dump", "-c", config, "--name", "warned", "--quiet");

        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.Contains("replica: warning: source.exclude_table_data entry 'audit_logs' matches no table of ", dump.Stderr);
        Assert.Contains("(did you mean audit_log?); it left nothing out", dump.Stderr);
        Assert.Equal(["warned"], await _cli.ListedNamesAsync(config));
    }
}

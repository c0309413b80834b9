using Replica.Config;
using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>`replica scan` and strict dumps, as a user runs them against a real database.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ScanAndStrictCliTests(PostgresServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    async Task<(string Uri, string DumpFile)> SourceAsync()
    {
        var db = await server.CreateDatabaseAsync();
        await server.PsqlAsync(db, CatalogFixture.Sql());
        var dumpFile = Path.Combine(_cli.WorkingDirectory, "source.sql");
        await server.PgDumpToFileAsync(db, dumpFile, "--no-owner");
        return (server.ConnectionUri(db), dumpFile);
    }

    string Config(string uri, string rules) => _cli.WriteConfig($"""
        secret: ${"{"}REPLICA_SECRET{"}"}
        policy: strict
        source:
          connection_uri: {uri}
        bridge:
          local: {"{"} path: {_cli.BridgePath} {"}"}
        {rules}
        """);

    [Fact]
    public async Task Dump_StrictWithUncoveredColumns_FailsNamingExactlyThemAndStoresNothing()
    {
        var (uri, dumpFile) = await SourceAsync();
        var config = Config(uri, """
            transformers:
              - table: customers
                columns: { email: email, first_name: first-name }
              - table: events
                data: skip
            """);

        var result = await _cli.RunAsync("dump", "-c", config, "--input", dumpFile);

        Assert.Equal(2, result.ExitCode);
        // A column's line names its transformer; the message's other lines are indented too (CommonOptions.Lines).
        var listed = result.Stderr.Split('\n').Where(l => l.Contains(" → ", StringComparison.Ordinal)).Select(l => l.Trim()[..l.Trim().IndexOf(" (", StringComparison.Ordinal)]);
        Assert.Equal(
            ["public.\"Mixed Case\".\"EmailAddress\"", "public.customers.last_name", "public.customers.phone", "public.customers.mobile",
             "public.customers.birth_date", "public.customers.last_ip"],
            listed);
        Assert.Contains("6 columns look like personal data", result.Stderr);
        Assert.Contains("public.customers.last_ip (inet) → ip-address", result.Stderr);
        // A dump file is checked by its own CREATE TABLE statements as it streams, so the bridge was opened (its index
        // lock exists); no dump folder, chunk or index entry may be left.
        Assert.False(Directory.Exists(_cli.BridgePath) && Directory.EnumerateFileSystemEntries(_cli.BridgePath)
                .Any(e => !e.EndsWith("index.json", StringComparison.Ordinal) && !e.EndsWith(".index.lock", StringComparison.Ordinal)),
            "a strict failure stored something");

        // The same config without 'policy: strict' but with --strict fails the same way.
        var lenient = Config(uri, "").Replace("policy: strict\n", "", StringComparison.Ordinal);
        await File.WriteAllTextAsync(lenient, (await File.ReadAllTextAsync(lenient)).Replace("policy: strict\n", "", StringComparison.Ordinal));
        var flagged = await _cli.RunAsync("dump", "-c", lenient, "--input", dumpFile, "--strict");
        Assert.Equal(2, flagged.ExitCode);
        Assert.Contains("public.customers.email (character varying(200)) → email", flagged.Stderr);
    }

    [Fact]
    public async Task Scan_YamlOutput_LoadsAndMakesAStrictDumpPass()
    {
        var (uri, dumpFile) = await SourceAsync();

        var scan = await _cli.RunAsync("scan", "--source", uri);

        Assert.True(scan.ExitCode == 0, scan.Stderr);
        Assert.True(scan.Stdout.Contains("      contact: email  # values: 100% match email", StringComparison.Ordinal), scan.Stdout); // found by its values
        Assert.Contains("email: { transformer: email, unique: true }", scan.Stdout);
        Assert.DoesNotContain("notes", scan.Stdout);
        Assert.DoesNotContain("description", scan.Stdout);
        Assert.True(scan.Stdout.Contains("- table: 'public.\"Mixed Case\"'", StringComparison.Ordinal), scan.Stdout);

        var config = Config(uri, scan.Stdout);
        var loaded = ConfigLoader.Load(config, [.. Replica.Transformers.TransformerRegistry.All.Select(t => t.Name)],
            name => name == "REPLICA_SECRET" ? ReplicaCli.Secret : null);
        Assert.True(loaded.Strict);
        Assert.Contains(loaded.Tables, t => t.Table.Matches("public", "Mixed Case"));

        var dump = await _cli.RunAsync("dump", "-c", config, "--input", dumpFile, "--name", "strict-ok");
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var restored = Path.Combine(_cli.WorkingDirectory, "restored.sql");
        Assert.Equal(0, (await _cli.RunAsync("restore", "-c", config, "--name", "strict-ok", "-o", restored)).ExitCode);
        var text = await File.ReadAllTextAsync(restored);
        Assert.DoesNotContain("user7@example.com", text);
        Assert.DoesNotContain("contact7@mail.example.org", text);
        Assert.Contains("called about order 7", text); // notes are kept

        // With the config, scan has nothing left to propose.
        var again = await _cli.RunAsync("scan", "-c", config);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("transformers:\n  []", again.Stdout);
    }

    [Fact]
    public async Task Scan_NoSample_MissesTheNeutrallyNamedColumn()
    {
        var (uri, _) = await SourceAsync();

        var scan = await _cli.RunAsync("scan", "--source", uri, "--no-sample", "--json");

        Assert.True(scan.ExitCode == 0, scan.Stderr);
        Assert.Contains("\"column\": \"email\"", scan.Stdout);
        Assert.DoesNotContain("\"column\": \"contact\"", scan.Stdout);
    }
}

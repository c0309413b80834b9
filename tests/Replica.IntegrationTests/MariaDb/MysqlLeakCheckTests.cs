using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// `replica leakcheck` with a MariaDB source as the config names it (no --input, no --source): the originals are read
/// live, only the keys and the ruled columns, and compare byte for byte as mariadb-dump's output does.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlLeakCheckTests(MariaDbServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    string WriteConfig(string sourceUri, string firstName, string name) => _cli.WriteConfig($$"""
        secret: ${REPLICA_SECRET}
        source:
          connection_uri: '{{sourceUri}}'
        bridge:
          local:
            path: {{_cli.BridgePath}}
          compression: { algorithm: zstd }
        transformers:
          - table: customers
            columns:
              email: { transformer: email, unique: true }
              first_name: {{firstName}}
          - table: orders
            columns:
              email_at_order: email
        """, name);

    [Fact]
    public async Task LeakCheck_ConfigsMySqlSource_FindsNoLeakOrTheTemplateThatWritesTheNameBack()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, MysqlAwkwardData.Sql);
        var clean = WriteConfig(server.ConnectionUri(source), "first-name", "clean.yaml");
        var leaky = WriteConfig(server.ConnectionUri(source), "{ transformer: template, options: { template: '{{first_name}}' } }", "leaky.yaml");

        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", clean, "-q", "--name", "clean")).ExitCode);
        var cleanCheck = await _cli.RunAsync("leakcheck", "-c", clean, "--name", "clean");
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", leaky, "-q", "--name", "leaky")).ExitCode);
        var leakyCheck = await _cli.RunAsync("leakcheck", "-c", leaky, "--name", "leaky");

        Assert.True(cleanCheck.ExitCode == 0, cleanCheck.Stdout + cleanCheck.Stderr);
        Assert.Contains("no leaks", cleanCheck.Stdout, StringComparison.Ordinal);
        Assert.Equal(8, leakyCheck.ExitCode);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(leakyCheck.Stdout, @"`customers`\.first_name \(template, by primary key \(id\)\): (\d+) of \1 unchanged: LEAK"), leakyCheck.Stdout);
        Assert.DoesNotContain(server.Password, cleanCheck.Stdout + cleanCheck.Stderr + leakyCheck.Stdout + leakyCheck.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Columns of every kind the awkward data has (text, numbers, dates, JSON, enum/set, latin1, BIT, binary, blobs).</summary>
    const string EveryKind = """
          - table: customers
            columns: { email: hash, first_name: hash, last_name: hash, note: hash }
          - table: orders
            columns: { email_at_order: hash, amount: hash, placed: hash }
          - table: types
            columns: { i8: hash, u64: hash, f: hash, d: hash, dec_big: hash, bit3: hash, dt: hash, tm: hash, ts: hash, yr: hash,
                       js: hash, en: hash, st: hash, vc: hash, ch: hash, fixed: hash }
          - table: blobs
            columns: { data: hash, small: hash }
        """;

    [Fact]
    public async Task LeakCheck_LiveMySqlSource_ComparesEveryKindOfValueAsTheDumpFileDoes()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, MysqlAwkwardData.Sql);
        string Config(string rules, string file) => _cli.WriteConfig($$"""
            secret: ${REPLICA_SECRET}
            source:
              connection_uri: '{{server.ConnectionUri(source)}}'
            bridge:
              local:
                path: {{_cli.BridgePath}}
            transformers:
            {{rules}}
            """, file);
        // Stored with nothing masked, checked with a rule on every column above: each of their values is a leak, found
        // only if the live read gives the same bytes as the dump for the key and the value.
        var kept = Config("  []", "kept.yaml");
        var check = Config(EveryKind, "check.yaml");
        Assert.Equal(0, (await _cli.RunAsync("dump", "-c", kept, "-q", "--name", "kept")).ExitCode);
        var original = Path.Combine(_cli.WorkingDirectory, "original.sql");
        Assert.Equal(0, (await _cli.RunAsync("restore", "-c", kept, "--name", "kept", "--output", original, "-q")).ExitCode);

        var live = await _cli.RunAsync("leakcheck", "-c", check, "--name", "kept", "--json");
        var file = await _cli.RunAsync("leakcheck", "-c", check, "--name", "kept", "--input", original, "--dialect", "MySql", "--json");

        Assert.True(live.ExitCode == 8, live.Stdout + live.Stderr);
        Assert.Equal(8, file.ExitCode);
        var report = System.Text.Json.JsonDocument.Parse(live.Stdout).RootElement;
        var columns = report.GetProperty("columns").EnumerateArray().ToList();
        Assert.Equal(25, columns.Count);
        Assert.Equal(0, report.GetProperty("rows_without_original").GetInt64());
        Assert.All(columns, c => Assert.True(c.GetProperty("unchanged").GetInt64() == c.GetProperty("compared").GetInt64() && c.GetProperty("compared").GetInt64() > 0,
            c.GetRawText()));
        Assert.Equal(System.Text.Json.JsonDocument.Parse(file.Stdout).RootElement.GetProperty("columns").GetRawText(), report.GetProperty("columns").GetRawText());
        Assert.DoesNotContain(server.Password, live.Stdout + live.Stderr, StringComparison.Ordinal);
    }
}

using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// `replica leakcheck` with a MariaDB source as the config names it (no --input, no --source): the originals come
/// through mariadb-dump, as `replica dump` reads them.
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
}

using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// A MariaDB source on Linux (lower_case_table_names=0) may hold tables whose names differ only in case: a subset root
/// takes the one the config names exactly, and a name that matches several but none exactly is a config error (exit 2),
/// not a crash ("Sequence contains more than one element", exit 1).
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlSubsetCaseTests(MariaDbServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task ReplicaDump_SubsetRootAmongTablesDifferingOnlyInCase_TakesTheExactNameOrIsAConfigError()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, """
            CREATE TABLE customers (id int PRIMARY KEY, email varchar(80));
            CREATE TABLE Customers (id int PRIMARY KEY, email varchar(80));
            CREATE TABLE Orders (id int PRIMARY KEY);
            CREATE TABLE ORDERS (id int PRIMARY KEY);
            INSERT INTO customers VALUES (1, 'real-lower@example.com');
            INSERT INTO Customers VALUES (1, 'real-upper@example.com');
            """);
        string Config(string root) => _cli.WriteConfig(name: "subset.yaml", body: $$"""
            secret: mysql-subset-case-secret-0123456789
            source:
              connection_uri: '{{server.ConnectionUri(source)}}'
            bridge:
              local:
                path: {{_cli.BridgePath}}
            transformers:
              - table: customers
                columns:
                  email: email
            subset:
              roots: [{ table: {{root}}, percent: 100 }]
            """);

        var exact = await _cli.RunAsync("dump", "-c", Config("customers"), "--name", "exact");
        Assert.True(exact.ExitCode == 0, exact.Stderr);
        Assert.Contains($"{source}.customers 1", exact.Stderr, StringComparison.Ordinal);
        var output = Path.Combine(_cli.WorkingDirectory, "out.sql");
        Assert.Equal(0, (await _cli.RunAsync("restore", "-c", Config("customers"), "--name", "exact", "--output", output, "-q")).ExitCode);
        Assert.DoesNotContain("real-", await File.ReadAllTextAsync(output), StringComparison.Ordinal);

        var unclear = await _cli.RunAsync("dump", "-c", Config("orders"), "--name", "unclear");
        Assert.Equal(2, unclear.ExitCode);
        Assert.Contains($"matches 2 tables whose names differ only in case", unclear.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{source}.ORDERS", unclear.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{source}.Orders", unclear.Stderr, StringComparison.Ordinal);
    }
}

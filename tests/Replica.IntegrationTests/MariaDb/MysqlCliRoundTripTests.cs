using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// The whole path with the real `replica` executable: a MariaDB source database → `replica dump` (mariadb-dump,
/// transformers on the PII columns, zstd + AES-GCM, local bridge) → `replica restore --latest` (mariadb client through
/// a staging database) → a destination database on the same server, compared with the source.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlCliRoundTripTests(MariaDbServer server) : IDisposable
{
    private readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>The masked columns of <see cref="MysqlAwkwardData"/>; every other column must arrive unchanged.</summary>
    private static readonly Dictionary<string, string[]> s_masked = new()
    {
        ["customers"] = ["email", "first_name", "last_name"],
        ["orders"] = ["email_at_order"],
    };

    private string WriteConfig(string sourceUri, string destinationUri) => _cli.WriteConfig($$"""
        secret: ${REPLICA_SECRET}
        source:
          connection_uri: '{{sourceUri}}'
        destination:
          connection_uri: '{{destinationUri}}'
          allow_privileged_role: true
        bridge:
          local:
            path: {{_cli.BridgePath}}
          compression: { algorithm: zstd }
          encryption: { passphrase: 'bridge passphrase for tests' }
        transformers:
          - table: customers
            columns:
              email: { transformer: email, unique: true }
              first_name: first-name
              last_name: last-name
          - table: orders
            columns:
              email_at_order: email
        """);

    [Fact]
    public async Task DumpAndRestore_MaskedRoundTrip_MatchesSourceExceptMaskedColumns()
    {
        string source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, MysqlAwkwardData.Sql);
        string target = "replica_cli_" + Guid.NewGuid().ToString("N")[..8];
        string config = WriteConfig(server.ConnectionUri(source), server.ConnectionUri(target));

        ProcessOutput dump = await _cli.RunAsync("dump", "-c", config);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.DoesNotContain(server.Password, dump.Stderr + dump.Stdout, StringComparison.Ordinal);
        ProcessOutput restore = await _cli.RunAsync("restore", "-c", config, "--latest");
        Assert.True(restore.ExitCode == 0, restore.Stderr);

        // Schema: the same tables with the same definitions, views, triggers and routines.
        List<string> tables = await server.ListTablesAsync(source);
        Assert.Equal(tables, await server.ListTablesAsync(target));
        foreach (string table in tables)
        {
            Assert.Equal(await server.ShowCreateTableAsync(source, table), await server.ShowCreateTableAsync(target, table));
            List<string> columns = await MysqlAssert.ColumnsAsync(server, source, table);
            string[] masked = s_masked.GetValueOrDefault(table, []);
            List<string> kept = columns.FindAll(c => Array.IndexOf(masked, c) < 0);
            Assert.Equal(await MysqlAssert.RowsAsync(server, source, table, kept), await MysqlAssert.RowsAsync(server, target, table, kept));
            foreach (string column in masked)
            {
                // No original value survives in a masked column (NULLs stay NULL: nothing to hide).
                List<string> before = await MysqlAssert.RowsAsync(server, source, table, [column]);
                List<string> after = await MysqlAssert.RowsAsync(server, target, table, [column]);
                Assert.Equal(before.Count, after.Count);
                Assert.DoesNotContain(after, v => v is not ("r|NULL" or "r|") && before.Contains(v));
            }
        }
        await MysqlAssert.SameObjectsAsync(server, source, target);

        // Constraints hold on the masked data: unique e-mails, every foreign key resolves, and orders still carry their
        // customer's (masked) address because the email transformer is deterministic.
        Assert.Equal("0", await server.ScalarAsync(target, "SELECT COUNT(*) - COUNT(DISTINCT email) FROM customers"));
        Assert.Equal("0", await server.ScalarAsync(target,
            "SELECT COUNT(*) FROM customers c LEFT JOIN customers r ON r.id = c.referred_by WHERE c.referred_by IS NOT NULL AND r.id IS NULL"));
        Assert.Equal("0", await server.ScalarAsync(target, "SELECT COUNT(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL"));
        Assert.Equal("0", await server.ScalarAsync(target, "SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.email_at_order <> c.email"));
        Assert.Equal("0", await server.ScalarAsync(target, "SELECT COUNT(*) FROM customers WHERE email NOT LIKE '%@%'"));

        // Restoring again without a wipe conflicts with every table: it fails with a database error (exit 7) and
        // changes nothing.
        List<string> snapshot = await SnapshotAsync(target);
        ProcessOutput again = await _cli.RunAsync("restore", "-c", config, "--latest", "--no-wipe");
        Assert.Equal(7, again.ExitCode);
        Assert.Contains("already has", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(snapshot, await SnapshotAsync(target));

        // With a wipe it replaces the database: the same masked content again (deterministic), plus nothing left over.
        await server.ExecuteAsync(target, "CREATE TABLE leftover (x int)");
        ProcessOutput wiped = await _cli.RunAsync("restore", "-c", config, "--latest", "--wipe", "database", "--yes");
        Assert.True(wiped.ExitCode == 0, wiped.Stderr);
        Assert.Equal(snapshot, await SnapshotAsync(target));
        Assert.DoesNotContain(await server.ListDatabasesAsync(), name => name.Contains("_replica_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dump_WrongPassword_ExitsWithDatabaseErrorAndNoSecret()
    {
        string source = await server.CreateDatabaseAsync();
        string wrong = "Wr0ng pass#" + Guid.NewGuid().ToString("N")[..6];
        string config = WriteConfig(server.ConnectionUri(source, wrong), server.ConnectionUri(source));

        ProcessOutput dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(7, dump.ExitCode);
        Assert.Contains("Access denied", dump.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, dump.Stderr + dump.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Uri.EscapeDataString(wrong), dump.Stderr + dump.Stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(_cli.BridgePath) ? Directory.GetDirectories(_cli.BridgePath) : []);
    }

    [Fact]
    public async Task Restore_UnreachableHost_ExitsWithDatabaseErrorAndNoSecret()
    {
        string source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, "CREATE TABLE customers (id int PRIMARY KEY, email varchar(50), first_name text, last_name text); "
            + "CREATE TABLE orders (id int, email_at_order varchar(50))");
        int closedPort = ServerFixture.FreePort();
        string unreachable = $"mysql://root:{Uri.EscapeDataString(server.Password)}@127.0.0.1:{closedPort}/nowhere";
        string config = WriteConfig(server.ConnectionUri(source), unreachable);
        ProcessOutput dump = await _cli.RunAsync("dump", "-c", config);
        Assert.True(dump.ExitCode == 0, dump.Stderr);

        ProcessOutput restore = await _cli.RunAsync("restore", "-c", config, "--latest");

        Assert.Equal(7, restore.ExitCode);
        Assert.Contains("Can't connect", restore.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Password, restore.Stderr + restore.Stdout, StringComparison.Ordinal);
    }

    private async Task<List<string>> SnapshotAsync(string db)
    {
        var snapshot = new List<string>(await MysqlAssert.ObjectsAsync(server, db));
        foreach (string table in await server.ListTablesAsync(db))
        {
            snapshot.Add(await server.ShowCreateTableAsync(db, table));
            snapshot.AddRange(await MysqlAssert.RowsAsync(server, db, table));
        }
        return snapshot;
    }
}

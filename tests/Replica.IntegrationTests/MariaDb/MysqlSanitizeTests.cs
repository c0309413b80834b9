using System.Text.Json;
using Replica.IntegrationTests.Cli;

namespace Replica.IntegrationTests.MariaDb;

/// <summary>
/// sanitize on a MariaDB source: `replica dump` restores the masked mariadb-dump stream into a MariaDB scratch database
/// (created empty, loaded through a staging database like `replica restore`), runs the statements there and stores
/// mariadb-dump of the result; the scratch and staging databases are gone afterwards, whatever happened.
/// </summary>
[Collection(MariaDbCollection.Name)]
public sealed class MysqlSanitizeTests(MariaDbServer server) : IDisposable
{
    readonly ReplicaCli _cli = new();
    readonly string _scratch = "replica_scratch_" + Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => _cli.Dispose();

    static readonly Dictionary<string, string?> s_environment = new() { ["SAN_NOTE"] = "sanitized note" };

    /// <summary>The scratch database is the server's root's (sanitize.allow_privileged_role).</summary>
    string Config(string source, params string[] steps) => _cli.WriteConfig(
        "secret: ${REPLICA_SECRET}\n"
        + $"source:\n  connection_uri: '{server.ConnectionUri(source)}'\n"
        + $"sanitize:\n  scratch_uri: '{server.ConnectionUri(_scratch)}'\n  allow_privileged_role: true\n  statements:\n"
        + string.Concat(steps.Select(step => $"    - {step}\n"))
        + $"bridge:\n  local:\n    path: {_cli.BridgePath}\n"
        + "transformers:\n  - table: customers\n    columns:\n      email: { transformer: email, unique: true }\n      first_name: first-name\n"
        + "  - table: orders\n    columns:\n      email_at_order: email\n");

    /// <summary>The scratch database and any staging database made for it.</summary>
    async Task<List<string?[]>> LeftoversAsync() =>
        await server.QueryAsync(null, $"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{_scratch}%'");

    async Task<int> ListedAsync()
    {
        var list = await _cli.RunAsync("list", "-c", Path.Combine(_cli.WorkingDirectory, "replica.yaml"), "--json");
        return list.ExitCode == 0 ? JsonDocument.Parse(list.Stdout).RootElement.GetArrayLength() : -1;
    }

    [Fact]
    public async Task Dump_StatementsWithVariables_AreInTheStoredDumpMaskedOnceAndScratchIsDropped()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, MysqlAwkwardData.Sql);
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "orders.sql"), "DELETE FROM orders WHERE amount < 0;\n");
        var config = Config(source, "\"UPDATE customers SET note = '${SAN_NOTE}' WHERE id > 2\"", "{ file: orders.sql }");

        var dump = await _cli.RunAsync(["dump", "-c", config], null, s_environment);

        Assert.True(dump.ExitCode == 0, dump.Stderr);
        Assert.Contains("mariadb-dump of the scratch database", dump.Stderr, StringComparison.Ordinal);
        Assert.Empty(await LeftoversAsync());
        Assert.DoesNotContain(server.Password, dump.Stdout + dump.Stderr, StringComparison.Ordinal);
        var restored = Path.Combine(_cli.WorkingDirectory, "restored.sql");
        var restore = await _cli.RunAsync(["restore", "-c", config, "--latest", "--output", restored], null, s_environment);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        var destination = await server.CreateDatabaseAsync();
        await server.ExecuteFileAsync(destination, restored);
        // The statements' work: the UPDATE with ${VAR} in the statement, the DELETE from the file.
        Assert.Equal("sanitized note", await server.ScalarAsync(destination, "SELECT GROUP_CONCAT(DISTINCT note) FROM customers WHERE id > 2"));
        Assert.Equal(await server.ScalarAsync(source, "SELECT note FROM customers WHERE id = 2"), await server.ScalarAsync(destination, "SELECT note FROM customers WHERE id = 2"));
        Assert.Equal("0", await server.ScalarAsync(destination, "SELECT COUNT(*) FROM orders WHERE amount < 0"));
        Assert.Equal(await server.ScalarAsync(source, "SELECT COUNT(*) FROM orders WHERE amount >= 0"), await server.ScalarAsync(destination, "SELECT COUNT(*) FROM orders"));
        // Masked once (the stored dump is not masked again): no original e-mail, still unique, the other tables whole.
        Assert.Equal("0", await server.ScalarAsync(destination, "SELECT COUNT(*) FROM customers WHERE email IN (SELECT email FROM " + MariaDbServer.QuoteIdentifier(source) + ".customers)"));
        Assert.Equal(await server.ScalarAsync(destination, "SELECT COUNT(*) FROM customers"), await server.ScalarAsync(destination, "SELECT COUNT(DISTINCT email) FROM customers"));
        foreach (var table in MysqlAwkwardData.Tables)
        {
            Assert.Contains(table, await server.ListTablesAsync(destination));
        }
    }

    [Fact]
    public async Task Dump_FailingStatement_IsNamedNothingIsStoredAndScratchIsDropped()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, MysqlAwkwardData.Sql);
        var config = Config(source, "\"DELETE FROM orders WHERE amount < 0\"", "\"UPDATE no_such_table SET x = 1\"");

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(7, dump.ExitCode);
        Assert.Contains("sanitize.statements[1] failed", dump.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, await ListedAsync());
        Assert.Empty(await LeftoversAsync());
        Assert.Equal("1", await server.ScalarAsync(source, "SELECT COUNT(*) FROM orders WHERE amount < 0"));
    }

    [Fact]
    public async Task Dump_ScratchDatabaseExists_IsAConfigErrorAndItIsKept()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, MysqlAwkwardData.Sql);
        await server.CreateDatabaseAsync(_scratch);
        await server.ExecuteAsync(_scratch, "CREATE TABLE someone_elses (id int); INSERT INTO someone_elses VALUES (1)");
        var config = Config(source, "\"DELETE FROM orders\"");

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("sanitize.scratch_uri) exists", dump.Stderr, StringComparison.Ordinal);
        Assert.Equal("1", await server.ScalarAsync(_scratch, "SELECT COUNT(*) FROM someone_elses"));
        Assert.Equal(0, await ListedAsync());
        await server.DropDatabaseAsync(_scratch);
    }

    [Fact]
    public async Task Dump_PostgresScratchForAMariaDbSource_IsAConfigErrorBeforeAnythingRuns()
    {
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, MysqlAwkwardData.Sql);
        var config = _cli.WriteConfig(
            $"source:\n  connection_uri: '{server.ConnectionUri(source)}'\n"
            + "sanitize:\n  scratch_uri: postgres://replica@127.0.0.1:1/replica_scratch\n  statements: [ 'DELETE FROM orders' ]\n"
            + $"bridge:\n  local:\n    path: {_cli.BridgePath}\n");

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("a MySQL or MariaDB dump needs a mysql:// scratch_uri", dump.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, await ListedAsync());
    }

    [Fact]
    public async Task Dump_LiveSourceWithARootScratch_IsRefusedNamingTheSetting()
    {
        // A live database's triggers and routines are written by its users: its stream is restored into the scratch
        // database as `replica restore` restores a dump, refusing a user whose grants reach other databases.
        var source = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(source, MysqlAwkwardData.Sql);
        var config = Config(source, "\"DELETE FROM orders\"");
        File.WriteAllText(config, File.ReadAllText(config).Replace("  allow_privileged_role: true\n", "", StringComparison.Ordinal));

        var dump = await _cli.RunAsync("dump", "-c", config);

        Assert.Equal(2, dump.ExitCode);
        Assert.Contains("sanitize.allow_privileged_role", dump.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, await ListedAsync());
        Assert.Empty(await LeftoversAsync());
        Assert.NotEqual("0", await server.ScalarAsync(source, "SELECT COUNT(*) FROM orders"));
    }
}

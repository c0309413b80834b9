using Replica.IntegrationTests.Cli;
using Replica.IntegrationTests.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// `replica dump` with source.connection_uri pointing at a hot standby: today's single pg_dump stream reads the replica
/// the way it reads the primary.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStandbyDumpTests(PostgresServer server, PostgresStandbyFixture standbyFixture) : IDisposable
{
    readonly ReplicaCli _cli = new();

    public void Dispose() => _cli.Dispose();

    /// <summary>The quickstart's config and rules with <paramref name="sourceUri"/> as the source; both configs share one bridge.</summary>
    string WriteConfig(string name, string sourceUri) =>
        _cli.WriteConfig(File.ReadAllText(_cli.WriteConfig()) + $"\nsource:\n  connection_uri: '{sourceUri}'\n", name);

    /// <summary>The plain SQL a stored dump restores to, without pg_dump's \restrict lines (a random key per run).</summary>
    async Task<string> RestoredSqlAsync(string config, string name)
    {
        var restore = await _cli.RunAsync("restore", "-c", config, "--name", name, "--output", "-");
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        return string.Join('\n', restore.Stdout.Split('\n')
            .Where(l => !l.StartsWith("\\restrict", StringComparison.Ordinal) && !l.StartsWith("\\unrestrict", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Dump_HotStandbySource_StoresWhatADumpOfThePrimaryStores()
    {
        var standby = await standbyFixture.StartAsync(server);
        var source = await server.CreateDatabaseAsync();
        await server.PsqlAsync(source, await File.ReadAllTextAsync(TestPaths.Example("shop.sql")));
        await standby.CatchUpAsync();
        var fromPrimary = WriteConfig("primary.yaml", server.ConnectionUri(source));
        var fromStandby = WriteConfig("standby.yaml", standby.ConnectionUri(source));

        var primaryDump = await _cli.RunAsync("dump", "-c", fromPrimary, "--name", "primary");
        var standbyDump = await _cli.RunAsync("dump", "-c", fromStandby, "--name", "standby");

        Assert.True(primaryDump.ExitCode == 0, primaryDump.Stderr);
        Assert.True(standbyDump.ExitCode == 0, standbyDump.Stderr);
        Assert.True(await standby.IsInRecoveryAsync(), "the standby left recovery");
        var expected = await RestoredSqlAsync(fromPrimary, "primary");
        Assert.Contains("COPY public.customers ", expected, StringComparison.Ordinal);
        Assert.Equal(expected, await RestoredSqlAsync(fromStandby, "standby"));
        // And the stored dump restores with psql, stopping at the first error.
        var restored = await server.CreateDatabaseAsync();
        var sql = await _cli.RunAsync("restore", "-c", fromStandby, "--name", "standby", "--output", "-");
        using var input = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(sql.Stdout));
        var psql = await server.RunPsqlStreamAsync(restored, input);
        Assert.True(psql.ExitCode == 0, psql.Stderr);
        Assert.Equal(await server.QueryAsync(source, "SELECT count(*) FROM public.orders"), await server.QueryAsync(restored, "SELECT count(*) FROM public.orders"));
    }
}

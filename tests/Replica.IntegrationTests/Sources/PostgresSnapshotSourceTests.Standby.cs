using Replica.IntegrationTests.Postgres;
using Replica.Sources;

namespace Replica.IntegrationTests.Sources;

/// <summary>The snapshot source reading a hot standby of the test server (issue 10 §3): no writes, a read-only role.</summary>
public sealed partial class PostgresSnapshotSourceTests
{
    [Fact]
    public async Task ReadParts_HotStandbyWithReadOnlyRole_RestoresLikePgDumpOfThePrimaryAndWritesNothing()
    {
        var standby = await standbyFixture.StartAsync(server);
        var source = await AwkwardDatabaseAsync(largeObject: false);
        var expected = await RestorePgDumpAsync(source);
        // Only what a dump needs: read every table and sequence. Created on the primary, the role replicates.
        var role = "standby_reader_" + Guid.NewGuid().ToString("N")[..8];
        await server.ExecuteAsync("postgres", $"CREATE ROLE {role} LOGIN; GRANT pg_read_all_data TO {role}");
        await standby.CatchUpAsync();
        var logBefore = standby.ReadLog().Length;

        var parts = await DumpAsync(standby.ConnectionUri(source, role), jobs: 2);

        Assert.Contains(parts, p => p.Kind == SnapshotPartKind.TableData && p.Table == "public.customers");
        await AssertRestoresLikePgDumpAsync(expected, Concatenate(parts));
        // A standby refuses every write; still in recovery and no ERROR logged means the dump asked for none.
        Assert.True(await standby.IsInRecoveryAsync(), "the standby left recovery");
        var log = standby.ReadLog()[logBefore..];
        Assert.False(log.Contains("ERROR", StringComparison.Ordinal), "the standby logged an error during the dump:\n" + log);
    }

    [Fact]
    public async Task ReadParts_HotStandbyReplaysWritesAfterTheSnapshot_PartsShowOnlyTheSnapshot()
    {
        var standby = await standbyFixture.StartAsync(server);
        var source = await AwkwardDatabaseAsync(largeObject: false);
        var expected = await RestorePgDumpAsync(source);
        await standby.CatchUpAsync();

        // Written on the primary once the standby's snapshot is exported, and replayed on the standby before any part is read.
        var parts = await DumpAsync(standby.ConnectionUri(source), jobs: 2, afterSnapshot: async () =>
        {
            await server.ExecuteAsync(source, """
                INSERT INTO public.customers (id, first_name, last_name, email, created_at) VALUES (9001, 'Late', 'Comer', 'late@example.com', now());
                DELETE FROM public.order_lines;
                UPDATE public.text_edge_cases SET note = 'changed after the snapshot';
                """);
            await standby.CatchUpAsync();
        });

        await AssertRestoresLikePgDumpAsync(expected, Concatenate(parts));
        Assert.True(await standby.IsInRecoveryAsync(), "the standby left recovery");
    }
}

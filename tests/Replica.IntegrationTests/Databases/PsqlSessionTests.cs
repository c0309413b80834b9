using Replica.Clients;
using Replica.Destinations;
using Replica.IntegrationTests.Postgres;
using Replica.TestSupport.Postgres;

namespace Replica.IntegrationTests.Databases;

/// <summary>
/// The restore's psql session, below the restore guard: what holds when the input reaching psql is not what the guard
/// thought it let through.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PsqlSessionTests(PostgresServer server)
{
    /// <summary>
    /// Input that leaves a COPY block open: psql reads the session's own closing lines (the COMMIT's marker, the COMMIT)
    /// as rows and exits 0 at the end of its input without committing. The review found a dump that did this get past the
    /// guard and be reported as restored (the guard now refuses it); the session itself must not report success either.
    /// </summary>
    [Fact]
    public async Task CompleteAsync_InputLeftInsideACopyBlock_FailsAndNothingIsCommitted()
    {
        var db = await server.CreateDatabaseAsync();
        await server.ExecuteAsync(db, "CREATE TABLE public.t (a text)");
        var tools = PostgresTools.Find(ChildEnvironment.WithoutConfig);
        await using var psql = await PsqlSession.StartAsync(tools, DatabaseUri.Parse(server.PasswordUri(db)), [], "a test restore",
            stepsHoldSecrets: false, CancellationToken.None, begin: true);

        await psql.Input.WriteAsync("COPY public.t (a) FROM stdin;\nfirst\n"u8.ToArray());
        await psql.WriteCommitAsync(null, CancellationToken.None);
        var e = await Assert.ThrowsAsync<DatabaseException>(() => psql.CompleteAsync(CancellationToken.None));

        Assert.Contains("psql ended without reaching the restore's COMMIT", e.Message, StringComparison.Ordinal);
        Assert.False(psql.CommitReached);
        Assert.Equal("0", (await server.QueryAsync(db, "SELECT count(*) FROM public.t"))[0][0]);
    }
}

using Replica.Clients;

namespace Replica.Destinations;

/// <summary>
/// sanitize.scratch_uri: a PostgreSQL database that one dump creates, restores its masked stream into, runs the
/// sanitize statements in (a <see cref="PsqlDestination"/> whose after-restore steps they are: one transaction, each
/// step named when it fails) and drops again, on success, failure and Ctrl+C alike. A database of that name that
/// exists already is refused, never reused nor dropped: replica drops only what it created.
/// </summary>
public sealed class ScratchDatabase : IAsyncDisposable
{
    readonly PostgresTools _tools;
    bool _created;

    /// <summary>
    /// Checks every statement with the restore guard now (a meta-command or client command is a
    /// <see cref="ConfigException"/> before anything runs); creates nothing yet.
    /// </summary>
    public ScratchDatabase(DatabaseUri uri, PostgresTools tools, IReadOnlyList<SqlStep> statements)
    {
        ArgumentNullException.ThrowIfNull(uri);
        Uri = uri;
        _tools = tools;
        Destination = new PsqlDestination(uri, tools, WipeMode.None, createDatabase: false)
        {
            AfterRestore = statements,
            FailureContext = $"sanitizing in the scratch {uri.Describe()} failed (nothing was stored)",
        };
    }

    public DatabaseUri Uri { get; }

    /// <summary>psql into the scratch database, in one transaction that the sanitize statements end.</summary>
    public PsqlDestination Destination { get; }

    /// <summary>Creates the database; one that exists is a <see cref="ConfigException"/> (exit 2), left as it is.</summary>
    public async Task CreateAsync(CancellationToken cancellationToken)
    {
        var name = Uri.Database!;
        var exists = (await _tools.QueryAsync(Destination.Maintenance, $"SELECT count(*) FROM pg_database WHERE datname = {PsqlDestination.Literal(name)}",
            cancellationToken).ConfigureAwait(false)).Trim() == "1";
        if (exists)
        {
            throw new ConfigException($"the scratch {Uri.Describe()} (sanitize.scratch_uri) exists; replica creates it for each dump and drops it "
                + "afterwards, and never touches a database it did not create: drop it, or name another one");
        }
        await _tools.QueryAsync(Destination.Maintenance, $"CREATE DATABASE {Identifiers.Delimited(name)}", cancellationToken).ConfigureAwait(false);
        _created = true;
    }

    /// <summary>
    /// Stops psql and drops the database if this created it (sessions still on it are ended: FORCE); a failure to drop
    /// is the caller's error. Not cancellable: after Ctrl+C the database must still go.
    /// </summary>
    public async Task DropAsync()
    {
        await Destination.DisposeAsync().ConfigureAwait(false);
        if (!_created)
        {
            return;
        }
        _created = false;
        await _tools.QueryAsync(Destination.Maintenance, $"DROP DATABASE IF EXISTS {Identifiers.Delimited(Uri.Database!)} WITH (FORCE)", CancellationToken.None)
            .ConfigureAwait(false);
    }

    /// <summary><see cref="DropAsync"/> after a failure: best effort, the dump's own error is what the user needs to see.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await DropAsync().ConfigureAwait(false);
        }
        catch (DatabaseException)
        {
            // best effort (the server went away, or the dump failed because of it)
        }
    }
}

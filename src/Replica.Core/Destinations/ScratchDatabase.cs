using Replica.Clients;
using Replica.Lexing;

namespace Replica.Destinations;

/// <summary>
/// sanitize.scratch_uri: a database that one dump creates, restores its masked stream into, runs the sanitize
/// statements in (as the destination's after-restore steps: each named when it fails) and drops again, on success,
/// failure and Ctrl+C alike. The scratch server is of the dump's own kind (<see cref="PostgresScratchDatabase"/>,
/// <see cref="MysqlScratchDatabase"/>). A database of that name that exists already is refused, never reused: replica
/// drops only what it created.
/// </summary>
public abstract class ScratchDatabase : IAsyncDisposable
{
    private protected ScratchDatabase(DatabaseUri uri, ChildEnvironment childEnvironment)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(childEnvironment);
        Uri = uri;
        ChildEnvironment = childEnvironment;
    }

    /// <summary>
    /// The scratch database of <paramref name="uri"/>'s kind, its statements checked by the restore guard now (a
    /// meta-command or client command is a <see cref="ConfigException"/> before anything runs); creates nothing yet.
    /// Its tools, and those that dump it, do not get what <paramref name="childEnvironment"/> holds back.
    /// <paramref name="allowPrivilegedRole"/> (sanitize.allow_privileged_role): fill it as any role; else a role that
    /// SQL inside the stream could use to reach outside the database is refused, as <c>replica restore</c> refuses it,
    /// whatever the source: an --input file's SQL is whoever wrote it's, and a live database's functions are written by
    /// its roles, superusers or not (a CHECK constraint calling a function whose EXECUTE runs COPY ... TO PROGRAM ran
    /// the program as the scratch server's superuser while the rows loaded). <paramref name="leaveOut"/>
    /// (sanitize.no_owner, no_privileges): what the stream's restore leaves out, as for a destination.
    /// </summary>
    public static ScratchDatabase For(DatabaseUri uri, IReadOnlyList<SqlStep> statements, ChildEnvironment childEnvironment, bool allowPrivilegedRole,
        LeaveOut leaveOut = LeaveOut.None)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.Kind == DatabaseKind.MySql
            ? new MysqlScratchDatabase(uri, MysqlTools.Find(childEnvironment), statements, allowPrivilegedRole, leaveOut)
            : new PostgresScratchDatabase(uri, PostgresTools.Find(childEnvironment), statements, allowPrivilegedRole, leaveOut);
    }

    /// <summary>What a refused privileged role's message says to set instead.</summary>
    private protected const string ScratchPrivilegedRoleSetting =
        "sanitize.allow_privileged_role: true if you trust every database and --input file you sanitize (or sanitize.no_owner and no_privileges, for a role that may only create databases)";

    public DatabaseUri Uri { get; }

    /// <summary>What the tools that fill, dump and drop it are not given of replica's environment.</summary>
    public ChildEnvironment ChildEnvironment { get; }

    /// <summary>The client that reads the masked stream: what the restore guard in front of it checks for.</summary>
    public SqlDialect Dialect => Uri.Kind == DatabaseKind.MySql ? SqlDialect.MySql : SqlDialect.PostgreSql;

    /// <summary>The masked stream goes here; committing it runs the statements.</summary>
    public abstract IRestoreDestination Destination { get; }

    /// <summary>How many statements (steps) run after the data.</summary>
    public abstract int StepCount { get; }

    /// <summary>Whether this process created the database (so it drops it).</summary>
    private protected bool Created { get; set; }

    /// <summary>Creates the database; one that exists is a <see cref="ConfigException"/> (exit 2), left as it is.</summary>
    public abstract Task CreateAsync(CancellationToken cancellationToken);

    protected abstract Task DropDatabaseAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stops the client and drops the database if this created it (sessions still on it are ended); a failure to drop
    /// is the caller's error. Not cancellable: after Ctrl+C the database must still go.
    /// </summary>
    public async Task DropAsync()
    {
        await Destination.DisposeAsync().ConfigureAwait(false);
        if (!Created)
        {
            return;
        }
        Created = false;
        await DropDatabaseAsync(CancellationToken.None).ConfigureAwait(false);
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
        GC.SuppressFinalize(this);
    }
}

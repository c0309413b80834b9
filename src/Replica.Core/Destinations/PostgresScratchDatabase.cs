using Replica.Clients;

namespace Replica.Destinations;

/// <summary>
/// sanitize.scratch_uri on PostgreSQL: the masked stream goes into the database through a <see cref="PsqlDestination"/>
/// whose after-restore steps the statements are (one transaction, each step named when it fails). A database of that
/// name that exists already is refused, never reused nor dropped, except one a killed dump created (recognised by its
/// comment, <see cref="MarkOf"/>).
/// </summary>
public sealed class PostgresScratchDatabase : ScratchDatabase
{
    readonly PostgresTools _tools;
    readonly PsqlDestination _destination;

    /// <summary>
    /// Checks every statement with the restore guard now (a meta-command or client command is a
    /// <see cref="ConfigException"/> before anything runs); creates nothing yet.
    /// </summary>
    public PostgresScratchDatabase(DatabaseUri uri, PostgresTools tools, IReadOnlyList<SqlStep> statements, bool allowPrivilegedRole, LeaveOut leaveOut = LeaveOut.None)
        : base(uri, (tools ?? throw new ArgumentNullException(nameof(tools))).ChildEnvironment)
    {
        _tools = tools;
        _destination = new PsqlDestination(uri, tools, WipeMode.None, createDatabase: false)
        {
            AfterRestore = statements,
            // Refused a privileged role unless sanitize.allow_privileged_role (ScratchDatabase.For).
            AllowPrivilegedRole = allowPrivilegedRole,
            LeaveOut = leaveOut,
            PrivilegedRoleSetting = ScratchPrivilegedRoleSetting,
            FailureContext = $"sanitizing in the scratch {uri.Describe()} failed (nothing was stored)",
        };
    }

    /// <summary>psql into the scratch database, in one transaction that the sanitize statements end.</summary>
    public override IRestoreDestination Destination => _destination;

    public override int StepCount => _destination.AfterRestore.Count;

    /// <summary>
    /// Creates the database and marks it as this process's (a comment: <see cref="MarkOf"/>). One that exists is a
    /// <see cref="ConfigException"/> (exit 2), left as it is, unless it is the scratch database of a dump that was
    /// killed (-9) before it could drop it: marked by a process that no longer runs on this machine, no session on it.
    /// </summary>
    public override async Task CreateAsync(CancellationToken cancellationToken)
    {
        var name = Uri.Database!;
        var found = (await _tools.QueryAsync(_destination.Maintenance,
            "SELECT coalesce(shobj_description(d.oid, 'pg_database'), '') || '|' || (SELECT count(*) FROM pg_stat_activity a WHERE a.datid = d.oid) "
            + $"FROM pg_database d WHERE d.datname = {PsqlDestination.Literal(name)}", cancellationToken).ConfigureAwait(false)).Trim();
        if (found.Length > 0)
        {
            var bar = found.LastIndexOf('|');
            if (found[(bar + 1)..] != "0" || !IsAbandoned(found[..bar]))
            {
                throw new ConfigException($"the scratch {Uri.Describe()} (sanitize.scratch_uri) exists; replica creates it for each dump and drops it "
                    + "afterwards, and never touches a database it did not create: drop it, or name another one");
            }
            await DropDatabaseAsync(cancellationToken).ConfigureAwait(false);
        }
        await _tools.QueryAsync(_destination.Maintenance, $"CREATE DATABASE {Identifiers.Delimited(name)}", cancellationToken).ConfigureAwait(false);
        Created = true;
        await _tools.QueryAsync(_destination.Maintenance, $"COMMENT ON DATABASE {Identifiers.Delimited(name)} IS {PsqlDestination.Literal(MarkOf(Environment.ProcessId))}",
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The comment a scratch database carries while its dump runs: which process on which machine made it.</summary>
    public static string MarkOf(int processId) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{MarkPrefix}{processId} on {Environment.MachineName}");

    const string MarkPrefix = "replica sanitize scratch database of process ";

    /// <summary>Whether a comment is <see cref="MarkOf"/> a process of this machine that no longer runs.</summary>
    static bool IsAbandoned(string comment)
    {
        var suffix = " on " + Environment.MachineName;
        return comment.StartsWith(MarkPrefix, StringComparison.Ordinal) && comment.EndsWith(suffix, StringComparison.Ordinal)
            && int.TryParse(comment.AsSpan(MarkPrefix.Length, comment.Length - MarkPrefix.Length - suffix.Length), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var pid)
            && !Leftovers.IsRunning(pid);
    }

    protected override async Task DropDatabaseAsync(CancellationToken cancellationToken) =>
        await _tools.QueryAsync(_destination.Maintenance, $"DROP DATABASE IF EXISTS {Identifiers.Delimited(Uri.Database!)} WITH (FORCE)", cancellationToken)
            .ConfigureAwait(false);
}

using Replica.Clients;

namespace Replica.Destinations;

/// <summary>
/// sanitize.scratch_uri on MySQL or MariaDB: the database is created empty, and the masked stream goes into it the way
/// <c>replica restore</c> loads a MySQL database (<see cref="MysqlDestination"/>: a staging database, the statements run
/// there after the data, then one RENAME TABLE into the scratch database). A database of that name that exists is
/// refused and left alone; unlike PostgreSQL, MySQL has no comment on a database to mark it as replica's, so the
/// scratch database of a dump killed with -9 is refused too, and the message says to drop it.
/// </summary>
public sealed class MysqlScratchDatabase : ScratchDatabase
{
    readonly MysqlTools _tools;
    readonly MysqlDestination _destination;

    /// <inheritdoc cref="ScratchDatabase.For"/>
    public MysqlScratchDatabase(DatabaseUri uri, MysqlTools tools, IReadOnlyList<SqlStep> statements, bool allowPrivilegedRole, LeaveOut leaveOut = LeaveOut.None)
        : base(uri, (tools ?? throw new ArgumentNullException(nameof(tools))).ChildEnvironment)
    {
        _tools = tools;
        _destination = new MysqlDestination(uri, tools, WipeMode.None, createDatabase: false)
        {
            AfterRestore = statements,
            // Refused a privileged role unless sanitize.allow_privileged_role (ScratchDatabase.For).
            AllowPrivilegedRole = allowPrivilegedRole,
            LeaveOut = leaveOut,
            PrivilegedRoleSetting = ScratchPrivilegedRoleSetting,
        };
    }

    public override IRestoreDestination Destination => _destination;

    public override int StepCount => _destination.AfterRestore.Count;

    public override async Task CreateAsync(CancellationToken cancellationToken)
    {
        var name = Uri.Database!;
        // The option file holds the password: one per use, removed at once.
        using var options = MysqlOptionFile.Create(Uri);
        var found = await _tools.QueryAsync(options, null,
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = " + MysqlTools.Literal(name), cancellationToken).ConfigureAwait(false);
        if (found.Count > 0)
        {
            throw new ConfigException($"the scratch {Uri.Describe()} (sanitize.scratch_uri) exists; replica creates it for each dump and drops it "
                + "afterwards, and never touches a database it did not create (one a killed dump left behind included): drop it, or name another one");
        }
        await _tools.QueryAsync(options, null, $"CREATE DATABASE {MysqlTools.Identifier(name)}", cancellationToken).ConfigureAwait(false);
        Created = true;
    }

    protected override async Task DropDatabaseAsync(CancellationToken cancellationToken)
    {
        using var options = MysqlOptionFile.Create(Uri);
        await _tools.QueryAsync(options, null, $"DROP DATABASE IF EXISTS {MysqlTools.Identifier(Uri.Database!)}", cancellationToken)
            .ConfigureAwait(false);
    }
}

using System.Text;
using Replica.Clients;
using Replica.Lexing;

namespace Replica.Destinations;

/// <summary>
/// Restores into a MySQL or MariaDB database through the mysql (mariadb) client, with psql's single-transaction
/// guarantee: a failed restore leaves the destination exactly as it was. MySQL commits every DDL statement on its own
/// (https://mariadb.com/kb/en/sql-statements-that-cause-an-implicit-commit/), so one transaction cannot do it; instead:
/// <list type="number">
/// <item>The dump is restored into a fresh staging database on the same server (<c>&lt;db&gt;_replica_&lt;pid&gt;_&lt;time&gt;</c>;
/// the user needs CREATE and DROP on it). Dumps of one database, as <see cref="Sources.MysqlDumpSource"/> writes them,
/// have no USE or CREATE DATABASE, so everything lands there, and their DROP TABLE IF EXISTS cannot touch the destination;
/// those of a dump written with --databases are left out by the restore guard (RestoreGuard.LeaveOutDatabaseStatement).</item>
/// <item>Only when the client read the whole dump without an error are the staging tables moved into the destination
/// with one RENAME TABLE statement, which is atomic (https://mariadb.com/kb/en/rename-table/): with a wipe, the
/// destination's old tables move out to a trash database in the same statement. Foreign keys between moved tables follow them.</item>
/// <item>Views, triggers and stored routines cannot move between databases (RENAME TABLE refuses a table that has
/// triggers, "Trigger in wrong schema"), so their definitions are read back from the staging database (SHOW CREATE ...),
/// dropped there, and created again in the destination after the rename, with their sql_mode and definer. View
/// definitions lose the staging database's name, as mysqldump writes them. Events are not dumped, so not restored.</item>
/// <item>The staging (and trash) database is dropped; on any failure before the swap only the staging database is dropped.
/// The swap (<see cref="MysqlSwap"/>) runs its statements as numbered steps and undoes those that took effect when one
/// fails (a lock held longer than destination.lock_wait_timeout, an object this user may not create there).</item>
/// </list>
/// <see cref="WipeMode.None"/>: a table, view, trigger or routine of the dump that already exists in the destination
/// fails the restore before anything moves. <see cref="WipeMode.Schemas"/> and <see cref="WipeMode.Database"/> mean
/// the same for MySQL, where a database is the schema: every table, view, trigger and routine of the destination is
/// replaced (its events, grants and default character set stay). A missing destination database is created at commit
/// time (so a failed restore does not leave an empty one behind) unless create_database is off.
/// The client reports no row counts in batch mode, so only bytes are known.
/// </summary>
public sealed class MysqlDestination : IRestoreDestination
{
    readonly DatabaseUri _uri;
    readonly MysqlTools _tools;
    readonly WipeMode _wipe;
    readonly bool _createDatabase;
    readonly string _database;
    MysqlOptionFile? _options;
    ToolProcess? _client;
    Task? _stdout;
    // The last after_restore step whose marker the client printed; -1: none.
    int _step = -1;
    string? _staging;
    bool _targetExists;
    bool _committed;

    public MysqlDestination(DatabaseUri uri, MysqlTools tools, WipeMode wipe, bool createDatabase)
    {
        if (uri.Kind != DatabaseKind.MySql)
        {
            throw new ArgumentException("not a mysql:// URI", nameof(uri));
        }
        _database = uri.Database ?? throw new ConfigException("destination.connection_uri names no database (mysql://user@host:port/DATABASE)");
        _uri = uri;
        _tools = tools;
        _wipe = wipe;
        _createDatabase = createDatabase;
    }

    public string Description => _uri.Describe();

    /// <summary>
    /// destination.allow_privileged_role: restore even as a user whose grants reach other databases (see
    /// <see cref="MysqlReach"/>); off by default.
    /// </summary>
    public bool AllowPrivilegedRole { get; init; }

    /// <summary>What the message refusing a privileged role says to set instead (the scratch database of sanitize has its own).</summary>
    public string PrivilegedRoleSetting { get; init; } = IRestoreDestination.AllowPrivilegedRoleHint;

    /// <summary>
    /// What the restore leaves out of the dump: DEFINER clauses (destination.no_owner: the restoring user defines the
    /// views, triggers and routines), GRANT and REVOKE (destination.no_privileges).
    /// </summary>
    public LeaveOut LeaveOut { get; init; }

    /// <summary>
    /// destination.lock_wait_timeout: how long, in seconds, one statement of the swap waits for a lock another session
    /// holds on the destination (the server's own default is a year) before the swap is undone and the restore fails.
    /// </summary>
    public int LockWaitSeconds { get; init; } = MysqlSwap.DefaultLockWaitSeconds;

    /// <summary>The server's flavour and version (known after <see cref="PrepareAsync"/>): which executable comments it runs.</summary>
    internal MySqlServer? Server { get; private set; }

    /// <summary>The destination and its staging and trash databases, which the dump must not name (the restore guard refuses it).</summary>
    internal StagedNames StagedNames => new(_database, StagingPrefix(_database));

    /// <summary>The staging database the dump is restored into before it is moved in place (null before PrepareAsync and after commit).</summary>
    public string? StagingDatabase => _staging;

    /// <summary>Connects (clear error on a wrong password or host), creates the staging database and starts the client on it.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _options ??= MysqlOptionFile.Create(_uri);
        await RefuseUserThatReachesFurtherAsync(cancellationToken).ConfigureAwait(false);
        // One client run: the server's version, and the destination's character set and collation (NULL: it does not exist).
        var found = await _tools.QueryAsync(_options, null,
            "SELECT VERSION(), s.default_character_set_name, s.default_collation_name FROM (SELECT 1) AS one "
            + "LEFT JOIN information_schema.schemata s ON s.schema_name = " + MysqlTools.Literal(_database),
            cancellationToken).ConfigureAwait(false);
        Server = MySqlServer.Parse(found.Count > 0 ? found[0][0] ?? "" : "");
        string?[] schema = found.Count > 0 ? found[0][1..] : [null, null];
        _targetExists = schema[0] is not null;
        if (!_targetExists && !_createDatabase && _wipe != WipeMode.Database)
        {
            throw new DatabaseException($"{_uri.Describe()} does not exist (create it, or leave destination.create_database on)");
        }
        await DropAbandonedStagingAsync(cancellationToken).ConfigureAwait(false);
        var staging = Leftovers.NewTaggedStagingName(StagingPrefix(_database));
        var charset = schema[0] is { } cs && schema[1] is { } collation
            ? $" CHARACTER SET {cs} COLLATE {collation}"
            : "";
        await _tools.QueryAsync(_options, null, $"CREATE DATABASE {MysqlTools.Identifier(staging)}{charset}", cancellationToken).ConfigureAwait(false);
        _staging = staging;
        // --binary-mode: bytes go to the server as they are (no \r\n folding, NUL allowed); DELIMITER still works.
        // Without --force the client stops at the first failing statement and exits non-zero. --local-infile=0: no
        // LOAD DATA LOCAL reads a file of this machine, should a statement the guard did not see ask for one (the
        // MariaDB client allows it by default).
        string[] arguments = [_options.Argument, "--batch", "--binary-mode", "--default-character-set=utf8mb4", "--local-infile=0", "--database=" + staging];
        _client = ToolProcess.Start(_tools.Client, arguments, new Dictionary<string, string>(), _tools.ChildEnvironment, [_uri.Password, .. _afterRestore.Secrets], redirectInput: true);
        _stdout = DrainAsync(_client.Output);
        // Before the dump's first line, on it (the client's line numbers stay the dump's): a server whose default sql_mode
        // has ANSI_QUOTES or NO_BACKSLASH_ESCAPES would split the dump otherwise than the guard reads it from its start.
        await _client.Input.WriteAsync(System.Text.Encoding.ASCII.GetBytes(Lexing.StatementParser.MySqlSessionCheck + ";"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Refuses (a config error, before anything is created) a user whose grants reach beyond the destination and its
    /// staging databases (see <see cref="MysqlReach"/>), unless destination.allow_privileged_role says the user trusts
    /// every dump the bridge may hold.
    /// </summary>
    async Task RefuseUserThatReachesFurtherAsync(CancellationToken cancellationToken)
    {
        if (AllowPrivilegedRole)
        {
            return;
        }
        List<string?[]> rows = [.. await _tools.QueryTextAsync(_options!, null, MysqlReach.Sql, cancellationToken).ConfigureAwait(false)];
        rows.AddRange(MysqlReach.GrantRows(await _tools.QueryAsync(_options!, null, MysqlReach.OwnGrantsSql, cancellationToken).ConfigureAwait(false), "user"));
        try
        {
            rows.AddRange(MysqlReach.GrantRows(await _tools.QueryAsync(_options!, null, MysqlReach.PublicGrantsSql, cancellationToken).ConfigureAwait(false), "PUBLIC"));
        }
        catch (DatabaseException ex) when (MysqlReach.IsNoSuchGrant(ex))
        {
            // no PUBLIC on this server
        }
        var reasons = MysqlReach.Reasons(rows, _database);
        if (reasons.Count > 0)
        {
            throw new ConfigException($"refusing to restore into {_uri.Describe()}: the user it connects as {string.Join("; ", reasons)}, so SQL "
                + "inside the dump (a qualified name, a prepared statement, a trigger or a routine) could change other databases, where the "
                + "restore guard cannot see it. Restore as a user whose grants reach only this database and its staging databases "
                + $"(GRANT ALL ON `{_database}`.* and ON `{StagingPrefix(_database).Replace("_", "\\_", StringComparison.Ordinal)}%`.*; "
                + "README: \"Restoring as a role that cannot reach out\"), or set " + PrivilegedRoleSetting);
        }
    }

    /// <summary>
    /// Staging databases of earlier restores into the same database that were killed (-9) before they could drop theirs:
    /// <c>&lt;db&gt;_replica_&lt;pid&gt;_&lt;time&gt;_&lt;machine&gt;</c> made on this machine (<see cref="Leftovers.MachineTag"/>)
    /// by a process that no longer runs here, and that no session we can see uses. A restore from another machine or
    /// container tags its own with its own machine: never dropped from here. (The <c>_replica_old_</c> trash databases of a swap are left alone: they hold the old tables.)
    /// </summary>
    async Task DropAbandonedStagingAsync(CancellationToken cancellationToken)
    {
        var prefix = StagingPrefix(_database);
        var like = Leftovers.LikePrefix(prefix);
        var rows = await _tools.QueryTextAsync(_options!, null,
            "SELECT s.schema_name FROM information_schema.schemata s WHERE s.schema_name LIKE " + MysqlTools.Literal(like)
            + " AND NOT EXISTS (SELECT 1 FROM information_schema.processlist p WHERE p.db = s.schema_name)",
            cancellationToken).ConfigureAwait(false);
        foreach (var row in rows)
        {
            var name = row[0];
            // The destination itself may be named like one of its own staging databases: never that one.
            if (string.Equals(name, _database, StringComparison.OrdinalIgnoreCase) || !Leftovers.IsAbandonedStaging(name, prefix))
            {
                continue;
            }
            try
            {
                await _tools.QueryAsync(_options!, null, $"DROP DATABASE IF EXISTS {MysqlTools.Identifier(name)}", cancellationToken).ConfigureAwait(false);
            }
            catch (DatabaseException)
            {
                // best effort: the restore goes on
            }
        }
    }

    public Stream Open() => _client?.Input ?? throw new InvalidOperationException("call PrepareAsync before Open");

    /// <summary>
    /// destination.after_restore: run in the staging database after the data, before the swap; checked by the restore
    /// guard when set (a refused step is a config error before anything is restored).
    /// </summary>
    public IReadOnlyList<SqlStep> AfterRestore
    {
        get => _afterRestore.Steps;
        init => _afterRestore = new AfterRestoreSteps(value, Lexing.SqlDialect.MySql, null);
    }

    readonly AfterRestoreSteps _afterRestore = AfterRestoreSteps.None;

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        var client = _client ?? throw new InvalidOperationException("call PrepareAsync before CommitAsync");
        // Each step after a marker row the client prints, and one after the last, so that a failure names its step.
        for (int i = 0; i <= _afterRestore.Count && _afterRestore.Count > 0; i++)
        {
            string marker = $"\nSELECT '{AfterRestoreSteps.MarkerOf(i)}' AS replica_step;\n";
            await client.Input.WriteAsync(System.Text.Encoding.UTF8.GetBytes(marker), cancellationToken).ConfigureAwait(false);
            if (i < _afterRestore.Count)
            {
                await client.Input.WriteAsync(_afterRestore[i], cancellationToken).ConfigureAwait(false);
            }
        }
        await client.Input.FlushAsync(cancellationToken).ConfigureAwait(false);
        await client.Input.DisposeAsync().ConfigureAwait(false);
        try
        {
            await client.WaitForSuccessAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DatabaseException ex) when (_afterRestore.Count > 0)
        {
            await _stdout!.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw _afterRestore.Failed(Volatile.Read(ref _step), ex) ?? ex;
        }
        await _stdout!.ConfigureAwait(false);
        await SwapAsync(cancellationToken).ConfigureAwait(false);
        _committed = true;
        _staging = null;
    }

    /// <summary>
    /// Moves the staging database's tables, views, triggers and routines into the destination (<see cref="MysqlSwap"/>:
    /// all or nothing, not cut by an interrupt once it began).
    /// </summary>
    async Task SwapAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var swap = new MysqlSwap(_tools, _options!, _database, _staging!, _uri.Describe())
        {
            Replace = _wipe != WipeMode.None,
            TargetExists = _targetExists,
            LockWaitSeconds = LockWaitSeconds,
        };
        await swap.RunAsync().ConfigureAwait(false);
    }

    /// <summary>Reads the client's output to its end, noting the last after_restore step it reached (its marker row).</summary>
    async Task DrainAsync(Stream stdout)
    {
        try
        {
            using var reader = new StreamReader(stdout, System.Text.Encoding.UTF8);
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (AfterRestoreSteps.TryParseMarker(line, out var step))
                {
                    Volatile.Write(ref _step, step);
                }
            }
        }
        catch (Exception e) when (e is DatabaseException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            // The client failed (WaitForSuccessAsync reports it), or it was killed and disposed by DisposeAsync while
            // this read its last bytes: either way there is nothing to drain, and the restore's own error must win.
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_client is not null)
            {
                // Not committed: the client is killed; what it restored so far is only in the staging database.
                await _client.DisposeAsync().ConfigureAwait(false);
            }
            if (_stdout is not null)
            {
                await _stdout.ConfigureAwait(false);
            }
            if (!_committed && _staging is not null && _options is not null)
            {
                try
                {
                    await _tools.QueryAsync(_options, null, $"DROP DATABASE IF EXISTS {MysqlTools.Identifier(_staging)}", CancellationToken.None).ConfigureAwait(false);
                }
                catch (DatabaseException)
                {
                    // best effort: the restore's own error is what the user needs to see
                }
            }
        }
        finally
        {
            // The option file holds the password: it goes whatever else fails.
            _options?.Dispose();
        }
    }

    /// <summary>
    /// <c>&lt;db&gt;_replica_</c>: how every staging and trash database of <paramref name="database"/> begins. At most 25
    /// characters of the name, so that with a process id, the time and this machine's tag
    /// (<see cref="Leftovers.TaggedStagingName"/>) every staging name fits MySQL's 64 characters whole.
    /// </summary>
    internal static string StagingPrefix(string database) =>
        Truncate(database, MaxNameLength - StagingInfix.Length - Leftovers.MaxStagingSuffixLength - Leftovers.MachineTagSuffixLength) + StagingInfix;

    const string StagingInfix = "_replica_";

    /// <summary>MySQL's longest database name, in characters.</summary>
    const int MaxNameLength = 64;

    static string Truncate(string s, int length) => s.Length <= length ? s : s[..length];
}

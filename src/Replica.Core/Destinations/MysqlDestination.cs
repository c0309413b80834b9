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
/// <item>The staging (and trash) database is dropped; on any failure before the rename only the staging database is dropped.</item>
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

    /// <summary>
    /// What the restore leaves out of the dump: DEFINER clauses (destination.no_owner: the restoring user defines the
    /// views, triggers and routines), GRANT and REVOKE (destination.no_privileges).
    /// </summary>
    public LeaveOut LeaveOut { get; init; }

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
        var staging = Leftovers.NewStagingName(StagingPrefix(_database));
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
        _client = ToolProcess.Start(_tools.Client, arguments, new Dictionary<string, string>(), _uri.Password, redirectInput: true);
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
        var rows = await _tools.QueryAsync(_options!, null, MysqlReach.Sql, cancellationToken).ConfigureAwait(false);
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
                + "README: \"Restoring as a role that cannot reach out\"), or set destination.allow_privileged_role: true if you trust every "
                + "dump that can reach this bridge");
        }
    }

    /// <summary>
    /// Staging databases of earlier restores into the same database that were killed (-9) before they could drop theirs:
    /// <c>&lt;db&gt;_replica_&lt;pid&gt;_&lt;time&gt;</c> whose process no longer runs on this machine and that no session
    /// we can see uses. (The <c>_replica_old_</c> trash databases of a swap are left alone: they hold the old tables.)
    /// </summary>
    async Task DropAbandonedStagingAsync(CancellationToken cancellationToken)
    {
        var prefix = StagingPrefix(_database);
        var like = Leftovers.LikePrefix(prefix);
        var rows = await _tools.QueryAsync(_options!, null,
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
                await _tools.QueryAsync(_options!, null, $"DROP DATABASE IF EXISTS {MysqlTools.Identifier(name!)}", cancellationToken).ConfigureAwait(false);
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

    /// <summary>What a database holds, by kind, as the swap needs it.</summary>
    sealed class Inventory
    {
        public List<string> Tables { get; } = [];
        public List<string> Views { get; } = [];
        public List<string> Triggers { get; } = [];
        /// <summary>(PROCEDURE or FUNCTION, name).</summary>
        public List<(string Type, string Name)> Routines { get; } = [];
    }

    async Task<Inventory> ReadInventoryAsync(string database, CancellationToken cancellationToken)
    {
        var inventory = new Inventory();
        var literal = MysqlTools.Literal(database);
        var rows = await _tools.QueryAsync(_options!, null,
            $"SELECT 'T', table_type, table_name FROM information_schema.tables WHERE table_schema = {literal}; "
            + $"SELECT 'G', '', trigger_name FROM information_schema.triggers WHERE trigger_schema = {literal}; "
            + $"SELECT 'R', routine_type, routine_name FROM information_schema.routines WHERE routine_schema = {literal}",
            cancellationToken).ConfigureAwait(false);
        foreach (var row in rows)
        {
            switch (row[0])
            {
                case "T" when row[1] == "VIEW":
                    inventory.Views.Add(row[2]!);
                    break;
                case "T":
                    inventory.Tables.Add(row[2]!);
                    break;
                case "G":
                    inventory.Triggers.Add(row[2]!);
                    break;
                case "R":
                    inventory.Routines.Add((row[1]!, row[2]!));
                    break;
            }
        }
        return inventory;
    }

    async Task SwapAsync(CancellationToken cancellationToken)
    {
        var staging = _staging!;
        var source = await ReadInventoryAsync(staging, cancellationToken).ConfigureAwait(false);
        var target = _targetExists ? await ReadInventoryAsync(_database, cancellationToken).ConfigureAwait(false) : new Inventory();
        var replace = _wipe != WipeMode.None;
        if (!replace)
        {
            CheckConflicts(source, target);
        }

        // Definitions of what cannot move, read before anything changes: one SHOW CREATE per object, one row each.
        var show = new StringBuilder();
        foreach (var view in source.Views)
        {
            show.Append($"SHOW CREATE VIEW {Qualified(staging, view)};\n");
        }

        foreach (var trigger in source.Triggers)
        {
            show.Append($"SHOW CREATE TRIGGER {Qualified(staging, trigger)};\n");
        }

        foreach (var (type, name) in source.Routines)
        {
            show.Append($"SHOW CREATE {type} {Qualified(staging, name)};\n");
        }

        var definitions = show.Length == 0 ? [] : await _tools.QueryAsync(_options!, null, show.ToString(), cancellationToken).ConfigureAwait(false);
        var viewColumns = source.Views.Count == 0 ? [] : await _tools.QueryAsync(_options!, null,
            $"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = {MysqlTools.Literal(staging)} "
            + "AND table_name IN (" + string.Join(", ", source.Views.ConvertAll(MysqlTools.Literal)) + ") ORDER BY table_name, ordinal_position",
            cancellationToken).ConfigureAwait(false);
        if (definitions.Count != source.Views.Count + source.Triggers.Count + source.Routines.Count)
        {
            throw new DatabaseException($"could not read the definitions of the views, triggers and routines restored into staging database {staging}");
        }
        // A view the server lists without columns reads a table or column the dump dropped after creating it: its stand-in
        // and its definition would fail after the RENAME below, with the destination's tables already swapped (found by
        // review). Refused here, before anything of the destination changes.
        foreach (var view in source.Views)
        {
            if (!viewColumns.Exists(row => row[0] == view))
            {
                throw new DatabaseException($"the dump's view {MysqlTools.Identifier(view)} is invalid (it reads a table or column the dump does not have, or its DEFINER is not a user of this server); "
                    + $"{_uri.Describe()} was not changed");
            }
        }

        var trash = replace && target.Tables.Count > 0
            ? Leftovers.NewStagingName(StagingPrefix(_database) + "old_")
            : null;
        var script = new StringBuilder();
        script.Append("SET SESSION foreign_key_checks = 0;\n");
        if (!_targetExists)
        {
            script.Append($"CREATE DATABASE IF NOT EXISTS {MysqlTools.Identifier(_database)};\n");
        }
        script.Append($"USE {MysqlTools.Identifier(_database)};\n");
        if (trash is not null)
        {
            script.Append($"CREATE DATABASE {MysqlTools.Identifier(trash)};\n");
        }
        foreach (var trigger in source.Triggers)
        {
            script.Append($"DROP TRIGGER {Qualified(staging, trigger)};\n");
        }

        foreach (var view in source.Views)
        {
            script.Append($"DROP VIEW {Qualified(staging, view)};\n");
        }

        if (replace)
        {
            // A table with triggers cannot move to the trash database, and a view would block a table of the same name.
            foreach (var trigger in target.Triggers)
            {
                script.Append($"DROP TRIGGER {Qualified(_database, trigger)};\n");
            }

            foreach (var view in target.Views)
            {
                script.Append($"DROP VIEW {Qualified(_database, view)};\n");
            }
        }

        // The one atomic step: readers see either all the old tables or all the new ones.
        var renames = new List<string>();
        if (trash is not null)
        {
            foreach (var table in target.Tables)
            {
                renames.Add($"{Qualified(_database, table)} TO {Qualified(trash, table)}");
            }
        }
        foreach (var table in source.Tables)
        {
            renames.Add($"{Qualified(staging, table)} TO {Qualified(_database, table)}");
        }

        if (renames.Count > 0)
        {
            script.Append("RENAME TABLE ").AppendJoin(",\n    ", renames).Append(";\n");
        }
        if (replace)
        {
            foreach (var (type, name) in target.Routines)
            {
                script.Append($"DROP {type} {Qualified(_database, name)};\n");
            }
        }

        // Views may read other views: first each as a stand-in with the right columns, then the real definitions in any
        // order (mysqldump's own trick).
        var index = 0;
        var delimiter = PickDelimiter(definitions);
        foreach (var view in source.Views)
        {
            var columns = new List<string>();
            foreach (var row in viewColumns)
            {
                if (row[0] == view)
                {
                    columns.Add("NULL AS " + MysqlTools.Identifier(row[1]!));
                }
            }
            script.Append($"CREATE VIEW {MysqlTools.Identifier(view)} AS SELECT {string.Join(", ", columns)};\n");
        }
        foreach (var _ in source.Views)
        {
            // SHOW CREATE VIEW: View, Create View, character_set_client, collation_connection.
            var row = definitions[index++];
            var definition = row[1]!.Replace(MysqlTools.Identifier(staging) + ".", "", StringComparison.Ordinal);
            if (!definition.StartsWith("CREATE ", StringComparison.Ordinal))
            {
                throw new DatabaseException($"unexpected SHOW CREATE VIEW answer for view {row[0]} in staging database {staging}");
            }
            script.Append(Names(row[3])).Append("CREATE OR REPLACE ").Append(definition.AsSpan(7)).Append(";\n");
        }
        script.Append("DELIMITER ").Append(delimiter).Append('\n');
        // SHOW CREATE TRIGGER: Trigger, sql_mode, SQL Original Statement, character_set_client, collation_connection, ...
        // SHOW CREATE PROCEDURE/FUNCTION: name, sql_mode, Create ..., character_set_client, collation_connection, ...
        for (; index < definitions.Count; index++)
        {
            var row = definitions[index];
            script.Append("SET SESSION sql_mode = ").Append(MysqlTools.Literal(row[1] ?? "")).Append(delimiter).Append('\n');
            var names = Names(row[4]);
            script.Append(names.AsSpan(0, names.Length - 2)).Append(delimiter).Append('\n');
            script.Append(row[2]).Append('\n').Append(delimiter).Append('\n');
        }
        script.Append("DELIMITER ;\n");
        if (trash is not null)
        {
            script.Append($"DROP DATABASE {MysqlTools.Identifier(trash)};\n");
        }
        script.Append($"DROP DATABASE {MysqlTools.Identifier(staging)};\n");
        try
        {
            await _tools.ExecuteScriptAsync(_options!, null, script.ToString(), cancellationToken).ConfigureAwait(false);
        }
        catch (DatabaseException e)
        {
            throw new DatabaseException($"the dump was restored into staging database {staging}, but moving it into {_uri.Describe()} failed: {e.Message}", e);
        }
    }

    void CheckConflicts(Inventory source, Inventory target)
    {
        var conflicts = new List<string>();
        foreach (var name in source.Tables.Concat(source.Views))
        {
            if (target.Tables.Contains(name) || target.Views.Contains(name))
            {
                conflicts.Add("table " + MysqlTools.Identifier(name));
            }
        }
        foreach (var name in source.Triggers)
        {
            if (target.Triggers.Contains(name))
            {
                conflicts.Add("trigger " + MysqlTools.Identifier(name));
            }
        }
        foreach (var routine in source.Routines)
        {
            if (target.Routines.Contains(routine))
            {
                conflicts.Add(routine.Type.ToLowerInvariant() + " " + MysqlTools.Identifier(routine.Name));
            }
        }
        if (conflicts.Count > 0)
        {
            throw new DatabaseException(
                $"{_uri.Describe()} already has {string.Join(", ", conflicts)}; nothing was changed. Restore with a wipe (--wipe database) to replace them.");
        }
    }

    /// <summary>SET NAMES for re-sending a definition: the text comes back through a utf8mb4 client and goes out the same way.</summary>
    static string Names(string? collationConnection) =>
        collationConnection is not null && collationConnection.StartsWith("utf8mb4_", StringComparison.Ordinal)
            ? $"SET NAMES utf8mb4 COLLATE {collationConnection};\n"
            : "SET NAMES utf8mb4;\n";

    /// <summary>A DELIMITER that occurs in no trigger or routine body.</summary>
    static string PickDelimiter(List<string?[]> definitions)
    {
        for (var n = 0; ; n++)
        {
            var delimiter = $"$$replica{n}$$";
            if (!definitions.Exists(row => row.Length > 2 && row[2] is { } body && body.Contains(delimiter, StringComparison.Ordinal)))
            {
                return delimiter;
            }
        }
    }

    static string Qualified(string database, string name) => MysqlTools.Identifier(database) + "." + MysqlTools.Identifier(name);

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

    /// <summary><c>&lt;db&gt;_replica_</c>: how every staging and trash database of <paramref name="database"/> begins.</summary>
    internal static string StagingPrefix(string database) => Truncate(database, 32) + "_replica_";

    static string Truncate(string s, int length) => s.Length <= length ? s : s[..length];
}

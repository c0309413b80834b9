using System.Globalization;
using System.Text;
using Replica.Clients;

namespace Replica.Destinations;

/// <summary>
/// Moves a MySQL restore from its staging database into the destination, all or nothing: the last step of
/// <see cref="MysqlDestination"/>. MySQL has no transactional DDL and RENAME TABLE is the only atomic step
/// (https://mariadb.com/kb/en/rename-table/); views, triggers and routines cannot move between databases, so they are
/// dropped and created again from their SHOW CREATE definitions. Each of those statements can fail on its own: a lock
/// another session holds (bounded by lock_wait_timeout, a year by default, set here to
/// destination.lock_wait_timeout), a DEFINER the user may not name, an interrupt. So:
/// <list type="number">
/// <item>Everything is read before anything changes: the staging database's objects, and with a wipe the destination's
/// own views, triggers and routines, which the swap drops and may have to create again.</item>
/// <item>With a wipe, those of the destination are first created once in a rehearsal database (with copies of the
/// tables their triggers are on): an object this user could not create again (another user's DEFINER without SET USER,
/// a routine whose body it may not read) fails the restore there, before the destination changes.</item>
/// <item>The swap runs as numbered steps, each followed by a marker the client prints, so a failure says exactly which
/// steps took effect; a failure before the commit point runs their inverses, newest first (new objects dropped, the
/// RENAME reversed, the old objects created again), and the destination is as it was.</item>
/// <item>Once started it is not cut: cancellation is not passed on, and <see cref="ExitCleanup"/> waits for it at exit.</item>
/// </list>
/// Found by review: with a wipe, the swap dropped the destination's triggers and views before the RENAME and created the
/// dump's after it, in one client run; a lock held by another session, a failing definition or Ctrl-C between the two
/// left the destination without its triggers and views, or with the dump's tables and no views.
/// </summary>
internal sealed class MysqlSwap(MysqlTools tools, MysqlOptionFile options, string database, string staging, string describe)
{
    /// <summary>With a wipe: the destination's tables, views, triggers and routines are replaced.</summary>
    public bool Replace { get; init; }

    /// <summary>Whether the destination database exists (else the swap creates it).</summary>
    public bool TargetExists { get; init; }

    /// <summary>destination.lock_wait_timeout, in seconds: how long one statement of the swap waits for a lock.</summary>
    public int LockWaitSeconds { get; init; } = DefaultLockWaitSeconds;

    public const int DefaultLockWaitSeconds = 60;

    const string MarkerPrefix = "replica_swap ";

    /// <summary>
    /// Tests only: the swap stops with an error right after the step of this name (e.g. "dropping trigger `t2`"), as a
    /// lock timeout or a lost connection would there. Flows with the test's async context, so parallel tests are not touched.
    /// </summary>
    internal static readonly AsyncLocal<string?> FailAfterStepForTests = new();

    /// <summary>What a database holds, by kind, as the swap needs it.</summary>
    sealed class Inventory
    {
        public List<string> Tables { get; } = [];
        public List<string> Views { get; } = [];
        /// <summary>In the order the server fires them (table, timing, event, action_order): created again in that order.</summary>
        public List<string> Triggers { get; } = [];
        /// <summary>The table of each trigger, by trigger name.</summary>
        public Dictionary<string, string> TriggerTables { get; } = new(StringComparer.Ordinal);
        /// <summary>(PROCEDURE or FUNCTION, name).</summary>
        public List<(string Type, string Name)> Routines { get; } = [];

        public bool HasObjects => Views.Count + Triggers.Count + Routines.Count > 0;
    }

    /// <summary>A view, trigger or routine as the swap creates it: the statements, and for a view its stand-in.</summary>
    sealed record Definition(string Kind, string Name, IReadOnlyList<string> Statements, string? StandIn);

    /// <summary>One step: its statements, a name for messages, and what it changed (read by <see cref="Undo"/>).</summary>
    sealed record Step(string What, IReadOnlyList<string> Statements, Action<UndoPlan>? Undo);

    /// <summary>
    /// What the steps that took effect changed: what they created, to drop newest first; what they dropped, to create
    /// again in the order it was (views may read views, triggers fire in the order they were created).
    /// </summary>
    sealed class UndoPlan
    {
        public List<string> DropNew { get; } = [];
        public List<Definition> OldRoutines { get; } = [];
        public List<string> RenameBack { get; } = [];
        public List<Definition> OldViews { get; } = [];
        public List<Definition> OldTriggers { get; } = [];
        public bool DropDatabase { get; set; }
    }

    public async Task RunAsync()
    {
        using var critical = ExitCleanup.Critical("the swap into " + describe);
        try
        {
            await SwapAsync().ConfigureAwait(false);
            critical.Outcome = $"{describe} holds the dump: the restore completed";
        }
        catch (Exception e)
        {
            critical.Outcome = e.Message;
            throw;
        }
    }

    async Task SwapAsync()
    {
        var source = await ReadInventoryAsync(staging).ConfigureAwait(false);
        var target = TargetExists ? await ReadInventoryAsync(database).ConfigureAwait(false) : new Inventory();
        if (!Replace)
        {
            CheckConflicts(source, target);
        }
        var created = await ReadDefinitionsAsync(staging, source, stripQualifier: true).ConfigureAwait(false);
        var dropped = Replace && target.HasObjects ? await ReadDefinitionsAsync(database, target, stripQualifier: false).ConfigureAwait(false) : [];
        if (dropped.Count > 0)
        {
            await RehearseAsync(target, dropped).ConfigureAwait(false);
        }

        var trash = Replace && target.Tables.Count > 0 ? Leftovers.NewStagingName(MysqlDestination.StagingPrefix(database) + "old_") : null;
        var (steps, commit, rename) = Plan(source, target, created, dropped, trash);
        var (done, error) = await RunStepsAsync(steps, FailAfterStepForTests.Value).ConfigureAwait(false);
        if (error is null)
        {
            return;
        }
        var failedAt = done < steps.Count ? steps[done].What : "the end";
        if (done >= commit)
        {
            throw new DatabaseException($"the dump is in place in {describe}, but a cleanup step failed ({failedAt}): {error.Message}", error);
        }
        var cause = $"the dump was restored into staging database {staging}, but moving it into {describe} failed at {failedAt}: {error.Message}";
        if (done == rename)
        {
            // A RENAME can take effect without its marker (the connection lost while it waited): where the tables are says.
            done = await TablesMovedAsync(source) switch
            {
                true => rename + 1,
                false => done,
                null => throw new DatabaseException(cause + $"\nwhether the RENAME took effect could not be read back, so nothing was undone. Check {describe} by hand"
                    + (trash is null ? "" : $" (the destination's former tables are in database {MysqlTools.Identifier(trash)} if it did)"), error),
            };
        }
        var undo = Undo(steps, done);
        int undone;
        DatabaseException? undoError;
        try
        {
            (undone, undoError) = undo.Count == 0 ? (0, null) : await RunStepsAsync(undo).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DatabaseException or IOException or InvalidOperationException)
        {
            (undone, undoError) = (0, new DatabaseException(e.Message, e));
        }
        var renamedBack = !steps.Take(done).Any(s => s.What.StartsWith("moving the tables in", StringComparison.Ordinal))
            || undo.Take(undone).Any(s => s.What.StartsWith("moving the tables back", StringComparison.Ordinal));
        if (undoError is not null)
        {
            var where = trash is not null && !renamedBack ? $"; the destination's former tables are in database {MysqlTools.Identifier(trash)}" : "";
            var at = undone < undo.Count ? undo[undone].What : "its end";
            throw new DatabaseException(cause + $"\nputting {describe} back failed too, at {at}: {undoError.Message}{where}. Check the destination by hand", error);
        }
        var leftover = trash is not null && done > 0 ? await DropTrashIfEmptyAsync(trash) : null;
        var differs = await DifferenceFromAsync(target);
        if (differs is not null)
        {
            throw new DatabaseException(cause + $"\nthe swap was undone, but {describe} is not as it was: {differs}{leftover}. Check the destination by hand", error);
        }
        throw new DatabaseException(cause + $"\n{describe} was put back as it was (every step of the swap was undone){leftover}", error);
    }

    /// <summary>Whether the RENAME moved the dump's tables out of the staging database (null: could not be read).</summary>
    async Task<bool?> TablesMovedAsync(Inventory source)
    {
        try
        {
            var rows = await tools.QueryAsync(options, null,
                $"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = {MysqlTools.Literal(staging)} AND table_type = 'BASE TABLE'",
                CancellationToken.None).ConfigureAwait(false);
            return rows.Count == 1 && rows[0][0] is { } count
                ? count == "0" && source.Tables.Count > 0
                : null;
        }
        catch (DatabaseException)
        {
            return null;
        }
    }

    /// <summary>Drops the trash database when it holds no table (never the destination's tables); what is left, for the message.</summary>
    async Task<string?> DropTrashIfEmptyAsync(string trash)
    {
        try
        {
            var rows = await tools.QueryAsync(options, null,
                $"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = {MysqlTools.Literal(trash)}", CancellationToken.None).ConfigureAwait(false);
            if (rows.Count == 1 && rows[0][0] == "0")
            {
                await tools.QueryAsync(options, null, $"DROP DATABASE IF EXISTS {MysqlTools.Identifier(trash)}", CancellationToken.None).ConfigureAwait(false);
                return null;
            }
            return $"; database {MysqlTools.Identifier(trash)} still holds tables and was left as it is";
        }
        catch (DatabaseException)
        {
            return $"; database {MysqlTools.Identifier(trash)} could not be checked and was left as it is";
        }
    }

    /// <summary>
    /// After an undo: whether the destination holds the same tables, views, triggers and routines (by name and trigger
    /// order) as before the swap; null when it does, else what differs. The markers say which steps took effect; this
    /// says whether the server agrees.
    /// </summary>
    async Task<string?> DifferenceFromAsync(Inventory before)
    {
        if (!TargetExists)
        {
            try
            {
                var exists = await tools.QueryAsync(options, null,
                    $"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = {MysqlTools.Literal(database)}", CancellationToken.None).ConfigureAwait(false);
                return exists.Count == 1 && exists[0][0] == "0" ? null : "it did not exist before the swap and does now";
            }
            catch (DatabaseException e)
            {
                return "it could not be read back (" + e.Message + ")";
            }
        }
        Inventory now;
        try
        {
            now = await ReadInventoryAsync(database).ConfigureAwait(false);
        }
        catch (DatabaseException e)
        {
            return "it could not be read back (" + e.Message + ")";
        }
        var differences = new List<string>();
        void Compare(string kind, IEnumerable<string> was, IEnumerable<string> @is)
        {
            var missing = was.Except(@is, StringComparer.Ordinal).ToList();
            var added = @is.Except(was, StringComparer.Ordinal).ToList();
            if (missing.Count > 0)
            {
                differences.Add($"{kind} missing: {string.Join(", ", missing.Select(MysqlTools.Identifier))}");
            }
            if (added.Count > 0)
            {
                differences.Add($"{kind} added: {string.Join(", ", added.Select(MysqlTools.Identifier))}");
            }
        }
        Compare("tables", before.Tables, now.Tables);
        Compare("views", before.Views, now.Views);
        Compare("triggers", before.Triggers, now.Triggers);
        Compare("routines", before.Routines.Select(r => r.Name), now.Routines.Select(r => r.Name));
        if (differences.Count == 0 && !before.Triggers.SequenceEqual(now.Triggers, StringComparer.Ordinal))
        {
            differences.Add("triggers fire in another order: " + string.Join(", ", now.Triggers.Select(MysqlTools.Identifier)));
        }
        return differences.Count == 0 ? null : string.Join("; ", differences);
    }

    async Task<Inventory> ReadInventoryAsync(string schema)
    {
        var inventory = new Inventory();
        var literal = MysqlTools.Literal(schema);
        var rows = await tools.QueryTextAsync(options, null,
            $"SELECT 'T', table_type, table_name FROM information_schema.tables WHERE table_schema = {literal}; "
            + $"SELECT 'G', event_object_table, trigger_name FROM information_schema.triggers WHERE trigger_schema = {literal} "
            + "ORDER BY event_object_table, action_timing, event_manipulation, action_order; "
            + $"SELECT 'R', routine_type, routine_name FROM information_schema.routines WHERE routine_schema = {literal}",
            CancellationToken.None).ConfigureAwait(false);
        foreach (var row in rows)
        {
            switch (row[0])
            {
                case "T" when row[1] == "VIEW":
                    inventory.Views.Add(row[2]);
                    break;
                case "T":
                    inventory.Tables.Add(row[2]);
                    break;
                case "G":
                    inventory.Triggers.Add(row[2]);
                    inventory.TriggerTables[row[2]] = row[1];
                    break;
                case "R":
                    inventory.Routines.Add((row[1], row[2]));
                    break;
            }
        }
        return inventory;
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
                $"{describe} already has {string.Join(", ", conflicts)}; nothing was changed. Restore with a wipe (--wipe database) to replace them.");
        }
    }

    /// <summary>
    /// The definitions of <paramref name="schema"/>'s views, triggers and routines, one SHOW CREATE each, read in one
    /// client run; views with their columns (for the stand-ins). <paramref name="stripQualifier"/>: view definitions lose
    /// the database's name (the staging database's, which the destination must not name).
    /// </summary>
    async Task<List<Definition>> ReadDefinitionsAsync(string schema, Inventory inventory, bool stripQualifier)
    {
        if (!inventory.HasObjects)
        {
            return [];
        }
        var show = new StringBuilder();
        foreach (var view in inventory.Views)
        {
            show.Append($"SHOW CREATE VIEW {Qualified(schema, view)};\n");
        }
        foreach (var trigger in inventory.Triggers)
        {
            show.Append($"SHOW CREATE TRIGGER {Qualified(schema, trigger)};\n");
        }
        foreach (var (type, name) in inventory.Routines)
        {
            show.Append($"SHOW CREATE {type} {Qualified(schema, name)};\n");
        }
        var rows = await tools.QueryAsync(options, null, show.ToString(), CancellationToken.None).ConfigureAwait(false);
        var columns = inventory.Views.Count == 0 ? [] : await tools.QueryTextAsync(options, null,
            $"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = {MysqlTools.Literal(schema)} "
            + "AND table_name IN (" + string.Join(", ", inventory.Views.ConvertAll(MysqlTools.Literal)) + ") ORDER BY table_name, ordinal_position",
            CancellationToken.None).ConfigureAwait(false);
        if (rows.Count != inventory.Views.Count + inventory.Triggers.Count + inventory.Routines.Count)
        {
            throw new DatabaseException($"could not read the definitions of the views, triggers and routines of database {MysqlTools.Identifier(schema)}; {describe} was not changed");
        }
        var definitions = new List<Definition>(rows.Count);
        var index = 0;
        foreach (var view in inventory.Views)
        {
            // SHOW CREATE VIEW: View, Create View, character_set_client, collation_connection.
            var row = rows[index++];
            var names = columns.FindAll(c => c[0] == view).ConvertAll(c => "NULL AS " + MysqlTools.Identifier(c[1]));
            // A view the server lists without columns reads a table or column that is not there (or names a DEFINER that
            // is no user): neither its stand-in nor its definition could be created; refused before anything changes.
            if (names.Count == 0 || row.Length < 4 || row[1] is not { } text || !text.StartsWith("CREATE ", StringComparison.Ordinal))
            {
                throw new DatabaseException(stripQualifier
                    ? $"the dump's view {MysqlTools.Identifier(view)} is invalid (it reads a table or column the dump does not have, or its DEFINER is not a user of this server); {describe} was not changed"
                    : $"the view {MysqlTools.Identifier(view)} of {describe} is invalid (it reads a table or column that is not there, or its DEFINER is not a user of this server): "
                        + $"it could not be created again should the swap fail; drop or repair it first. {describe} was not changed");
            }
            if (stripQualifier)
            {
                text = text.Replace(MysqlTools.Identifier(schema) + ".", "", StringComparison.Ordinal);
            }
            definitions.Add(new Definition("view", view,
                ["SET SESSION sql_mode = @replica_sql_mode", Names(row[3]), "CREATE OR REPLACE " + text[7..]],
                $"CREATE VIEW {MysqlTools.Identifier(view)} AS SELECT {string.Join(", ", names)}"));
        }
        // SHOW CREATE TRIGGER: Trigger, sql_mode, SQL Original Statement, character_set_client, collation_connection, ...
        // SHOW CREATE PROCEDURE/FUNCTION: name, sql_mode, Create ..., character_set_client, collation_connection, ...
        foreach (var name in inventory.Triggers.Concat(inventory.Routines.Select(r => r.Name)))
        {
            var row = rows[index];
            var kind = index - inventory.Views.Count < inventory.Triggers.Count ? "trigger" : inventory.Routines[index - inventory.Views.Count - inventory.Triggers.Count].Type.ToLowerInvariant();
            index++;
            if (row.Length < 5 || row[2] is not { Length: > 0 } create)
            {
                throw new DatabaseException($"could not read the definition of {kind} {MysqlTools.Identifier(name)} in database {MysqlTools.Identifier(schema)} "
                    + $"(SHOW CREATE shows it only to its definer or a user with SELECT on mysql.proc / SHOW ROUTINE); {describe} was not changed");
            }
            definitions.Add(new Definition(kind, name, ["SET SESSION sql_mode = " + MysqlTools.Literal(row[1] ?? ""), Names(row[4]), create], null));
        }
        return definitions;
    }

    /// <summary>
    /// Creates the destination's own views, triggers and routines once in a rehearsal database (the tables their triggers
    /// are on copied empty, CREATE TABLE ... LIKE): what fails here would fail when the swap has to put them back, so it
    /// fails the restore now, before the destination changes. The rehearsal database is dropped either way.
    /// </summary>
    async Task RehearseAsync(Inventory target, List<Definition> definitions)
    {
        var prefix = MysqlDestination.StagingPrefix(database);
        var rehearsal = Leftovers.NewTaggedStagingName(prefix);
        if (rehearsal == staging)
        {
            rehearsal = Leftovers.TaggedStagingName(prefix, Environment.ProcessId, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        }
        var steps = new List<Step> { new("creating a rehearsal database", [$"CREATE DATABASE {MysqlTools.Identifier(rehearsal)}", $"USE {MysqlTools.Identifier(rehearsal)}"], null) };
        foreach (var table in target.TriggerTables.Values.Distinct(StringComparer.Ordinal))
        {
            steps.Add(new($"copying table {MysqlTools.Identifier(table)}", [$"CREATE TABLE {MysqlTools.Identifier(table)} LIKE {Qualified(database, table)}"], null));
        }
        AddCreates(steps, definitions, undo: null, what: "creating {0} again");
        var created = false;
        try
        {
            var (done, error) = await RunStepsAsync(steps).ConfigureAwait(false);
            // Only a rehearsal database this run created is dropped: a CREATE that failed found one of another restore's.
            created = done >= 1;
            if (error is not null)
            {
                var what = done < steps.Count ? steps[done].What.Replace("creating", "create", StringComparison.Ordinal) : "finish";
                throw new DatabaseException($"{describe} was not changed: the swap replaces its views, triggers and routines, and must be able to create them again "
                    + $"should it fail, but this user could not {what} (tried in rehearsal database {MysqlTools.Identifier(rehearsal)}): {error.Message}. "
                    + "Restore as a user that may (a DEFINER other than the user needs SET USER or SUPER), or drop the object first", error);
            }
        }
        finally
        {
            if (created)
            {
                try
                {
                    await tools.QueryAsync(options, null, $"DROP DATABASE IF EXISTS {MysqlTools.Identifier(rehearsal)}", CancellationToken.None).ConfigureAwait(false);
                }
                catch (DatabaseException)
                {
                    // best effort: an abandoned one is dropped by the next restore (its name is a staging database's)
                }
            }
        }
    }

    /// <summary>Creates views (stand-ins first: views may read views, mysqldump's own trick), then triggers and routines.</summary>
    static void AddCreates(List<Step> steps, List<Definition> definitions, Func<Definition, Action<UndoPlan>>? undo, string what)
    {
        foreach (var view in definitions.Where(d => d.StandIn is not null))
        {
            steps.Add(new(string.Format(CultureInfo.InvariantCulture, what, $"the stand-in of view {MysqlTools.Identifier(view.Name)}"),
                ["SET SESSION sql_mode = @replica_sql_mode", view.StandIn!], undo?.Invoke(view)));
        }
        foreach (var definition in definitions)
        {
            steps.Add(new(string.Format(CultureInfo.InvariantCulture, what, $"{definition.Kind} {MysqlTools.Identifier(definition.Name)}"),
                definition.Statements, definition.StandIn is null ? undo?.Invoke(definition) : null));
        }
    }

    /// <summary>
    /// The swap's steps and the index of its commit point: the steps before it are undone on failure, those after it
    /// (dropping the trash and staging databases) only clean up.
    /// </summary>
    (List<Step> Steps, int Commit, int Rename) Plan(Inventory source, Inventory target, List<Definition> created, List<Definition> dropped, string? trash)
    {
        var steps = new List<Step>();
        var d = MysqlTools.Identifier(database);
        if (!TargetExists)
        {
            // Not IF NOT EXISTS: a database someone else created meanwhile is not ours to drop when undoing.
            steps.Add(new($"creating database {d}", [$"CREATE DATABASE {d}"], u => u.DropDatabase = true));
        }
        steps.Add(new($"using database {d}", [$"USE {d}"], null));
        if (trash is not null)
        {
            steps.Add(new($"creating database {MysqlTools.Identifier(trash)}", [$"CREATE DATABASE {MysqlTools.Identifier(trash)}"], null));
        }
        // A table with triggers cannot move to another database; the staging database is dropped in the end anyway.
        foreach (var trigger in source.Triggers)
        {
            steps.Add(new($"dropping trigger {trigger} in the staging database", [$"DROP TRIGGER {Qualified(staging, trigger)}"], null));
        }
        foreach (var view in source.Views)
        {
            steps.Add(new($"dropping view {view} in the staging database", [$"DROP VIEW {Qualified(staging, view)}"], null));
        }
        if (Replace)
        {
            // A table with triggers cannot move to the trash database, and a view would block a table of the same name.
            // Triggers go last-firing first: should the swap stop part-way through them, those still there are the first
            // to fire, and the undo creates the dropped ones again behind them (in firing order), each in its old place.
            foreach (var definition in Enumerable.Reverse(dropped.FindAll(x => x.Kind == "trigger")))
            {
                steps.Add(new($"dropping trigger {MysqlTools.Identifier(definition.Name)}", [$"DROP TRIGGER {Qualified(database, definition.Name)}"],
                    u => u.OldTriggers.Insert(0, definition)));
            }
            foreach (var definition in dropped.Where(x => x.Kind == "view"))
            {
                steps.Add(new($"dropping view {MysqlTools.Identifier(definition.Name)}", [$"DROP VIEW {Qualified(database, definition.Name)}"],
                    u => u.OldViews.Add(definition)));
            }
        }

        // The one atomic step: readers see either all the old tables or all the new ones.
        var renames = new List<string>();
        var back = new List<string>();
        if (trash is not null)
        {
            foreach (var table in target.Tables)
            {
                renames.Add($"{Qualified(database, table)} TO {Qualified(trash, table)}");
            }
        }
        foreach (var table in source.Tables)
        {
            renames.Add($"{Qualified(staging, table)} TO {Qualified(database, table)}");
            back.Add($"{Qualified(database, table)} TO {Qualified(staging, table)}");
        }
        if (trash is not null)
        {
            foreach (var table in target.Tables)
            {
                back.Add($"{Qualified(trash, table)} TO {Qualified(database, table)}");
            }
        }
        var rename = -1;
        if (renames.Count > 0)
        {
            rename = steps.Count;
            steps.Add(new("moving the tables in (RENAME TABLE)", ["RENAME TABLE " + string.Join(",\n    ", renames)], u => u.RenameBack.AddRange(back)));
        }
        if (Replace)
        {
            foreach (var definition in dropped.Where(x => x.Kind is not ("trigger" or "view")))
            {
                steps.Add(new($"dropping {definition.Kind} {MysqlTools.Identifier(definition.Name)}",
                    [$"DROP {definition.Kind.ToUpperInvariant()} {Qualified(database, definition.Name)}"], u => u.OldRoutines.Insert(0, definition)));
            }
        }
        AddCreates(steps, created, definition => u => u.DropNew.Insert(0,
            $"DROP {definition.Kind.ToUpperInvariant()} IF EXISTS {Qualified(database, definition.Name)}"), "creating {0}");
        var commit = steps.Count;
        if (trash is not null)
        {
            steps.Add(new($"dropping database {MysqlTools.Identifier(trash)} (the former tables)", [$"DROP DATABASE {MysqlTools.Identifier(trash)}"], null));
        }
        steps.Add(new($"dropping staging database {MysqlTools.Identifier(staging)}", [$"DROP DATABASE {MysqlTools.Identifier(staging)}"], null));
        return (steps, commit, rename);
    }

    /// <summary>The inverse of the first <paramref name="done"/> steps, as steps: new objects dropped, old routines back, the RENAME reversed, old views and triggers back.</summary>
    List<Step> Undo(List<Step> steps, int done)
    {
        var plan = new UndoPlan();
        for (var i = 0; i < done; i++)
        {
            steps[i].Undo?.Invoke(plan);
        }
        if (done == 0)
        {
            return [];
        }
        var d = MysqlTools.Identifier(database);
        var undo = new List<Step> { new($"using database {d}", [$"USE {d}"], null) };
        foreach (var drop in plan.DropNew)
        {
            undo.Add(new("dropping what the swap created: " + drop[5..], [drop], null));
        }
        AddCreates(undo, plan.OldRoutines, undo: null, what: "creating {0} again");
        if (plan.RenameBack.Count > 0)
        {
            undo.Add(new("moving the tables back (RENAME TABLE)", ["RENAME TABLE " + string.Join(",\n    ", plan.RenameBack)], null));
        }
        // Views in their first order (stand-ins first, so that a view may read another), triggers in the order they fire.
        AddCreates(undo, plan.OldViews, undo: null, what: "creating {0} again");
        AddCreates(undo, plan.OldTriggers, undo: null, what: "creating {0} again");
        // The trash database is not dropped here but after a check that it is empty (RunAsync): should the RENAME have
        // taken effect unseen, it holds the destination's tables.
        if (plan.DropDatabase)
        {
            undo.Add(new($"dropping database {d}, which the swap created", [$"DROP DATABASE {d}"], null));
        }
        return undo;
    }

    /// <summary>
    /// Runs <paramref name="steps"/> through one client, which stops at the first failing statement; each step is
    /// followed by a marker the client prints, so the count of steps that took effect is known. Not cancellable.
    /// </summary>
    async Task<(int Done, DatabaseException? Error)> RunStepsAsync(List<Step> steps, string? failAfter = null)
    {
        var delimiter = PickDelimiter(steps);
        var script = new StringBuilder();
        script.Append("SET SESSION foreign_key_checks = 0;\n");
        script.Append(CultureInfo.InvariantCulture, $"SET SESSION lock_wait_timeout = {LockWaitSeconds};\n");
        script.Append("SET @replica_sql_mode = @@SESSION.sql_mode;\n");
        script.Append("DELIMITER ").Append(delimiter).Append('\n');
        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var statement in steps[i].Statements)
            {
                script.Append(statement).Append('\n').Append(delimiter).Append('\n');
            }
            script.Append(CultureInfo.InvariantCulture, $"SELECT '{MarkerPrefix}{i}'").Append(delimiter).Append('\n');
            if (failAfter is not null && steps[i].What == failAfter)
            {
                script.Append("SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'failing on purpose (a test)'").Append(delimiter).Append('\n');
            }
        }
        var (output, error) = await tools.RunScriptAsync(options, null, script.ToString()).ConfigureAwait(false);
        var done = 0;
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith(MarkerPrefix, StringComparison.Ordinal)
                && int.TryParse(line.AsSpan(MarkerPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var step))
            {
                done = Math.Max(done, step + 1);
            }
        }
        // Done only with every step's marker: a client that exits 0 part-way (it was signalled) did not finish.
        return done == steps.Count ? (done, null) : (done, error ?? new DatabaseException($"the mysql client ended after {done} of {steps.Count} steps without an error"));
    }

    /// <summary>SET NAMES for re-sending a definition: the text comes back through a utf8mb4 client and goes out the same way.</summary>
    /// <summary>
    /// The session an object is created again in: the definition comes as utf8mb4 text (the client's character set), and
    /// the object keeps the collation_connection it had, which decides the character set and collation of the string
    /// literals in its body (a trigger created under latin1 compared its literals as latin1_swedish_ci; created again under
    /// utf8mb4 it compared them otherwise; found by review). A name the server would not have given is not used.
    /// </summary>
    static string Names(string? collationConnection) =>
        collationConnection is null || !IsCollationName(collationConnection) ? "SET NAMES utf8mb4"
        : collationConnection.StartsWith("utf8mb4_", StringComparison.Ordinal) ? $"SET NAMES utf8mb4 COLLATE {collationConnection}"
        : $"SET NAMES utf8mb4, collation_connection = {collationConnection}";

    static bool IsCollationName(string name) => name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>A DELIMITER that occurs in no statement of the script.</summary>
    static string PickDelimiter(List<Step> steps)
    {
        for (var n = 0; ; n++)
        {
            var delimiter = $"$$replica{n}$$";
            if (!steps.Exists(step => step.Statements.Any(s => s.Contains(delimiter, StringComparison.Ordinal))))
            {
                return delimiter;
            }
        }
    }

    static string Qualified(string schema, string name) => MysqlTools.Identifier(schema) + "." + MysqlTools.Identifier(name);
}

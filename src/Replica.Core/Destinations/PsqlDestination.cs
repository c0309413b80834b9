using System.Globalization;
using System.Text;
using Replica.Clients;

namespace Replica.Destinations;

/// <summary>
/// Restores into a PostgreSQL database through psql with ON_ERROR_STOP, inside one transaction: its BEGIN is the first
/// line psql reads, and its COMMIT is written only on <see cref="CommitAsync"/>, after every chunk checked out (the
/// dump's own BEGIN and COMMIT, which pg_dump writes around large objects, never reach psql: see RestoreGuard).
/// Not psql's --single-transaction: that commits at the end of its input, and a restore killed with -9 closes psql's
/// input too, which would commit what arrived so far. Any failure before the COMMIT (a bad chunk, a refused statement,
/// Ctrl+C, kill -9) stops or kills psql without it, and the server rolls everything back: the destination stays as it was.
/// <list type="bullet">
/// <item><see cref="WipeMode.Schemas"/>: the destination's own schemas are dropped and public recreated inside the same
/// transaction, so a failed restore also undoes the drop.</item>
/// <item><see cref="WipeMode.Database"/>: the dump is restored into a new database, which replaces the old one (dropped,
/// then the new one renamed) only after psql committed; a failed restore drops the new database.</item>
/// </list>
/// </summary>
public sealed class PsqlDestination : IRestoreDestination
{
    readonly DatabaseUri _uri;
    readonly PostgresTools _tools;
    readonly WipeMode _wipe;
    readonly bool _createDatabase;
    readonly List<PsqlSession> _sessions = [];
    PsqlSession? _psql;
    string? _stagingDatabase;
    /// <summary>The staging database's oid, read once it was created: the swap renames that database and no other.</summary>
    uint _stagingOid;
    /// <summary>The destination's oid when the restore began (null: it did not exist): the swap replaces that database and no other.</summary>
    uint? _destinationOid;
    bool _dropOnSwap;
    // The restore created the destination itself (in place, into a database that did not exist): a failed restore drops it.
    bool _createdDatabase;
    bool _committed;

    public PsqlDestination(DatabaseUri uri, PostgresTools tools, WipeMode wipe, bool createDatabase)
    {
        if (uri.Database is null)
        {
            throw new ConfigException("destination.connection_uri names no database (postgres://user@host:port/DATABASE)");
        }
        _uri = uri;
        _tools = tools;
        _wipe = wipe;
        _createDatabase = createDatabase;
    }

    public string Description => _uri.Describe();

    /// <summary>
    /// destination.after_restore: run in the restore's transaction after the data, before the commit; checked by the
    /// restore guard when set (a refused step is a config error before anything is restored).
    /// </summary>
    public IReadOnlyList<SqlStep> AfterRestore
    {
        get => _afterRestore.Steps;
        init => _afterRestore = new AfterRestoreSteps(value, Lexing.SqlDialect.PostgreSql, _uri.Database);
    }

    readonly AfterRestoreSteps _afterRestore = AfterRestoreSteps.None;

    /// <summary>
    /// destination.allow_privileged_role: restore even when the role psql connects as could reach outside the database
    /// (see <see cref="RefusePrivilegedRoleAsync"/>); off by default.
    /// </summary>
    public bool AllowPrivilegedRole { get; init; }

    /// <summary>What the message refusing a privileged role says to set instead (the scratch database of sanitize has its own).</summary>
    public string PrivilegedRoleSetting { get; init; } = IRestoreDestination.AllowPrivilegedRoleHint;

    /// <summary>What the restore leaves out of the dump (destination.no_owner, destination.no_privileges).</summary>
    public LeaveOut LeaveOut { get; init; }

    /// <summary>The destination database (the one the restore ends up in, also with <see cref="WipeMode.Database"/>).</summary>
    public string Database => _uri.Database!;

    /// <summary>
    /// Whether the dump runs in the destination itself, in the restore's transaction, rather than in a staging database
    /// swapped in at the end (--wipe database; --jobs N uses one too): there a dump's setval reaches the database's own
    /// sequences, which a rollback does not bring back unless the restore guard prepares them.
    /// </summary>
    internal bool RestoresInPlace => _wipe != WipeMode.Database;

    /// <summary>Rows psql reported (COPY n, INSERT 0 n), on every connection of the restore.</summary>
    public long Rows => Sum(s => s.Rows);

    /// <summary>Statements psql ran (one status line each).</summary>
    public long Statements => Sum(s => s.Statements);

    /// <summary>COPY statements psql finished: tables whose data is in.</summary>
    public int Tables => (int)Sum(s => s.Tables);

    long Sum(Func<PsqlSession, long> count)
    {
        lock (_sessions)
        {
            long sum = 0;
            foreach (var session in _sessions)
            {
                sum += count(session);
            }
            return sum;
        }
    }

    /// <summary>
    /// What psql's errors start with; by default, that the restore was rolled back and left the database unchanged, or,
    /// when the restore created the database, that it drops it again (<see cref="DisposeAsync"/>).
    /// </summary>
    public string FailureContext
    {
        get => _failureContext ?? (_createdDatabase
            ? $"restoring into {_uri.Describe()} failed and was rolled back; the database did not exist before, and the restore drops it again"
            : $"restoring into {_uri.Describe()} failed and was rolled back, the database is unchanged");
        init => _failureContext = value;
    }

    readonly string? _failureContext;

    /// <summary>The database psql connects to for CREATE and DROP DATABASE (postgres, or the service's own).</summary>
    internal DatabaseUri Maintenance => _uri.WithDatabase(_uri.Parameters.ContainsKey("service") ? _uri.Database : "postgres");

    /// <summary>Connects first (clear error on a wrong password or host), creates the database when asked, starts psql.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        var exists = await DestinationExistsAsync(cancellationToken).ConfigureAwait(false);
        await RefusePrivilegedRoleAsync(exists, cancellationToken).ConfigureAwait(false);
        if (!exists)
        {
            if (!_createDatabase && _wipe != WipeMode.Database)
            {
                throw new DatabaseException($"{_uri.Describe()} does not exist (create it, or leave destination.create_database on)");
            }
            if (_wipe != WipeMode.Database)
            {
                // Outside the restore's transaction (CREATE DATABASE cannot run in one): a failed or interrupted restore drops
                // it again (DisposeAsync), so that it leaves no database behind. Recorded once created: a CREATE that failed
                // (another restore created it meanwhile) made nothing of ours. Found by review: a failed restore left an
                // empty database and said "unchanged".
                await _tools.QueryAsync(Maintenance, $"CREATE DATABASE {Identifiers.Delimited(_uri.Database!)}", cancellationToken).ConfigureAwait(false);
                _createdDatabase = true;
            }
        }
        var target = _uri;
        if (_wipe == WipeMode.Database)
        {
            await DropAbandonedStagingAsync(cancellationToken).ConfigureAwait(false);
            target = _uri.WithDatabase(await CreateStagingAsync(cancellationToken).ConfigureAwait(false));
        }
        _psql = await StartSessionAsync(target, cancellationToken, begin: true).ConfigureAwait(false);
        _dropOnSwap = true;
        if (_wipe == WipeMode.Schemas)
        {
            await _psql.Input.WriteAsync(Encoding.UTF8.GetBytes(WipeSchemasSql), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The restore guard sees every statement psql runs, but not the SQL a statement runs in turn: a DO block's EXECUTE,
    /// a function called by a default, a check, an index expression or a trigger. A role that may run programs or read
    /// and write files on the server (a superuser, a member of pg_execute_server_program, pg_write_server_files or
    /// pg_read_server_files, a role it can SET ROLE to that is one, CREATEROLE before PostgreSQL 16, which can grant
    /// itself those roles, EXECUTE on the server-side lo_import/lo_export, or on a SECURITY DEFINER function of such a
    /// role: <see cref="PrivilegedFunctionsAsync"/>) would let such SQL do it
    /// (<c>DO $$ BEGIN EXECUTE 'COPY t FROM PROGRAM ...'; END $$</c>), and the guard cannot see the command. So the restore
    /// refuses such a role (a config error, before anything is created or changed) unless destination.allow_privileged_role
    /// says the user trusts every dump the bridge may hold. A role without those privileges gets "permission denied" from
    /// the server for the same statements, and the restore rolls back.
    /// https://www.postgresql.org/docs/15/predefined-roles.html, https://www.postgresql.org/docs/15/sql-copy.html
    /// </summary>
    /// <param name="exists">Whether the destination database exists (its functions are checked too).</param>
    async Task RefusePrivilegedRoleAsync(bool exists, CancellationToken cancellationToken)
    {
        if (AllowPrivilegedRole)
        {
            return;
        }
        var reasons = (await _tools.QueryAsync(Maintenance, PrivilegedRoleSql, cancellationToken).ConfigureAwait(false))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (reasons.Length == 0)
        {
            reasons = await PrivilegedFunctionsAsync(exists, cancellationToken).ConfigureAwait(false);
        }
        if (reasons.Length == 0)
        {
            return;
        }
        var why = Array.IndexOf(reasons, "is a superuser") >= 0 ? "is a superuser" : string.Join("; ", reasons);
        throw new ConfigException($"refusing to restore into {_uri.Describe()}: the role it connects as {why}, so SQL inside the dump (a DO block, "
            + "a function called by a default, a check, an index or a trigger) could run programs or touch files on the database server, where the restore "
            + "guard cannot see it. Restore as a role without these privileges (README: \"Restoring as a role that cannot reach out\"), or set "
            + PrivilegedRoleSetting);
    }

    /// <summary>
    /// A plain role reaches as far as a SECURITY DEFINER function it may run whose owner is privileged: the function runs
    /// with its owner's rights (an administrator's helper that runs SQL it is given would run the dump's COPY FROM
    /// PROGRAM as a superuser). Functions live per database: those of the destination when it <paramref name="exists"/>
    /// (checked also when --wipe database replaces it), and of template1, which CREATE DATABASE copies into a created or
    /// staging database. A template1 the role may not connect to is not checked (it cannot be read; its functions are as
    /// rare as such a setup). https://www.postgresql.org/docs/15/sql-createfunction.html#SQL-CREATEFUNCTION-SECURITY
    /// </summary>
    async Task<string[]> PrivilegedFunctionsAsync(bool exists, CancellationToken cancellationToken)
    {
        var found = new List<string>();
        // A destination that does not exist yet has no functions of its own.
        foreach (var database in exists && _uri.Database != "template1" ? new[] { _uri.Database!, "template1" } : ["template1"])
        {
            string rows;
            try
            {
                rows = await _tools.QueryAsync(_uri.WithDatabase(database), PrivilegedFunctionsSql, cancellationToken).ConfigureAwait(false);
            }
            catch (DatabaseException) when (database == "template1")
            {
                continue;
            }
            found.AddRange(rows.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        return [.. found];
    }

    /// <summary>The SECURITY DEFINER functions of the current database the role may call whose owner is privileged.</summary>
    const string PrivilegedFunctionsSql = """
        SELECT 'may run the SECURITY DEFINER function ' || p.oid::regprocedure::text || ' of '
               || CASE WHEN r.rolsuper THEN 'the superuser ' ELSE 'the role ' END || quote_ident(r.rolname)
               || ' in database ' || quote_ident(current_database()) || ', which runs with its owner''s rights'
        FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
        WHERE p.prosecdef
          AND (r.rolsuper OR pg_has_role(r.oid, 'pg_execute_server_program', 'MEMBER')
               OR pg_has_role(r.oid, 'pg_write_server_files', 'MEMBER') OR pg_has_role(r.oid, 'pg_read_server_files', 'MEMBER'))
          AND has_function_privilege(p.oid, 'EXECUTE') AND has_schema_privilege(p.pronamespace, 'USAGE')
        ORDER BY 1
        """;

    /// <summary>Whether the destination exists; records its oid (<see cref="_destinationOid"/>), which the swap checks.</summary>
    async Task<bool> DestinationExistsAsync(CancellationToken cancellationToken)
    {
        _destinationOid = await OidAsync(_uri.Database!, cancellationToken).ConfigureAwait(false);
        return _destinationOid is not null;
    }

    /// <summary>The oid of the database named <paramref name="name"/>, or null when there is none.</summary>
    async Task<uint?> OidAsync(string name, CancellationToken cancellationToken)
    {
        var text = (await _tools.QueryAsync(Maintenance, $"SELECT oid FROM pg_database WHERE datname = {Literal(name)}", cancellationToken)
            .ConfigureAwait(false)).Trim();
        return text.Length == 0 ? null
            : uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var oid) ? oid
            : throw new DatabaseException($"unexpected answer to a query for the oid of database {name} on {_uri.Describe()}: '{text}'");
    }

    /// <summary>One line per privilege that lets SQL in a dump reach outside the database; none for a plain role.</summary>
    const string PrivilegedRoleSql = """
        SELECT CASE WHEN r.rolsuper AND r.rolname = current_user THEN 'is a superuser'
                    WHEN r.rolsuper THEN 'can SET ROLE to the superuser ' || quote_ident(r.rolname)
                    WHEN r.rolcreaterole THEN 'has CREATEROLE' || CASE WHEN r.rolname = current_user THEN '' ELSE ' through ' || quote_ident(r.rolname) END
                        || ' (before PostgreSQL 16 it can grant itself pg_execute_server_program)'
                    ELSE 'is a member of ' || r.rolname END
        FROM pg_roles r
        WHERE pg_has_role(current_user, r.oid, 'MEMBER')
          AND (r.rolsuper OR (r.rolcreaterole AND current_setting('server_version_num')::int < 160000)
               OR r.rolname IN ('pg_execute_server_program', 'pg_write_server_files', 'pg_read_server_files'))
        UNION ALL
        SELECT 'may run ' || f || ' on the server''s files'
        FROM unnest(ARRAY['lo_export(oid,text)', 'lo_import(text)', 'lo_import(text,oid)']) f
        WHERE has_function_privilege(current_user, f, 'EXECUTE')
        ORDER BY 1
        """;

    /// <summary>
    /// Staging databases of earlier restores into the same database that were killed (-9) before they could drop theirs:
    /// named <c>&lt;db&gt;_replica_&lt;pid&gt;_&lt;time&gt;</c>, marked as made on this machine by that process
    /// (<see cref="Leftovers.StagingMark"/>, its comment), which no longer runs here, and to which no session is connected.
    /// A restore from another machine or container marks its own with its own machine's name: never dropped from here.
    /// </summary>
    async Task DropAbandonedStagingAsync(CancellationToken cancellationToken)
    {
        var prefix = StagingPrefix(_uri.Database!);
        var like = Leftovers.LikePrefix(prefix);
        var names = await _tools.QueryAsync(Maintenance,
            // The comment first: a mark has no '|', a name may.
            $"SELECT coalesce(shobj_description(d.oid, 'pg_database'), '') || '|' || d.datname FROM pg_database d WHERE d.datname LIKE {Literal(like)} "
            + "AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid)",
            cancellationToken).ConfigureAwait(false);
        foreach (var line in names.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var bar = line.IndexOf('|', StringComparison.Ordinal);
            var name = line[(bar + 1)..];
            // The destination itself may be named like one of its own staging databases (its first 33 bytes, _replica_,
            // digits, _, digits): never that one.
            if (bar < 0 || IsSameDatabase(name, _uri.Database!) || !Leftovers.IsAbandonedStaging(name, prefix, line[..bar]))
            {
                continue;
            }
            try
            {
                await _tools.QueryAsync(Maintenance, $"DROP DATABASE IF EXISTS {Identifiers.Delimited(name)}", cancellationToken).ConfigureAwait(false);
            }
            catch (DatabaseException)
            {
                // best effort: a session connected in the meantime, or we may not drop it; the restore goes on
            }
        }
    }

    /// <summary>
    /// Drops every schema of the destination except the system ones, then recreates public as it was (owner, comment,
    /// privileges: PostgreSQL 15 makes it owned by pg_database_owner), so the restored schema matches the source's.
    /// Runs in the restore's transaction: a failed restore brings everything back.
    /// </summary>
    const string WipeSchemasSql = """
        DO $replica$
        DECLARE
            s name;
            public_owner text;
            public_comment text;
            public_acl aclitem[];
            g record;
        BEGIN
            SELECT n.nspowner::regrole::text, obj_description(n.oid, 'pg_namespace'), n.nspacl
              INTO public_owner, public_comment, public_acl
              FROM pg_namespace n WHERE n.nspname = 'public';
            FOR s IN SELECT nspname FROM pg_namespace
                     WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp\_%'
            LOOP
                EXECUTE format('DROP SCHEMA %I CASCADE', s);
            END LOOP;
            EXECUTE format('CREATE SCHEMA public AUTHORIZATION %s', coalesce(public_owner, 'pg_database_owner'));
            IF public_comment IS NOT NULL THEN
                EXECUTE format('COMMENT ON SCHEMA public IS %L', public_comment);
            END IF;
            FOR g IN SELECT * FROM aclexplode(public_acl) LOOP
                EXECUTE format('GRANT %s ON SCHEMA public TO %s', g.privilege_type,
                               CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END);
            END LOOP;
        END
        $replica$;

        """;

    public Stream Open() => _psql?.Input ?? throw new InvalidOperationException("call PrepareAsync before Open");

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        var psql = _psql ?? throw new InvalidOperationException("call PrepareAsync before CommitAsync");
        await CompleteWithStepsAsync(psql, cancellationToken, inPlace: RestoresInPlace).ConfigureAwait(false);
        await SwapAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Set when psql failed or the restore was interrupted after psql sent the COMMIT, and the server says the transaction
    /// committed: the restore completed, and this says what went wrong after (the CLI prints it).
    /// </summary>
    public string? CommitNotice { get; private set; }

    /// <summary>
    /// For a restore on several connections: runs destination.after_restore in the staging database, in a transaction
    /// of its own, once every session committed and before the swap (a failure drops the staging database: the
    /// destination stays as it was).
    /// </summary>
    internal async Task RunAfterRestoreAsync(DatabaseUri staging, CancellationToken cancellationToken)
    {
        if (AfterRestore.Count == 0)
        {
            return;
        }
        var session = await StartSessionAsync(staging, cancellationToken).ConfigureAwait(false);
        await session.Input.WriteAsync("BEGIN;\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        await CompleteWithStepsAsync(session, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the after_restore steps (each after a marker psql echoes) and COMMIT, then waits for psql; a failure in a
    /// step names it. A marker after the last step tells a failure of the COMMIT itself from one of the last step.
    /// </summary>
    async Task CompleteWithStepsAsync(PsqlSession psql, CancellationToken cancellationToken, bool inPlace = false)
    {
        if (_afterRestore.Count > 0)
        {
            // pg_dump's preamble empties the session's search_path (SELECT pg_catalog.set_config('search_path', '', false)):
            // the steps get the database's default back, as on a fresh connection, so that unqualified names resolve.
            await psql.Input.WriteAsync("\nRESET search_path;\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        }
        for (int i = 0; i < _afterRestore.Count; i++)
        {
            await psql.MarkStepAsync(i, _afterRestore[i], cancellationToken).ConfigureAwait(false);
        }
        if (_afterRestore.Count > 0)
        {
            await psql.MarkStepAsync(_afterRestore.Count, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }
        if (!inPlace)
        {
            await psql.WriteCommitAsync(null, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            if (inPlace)
            {
                await CommitInPlaceAsync(psql, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await psql.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (DatabaseException ex) when (_afterRestore.Count > 0)
        {
            throw _afterRestore.Failed(await psql.FailedStepAsync().ConfigureAwait(false), ex) ?? ex;
        }
    }

    /// <summary>
    /// Writes the COMMIT of a restore in place and waits for psql. Once psql reached the COMMIT (its marker echoed), the
    /// commit is not cut: an interrupt waits for its outcome, and so does the process exit (<see cref="ExitCleanup.Critical"/>).
    /// A failure after that point (the connection lost while the server committed, an interrupt as psql sent it) is not
    /// taken for a rollback: the server says on a new connection what became of the transaction (txid_status). Committed:
    /// the restore completed (<see cref="CommitNotice"/> says what failed after); aborted: the failure as it was; not
    /// known: a failure that says the database may hold the dump. Found by review: a connection lost at COMMIT was
    /// reported as "rolled back, the database is unchanged", and SIGTERM during the COMMIT as "interrupted", though
    /// both had committed.
    /// </summary>
    async Task CommitInPlaceAsync(PsqlSession psql, CancellationToken cancellationToken)
    {
        var gate = new Lock();
        ExitCleanup.CriticalSection? critical = null;
        var ended = false;
        await psql.WriteCommitAsync(() =>
        {
            lock (gate)
            {
                if (!ended)
                {
                    critical = ExitCleanup.Critical("the COMMIT of the restore into " + _uri.Describe(),
                        "the server decides whether the restore committed, and replica reports which (killing replica now, with SIGKILL, leaves that unsaid)");
                }
            }
        }, cancellationToken).ConfigureAwait(false);
        try
        {
            var failure = await WaitForCommitAsync(psql, cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                SetOutcome($"{_uri.Describe()} holds the dump: the restore completed");
                return;
            }
            await psql.DrainAsync().ConfigureAwait(false);
            if (!psql.CommitReached)
            {
                // psql never sent the COMMIT: the server rolled back.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
            var transaction = psql.TransactionOf;
            var status = await TransactionStatusAsync(transaction).ConfigureAwait(false);
            var what = failure is OperationCanceledException ? "the restore was interrupted" : "psql failed";
            var detail = failure is OperationCanceledException ? "" : ": " + Detail(failure.Message);
            switch (status)
            {
                case "committed":
                    _committed = true;
                    CommitNotice = $"{what} after it sent the COMMIT, and the server committed the restore's transaction: {_uri.Describe()} holds the dump{detail}";
                    SetOutcome(CommitNotice);
                    return;
                case "aborted":
                    SetOutcome($"the restore into {_uri.Describe()} was rolled back, the database is unchanged");
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                    break;
            }
            // Committed or not, nobody knows: the database it may hold is not dropped (DisposeAsync).
            _mayHaveCommitted = true;
            var id = transaction is null ? "" : string.Create(CultureInfo.InvariantCulture, $" (SELECT txid_status({transaction.Id}) tells)");
            var unknown = new DatabaseException($"restoring into {_uri.Describe()}: {what} after it sent the COMMIT, and whether the server committed "
                + $"could not be read back: the database may hold the dump, check it by hand{id}{detail}", failure);
            SetOutcome(unknown.Message);
            throw unknown;
        }
        finally
        {
            lock (gate)
            {
                ended = true;
                critical?.Dispose();
            }
        }

        void SetOutcome(string outcome)
        {
            lock (gate)
            {
                critical?.Outcome = outcome;
            }
        }
    }

    bool _mayHaveCommitted;

    /// <summary>
    /// How long an interrupt after the COMMIT was written waits for psql's output to show that it reached the COMMIT (or
    /// for psql to end) before psql is killed.
    /// </summary>
    internal static readonly TimeSpan CommitMarkerGrace = TimeSpan.FromSeconds(5);

    static readonly TimeSpan s_markerPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Waits for psql to end; its failure, or the interrupt, instead of throwing. An interrupt before psql reached the
    /// COMMIT kills psql (the server rolls back); after, the COMMIT's outcome is waited for.
    /// </summary>
    static async Task<Exception?> WaitForCommitAsync(PsqlSession psql, CancellationToken cancellationToken)
    {
        // Not cancelled itself: once psql reached the COMMIT, the wait goes on after an interrupt.
        var completion = psql.CompleteAsync(CancellationToken.None);
        try
        {
            await completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (DatabaseException e)
        {
            return e;
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            // psql's output is read on another thread: on a loaded machine the marker was read seconds after the interrupt
            // though psql had passed it (CI saw that twice: Restore_SigtermDuringCommit_WaitsForTheCommit). So psql gets a
            // few seconds to say it reached the COMMIT, or to end; one busy with an earlier statement is killed that much later.
            for (var waited = TimeSpan.Zero; !psql.CommitReached && !completion.IsCompleted && waited < CommitMarkerGrace; waited += s_markerPoll)
            {
                await Task.Delay(s_markerPoll, CancellationToken.None).ConfigureAwait(false);
            }
            if (!psql.CommitReached)
            {
                // Killed before it sent the COMMIT, psql leaves the server to roll back; should it have sent it meanwhile,
                // CommitReached turns true once its output is read, and the server is asked.
                await psql.DisposeAsync().ConfigureAwait(false);
                await completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return e;
            }
        }
        try
        {
            await completion.ConfigureAwait(false);
            return null;
        }
        catch (DatabaseException e)
        {
            return e;
        }
    }

    /// <summary>A psql error without <see cref="FailureContext"/> before it (which says the restore was rolled back).</summary>
    string Detail(string message) =>
        message.StartsWith(FailureContext + ": ", StringComparison.Ordinal) ? message[(FailureContext.Length + 2)..] : message;

    /// <summary>
    /// What became of the restore's transaction, asked on a new connection: committed, aborted, or null when not known
    /// (no transaction id read, the server unreachable, still running after its backend was told to end). A transaction
    /// still in progress (psql gone, its backend not yet) is ended (pg_terminate_backend, our own backend: a backend in
    /// its commit either commits or aborts, never half), then asked again for some seconds.
    /// https://www.postgresql.org/docs/15/functions-info.html#FUNCTIONS-PG-SNAPSHOT
    /// </summary>
    async Task<string?> TransactionStatusAsync(PsqlSession.Transaction? transaction)
    {
        if (transaction is null)
        {
            return null;
        }
        var id = transaction.Id.ToString(CultureInfo.InvariantCulture);
        var xid = (transaction.Id & 0xFFFFFFFFL).ToString(CultureInfo.InvariantCulture);
        var pid = transaction.BackendPid.ToString(CultureInfo.InvariantCulture);
        try
        {
            for (var attempt = 0; attempt < 50; attempt++)
            {
                var status = (await _tools.QueryAsync(Maintenance, $"SELECT coalesce(txid_status({id}), 'unknown')", CancellationToken.None).ConfigureAwait(false)).Trim();
                if (status is "committed" or "aborted")
                {
                    return status;
                }
                if (status != "in progress")
                {
                    return null;
                }
                await _tools.QueryAsync(Maintenance, $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = {pid} AND backend_xid = '{xid}'::xid",
                    CancellationToken.None).ConfigureAwait(false);
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (DatabaseException)
        {
            // not known: the caller says so
        }
        return null;
    }

    /// <summary>
    /// Makes the restore visible once every session committed: with a staging database, swaps it in. One transaction
    /// renames the destination (its other sessions ended first, as DROP ... WITH (FORCE) would) to a trash name and the
    /// staging database to the destination's (ALTER DATABASE ... RENAME is transactional), so a failure (a session on the
    /// staging database, a lock held past destination.lock_wait_timeout) changes nothing; the trash database is dropped
    /// after the commit. Once begun it is not cut: no cancellation, and the process exit waits for it
    /// (<see cref="ExitCleanup.Critical"/>). Found by review: the destination was dropped first and the staging database
    /// renamed after, in two client runs, so a failing rename or Ctrl-C between them lost the destination, and the
    /// failed restore then dropped the staging database too. The transaction first checks by oid that the staging database
    /// is the one <see cref="CreateStagingAsync"/> made and the destination the one seen when the restore began, and a
    /// failure is read back by oid (found by review: a staging database dropped by another session read as swapped, exit 0
    /// with the destination unchanged; a destination renamed away by the dump's SQL was left under its new name, unreported).
    /// </summary>
    internal async Task SwapAsync(CancellationToken cancellationToken)
    {
        if (_stagingDatabase is { } staging)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var critical = ExitCleanup.Critical("the swap into " + _uri.Describe());
            if (BeforeSwapForTests.Value is { } beforeSwap)
            {
                await beforeSwap(staging).ConfigureAwait(false);
            }
            var database = _uri.Database!;
            var trash = _dropOnSwap && _destinationOid is not null ? TrashName(database, staging) : null;
            var tag = "$swap_" + Guid.NewGuid().ToString("N")[..12] + "$";
            var expected = _destinationOid is { } oid ? oid.ToString(CultureInfo.InvariantCulture) + "::oid" : "NULL::oid";
            var stagingOid = _stagingOid.ToString(CultureInfo.InvariantCulture) + "::oid";
            var sql = new StringBuilder();
            // Checked inside the swap's transaction, by oid: the staging database is the one this restore created (not
            // dropped, nor renamed, by another session), and the destination is the database seen at the start (the
            // dump's SQL or another session did not rename it away, drop it, or create one of that name). A rename
            // that found no destination put the staging database in its place and left the old one, renamed, unreported.
            sql.Append(CultureInfo.InvariantCulture, $"""
                SET lock_timeout = '{Math.Min(LockWaitSeconds, MaxLockTimeoutSeconds)}s'; DO {tag}
                DECLARE
                  ended bigint;
                  former_comment text := shobj_description({expected}, 'pg_database');
                  -- as a new database has it when there was none
                  public_connects boolean := coalesce(has_database_privilege('public', {expected}, 'CONNECT'), true);
                BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = {Literal(staging)} AND oid = {stagingOid}) THEN
                  RAISE EXCEPTION 'replica: the staging database is not the one this restore created';
                END IF;
                IF (SELECT oid FROM pg_database WHERE datname = {Literal(database)}) IS DISTINCT FROM {expected} THEN
                  RAISE EXCEPTION 'replica: the destination is not the database seen when the restore began';
                END IF;

                """);
            if (trash is not null)
            {
                sql.Append(CultureInfo.InvariantCulture, $"""
                    FOR attempt IN 1..5 LOOP
                      BEGIN
                        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) INTO ended
                          FROM pg_stat_activity WHERE datname = {Literal(database)} AND pid <> pg_backend_pid();
                        IF ended > 0 THEN
                          RAISE NOTICE 'replica: ended % other session(s) on the destination', ended;
                        END IF;
                        EXECUTE format('ALTER DATABASE %I RENAME TO %I', {Literal(database)}, {Literal(trash)});
                        EXIT;
                      EXCEPTION WHEN object_in_use THEN
                        -- a pool reconnected between the terminate and the rename: again, a few times
                        IF attempt = 5 THEN RAISE; END IF;
                        PERFORM pg_sleep(0.2);
                      END;
                    END LOOP;
                    -- Marked as this process's, as a staging database is: a later restore here drops it should this one die first.
                    EXECUTE format('COMMENT ON DATABASE %I IS %L', {Literal(trash)}, {Literal(Leftovers.StagingMark(Environment.ProcessId))});

                    """);
            }
            // The staging database's mark is not the destination's comment: it gets the replaced database's back (none
            // when there was none), and PUBLIC's CONNECT, revoked while it was staging, when the replaced one granted it.
            sql.Append(CultureInfo.InvariantCulture, $"""
                EXECUTE format('ALTER DATABASE %I RENAME TO %I', {Literal(staging)}, {Literal(database)});
                EXECUTE format('COMMENT ON DATABASE %I IS %L', {Literal(database)}, former_comment);
                IF public_connects THEN
                  EXECUTE format('GRANT CONNECT ON DATABASE %I TO PUBLIC', {Literal(database)});
                END IF;
                END
                {tag}
                """);
            try
            {
                await _tools.QueryAsync(Maintenance, sql.ToString(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (DatabaseException e)
            {
                // psql can fail after the server committed (the connection lost at COMMIT): the catalog says which, by
                // oid: swapped when the destination's name is the staging database's (not when the staging name is gone:
                // a staging database dropped by another session is gone too, and then nothing was swapped).
                string? found;
                try
                {
                    found = await _tools.QueryAsync(Maintenance, $"SELECT oid || '|' || datname FROM pg_database WHERE oid = {stagingOid} OR oid = {expected} "
                        + $"OR datname = {Literal(staging)} OR datname = {Literal(database)}", CancellationToken.None).ConfigureAwait(false);
                }
                catch (DatabaseException)
                {
                    found = null;
                }
                var state = found is null ? null : SwapState.Read(found);
                if (state?.NameOf(_stagingOid) != database)
                {
                    var failure = new DatabaseException($"the dump was restored into staging database {staging}, but swapping it in for {_uri.Describe()} failed "
                        + (state is null ? "(whether it took effect could not be read back: check by hand)" : $"({WhyNotSwapped(state, staging, database)}nothing was changed)")
                        + $": {e.Message}", e);
                    critical.Outcome = failure.Message;
                    throw failure;
                }
            }
            _stagingDatabase = null;
            _committed = true;
            critical.Outcome = $"{_uri.Describe()} holds the dump: the restore completed";
            if (trash is not null)
            {
                try
                {
                    await _tools.QueryAsync(Maintenance, $"DROP DATABASE IF EXISTS {Identifiers.Delimited(trash)} WITH (FORCE)", CancellationToken.None).ConfigureAwait(false);
                }
                catch (DatabaseException e)
                {
                    // The restore is in place. The former database keeps a staging database's name and mark, so the next
                    // restore into this destination on this machine drops it once this process is gone (DropAbandonedStagingAsync).
                    WarnLeftover(trash, "the replaced database", e);
                }
            }
        }
        _committed = true;
    }

    /// <summary>
    /// Tests only: runs with the staging database's name right before the swap, where another session (a restore of the
    /// same destination from another host, the dump's own SQL, an administrator) could drop or rename a database; a race
    /// there cannot be timed. Flows with the test's async context, so parallel tests are not touched.
    /// </summary>
    internal static readonly AsyncLocal<Func<string, Task>?> BeforeSwapForTests = new();

    /// <summary>
    /// What a failed swap found that explains it, each followed by "; " (empty when none of it: a lock wait, a session on
    /// the staging database, then the server's error says why).
    /// </summary>
    string WhyNotSwapped(SwapState state, string staging, string database)
    {
        var why = new StringBuilder();
        switch (state.NameOf(_stagingOid))
        {
            case null:
                why.Append(CultureInfo.InvariantCulture, $"the staging database {staging} was dropped by another session before the swap; ");
                break;
            case var name when name != staging:
                why.Append(CultureInfo.InvariantCulture, $"the staging database {staging} was renamed to {name} by another session before the swap; ");
                break;
        }
        if (_destinationOid is { } oid)
        {
            switch (state.NameOf(oid))
            {
                case null:
                    why.Append(CultureInfo.InvariantCulture, $"the destination database {database} was dropped during the restore (by the dump's SQL or another session); ");
                    break;
                case var name when name != database:
                    why.Append(CultureInfo.InvariantCulture, $"the destination database {database} was renamed to {name} during the restore (by the dump's SQL or another session), and is left as it is; ");
                    break;
            }
        }
        if (state.OidOf(database) is { } now && now != _destinationOid && now != _stagingOid)
        {
            why.Append(CultureInfo.InvariantCulture, $"a database named {database} that is not the one seen when the restore began was created during the restore; ");
        }
        return why.ToString();
    }

    /// <summary>The databases a failed swap found, by oid and name (lines "oid|name").</summary>
    sealed class SwapState
    {
        readonly Dictionary<uint, string> _names = [];

        public static SwapState Read(string lines)
        {
            var state = new SwapState();
            foreach (var line in lines.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var bar = line.IndexOf('|', StringComparison.Ordinal);
                if (bar > 0 && uint.TryParse(line.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture, out var oid))
                {
                    state._names[oid] = line[(bar + 1)..].TrimEnd('\r');
                }
            }
            return state;
        }

        public string? NameOf(uint oid) => _names.GetValueOrDefault(oid);

        public uint? OidOf(string name)
        {
            foreach (var (oid, found) in _names)
            {
                if (found == name)
                {
                    return oid;
                }
            }
            return null;
        }
    }

    /// <summary>lock_timeout's largest value (INT_MAX milliseconds); a longer destination.lock_wait_timeout waits this long.</summary>
    const int MaxLockTimeoutSeconds = int.MaxValue / 1000;

    /// <summary>destination.lock_wait_timeout: seconds the swap's renames wait for a lock before the swap fails and changes nothing.</summary>
    public int LockWaitSeconds { get; init; } = MysqlSwap.DefaultLockWaitSeconds;

    /// <summary>
    /// The name the replaced destination takes until it is dropped: a staging database's name (dropped as abandoned by
    /// a later restore should this process die before it drops it), never the staging database's own.
    /// </summary>
    static string TrashName(string database, string staging)
    {
        var prefix = StagingPrefix(database);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var name = Leftovers.StagingName(prefix, Environment.ProcessId, now);
        return IsSameDatabase(name, staging) ? Leftovers.StagingName(prefix, Environment.ProcessId, now + 1) : name;
    }

    /// <summary>
    /// For a restore on several connections (<paramref name="jobs"/> &gt; 1): creates the staging database the sessions
    /// restore into and returns its URI; <see cref="SwapAsync"/> puts it in place. Needs --wipe database or a destination
    /// database that does not exist yet: all or nothing across several connections is the staging database's swap, and
    /// a database that exists is replaced only when the user said so. Refused (a config error, exit 2) before anything is done.
    /// </summary>
    internal async Task<DatabaseUri> PrepareStagingAsync(int jobs, CancellationToken cancellationToken)
    {
        var exists = await DestinationExistsAsync(cancellationToken).ConfigureAwait(false);
        await RefusePrivilegedRoleAsync(exists, cancellationToken).ConfigureAwait(false);
        if (_wipe == WipeMode.Schemas)
        {
            throw new ConfigException($"--jobs {jobs} restores on several connections into a staging database that replaces the destination on success; "
                + "--wipe schemas drops schemas inside one transaction on one connection: use --wipe database, or --jobs 1");
        }
        if (exists && _wipe != WipeMode.Database)
        {
            throw new ConfigException($"{_uri.Describe()} exists: --jobs {jobs} restores on several connections into a staging database that is swapped in "
                + "only on success, which replaces the destination: pass --wipe database (it asks for confirmation), restore into a database that does not exist yet, or use --jobs 1");
        }
        if (!exists && !_createDatabase && _wipe != WipeMode.Database)
        {
            throw new DatabaseException($"{_uri.Describe()} does not exist (create it, or leave destination.create_database on)");
        }
        await DropAbandonedStagingAsync(cancellationToken).ConfigureAwait(false);
        _dropOnSwap = exists;
        return _uri.WithDatabase(await CreateStagingAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Creates a staging database and only then records it as this restore's, to swap in or to drop on failure: a name
    /// whose CREATE DATABASE failed (it exists: another restore's staging database, or the destination itself) is not
    /// ours to drop. Its name fits PostgreSQL's limit whole (<see cref="StagingPrefix"/>), so the server stores it as
    /// given and never as the destination's.
    /// </summary>
    async Task<string> CreateStagingAsync(CancellationToken cancellationToken)
    {
        var name = Leftovers.NewStagingName(StagingPrefix(_uri.Database!));
        if (IsSameDatabase(name, _uri.Database!))
        {
            throw new ConfigException($"the staging database of {_uri.Describe()} would be named {name}, which PostgreSQL takes for the destination itself: restore into a database of another name");
        }
        await _tools.QueryAsync(Maintenance, $"CREATE DATABASE {Identifiers.Delimited(name)}", cancellationToken).ConfigureAwait(false);
        _stagingDatabase = name;
        // Read back by oid, not name, from here on: the swap renames this database only, and tells a staging database
        // dropped by someone else from one that was swapped in. The mark lets a later restore on this machine drop it,
        // should this process be killed, and keeps a restore on another machine from taking it for abandoned.
        _stagingOid = await OidAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new DatabaseException($"staging database {name} on {_uri.Describe()} was dropped by another session right after it was created");
        // No one else connects while the restore runs (the owner, the restoring role, still does): a session of another
        // role on it made the failed restore's DROP ... WITH (FORCE) fail, and kept the staging database. The swap gives
        // PUBLIC its CONNECT back as the replaced database had it.
        await _tools.QueryAsync(Maintenance, $"COMMENT ON DATABASE {Identifiers.Delimited(name)} IS {Literal(Leftovers.StagingMark(Environment.ProcessId))}; "
            + $"REVOKE CONNECT ON DATABASE {Identifiers.Delimited(name)} FROM PUBLIC", cancellationToken).ConfigureAwait(false);
        return name;
    }

    /// <summary>Starts a psql session on <paramref name="target"/> whose rows count toward this restore's.</summary>
    /// <param name="begin">The session opens its transaction and reads its id (<see cref="PsqlSession.StartAsync"/>).</param>
    internal async Task<PsqlSession> StartSessionAsync(DatabaseUri target, CancellationToken cancellationToken, bool begin = false)
    {
        var session = await PsqlSession.StartAsync(_tools, target, [_uri.Password, .. _afterRestore.Secrets], FailureContext,
            stepsHoldSecrets: _afterRestore.Secrets.Count > 0, cancellationToken, begin).ConfigureAwait(false);
        lock (_sessions)
        {
            _sessions.Add(session);
        }
        return session;
    }

    public async ValueTask DisposeAsync()
    {
        // Not committed: killing psql before it read the end of its input drops the connection, and the server rolls the
        // transaction back.
        List<PsqlSession> sessions;
        lock (_sessions)
        {
            sessions = [.. _sessions];
        }
        foreach (var session in sessions)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
        if (!_committed && _stagingDatabase is { } staging && !IsSameDatabase(staging, _uri.Database!))
        {
            try
            {
                await _tools.QueryAsync(Maintenance, $"DROP DATABASE IF EXISTS {Identifiers.Delimited(staging)} WITH (FORCE)", CancellationToken.None).ConfigureAwait(false);
            }
            catch (DatabaseException e)
            {
                // The restore's own error is what the user needs to see; the leftover is said beside it.
                WarnLeftover(staging, "the staging database", e);
            }
        }
        if (!_committed && _createdDatabase && !_mayHaveCommitted)
        {
            // WITH (FORCE): the restore's own backend may still run a statement psql was killed in.
            try
            {
                await _tools.QueryAsync(Maintenance, $"DROP DATABASE IF EXISTS {Identifiers.Delimited(_uri.Database!)} WITH (FORCE)", CancellationToken.None).ConfigureAwait(false);
            }
            catch (DatabaseException e)
            {
                // The failure's own message says the database is dropped again: say that it was not.
                ExitNotices.Write($"replica: {_uri.Describe()}, which the failed restore created, could not be dropped again: drop it by hand: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Says on standard error (the CLI's notice writer) that <paramref name="name"/> could not be dropped and is left on the
    /// server: found by review, a staging database kept by another role's session was left without a word.
    /// </summary>
    void WarnLeftover(string name, string what, DatabaseException e) =>
        ExitNotices.Write($"replica: warning: {what} {name} on {_uri.Describe()} could not be dropped and is left on the server; a later restore into "
            + $"{_uri.Database} on this machine drops it once this process has ended, or drop it by hand: {e.Message}");

    /// <summary>PostgreSQL keeps the first 63 bytes of a longer name (NAMEDATALEN - 1), cut between characters.</summary>
    const int MaxNameBytes = 63;

    const string StagingInfix = "_replica_";

    /// <summary>
    /// The start of the names of <paramref name="database"/>'s staging databases, which abandoned ones are found by:
    /// <c>&lt;db&gt;_replica_</c>, the name cut between characters to 33 bytes of UTF-8, so that with the process id and the
    /// time (<see cref="Leftovers.MaxStagingSuffixLength"/>) every staging name fits PostgreSQL's 63 bytes whole. (Cut to
    /// 40 characters, a longer one lost its time to the server's truncation, and with a destination name of 63 bytes
    /// in fewer characters became the destination's own name.)
    /// </summary>
    internal static string StagingPrefix(string database) =>
        Leftovers.CutToUtf8Bytes(database, MaxNameBytes - StagingInfix.Length - Leftovers.MaxStagingSuffixLength) + StagingInfix;

    /// <summary>
    /// Whether PostgreSQL takes <paramref name="name"/> for <paramref name="database"/>: the server truncates a name to 63
    /// bytes, so two names that agree in those are one (read in UTF-8, the restore's client encoding).
    /// </summary>
    internal static bool IsSameDatabase(string name, string database) =>
        string.Equals(Leftovers.CutToUtf8Bytes(name, MaxNameBytes), Leftovers.CutToUtf8Bytes(database, MaxNameBytes), StringComparison.Ordinal);

    /// <summary>A SQL identifier, quoted (https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS).</summary>

    internal static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}

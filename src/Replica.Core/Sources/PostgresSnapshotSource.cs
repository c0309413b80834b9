using System.Globalization;
using System.Runtime.CompilerServices;
using Npgsql;
using Replica.Catalog;
using Replica.Clients;

namespace Replica.Sources;

/// <summary>
/// A live PostgreSQL database dumped in parts from one exported snapshot, so that up to N tables are read at once
/// (issue 10 §3, for <c>replica dump --jobs N</c>). One connection opens a REPEATABLE READ, READ ONLY transaction and
/// exports its snapshot (https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION);
/// pg_dump --snapshot writes the pre-data section, the rest of the data section (sequence values, large objects) and the
/// post-data section; each leaf table's rows come from COPY TO STDOUT on one of N connections that imported the snapshot
/// (SET TRANSACTION SNAPSHOT). Every part is what pg_dump's plain format has for it, so the rewriter reads each unchanged,
/// and the parts concatenated in order restore like pg_dump's output of the same snapshot.
/// </summary>
/// <remarks>
/// Connections go through Npgsql (already the catalog's client): COPY rows arrive as raw bytes on one long-lived
/// connection per job, with no process per table, and the password stays in the connection string, never in an
/// argument. pg_dump gets it through its environment, as <see cref="PgDumpSource"/> does.
/// Nothing is written to the server (no temporary tables, read-only transactions only), so a read-only role and a hot
/// standby work. Sessions set pg_dump's own settings (synchronize_seqscans off, so rows come in the same order on every
/// run; extra_float_digits 3, so floats are exact; no timeouts, but a bounded lock wait (<see cref="LockWaitTimeout"/>);
/// row_security off, so row-level security fails the dump as it fails pg_dump rather than silently dropping rows; an
/// empty search_path).
/// Tables the source is unsure about (unlogged ones, which a standby cannot read; those under a filter it may read
/// differently from pg_dump) are left to pg_dump's data section, which dumps every table not named here: when in doubt,
/// pg_dump decides. That part names each copied table in an --exclude-table-data argument, so tens of thousands of
/// tables may reach the system's limit on a command line.
/// </remarks>
public sealed class PostgresSnapshotSource : IAsyncDisposable
{
    /// <summary>
    /// pg_dump's session settings (setup_connection in pg_dump.c) on a server of <paramref name="serverVersion"/>, for
    /// identical rows and no timeouts. An empty search_path (pg_dump's set_config('search_path', '', false); a SET here, as
    /// a query before BEGIN in the same batch would start the snapshot's transaction) makes COPY write reg* values (regclass, regproc, ...)
    /// schema-qualified, as pg_dump's COPY does, so the restore (whose search_path pg_dump's preamble empties too) reads
    /// them back; every name in the source's own SQL is qualified or a pg_catalog one (always searched first).
    /// transaction_timeout (PostgreSQL 17) would end the exporting session's transaction, and the snapshot with it, when
    /// a role or database sets it; a server before 17 refuses the unknown setting, so it is set from 17 on only.
    /// </summary>
    internal static string SessionSettings(Version serverVersion) =>
        "SET synchronize_seqscans = off; SET extra_float_digits = 3; SET DateStyle = ISO; SET IntervalStyle = postgres; "
        + "SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0; "
        + (serverVersion.Major >= 17 ? "SET transaction_timeout = 0; " : "")
        + "SET row_security = off; SET search_path = ''";

    /// <summary>
    /// How long a pg_dump part, or a session that imported the snapshot, waits for a lock. The exporting session holds
    /// ACCESS SHARE on every table copied here until the dump ends, so a lock the others wait for on those tables is
    /// queued behind DDL (ALTER TABLE, TRUNCATE, DROP) that itself waits for the exporting session: it is never granted,
    /// no deadlock is detected, and the application's queries on the table queue behind that DDL meanwhile. pg_dump -j
    /// has its workers lock with NOWAIT for this reason (https://www.postgresql.org/docs/current/app-pgdump.html, -j);
    /// the COPY sessions do too, and the bound here leaves a short lock on a relation the exporter does not hold (a
    /// partitioned parent, a view, a sequence) time to end.
    /// </summary>
    internal static readonly TimeSpan LockWaitTimeout = TimeSpan.FromSeconds(10);

    static string LockWaitMilliseconds => ((long)LockWaitTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    const string BeginReadOnly = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

    readonly DatabaseUri _uri;
    SourceOptions _options;
    readonly PostgresTools _tools;
    readonly int _jobs;
    readonly SemaphoreSlim _slots;
    readonly Stack<NpgsqlConnection> _idle = new();
    // Second connections of tables read in several statements (TableCopyStream), idle; guarded by _idle's lock.
    readonly Stack<NpgsqlConnection> _helpers = new();
    readonly List<NpgsqlConnection> _open = [];
    NpgsqlConnection? _exporter;

    /// <param name="uri">The database.</param>
    /// <param name="options">Filters, as pg_dump's; the data format must be COPY.</param>
    /// <param name="tools">pg_dump.</param>
    /// <param name="jobs">How many tables may be read at once (connections besides the exporting one).</param>
    public PostgresSnapshotSource(DatabaseUri uri, SourceOptions options, PostgresTools tools, int jobs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(jobs, 1);
        _uri = uri;
        _options = options;
        _tools = tools;
        _jobs = jobs;
        _slots = new SemaphoreSlim(jobs, jobs);
    }

    public string Description => $"snapshot of {_uri} ({_jobs.ToString(CultureInfo.InvariantCulture)} jobs)";

    /// <summary>The exported snapshot's name, after <see cref="OpenAsync"/>.</summary>
    public string? SnapshotId { get; private set; }

    /// <summary>The leaf tables whose rows are copied, largest first, after <see cref="OpenAsync"/>.</summary>
    public IReadOnlyList<SnapshotTable> Tables { get; private set; } = [];

    /// <summary>
    /// pg_dump's \restrict key (pg_dump 17.6, 16.10, 15.14 and later); null lets each pg_dump pick a random one, which makes
    /// two dumps of the same data differ in those lines. A fixed key makes the parts byte-identical run to run.
    /// </summary>
    public string? RestrictKey { get; init; }

    /// <summary>
    /// Checks pg_dump against the server, exports the snapshot and lists the tables in it. The snapshot lives until this
    /// source is disposed; every part is read from it.
    /// </summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (_exporter is not null)
        {
            throw new InvalidOperationException("the snapshot was already exported");
        }
        if (_options.DataFormat != DataFormat.Copy)
        {
            throw new ConfigException("a dump in parts (--jobs above 1) writes COPY blocks; data_format: inserts needs --jobs 1");
        }
        await _tools.CheckPgDumpAsync(_uri, cancellationToken).ConfigureAwait(false);
        _exporter = await PostgresCatalog.OpenAsync(_uri, cancellationToken, longRunning: true).ConfigureAwait(false);
        try
        {
            // lock_timeout stays 0 here, as in pg_dump: a lock held now (a migration running) ends on its own.
            await ExecuteAsync(_exporter, SessionSettings(_exporter.PostgreSqlVersion) + "; " + BeginReadOnly, cancellationToken).ConfigureAwait(false);
            await using (var export = new NpgsqlCommand("SELECT pg_export_snapshot()", _exporter))
            {
                SnapshotId = (string?)await export.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            }
            // The partitions and children of excluded tables, as this snapshot has them: neither copied nor in pg_dump's parts.
            if (_options.ExcludeTables.Count + _options.ExcludeTableData.Count > 0)
            {
                await using var children = new NpgsqlCommand(ExcludedChildren.Sql, _exporter);
                var json = (string)(await children.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                _options = ExcludedChildren.Add(_options, ExcludedChildren.Parse(json));
            }
            Tables = await ListTablesAsync(_exporter, cancellationToken).ConfigureAwait(false);
            _spare = await SpareConnectionsAsync(_exporter, cancellationToken).ConfigureAwait(false);
            // As pg_dump does: from here on no table can be dropped or altered under the parts still to come.
            foreach (var batch in Tables.Chunk(500))
            {
                await ExecuteAsync(_exporter, $"LOCK TABLE {string.Join(", ", batch.Select(t => t.QualifiedName))} IN ACCESS SHARE MODE",
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (NpgsqlException e)
        {
            throw new DatabaseException($"exporting a snapshot of {_uri.Describe()} failed: {e.Message}", e);
        }
    }

    // How many more connections the role may open now (its CONNECTION LIMIT, the database's, the server's
    // max_connections), as seen once the snapshot is exported; null: no limit applies.
    int? _spare;

    // Helpers opened (the closure's second, COPY connections run ahead), never given back to the count: a closed one's
    // backend may outlive it for a moment. Whether the pg_dump parts were started early. Guarded by _idle's lock.
    int _helpersOpened;
    bool _startedEarly;

    /// <summary>
    /// Whether <paramref name="connections"/> more connections than the exporter's fit the limits that applied when the
    /// snapshot was exported. The extra connections a subset opens only to overlap its work (the closure's second
    /// connection, a table's COPY run ahead, pg_dumps started early) are opened only where they fit, so a role with a
    /// tight CONNECTION LIMIT still dumps, one statement after another. Other sessions may take the room meanwhile.
    /// </summary>
    bool RoomFor(int connections) => _spare is not int spare || spare >= connections;

    /// <summary>
    /// Whether one more helper fits, counting it if so: a connection that only overlaps work (the closure's second, then
    /// a table's next COPY run ahead) and stays open on a shelf until the dump ends. Beside the helpers, the dump needs
    /// anyway a COPY connection per job (they stay open too) and the pg_dumps of the data section's rest and the
    /// post-data: both at once when started early (<see cref="StartSchemaParts"/>) or with two jobs or more (each in its
    /// turn, but two parts run at once), else one.
    /// </summary>
    public bool TryReserveHelper()
    {
        lock (_idle)
        {
            if (!RoomFor(_jobs + _helpersOpened + 1 + (_startedEarly ? 2 : Math.Min(_jobs, 2))))
            {
                return false;
            }
            _helpersOpened++;
            return true;
        }
    }

    /// <summary>The connections left under the role's, the database's and the server's limits; null when none applies.</summary>
    static async Task<int?> SpareConnectionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // The limits are the login role's (session_user; ALTER ROLE ... SET role may make current_user another), and a
        // superuser is held to none of the three (the reserved slots are its own). pg_stat_activity shows every
        // session's role and database, but to a role that is not the session's (nor pg_read_all_stats) its backend_type
        // is NULL: such a row counts too (a background worker of another role with it, which errs on the safe side).
        const string Sql = """
            WITH sessions AS (
                SELECT a.usesysid, a.datid FROM pg_stat_activity a
                WHERE a.usesysid IS NOT NULL AND a.datid IS NOT NULL AND (a.backend_type = 'client backend' OR a.backend_type IS NULL))
            SELECT r.rolsuper,
                   r.rolconnlimit, (SELECT count(*) FROM sessions s WHERE s.usesysid = r.oid),
                   d.datconnlimit, (SELECT count(*) FROM sessions s WHERE s.datid = d.oid),
                   current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
                       - coalesce(current_setting('reserved_connections', true)::int, 0),
                   (SELECT count(*) FROM sessions)
            FROM pg_roles r, pg_database d
            WHERE r.rolname = session_user AND d.datname = current_database()
            """;
        await using var command = new NpgsqlCommand(Sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false) || reader.GetBoolean(0))
        {
            return null;
        }
        int? spare = null;
        foreach (var (limit, used) in new[] { (reader.GetInt32(1), reader.GetInt64(2)), (reader.GetInt32(3), reader.GetInt64(4)), (reader.GetInt32(5), reader.GetInt64(6)) })
        {
            if (limit >= 0)
            {
                spare = (int)Math.Min(spare ?? int.MaxValue, Math.Max(0, limit - used));
            }
        }
        return spare;
    }

    /// <summary>
    /// The parts in restore order: pre-data, one part per table (largest first), other data, post-data. A table part
    /// is yielded once one of the N connections is free, i.e. when fewer than N table parts are undisposed: read up to N
    /// parts at once, and dispose each when done, or the next table waits for ever.
    /// </summary>
    public async IAsyncEnumerable<SnapshotPart> ReadPartsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var snapshot = SnapshotId ?? throw new InvalidOperationException("OpenAsync exports the snapshot first");
        yield return TakeSchemaPart(SnapshotPartKind.PreData);
        foreach (var table in Tables)
        {
            yield return await TablePartAsync(table, snapshot, cancellationToken).ConfigureAwait(false);
        }
        yield return TakeSchemaPart(SnapshotPartKind.OtherData);
        yield return TakeSchemaPart(SnapshotPartKind.PostData);
    }

    // pg_dump parts started ahead by StartSchemaParts and not yet handed out, by kind; guarded by _idle's lock.
    readonly Dictionary<SnapshotPartKind, SnapshotPart> _started = [];

    /// <summary>
    /// Starts the pg_dump parts (pre-data, the rest of the data section, post-data) now rather than each in its turn, so
    /// that their pg_dumps read the catalog while something else runs (a subset's closure, then its tables) and each is
    /// ready when its turn comes: a pg_dump blocks once its pipe is full, so this holds no more than a pipe's bytes.
    /// Three more connections are open meanwhile: only when they fit beside the closure's two, and two of them beside a
    /// COPY connection per job and the closure's second (a helper then), else each starts in its turn
    /// (<see cref="TryReserveHelper"/>). The parts not read are ended with the source.
    /// </summary>
    public void StartSchemaParts()
    {
        lock (_idle)
        {
            if (!RoomFor(Math.Max(5, _jobs + 3)))
            {
                return;
            }
            _startedEarly = true;
        }
        foreach (var kind in new[] { SnapshotPartKind.PreData, SnapshotPartKind.OtherData, SnapshotPartKind.PostData })
        {
            lock (_idle)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (!_started.ContainsKey(kind))
                {
                    _started[kind] = SchemaPart(kind);
                }
            }
        }
    }

    /// <summary>A pg_dump part, the one started ahead if there is one.</summary>
    SnapshotPart TakeSchemaPart(SnapshotPartKind kind)
    {
        lock (_idle)
        {
            if (_started.Remove(kind, out var started))
            {
                return started;
            }
        }
        return SchemaPart(kind);
    }

    SnapshotPart SchemaPart(SnapshotPartKind kind) => kind switch
    {
        SnapshotPartKind.PreData => PgDumpPart(kind, ["--section=pre-data"]),
        // Every table copied here is left out by an exact, quoted pattern; whatever else pg_dump's data section has stays.
        SnapshotPartKind.OtherData => PgDumpPart(kind, ["--section=data", .. Tables.Select(t => "--exclude-table-data=" + Pattern(t))]),
        _ => PgDumpPart(kind, ["--section=post-data"]),
    };

    SnapshotPart PgDumpPart(SnapshotPartKind kind, IEnumerable<string> section)
    {
        // The same filters and connection as a plain dump (PgDumpSource), plus the snapshot and the section.
        List<string> arguments = [.. new PgDumpSource(_uri, _options, _tools).Arguments(), "--snapshot=" + SnapshotId,
            "--lock-wait-timeout=" + LockWaitMilliseconds, .. section];
        if (RestrictKey is not null)
        {
            arguments.Add("--restrict-key=" + RestrictKey);
        }
        var process = ToolProcess.Start(_tools.PgDump, arguments, _uri.LibpqEnvironment(), _tools.ChildEnvironment, [_uri.Password],
            context: $"dumping the {kind} of {_uri.Describe()}", explain: ExplainLockWait);
        return new SnapshotPart(kind, null, process.Output, async _ =>
        {
            await process.DisposeAsync().ConfigureAwait(false);
        });
    }

    /// <summary>What a pg_dump part's LOCK TABLE that ran out of <see cref="LockWaitTimeout"/> means.</summary>
    static string? ExplainLockWait(string error) =>
        error.Contains("Query was: LOCK TABLE", StringComparison.Ordinal)
            ? $"another session is waiting for a conflicting lock on a table that LOCK TABLE names (DDL such as ALTER TABLE during the dump, queued "
              + $"behind the dump's own lock), so the dump stopped after {LockWaitTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s "
              + "rather than block that session and the table for ever; dump again once the DDL is done"
            : null;

    async Task<SnapshotPart> TablePartAsync(SnapshotTable table, string snapshot, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlConnection? connection = null;
        try
        {
            lock (_idle)
            {
                _idle.TryPop(out connection);
            }
            connection ??= await OpenImportingAsync(snapshot, cancellationToken).ConfigureAwait(false);
            var statements = (RowQueries?.Invoke(table) ?? [table.CopyToStatement]).GetEnumerator();
            if (!statements.MoveNext())
            {
                statements.Dispose();
                throw new InvalidOperationException($"no COPY statement for {table.QualifiedName}");
            }
            var firstStatement = statements.Current;
            // A table read in several statements (a subset's key batches) runs each next one ahead on a second connection.
            TableCopyStream.Helper? ahead = null;
            if (statements.MoveNext())
            {
                var rest = Prepend(statements.Current, statements);
                statements = rest;
                if (Switches.SubsetCopyAhead && await TakeHelperAsync(snapshot, cancellationToken).ConfigureAwait(false) is { } second)
                {
                    ahead = new TableCopyStream.Helper(second, (helper, token) => LockAsync(helper, table, token), ReleaseHelperAsync);
                }
            }
            try
            {
                await LockAsync(connection, table, cancellationToken).ConfigureAwait(false);
                var copy = await connection.BeginTextExportAsync(firstStatement, cancellationToken).ConfigureAwait(false);
                var owned = connection;
                return new SnapshotPart(SnapshotPartKind.TableData, table, new TableCopyStream(table, copy, _uri.Describe(), owned, statements, ahead),
                    complete => ReleaseAsync(owned, complete));
            }
            catch
            {
                statements.Dispose();
                if (ahead is not null)
                {
                    await ReleaseHelperAsync(ahead.Connection, clean: false).ConfigureAwait(false);
                }
                throw;
            }
        }
        catch (Exception e)
        {
            if (connection is not null)
            {
                await ReleaseAsync(connection, complete: false).ConfigureAwait(false);
            }
            else
            {
                _slots.Release();
            }
            if (e is NpgsqlException)
            {
                throw CopyFailure(table, _uri.Describe(), e);
            }
            throw;
        }
    }

    static IEnumerator<string> Prepend(string first, IEnumerator<string> rest)
    {
        using (rest)
        {
            yield return first;
            while (rest.MoveNext())
            {
                yield return rest.Current;
            }
        }
    }

    /// <summary>
    /// ACCESS SHARE on the table, NOWAIT as pg_dump -j's workers: a lock not granted at once is queued behind DDL waiting
    /// for the exporter (<see cref="LockWaitTimeout"/>).
    /// </summary>
    static Task LockAsync(NpgsqlConnection connection, SnapshotTable table, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, $"LOCK TABLE {table.QualifiedName} IN ACCESS SHARE MODE NOWAIT", cancellationToken);

    /// <summary>What a failure while copying a table's rows says: a lock not granted is DDL waiting behind the dump.</summary>
    internal static DatabaseException CopyFailure(SnapshotTable table, string server, Exception e) =>
        e is PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable }
            ? new DatabaseException($"copying the rows of {table.PrintableName} from {server} failed: another session is waiting "
                + $"for a conflicting lock on {table.PrintableName} (DDL such as ALTER TABLE during the dump, queued behind the dump's own lock); "
                + "the dump stops rather than block that session and the table for ever; dump again once the DDL is done", e)
            : new DatabaseException($"copying the rows of {table.PrintableName} from {server} failed: {e.Message}", e);

    /// <summary>
    /// A second connection inside the snapshot for a table read in several statements: an idle one, else a new one if it
    /// fits (<see cref="TryReserveHelper"/>); null: the statements run one after another.
    /// </summary>
    async Task<NpgsqlConnection?> TakeHelperAsync(string snapshot, CancellationToken cancellationToken)
    {
        lock (_idle)
        {
            if (_helpers.TryPop(out var idle))
            {
                return idle;
            }
        }
        return TryReserveHelper() ? await OpenImportingAsync(snapshot, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <summary>A helper whose statements all ended serves the next table; one left mid-COPY is closed.</summary>
    ValueTask ReleaseHelperAsync(NpgsqlConnection connection, bool clean) => ShelveOrCloseAsync(connection, clean, _helpers);

    /// <summary>Puts a connection whose COPY ended on <paramref name="shelf"/> for the next table; closes one left mid-COPY.</summary>
    async ValueTask ShelveOrCloseAsync(NpgsqlConnection connection, bool complete, Stack<NpgsqlConnection> shelf)
    {
        lock (_idle)
        {
            if (complete && !_disposed && connection.FullState == System.Data.ConnectionState.Open)
            {
                shelf.Push(connection);
                return;
            }
        }
        lock (_open)
        {
            _open.Remove(connection);
        }
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Per table, the COPY ... TO STDOUT statements whose rows (in order) are the table's data, for a subset; null (or a
    /// null answer) copies every row. Each statement reads the table's columns in <see cref="SnapshotTable.ColumnList"/>'s order.
    /// </summary>
    public Func<SnapshotTable, IEnumerable<string>?>? RowQueries { get; set; }

    /// <summary>A connection of its own inside the exported snapshot (the subset's key lookups); closed with the source.</summary>
    public Task<NpgsqlConnection> OpenSnapshotConnectionAsync(CancellationToken cancellationToken) =>
        OpenImportingAsync(SnapshotId ?? throw new InvalidOperationException("OpenAsync exports the snapshot first"), cancellationToken);

    /// <summary>
    /// A connection of <see cref="OpenSnapshotConnectionAsync"/> done with (the subset's closure): with the session's empty
    /// search_path again, it copies tables, the first as a table's connection, the next as a helper (TableCopyStream).
    /// </summary>
    public async Task GiveBackAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, "SET search_path = ''", cancellationToken).ConfigureAwait(false);
        lock (_idle)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            (_idle.Count == 0 ? _idle : _helpers).Push(connection);
        }
    }

    /// <summary>A connection whose transaction sees the exported snapshot.</summary>
    async Task<NpgsqlConnection> OpenImportingAsync(string snapshot, CancellationToken cancellationToken)
    {
        var connection = await PostgresCatalog.OpenAsync(_uri, cancellationToken, longRunning: true).ConfigureAwait(false);
        lock (_open)
        {
            _open.Add(connection);
        }
        // The snapshot's name comes from the server (e.g. 00000003-0000001B-1), quoted all the same.
        await ExecuteAsync(connection, $"{SessionSettings(connection.PostgreSqlVersion)}; SET lock_timeout = {LockWaitMilliseconds}; {BeginReadOnly}; "
            + $"SET TRANSACTION SNAPSHOT '{snapshot.Replace("'", "''", StringComparison.Ordinal)}'", cancellationToken).ConfigureAwait(false);
        return connection;
    }

    /// <summary>A connection whose COPY ended serves the next table; one left mid-COPY (cancelled) is closed.</summary>
    async ValueTask ReleaseAsync(NpgsqlConnection connection, bool complete)
    {
        try
        {
            await ShelveOrCloseAsync(connection, complete, _idle).ConfigureAwait(false);
        }
        finally
        {
            if (!_disposed)
            {
                _slots.Release();
            }
        }
    }

    /// <summary>
    /// Leaf tables of the snapshot whose data a plain pg_dump with the same filters would write: ordinary tables and
    /// partitions, permanent, not an extension's, largest first (ties by name, so the order is the same every run).
    /// </summary>
    async Task<IReadOnlyList<SnapshotTable>> ListTablesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname),
                   coalesce((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
                             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''), ''),
                   pg_catalog.pg_relation_size(c.oid),
                   coalesce((SELECT array_agg(an.nspname ORDER BY p.n) FROM pg_catalog.pg_partition_ancestors(c.oid) WITH ORDINALITY p(relid, n)
                             JOIN pg_catalog.pg_class ac ON ac.oid = p.relid JOIN pg_catalog.pg_namespace an ON an.oid = ac.relnamespace
                             WHERE c.relispartition AND p.relid <> c.oid), '{}'),
                   coalesce((SELECT array_agg(ac.relname ORDER BY p.n) FROM pg_catalog.pg_partition_ancestors(c.oid) WITH ORDINALITY p(relid, n)
                             JOIN pg_catalog.pg_class ac ON ac.oid = p.relid
                             WHERE c.relispartition AND p.relid <> c.oid), '{}'),
                   coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
                             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''), '{}')
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND c.relpersistence = 'p'
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                              WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')
            ORDER BY pg_catalog.pg_relation_size(c.oid) DESC, format('%I.%I', n.nspname, c.relname) COLLATE "C"
            """;
        var filter = new TableFilter(_options);
        var tables = new List<SnapshotTable>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var ancestorSchemas = reader.GetFieldValue<string[]>(5);
            var ancestorNames = reader.GetFieldValue<string[]>(6);
            var table = new SnapshotTable(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4))
            {
                Columns = reader.GetFieldValue<string[]>(7),
                // Ancestors come nearest first: the last is the partitioned table at the top of the tree.
                PartitionRoot = ancestorNames.Length == 0 ? null : $"{ancestorSchemas[^1]}.{ancestorNames[^1]}",
            };
            if (filter.Copies(table.Schema, table.Name, ancestorSchemas, ancestorNames))
            {
                tables.Add(table);
            }
        }
        return tables;
    }

    /// <summary>An exact pg_dump pattern for one table: both parts double-quoted, inner quotes doubled (psql's pattern rules).</summary>
    static string Pattern(SnapshotTable table) => $"{Identifiers.Delimited(table.Schema)}.{Identifiers.Delimited(table.Name)}";

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    bool _disposed;

    /// <summary>Closes every connection, which ends the snapshot; parts still being read then fail.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        lock (_idle)
        {
            _disposed = true;
        }
        List<NpgsqlConnection> open;
        lock (_open)
        {
            open = [.. _open];
            _open.Clear();
        }
        foreach (var connection in open)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        List<SnapshotPart> unread;
        lock (_idle)
        {
            unread = [.. _started.Values];
            _started.Clear();
        }
        foreach (var part in unread)
        {
            // Its pg_dump is stopped.
            await part.DisposeAsync().ConfigureAwait(false);
        }
        if (_exporter is not null)
        {
            await _exporter.DisposeAsync().ConfigureAwait(false);
        }
        _slots.Dispose();
    }

    /// <summary>
    /// pg_dump's table filters read cautiously: a table is copied here only when pg_dump surely dumps its rows. A table
    /// left out by mistake is harmless (pg_dump's data section then writes its rows); one copied by mistake is not. So the
    /// exclusions also apply through a partition's ancestors, and the inclusions only to the table's own name.
    /// </summary>
    sealed class TableFilter(SourceOptions options)
    {
        readonly PgDumpPattern[] _tables = [.. options.Tables.Select(PgDumpPattern.Table)];
        readonly PgDumpPattern[] _excludeTables = [.. options.ExcludeTables.Concat(options.ExcludeTableData).Select(PgDumpPattern.Table)];
        readonly PgDumpPattern[] _schemas = [.. options.Schemas.Select(PgDumpPattern.Schema)];
        readonly PgDumpPattern[] _excludeSchemas = [.. options.ExcludeSchemas.Select(PgDumpPattern.Schema)];

        public bool Copies(string schema, string name, string[] ancestorSchemas, string[] ancestorNames)
        {
            // pg_dump: with --table, --schema and --exclude-schema have no effect on the tables it selects.
            if (_tables.Length > 0)
            {
                if (!_tables.Any(p => p.Matches(schema, name)))
                {
                    return false;
                }
            }
            else if ((_schemas.Length > 0 && !_schemas.Any(p => p.MatchesSchema(schema)))
                || _excludeSchemas.Any(p => p.MatchesSchema(schema) || ancestorSchemas.Any(p.MatchesSchema)))
            {
                return false;
            }
            if (_excludeTables.Any(p => p.Matches(schema, name)))
            {
                return false;
            }
            for (var i = 0; i < ancestorNames.Length; i++)
            {
                if (_excludeTables.Any(p => p.Matches(ancestorSchemas[i], ancestorNames[i])))
                {
                    return false;
                }
            }
            return true;
        }
    }
}

using System.Buffers;
using Replica.Lexing;

namespace Replica.Destinations;

/// <summary>
/// Stands between a stored dump and the database client that restores it (psql or mysql), and hands the client only
/// what keeps the restore's promise: all or nothing, and nothing run on this machine. It reads the stream with the lexer,
/// unit by unit, and passes each complete unit on only after checking it, so a refused one never reaches the client:
/// <list type="bullet">
/// <item>psql meta-commands other than those pg_dump writes (\restrict, \unrestrict; \connect to the destination database,
/// which is dropped: the client is connected there already, and a reconnect would end the transaction), and a backslash
/// anywhere else outside quotes (psql runs <c>SELECT 1 \! cmd</c>'s <c>\!</c> too);</item>
/// <item>COPY FROM/TO PROGRAM or a file, COPY FROM stdin in a form pg_dump does not write, text after
/// <c>COPY ... FROM stdin;</c> on its line (psql would run it after the data); a unit that psql does not end on its own
/// (open parentheses, a BEGIN ATOMIC body) is passed as part of its statement, as psql sends it;</item>
/// <item>ROLLBACK, ABORT and PREPARE TRANSACTION, which would end the restore's transaction;</item>
/// <item>MySQL: the mysql client's own commands (system, source, tee, pager ..., or \! and the like), LOAD DATA / LOAD XML and
/// SELECT ... INTO OUTFILE / DUMPFILE; a DELIMITER the client reads otherwise than the lexer (after other text on its line,
/// on the dump's first line behind the session check, spelled DELIMITERX or with Latin-1 letters, a terminator the
/// client cuts or unquotes; <see cref="UnitKind.MisplacedDelimiter"/>, <see cref="UnitKind.BadDelimiter"/>). With
/// --batch --binary-mode (MariaDB 10.11's client, checked) the client runs only DELIMITER and \C of its commands; the
/// named others reach the server as SQL and fail, the short ones (\! \. \u \r \T) stop it ("Unknown command").</item>
/// <item>statements that change the server beyond the destination database: roles and users, their passwords and
/// settings, memberships and grants, other databases, tablespaces, server settings, plugins (ALTER ROLE ... PASSWORD, SET
/// PASSWORD, GRANT role TO role ...; the list, and what passes, is beside
/// <see cref="StatementParser.FindReachBeyondDatabase"/>). What the dump's own functions, triggers, procedures or events
/// run is not seen here: the restore refuses a privileged role, and a dedicated restoring role is the advice.</item>
/// <item>psql restoring in place: pg_dump's setval of a sequence gets an ALTER SEQUENCE ... RESTART before it, so that a
/// rollback undoes it (<see cref="StatementParser.FindSetval"/>).</item>
/// <item>MySQL: what would reach past the staging database into the destination (a name qualified with it, CALL,
/// PREPARE/EXECUTE, CREATE EVENT; <see cref="StatementParser.FindStagingEscape"/>), and what could run a body the dump
/// defined that names it (<see cref="StatementParser.FindCodeRun"/>). Executable comments the server skips are blanked
/// first (<see cref="StatementParser.BlankSkippedConditionals"/>), and each SET is followed by a check that stops the
/// client if the session now splits statements otherwise (<see cref="StatementParser.MySqlSessionCheck"/>).</item>
/// </list>
/// BEGIN, START TRANSACTION, COMMIT and END at the top level (pg_dump writes BEGIN ... COMMIT around large objects) are
/// replaced by their line breaks, so the restore's one transaction (PsqlDestination's BEGIN ... COMMIT) holds for the whole dump
/// and psql's line numbers stay those of the dump.
/// Rows of a COPY block are data, never commands, and pass unchecked but for a NUL byte (psql would read the row's line
/// only up to it and miss the end marker after it). A dollar quote whose tag is longer than the lexer tracks is refused.
/// A refusal is a <see cref="DumpFormatException"/>
/// (exit 3) naming the line and byte offset; the caller then rolls the restore back.
/// </summary>
internal sealed class RestoreGuard : IUnitSink, IDisposable
{
    readonly UnitSplitter _splitter;
    readonly string? _database;
    readonly LeaveOut _leaveOut;
    /// <summary>The DEFINER clauses of the MySQL statement being written without them (destination.no_owner).</summary>
    readonly List<Range> _definers = [];
    readonly bool _mySql;
    readonly IUnitSink? _observer;
    /// <summary>Refuse statements that reach beyond the destination database (false for the config's own steps).</summary>
    readonly bool _refuseReach;
    /// <summary>
    /// psql restores in place (not into a staging database): pg_dump's setval of a sequence gets an ALTER SEQUENCE ...
    /// RESTART before it, so that a rollback undoes it (<see cref="StatementParser.FindSetval"/>).
    /// </summary>
    readonly bool _sequencesInPlace;
    /// <summary>MySQL: the databases a statement must not name (the destination and its staging databases); null for psql.</summary>
    readonly StagedNames? _staged;
    /// <summary>MySQL: the server the client talks to, once connected (which executable comments it runs); null: not known.</summary>
    readonly Func<MySqlServer?>? _mySqlServer;
    /// <summary>The first trigger or routine of the dump whose body names the destination ("the trigger `t` (line 9)"); null until one does.</summary>
    string? _namingBody;
    /// <summary>The tables the dump defined triggers on and its views, up to <see cref="MaxTriggerTables"/> (beyond: every table may have one).</summary>
    readonly HashSet<string> _triggerTables = new(StringComparer.OrdinalIgnoreCase);
    bool _manyTriggerTables;
    Func<string, bool>? _hasTrigger;
    const int MaxTriggerTables = 10_000;
    static readonly byte[] s_sessionCheck = System.Text.Encoding.ASCII.GetBytes(StatementParser.MySqlSessionCheck);
    // The database a MySQL dump names in its CREATE DATABASE / USE (mysqldump --databases); null until one does.
    string? _dumpDatabase;
    /// <summary>The unit being checked.</summary>
    DumpUnit _unit;
    /// <summary>Where the block being checked goes (set for the length of one <see cref="Process"/> or <see cref="Complete"/>).</summary>
    IBufferWriter<byte> _output = null!;

    /// <param name="dialect">The client that reads the stream: psql or mysql.</param>
    /// <param name="database">The destination database: a \connect to it is allowed (and dropped).</param>
    /// <param name="maxUnitBytes">The largest statement held while it is checked (limits.max_row_size).</param>
    /// <param name="observer">Hears every unit that passed (a parallel restore's scan finds COPY blocks in the same pass).</param>
    /// <param name="leaveOut">What is left out (destination.no_owner, no_privileges): statements replaced by their line breaks,
    /// MySQL DEFINER clauses blanked.</param>
    /// <param name="staged">MySQL: the destination and its staging databases, which the dump's statements must not name
    /// (<see cref="StatementParser.FindStagingEscape"/>).</param>
    /// <param name="sequencesInPlace">PostgreSQL restored in place, into a database whose own sequences a dump may set:
    /// each setval pg_dump writes gets an ALTER SEQUENCE ... RESTART before it, on the same line, so that a rollback
    /// undoes it (setval alone is not undone). Only for a sequence the role owns (ALTER SEQUENCE needs it); the lock it
    /// takes holds other sessions' nextval of that sequence until the restore ends.</param>
    public RestoreGuard(SqlDialect dialect, string? database, long maxUnitBytes = 256L << 20, IUnitSink? observer = null, LeaveOut leaveOut = LeaveOut.None,
        StagedNames? staged = null, bool sequencesInPlace = false, Func<MySqlServer?>? mySqlServer = null)
        : this(dialect, database, maxUnitBytes, observer, leaveOut, refuseReach: true)
    {
        _staged = staged;
        _sequencesInPlace = sequencesInPlace;
        _mySqlServer = mySqlServer;
    }

    RestoreGuard(SqlDialect dialect, string? database, long maxUnitBytes, IUnitSink? observer, LeaveOut leaveOut, bool refuseReach)
    {
        _refuseReach = refuseReach;
        _database = database;
        _leaveOut = leaveOut;
        _observer = observer;
        _mySql = dialect == SqlDialect.MySql;
        _splitter = new UnitSplitter(maxUnitBytes, dialect);
    }

    /// <summary>The guard in front of a database client (psql, mysql); null for a file or standard output, which run nothing.</summary>
    public static RestoreGuard? For(IRestoreDestination destination, long maxUnitBytes) => destination switch
    {
        PsqlDestination psql => new RestoreGuard(SqlDialect.PostgreSql, psql.Database, maxUnitBytes, leaveOut: psql.LeaveOut, sequencesInPlace: psql.RestoresInPlace),
        MysqlDestination mysql => new RestoreGuard(SqlDialect.MySql, null, maxUnitBytes, leaveOut: mysql.LeaveOut, staged: mysql.StagedNames,
            mySqlServer: () => mysql.Server),
        _ => null,
    };

    /// <summary>
    /// A config step (destination.after_restore) as the client may get it: checked like a stored dump, so that it runs
    /// nothing on this machine and cannot end the restore's transaction (BEGIN and COMMIT left out, ROLLBACK, meta-commands
    /// and client commands refused), its last statement given its ';'. A refusal is a <see cref="ConfigException"/>
    /// naming the step, raised when the destination is set up, before anything is restored. A step is the config author's
    /// own SQL, not the dump's: it may change roles, grants or the database (GRANT reporting TO app).
    /// </summary>
    public static byte[] CheckStep(SqlStep step, SqlDialect dialect, string? database)
    {
        using var guard = new RestoreGuard(dialect, database, 256L << 20, observer: null, LeaveOut.None, refuseReach: false);
        var passed = new ArrayBufferWriter<byte>();
        try
        {
            guard.Process(System.Text.Encoding.UTF8.GetBytes(step.Sql), passed);
            guard.Complete(passed);
        }
        catch (DumpFormatException ex)
        {
            throw new ConfigException($"{step.Origin}: {ex.Message}");
        }
        // The mysql client runs a statement at its ';' only (a last one without it would run into what follows).
        ReadOnlySpan<byte> text = passed.WrittenSpan.TrimEnd(" \t\r\n"u8);
        return text.Length == 0 || text[^1] == (byte)';' ? [.. text, (byte)'\n'] : [.. text, .. "\n;\n"u8];
    }

    /// <summary>Checks the next block and writes what may pass to <paramref name="output"/>.</summary>
    public void Process(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        _output = output;
        _splitter.Process(data, this);
    }

    /// <summary>Ends the stream: checks the last statement (psql runs one without its ';' at the end of input too).</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        _output = output;
        var statement = _splitter.Complete(this);
        if (_splitter.InCopyData)
        {
            // psql would read what the restore writes after the dump (\unrestrict, the after_restore steps, the COMMIT)
            // as rows, end the COPY at the end of its input and exit 0 without committing (found by review: the restore
            // said it completed, and swapped the rolled-back staging database in for the destination).
            RestoreGuardThrow.Refused("the dump ends inside a COPY block (its end marker \\. is missing), where psql would read what the restore "
                + "writes after the dump, its COMMIT included, as rows", _unit, [], _splitter.Offset);
        }
        if (statement)
        {
            // psql runs a last statement without its ';' at the end of its input; here the COMMIT follows it, so it gets
            // its ';' (on a line of its own, after a possible -- comment).
            Write(output, "\n;"u8);
        }
    }

    // Rows of a COPY block are data: they pass unchecked, up to the end marker, a row cut by the block's end or a row with a
    // NUL byte (which comes as a unit of its own, refused).
    void IUnitSink.Rows(ReadOnlySpan<byte> rows)
    {
        Write(_output, rows);
        _observer?.Rows(rows);
    }

    void IUnitSink.Unit(in DumpUnit unit, ReadOnlySpan<byte> bytes)
    {
        _unit = unit;
        HandleUnit(bytes, _output);
        _observer?.Unit(unit, bytes);
    }

    void HandleUnit(ReadOnlySpan<byte> unit, IBufferWriter<byte> output)
    {
        if (unit.IndexOf((byte)0) is var nul and >= 0)
        {
            // psql reads its input by lines as C strings: it drops what follows a NUL on its line, a quote or comment opener
            // the lexer saw, and would run the next line as a meta-command. In a COPY row the NUL hides the line break, so
            // psql sends the end marker after it as data, ends the COPY at a later "\." the lexer read elsewhere (inside
            // a string) and runs the line after that as a meta-command. (COPY rows with a NUL come here one by one:
            // DumpLexer.CompleteRowsUnchecked stops at them.)
            RestoreGuardThrow.Refused(_unit.Kind is UnitKind.CopyRow or UnitKind.CopyEnd
                ? StatementParser.NulInCopyRowReason
                : "a NUL byte outside COPY data, after which psql drops the rest of its line; pg_dump never writes one", _unit, unit, _unit.Offset + nul);
        }
        if (!_mySql && _unit.Kind is not (UnitKind.CopyRow or UnitKind.CopyEnd) && StatementParser.FindBackslashAfterNonAscii(unit) is var trail and >= 0)
        {
            RestoreGuardThrow.Refused(StatementParser.BackslashAfterNonAsciiReason, _unit, unit, _unit.Offset + trail);
        }
        switch (_unit.Kind)
        {
            case UnitKind.CopyRow or UnitKind.CopyEnd:
                Write(output, unit);
                break;
            case UnitKind.CopyHeaderTail:
            {
                // pg_dump ends the line right after "FROM stdin;". psql reads the data from the next line, then runs whatever
                // else stood on this one.
                var text = unit.IndexOfAnyExcept(" \t\r\n"u8);
                if (text >= 0)
                {
                    RestoreGuardThrow.TextAfterCopyHeader(_unit, unit, _unit.Offset + text);
                }
                Write(output, unit);
                break;
            }
            case UnitKind.MetaCommand:
                HandleMetaCommand(unit, output);
                break;
            case UnitKind.Delimiter:
                if (_mySqlServer is not null && _unit.LineNumber == 1 && !unit[..(int)(_unit.OpenedAt - _unit.Offset)].Contains((byte)'\n'))
                {
                    // MysqlDestination writes its session check on the dump's first line, before it: to the client this
                    // DELIMITER follows a statement on its line, and would swallow what follows up to the next ';'.
                    RestoreGuardThrow.MisplacedDelimiter(_unit, unit);
                }
                Write(output, unit);
                break;
            case UnitKind.BadDelimiter:
                RestoreGuardThrow.BadDelimiter(_unit, unit);
                break;
            case UnitKind.MisplacedDelimiter:
                RestoreGuardThrow.MisplacedDelimiter(_unit, unit);
                break;
            case UnitKind.LongDollarTag:
                RestoreGuardThrow.Refused(StatementParser.LongDollarTagReason, _unit, unit, _unit.OpenedAt);
                break;
            default:
                HandleStatement(unit, output);
                break;
        }
    }

    void HandleMetaCommand(ReadOnlySpan<byte> unit, IBufferWriter<byte> output)
    {
        var command = StatementParser.ClassifyMetaCommand(unit, out var argument, out var at);
        switch (command)
        {
            case MetaCommand.Restrict or MetaCommand.Unrestrict:
                // The session runs restricted under a key of its own (PsqlSession.StartAsync): pg_dump's pair is left out,
                // its \unrestrict would fail on the session's key (line breaks kept: psql's line numbers stay the dump's).
                Write(output, unit[..at]);
                WriteLineBreaks(output, unit[at..]);
                break;
            case MetaCommand.Encoding:
                // A restricted session refuses \encoding too: the same as SQL (psql's \encoding sends this SET), on its line.
                Write(output, unit[..at]);
                Write(output, "SET client_encoding = '"u8);
                Write(output, System.Text.Encoding.ASCII.GetBytes(argument!));
                Write(output, "';"u8);
                WriteLineBreaks(output, unit[at..]);
                break;
            case MetaCommand.Connect when argument == _database:
                WriteLineBreaks(output, unit);
                break;
            case MetaCommand.Connect:
                RestoreGuardThrow.ConnectElsewhere(argument, _unit, unit, _unit.Offset + at);
                break;
            default:
                RestoreGuardThrow.MetaCommand(_unit, unit, _unit.Offset + at);
                break;
        }
    }

    void HandleStatement(ReadOnlySpan<byte> unit, IBufferWriter<byte> output)
    {
        if (_unit.BackslashAt >= 0)
        {
            RestoreGuardThrow.BackslashOutsideQuotes(_mySql, _unit, unit);
        }
        if (_mySql)
        {
            if (StatementParser.FindMySqlClientReadsDifferently(unit, out var differently) is var odd2 and >= 0)
            {
                RestoreGuardThrow.Refused(differently!, _unit, unit, _unit.Offset + odd2);
            }
            if (_mySqlServer?.Invoke() is { } server)
            {
                // Executable comments the server skips are blanked, so that what is checked is what the server runs.
                byte[]? blanked = null;
                if (StatementParser.BlankSkippedConditionals(unit, server, ref blanked, out var odd) is { } unclear)
                {
                    RestoreGuardThrow.Refused(unclear, _unit, unit, _unit.Offset + odd);
                }
                unit = blanked ?? unit;
            }
            var kind = StatementParser.Classify(unit, mySql: true, nonStandardStrings: false, out var word);
            if (StatementParser.RefusalReason(kind, unit[word..]) is { } refused)
            {
                RestoreGuardThrow.Refused(refused, _unit, unit, _unit.Offset + word);
            }
            if (_leaveOut.HasFlag(LeaveOut.Privileges) && StatementParser.IsPrivilegeChange(unit, nonStandardStrings: false, mySql: true))
            {
                WriteLineBreaks(output, unit);
                return;
            }
            RefuseReachBeyondDatabase(unit);
            if (_staged is not null)
            {
                RefuseStagingEscape(unit, _staged);
            }
            if (_refuseReach && StatementParser.FindDatabaseStatement(unit, out var named) is { } database)
            {
                LeaveOutDatabaseStatement(database, unit, named, output);
                return;
            }
            if (_leaveOut.HasFlag(LeaveOut.Owners) && StatementParser.FindDefiners(unit, _definers))
            {
                WriteWithoutDefiners(output, unit);
                return;
            }
            Write(output, unit);
            if (_mySqlServer is not null && !StatementParser.IsMySqlInsert(unit) && unit.EndsWith(_splitter.Delimiter))
            {
                // On the same line (the client's line numbers stay the dump's): stops the client when this statement left
                // the session splitting statements otherwise than the guard did. Not only after a SET: a SET inside a
                // compound statement (BEGIN NOT ATOMIC SET NAMES sjis; END) changes the session too (found by review).
                // INSERTs, the bulk of a dump, go without.
                Write(output, s_sessionCheck);
                Write(output, _splitter.Delimiter);
            }
            return;
        }
        if (StatementParser.FindDollarPsqlReadsDifferently(unit, _unit.NonStandardStrings) is var dollar and >= 0)
        {
            RestoreGuardThrow.Refused(StatementParser.DollarAfterNumberReason, _unit, unit, _unit.Offset + dollar);
        }
        if (_unit.UnclearAt >= 0)
        {
            RestoreGuardThrow.Refused(StatementParser.WordPsqlCountsDifferentlyReason, _unit, unit, _unit.UnclearAt);
        }
        if (!_unit.PsqlSendsAlone)
        {
            // Part of a statement psql sends whole (a multi-action rule's "DO ( ...; ...; )", a BEGIN ATOMIC body).
            // Backslashes were checked above. Should psql send it alone after all, it still gets the checks that hold
            // anywhere: nothing reaching beyond the database, no transaction control but the END that closes a body, no
            // COPY (psql would start none here, nor does the lexer) and no client encoding change.
            RefuseReachBeyondDatabase(unit);
            var inside = StatementParser.Classify(unit, mySql: false, _unit.NonStandardStrings, out var word);
            if (inside is StatementClass.TransactionEnd or StatementClass.CopyFromStdin or StatementClass.CopyServerSide or StatementClass.CopyWithOptions or StatementClass.CopyFromStdout
                || (inside == StatementClass.TransactionControl && !StatementParser.IsBodyEnd(unit[word..]))
                || StatementParser.SetsUnsafeClientEncoding(unit))
            {
                RestoreGuardThrow.Refused(StatementParser.TransactionInBodyReason, _unit, unit, _unit.Offset + word);
            }
            WritePostgres(output, unit);
            return;
        }
        if ((_leaveOut.HasFlag(LeaveOut.Owners) && StatementParser.IsOwnerChange(unit, _unit.NonStandardStrings))
            || (_leaveOut.HasFlag(LeaveOut.Privileges) && StatementParser.IsPrivilegeChange(unit, _unit.NonStandardStrings)))
        {
            WriteLineBreaks(output, unit);
            return;
        }
        RefuseReachBeyondDatabase(unit);
        var statementClass = StatementParser.Classify(unit, mySql: false, _unit.NonStandardStrings, out var at);
        switch (statementClass)
        {
            case StatementClass.TransactionControl:
                WriteLineBreaks(output, unit);
                return;
            case StatementClass.TransactionEnd:
                RestoreGuardThrow.TransactionEnd(_unit, unit, _unit.Offset + at);
                break;
            case StatementClass.CopyServerSide or StatementClass.CopyFromStdout:
                RestoreGuardThrow.Refused(StatementParser.RefusalReason(statementClass, unit[at..])!, _unit, unit, _unit.Offset + at);
                break;
            case StatementClass.CopyWithOptions:
                RestoreGuardThrow.CopyWithOptions(_unit, unit, _unit.Offset + at);
                break;
            case StatementClass.CopyFromStdin:
                WritePostgres(output, unit);
                return;
        }
        if (StatementParser.SetsUnsafeClientEncoding(unit))
        {
            RestoreGuardThrow.Refused(StatementParser.UnsafeClientEncodingReason, _unit, unit, _unit.Offset + at);
        }
        if (_sequencesInPlace && StatementParser.FindSetval(unit, _unit.NonStandardStrings, out var sequence) is var select and >= 0)
        {
            WritePostgres(output, unit[..select]);
            WriteRestartBefore(output, unit[sequence]);
            WritePostgres(output, unit[select..]);
            return;
        }
        WritePostgres(output, unit);
    }

    /// <summary>
    /// Before pg_dump's setval of <paramref name="name"/> (a '...' literal): ALTER SEQUENCE ... RESTART when the role owns
    /// it, in a DO block on the same line (psql's line numbers stay the dump's). The new storage RESTART gives the
    /// sequence inside the transaction takes setval's value, and a rollback drops it: the sequence is as it was. The
    /// literal holds no '$' (FindSetval), so it cannot end the block's dollar quote.
    /// </summary>
    static void WriteRestartBefore(IBufferWriter<byte> output, ReadOnlySpan<byte> name)
    {
        Write(output, "DO $replica$BEGIN IF pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.relkind = 'S' AND c.oid = pg_catalog.to_regclass("u8);
        Write(output, name);
        Write(output, ")), 'USAGE') THEN EXECUTE pg_catalog.format('ALTER SEQUENCE %s RESTART', pg_catalog.to_regclass("u8);
        Write(output, name);
        Write(output, ")); END IF; END$replica$; "u8);
    }

    /// <summary>
    /// A MySQL restore goes into a staging database that stands in for the dump's own database and moves into the
    /// destination only at the end, all or nothing (<see cref="MysqlDestination"/>). A dump written with --databases
    /// (CREATE DATABASE, USE), --add-drop-database (DROP DATABASE) or with routines of another collation (ALTER
    /// DATABASE) names its database: run, those statements would drop, create or switch to that database, so its
    /// statements would change it directly, outside the staging database (the destination itself when the names are
    /// the same, also when the restore then fails). So they are left out (their line breaks kept), and the rest of the
    /// dump lands in the staging database as a dump of one database does. A second database in the same dump
    /// (--all-databases, --databases a b) is refused: a restore fills one database.
    /// </summary>
    void LeaveOutDatabaseStatement(string database, ReadOnlySpan<byte> unit, int at, IBufferWriter<byte> output)
    {
        _dumpDatabase ??= database;
        if (!string.Equals(database, _dumpDatabase, StringComparison.Ordinal))
        {
            RestoreGuardThrow.SecondDatabase(_dumpDatabase, database, _unit, unit, _unit.Offset + at);
        }
        WriteLineBreaks(output, unit);
    }

    /// <summary>
    /// MySQL: refuses what would reach past the staging database (<see cref="StatementParser.FindStagingEscape"/>), and,
    /// once the dump defined a trigger or routine whose body names the destination, a statement that could run it
    /// (<see cref="StatementParser.FindCodeRun"/>). Remembers the tables the dump's triggers are on.
    /// </summary>
    void RefuseStagingEscape(ReadOnlySpan<byte> unit, StagedNames staged)
    {
        if (StatementParser.FindStagingEscape(unit, staged, out var at, out var definition) is { } reason)
        {
            RestoreGuardThrow.StagingEscape(reason, _unit, unit, _unit.Offset + at);
        }
        if (definition.Kind is { } kind)
        {
            if (definition.NamesDestination && _namingBody is null)
            {
                _namingBody = $"the {kind.ToLowerInvariant()} `{definition.Name}` (line {DumpThrow.LineOf(_unit.LineNumber, unit, at)})";
            }
            // A row written into a view goes into its table, whose trigger fires.
            if ((definition.Table ?? (kind == "VIEW" ? definition.Name : null)) is { } table && !_manyTriggerTables && !_triggerTables.Contains(table))
            {
                _manyTriggerTables = _triggerTables.Count >= MaxTriggerTables;
                _triggerTables.Add(table);
            }
            return;
        }
        if (_namingBody is not null)
        {
            _hasTrigger ??= table => _manyTriggerTables || _triggerTables.Contains(table);
            if (StatementParser.FindCodeRun(unit, _hasTrigger, out var run) is { } how)
            {
                RestoreGuardThrow.RunsBodyNamingDestination(how, _namingBody, _unit, unit, _unit.Offset + run);
            }
        }
    }

    /// <summary>
    /// Refuses a statement that changes the server beyond the destination database (after the leave-out: a GRANT that
    /// destination.no_privileges leaves out never reaches the client either).
    /// </summary>
    void RefuseReachBeyondDatabase(ReadOnlySpan<byte> unit)
    {
        if (_refuseReach && StatementParser.FindReachBeyondDatabase(unit, _mySql, _unit.NonStandardStrings, out var at) is { } what)
        {
            RestoreGuardThrow.ReachBeyondDatabase(what, _mySql, _unit, unit, _unit.Offset + at);
        }
    }

    /// <summary>
    /// Writes a PostgreSQL statement with every string that holds a backslash as an escape string, E'...', so that psql
    /// reads it where the lexer did whatever standard_conforming_strings is. psql reads a plain '...' by the setting the
    /// server last reported, which a dump can change where the lexer cannot see it (set_config(), RESET, ROLLBACK TO
    /// SAVEPOINT, SET ... = no, a SET earlier on the same line: psql takes the setting per line), and reads $E'...' or :E'...'
    /// as an escape string where the lexer reads a name and a plain string. Either way psql would see a string end
    /// elsewhere, and a meta-command or a COMMIT the lexer took for text. No line break is added, so psql's line numbers
    /// stay those of the dump. A plain string keeps its value
    /// (its backslashes doubled); B'...', X'...' and U&amp;'...' take no escapes in either setting and pass as they are.
    /// </summary>
    void WritePostgres(IBufferWriter<byte> output, ReadOnlySpan<byte> unit)
    {
        if (unit.IndexOf((byte)'\\') < 0)
        {
            Write(output, unit);
            return;
        }
        var t = new SqlTokenizer(unit, _unit.NonStandardStrings);
        var copied = 0;
        while (t.Next())
        {
            if (t.Kind is not (TokenKind.String or TokenKind.EString))
            {
                continue;
            }
            var token = t.Span;
            var quote = token.IndexOf((byte)'\'');
            var body = token[quote..];
            if (body.IndexOf((byte)'\\') < 0 || quote > 1 || (quote == 1 && (token[0] | 0x20) is (byte)'b' or (byte)'x'))
            {
                continue; // no backslash, or U&'...', B'...', X'...'
            }
            if (quote == 1 && (token[0] | 0x20) == (byte)'n')
            {
                RestoreGuardThrow.Refused("a national string N'...' with a backslash, which pg_dump never writes", _unit, unit, _unit.Offset + t.Start);
            }
            // A space keeps the E from joining what stands before it (a name, a lone $, psql's ':' of a variable).
            var alone = t.Start == 0 || unit[t.Start - 1] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'(' or (byte)',';
            if (quote == 1 && alone)
            {
                continue; // E'...' already
            }
            Write(output, unit[copied..t.Start]);
            Write(output, alone ? "E"u8 : " E"u8);
            if (t.Kind == TokenKind.EString)
            {
                Write(output, body);
            }
            else
            {
                foreach (var part in body.Split((byte)'\\'))
                {
                    Write(output, body[part]);
                    if (part.End.Value < body.Length)
                    {
                        Write(output, "\\\\"u8);
                    }
                }
            }
            copied = t.End;
        }
        Write(output, unit[copied..]);
    }

    /// <summary>Writes a MySQL statement with its DEFINER clauses (found into _definers) blanked out, line breaks kept.</summary>
    void WriteWithoutDefiners(IBufferWriter<byte> output, ReadOnlySpan<byte> unit)
    {
        var span = output.GetSpan(unit.Length)[..unit.Length];
        unit.CopyTo(span);
        foreach (var clause in _definers)
        {
            foreach (ref var b in span[clause])
            {
                if (b is not ((byte)'\n' or (byte)'\r'))
                {
                    b = (byte)' ';
                }
            }
        }
        output.Advance(unit.Length);
        _definers.Clear();
    }

    /// <summary>Replaces a unit by its line breaks: the client sees nothing to run, and its line numbers stay those of the dump.</summary>
    static void WriteLineBreaks(IBufferWriter<byte> output, ReadOnlySpan<byte> unit)
    {
        var lines = unit.Count((byte)'\n');
        var span = output.GetSpan(lines);
        span[..lines].Fill((byte)'\n');
        output.Advance(lines);
    }

    static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }
        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }

    public void Dispose() => _splitter.Dispose();
}

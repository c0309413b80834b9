namespace Replica.Lexing;

/// <summary>What one unit of a dump is.</summary>
internal enum UnitKind : byte
{
    /// <summary>A SQL statement up to and including its terminator (or the end of the dump).</summary>
    Statement,
    /// <summary>COPY table [(columns)] FROM stdin: the rest of its line and then data rows follow.</summary>
    CopyHeader,
    /// <summary>A psql meta-command line (\connect, \restrict ...).</summary>
    MetaCommand,
    /// <summary>The mysql client's DELIMITER command, applied: later statements end at the new terminator.</summary>
    Delimiter,
    /// <summary>A DELIMITER command without a usable terminator (<see cref="UnitScanner.TryApplyDelimiter"/>); not applied.</summary>
    BadDelimiter,
    /// <summary>
    /// A DELIMITER command that the mysql client reads otherwise than the lexer: after other text on its line, or spelled
    /// otherwise than "DELIMITER" and a space (<see cref="UnitScanner.MisplacedDelimiterReason"/>); not applied, refused
    /// by every consumer.
    /// </summary>
    MisplacedDelimiter,
    /// <summary>
    /// A PostgreSQL statement up to a dollar quote whose tag is longer than <see cref="DollarTag.Length"/> bytes (its
    /// opener at <see cref="DumpUnit.OpenedAt"/>), which the lexer cannot follow: refused by every consumer.
    /// </summary>
    LongDollarTag,
    /// <summary>The rest of a COPY command's line, after its ';'.</summary>
    CopyHeaderTail,
    /// <summary>One COPY data row with its line break.</summary>
    CopyRow,
    /// <summary>The end marker \. of a COPY block.</summary>
    CopyEnd,
}

/// <summary>
/// One complete unit, as <see cref="DumpLexer.Complete"/> yields it: its kind and position, and what the lexer knew while
/// reading it.
/// </summary>
/// <param name="Offset">Absolute byte offset of the unit's first byte.</param>
/// <param name="LineNumber">1-based line number of the unit's first byte.</param>
/// <param name="BackslashAt">Absolute offset of the statement's first backslash outside quotes and comments and not at its start; -1 when none.</param>
/// <param name="OpenedAt">Absolute offset where the last quote, comment or DELIMITER command of the unit began.</param>
/// <param name="NonStandardStrings">standard_conforming_strings was off while the unit was read: '...' takes backslash escapes.</param>
/// <param name="PsqlSendsAlone">psql sends this unit as a statement of its own (only tracked with <c>followPsql</c>; else true).</param>
/// <param name="UnclearAt">Absolute offset of a word psql may count otherwise than the lexer (<see cref="PsqlStatementTracker.UnclearAt"/>); -1 when none.</param>
internal readonly record struct DumpUnit(
    UnitKind Kind, long Offset, long LineNumber, long BackslashAt, long OpenedAt, bool NonStandardStrings, bool PsqlSendsAlone, long UnclearAt = -1);

/// <summary>
/// The dump lexer: splits a PostgreSQL plain dump (or mysqldump output) into units - statements, COPY headers, COPY rows,
/// psql meta-commands - and owns every transition between them (a COPY ... FROM stdin statement starts a COPY block, its
/// end marker ends it, SET standard_conforming_strings and DELIMITER change how later statements are read). Its consumer
/// scans for a unit's end (<see cref="Scan"/>), hands the complete unit back (<see cref="Complete"/>) and acts on the
/// <see cref="DumpUnit"/> it gets; it never sets the lexer's state.
/// The input may arrive in blocks of any size: a unit cut by a block boundary is resumed without rescanning its start.
/// </summary>
internal sealed class DumpLexer
{
    LexerState _s = LexerState.Initial;
    readonly bool _followPsql;
    PsqlStatementTracker _psql;

    /// <param name="dialect">PostgreSQL plain dump or mysqldump output.</param>
    /// <param name="followPsql">
    /// Track where psql itself ends statements (<see cref="PsqlStatementTracker"/>): a COPY inside a statement psql sends
    /// whole (a BEGIN ATOMIC body) starts no data, as in psql. It costs a second pass over each statement.
    /// </param>
    public DumpLexer(SqlDialect dialect, bool followPsql = false)
    {
        _s.MySql = dialect == SqlDialect.MySql;
        _s.BeginStatement();
        _followPsql = followPsql && !_s.MySql;
    }

    public bool MySql => _s.MySql;

    /// <summary>MySQL: the statement delimiter in force (";" until a DELIMITER command changes it).</summary>
    public ReadOnlySpan<byte> Delimiter => _s.DelimiterLength == 0 ? ";"u8 : ((ReadOnlySpan<byte>)_s.Delimiter)[.._s.DelimiterLength];

    /// <summary>What the next unit is read as.</summary>
    public LexerMode Mode => _s.Mode;

    /// <summary>Inside a COPY block: the next unit is a row or the end marker.</summary>
    public bool InCopyData => _s.Mode == LexerMode.CopyData;

    /// <summary>Absolute byte offset of the next unit's first byte.</summary>
    public long UnitOffset => _s.UnitOffset;

    /// <summary>1-based line number of the next unit's first byte.</summary>
    public long UnitLineNumber => _s.UnitLineNumber;

    /// <summary>Absolute offset where the innermost quote or comment open in the next unit began.</summary>
    public long OpenedAt => _s.OpenedAt;

    /// <summary>Whether the unit scanned so far may end at the end of the dump (no open quote or comment).</summary>
    public bool CanEndAtEof => _s.Mode != LexerMode.Sql || UnitScanner.CanEndAtEof(_s);

    /// <summary>The unit scanned so far is a statement with content (not a meta-command, comment or whitespace).</summary>
    public bool HasStatementContent => _s.Mode == LexerMode.Sql && _s.Sql != SqlState.MetaLine && _s.HasContent;

    /// <summary>Names what is left open at the end of the dump, for the error message.</summary>
    public string DescribeOpen() => UnitScanner.DescribeOpen(_s);

    /// <summary>
    /// Scans <paramref name="data"/> from <paramref name="from"/> for the end of the current unit. Returns the index just
    /// past it, or -1 when the unit goes on past the data (call again with the next block from 0).
    /// <paramref name="dataOffset"/> is the absolute offset of data[0].
    /// </summary>
    public int Scan(ReadOnlySpan<byte> data, int from, long dataOffset) => UnitScanner.Scan(ref _s, data, from, dataOffset);

    /// <summary>
    /// Takes the complete current unit (all its bytes, as <see cref="Scan"/> delimited them) and moves on to the next one.
    /// </summary>
    public DumpUnit Complete(ReadOnlySpan<byte> unit)
    {
        var offset = _s.UnitOffset;
        var line = _s.UnitLineNumber;
        switch (_s.Mode)
        {
            case LexerMode.CopyHeaderTail:
                _s.UnitOffset += unit.Length;
                _s.UnitLineNumber++;
                _s.Mode = LexerMode.CopyData;
                return new DumpUnit(UnitKind.CopyHeaderTail, offset, line, -1, offset, _s.NonStandardStrings, true);
            case LexerMode.CopyData:
                _s.UnitOffset += unit.Length;
                _s.UnitLineNumber++;
                if (IsEndMarker(unit))
                {
                    _s.Mode = LexerMode.Sql;
                    _s.BeginStatement();
                    return new DumpUnit(UnitKind.CopyEnd, offset, line, -1, offset, _s.NonStandardStrings, true);
                }
                return new DumpUnit(UnitKind.CopyRow, offset, line, -1, offset, _s.NonStandardStrings, true);
        }
        var nonStandard = _s.NonStandardStrings;
        var alone = true;
        var unclear = -1L;
        UnitKind kind;
        if (_s.Sql == SqlState.MetaLine)
        {
            kind = UnitKind.MetaCommand;
        }
        else if (_s.Sql == SqlState.LongDollarTag)
        {
            kind = UnitKind.LongDollarTag;
        }
        else if (_s.Sql == SqlState.DelimiterLine)
        {
            kind = _s.DelimiterOdd || !UnitScanner.DelimiterStartsLine(_s, unit) ? UnitKind.MisplacedDelimiter
                : UnitScanner.TryApplyDelimiter(ref _s, unit) ? UnitKind.Delimiter : UnitKind.BadDelimiter;
        }
        else
        {
            kind = UnitKind.Statement;
            if (!_s.MySql)
            {
                if (_followPsql)
                {
                    var topLevel = !_psql.InStatement;
                    alone = _psql.Track(unit, nonStandard) && topLevel;
                    unclear = _psql.UnclearAt < 0 ? -1 : offset + _psql.UnclearAt;
                }
                if (alone)
                {
                    kind = ReadStatement(unit);
                }
            }
        }
        var unitResult = new DumpUnit(kind, offset, line, _s.BackslashAt, _s.OpenedAt, nonStandard, alone, unclear);
        if (unit.Length > 0)
        {
            _s.UnitAtLineStart = unit[^1] == (byte)'\n';
        }
        _s.UnitOffset += unit.Length;
        _s.UnitLineNumber += unit.Count((byte)'\n');
        if (kind == UnitKind.CopyHeader)
        {
            _s.Mode = LexerMode.CopyHeaderTail;
        }
        else
        {
            _s.BeginStatement();
        }
        return unitResult;
    }

    /// <summary>The two statements that change how the lexer reads on: COPY ... FROM stdin and SET standard_conforming_strings.</summary>
    UnitKind ReadStatement(ReadOnlySpan<byte> statement)
    {
        var t = new SqlTokenizer(statement);
        t.Next();
        if (t.IsWord("copy"u8) && StatementParser.IsCopyFromStdin(statement))
        {
            return UnitKind.CopyHeader;
        }
        if (t.IsWord("set"u8) && StatementParser.TryParseStandardConformingStrings(statement, out var on))
        {
            _s.NonStandardStrings = !on;
        }
        return UnitKind.Statement;
    }

    /// <summary>
    /// Inside a COPY block: takes the run of complete rows from <paramref name="from"/> on that need no closer look - no
    /// end marker, <paramref name="expectedTabs"/> field separators, no bad escape, no NUL byte, shorter than
    /// <paramref name="maxRowBytes"/> - and returns where the run ends: at the end of the data, at a row cut by it, or at
    /// a row to be taken as a unit of its own (<see cref="Scan"/>, <see cref="Complete"/>).
    /// </summary>
    public int CompleteRows(ReadOnlySpan<byte> data, int from, int expectedTabs, long maxRowBytes, out long rows)
    {
        var pos = from;
        var count = 0L;
        while (true)
        {
            var rest = data[pos..];
            var lf = CopyRowScanner.ScanRow(rest, out var tabs, out var hasBackslashOrNul);
            if (lf < 0 || lf >= maxRowBytes)
            {
                break;
            }
            if (hasBackslashOrNul)
            {
                if (rest[0] == (byte)'\\' && lf >= 1 && rest[1] == (byte)'.'
                    || rest[..lf].Contains((byte)0)
                    || CopyRowScanner.CountFieldsSlow(rest[..lf], out tabs) >= 0)
                {
                    break;
                }
            }
            if (tabs != expectedTabs)
            {
                break;
            }
            count++;
            pos += lf + 1;
        }
        _s.UnitOffset += pos - from;
        _s.UnitLineNumber += count;
        rows = count;
        return pos;
    }

    /// <summary>
    /// Inside a COPY block, for a consumer that does not look at fields: takes every complete row from
    /// <paramref name="from"/> on up to the end marker, and returns where the run ends: at the end of the data, at a row
    /// cut by it, at the end marker, or at a row with a NUL byte (each a unit of its own: psql reads lines as C strings,
    /// so a NUL hides the rest of its line, the line break included, and the restore guard refuses it).
    /// </summary>
    public int CompleteRowsUnchecked(ReadOnlySpan<byte> data, int from)
    {
        var pos = from;
        var count = 0L;
        while (true)
        {
            var lf = data[pos..].IndexOfAny((byte)'\n', (byte)0);
            if (lf < 0 || data[pos + lf] == 0 || data[pos] == (byte)'\\' && IsEndMarker(data.Slice(pos, lf + 1)))
            {
                break;
            }
            count++;
            pos += lf + 1;
        }
        _s.UnitOffset += pos - from;
        _s.UnitLineNumber += count;
        return pos;
    }

    // psql ends COPY data at a line "\." (https://www.postgresql.org/docs/current/app-psql.html, COPY ... FROM STDIN), or at
    // the end of its input.
    public static bool IsEndMarker(ReadOnlySpan<byte> unit) =>
        unit.SequenceEqual("\\.\n"u8) || unit.SequenceEqual("\\.\r\n"u8) || unit.SequenceEqual("\\."u8);
}

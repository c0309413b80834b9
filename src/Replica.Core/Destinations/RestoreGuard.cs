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
/// <item>MySQL: the mysql client's own commands (system, source, tee, pager ..., or \! and the like) and LOAD DATA / LOAD XML.</item>
/// </list>
/// BEGIN, START TRANSACTION, COMMIT and END at the top level (pg_dump writes BEGIN ... COMMIT around large objects) are
/// replaced by their line breaks, so the restore's one transaction (PsqlDestination's BEGIN ... COMMIT) holds for the whole dump
/// and psql's line numbers stay those of the dump.
/// Rows of a COPY block are data, never commands, and pass unchecked. A refusal is a <see cref="DumpFormatException"/>
/// (exit 3) naming the line and byte offset; the caller then rolls the restore back.
/// </summary>
internal sealed class RestoreGuard : IDisposable
{
    readonly UnitBuffer _carry = new();
    readonly string? _database;
    readonly long _maxUnitBytes;
    LexerState _s = LexerState.Initial;
    PsqlStatementTracker _psql;
    long _inputOffset;

    /// <param name="dialect">The client that reads the stream: psql or mysql.</param>
    /// <param name="database">The destination database: a \connect to it is allowed (and dropped).</param>
    /// <param name="maxUnitBytes">The largest statement held while it is checked (limits.max_row_size).</param>
    public RestoreGuard(SqlDialect dialect, string? database, long maxUnitBytes = 256L << 20)
    {
        _database = database;
        _maxUnitBytes = maxUnitBytes;
        _s.MySql = dialect == SqlDialect.MySql;
        _s.BeginStatement();
    }

    /// <summary>Checks the next block and writes what may pass to <paramref name="output"/>.</summary>
    public void Process(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        var pos = 0;
        if (_carry.Length > 0)
        {
            if (_s.Mode == LexerMode.CopyData)
            {
                // The rest of a row cut by the previous block.
                var lf = data.IndexOf((byte)'\n');
                if (lf < 0)
                {
                    Append(data);
                    _inputOffset += data.Length;
                    return;
                }
                Append(data[..(lf + 1)]);
                HandleRow(_carry.Span, output);
                _carry.Clear();
                pos = lf + 1;
            }
            else
            {
                var end = UnitScanner.Scan(ref _s, data, 0, _inputOffset);
                if (end < 0)
                {
                    Append(data);
                    _inputOffset += data.Length;
                    return;
                }
                Append(data[..end]);
                HandleUnit(_carry.Span, output);
                _carry.Clear();
                pos = end;
            }
        }
        while (pos < data.Length)
        {
            if (_s.Mode == LexerMode.CopyData)
            {
                pos = PassRows(data, pos, output);
                if (_s.Mode == LexerMode.CopyData)
                {
                    Append(data[pos..]);
                    break;
                }
                continue;
            }
            var end = UnitScanner.Scan(ref _s, data, pos, _inputOffset);
            if (end < 0)
            {
                Append(data[pos..]);
                break;
            }
            if (end - pos > _maxUnitBytes)
            {
                TooLarge();
            }
            HandleUnit(data[pos..end], output);
            pos = end;
        }
        _inputOffset += data.Length;
    }

    /// <summary>Ends the stream: checks the last statement (psql runs one without its ';' at the end of input too).</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (_carry.Length > 0)
        {
            var unit = _carry.Span;
            if (_s.Mode == LexerMode.CopyData)
            {
                HandleRow(unit, output);
            }
            else
            {
                if (_s.Mode == LexerMode.Sql && !UnitScanner.CanEndAtEof(_s))
                {
                    Refuse($"{UnitScanner.DescribeOpen(_s)} that starts here runs to the end of the dump", unit, _s.OpenedAt);
                }
                var statement = _s.Mode == LexerMode.Sql && _s.Sql != SqlState.MetaLine && _s.HasContent && !_s.MySql;
                HandleUnit(unit, output);
                if (statement && _s.Mode == LexerMode.Sql)
                {
                    // psql runs a last statement without its ';' at the end of its input; here the COMMIT follows it, so
                    // it gets its ';' (on a line of its own, after a possible -- comment).
                    Write(output, "\n;"u8);
                }
            }
            _carry.Clear();
        }
    }

    void Append(ReadOnlySpan<byte> bytes)
    {
        if ((long)_carry.Length + bytes.Length > _maxUnitBytes)
        {
            TooLarge();
        }
        _carry.Append(bytes);
    }

    void TooLarge() =>
        DumpThrow.Format($"a {(_s.Mode == LexerMode.CopyData ? "row" : "statement")} is larger than the limit of {_maxUnitBytes} bytes (limits.max_row_size)",
            _s.UnitOffset, _s.UnitLineNumber);

    /// <summary>Passes whole rows of a COPY block through up to its end marker; returns where it stopped.</summary>
    int PassRows(ReadOnlySpan<byte> data, int pos, IBufferWriter<byte> output)
    {
        var start = pos;
        var lines = 0L;
        while (true)
        {
            var lf = data[pos..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                if (data.Length - pos > _maxUnitBytes)
                {
                    TooLarge();
                }
                break;
            }
            var row = data.Slice(pos, lf + 1);
            pos += lf + 1;
            lines++;
            if (IsEndMarker(row))
            {
                EndCopy();
                break;
            }
        }
        Write(output, data[start..pos]);
        _s.UnitOffset += pos - start;
        _s.UnitLineNumber += lines;
        return pos;
    }

    void HandleRow(ReadOnlySpan<byte> row, IBufferWriter<byte> output)
    {
        Write(output, row);
        _s.UnitOffset += row.Length;
        _s.UnitLineNumber++;
        if (IsEndMarker(row))
        {
            EndCopy();
        }
    }

    void EndCopy()
    {
        _s.Mode = LexerMode.Sql;
        _s.BeginStatement();
    }

    // psql ends COPY data at a line "\." (https://www.postgresql.org/docs/current/app-psql.html, COPY ... FROM STDIN), or at
    // the end of its input.
    static bool IsEndMarker(ReadOnlySpan<byte> row) =>
        row.SequenceEqual("\\.\n"u8) || row.SequenceEqual("\\.\r\n"u8) || row.SequenceEqual("\\."u8);

    void HandleUnit(ReadOnlySpan<byte> unit, IBufferWriter<byte> output)
    {
        if (_s.Mode == LexerMode.CopyHeaderTail)
        {
            // pg_dump ends the line right after "FROM stdin;". psql reads the data from the next line, then runs whatever
            // else stood on this one.
            var text = unit.IndexOfAnyExcept(" \t\r\n"u8);
            if (text >= 0)
            {
                Refuse("text after COPY ... FROM stdin; on the same line (psql would run it after the data)", unit, _s.UnitOffset + text);
            }
            Write(output, unit);
            _s.UnitOffset += unit.Length;
            _s.UnitLineNumber++;
            _s.Mode = LexerMode.CopyData;
            return;
        }
        if (_s.Sql == SqlState.MetaLine)
        {
            HandleMetaCommand(unit, output);
        }
        else if (_s.Sql == SqlState.DelimiterLine)
        {
            if (!UnitScanner.TryApplyDelimiter(ref _s, unit))
            {
                Refuse($"DELIMITER needs a terminator of 1 to {DollarTag.Length} bytes", unit, _s.OpenedAt);
            }
            Write(output, unit);
        }
        else
        {
            HandleStatement(unit, output);
        }
        _s.UnitOffset += unit.Length;
        _s.UnitLineNumber += unit.Count((byte)'\n');
        if (_s.Mode == LexerMode.Sql)
        {
            _s.BeginStatement();
        }
    }

    void HandleMetaCommand(ReadOnlySpan<byte> unit, IBufferWriter<byte> output)
    {
        var command = StatementParser.ClassifyMetaCommand(unit, out var argument, out var at);
        switch (command)
        {
            case MetaCommand.Restrict or MetaCommand.Unrestrict or MetaCommand.Encoding:
                Write(output, unit);
                break;
            case MetaCommand.Connect when argument == _database:
                WriteLineBreaks(output, unit);
                break;
            case MetaCommand.Connect:
                Refuse($"\\connect to database \"{argument}\", which is not the destination: a restore runs in one transaction on one database", unit, _s.UnitOffset + at);
                break;
            default:
                Refuse($"psql meta-command {MetaName(unit[at..])}: a restore runs no meta-command but those pg_dump writes (\\restrict, \\unrestrict, \\connect, \\encoding)", unit, _s.UnitOffset + at);
                break;
        }
    }

    void HandleStatement(ReadOnlySpan<byte> unit, IBufferWriter<byte> output)
    {
        if (_s.BackslashAt >= 0)
        {
            var inside = (int)Math.Clamp(_s.BackslashAt - _s.UnitOffset, 0, unit.Length);
            var what = _s.MySql ? "the mysql client would run it as one of its commands" : "psql would run it as a meta-command";
            Refuse($"{MetaName(unit[inside..])} outside quotes: {what}", unit, _s.BackslashAt);
        }
        if (_s.MySql)
        {
            var kind = StatementParser.Classify(unit, mySql: true, nonStandardStrings: false, out var word);
            if (StatementParser.RefusalReason(kind, unit[word..]) is { } refused)
            {
                Refuse(refused, unit, _s.UnitOffset + word);
            }
            Write(output, unit);
            return;
        }
        var topLevel = !_psql.InStatement;
        var ends = _psql.Track(unit, _s.NonStandardStrings);
        if (!topLevel || !ends)
        {
            // Part of a statement psql sends whole (a multi-action rule's "DO ( ...; ...; )", a BEGIN ATOMIC body): nothing
            // here runs on its own, and a COPY in it starts no data (psql would not either). Backslashes were checked above.
            Write(output, unit);
            return;
        }
        switch (StatementParser.Classify(unit, mySql: false, _s.NonStandardStrings, out var at))
        {
            case StatementClass.TransactionControl:
                WriteLineBreaks(output, unit);
                return;
            case StatementClass.TransactionEnd:
                Refuse($"{StatementParser.FirstWord(unit[at..]).ToUpperInvariant()} would end the restore's transaction", unit, _s.UnitOffset + at);
                break;
            case StatementClass.CopyServerSide:
                Refuse(StatementParser.RefusalReason(StatementClass.CopyServerSide, unit[at..])!, unit, _s.UnitOffset + at);
                break;
            case StatementClass.CopyWithOptions:
                Refuse("COPY ... FROM stdin with options (CSV, BINARY, DELIMITER ...), which pg_dump never writes", unit, _s.UnitOffset + at);
                break;
            case StatementClass.CopyFromStdin:
                Write(output, unit);
                _s.Mode = LexerMode.CopyHeaderTail;
                return;
        }
        if (StatementParser.SetsUnsafeClientEncoding(unit))
        {
            Refuse(StatementParser.UnsafeClientEncodingReason, unit, _s.UnitOffset + at);
        }
        if (StatementParser.TryParseStandardConformingStrings(unit, out var on))
        {
            _s.NonStandardStrings = !on;
        }
        Write(output, unit);
    }

    /// <summary>Throws for a unit that must not reach the client; <paramref name="offset"/> is absolute and lies in <paramref name="unit"/>.</summary>
    void Refuse(string reason, ReadOnlySpan<byte> unit, long offset)
    {
        var inside = (int)Math.Clamp(offset - _s.UnitOffset, 0, unit.Length);
        DumpThrow.Format($"refused: {reason}; nothing was restored", offset, _s.UnitLineNumber + unit[..inside].Count((byte)'\n'));
    }

    static string MetaName(ReadOnlySpan<byte> text)
    {
        var end = 1;
        while (end < text.Length && end < 32 && text[end] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
        {
            end++;
        }
        return System.Text.Encoding.UTF8.GetString(text[..end]);
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

    public void Dispose() => _carry.Dispose();
}

namespace Replica.Lexing;

/// <summary>What <see cref="UnitSplitter"/> hands out: every unit but COPY rows one by one, and COPY rows in runs.</summary>
internal interface IUnitSink
{
    /// <summary>A complete unit (a statement, COPY header and its line's tail, end marker, meta-command) and its bytes.</summary>
    void Unit(in DumpUnit unit, ReadOnlySpan<byte> bytes);

    /// <summary>A run of complete COPY rows (data, never commands).</summary>
    void Rows(ReadOnlySpan<byte> rows);
}

/// <summary>
/// Cuts a dump, fed in blocks of any size, into its units as the client reads them (the lexer with <c>followPsql</c>),
/// for a consumer that checks or routes whole statements: the restore guard checks each, a parallel restore finds COPY
/// blocks and index builds with it. A unit cut by a block boundary is carried (at most <c>maxUnitBytes</c>) until it is complete; COPY rows pass
/// in runs, unchecked. Offsets in the units are absolute within everything fed.
/// </summary>
internal sealed class UnitSplitter(long maxUnitBytes = 256L << 20, SqlDialect dialect = SqlDialect.PostgreSql) : IDisposable
{
    readonly UnitBuffer _carry = new();
    readonly DumpLexer _lexer = new(dialect, followPsql: true);
    long _inputOffset;

    /// <summary>Bytes fed so far.</summary>
    public long Offset => _inputOffset;

    /// <summary>MySQL: the statement delimiter in force after the units split so far.</summary>
    public ReadOnlySpan<byte> Delimiter => _lexer.Delimiter;

    /// <summary>Inside a COPY block: the next line is a row or the end marker.</summary>
    public bool InCopyData => _lexer.InCopyData;

    /// <summary>Splits the next block.</summary>
    public void Process(ReadOnlySpan<byte> data, IUnitSink sink)
    {
        var pos = 0;
        if (_carry.Length > 0)
        {
            var end = _lexer.Scan(data, 0, _inputOffset);
            if (end < 0)
            {
                Append(data);
                _inputOffset += data.Length;
                return;
            }
            Append(data[..end]);
            var unit = _lexer.Complete(_carry.Span);
            sink.Unit(unit, _carry.Span);
            _carry.Clear();
            pos = end;
        }
        while (pos < data.Length)
        {
            if (_lexer.InCopyData)
            {
                var run = _lexer.CompleteRowsUnchecked(data, pos);
                if (run > pos)
                {
                    sink.Rows(data[pos..run]);
                }
                pos = run;
                if (pos >= data.Length)
                {
                    break;
                }
            }
            var end = _lexer.Scan(data, pos, _inputOffset);
            if (end < 0)
            {
                Append(data[pos..]);
                break;
            }
            if (end - pos > maxUnitBytes)
            {
                TooLarge();
            }
            var unit = _lexer.Complete(data[pos..end]);
            sink.Unit(unit, data[pos..end]);
            pos = end;
        }
        _inputOffset += data.Length;
    }

    /// <summary>
    /// Ends the input: hands out a last unit that had no terminator (psql runs it at the end of its input too); a quote
    /// or comment left open is refused. Returns whether that unit is a PostgreSQL statement that psql would end only at
    /// the end of its input (a caller that writes more after it must end it first).
    /// </summary>
    public bool Complete(IUnitSink sink)
    {
        if (_carry.Length == 0)
        {
            return false;
        }
        var statement = false;
        if (!_lexer.InCopyData)
        {
            if (!_lexer.CanEndAtEof)
            {
                DumpThrow.OpenAtEnd(_lexer, _carry.Span, refusedRestore: true);
            }
            statement = _lexer.HasStatementContent && !_lexer.MySql;
        }
        var unit = _lexer.Complete(_carry.Span);
        sink.Unit(unit, _carry.Span);
        _carry.Clear();
        return statement && _lexer.Mode == LexerMode.Sql;
    }

    void Append(ReadOnlySpan<byte> bytes)
    {
        if ((long)_carry.Length + bytes.Length > maxUnitBytes)
        {
            TooLarge();
        }
        _carry.Append(bytes);
    }

    void TooLarge() => DumpThrow.UnitTooLarge(_lexer.InCopyData, maxUnitBytes, _lexer.UnitOffset, _lexer.UnitLineNumber);

    public void Dispose() => _carry.Dispose();
}

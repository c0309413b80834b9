using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Rewriting;

// INSERT INTO table [(columns)] VALUES (...), (...); as pg_dump --inserts, --column-inserts and --rows-per-insert write it.
public sealed partial class DumpRewriter
{
    TableState? _lastInsertTable;
    InsertPrefix _repeat = new();

    void HandleInsert(ReadOnlySpan<byte> statement, IBufferWriter<byte> output)
    {
        if (!TryRepeatInsert(statement, out var table, out var plan, out var valuesEnd))
        {
            if (!StatementParser.TryParseInsert(statement, _unit.NonStandardStrings, out var name, out var columns, out valuesEnd))
            {
                // INSERT ... SELECT, ... AS alias, DEFAULT VALUES: refused for a table whose rows the config changes.
                if (_inCreate || !CheckWrites(statement))
                {
                    Write(output, statement);
                }
                return;
            }
            if (!_inCreate)
            {
                CheckNotView(name, "INSERT", statement, -1);
            }
            _written.Add(name);
            table = Table(name);
            EnterInsertTable(table);
            plan = table.Action(_rules) == TableAction.Transform ? InsertPlan(table, columns, statement) : null;
            _repeat.Remember(statement[..valuesEnd], _unit.NonStandardStrings, table, plan, _statistics.Statements);
        }
        WriteInsert(statement, plan, valuesEnd, output);
    }

    /// <summary>What every INSERT does once its table and plan are known (null plan: the table's rows are dropped) and its table entered.</summary>
    void WriteInsert(ReadOnlySpan<byte> statement, RowPlan? plan, int valuesEnd, IBufferWriter<byte> output)
    {
        if (plan is null)
        {
            _statistics.DroppedRows++;
            return;
        }
        if (!plan.ReadsRows)
        {
            if (plan.ChecksWidth)
            {
                CheckTupleWidths(plan, statement, valuesEnd);
            }
            // No column of this INSERT is masked, but a tail could still write one (ON CONFLICT ... DO UPDATE SET email = ...).
            if (!_inCreate && (ReferenceEquals(plan.Table, _lastInsertTable) ? _insertTableChanges : ChangesRows(plan.Table))
                && StatementParser.FindInsertTail(statement, _unit.NonStandardStrings, _lexer.MySql, _lexer.Delimiter, valuesEnd) is var tail and >= 0)
            {
                RewriteThrow.InsertTail(plan.Table.DisplayName, _unit, statement, tail);
            }
            Write(output, statement);
            return;
        }
        RewriteValues(plan, statement, valuesEnd, output);
    }

    /// <summary>
    /// The INSERT right before this statement began with the same bytes up to and including VALUES, so it names the same
    /// table and columns: pg_dump --inserts and mysqldump write a table's INSERTs one after another, and parsing the column
    /// list into names again for each row was a tenth of an INSERT-form dump's CPU. Only the statement right before counts:
    /// any other statement in between (SET, USE, CREATE TABLE, DELIMITER ...) may change how the same bytes read.
    /// </summary>
    bool TryRepeatInsert(ReadOnlySpan<byte> statement, [NotNullWhen(true)] out TableState? table, out RowPlan? plan, out int valuesEnd)
    {
        ref readonly var r = ref _repeat;
        valuesEnd = r.Length;
        table = r.Table;
        plan = r.Plan;
        // The word VALUES must end where it ended before: "VALUES_x" would be another word.
        return table is not null && r.Statement == _statistics.Statements - 1 && r.NonStandardStrings == _unit.NonStandardStrings
            && statement.Length > valuesEnd && !UnitScanner.IsIdentifierByte(statement[valuesEnd])
            && statement[..valuesEnd].SequenceEqual(r.Bytes.AsSpan(0, valuesEnd));
    }

    /// <summary>The start of the last INSERT (up to and including VALUES) with what it was read as; see <see cref="TryRepeatInsert"/>.</summary>
    struct InsertPrefix
    {
        /// <summary>Longer column lists are parsed each time; this bounds what the cache holds.</summary>
        const int MaxLength = 64 * 1024;

        public InsertPrefix()
        {
        }

        public byte[] Bytes = new byte[256];
        public int Length;
        public bool NonStandardStrings;
        public TableState? Table;
        public RowPlan? Plan;
        public long Statement = -1;

        public void Remember(ReadOnlySpan<byte> prefix, bool nonStandardStrings, TableState table, RowPlan? plan, long statement)
        {
            if (prefix.Length > MaxLength)
            {
                Table = null;
                return;
            }
            if (Bytes.Length < prefix.Length)
            {
                Bytes = new byte[Math.Max(prefix.Length, Bytes.Length * 2)];
            }
            prefix.CopyTo(Bytes);
            Length = prefix.Length;
            NonStandardStrings = nonStandardStrings;
            Table = table;
            Plan = plan;
            Statement = statement;
        }
    }

    /// <summary>
    /// INSERTs moved on to another table. pg_dump and mysqldump write a table's INSERTs together, so the previous table's
    /// values have all been given: its transformers check their columns now (a custom command that printed a line too
    /// many fails here, at the end of its column), as at the end of a COPY block, not only at the end of the dump.
    /// </summary>
    void EnterInsertTable(TableState table)
    {
        if (ReferenceEquals(table, _lastInsertTable))
        {
            return;
        }
        _lastInsertTable?.CompleteTransformers();
        _lastInsertTable = table;
        _insertTableChanges = ChangesRows(table);
        _statistics.Tables++;
    }

    RowPlan InsertPlan(TableState table, List<string>? columns, ReadOnlySpan<byte> statement, string columnInsertsHint = "pg_dump --column-inserts")
    {
        var key = (table.Name, columns is null ? "" : string.Join('\u0001', columns));
        if (_insertPlans.TryGetValue(key, out var plan))
        {
            return plan;
        }
        var withoutColumnList = columns is null;
        if (columns is null)
        {
            // The values are matched to the columns by position: a rule for the table or a table it inherits from needs
            // their order, surely (a child's own columns alone, or its CREATE TABLE's after an ALTER TABLE, put the
            // transformer on another column and leave the real value in clear).
            columns = table.ColumnNames();
            var ruled = table.HasColumnRules(_rules);
            if (columns is null && ruled)
            {
                RewriteThrow.InsertWithoutColumnList(table.DisplayName, columnInsertsHint, _unit);
            }
            if (ruled && table.WhyColumnOrderUnknown() is { } why)
            {
                RewriteThrow.ColumnOrderUnknown("INSERT", table.DisplayName, why, columnInsertsHint, _unit);
            }
            columns ??= [];
        }
        _checker.OnData(table, columns);
        plan = NewPlan(table, columns, TableAction.Transform);
        // A table a rule reaches whose values all pass: a tuple of another width than the plan would still mean the
        // columns are not what the plan says, so its width is checked as a COPY row's is (tables no rule reaches have
        // nothing to mask, and their INSERTs are copied without being read).
        plan.ChecksWidth = withoutColumnList && !plan.ReadsRows && table.HasColumnRules(_rules);
        _insertPlans.Add(key, plan);
        return plan;
    }

    /// <summary>
    /// Checks that every tuple of an INSERT whose values all pass has as many values as the plan has columns
    /// (<see cref="RowPlan.ChecksWidth"/>), as <see cref="RewriteValues"/> does for one it rewrites.
    /// </summary>
    void CheckTupleWidths(RowPlan plan, ReadOnlySpan<byte> statement, int valuesEnd)
    {
        var t = new SqlTokenizer(statement, _unit.NonStandardStrings, valuesEnd, _lexer.MySql);
        var tupleNumber = 0L;
        while (t.Next() && t.IsPunct((byte)'('))
        {
            tupleNumber++;
            var values = 0;
            var tokens = 0;
            var depth = 0;
            while (true)
            {
                if (!t.Next())
                {
                    RewriteThrow.InsertEndsInsideTuple(_unit, statement, t.Start, plan.Table.DisplayName, tupleNumber);
                }
                if (depth == 0 && (t.IsPunct((byte)',') || t.IsPunct((byte)')')))
                {
                    // "()" is a tuple of no values (a table without columns), "(1)" of one.
                    if (tokens > 0 || t.IsPunct((byte)',') || values > 0)
                    {
                        values++;
                    }
                    if (t.IsPunct((byte)')'))
                    {
                        break;
                    }
                    tokens = 0;
                    continue;
                }
                if (t.IsPunct((byte)'(') || t.IsPunct((byte)'['))
                {
                    depth++;
                }
                else if (t.IsPunct((byte)')') || t.IsPunct((byte)']'))
                {
                    depth--;
                }
                tokens++;
            }
            if (values != plan.Columns.Count)
            {
                RewriteThrow.TupleWidth(values, plan.Columns, _unit, statement, t.Start, plan.Table.DisplayName, tupleNumber);
            }
            if (!t.Next() || !t.IsPunct((byte)','))
            {
                break;
            }
        }
    }

    void RewriteValues(RowPlan plan, ReadOnlySpan<byte> statement, int valuesEnd, IBufferWriter<byte> output)
    {
        var columns = plan.Columns.Count;
        var t = new SqlTokenizer(statement, _unit.NonStandardStrings, valuesEnd, _lexer.MySql);
        var written = 0;
        var tupleNumber = 0L;
        var tableText = plan.Table.DisplayName;
        // With a selection, tuples may go: a dropped tuple takes the separator before it along, or, before the first
        // kept one, the separator after it; a statement with none kept goes whole.
        var firstTupleStart = -1;
        var lastEnd = valuesEnd;
        var keptAny = false;
        while (t.Next() && t.IsPunct((byte)'('))
        {
            tupleNumber++;
            var tupleStart = t.Start;
            if (firstTupleStart < 0)
            {
                firstTupleStart = tupleStart;
            }
            var field = 0;
            var depth = 0;
            var valueStart = -1;
            var valueEnd = -1;
            var tokens = 0;
            var kind = FieldSyntax.SqlBare;
            while (true)
            {
                if (!t.Next())
                {
                    RewriteThrow.InsertEndsInsideTuple(_unit, statement, t.Start, tableText, tupleNumber);
                }
                if (depth == 0 && (t.IsPunct((byte)',') || t.IsPunct((byte)')')))
                {
                    if (field >= columns)
                    {
                        RewriteThrow.TupleTooManyValues(plan.Columns, _unit, statement, t.Start, tableText, tupleNumber);
                    }
                    _row.FieldStarts[field] = valueStart;
                    _row.FieldEnds[field] = valueEnd;
                    if (kind == FieldSyntax.MyIntroducer)
                    {
                        kind = FieldSyntax.SqlBare; // a word starting with '_' and no string after it
                    }
                    _row.Syntaxes[field] = tokens == 1 || IsLiteral(kind) ? kind : FieldSyntax.SqlBare;
                    if ((plan.Transformers[field] is not null || plan.Defaults?[field] == true) && tokens != 1 && !IsLiteral(kind))
                    {
                        if (tokens == 0)
                        {
                            // An empty value ("(1, , 2)") has no start: point at the ',' or ')' that ends it.
                            RewriteThrow.TupleValueMissing(plan.Columns[field], _unit, statement, t.Start, tableText, tupleNumber);
                        }
                        RewriteThrow.TupleValueNotLiteral(plan.Columns[field], _unit, statement, valueStart, tableText, tupleNumber);
                    }
                    field++;
                    if (t.IsPunct((byte)')'))
                    {
                        break;
                    }
                    valueStart = -1;
                    tokens = 0;
                    kind = FieldSyntax.SqlBare;
                    continue;
                }
                if (valueStart < 0)
                {
                    valueStart = t.Start;
                    kind = _lexer.MySql ? ClassifyMySqlValue(t) : t.Kind switch
                    {
                        // U&'...' and $$...$$ too: the transformer must see the value they stand for, not their escapes.
                        TokenKind.String or TokenKind.DollarString => FieldSyntax.SqlString,
                        TokenKind.EString => FieldSyntax.SqlEString,
                        TokenKind.Word when t.IsWord("null"u8) => FieldSyntax.SqlNull,
                        _ => FieldSyntax.SqlBare,
                    };
                }
                else if (kind == FieldSyntax.MyIntroducer && tokens == 1)
                {
                    // _binary '...' or _utf8mb4 0x...: the introducer and its literal are one value.
                    var literal = ClassifyMySqlValue(t);
                    kind = literal is FieldSyntax.MyString or FieldSyntax.MyHex ? literal : FieldSyntax.SqlBare;
                    tokens = 0;
                }
                else if (IsLiteral(kind) && (tokens == 1 ? !t.IsCast : !IsTypeNamePart(t, depth)))
                {
                    // Not a literal followed by a cast: an expression. After the cast only a type name may follow, for
                    // '...'::text || 'more' holds data beyond the literal that the transformer would never see.
                    kind = FieldSyntax.SqlBare;
                }
                else if (kind == FieldSyntax.SqlBare && tokens == 1 && t.Kind == TokenKind.Number && statement[valueStart] is (byte)'-' or (byte)'+')
                {
                    tokens = 0; // a signed number is one value
                }
                if (t.IsPunct((byte)'(') || t.IsPunct((byte)'['))
                {
                    depth++;
                }
                else if (t.IsPunct((byte)')') || t.IsPunct((byte)']'))
                {
                    depth--;
                }
                valueEnd = t.End;
                tokens++;
            }
            if (field != columns)
            {
                RewriteThrow.TupleValueCount(field, plan.Columns, _unit, statement, t.Start, tableText, tupleNumber);
            }
            var tupleEnd = t.End;
            if (plan.Selection is not null)
            {
                if (!Keeps(plan, statement, statement[tupleStart..tupleEnd], FieldSyntax.SqlBare))
                {
                    if (keptAny)
                    {
                        Write(output, statement[written..lastEnd]);
                        written = tupleEnd;
                    }
                    lastEnd = tupleEnd;
                    plan.Table.Rows++;
                    _statistics.Rows++;
                    if (!t.Next() || !t.IsPunct((byte)','))
                    {
                        break;
                    }
                    continue;
                }
                if (!keptAny && tupleStart != firstTupleStart)
                {
                    Write(output, statement[..firstTupleStart]);
                    written = tupleStart;
                }
                keptAny = true;
                lastEnd = tupleEnd;
            }
            RowAt(null, plan.Table.Rows + 1).Evaluate(plan, plan.Transformers, statement, FieldSyntax.SqlBare);
            for (var c = 0; c < columns; c++)
            {
                if (plan.Transformers[c] is null)
                {
                    if (plan.Defaults?[c] == true)
                    {
                        Write(output, statement[written.._row.FieldStarts[c]]);
                        output.Write("DEFAULT"u8);
                        written = _row.FieldEnds[c];
                    }
                    continue;
                }
                var result = _row.Results[c];
                if (result == TransformResult.Unchanged)
                {
                    continue;
                }
                Write(output, statement[written.._row.FieldStarts[c]]);
                if (result == TransformResult.Null)
                {
                    output.Write("NULL"u8);
                }
                else
                {
                    WriteSqlValue(statement, c, _row.Output(c), output);
                }
                written = _row.FieldEnds[c];
            }
            plan.Table.Rows++;
            _statistics.Rows++;
            if (!t.Next() || !t.IsPunct((byte)','))
            {
                break;
            }
        }
        if (!_inCreate && StatementParser.FindInsertTail(statement, ref t, _lexer.MySql, _lexer.Delimiter) is var tail and >= 0)
        {
            RewriteThrow.InsertTail(tableText, _unit, statement, tail);
        }
        if (plan.Selection is null || keptAny)
        {
            Write(output, statement[written..]);
        }
    }

    /// <summary>
    /// A token of the type name after a literal's cast ('...'::character varying(50)[], ::"char", COLLATE "C"): words,
    /// quoted names, dots, brackets, further casts and, inside brackets, numbers. Never a string or an operator.
    /// </summary>
    static bool IsTypeNamePart(in SqlTokenizer t, int depth) => t.Kind switch
    {
        TokenKind.Word or TokenKind.QuotedIdentifier or TokenKind.Punct => true,
        TokenKind.Number => depth > 0,
        _ => false,
    };

    static bool IsLiteral(FieldSyntax kind) => kind is FieldSyntax.SqlString or FieldSyntax.SqlEString or FieldSyntax.MyString or FieldSyntax.MyHex;

    /// <summary>Writes a transformed value where a literal stood: a string stays a string (with its cast), a bare number stays bare if it still is one.</summary>
    void WriteSqlValue(ReadOnlySpan<byte> statement, int column, ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        var raw = statement[_row.FieldStarts[column].._row.FieldEnds[column]];
        if (_lexer.MySql)
        {
            WriteMySqlValue(raw, _row.Syntaxes[column], value, output);
            return;
        }
        switch (_row.Syntaxes[column])
        {
            case FieldSyntax.SqlString:
            case FieldSyntax.SqlEString:
            {
                var t = new SqlTokenizer(raw, _unit.NonStandardStrings);
                t.Next();
                var needsE = t.Kind == TokenKind.EString || value.IndexOf((byte)'\\') >= 0 && _unit.NonStandardStrings;
                SqlLiteral.Encode(value, needsE, output);
                output.Write(raw[t.End..]); // the cast, if any
                break;
            }
            default:
                if (IsBareLiteral(value))
                {
                    output.Write(value);
                }
                else
                {
                    SqlLiteral.Encode(value, _unit.NonStandardStrings && value.IndexOf((byte)'\\') >= 0, output);
                }
                break;
        }
    }

    /// <summary>A number or boolean that may stand unquoted in SQL.</summary>
    static bool IsBareLiteral(ReadOnlySpan<byte> value)
    {
        if (value.SequenceEqual("true"u8) || value.SequenceEqual("false"u8))
        {
            return true;
        }
        var i = 0;
        if (i < value.Length && value[i] is (byte)'-' or (byte)'+')
        {
            i++;
        }
        var digits = 0;
        var dot = false;
        var exponent = false;
        for (; i < value.Length; i++)
        {
            var b = value[i];
            if (b is >= (byte)'0' and <= (byte)'9')
            {
                digits++;
            }
            else if (b == (byte)'.' && !dot && !exponent)
            {
                dot = true;
            }
            else if ((b | 0x20) == 'e' && digits > 0 && !exponent)
            {
                exponent = true;
                if (i + 1 < value.Length && value[i + 1] is (byte)'-' or (byte)'+')
                {
                    i++;
                }
            }
            else
            {
                return false;
            }
        }
        return digits > 0;
    }
}

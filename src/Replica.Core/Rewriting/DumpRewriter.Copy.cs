using System.Buffers;
using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Rewriting;

// COPY ... FROM stdin blocks: text-format rows, one per line, ended by a line "\.".
// https://www.postgresql.org/docs/current/sql-copy.html (File Formats, Text Format)
public sealed partial class DumpRewriter
{
    const byte Tab = (byte)'\t';

    void BeginCopy(TableName name, List<string>? columns, ReadOnlySpan<byte> statement, IBufferWriter<byte> output)
    {
        var table = Table(name);
        columns ??= table.ColumnNames() ?? [];
        var action = _rules.IsEmpty ? TableAction.Transform : table.Action(_rules);
        _checker.OnData(table, columns);
        _copy = NewPlan(table, columns, action);
        _copyTable = name.ToString();
        _copyRow = 0;
        _statistics.CopyBlocks++;
        _statistics.Tables++;
        if (!_copy.DropsRows)
        {
            Write(output, statement);
        }
    }

    /// <summary>
    /// The fast path for a COPY block whose rows pass through or are dropped whole: the lexer takes the run of rows that
    /// need no closer look (field count checked in one vectorized pass) and they are copied at once. Returns where the
    /// run stopped: the end of the data, a row cut by it, the end marker, or a row to be handled on its own.
    /// </summary>
    int ProcessRowsInBulk(ReadOnlySpan<byte> data, int pos, IBufferWriter<byte> output)
    {
        var plan = _copy!;
        var end = _lexer.CompleteRows(data, pos, plan.Columns.Count - 1, MaxUnitBytes, out var rows);
        if (rows == 0)
        {
            return end;
        }
        if (plan.DropsRows)
        {
            _statistics.DroppedRows += rows;
        }
        else
        {
            Write(output, data[pos..end]);
        }
        _copyRow += rows;
        plan.Table.Rows += rows;
        _statistics.Rows += rows;
        return end;
    }

    /// <summary>The end marker of a COPY block.</summary>
    void EndCopy(ReadOnlySpan<byte> unit, IBufferWriter<byte> output)
    {
        var plan = _copy!;
        if (!plan.DropsRows)
        {
            Write(output, unit);
        }
        // A custom command that printed more lines than it was given shifted values: fail before the block counts.
        plan.CompleteTransformers();
        _copy = null;
        _copyTable = null;
    }

    /// <summary>One complete row (with its '\n').</summary>
    void HandleRow(ReadOnlySpan<byte> unit, IBufferWriter<byte> output)
    {
        var plan = _copy!;
        var row = unit[^1] == (byte)'\n' ? unit[..^1] : unit;
        _copyRow++;
        if (plan.HasTransformers)
        {
            TransformCopyRow(row, unit.Length - row.Length, output);
        }
        else
        {
            CopyRowScanner.ScanRow(unit, out var tabs, out var hasBackslash);
            ValidateRow(row, tabs, hasBackslash, _unit.Offset, _unit.LineNumber, _copyRow);
            if (plan.DropsRows)
            {
                _statistics.DroppedRows++;
            }
            else
            {
                Write(output, unit);
            }
        }
        plan.Table.Rows++;
        _statistics.Rows++;
    }

    void ValidateRow(ReadOnlySpan<byte> row, int tabs, bool hasBackslash, long offset, long line, long rowNumber)
    {
        if (hasBackslash)
        {
            var bad = CopyRowScanner.CountFieldsSlow(row, out tabs);
            if (bad >= 0)
            {
                RewriteThrow.RowEndsInBackslash(offset + bad, line, _copyTable, rowNumber);
            }
        }
        var columns = _copy!.Columns.Count;
        if (columns == 0)
        {
            // A table without columns has an empty line for each row.
            if (row.Length != 0 && !(row.Length == 1 && row[0] == (byte)'\r'))
            {
                RewriteThrow.RowOfTableWithoutColumns(offset, line, _copyTable, rowNumber);
            }
            return;
        }
        if (tabs != columns - 1)
        {
            RewriteThrow.RowFieldCount(tabs + 1, _copy.Columns, offset, line, _copyTable, rowNumber);
        }
    }

    /// <summary>Splits a row into fields, transforms the planned ones, and writes the row back.</summary>
    void TransformCopyRow(ReadOnlySpan<byte> row, int terminatorLength, IBufferWriter<byte> output)
    {
        var plan = _copy!;
        var content = row;
        if (content.Length > 0 && content[^1] == (byte)'\r')
        {
            content = content[..^1];
        }
        var columns = plan.Columns.Count;
        var tabs = CopyRowScanner.SplitFields(content, _fieldEnds.AsSpan(0, columns - 1));
        if (tabs < 0)
        {
            SplitFieldsWithEscapes(content, columns);
        }
        else
        {
            if (tabs != columns - 1)
            {
                ThrowFieldCount(tabs + 1);
            }
            // _fieldEnds now holds the tab positions: field c runs from the tab before it to the tab after it.
            _fieldEnds[columns - 1] = content.Length;
            _fieldStarts[0] = 0;
            for (var c = 1; c < columns; c++)
            {
                _fieldStarts[c] = _fieldEnds[c - 1] + 1;
            }
        }
        EvaluateRow(plan, content, FieldSyntax.CopyText);

        // Write the row in one piece: the untouched stretches between transformed fields are copied as they are.
        var size = row.Length + terminatorLength;
        foreach (var c in plan.EvaluationOrder)
        {
            size += 2 * _outputLengths[c] + 2;
        }
        var destination = output.GetSpan(size);
        var written = 0;
        var copied = 0;
        for (var c = 0; c < columns; c++)
        {
            if (plan.Transformers[c] is null || _results[c] == TransformResult.Unchanged)
            {
                continue;
            }
            var untouched = content[copied.._fieldStarts[c]];
            untouched.CopyTo(destination[written..]);
            written += untouched.Length;
            if (_results[c] == TransformResult.Null)
            {
                destination[written++] = (byte)'\\';
                destination[written++] = (byte)'N';
            }
            else
            {
                written += CopyText.EncodeInto(_outputs.Slice(_outputStarts[c], _outputLengths[c]), destination[written..]);
            }
            copied = _fieldEnds[c];
        }
        var rest = row[copied..];
        rest.CopyTo(destination[written..]);
        written += rest.Length;
        if (terminatorLength == 1)
        {
            destination[written++] = (byte)'\n';
        }
        output.Advance(written);
    }

    /// <summary>The split for rows where a tab follows a backslash: escapes decide which tabs delimit.</summary>
    void SplitFieldsWithEscapes(ReadOnlySpan<byte> content, int columns)
    {
        var field = 0;
        var fieldStart = 0;
        var i = 0;
        while (true)
        {
            var k = content[i..].IndexOfAny(Tab, (byte)'\\');
            if (k < 0)
            {
                break;
            }
            i += k;
            if (content[i] == (byte)'\\')
            {
                if (i + 1 >= content.Length)
                {
                    RewriteThrow.RowEndsInBackslash(_unit.Offset + i, _unit.LineNumber, _copyTable, _copyRow);
                }
                i += 2;
                continue;
            }
            if (field + 1 >= columns)
            {
                ThrowFieldCount(field + 2);
            }
            _fieldStarts[field] = fieldStart;
            _fieldEnds[field] = i;
            field++;
            i++;
            fieldStart = i;
        }
        _fieldStarts[field] = fieldStart;
        _fieldEnds[field] = content.Length;
        if (field + 1 != columns)
        {
            ThrowFieldCount(field + 1);
        }
    }

    void ThrowFieldCount(int found) => RewriteThrow.SplitFieldCount(found, _copy!.Columns, _unit.Offset, _unit.LineNumber, _copyTable, _copyRow);
}

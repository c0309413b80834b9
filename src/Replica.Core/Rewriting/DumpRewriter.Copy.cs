using System.Buffers;
using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Rewriting;

// COPY ... FROM stdin blocks: text-format rows, one per line, ended by a line "\.".
// https://www.postgresql.org/docs/current/sql-copy.html (File Formats, Text Format)
public sealed partial class DumpRewriter
{
    void BeginCopy(TableName name, List<string>? columns, ReadOnlySpan<byte> statement, IBufferWriter<byte> output)
    {
        if (!_rules.IsEmpty || Filter is not null)
        {
            CheckNotView(name, "COPY", statement, -1);
        }
        _written.Add(name);
        var table = Table(name);
        if (columns is null && table.HasColumnRules(_rules) && table.WhyColumnOrderUnknown() is { } why)
        {
            // Its fields are matched to the columns by position, as an INSERT's without a column list are.
            RewriteThrow.ColumnOrderUnknown("COPY", table.DisplayName, why, "a column list in the COPY, as pg_dump writes it", _unit);
        }
        columns ??= table.ColumnNames() ?? [];
        var action = _rules.IsEmpty ? TableAction.Transform : table.Action(_rules);
        _checker.OnData(table, columns);
        _copy = NewPlan(table, columns, action);
        _copyTable = name.ToString();
        _copyRow = 0;
        _maskCopy = _masking is not null && ParallelMasking.CanMask(_copy);
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

    /// <summary>
    /// The fast path for a COPY block masked on lanes (<see cref="ParallelMasking"/>): the run of rows that need no closer
    /// look goes to the lanes at once; returns where it stopped, as <see cref="ProcessRowsInBulk"/>.
    /// </summary>
    int MaskRowsInBulk(ReadOnlySpan<byte> data, int pos)
    {
        var plan = _copy!;
        var offset = _lexer.UnitOffset;
        var line = _lexer.UnitLineNumber;
        var end = _lexer.CompleteRows(data, pos, plan.Columns.Count - 1, MaxUnitBytes, out var rows);
        if (rows == 0)
        {
            return end;
        }
        _masking!.AddRows(data[pos..end], plan, _laneTransformer, _copyTable, offset, line, _copyRow + 1);
        _copyRow += rows;
        plan.Table.Rows += rows;
        _statistics.Rows += rows;
        return end;
    }

    /// <summary>The end marker of a COPY block.</summary>
    void EndCopy(ReadOnlySpan<byte> unit, IBufferWriter<byte> output)
    {
        var plan = _copy!;
        if (_maskCopy)
        {
            _masking!.EndRows();
            _maskCopy = false;
        }
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
        if (row.IndexOf((byte)0) is var nul and >= 0)
        {
            // Such rows come here one by one: DumpLexer.CompleteRows stops at them.
            RewriteThrow.NulInRow(_unit.Offset + nul, _unit.LineNumber, _copyTable, _copyRow);
        }
        if (plan.Selection is not null)
        {
            var content = RowAt(_copyTable, _copyRow).SplitCopyRow(plan, row);
            if (!Keeps(plan, content, content, FieldSyntax.CopyText))
            {
                plan.Table.Rows++;
                _statistics.Rows++;
                return;
            }
        }
        if (_maskCopy)
        {
            // Checked and masked on a lane, with the same errors at the same positions.
            _masking!.AddRows(unit, plan, _laneTransformer, _copyTable, _unit.Offset, _unit.LineNumber, _copyRow);
        }
        else if (plan.HasTransformers)
        {
            RowAt(_copyTable, _copyRow).TransformCopyRow(plan, plan.Transformers, row, unit.Length - row.Length, output);
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
}

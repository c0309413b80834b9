using Replica.Lexing;

namespace Replica.Rewriting;

// The rows of COPY blocks and INSERT tuples go through one RowEvaluator (or a masking lane's, ParallelMasking).
public sealed partial class DumpRewriter
{
    readonly RowEvaluator _row = new();
    // Parallel masking (RunAsync with lanes): the lanes, whether the current COPY block goes to them, and how a lane
    // builds its own transformer for a column of a plan.
    ParallelMasking? _masking;
    bool _maskCopy;
    readonly Func<RowPlan, int, Transformers.Transformer?> _laneTransformer;

    /// <summary>Which rows stay (a subset); null: all of them.</summary>
    public IRowFilter? Filter { get; set; }

    /// <summary>The plan of a COPY header or INSERT column list, with the evaluator's scratch grown to its width.</summary>
    RowPlan NewPlan(TableState table, List<string> columns, TableAction action)
    {
        // A part's rewriter chooses rows as the rewriter of its dump does (given its filter once the subset is known).
        var filter = Filter ?? _schema?.Filter;
        var selection = action == TableAction.Transform ? filter?.Choose(table.Name, columns) : null;
        var plan = new RowPlan(table, columns, action, _rules, selection);
        _row.Fit(plan);
        return plan;
    }

    /// <summary>
    /// Whether the row whose fields the evaluator has split (FieldStarts/FieldEnds in <paramref name="fields"/>) stays;
    /// <paramref name="row"/> is the row's own bytes. A row that goes is counted as dropped.
    /// </summary>
    bool Keeps(RowPlan plan, ReadOnlySpan<byte> fields, ReadOnlySpan<byte> row, FieldSyntax uniformSyntax)
    {
        var selection = plan.Selection!;
        var kept = selection.ReadsBytes
            ? selection.Keep(_row.DecodedValues(plan, selection.Reads, fields, uniformSyntax, Lengths(selection.Reads.Count)), _lengths.AsSpan(0, selection.Reads.Count), row)
            : selection.Keep(_row.Values(plan, selection.Reads, fields, uniformSyntax), row);
        if (kept)
        {
            return true;
        }
        _statistics.DroppedRows++;
        return false;
    }

    int[] _lengths = [];

    Span<int> Lengths(int count)
    {
        if (_lengths.Length < count)
        {
            _lengths = new int[count];
        }
        return _lengths.AsSpan(0, count);
    }

    /// <summary>The evaluator, pointed at the current unit for its errors (<paramref name="rowNumber"/>: see <see cref="RowEvaluator.Row"/>).</summary>
    RowEvaluator RowAt(string? copyTable, long rowNumber)
    {
        _row.Unit = _unit;
        _row.CopyTable = copyTable;
        _row.Row = rowNumber;
        return _row;
    }
}

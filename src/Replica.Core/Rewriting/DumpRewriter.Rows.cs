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

    /// <summary>The plan of a COPY header or INSERT column list, with the evaluator's scratch grown to its width.</summary>
    RowPlan NewPlan(TableState table, List<string> columns, TableAction action)
    {
        var plan = new RowPlan(table, columns, action, _rules);
        _row.Fit(plan);
        return plan;
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

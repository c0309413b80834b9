using Replica.Lexing;
using Replica.Rewriting;
using Replica.Subsetting;

namespace Replica.Pipeline;

/// <summary>
/// The rewriter's row filter of a subset: keeps the rows of a table the closure kept and writes its foreign keys into
/// tables whose rows are not kept as NULL. A dump file's every table goes through it (<see cref="SubsetFile"/>); a live
/// source's tables whose rows are mostly kept are copied whole and go through it (<see cref="SubsetDump"/>). Safe for
/// the rewriters of several parts at once.
/// </summary>
/// <param name="nodeOf">The graph's table a dump's table stands for (a partition: its partitioned table); null: not chosen here.</param>
internal sealed class KeptRows(SubsetGraph graph, SubsetClosure closure, Func<TableName, SubsetTable?> nodeOf) : IRowFilter
{
    readonly SubsetClosure _closure = closure;
    long _nulledValues;

    /// <summary>Values written as NULL so far (non-NULL foreign keys into tables whose rows are not kept).</summary>
    public long NulledValues => Interlocked.Read(ref _nulledValues);

    public RowSelection? Choose(TableName table, IReadOnlyList<string> columns)
    {
        if (nodeOf(table) is not { } node || graph.Roles[node] is SubsetRole.Excluded or SubsetRole.Passthrough)
        {
            return null;
        }
        var nulled = graph.NulledColumns(node);
        var identity = node.Identity.Select(i => node.KeyColumns[i]).ToList();
        var reads = SubsetFile.Positions(node, [.. identity, .. nulled], columns);
        return new Chooser(this, node, graph.Roles[node] == SubsetRole.Unreached)
        {
            Reads = reads,
            Nulls = reads.Skip(identity.Count).ToHashSet(),
        };
    }

    sealed class Chooser(KeptRows owner, SubsetTable node, bool none) : RowSelection
    {
        public override bool Keep(string?[] values, ReadOnlySpan<byte> row)
        {
            var identityCount = node.Identity.Count;
            if (none || !owner._closure.IsKept(node, SubsetFile.Identity(node, values[..identityCount], row)))
            {
                return false;
            }
            var nulled = 0;
            for (var i = identityCount; i < values.Length; i++)
            {
                nulled += values[i] is null ? 0 : 1;
            }
            Interlocked.Add(ref owner._nulledValues, nulled);
            return true;
        }
    }
}

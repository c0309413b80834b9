using Replica.Lexing;
using Replica.Rewriting;
using Replica.Subsetting;

namespace Replica.Pipeline;

/// <summary>
/// The rewriter's row filter of a subset: keeps the rows of a table the closure kept and writes its foreign keys into
/// tables whose rows are not kept as NULL. A dump file's every table goes through it (<see cref="SubsetFile"/>), which
/// knows its rows by number (<paramref name="bits"/>: the rows come in the order pass 2 numbered them, so it reads one
/// bit per row, in order); a live source's tables whose rows are mostly kept are copied whole and go through it
/// (<see cref="SubsetDump"/>), which knows rows by identity and is safe for the rewriters of several parts at once.
/// </summary>
/// <param name="nodeOf">The graph's table a dump's table stands for (a partition: its partitioned table); null: not chosen here.</param>
/// <param name="bits">A dump file's kept rows by number (the rows of every table pass 2 recorded: not excluded, not unreached); null: by identity.</param>
internal sealed class KeptRows(SubsetGraph graph, SubsetClosure closure, Func<TableName, SubsetTable?> nodeOf, KeptRowBits? bits = null) : IRowFilter
{
    readonly SubsetClosure _closure = closure;
    readonly KeptRowBits? _bits = bits;
    long _nulledValues;
    // The number of the next row pass 2 recorded (file mode).
    long _rowNumber;

    /// <summary>Values written as NULL so far (non-NULL foreign keys into tables whose rows are not kept).</summary>
    public long NulledValues => Interlocked.Read(ref _nulledValues);

    public RowSelection? Choose(TableName table, IReadOnlyList<string> columns)
    {
        if (nodeOf(table) is not { } node || graph.Roles[node] is SubsetRole.Excluded)
        {
            return null;
        }
        var nulled = graph.NulledColumns(node);
        if (graph.Roles[node] is SubsetRole.Passthrough)
        {
            // Every row stays (a dump file's are counted, since pass 2 numbered them), with its foreign keys into tables
            // whose rows are not kept written as NULL as anywhere else.
            if (nulled.Count == 0)
            {
                return _bits is null ? null : new Counter(this) { Reads = [] };
            }
            var nulledReads = SubsetFile.Positions(node, nulled, columns);
            return new Chooser(this, node, none: false, identityCount: 0) { Every = true, Reads = nulledReads, Nulls = nulledReads.ToHashSet() };
        }
        List<string> identity = _bits is null ? [.. node.Identity.Select(i => node.KeyColumns[i])] : [];
        var reads = SubsetFile.Positions(node, [.. identity, .. nulled], columns);
        return new Chooser(this, node, graph.Roles[node] == SubsetRole.Unreached, identity.Count)
        {
            Reads = reads,
            Nulls = reads.Skip(identity.Count).ToHashSet(),
        };
    }

    sealed class Chooser(KeptRows owner, SubsetTable node, bool none, int identityCount) : RowSelection
    {
        /// <summary>Every row stays (a passthrough table's): only its nulled columns are read, to count them.</summary>
        public bool Every { get; init; }

        /// <summary>A dump file's next row, numbered by pass 2: kept when every row stays, else as its bit says.</summary>
        bool Numbered(KeptRowBits bits)
        {
            var number = owner._rowNumber++;
            return Every || bits.IsKept(number);
        }

        // A dump file's rows are kept by number: only the nulled columns are read, as bytes (no string per value).
        public override bool ReadsBytes => owner._bits is not null;

        public override bool Keep(string?[] values, ReadOnlySpan<byte> row)
        {
            // An unreached table's rows were not recorded (nor numbered): none stays.
            if (none || !(owner._bits is { } bits
                ? Numbered(bits)
                : Every || owner._closure.IsKept(node, SubsetFile.Identity(node, values[..identityCount], row))))
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

        public override bool Keep(ReadOnlySpan<byte> values, ReadOnlySpan<int> lengths, ReadOnlySpan<byte> row)
        {
            if (none || !Numbered(owner._bits!))
            {
                return false;
            }
            var nulled = 0;
            foreach (var length in lengths)
            {
                nulled += length < 0 ? 0 : 1;
            }
            Interlocked.Add(ref owner._nulledValues, nulled);
            return true;
        }
    }

    sealed class Counter(KeptRows owner) : RowSelection
    {
        public override bool ReadsBytes => true;

        public override bool Keep(string?[] values, ReadOnlySpan<byte> row) => Keep(default, default, row);

        public override bool Keep(ReadOnlySpan<byte> values, ReadOnlySpan<int> lengths, ReadOnlySpan<byte> row)
        {
            owner._rowNumber++;
            return true;
        }
    }
}

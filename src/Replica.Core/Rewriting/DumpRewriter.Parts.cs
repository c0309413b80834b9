using System.Diagnostics.CodeAnalysis;
using Replica.Lexing;

namespace Replica.Rewriting;

// A dump in parts (replica dump --jobs): the schema part first, then the other parts at once, each through its own
// rewriter with the same rules. The rewriter learns from the stream (CREATE TABLE columns and partitions, which tables
// are dropped and so lose their constraints in post-data), so each part's rewriter starts from what the schema part
// taught this one, and what the parts saw comes back here at the end for the checks of the whole dump.
public sealed partial class DumpRewriter
{
    /// <summary>For a part's rewriter: the rewriter that read the schema part, whose tables it looks up (read only).</summary>
    DumpRewriter? _schema;

    /// <summary>After <see cref="BeginParts"/>: the parts' rewriters, in restore order.</summary>
    List<DumpRewriter>? _parts;

    /// <summary>The parts' rewriters made and not yet ended (<see cref="EndPart"/>): those that hold their buffers.</summary>
    int _partsHoldingBuffers;

    /// <summary>For a part's rewriter: <see cref="EndPart"/> gave its buffers back.</summary>
    bool _ended;

    /// <summary>For the tests: the most parts' rewriters that held their buffers at once (at most the parts in flight).</summary>
    internal int MostPartsHoldingBuffers { get; private set; }

    /// <summary>
    /// Makes this the rewriter of a dump in parts: it reads the first part (the schema: pg_dump's pre-data section) as
    /// usual; <see cref="ForPart"/> gives a rewriter for each later part, and <see cref="CompleteParts"/> ends the dump
    /// with the checks a single stream makes at its end (rules that matched nothing). Statistics are then those of
    /// every part.
    /// </summary>
    public void BeginParts()
    {
        if (_schema is not null || _parts is not null)
        {
            throw new InvalidOperationException("this rewriter already reads a dump in parts");
        }
        _parts = [];
    }

    /// <summary>
    /// A rewriter for the next part (call in restore order, once the schema part was read to its end). It knows every
    /// table this rewriter has seen, applies the same rules, and may run on another thread at the same time as the other
    /// parts' rewriters; this rewriter disposes it.
    /// </summary>
    public DumpRewriter ForPart()
    {
        var parts = _parts ?? throw new InvalidOperationException("BeginParts first");
        var part = new DumpRewriter(_rules, MaxUnitBytes, Dialect) { _schema = this };
        lock (parts)
        {
            parts.Add(part);
            MostPartsHoldingBuffers = Math.Max(MostPartsHoldingBuffers, Interlocked.Increment(ref _partsHoldingBuffers));
        }
        return part;
    }

    /// <summary>
    /// For a part's rewriter whose part was read to its end: gives back its buffers and disposes its transformers now
    /// rather than with this rewriter at the end of the dump, which for a dump of thousands of small tables held every
    /// part's buffers to its end (~45 KiB a part). What <see cref="CompleteParts"/> takes in (tables, columns, counters)
    /// stays; the transformers already checked their columns at the end of the part's COPY.
    /// </summary>
    public void EndPart()
    {
        if (_schema is null)
        {
            throw new InvalidOperationException("only a part's rewriter ends its part");
        }
        if (_ended)
        {
            return;
        }
        _ended = true;
        Interlocked.Decrement(ref _schema._partsHoldingBuffers);
        foreach (var table in _tables.Values)
        {
            table.Dispose();
        }
        _carry.Dispose();
        _row.Dispose();
    }

    /// <summary>
    /// Whether the rows of a table are kept (neither dropped nor skipped by a rule, nor by only_tables), by what the
    /// schema part said of it (a partition follows its parent). A part for a table whose rows are not kept need not be read.
    /// </summary>
    public bool KeepsRows(string schema, string table)
    {
        if (_rules.IsEmpty)
        {
            return true;
        }
        _tables.TryGetValue(new TableName(schema, table), out var state);
        return (state is null ? _rules.ActionFor(new TableName(schema, table), Dialect) : state.ActionOf(_rules)) == TableAction.Transform;
    }

    /// <summary>
    /// Every part has been read to its end: takes in what each part's rewriter saw (tables, columns, counters), in
    /// restore order, then checks the rules against the whole dump as the end of a single stream does.
    /// </summary>
    public void CompleteParts()
    {
        var parts = _parts ?? throw new InvalidOperationException("BeginParts first");
        foreach (var part in parts)
        {
            foreach (var table in part._tables.Values)
            {
                var mine = Table(table.Name);
                mine.NoteColumns(table.SeenColumns);
                mine.Rows += table.Rows;
                mine.AddPlaces(table);
                mine.Columns ??= table.Columns;
                mine.Created |= table.Created;
                if (mine.Parents.Count == 0 && table.Parents.Count > 0)
                {
                    mine.SetParents([.. table.Parents.Select(p => Table(p.Name))], table.IsPartition);
                }
            }
            _statistics.Add(part._statistics);
        }
        DisposeParts();
        _parts = null;
        _checker.OnComplete();
    }

    RewriteStatistics SumOfParts()
    {
        var sum = new RewriteStatistics();
        sum.Add(_statistics);
        var parts = _parts;
        if (parts is not null)
        {
            lock (parts)
            {
                foreach (var part in parts)
                {
                    sum.Add(part._statistics);
                }
            }
        }
        return sum;
    }

    /// <summary>
    /// The table of that name: this rewriter's own, or for a part's rewriter a copy of what the schema part knew of it
    /// (the schema's tables are not touched while the parts run).
    /// </summary>
    bool TryGetTable(TableName name, [NotNullWhen(true)] out TableState? state)
    {
        if (_tables.TryGetValue(name, out state))
        {
            return true;
        }
        if (_schema is null || !_schema._tables.TryGetValue(name, out var known))
        {
            return false;
        }
        state = new TableState(name, Dialect)
        {
            StrictChecked = known.StrictChecked,
        };
        state.CopyDefinition(known);
        state.NoteColumns(known.SeenColumns);
        _tables.Add(name, state);
        // Every parent, not only the first: a child takes the rules of each (its own copies, looked up the same way).
        state.SetParents([.. known.Parents.Select(p => Table(p.Name))], known.IsPartition);
        return true;
    }

    void DisposeParts()
    {
        if (_parts is not { } parts)
        {
            return;
        }
        lock (parts)
        {
            foreach (var part in parts)
            {
                part.Dispose();
            }
            parts.Clear();
        }
    }
}

using System.Security.Cryptography;
using System.Text;
using Replica.Transformers;

namespace Replica.Subsetting;

/// <summary>
/// Which rows a subset keeps. Roots select rows (where, then percent, then limit). Rows reached downward (roots, and
/// rows of followed child tables that reference a row reached downward) bring their children in followed tables and
/// all their parents; rows reached upward (as someone's parent) bring only their own parents, transitively. Every kept
/// row's referenced rows are kept, unless the referenced table is excluded (data: skip). Runs in rounds: each round
/// takes, table by table, the rows reached in the round before and asks the source for their children and parents in
/// batches of key tuples (<see cref="BatchSize"/>), so that no query is long.
/// </summary>
public sealed class SubsetClosure
{
    /// <summary>Key tuples per source query.</summary>
    public const int BatchSize = 5000;

    readonly SubsetGraph _graph;
    readonly ISubsetSource _source;
    readonly SipKey _sampleKey;
    readonly long? _maxRowsPerTable;
    readonly Dictionary<SubsetTable, HashSet<string>> _down = [];
    readonly Dictionary<SubsetTable, HashSet<string>> _up = [];
    // Per link and direction, the key tuples already asked for: a tuple is looked up once.
    readonly Dictionary<(SubsetLink, bool), HashSet<string>> _asked = [];
    // Rows reached in the current round and not yet expanded, per table and direction.
    Dictionary<SubsetTable, List<KeyRow>> _pendingDown = [];
    Dictionary<SubsetTable, List<KeyRow>> _pendingUp = [];

    /// <param name="secret">The config's secret: percent and limit are keyed, so the same data gives the same subset.</param>
    public SubsetClosure(SubsetGraph graph, ISubsetSource source, ReadOnlySpan<byte> secret, long? maxRowsPerTable = null)
    {
        _graph = graph;
        _source = source;
        _maxRowsPerTable = maxRowsPerTable;
        _sampleKey = SipKey.FromBytes(HMACSHA256.HashData(secret, "replica subset sample v1"u8));
        foreach (var table in graph.Tables)
        {
            _down[table] = [];
            _up[table] = [];
        }
    }

    /// <summary>Rounds run so far (progress).</summary>
    public int Rounds { get; private set; }

    /// <summary>The identities of the rows kept in <paramref name="table"/>.</summary>
    public bool IsKept(SubsetTable table, string id) => _down[table].Contains(id) || _up[table].Contains(id);

    /// <summary>How many rows of <paramref name="table"/> are kept.</summary>
    public long KeptCount(SubsetTable table) => _down[table].Count + _up[table].Count;

    /// <summary>Every kept identity of <paramref name="table"/>.</summary>
    public IEnumerable<string> Kept(SubsetTable table) => _down[table].Concat(_up[table]);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        foreach (var root in _graph.Roots)
        {
            if (_graph.Excluded.Contains(root.Table))
            {
                continue;
            }
            await foreach (var row in SelectAsync(root, cancellationToken).ConfigureAwait(false))
            {
                ReachDown(root.Table, row);
            }
        }
        foreach (var table in _graph.Passthrough)
        {
            if (_graph.Excluded.Contains(table))
            {
                continue;
            }
            await foreach (var row in _source.ReadAllAsync(table, cancellationToken).ConfigureAwait(false))
            {
                ReachUp(table, row);
            }
        }
        while (_pendingDown.Count > 0 || _pendingUp.Count > 0)
        {
            Rounds++;
            var down = _pendingDown;
            var up = _pendingUp;
            _pendingDown = [];
            _pendingUp = [];
            foreach (var (table, rows) in down)
            {
                foreach (var link in _graph.ChildLinks(table))
                {
                    if (_graph.Followed.Contains(link.Child) && !_graph.Excluded.Contains(link.Child))
                    {
                        await ExpandAsync(link, rows, toChildren: true, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            foreach (var (table, rows) in down.Concat(up))
            {
                foreach (var link in _graph.ParentLinks(table))
                {
                    if (!_graph.Excluded.Contains(link.Parent))
                    {
                        await ExpandAsync(link, rows, toChildren: false, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
    }

    /// <summary>A root's rows: where (by the source), then percent, then limit (both keyed on the row's identity).</summary>
    async IAsyncEnumerable<KeyRow> SelectAsync(SubsetStart root, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var threshold = root.Percent is double percent ? Threshold(percent) : ulong.MaxValue;
        if (root.Limit is not long limit)
        {
            await foreach (var row in _source.ReadRootAsync(root, cancellationToken).ConfigureAwait(false))
            {
                if (Sample(root.Table, row.Id) <= threshold)
                {
                    yield return row;
                }
            }
            yield break;
        }
        // The N rows with the smallest keyed hashes: a max-heap of N, so memory is the limit, not the table.
        var heap = new PriorityQueue<KeyRow, (ulong Hash, string Id)>(Comparer<(ulong Hash, string Id)>.Create(
            (a, b) => b.Hash != a.Hash ? b.Hash.CompareTo(a.Hash) : string.CompareOrdinal(b.Id, a.Id)));
        await foreach (var row in _source.ReadRootAsync(root, cancellationToken).ConfigureAwait(false))
        {
            var hash = Sample(root.Table, row.Id);
            if (hash > threshold || limit == 0)
            {
                continue;
            }
            if (heap.Count < limit)
            {
                heap.Enqueue(row, (hash, row.Id));
            }
            else if (heap.TryPeek(out _, out var largest) && (hash < largest.Hash || hash == largest.Hash && string.CompareOrdinal(row.Id, largest.Id) < 0))
            {
                heap.EnqueueDequeue(row, (hash, row.Id));
            }
        }
        while (heap.TryDequeue(out var row, out _))
        {
            yield return row;
        }
    }

    /// <summary>The largest hash a row of a <paramref name="percent"/> sample may have.</summary>
    static ulong Threshold(double percent) => percent >= 100 ? ulong.MaxValue : (ulong)(percent / 100 * 18446744073709551615.0);

    /// <summary>The keyed hash of a row's identity within its table: the same on every run with the same secret.</summary>
    public ulong Sample(SubsetTable table, string id)
    {
        var bytes = Encoding.UTF8.GetBytes(table.Name + "\0" + id);
        return SipHash.Hash64(_sampleKey, bytes);
    }

    void ReachDown(SubsetTable table, in KeyRow row)
    {
        if (!_down[table].Add(row.Id))
        {
            return;
        }
        _up[table].Remove(row.Id);
        CheckLimit(table);
        Pending(_pendingDown, table).Add(row);
    }

    void ReachUp(SubsetTable table, in KeyRow row)
    {
        if (_down[table].Contains(row.Id) || !_up[table].Add(row.Id))
        {
            return;
        }
        CheckLimit(table);
        Pending(_pendingUp, table).Add(row);
    }

    static List<KeyRow> Pending(Dictionary<SubsetTable, List<KeyRow>> pending, SubsetTable table)
    {
        if (!pending.TryGetValue(table, out var rows))
        {
            rows = [];
            pending[table] = rows;
        }
        return rows;
    }

    void CheckLimit(SubsetTable table)
    {
        if (_maxRowsPerTable is long max && KeptCount(table) > max)
        {
            throw new ConfigException($"subset: table {table.Name} would keep more than max_rows_per_table ({max}) rows; raise the cap or narrow the roots");
        }
    }

    /// <summary>
    /// Down a link (its child rows that reference <paramref name="rows"/>, reached downward) or up it (the parents
    /// <paramref name="rows"/> reference, reached upward), asking the source in batches of tuples not asked before.
    /// </summary>
    async Task ExpandAsync(SubsetLink link, List<KeyRow> rows, bool toChildren, CancellationToken cancellationToken)
    {
        var key = (link, toChildren);
        if (!_asked.TryGetValue(key, out var asked))
        {
            asked = [];
            _asked[key] = asked;
        }
        var from = toChildren ? link.ParentColumns : link.ChildColumns;
        // Up a link to the parent's primary key, a tuple is the parent's identity: a parent already kept needs no query.
        var toIdentity = !toChildren && link.ParentColumns.AsSpan().SequenceEqual(link.Parent.Identity.ToArray());
        var batch = new List<string[]>();
        foreach (var row in rows)
        {
            if (!toChildren && !link.Applies(row))
            {
                continue;
            }
            var tuple = new string[from.Length];
            var hasNull = false;
            for (var i = 0; i < from.Length; i++)
            {
                var value = row.Values[from[i]];
                hasNull |= value is null;
                tuple[i] = value!;
            }
            if (hasNull)
            {
                continue;
            }
            var tupleKey = Identity(tuple);
            if (toIdentity && IsKept(link.Parent, tupleKey) || !asked.Add(tupleKey))
            {
                continue;
            }
            batch.Add(tuple);
            if (batch.Count == BatchSize)
            {
                await LookUpAsync(link, batch, toChildren, cancellationToken).ConfigureAwait(false);
                batch = [];
            }
        }
        if (batch.Count > 0)
        {
            await LookUpAsync(link, batch, toChildren, cancellationToken).ConfigureAwait(false);
        }
    }

    async Task LookUpAsync(SubsetLink link, List<string[]> tuples, bool toChildren, CancellationToken cancellationToken)
    {
        var table = toChildren ? link.Child : link.Parent;
        var columns = toChildren ? link.ChildColumns : link.ParentColumns;
        await foreach (var found in _source.ReadMatchingAsync(table, columns, tuples, cancellationToken).ConfigureAwait(false))
        {
            if (toChildren)
            {
                if (link.Applies(found))
                {
                    ReachDown(table, found);
                }
            }
            else
            {
                ReachUp(table, found);
            }
        }
    }

    /// <summary>The values of a tuple of <paramref name="count"/> that <see cref="Identity"/> joined into <paramref name="id"/>.</summary>
    public static string[] SplitIdentity(string id, int count)
    {
        if (count == 1)
        {
            return [id];
        }
        var values = new string[count];
        var pos = 0;
        for (var i = 0; i < count; i++)
        {
            var colon = id.IndexOf(':', pos);
            var length = int.Parse(id.AsSpan(pos, colon - pos), System.Globalization.CultureInfo.InvariantCulture);
            values[i] = id.Substring(colon + 1, length);
            pos = colon + 1 + length;
        }
        return values;
    }

    /// <summary>
    /// One string for a tuple of values: the value itself for one, else each length-prefixed, so no two tuples collide.
    /// A source gives a row of a table with a primary key this identity of its key's values (<see cref="KeyRow.Id"/>).
    /// </summary>
    public static string Identity(IReadOnlyList<string> tuple)
    {
        if (tuple.Count == 1)
        {
            return tuple[0];
        }
        var text = new StringBuilder();
        foreach (var value in tuple)
        {
            text.Append(value.Length).Append(':').Append(value);
        }
        return text.ToString();
    }
}

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
    readonly KeyStore _store;
    readonly SipKey _sampleKey;
    readonly long? _maxRowsPerTable;
    readonly Dictionary<SubsetTable, int> _tables = [];
    readonly Dictionary<SubsetLink, int> _links = [];
    // Per table, the kept identities of which only some copies are kept: a limit root's last chosen rows without a
    // primary key (at most one identity per limit root), unless a path that keeps every copy reaches them too.
    readonly Dictionary<int, Dictionary<string, long>> _copies = [];
    // The tables with rows waiting for the next round.
    HashSet<int> _next = [];

    /// <param name="store">Where the kept rows and the asked tuples go (memory-bounded, spilling to disk); the caller disposes it.</param>
    /// <param name="secret">The config's secret: percent and limit are keyed, so the same data gives the same subset.</param>
    public SubsetClosure(SubsetGraph graph, ISubsetSource source, KeyStore store, ReadOnlySpan<byte> secret, long? maxRowsPerTable = null)
    {
        _graph = graph;
        _source = source;
        _store = store;
        _maxRowsPerTable = maxRowsPerTable;
        _sampleKey = SipKey.FromBytes(HMACSHA256.HashData(secret, "replica subset sample v1"u8));
        foreach (var table in graph.Tables)
        {
            _tables[table] = _tables.Count;
        }
        foreach (var link in graph.Links)
        {
            _links[link] = _links.Count;
        }
    }

    /// <summary>Rounds run so far (progress).</summary>
    public int Rounds { get; private set; }

    /// <summary>Gets a progress line after each round: its number and the rows kept so far.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>Whether the row of <paramref name="table"/> with identity <paramref name="id"/> is kept.</summary>
    public bool IsKept(SubsetTable table, string id) => _store.IsKept(_tables[table], id);

    /// <summary>How many rows of <paramref name="table"/> are kept.</summary>
    public long KeptCount(SubsetTable table) => _store.KeptCount(_tables[table]);

    /// <summary>Every kept identity of <paramref name="table"/>, ordered by their UTF-8 bytes.</summary>
    public IEnumerable<string> Kept(SubsetTable table) => _store.Kept(_tables[table]);

    /// <summary>
    /// The kept identities of <paramref name="table"/> of which fewer copies are kept than the table holds, with how
    /// many (null: every copy of every kept identity). Only a table without a primary key has copies: rows of the same
    /// content, one identity; a root's limit takes the copies of its chosen identities until it has its rows, so the
    /// last one may be taken in part.
    /// </summary>
    public IReadOnlyDictionary<string, long>? CopyLimits(SubsetTable table) => CopyLimits(_tables[table]);

    /// <summary><see cref="CopyLimits(SubsetTable)"/> by the table's index (the key store's).</summary>
    public IReadOnlyDictionary<string, long>? CopyLimits(int table) => _copies.GetValueOrDefault(table);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        for (var r = 0; r < _graph.Roots.Count; r++)
        {
            var root = _graph.Roots[r];
            if (_graph.Excluded.Contains(root.Table))
            {
                continue;
            }
            await foreach (var (row, copies) in SelectAsync(r, root, cancellationToken).ConfigureAwait(false))
            {
                Reach(root.Table, row, down: true, copies);
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
                Reach(table, row, down: false);
            }
        }
        while (_next.Count > 0)
        {
            Rounds++;
            var tables = _next.Order().ToList();
            _next = [];
            // Each question is asked before the answer to the one before is read, up to the source's concurrency: the
            // server looks up the next batch while the client records the last one. A question built before the answers
            // ahead of it are recorded may ask for rows they bring (a parent already kept): its answer then changes nothing.
            var asked = new Queue<(SubsetLink Link, bool ToChildren, IAsyncEnumerable<KeyRow> Rows)>();
            try
            {
                foreach (var (link, tuples, toChildren) in Lookups(tables, cancellationToken))
                {
                    asked.Enqueue((link, toChildren, _source.StartMatching(toChildren ? link.Child : link.Parent,
                        toChildren ? link.ChildColumns : link.ParentColumns, tuples, cancellationToken)));
                    while (asked.Count >= Math.Max(1, _source.Concurrency))
                    {
                        var answer = asked.Dequeue();
                        await RecordAsync(answer.Link, answer.ToChildren, answer.Rows, cancellationToken).ConfigureAwait(false);
                    }
                }
                while (asked.TryDequeue(out var answer))
                {
                    await RecordAsync(answer.Link, answer.ToChildren, answer.Rows, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                // A failure (a cap passed, the server gone): the questions still open are stopped.
                while (asked.TryDequeue(out var open))
                {
                    if (open.Rows is IAsyncDisposable started)
                    {
                        await started.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }
            if (Progress is { } progress)
            {
                var kept = _graph.Tables.Select(KeptCount).Where(n => n > 0).ToList();
                progress($"subset: round {Rounds} done, {kept.Sum()} rows kept in {kept.Count} tables");
            }
        }
    }

    /// <summary>
    /// A round's questions, built as they are asked: for each table with rows waiting, a page at a time, its followed
    /// children of the rows reached downward, then the parents of all of them.
    /// </summary>
    IEnumerable<(SubsetLink Link, List<string[]> Tuples, bool ToChildren)> Lookups(List<int> tables, CancellationToken cancellationToken)
    {
        foreach (var index in tables)
        {
            var table = _graph.Tables[index];
            foreach (var page in _store.Pending(index, Rounds))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var down = page.Where(p => p.Down).Select(p => new KeyRow(p.Id, p.Values)).ToList();
                var all = page.Select(p => new KeyRow(p.Id, p.Values)).ToList();
                foreach (var link in _graph.ChildLinks(table))
                {
                    if (down.Count > 0 && _graph.WalksDown(link))
                    {
                        foreach (var batch in Batches(link, down, toChildren: true))
                        {
                            yield return (link, batch, true);
                        }
                    }
                }
                foreach (var link in _graph.ParentLinks(table))
                {
                    if (!_graph.Excluded.Contains(link.Parent))
                    {
                        foreach (var batch in Batches(link, all, toChildren: false))
                        {
                            yield return (link, batch, false);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// A root's rows: where (by the source), then percent, then limit (both keyed on the row's identity), each with how
    /// many of its copies are taken (null: all). Copies (rows without a primary key of the same content) share their
    /// identity and so its hash: percent takes all or none of them, and limit counts each, taking the last identity's
    /// in part when only some fit.
    /// </summary>
    async IAsyncEnumerable<(KeyRow Row, long? Copies)> SelectAsync(int index, SubsetStart root, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var threshold = root.Percent is double percent ? Threshold(percent) : ulong.MaxValue;
        await foreach (var row in _source.ReadRootAsync(root, cancellationToken).ConfigureAwait(false))
        {
            var hash = Sample(root.Table, row.Id);
            if (hash > threshold)
            {
                continue;
            }
            if (root.Limit is null)
            {
                yield return (row, null);
            }
            else
            {
                // The N rows with the smallest keyed hashes: every candidate goes to the store, which sorts on disk.
                _store.AddSample(index, hash, row);
            }
        }
        if (root.Limit is long limit)
        {
            // Each identity has at least one copy: the limit's identities are at most its rows.
            var left = limit;
            foreach (var (row, copies) in _store.Smallest(index, limit))
            {
                if (left == 0)
                {
                    break;
                }
                var take = Math.Min(copies, left);
                left -= take;
                yield return (row, take < copies ? take : null);
            }
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

    /// <summary>
    /// Keeps a row for the next round: downward (a row kept upward so far is expanded again, downward) or upward; with
    /// <paramref name="copies"/>, only that many copies of it (a limit root's last identity), unless it is reached by a
    /// path that keeps every copy, before or after.
    /// </summary>
    void Reach(SubsetTable table, in KeyRow row, bool down, long? copies = null)
    {
        var index = _tables[table];
        if (copies is long some)
        {
            var limits = _copies.GetValueOrDefault(index);
            if (!_store.IsKept(index, row.Id))
            {
                limits ??= _copies[index] = new(StringComparer.Ordinal);
                limits[row.Id] = some;
            }
            else if (limits is not null && limits.TryGetValue(row.Id, out var before))
            {
                // Two limit roots on the table: the copies of the one that takes more.
                limits[row.Id] = Math.Max(before, some);
            }
        }
        else if (_copies.Count > 0 && _copies.TryGetValue(index, out var limits))
        {
            limits.Remove(row.Id);
        }
        if (!_store.Reach(index, row.Id, row.Values, down, Rounds + 1))
        {
            return;
        }
        _next.Add(index);
        if (_maxRowsPerTable is long max && _store.KeptCount(index) > max)
        {
            throw new ConfigException($"subset: table {table.Name} would keep more than max_rows_per_table ({max}) rows; raise the cap or narrow the roots");
        }
    }

    /// <summary>
    /// Down a link (its child rows that reference <paramref name="rows"/>, reached downward) or up it (the parents
    /// <paramref name="rows"/> reference, reached upward): the tuples not asked before, in batches (<see cref="BatchSize"/>).
    /// </summary>
    IEnumerable<List<string[]>> Batches(SubsetLink link, List<KeyRow> rows, bool toChildren)
    {
        var asked = _links[link] * 2 + (toChildren ? 1 : 0);
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
            if (toIdentity && IsKept(link.Parent, tupleKey) || !_store.Ask(asked, tupleKey))
            {
                continue;
            }
            batch.Add(tuple);
            if (batch.Count == BatchSize)
            {
                yield return batch;
                batch = [];
            }
        }
        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    /// <summary>Records the answer to a question: child rows reached downward (those the link applies to), parents upward.</summary>
    async Task RecordAsync(SubsetLink link, bool toChildren, IAsyncEnumerable<KeyRow> rows, CancellationToken cancellationToken)
    {
        var table = toChildren ? link.Child : link.Parent;
        await foreach (var found in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (!toChildren || link.Applies(found))
            {
                Reach(table, found, down: toChildren);
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

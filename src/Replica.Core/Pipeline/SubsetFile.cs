using System.Security.Cryptography;
using System.Text;
using Replica.Config;
using Replica.Lexing;
using Replica.Rewriting;
using Replica.Subsetting;

namespace Replica.Pipeline;

/// <summary>
/// A subset of a PostgreSQL dump file, with no database: pg_dump declares keys after the data, so a first pass learns
/// the schema (CREATE TABLE, ALTER TABLE ... ADD CONSTRAINT ... PRIMARY / FOREIGN KEY, partitions) and counts rows, a
/// second records every row's key values in the key store, the closure runs against the store, and the dump itself (a
/// third pass, by <see cref="DumpJob"/>) keeps the rows the closure kept. Standard input is spooled to a compressed
/// file in the store's directory first. Rows are identified as in live mode (the primary key's values); a table without
/// a primary key by a digest of the row as written.
/// </summary>
internal static class SubsetFile
{
    /// <summary>
    /// Runs the first two passes over <paramref name="source"/> and the closure, and gives <paramref name="rewriter"/>
    /// the filter that keeps the subset's rows. Returns the summary, to be asked once the dump has been written (it
    /// counts the values written as NULL).
    /// </summary>
    public static async Task<Func<SubsetSummary>> ApplyAsync(Sources.IDumpSource source, ReplicaConfig config, DumpRewriter rewriter, KeyStore store,
        Action<string>? progress, CancellationToken cancellationToken)
    {
        var subset = config.Subset!;
        // Pass 1: the schema and each table's row count.
        using var schema = new DumpRewriter(RewriteRules.None, config.MaxRowBytes, rewriter.Dialect) { Filter = NoChoice.Instance };
        await DiscardingPipeWriter.PassAsync(schema, source.Open(), cancellationToken).ConfigureAwait(false);
        var states = schema.Tables.Where(t => t.Created).ToList();
        var (tables, links) = SubsetSchema.Build(
            [.. states.Select(t => new SchemaTable(NameOf(t), t.Keys.FirstOrDefault(k => k.IsPrimary)?.Columns ?? [])
            {
                Parents = [.. t.Parents.Select(NameOf)],
                Partition = t.IsPartition,
                NotNullColumns = [.. t.Columns?.Where(c => c.NotNull).Select(c => c.Name) ?? []],
            })],
            [.. Links(states), .. SubsetPlan.VirtualLinks(subset)]);
        var byName = tables.ToDictionary(t => t.Name, StringComparer.Ordinal);
        // Each of the dump's tables (a partition too) by the graph's table it stands for (none: a partition whose
        // partitioned table the dump does not create).
        var nodes = new Dictionary<TableName, SubsetTable>();
        var estimates = tables.ToDictionary(t => t, _ => 0L);
        foreach (var state in states)
        {
            if (byName.TryGetValue(NameOf(Root(state)), out var node))
            {
                nodes[state.Name] = node;
                estimates[node] += state.Rows;
            }
        }
        var plan = SubsetPlan.Build(config, tables, links, estimates, rewriter.Dialect);
        progress?.Invoke($"subset: schema read ({tables.Count} tables, {links.Count} links)");

        // Pass 2: every row's key values, into the store.
        var index = new FileKeyIndex(plan.Graph, store, nodes, Foldings(plan.Graph, states, rewriter.Dialect));
        using (var keys = new DumpRewriter(RewriteRules.None, config.MaxRowBytes, rewriter.Dialect) { Filter = index })
        {
            await DiscardingPipeWriter.PassAsync(keys, source.Open(), cancellationToken).ConfigureAwait(false);
        }
        progress?.Invoke($"subset: keys read ({index.Rows} rows)");

        var closure = new SubsetClosure(plan.Graph, index, store, Encoding.UTF8.GetBytes(config.Secret), subset.MaxRowsPerTable)
        {
            Progress = progress,
        };
        await closure.RunAsync(cancellationToken).ConfigureAwait(false);
        // Pass 3 meets the rows pass 2 recorded in the same order: it reads their fate by number, one bit per row.
        // The store's table numbers are the closure's (both number the graph's tables in order).
        var bits = store.BuildKeptRowBits(index.Rows, [.. tables.Where(t => plan.Graph.Roles[t] is not (SubsetRole.Excluded or SubsetRole.Unreached or SubsetRole.Passthrough))
            .Select(index.IndexOf)], closure.CopyLimits);
        var kept = new KeptRows(plan.Graph, closure, nodes.GetValueOrDefault, bits);
        rewriter.Filter = kept;
        var summary = new SubsetSummary(closure.Rounds, [.. tables.Where(t => closure.KeptCount(t) > 0).Select(t => (t.Name, closure.KeptCount(t)))],
            SubsetDump.NulledLinks(plan.Graph));
        return () => summary with { NulledValues = kept.NulledValues };
    }

    /// <summary>
    /// What a subset without a database cannot do, refused before anything is read (standard input is spooled first):
    /// a root's or a virtual key's SQL condition.
    /// </summary>
    public static void Check(ReplicaConfig config)
    {
        var subset = config.Subset!;
        if (subset.Roots.FirstOrDefault(r => r.Where is not null) is { } withWhere)
        {
            throw new ConfigException($"subset: root {withWhere.Table} ({withWhere.Source}) has a 'where', which needs a live database; "
                + "a dump file, standard input or a MySQL source is subset by percent and limit only", config.File, key: "subset");
        }
        if (subset.VirtualForeignKeys.FirstOrDefault(v => v.Where is not null) is { } polymorphic)
        {
            throw new ConfigException($"subset: virtual foreign key on {polymorphic.Table} has a 'where', which needs a live database; "
                + "a dump file, standard input or a MySQL source takes virtual foreign keys without one", config.File, key: "subset");
        }
    }

    /// <summary>The dump's foreign keys as links (one declared on a partition or referencing one is taken as its partitioned table's by SubsetSchema).</summary>
    static IEnumerable<SchemaLink> Links(List<TableState> states)
    {
        var byName = states.ToDictionary(s => s.Name);
        foreach (var state in states)
        {
            foreach (var key in state.Keys.Where(k => !k.IsPrimary))
            {
                var parentName = key.References!.Value;
                var referenced = key.ReferencedColumns
                    ?? (byName.TryGetValue(parentName, out var parent) ? parent.Keys.FirstOrDefault(k => k.IsPrimary)?.Columns : null)
                    ?? [];
                // A partition's columns are its partitioned table's (PARTITION OF only adds options).
                var nullable = key.Columns.All(c => state.Definition(c) is not { NotNull: true });
                yield return new SchemaLink(key.Name, NameOf(state), key.Columns, $"{parentName.Schema}.{parentName.Table}", referenced, nullable);
            }
        }
    }

    /// <summary>
    /// How each table's key columns are compared (<see cref="KeyFolding"/>): the columns a link joins fold alike, by
    /// every folding any of them needs (coarser is safe: a superset of the rows is kept). A link between values no
    /// folding makes comparable as text is the config's error.
    /// </summary>
    internal static Dictionary<SubsetTable, KeyFolding[]> Foldings(SubsetGraph graph, List<TableState> states, SqlDialect dialect)
    {
        var byName = states.Where(s => !s.IsPartition).GroupBy(NameOf).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        ColumnDefinition? Column(SubsetTable table, int column) =>
            byName.TryGetValue(table.Name, out var state) ? state.Definition(table.KeyColumns[column]) : null;
        // Union-find over (table, key column): each link joins its columns pairwise.
        var parent = new Dictionary<(SubsetTable, int), (SubsetTable, int)>();
        (SubsetTable, int) Find((SubsetTable, int) x)
        {
            while (parent.TryGetValue(x, out var up) && up != x)
            {
                x = up;
            }
            return x;
        }
        foreach (var link in graph.Links)
        {
            for (var i = 0; i < link.ChildColumns.Length; i++)
            {
                var child = Column(link.Child, link.ChildColumns[i]);
                var referenced = Column(link.Parent, link.ParentColumns[i]);
                if (!KeyFold.Comparable(child, referenced))
                {
                    throw new ConfigException($"subset: foreign key {link.Name} compares {link.Child.Name}.{link.Child.KeyColumns[link.ChildColumns[i]]} "
                        + $"({child!.TypeName}) with {link.Parent.Name}.{link.Parent.KeyColumns[link.ParentColumns[i]]} ({referenced!.TypeName}), "
                        + "whose equal values a dump writes differently; a subset without a database cannot follow it");
                }
                var (a, b) = (Find((link.Child, link.ChildColumns[i])), Find((link.Parent, link.ParentColumns[i])));
                if (a != b)
                {
                    parent[a] = b;
                }
            }
        }
        var byComponent = new Dictionary<(SubsetTable, int), KeyFolding>();
        foreach (var table in graph.Tables)
        {
            for (var c = 0; c < table.KeyColumns.Count; c++)
            {
                var root = Find((table, c));
                byComponent[root] = byComponent.GetValueOrDefault(root) | KeyFold.Of(Column(table, c), dialect);
            }
        }
        return graph.Tables.ToDictionary(t => t, t => Enumerable.Range(0, t.KeyColumns.Count).Select(c => byComponent[Find((t, c))]).ToArray());
    }

    static TableState Root(TableState state)
    {
        while (state.IsPartition && state.Parents is [var parent])
        {
            state = parent;
        }
        return state;
    }

    static string NameOf(TableState state) => $"{state.Name.Schema}.{state.Name.Table}";

    /// <summary>A row's identity in a dump file: its primary key's values, or for a table without one a digest of the row as written.</summary>
    internal static string Identity(SubsetTable node, string?[] identityValues, ReadOnlySpan<byte> row) =>
        node.Identity.Count == 0 ? Convert.ToHexStringLower(SHA256.HashData(row).AsSpan(0, 16)) : SubsetClosure.Identity(identityValues!);

    /// <summary>Every table's statements are read (so keys are learned), no row is chosen (also a leak check's schema pass).</summary>
    internal sealed class NoChoice : IRowFilter
    {
        public static readonly NoChoice Instance = new();

        public RowSelection? Choose(TableName table, IReadOnlyList<string> columns) => null;
    }

    /// <summary>Positions of <paramref name="wanted"/> in <paramref name="columns"/>; a missing one is the dump's error.</summary>
    internal static int[] Positions(SubsetTable node, IEnumerable<string> wanted, IReadOnlyList<string> columns) => [.. wanted.Select(c =>
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i] == c)
            {
                return i;
            }
        }
        throw new ConfigException($"subset: the rows of {node.Name} in the dump have no column {c}, which the subset reads as a key; columns: {string.Join(", ", columns)}");
    })];

    /// <summary>
    /// Pass 2 and the closure's source: records each row's key values and, for every column set a link looks rows up
    /// by, the row's tuple; answers the closure's questions from the store.
    /// </summary>
    sealed class FileKeyIndex : IRowFilter, ISubsetSource
    {
        readonly SubsetGraph _graph;
        readonly KeyStore _store;
        readonly Dictionary<TableName, SubsetTable> _nodes;
        readonly Dictionary<SubsetTable, int> _index = [];
        readonly Dictionary<SubsetTable, List<int[]>> _lookups = [];
        readonly RowKeyBytes _keys = new();
        readonly Dictionary<SubsetTable, KeyFolding[]> _foldings;
        public long Rows;

        public FileKeyIndex(SubsetGraph graph, KeyStore store, Dictionary<TableName, SubsetTable> nodes, Dictionary<SubsetTable, KeyFolding[]> foldings)
        {
            _graph = graph;
            _store = store;
            _nodes = nodes;
            _foldings = foldings;
            foreach (var table in graph.Tables)
            {
                _index[table] = _index.Count;
                _lookups[table] = [];
            }
            foreach (var link in graph.Links)
            {
                // A link is walked down only from rows reached downward (a root's or a followed table's) into a
                // followed table: the child rows of another link are never asked for.
                if (graph.WalksDown(link))
                {
                    AddLookup(link.Child, link.ChildColumns);
                }
                AddLookup(link.Parent, link.ParentColumns);
            }
        }

        /// <summary>
        /// A column set the closure looks rows up by, indexed in pass 2; a table's primary key needs no index of its own
        /// (the rows are stored by it).
        /// </summary>
        void AddLookup(SubsetTable table, int[] columns)
        {
            if (!ByIdentity(table, columns) && !_lookups[table].Any(l => l.AsSpan().SequenceEqual(columns)))
            {
                _lookups[table].Add(columns);
            }
        }

        public RowSelection? Choose(TableName table, IReadOnlyList<string> columns)
        {
            if (!_nodes.TryGetValue(table, out var node) || _graph.Roles[node] is SubsetRole.Excluded or SubsetRole.Unreached)
            {
                return null;
            }
            return new Recorder(this, node) { Reads = Positions(node, node.KeyColumns, columns) };
        }

        sealed class Recorder(FileKeyIndex owner, SubsetTable node) : RowSelection
        {
            readonly int _table = owner._index[node];
            readonly int[] _identity = [.. node.Identity];
            readonly List<int[]> _lookups = owner._lookups[node];
            // Per lookup, how its columns fold (null: none does, the tuple is the values' bytes).
            readonly KeyFolding[]?[] _folds = [.. owner._lookups[node].Select(l => owner.Folding(node, l))];

            // Every row of the dump comes here: its values as bytes, no string per value.
            public override bool ReadsBytes => true;

            public override bool Keep(string?[] values, ReadOnlySpan<byte> row) => throw new NotSupportedException("pass 2 reads bytes");

            public override bool Keep(ReadOnlySpan<byte> values, ReadOnlySpan<int> lengths, ReadOnlySpan<byte> row)
            {
                var keys = owner._keys;
                keys.Read(values, lengths);
                ReadOnlySpan<byte> id;
                if (_identity.Length == 0)
                {
                    id = keys.Digest(row, 0);
                }
                else if (!keys.TryTuple(_identity, 0, out id))
                {
                    throw new ConfigException($"subset: a row of {node.Name} in the dump has NULL in its primary key ({string.Join(", ", _identity.Select(i => node.KeyColumns[i]))})");
                }
                owner._store.AddRow(_table, id, keys.Values, owner.Rows);
                string?[]? decoded = null;
                for (var l = 0; l < _lookups.Count; l++)
                {
                    if (_folds[l] is { } folds)
                    {
                        decoded ??= KeyValues.Decode(keys.Values);
                        if (Folded(decoded, _lookups[l], folds) is { } folded)
                        {
                            owner._store.AddRef(_table, l, Encoding.UTF8.GetBytes(folded), id, keys.Values);
                        }
                    }
                    else if (keys.TryTuple(_lookups[l], 1, out var tuple))
                    {
                        owner._store.AddRef(_table, l, tuple, id, keys.Values);
                    }
                }
                owner.Rows++;
                return false;
            }
        }

        public int IndexOf(SubsetTable table) => _index[table];

        static bool IsIdentity(SubsetTable table, int[] columns) => table.Identity.Count > 0 && columns.AsSpan().SequenceEqual(table.Identity.ToArray());

        /// <summary>Rows looked up by their identity: the primary key's columns, none of which folds.</summary>
        bool ByIdentity(SubsetTable table, int[] columns) => IsIdentity(table, columns) && Folding(table, columns) is null;

        /// <summary>How the lookup by <paramref name="columns"/> folds each of them; null: none folds.</summary>
        KeyFolding[]? Folding(SubsetTable table, int[] columns)
        {
            var folds = columns.Select(c => _foldings[table][c]).ToArray();
            return folds.All(f => f == KeyFolding.None) ? null : folds;
        }

        /// <summary>The tuple of <paramref name="values"/> at <paramref name="columns"/>, each folded; null if one is NULL.</summary>
        static string? Folded(string?[] values, int[] columns, KeyFolding[] folds)
        {
            var tuple = new string[columns.Length];
            for (var i = 0; i < columns.Length; i++)
            {
                if (values[columns[i]] is not { } value)
                {
                    return null;
                }
                tuple[i] = KeyFold.Apply(value, folds[i]);
            }
            return SubsetClosure.Identity(tuple);
        }

        /// <remarks>
        /// A limit counts rows: a table without a primary key gives every copy of a row (one identity, its content), as
        /// a live source does, so that the closure takes no more copies than the limit.
        /// </remarks>
        public IAsyncEnumerable<KeyRow> ReadRootAsync(SubsetStart root, CancellationToken cancellationToken) =>
            _store.Rows(_index[root.Table], everyCopy: root.Limit is not null && root.Table.Identity.Count == 0).ToAsyncEnumerable();

        public IAsyncEnumerable<KeyRow> ReadAllAsync(SubsetTable table, CancellationToken cancellationToken) => _store.Rows(_index[table]).ToAsyncEnumerable();

        public IAsyncEnumerable<KeyRow> ReadMatchingAsync(SubsetTable table, int[] columns, IReadOnlyList<string[]> tuples, CancellationToken cancellationToken)
        {
            var index = _index[table];
            if (ByIdentity(table, columns))
            {
                return tuples.Select(tuple => _store.Row(index, SubsetClosure.Identity(tuple))).OfType<KeyRow>().ToAsyncEnumerable();
            }
            var lookup = _lookups[table].FindIndex(l => l.AsSpan().SequenceEqual(columns));
            // The tuple's columns, positions 0..n-1 of it, folded as the lookup's were in pass 2.
            var folds = Folding(table, columns);
            var positions = Enumerable.Range(0, columns.Length).ToArray();
            return tuples.SelectMany(tuple => _store.Matching(index, lookup, folds is null ? SubsetClosure.Identity(tuple) : Folded(tuple, positions, folds)!))
                .ToAsyncEnumerable();
        }
    }
}

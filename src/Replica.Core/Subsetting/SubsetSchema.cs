namespace Replica.Subsetting;

/// <summary>A table as a source declares it (a live catalog or a dump's CREATE TABLE): its qualified name and primary key.</summary>
public sealed record SchemaTable(string Name, IReadOnlyList<string> PrimaryKey)
{
    /// <summary>The tables it inherits from (qualified names), or for a partition the one table it is a partition of.</summary>
    public IReadOnlyList<string> Parents { get; init; } = [];

    /// <summary>A partition: its rows are its partitioned table's in the graph, and so are the links at it.</summary>
    public bool Partition { get; init; }

    /// <summary>Its NOT NULL columns: a virtual link's nullability is its columns' (the config cannot say).</summary>
    public IReadOnlyCollection<string> NotNullColumns { get; init; } = [];
}

/// <summary>
/// A foreign key as a source declares it, or a virtual one from the config (with a <see cref="Where"/> on the child's
/// rows for a polymorphic link): table names are qualified (schema.table).
/// </summary>
public sealed record SchemaLink(string Name, string Child, IReadOnlyList<string> ChildColumns, string Parent, IReadOnlyList<string> ParentColumns, bool Nullable)
{
    public string? Where { get; init; }

    /// <summary>
    /// A link from the config, not the source: a table it names that the source lacks is the config's error, and its
    /// <see cref="Nullable"/> is taken from the child's columns (<see cref="SchemaTable.NotNullColumns"/>).
    /// </summary>
    public bool Virtual { get; init; }
}

/// <summary>
/// Builds the closure's tables and links from what a source declares, the same for every source: a table's key
/// columns are its primary key, then every column a link reads on either side, then one pseudo-column per polymorphic
/// link's condition (<see cref="SubsetLink.Condition"/>), which the source fills with "t" where the condition holds.
/// Partitions are not tables of the graph: a link declared on a partition, or referencing one, is taken as its
/// partitioned table's (rows of every partition: a superset of the partition's, so every key still holds).
/// </summary>
public static class SubsetSchema
{
    public static (List<SubsetTable> Tables, List<SubsetLink> Links) Build(IReadOnlyList<SchemaTable> declared, IReadOnlyList<SchemaLink> links)
    {
        var all = declared.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var tables = declared.Where(t => !t.Partition).ToList();
        var usable = new List<SchemaLink>();
        foreach (var link in links)
        {
            if (Node(all, link.Child) is { } child && Node(all, link.Parent) is { } parent)
            {
                usable.Add(link.Child == child && link.Parent == parent ? link : link with { Child = child, Parent = parent });
            }
            else if (link.Virtual)
            {
                var missing = Node(all, link.Child) is not null ? $"referenced table {link.Parent}" : $"table {link.Child}";
                throw new ConfigException($"subset: virtual foreign key: {missing} is not a table of the source");
            }
        }
        var keyColumns = tables.ToDictionary(t => t.Name, t => new List<string>(t.PrimaryKey), StringComparer.Ordinal);
        foreach (var link in usable)
        {
            Add(keyColumns[link.Child], link.ChildColumns);
            Add(keyColumns[link.Parent], link.ParentColumns);
        }
        var conditions = new Dictionary<SchemaLink, int>();
        for (var i = 0; i < usable.Count; i++)
        {
            if (usable[i].Where is not null)
            {
                var columns = keyColumns[usable[i].Child];
                conditions[usable[i]] = columns.Count;
                columns.Add($"?condition {i}");
            }
        }
        var partitions = declared.Where(t => t.Partition).GroupBy(t => Node(all, t.Name) ?? "", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(t => t.Name).ToList(), StringComparer.Ordinal);
        var subsetTables = tables.ToDictionary(t => t.Name, t => new SubsetTable(t.Name, keyColumns[t.Name], [.. Enumerable.Range(0, t.PrimaryKey.Count)])
        {
            Ancestors = Ancestors(all, t),
            Partitions = partitions.GetValueOrDefault(t.Name) ?? [],
        }, StringComparer.Ordinal);
        var subsetLinks = usable.Select(l => new SubsetLink(l.Name, subsetTables[l.Child], [.. l.ChildColumns.Select(c => keyColumns[l.Child].IndexOf(c))],
            subsetTables[l.Parent], [.. l.ParentColumns.Select(c => keyColumns[l.Parent].IndexOf(c))],
            // A virtual key whose column is NOT NULL cannot be written as NULL, whatever the config says of it.
            l.Virtual ? !l.ChildColumns.Any(all[l.Child].NotNullColumns.Contains) : l.Nullable)
        {
            Where = l.Where,
            Condition = conditions.TryGetValue(l, out var position) ? position : null,
        }).ToList();
        return ([.. subsetTables.Values.OrderBy(t => t.Name, StringComparer.Ordinal)], subsetLinks);
    }

    /// <summary>
    /// The graph's table <paramref name="name"/> stands for: itself, or for a partition its partitioned table at the top;
    /// null for a table the source does not declare, or a partition whose partitioned table it does not.
    /// </summary>
    static string? Node(Dictionary<string, SchemaTable> all, string name)
    {
        // A partition's chain ends at a table that is not one; a dump that names a table as its own ancestor does not loop.
        for (var depth = 0; depth <= all.Count && all.TryGetValue(name, out var table); depth++)
        {
            if (!table.Partition)
            {
                return name;
            }
            if (table.Parents is not [var parent])
            {
                return null;
            }
            name = parent;
        }
        return null;
    }

    /// <summary>Every table <paramref name="table"/> inherits from, transitively, each once (a name the source does not declare too).</summary>
    static List<string> Ancestors(Dictionary<string, SchemaTable> all, SchemaTable table)
    {
        var ancestors = new List<string>();
        var pending = new Queue<string>(table.Parents);
        while (pending.TryDequeue(out var name))
        {
            if (name != table.Name && !ancestors.Contains(name))
            {
                ancestors.Add(name);
                foreach (var parent in all.GetValueOrDefault(name)?.Parents ?? [])
                {
                    pending.Enqueue(parent);
                }
            }
        }
        return ancestors;
    }

    static void Add(List<string> columns, IReadOnlyList<string> add)
    {
        foreach (var column in add)
        {
            if (!columns.Contains(column))
            {
                columns.Add(column);
            }
        }
    }
}

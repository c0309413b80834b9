namespace Replica.Subsetting;

/// <summary>A table as a source declares it (a live catalog or a dump's CREATE TABLE): its qualified name and primary key.</summary>
public sealed record SchemaTable(string Name, IReadOnlyList<string> PrimaryKey)
{
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
/// </summary>
public static class SubsetSchema
{
    public static (List<SubsetTable> Tables, List<SubsetLink> Links) Build(IReadOnlyList<SchemaTable> tables, IReadOnlyList<SchemaLink> links)
    {
        var byName = tables.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var usable = new List<SchemaLink>();
        foreach (var link in links)
        {
            if (byName.ContainsKey(link.Child) && byName.ContainsKey(link.Parent))
            {
                usable.Add(link);
            }
            else if (link.Virtual)
            {
                var missing = byName.ContainsKey(link.Child) ? $"referenced table {link.Parent}" : $"table {link.Child}";
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
        var subsetTables = tables.ToDictionary(t => t.Name, t => new SubsetTable(t.Name, keyColumns[t.Name], [.. Enumerable.Range(0, t.PrimaryKey.Count)]), StringComparer.Ordinal);
        var subsetLinks = usable.Select(l => new SubsetLink(l.Name, subsetTables[l.Child], [.. l.ChildColumns.Select(c => keyColumns[l.Child].IndexOf(c))],
            subsetTables[l.Parent], [.. l.ParentColumns.Select(c => keyColumns[l.Parent].IndexOf(c))],
            // A virtual key whose column is NOT NULL cannot be written as NULL, whatever the config says of it.
            l.Virtual ? !l.ChildColumns.Any(byName[l.Child].NotNullColumns.Contains) : l.Nullable)
        {
            Where = l.Where,
            Condition = conditions.TryGetValue(l, out var position) ? position : null,
        }).ToList();
        return ([.. subsetTables.Values.OrderBy(t => t.Name, StringComparer.Ordinal)], subsetLinks);
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

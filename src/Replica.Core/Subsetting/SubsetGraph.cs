namespace Replica.Subsetting;

// The subset's graph: tables with the columns the closure reads (their key columns), and the links between them
// (declared foreign keys and virtual ones). Built from a catalog (live) or from a dump's schema (file); the closure
// (SubsetClosure) knows nothing of either.

/// <summary>
/// A table as the closure sees it: the key columns it reads (a row's identity, its foreign key columns, and the
/// columns other tables' foreign keys reference), by position in <see cref="KeyColumns"/>.
/// </summary>
public sealed class SubsetTable(string name, IReadOnlyList<string> keyColumns, IReadOnlyList<int> identity)
{
    /// <summary>The qualified name (schema.table).</summary>
    public string Name { get; } = name;

    public IReadOnlyList<string> KeyColumns { get; } = keyColumns;

    /// <summary>
    /// The positions (in <see cref="KeyColumns"/>) of the primary key; empty for a table without one, whose rows the
    /// source identifies by their content (no foreign key can reference such a table).
    /// </summary>
    public IReadOnlyList<int> Identity { get; } = identity;

    /// <summary>
    /// The tables this one inherits from, at any depth (qualified names): a dump's rules on any of them apply to this
    /// table's own rows too (the rewriter skips or drops an inheritance child's rows with its parent's).
    /// </summary>
    public IReadOnlyList<string> Ancestors { get; init; } = [];

    /// <summary>
    /// Its partitions, at any depth (qualified names): not tables of the graph (their rows are this table's), but a rule
    /// on one of them takes that partition's rows out of the dump.
    /// </summary>
    public IReadOnlyList<string> Partitions { get; init; } = [];

    public override string ToString() => Name;
}

/// <summary>
/// A foreign key, declared or virtual: the child's columns reference the parent's (positions in each table's
/// <see cref="SubsetTable.KeyColumns"/>). A child row with a NULL in any of its columns references nothing.
/// </summary>
public sealed record SubsetLink(string Name, SubsetTable Child, int[] ChildColumns, SubsetTable Parent, int[] ParentColumns, bool Nullable)
{
    /// <summary>A virtual link's condition on the child's rows (a polymorphic link's type column); null for a declared key.</summary>
    public string? Where { get; init; }

    /// <summary>
    /// With <see cref="Where"/>: the position of a key column of the child that the source fills with "t" for the rows
    /// the condition holds for; the link applies to those rows only.
    /// </summary>
    public int? Condition { get; init; }

    /// <summary>Whether <paramref name="child"/> (a row of <see cref="Child"/>) references a parent through this link.</summary>
    public bool Applies(in KeyRow child)
    {
        if (Condition is int c && child.Values[c] != "t")
        {
            return false;
        }
        foreach (var column in ChildColumns)
        {
            if (child.Values[column] is null)
            {
                return false;
            }
        }
        return true;
    }

    public override string ToString() => $"{Name} ({Child.Name} -> {Parent.Name})";
}

/// <summary>Where the subset starts: a table's rows filtered by <see cref="Where"/>, then sampled, then capped.</summary>
public sealed record SubsetStart(SubsetTable Table)
{
    /// <summary>A SQL predicate on the table's rows (live sources only).</summary>
    public string? Where { get; init; }

    /// <summary>Keeps a row when a keyed hash of its identity falls under this share (0..100].</summary>
    public double? Percent { get; init; }

    /// <summary>Keeps at most this many rows: those with the smallest keyed hashes.</summary>
    public long? Limit { get; init; }
}

/// <summary>What the closure does with one table.</summary>
public enum SubsetRole
{
    /// <summary>No root reaches it and unreached: empty: no rows.</summary>
    Unreached,
    /// <summary>A root: its selected rows are reached downward.</summary>
    Root,
    /// <summary>A followed child table: its rows that reference a row reached downward are reached downward.</summary>
    FollowedChild,
    /// <summary>Reached only as someone's parent: its rows bring their own parents, nothing else.</summary>
    ParentOnly,
    /// <summary>Copied whole with its parents (subset.passthrough, or unreached: full).</summary>
    Passthrough,
    /// <summary>Its rows are not kept at all (data: skip): links into it are not followed.</summary>
    Excluded,
}

/// <summary>The whole plan the closure runs: tables, links, roots, and which child tables are followed.</summary>
public sealed class SubsetGraph
{
    public SubsetGraph(IReadOnlyList<SubsetTable> tables, IReadOnlyList<SubsetLink> links, IReadOnlyList<SubsetStart> roots,
        ISet<SubsetTable> followed, ISet<SubsetTable> passthrough, ISet<SubsetTable> excluded, bool unreachedFull)
    {
        Tables = tables;
        Links = links;
        Roots = roots;
        Followed = followed;
        Passthrough = new HashSet<SubsetTable>(passthrough);
        Excluded = excluded;
        foreach (var table in tables)
        {
            _parents[table] = [];
            _children[table] = [];
        }
        foreach (var link in links)
        {
            _parents[link.Child].Add(link);
            _children[link.Parent].Add(link);
        }
        Roles = DecideRoles(unreachedFull);
    }

    readonly Dictionary<SubsetTable, List<SubsetLink>> _parents = [];
    readonly Dictionary<SubsetTable, List<SubsetLink>> _children = [];

    public IReadOnlyList<SubsetTable> Tables { get; }
    public IReadOnlyList<SubsetLink> Links { get; }
    public IReadOnlyList<SubsetStart> Roots { get; }
    public ISet<SubsetTable> Followed { get; }
    /// <summary>Tables copied whole with their parents: subset.passthrough, and with unreached: full every table nothing reaches.</summary>
    public ISet<SubsetTable> Passthrough { get; }
    public ISet<SubsetTable> Excluded { get; }
    public IReadOnlyDictionary<SubsetTable, SubsetRole> Roles { get; }

    /// <summary>The links whose child is <paramref name="table"/>: its foreign keys.</summary>
    public IReadOnlyList<SubsetLink> ParentLinks(SubsetTable table) => _parents[table];

    /// <summary>The links whose parent is <paramref name="table"/>: the foreign keys that reference it.</summary>
    public IReadOnlyList<SubsetLink> ChildLinks(SubsetTable table) => _children[table];

    /// <summary>
    /// Whether the closure may walk <paramref name="link"/> down, from parent rows to their children: only rows reached
    /// downward bring children, and only in followed tables; rows are reached downward in roots and followed tables.
    /// </summary>
    public bool WalksDown(SubsetLink link) =>
        Followed.Contains(link.Child) && !Excluded.Contains(link.Child) && (Followed.Contains(link.Parent) || Roots.Any(r => r.Table == link.Parent));

    /// <summary>
    /// The columns of <paramref name="table"/> written as NULL: its foreign keys into tables whose rows are not kept
    /// (a NOT NULL one is a plan error, so each of these is nullable).
    /// </summary>
    public List<string> NulledColumns(SubsetTable table) =>
        ParentLinks(table).Where(l => Excluded.Contains(l.Parent)).SelectMany(l => l.ChildColumns.Select(c => table.KeyColumns[c])).Distinct().ToList();

    /// <summary>
    /// Refuses (a config error, before any row is read) what writing <see cref="NulledColumns"/> as NULL would break:
    /// a nulled column that a foreign key of a table with kept rows references (those rows would reference a value
    /// that is gone: a plan error rather than nulling them too, which could cascade through the schema), and a
    /// polymorphic virtual key (with a where) into a table whose rows are not kept (only the rows its condition holds
    /// for should lose their value, but a column is written as NULL in every kept row or in none).
    /// </summary>
    public void CheckNulledColumns()
    {
        bool Keeps(SubsetTable table) => Roles[table] is not (SubsetRole.Excluded or SubsetRole.Unreached);
        string Columns(SubsetTable table, int[] columns) => string.Join(", ", columns.Select(c => table.KeyColumns[c]));
        foreach (var table in Tables.Where(Keeps))
        {
            foreach (var link in ParentLinks(table).Where(l => Excluded.Contains(l.Parent)))
            {
                if (link.Where is not null)
                {
                    throw new ConfigException($"subset: virtual foreign key {link.Name} applies where {link.Where}, but no row of {link.Parent.Name} is kept "
                        + $"(data: skip, drop or only_tables): only the rows its condition holds for should have ({Columns(table, link.ChildColumns)}) written as NULL, "
                        + $"and a dump writes a column as NULL in every row or in none; keep {link.Parent.Name}'s rows, or remove that virtual foreign key");
                }
                if (ChildLinks(table).FirstOrDefault(r => Keeps(r.Child) && r.ParentColumns.Any(link.ChildColumns.Contains)) is { } referencing)
                {
                    throw new ConfigException($"subset: {table.Name} ({Columns(table, link.ChildColumns)}) is written as NULL (foreign key {link.Name} into "
                        + $"{link.Parent.Name}, whose rows are not kept), but foreign key {referencing.Name} ({referencing.Child.Name} -> {table.Name}) references it, "
                        + $"so the kept rows of {referencing.Child.Name} would reference values that are gone: keep {link.Parent.Name}'s rows, or leave "
                        + $"{referencing.Child.Name}'s out too");
                }
            }
        }
    }

    /// <summary>
    /// Table by table, what a row-level closure can reach: roots and the followed children of what is reached downward
    /// are reached downward; the parents of anything reached are reached upward. Passthrough tables (and, with
    /// unreached: full, every table nothing reaches) start upward too.
    /// </summary>
    Dictionary<SubsetTable, SubsetRole> DecideRoles(bool unreachedFull)
    {
        var roles = new Dictionary<SubsetTable, SubsetRole>();
        var down = new HashSet<SubsetTable>();
        var up = new HashSet<SubsetTable>();
        var work = new Queue<(SubsetTable Table, bool Down)>();
        void Reach(SubsetTable table, bool isDown)
        {
            if (Excluded.Contains(table) || (isDown ? !down.Add(table) : down.Contains(table) || !up.Add(table)))
            {
                return;
            }
            work.Enqueue((table, isDown));
        }
        void Drain()
        {
            while (work.TryDequeue(out var item))
            {
                if (item.Down)
                {
                    foreach (var link in ChildLinks(item.Table))
                    {
                        if (Followed.Contains(link.Child))
                        {
                            Reach(link.Child, isDown: true);
                        }
                    }
                }
                foreach (var link in ParentLinks(item.Table))
                {
                    Reach(link.Parent, isDown: false);
                }
            }
        }
        foreach (var root in Roots)
        {
            Reach(root.Table, isDown: true);
        }
        foreach (var table in Passthrough)
        {
            Reach(table, isDown: false);
        }
        Drain();
        var unreached = Tables.Where(t => !down.Contains(t) && !up.Contains(t) && !Excluded.Contains(t)).ToList();
        if (unreachedFull)
        {
            foreach (var table in unreached)
            {
                Passthrough.Add(table);
                Reach(table, isDown: false);
            }
            Drain();
        }
        var rootTables = Roots.Select(r => r.Table).ToHashSet();
        foreach (var table in Tables)
        {
            roles[table] = Excluded.Contains(table) ? SubsetRole.Excluded
                : rootTables.Contains(table) ? SubsetRole.Root
                : Passthrough.Contains(table) ? SubsetRole.Passthrough
                : down.Contains(table) ? SubsetRole.FollowedChild
                : up.Contains(table) ? SubsetRole.ParentOnly
                : SubsetRole.Unreached;
        }
        return roles;
    }
}

using System.Text;
using System.Text.Json;
using Npgsql;
using Replica.Catalog;
using Replica.Clients;
using Replica.Config;
using Replica.Lexing;
using Replica.Rewriting;
using Replica.Sources;
using Replica.Subsetting;

namespace Replica.Pipeline;

/// <summary>
/// A config's subset over a source's tables (`replica subset plan`): the graph reached from the roots, each table's
/// role, each link and which ways the closure walks it, estimated rows. Plan errors (a root that is not a table, a NOT
/// NULL foreign key into a table whose rows are not kept) are config errors, found before any row is read.
/// </summary>
public sealed class SubsetPlan
{
    static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    SubsetPlan(SubsetGraph graph, IReadOnlyDictionary<SubsetTable, long> estimates)
    {
        Graph = graph;
        Estimates = estimates;
    }

    public SubsetGraph Graph { get; }

    /// <summary>The planner's row estimate per table.</summary>
    public IReadOnlyDictionary<SubsetTable, long> Estimates { get; }

    /// <summary>Reads the source's catalog (a live PostgreSQL database, read-only) and plans the config's subset over it.</summary>
    public static async Task<SubsetPlan> ReadAsync(ReplicaConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var subset = config.Subset ?? throw new ConfigException("the config has no 'subset' section to plan", config.File, key: "subset");
        if (config.Source.ConnectionUri is not { } uri || DatabaseUri.Parse(uri).Kind != DatabaseKind.PostgreSql)
        {
            throw new ConfigException("subset plan reads a live PostgreSQL source: set source.connection_uri to a postgres:// URI", config.File, key: "source.connection_uri");
        }
        var database = DatabaseUri.Parse(uri);
        var virtualLinks = VirtualLinks(subset);
        try
        {
            await using var connection = new NpgsqlConnection(PostgresCatalog.ConnectionString(database));
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            var (tables, links, infos) = await PostgresSubsetSource.ReadGraphAsync(connection, virtualLinks, cancellationToken).ConfigureAwait(false);
            return Build(config, tables, links, infos.ToDictionary(i => i.Key, i => i.Value.EstimatedRows), excludeTableData: config.Source.ExcludeTableData);
        }
        catch (NpgsqlException e)
        {
            throw new DatabaseException($"reading the catalog of {database.Describe()} failed: {e.Message}", e);
        }
    }

    /// <summary>The config's virtual foreign keys as links of the schema (nullable unless SubsetSchema finds a NOT NULL column).</summary>
    internal static List<SchemaLink> VirtualLinks(SubsetConfig subset) => subset.VirtualForeignKeys.Select(v =>
    {
        var child = $"{v.Table.Schema}.{v.Table.Table}";
        return new SchemaLink($"virtual {child} ({string.Join(", ", v.Columns)})", child, v.Columns, $"{v.References.Schema}.{v.References.Table}", v.ReferencedColumns, Nullable: true)
        {
            Where = v.Where,
            Virtual = true,
        };
    }).ToList();

    /// <summary>Plans <paramref name="config"/>'s subset over a source's tables and links.</summary>
    /// <param name="dialect">How the config's names match the source's: MySQL's database plays the schema's part, without case.</param>
    /// <param name="excludeTableData">
    /// source.exclude_table_data where the source applies it to the rows the subset reads (a live PostgreSQL source; a
    /// dump file is read as it is).
    /// </param>
    public static SubsetPlan Build(ReplicaConfig config, IReadOnlyList<SubsetTable> tables, IReadOnlyList<SubsetLink> links, IReadOnlyDictionary<SubsetTable, long> estimates,
        SqlDialect dialect = SqlDialect.PostgreSql, IReadOnlyList<string>? excludeTableData = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(links);
        var subset = config.Subset ?? throw new ConfigException("the config has no 'subset' section to plan", config.File, key: "subset");
        static TableName Split(string name) => new(name[..name.IndexOf('.', StringComparison.Ordinal)], name[(name.IndexOf('.', StringComparison.Ordinal) + 1)..]);
        bool Matches(TablePattern pattern, SubsetTable table) => RewriteRules.Matches(pattern, Split(table.Name), dialect);
        IEnumerable<SubsetTable> Matching(TablePattern pattern) => Resolve(pattern, tables.Where(t => Matches(pattern, t)).ToList(), dialect);

        var roots = new List<SubsetStart>();
        foreach (var root in subset.Roots)
        {
            var matching = Matching(root.Table).ToList();
            if (matching.Count > 1)
            {
                throw new ConfigException($"subset: root {root.Table} ({root.Source}) matches {matching.Count} tables whose names differ only in case "
                    + $"({string.Join(", ", matching.Select(t => t.Name))}; MySQL with lower_case_table_names=0), none of them exactly: write the root's exact name "
                    + "in double quotes (table: '\"Customers\"'; a bare name is read in lower case)", config.File);
            }
            var table = matching.SingleOrDefault() ?? throw new ConfigException(
                $"subset: root {root.Table} ({root.Source}) is not a table of the source{Suggestions.DidYouMean(root.Table.ToString(), tables.Select(t => t.Name))}; "
                + $"tables: {string.Join(", ", tables.Select(t => t.Name).Take(20))}");
            if ((root.Percent is not null || root.Limit is not null) && config.Secret.Length == 0)
            {
                throw new ConfigException($"subset: root {root.Table} ({root.Source}) samples by percent or limit, which is keyed: set 'secret' (e.g. secret: ${{REPLICA_SECRET}})", config.File, key: "secret");
            }
            roots.Add(new SubsetStart(table) { Where = root.Where, Percent = root.Percent, Limit = root.Limit });
        }
        // A name that matches no table is a typo, as for a root: silently following nothing would keep too few rows.
        List<SubsetTable> Listed(TablePattern pattern, string key)
        {
            var matching = Matching(pattern).ToList();
            return matching.Count > 0 ? matching : throw new ConfigException(
                $"subset: {key} names {pattern}, which matches no table of the source{Suggestions.DidYouMean(pattern.ToString(), tables.Select(t => t.Name))}", config.File, key: "subset." + key);
        }
        var followed = subset.FollowAllChildren ? tables.ToHashSet() : subset.FollowChildren.SelectMany(p => Listed(p, "follow_children")).ToHashSet();
        var passthrough = subset.Passthrough.SelectMany(p => Listed(p, "passthrough")).ToHashSet();
        // What the dump does with a table's own rows, as the rewriter decides it: by the rules on the table and on every
        // table it inherits from or is a partition of (a skipped or dropped parent takes its children's rows along);
        // a live source leaves out source.exclude_table_data's rows the same way, through ancestors too.
        var rules = new RewriteRules(config.Tables, config.OnlyTables, static (_, _) => throw new InvalidOperationException("a plan builds no transformer"));
        var noData = (excludeTableData ?? []).Select(Clients.PgDumpPattern.Table).ToArray();
        TableAction ActionOf(string name, IEnumerable<string> ancestors)
        {
            var action = TableAction.Transform;
            foreach (var table in ancestors.Prepend(name))
            {
                var own = rules.ActionFor(Split(table), dialect);
                if (own == TableAction.Drop)
                {
                    return TableAction.Drop;
                }
                if (own == TableAction.SkipData || Array.Exists(noData, p => p.Matches(Split(table).Schema, Split(table).Table)))
                {
                    action = TableAction.SkipData;
                }
            }
            return action;
        }
        // Rows a dump never keeps: data: skip, source.exclude_table_data, and tables the dump removes (drop, only_tables).
        // A removed table's foreign keys go with it, as in a full dump: the links into (and out of) it are not the
        // subset's, so nothing is written as NULL for them and none is a plan error.
        var excluded = new HashSet<SubsetTable>();
        var removed = new HashSet<SubsetTable>();
        // A partitioned table whose own rows are kept but one of whose partitions' rows are not: (the table, the partition).
        var partlyKept = new Dictionary<SubsetTable, string>();
        foreach (var table in tables)
        {
            switch (ActionOf(table.Name, table.Ancestors))
            {
                case TableAction.Drop:
                    removed.Add(table);
                    excluded.Add(table);
                    break;
                case TableAction.SkipData:
                    excluded.Add(table);
                    break;
                default:
                    // A partition's lineage is its partitioned tables (in Partitions too, or this table, kept) and itself.
                    if (table.Partitions.FirstOrDefault(p => ActionOf(p, []) != TableAction.Transform) is { } partition)
                    {
                        partlyKept[table] = partition;
                    }
                    break;
            }
        }
        var kept = links.Where(l => !removed.Contains(l.Child) && !removed.Contains(l.Parent)).ToList();
        if (roots.FirstOrDefault(r => excluded.Contains(r.Table)) is { } skippedRoot)
        {
            throw new ConfigException($"subset: root {skippedRoot.Table.Name} keeps no rows (data: skip, drop, only_tables or source.exclude_table_data), so the subset would start from nothing: "
                + "choose another root, or keep that table's rows", config.File, key: "subset.roots");
        }
        var graph = new SubsetGraph(tables, kept, roots, followed, passthrough, excluded, subset.UnreachedFull);
        foreach (var link in kept)
        {
            // A child table that keeps no rows (unreached) has no foreign key values to write as NULL.
            if (excluded.Contains(link.Parent) && !excluded.Contains(link.Child) && !link.Nullable && graph.Roles[link.Child] != SubsetRole.Unreached)
            {
                throw new ConfigException($"subset: foreign key {link.Name} ({link.Child.Name} -> {link.Parent.Name}) is NOT NULL, but no row of "
                    + $"{link.Parent.Name} is kept (data: skip or source.exclude_table_data): keep that table's rows, or leave {link.Child.Name}'s out too");
            }
        }
        // The closure knows a partitioned table's rows, not which partition holds each: a kept row could reference one
        // the dump leaves out with its partition. Refused (rather than writing NULL for some rows and not others) for
        // every link whose child keeps rows.
        if (graph.Links.FirstOrDefault(l => partlyKept.ContainsKey(l.Parent) && graph.Roles[l.Child] is not (SubsetRole.Excluded or SubsetRole.Unreached)) is { } into)
        {
            throw new ConfigException($"subset: foreign key {into.Name} ({into.Child.Name} -> {into.Parent.Name}) references {into.Parent.Name}, whose partition "
                + $"{partlyKept[into.Parent]} keeps no rows (data: skip, drop, only_tables or source.exclude_table_data), and the subset cannot tell which "
                + $"referenced rows are in it: keep that partition's rows, or leave all of {into.Parent.Name}'s out");
        }
        graph.CheckNulledColumns();
        return new SubsetPlan(graph, estimates);
    }

    /// <summary>
    /// The tables a config name stands for. MySQL names match without case (as the dump's rules do), but on a server
    /// with lower_case_table_names=0 two tables may differ only in case (customers, Customers): then the one whose name is
    /// exactly the config's (a bare name read in lower case, a "quoted" one as written) is meant, as the server itself
    /// reads the name; without an exact one, all of them (a root refuses that).
    /// </summary>
    static List<SubsetTable> Resolve(TablePattern pattern, List<SubsetTable> matching, SqlDialect dialect)
    {
        if (matching.Count < 2 || dialect != SqlDialect.MySql || pattern.Table.IsAny)
        {
            return matching;
        }
        var exact = matching.FindAll(t => t.Name.AsSpan(t.Name.IndexOf('.', StringComparison.Ordinal) + 1).SequenceEqual(pattern.Table.Name));
        return exact.Count == 1 ? exact : matching;
    }

    static string RoleName(SubsetRole role) => role switch
    {
        SubsetRole.Root => "root",
        SubsetRole.FollowedChild => "followed child",
        SubsetRole.ParentOnly => "parents only",
        SubsetRole.Passthrough => "passthrough",
        SubsetRole.Excluded => "excluded (no rows)",
        _ => "unreached (no rows)",
    };

    static string RoleColor(SubsetRole role) => role switch
    {
        SubsetRole.Root => "#f4a261",
        SubsetRole.FollowedChild => "#2a9d8f",
        SubsetRole.ParentOnly => "#8ecae6",
        SubsetRole.Passthrough => "#e9c46a",
        SubsetRole.Excluded => "#adb5bd",
        _ => "#eeeeee",
    };

    /// <summary>How the closure walks a link: down to the child's rows (when the child is followed), and always up to the parent's.</summary>
    string Direction(SubsetLink link) => Graph.Followed.Contains(link.Child) ? "down and up" : "up only";

    public string ToText()
    {
        var text = new StringBuilder("Tables (role, estimated rows):\n");
        var width = Graph.Tables.Max(t => t.Name.Length);
        foreach (var table in Graph.Tables)
        {
            text.Append("  ").Append(table.Name.PadRight(width)).Append("  ").Append(RoleName(Graph.Roles[table]).PadRight(22))
                .Append(Estimates.TryGetValue(table, out var rows) ? rows.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "?").Append('\n');
        }
        text.Append("Links (child -> parent, walked):\n");
        foreach (var link in Graph.Links)
        {
            text.Append("  ").Append(link.Child.Name).Append(" (").Append(string.Join(", ", link.ChildColumns.Select(c => link.Child.KeyColumns[c])))
                .Append(") -> ").Append(link.Parent.Name).Append(" (").Append(string.Join(", ", link.ParentColumns.Select(c => link.Parent.KeyColumns[c])))
                .Append(")  ").Append(Direction(link)).Append(link.Nullable ? "" : ", NOT NULL").Append(link.Where is null ? "" : $", where {link.Where}")
                .Append("  [").Append(link.Name).Append("]\n");
        }
        return text.ToString();
    }

    public string ToJson()
    {
        var json = new
        {
            tables = Graph.Tables.Select(t => new { name = t.Name, role = RoleName(Graph.Roles[t]), estimated_rows = Estimates.GetValueOrDefault(t) }),
            links = Graph.Links.Select(l => new
            {
                name = l.Name,
                child = l.Child.Name,
                child_columns = l.ChildColumns.Select(c => l.Child.KeyColumns[c]),
                parent = l.Parent.Name,
                parent_columns = l.ParentColumns.Select(c => l.Parent.KeyColumns[c]),
                nullable = l.Nullable,
                where = l.Where,
                walked = Direction(l),
            }),
        };
        return JsonSerializer.Serialize(json, s_indented);
    }

    /// <summary>A Mermaid flowchart: tables coloured by role, an arrow from each child to its parent.</summary>
    public string ToMermaid()
    {
        var text = new StringBuilder("flowchart LR\n");
        var ids = Graph.Tables.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => "t" + x.i);
        foreach (var table in Graph.Tables)
        {
            text.Append("  ").Append(ids[table]).Append("[\"").Append(table.Name).Append("<br/>").Append(RoleName(Graph.Roles[table])).Append("\"]:::")
                .Append(Graph.Roles[table].ToString().ToLowerInvariant()).Append('\n');
        }
        foreach (var link in Graph.Links)
        {
            text.Append("  ").Append(ids[link.Child]).Append(Graph.Followed.Contains(link.Child) ? " <==>|" : " -->|")
                .Append(string.Join(", ", link.ChildColumns.Select(c => link.Child.KeyColumns[c]))).Append("| ").Append(ids[link.Parent]).Append('\n');
        }
        foreach (var role in Enum.GetValues<SubsetRole>())
        {
            text.Append("  classDef ").Append(role.ToString().ToLowerInvariant()).Append(" fill:").Append(RoleColor(role)).Append(",stroke:#333\n");
        }
        return text.ToString();
    }

    /// <summary>A Graphviz digraph: tables coloured by role, an edge from each child to its parent (bold when walked down).</summary>
    public string ToDot()
    {
        var text = new StringBuilder("digraph subset {\n  rankdir=LR;\n  node [shape=box, style=filled, fontname=\"Helvetica\"];\n");
        foreach (var table in Graph.Tables)
        {
            text.Append("  \"").Append(table.Name).Append("\" [label=\"").Append(table.Name).Append("\\n").Append(RoleName(Graph.Roles[table]))
                .Append("\", fillcolor=\"").Append(RoleColor(Graph.Roles[table])).Append("\"];\n");
        }
        foreach (var link in Graph.Links)
        {
            text.Append("  \"").Append(link.Child.Name).Append("\" -> \"").Append(link.Parent.Name).Append("\" [label=\"")
                .Append(string.Join(", ", link.ChildColumns.Select(c => link.Child.KeyColumns[c]))).Append('"')
                .Append(Graph.Followed.Contains(link.Child) ? ", style=bold, dir=both" : "").Append("];\n");
        }
        return text.Append("}\n").ToString();
    }
}

using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Replica.Config;

/// <summary>The 'subset:' section (replica.example.yaml documents every key).</summary>
internal sealed partial class ConfigBinder
{
    static readonly string[] s_subsetKeys = ["roots", "follow_children", "passthrough", "virtual_foreign_keys", "max_rows_per_table", "unreached", "memory"];
    static readonly string[] s_subsetRootKeys = ["table", "where", "percent", "limit"];
    static readonly string[] s_virtualKeyKeys = ["table", "columns", "references", "where"];

    SubsetConfig BindSubset(ConfigNode node)
    {
        var f = Mapping(node, s_subsetKeys);
        var roots = new List<SubsetRootConfig>();
        var rootsNode = f.Require("roots", "where the subset starts, e.g. roots: [{ table: public.customers, percent: 10 }]");
        foreach (var item in Sequence(rootsNode, "roots (- table: schema.table, with where, percent and/or limit)"))
        {
            var rf = Mapping(item, s_subsetRootKeys);
            var table = ExactTable(rf.Require("table", "the root's table, e.g. table: public.customers"));
            double? percent = null;
            if (rf.Get("percent") is { } percentNode)
            {
                var s = RequiredScalar(percentNode, "a share of the rows from 0 (exclusive) to 100");
                if (!double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0 && value <= 100))
                {
                    throw Error(percentNode, $"expected a share of the rows above 0 and up to 100, found {s.Shown}");
                }
                percent = value;
            }
            long? limit = rf.Get("limit") is { } limitNode ? Int(limitNode, 0, int.MaxValue) : null;
            var where = rf.Get("where") is { } whereNode ? NonEmpty(whereNode, "a SQL condition on the table's rows, e.g. where: \"country = 'DE'\"") : null;
            roots.Add(new SubsetRootConfig(table) { Where = where, Percent = percent, Limit = limit, Source = Where(item.Yaml) });
        }
        if (roots.Count == 0)
        {
            throw Error(rootsNode, "expected at least one root: a subset starts from the rows of some table");
        }

        var followAll = false;
        var follow = new List<TablePattern>();
        if (f.Get("follow_children") is { } followNode)
        {
            if (followNode.Yaml is YamlScalarNode)
            {
                var text = RequiredScalar(followNode, "all, or a list of tables");
                followAll = text.Value == "all" ? true : throw Error(followNode, $"expected all (every child table) or a list of tables, found {text.Shown}");
            }
            else
            {
                follow.AddRange(Sequence(followNode, "child tables").Select(Table));
            }
        }
        var passthrough = f.Get("passthrough") is { } passNode ? Sequence(passNode, "tables copied whole").Select(Table).ToList() : [];

        var virtualKeys = new List<VirtualForeignKeyConfig>();
        if (f.Get("virtual_foreign_keys") is { } virtualNode)
        {
            foreach (var item in Sequence(virtualNode, "foreign keys the catalog does not declare (- table: ..., columns: [...], references: { table: ..., columns: [...] })"))
            {
                var vf = Mapping(item, s_virtualKeyKeys);
                var table = ExactTable(vf.Require("table", "the referencing table, e.g. table: public.comments"));
                var columns = ColumnList(vf.Require("columns", "the referencing columns, e.g. columns: [commentable_id]"));
                var referencesNode = vf.Require("references", "the referenced table and columns, e.g. references: { table: public.posts, columns: [id] }");
                var reff = Mapping(referencesNode, ["table", "columns"]);
                var referenced = ExactTable(reff.Require("table", "the referenced table"));
                var referencedColumns = ColumnList(reff.Require("columns", "the referenced columns"));
                if (referencedColumns.Count != columns.Count)
                {
                    throw Error(referencesNode, $"names {referencedColumns.Count} referenced columns for {columns.Count} referencing ones; they pair up in order");
                }
                var where = vf.Get("where") is { } whereNode ? NonEmpty(whereNode, "a SQL condition on the referencing rows, e.g. where: \"commentable_type = 'Post'\"") : null;
                virtualKeys.Add(new VirtualForeignKeyConfig(table, columns, referenced, referencedColumns) { Where = where, Source = Where(item.Yaml) });
            }
        }

        var unreachedFull = false;
        if (f.Get("unreached") is { } unreachedNode)
        {
            var text = RequiredScalar(unreachedNode, "empty or full");
            unreachedFull = text.Value switch
            {
                "empty" => false,
                "full" => true,
                _ => throw Error(unreachedNode, $"expected empty (the default: tables no root reaches keep no rows) or full (they are copied whole, with their parents), found {text.Shown}"),
            };
        }

        return new SubsetConfig
        {
            Roots = roots,
            FollowAllChildren = followAll,
            FollowChildren = follow,
            Passthrough = passthrough,
            VirtualForeignKeys = virtualKeys,
            MaxRowsPerTable = f.Get("max_rows_per_table") is { } maxNode ? Int(maxNode, 1, int.MaxValue) : null,
            UnreachedFull = unreachedFull,
            MemoryBytes = f.Get("memory") is { } memoryNode ? Size(memoryNode, 1L << 20, 1L << 40) : new SubsetConfig().MemoryBytes,
            Source = Where(node.Yaml),
        };
    }

    /// <summary>One table (no * in place of its schema or name): a root or a virtual key names rows of one table.</summary>
    TablePattern ExactTable(ConfigNode node)
    {
        var table = Table(node);
        if (table.Schema.IsAny || table.Table.IsAny)
        {
            throw Error(node, $"names {table}, a pattern; a root or a virtual foreign key names one table (schema.table)");
        }
        return table;
    }

    List<string> ColumnList(ConfigNode node)
    {
        var columns = Sequence(node, "column names").Select(c => NonEmpty(c, "a column name")).ToList();
        if (columns.Count == 0)
        {
            throw Error(node, "expected at least one column");
        }
        return columns;
    }
}

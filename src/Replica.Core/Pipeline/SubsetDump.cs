using System.Text;
using Npgsql;
using Replica.Config;
using Replica.Sources;
using Replica.Subsetting;

namespace Replica.Pipeline;

/// <summary>
/// A dump of a subset on the snapshot source: the plan and its closure run inside the exported snapshot before any table
/// is copied, then each table's data is read by COPY statements that select the kept rows in batches of keys
/// (<see cref="SubsetClosure.BatchSize"/>), ordered by the key so two runs give the same bytes. Tables no root reaches get
/// no rows; passthrough tables and tables whose rows the rules already drop are copied as they are. A nullable foreign
/// key into a table whose rows are not kept (data: skip, drop, only_tables) is written as NULL.
/// </summary>
internal static class SubsetDump
{
    /// <summary>Plans and runs the subset in <paramref name="source"/>'s snapshot and tells the source which rows to copy.</summary>
    /// <param name="store">Holds the kept keys until the last table is copied: the caller disposes it after the dump.</param>
    public static async Task<SubsetSummary> ApplyAsync(PostgresSnapshotSource source, ReplicaConfig config, KeyStore store, Action<string>? progress, CancellationToken cancellationToken)
    {
        var subset = config.Subset!;
        var connection = await source.OpenSnapshotConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (tables, links, infos) = await PostgresSubsetSource.ReadGraphAsync(connection, SubsetPlan.VirtualLinks(subset), cancellationToken).ConfigureAwait(false);
            var plan = SubsetPlan.Build(config, tables, links, infos.ToDictionary(i => i.Key, i => i.Value.EstimatedRows));
            var closure = new SubsetClosure(plan.Graph, new PostgresSubsetSource(connection, infos), store, Encoding.UTF8.GetBytes(config.Secret), subset.MaxRowsPerTable)
            {
                RoundDone = round => progress?.Invoke($"subset: round {round} done"),
            };
            await closure.RunAsync(cancellationToken).ConfigureAwait(false);
            var byName = tables.ToDictionary(t => t.Name, StringComparer.Ordinal);
            source.RowQueries = table =>
            {
                var name = table.PartitionRoot ?? $"{table.Schema}.{table.Name}";
                return byName.TryGetValue(name, out var node) ? Statements(plan, closure, node, infos[node], table) : null;
            };
            var kept = tables.Where(t => closure.KeptCount(t) > 0).Select(t => (t.Name, closure.KeptCount(t))).ToList();
            return new SubsetSummary(closure.Rounds, kept, NulledLinks(plan.Graph));
        }
        catch (NpgsqlException e)
        {
            throw new DatabaseException($"computing the subset failed: {e.Message}", e);
        }
    }

    /// <summary>The foreign keys written as NULL: those of tables with kept rows into tables whose rows are not kept.</summary>
    public static List<string> NulledLinks(SubsetGraph graph) => graph.Links
        .Where(l => graph.Excluded.Contains(l.Parent) && !graph.Excluded.Contains(l.Child) && graph.Roles[l.Child] != SubsetRole.Unreached)
        .Select(l => $"{l.Child.Name} ({string.Join(", ", l.ChildColumns.Select(c => l.Child.KeyColumns[c]))}) -> {l.Parent.Name}")
        .ToList();

    /// <summary>The COPY statements of one leaf table (a partition reads its root's kept keys); null: every row.</summary>
    static IEnumerable<string>? Statements(SubsetPlan plan, SubsetClosure closure, SubsetTable node, PostgresSubsetSource.TableInfo info, SnapshotTable table)
    {
        var role = plan.Graph.Roles[node];
        if (role is SubsetRole.Excluded or SubsetRole.Passthrough)
        {
            return null;
        }
        var columns = table.Columns;
        // Foreign keys into tables whose rows are not kept: NULL (a NOT NULL one was a plan error).
        var nulled = plan.Graph.ParentLinks(node).Where(l => plan.Graph.Excluded.Contains(l.Parent))
            .SelectMany(l => l.ChildColumns.Select(c => node.KeyColumns[c])).ToHashSet(StringComparer.Ordinal);
        var select = columns.Count == 0 ? "" : string.Join(", ", columns.Select(c => nulled.Contains(c) ? "NULL" : Identifiers.Delimited(c)));
        var from = $"FROM ONLY {table.QualifiedName} t";
        if (role == SubsetRole.Unreached || closure.KeptCount(node) == 0)
        {
            return [$"COPY (SELECT {select} {from} WHERE false) TO STDOUT"];
        }
        return KeptBatches(closure, node, info, select, from);
    }

    static IEnumerable<string> KeptBatches(SubsetClosure closure, SubsetTable node, PostgresSubsetSource.TableInfo info, string select, string from)
    {
        foreach (var batch in closure.Kept(node).Chunk(SubsetClosure.BatchSize))
        {
            string where;
            string order;
            if (node.Identity.Count == 0)
            {
                // A table without a key: its rows are known by a digest of their content.
                where = $"md5(t::text) = ANY(ARRAY[{string.Join(", ", batch.Select(Literal))}]::text[])";
                order = "md5(t::text)";
            }
            else
            {
                var keyColumns = node.Identity.Select(i => node.KeyColumns[i]).ToList();
                var tuples = batch.Select(id => SubsetClosure.SplitIdentity(id, keyColumns.Count)).ToList();
                var arrays = keyColumns.Select((c, k) => $"ARRAY[{string.Join(", ", tuples.Select(t => Literal(t[k])))}]::text[]::{info.KeyColumnTypes[node.Identity[k]]}[]");
                where = $"({string.Join(", ", keyColumns.Select(c => "t." + Identifiers.Delimited(c)))}) IN (SELECT * FROM unnest({string.Join(", ", arrays)}))";
                order = string.Join(", ", keyColumns.Select(c => "t." + Identifiers.Delimited(c)));
            }
            yield return $"COPY (SELECT {select} {from} WHERE {where} ORDER BY {order}) TO STDOUT";
        }
    }

    static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}

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
/// no rows; passthrough tables (but for the NULLs below) and tables whose rows the rules already drop are copied as they are. A nullable foreign
/// key into a table whose rows are not kept (data: skip, source.exclude_table_data; a table drop or only_tables removes
/// takes its keys along) is written as NULL. A table with a primary key whose kept rows reach
/// <see cref="FullScanShare"/> of the planner's estimate is copied whole instead, in one scan, and the rewriter keeps
/// its kept rows (<see cref="KeptRows"/>): many index lookups cost more than one scan.
/// </summary>
internal static class SubsetDump
{
    /// <summary>
    /// The share of a table's estimated rows from which its kept rows are chosen by the rewriter over one full scan
    /// rather than by key batches (bench/results/issue11-subset-2026-12-03.md; REPLICA_SUBSET_FULL_SCAN overrides it
    /// for benchmarks: 0 always scans, above 1 never).
    /// </summary>
    public static double FullScanShare => Switches.SubsetFullScanShare;

    /// <summary>
    /// Plans and runs the subset in <paramref name="source"/>'s snapshot, tells the source which rows to copy, and
    /// gives <paramref name="rewriter"/> (a dump in parts: its parts' rewriters) the filter of tables copied whole.
    /// </summary>
    /// <param name="store">Holds the kept keys until the last table is copied: the caller disposes it after the dump.</param>
    public static async Task<SubsetSummary> ApplyAsync(PostgresSnapshotSource source, ReplicaConfig config, Rewriting.DumpRewriter rewriter, KeyStore store,
        Action<string>? progress, CancellationToken cancellationToken)
    {
        var subset = config.Subset!;
        var connection = await source.OpenSnapshotConnectionAsync(cancellationToken).ConfigureAwait(false);
        // A second connection answers the closure's next question while the client records the last answer, where it fits
        // (it goes on as a helper: the next COPY of a table run ahead).
        var second = source.TryReserveHelper() ? await source.OpenSnapshotConnectionAsync(cancellationToken).ConfigureAwait(false) : null;
        try
        {
            // Read under the snapshot sessions' empty search_path, format_type qualifies every key type outside pg_catalog,
            // as the COPY statements below need; the roots' and virtual keys' where conditions are the config's SQL,
            // written against the role's own search_path (as `replica subset plan` reads them), so that comes back for them.
            var (tables, links, infos) = await PostgresSubsetSource.ReadGraphAsync(connection, SubsetPlan.VirtualLinks(subset), cancellationToken).ConfigureAwait(false);
            foreach (var c in second is null ? [connection] : new[] { connection, second })
            {
                await using var reset = new NpgsqlCommand("RESET search_path", c);
                await reset.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            var plan = SubsetPlan.Build(config, tables, links, infos.ToDictionary(i => i.Key, i => i.Value.EstimatedRows), excludeTableData: config.Source.ExcludeTableData);
            var closure = new SubsetClosure(plan.Graph, new PostgresSubsetSource(connection, infos, second is null ? [] : [second]), store, Encoding.UTF8.GetBytes(config.Secret), subset.MaxRowsPerTable)
            {
                Progress = progress,
            };
            await closure.RunAsync(cancellationToken).ConfigureAwait(false);
            // Both go on to copy tables, with the snapshot sessions' own search_path again.
            await source.GiveBackAsync(connection, cancellationToken).ConfigureAwait(false);
            if (second is not null)
            {
                await source.GiveBackAsync(second, cancellationToken).ConfigureAwait(false);
            }
            var byName = tables.ToDictionary(t => t.Name, StringComparer.Ordinal);
            // Read now: the connection goes on to copy tables, and may be closed by the time the last one is asked for.
            var serverVersion = connection.PostgreSqlVersion;
            // The leaf tables copied whole whose rows the rewriter chooses.
            var scanned = new System.Collections.Concurrent.ConcurrentDictionary<Lexing.TableName, SubsetTable>();
            rewriter.Filter = new KeptRows(plan.Graph, closure, name => scanned.GetValueOrDefault(name));
            source.RowQueries = table =>
            {
                var name = table.PartitionRoot ?? $"{table.Schema}.{table.Name}";
                if (!byName.TryGetValue(name, out var node))
                {
                    return null;
                }
                if (ScansWhole(plan, closure, node, infos[node]))
                {
                    scanned[new Lexing.TableName(table.Schema, table.Name)] = node;
                    return null;
                }
                return Statements(plan, closure, node, infos[node], table, serverVersion);
            };
            var kept = tables.Where(t => closure.KeptCount(t) > 0).Select(t => (t.Name, closure.KeptCount(t))).ToList();
            return new SubsetSummary(closure.Rounds, kept, NulledLinks(plan.Graph));
        }
        catch (PostgresException e) when (e.SqlState.StartsWith(DataException, StringComparison.Ordinal))
        {
            throw new DatabaseException($"computing the subset failed: {WithoutValue(e)}", e);
        }
        catch (NpgsqlException e)
        {
            throw new DatabaseException($"computing the subset failed: {e.Message}", e);
        }
    }

    // SQLSTATE class 22, data exception (https://www.postgresql.org/docs/current/errcodes-appendix.html).
    const string DataException = "22";

    /// <summary>
    /// A data exception's message without the value it quotes: "invalid input syntax for type integer: "jane@..."" names
    /// a row's value, the source's data (personal, as often as not), which a config error must not carry into a
    /// terminal or a CI log. A root's where or a virtual foreign key whose columns' types differ (a typo: customers.id
    /// for customers.email) casts every value it compares.
    /// </summary>
    internal static string WithoutValue(PostgresException e)
    {
        var text = e.MessageText;
        var quote = text.IndexOf('"', StringComparison.Ordinal);
        var shown = (quote < 0 ? text : text[..quote]).TrimEnd(' ', ':');
        return $"{e.SqlState}: {shown} (the value is not shown: it is the source's data); a root's where or a virtual foreign key "
            + "casts or compares a column whose values do not all read as the other type: check their columns and types";
    }

    /// <summary>The foreign keys written as NULL: those of tables with kept rows into tables whose rows are not kept.</summary>
    public static List<string> NulledLinks(SubsetGraph graph) => graph.Links
        .Where(l => graph.Excluded.Contains(l.Parent) && !graph.Excluded.Contains(l.Child) && graph.Roles[l.Child] != SubsetRole.Unreached)
        .Select(l => $"{l.Child.Name} ({string.Join(", ", l.ChildColumns.Select(c => l.Child.KeyColumns[c]))}) -> {l.Parent.Name}")
        .ToList();

    /// <summary>Whether a table's kept rows are chosen from one full scan (a table with a primary key, mostly kept).</summary>
    static bool ScansWhole(SubsetPlan plan, SubsetClosure closure, SubsetTable node, PostgresSubsetSource.TableInfo info) =>
        plan.Graph.Roles[node] is SubsetRole.Root or SubsetRole.FollowedChild or SubsetRole.ParentOnly
        && node.Identity.Count > 0 && closure.KeptCount(node) >= FullScanShare * Math.Max(1, info.EstimatedRows);

    /// <summary>The COPY statements of one leaf table (a partition reads its root's kept keys); null: every row.</summary>
    static IEnumerable<string>? Statements(SubsetPlan plan, SubsetClosure closure, SubsetTable node, PostgresSubsetSource.TableInfo info, SnapshotTable table,
        Version server)
    {
        var role = plan.Graph.Roles[node];
        // Foreign keys into tables whose rows are not kept: NULL (a NOT NULL one was a plan error).
        var nulled = plan.Graph.NulledColumns(node);
        if (role is SubsetRole.Excluded || role is SubsetRole.Passthrough && nulled.Count == 0)
        {
            return null;
        }
        var columns = table.Columns;
        var select = columns.Count == 0 ? "" : string.Join(", ", columns.Select(c => nulled.Contains(c) ? "NULL" : Identifiers.Delimited(c)));
        var from = $"FROM ONLY {table.QualifiedName} t";
        if (role is SubsetRole.Passthrough)
        {
            return [$"COPY (SELECT {select} {from}) TO STDOUT"];
        }
        if (role == SubsetRole.Unreached || closure.KeptCount(node) == 0)
        {
            return [$"COPY (SELECT {select} {from} WHERE false) TO STDOUT"];
        }
        return KeptBatches(closure, node, info, select, from, node.Identity.Count == 0 ? KeylessBatch(server) : CopyBatch);
    }

    /// <summary>
    /// Kept rows per COPY statement of a table without a primary key. Its rows are known by md5(t::text), so each
    /// statement scans the whole table; from PostgreSQL 14 on, = ANY of a constant array is a hash lookup, so a statement
    /// of 50,000 digests (1.75 MB of SQL) costs about one scan, as one of 5000 does: 10 times fewer scans (a subset
    /// following a keyless table of 1M rows: 12.6 s against 29 s, the same bytes, bench/results/issue11-keyless-2026-12-05.md;
    /// 100,000 was no faster and held 25 MiB more). Before 14 the array is searched element by element for every row:
    /// the keyed tables' batches.
    /// </summary>
    static int KeylessBatch(Version server) => server.Major >= 14 ? CopyBatch * 10 : CopyBatch;

    /// <summary>Kept keys per data COPY statement of a table with a primary key (REPLICA_SUBSET_COPY_BATCH for tests).</summary>
    static int CopyBatch => Switches.SubsetCopyBatch ?? SubsetClosure.BatchSize;

    static IEnumerable<string> KeptBatches(SubsetClosure closure, SubsetTable node, PostgresSubsetSource.TableInfo info, string select, string from, int batchSize)
    {
        foreach (var (batch, copies) in Batches(closure, node, batchSize))
        {
            string where;
            string order;
            if (copies is long some)
            {
                // Some copies of one row without a primary key (a limit's last): alike, so any of them, in the batches' order.
                yield return $"COPY (SELECT {select} {from} WHERE md5(t::text) = ({ArrayLiteral(batch)}::text[])[1] LIMIT {some}) TO STDOUT";
                continue;
            }
            if (node.Identity.Count == 0)
            {
                // A table without a key: its rows are known by a digest of their content.
                where = $"md5(t::text) = ANY({ArrayLiteral(batch)}::text[])";
                order = "md5(t::text)";
            }
            else if (node.Identity.Count == 1)
            {
                // One key column: = ANY walks the key's index in key order, so no join, no hash of the keys and no sort
                // (bench/results/issue11-live-2026-12-05.md). The same rows as IN (SELECT unnest(...)), in the same order.
                var column = "t." + Identifiers.Delimited(node.KeyColumns[node.Identity[0]]);
                where = $"{column} = ANY({ArrayLiteral(batch)}::text[]::{info.KeyColumnTypes[node.Identity[0]]}[])";
                order = column;
            }
            else
            {
                var keyColumns = node.Identity.Select(i => node.KeyColumns[i]).ToList();
                var tuples = batch.Select(id => SubsetClosure.SplitIdentity(id, keyColumns.Count)).ToList();
                var arrays = keyColumns.Select((c, k) => $"{ArrayLiteral(tuples.Select(t => t[k]))}::text[]::{info.KeyColumnTypes[node.Identity[k]]}[]");
                where = $"({string.Join(", ", keyColumns.Select(c => "t." + Identifiers.Delimited(c)))}) IN (SELECT * FROM unnest({string.Join(", ", arrays)}))";
                order = string.Join(", ", keyColumns.Select(c => "t." + Identifiers.Delimited(c)));
            }
            yield return $"COPY (SELECT {select} {from} WHERE {where} ORDER BY {order}) TO STDOUT";
        }
    }

    /// <summary>
    /// A table's kept identities in order, <paramref name="batchSize"/> at a time; an identity of which only some copies
    /// are kept (<see cref="SubsetClosure.CopyLimits(SubsetTable)"/>) is a batch of its own, with how many.
    /// </summary>
    static IEnumerable<(string[] Ids, long? Copies)> Batches(SubsetClosure closure, SubsetTable node, int batchSize)
    {
        var limits = closure.CopyLimits(node);
        var ids = new List<string>(batchSize);
        foreach (var id in closure.Kept(node))
        {
            if (limits is not null && limits.TryGetValue(id, out var copies))
            {
                if (ids.Count > 0)
                {
                    yield return ([.. ids], null);
                    ids.Clear();
                }
                yield return ([id], copies);
                continue;
            }
            ids.Add(id);
            if (ids.Count == batchSize)
            {
                yield return ([.. ids], null);
                ids.Clear();
            }
        }
        if (ids.Count > 0)
        {
            yield return ([.. ids], null);
        }
    }

    /// <summary>
    /// One SQL string constant holding a text[] of <paramref name="values"/>, every element quoted, which PostgreSQL
    /// parses as one constant (ARRAY['a', 'b', ...] is one expression per element to parse, fold and cast). The
    /// array's own escapes (backslash before \ and ") are doubled again in an E'' string when there are any, so the
    /// constant means the same whatever standard_conforming_strings says.
    /// https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO
    /// </summary>
    internal static string ArrayLiteral(IEnumerable<string> values)
    {
        var text = new StringBuilder("'{");
        var escaped = false;
        var first = true;
        foreach (var value in values)
        {
            if (!first)
            {
                text.Append(',');
            }
            first = false;
            text.Append('"');
            foreach (var c in value)
            {
                switch (c)
                {
                    case '\\' or '"':
                        // The array's escape, then the character, each backslash doubled again for the E'' string.
                        text.Append(@"\\").Append(c == '"' ? "\"" : @"\\");
                        escaped = true;
                        break;
                    case '\'':
                        text.Append("''");
                        break;
                    default:
                        text.Append(c);
                        break;
                }
            }
            text.Append('"');
        }
        text.Append("}'");
        return escaped ? "E" + text : text.ToString();
    }
}

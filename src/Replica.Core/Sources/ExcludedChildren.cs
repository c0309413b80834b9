using System.Text.Json;
using Replica.Clients;

namespace Replica.Sources;

/// <summary>
/// A table with one of its ancestors: the partitioned table it is a partition of, or a table it inherits from, at any depth.
/// </summary>
public readonly record struct TableAncestor(string Schema, string Name, string AncestorSchema, string AncestorName);

/// <summary>
/// The children of excluded tables, excluded with them. pg_dump's --exclude-table and --exclude-table-data leave out only
/// the tables they match, so an entry naming a partitioned table (which holds no rows itself) left every partition's
/// rows in the dump; pg_dump 16 added --exclude-table-and-children and --exclude-table-data-and-children for that
/// (https://www.postgresql.org/docs/current/app-pgdump.html). Whoever excludes a partitioned or parent table means its
/// rows, so its partitions and inheritance children, transitively, are passed too, as exact patterns, as those options do
/// (and with any pg_dump the source supports).
/// </summary>
public static class ExcludedChildren
{
    /// <summary>Every (table, ancestor) pair as one JSON array of [schema, name, ancestor schema, ancestor name].</summary>
    public const string Sql = """
        WITH RECURSIVE up(relid, ancestor) AS (
            SELECT i.inhrelid, i.inhparent FROM pg_catalog.pg_inherits i
            UNION
            SELECT up.relid, i.inhparent FROM up JOIN pg_catalog.pg_inherits i ON i.inhrelid = up.ancestor)
        SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname, an.nspname, ac.relname)
                        ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", an.nspname COLLATE "C", ac.relname COLLATE "C"), '[]')
        FROM up
        JOIN pg_catalog.pg_class c ON c.oid = up.relid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_catalog.pg_class ac ON ac.oid = up.ancestor JOIN pg_catalog.pg_namespace an ON an.oid = ac.relnamespace
        WHERE c.relkind IN ('r', 'p', 'f')
        """;

    /// <summary>Reads <see cref="Sql"/>'s answer.</summary>
    public static List<TableAncestor> Parse(string json)
    {
        var result = new List<TableAncestor>();
        using var document = JsonDocument.Parse(json);
        foreach (var row in document.RootElement.EnumerateArray())
        {
            result.Add(new TableAncestor(row[0].GetString()!, row[1].GetString()!, row[2].GetString()!, row[3].GetString()!));
        }
        return result;
    }

    /// <summary>
    /// <paramref name="options"/> with an exact pattern added to exclude_tables (exclude_table_data) for every descendant
    /// of a table an entry there matches, unless an entry already matches it.
    /// </summary>
    public static SourceOptions Add(SourceOptions options, IReadOnlyList<TableAncestor> ancestry)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(ancestry);
        var tables = Descendants(options.ExcludeTables, ancestry);
        var data = Descendants(options.ExcludeTableData, ancestry);
        return tables.Count == 0 && data.Count == 0
            ? options
            : options with { ExcludeTables = [.. options.ExcludeTables, .. tables], ExcludeTableData = [.. options.ExcludeTableData, .. data] };
    }

    static List<string> Descendants(IReadOnlyList<string> patterns, IReadOnlyList<TableAncestor> ancestry)
    {
        var matchers = patterns.Select(PgDumpPattern.Table).ToArray();
        var added = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var link in ancestry)
        {
            if (Array.Exists(matchers, m => m.Matches(link.AncestorSchema, link.AncestorName)) && !Array.Exists(matchers, m => m.Matches(link.Schema, link.Name)))
            {
                added.Add($"{Identifiers.Delimited(link.Schema)}.{Identifiers.Delimited(link.Name)}");
            }
        }
        return [.. added];
    }
}

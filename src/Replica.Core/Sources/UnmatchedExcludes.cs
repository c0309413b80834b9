using System.Text;
using Replica.Catalog;
using Replica.Clients;

namespace Replica.Sources;

/// <summary>
/// source.exclude_tables, exclude_table_data and exclude_schemas entries that match nothing in the source. pg_dump
/// ignores an exclude pattern that matches nothing, even with --strict-names, and mysqldump an --ignore-table of a table
/// that does not exist: a typo (public.audit_logs for public.audit_log) would dump the rows it was meant to leave out.
/// So such an entry is a rule that matches nothing: it fails the dump before anything is stored (exit 2, naming the
/// closest name), or with 'unmatched_rules: warn' is a warning.
/// </summary>
public static class UnmatchedExcludes
{
    /// <summary>
    /// Checks the exclude patterns of a PostgreSQL source against its catalog, as pg_dump matches them
    /// (<see cref="PgDumpPattern"/>): tables (and the views, sequences and foreign tables pg_dump also excludes by these
    /// patterns), and schemas. An exclude_table_data entry that matches only views counts as matching nothing: it leaves
    /// no rows out. A partitioned table matches: its partitions are excluded with it (<see cref="ExcludedChildren"/>).
    /// </summary>
    public static void CheckPostgres(SourceOptions options, DatabaseCatalog catalog, UnmatchedRules unmatched, Action<string>? warn, string? configFile)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        var relations = new List<TableReference>(catalog.Tables.Count + catalog.OtherRelations.Count);
        relations.AddRange(catalog.Tables.Select(t => new TableReference(t.Schema, t.Name)));
        relations.AddRange(catalog.OtherRelations);
        var problems = new List<string>();
        var where = $"in {catalog.Database}";
        foreach (var (key, patterns) in new[] { ("source.exclude_tables", options.ExcludeTables), ("source.exclude_table_data", options.ExcludeTableData) })
        {
            foreach (var text in patterns)
            {
                var pattern = PgDumpPattern.Table(text);
                // A view holds no rows: an exclude_table_data entry that matches views only leaves no data out.
                if (key == "source.exclude_table_data" && !relations.Exists(r => pattern.Matches(r.Schema, r.Name) && !catalog.Views.Contains(r))
                    && catalog.Views.FirstOrDefault(r => pattern.Matches(r.Schema, r.Name)) is { } view)
                {
                    problems.Add($"{key} entry '{text}' matches only views {where} (such as {view.Schema}.{view.Name}), which hold no rows");
                    continue;
                }
                if (!relations.Exists(r => pattern.Matches(r.Schema, r.Name)))
                {
                    var candidates = text.Contains('.', StringComparison.Ordinal)
                        ? relations.Select(r => $"{r.Schema}.{r.Name}")
                        : relations.Where(r => r.Schema == "public").Select(r => r.Name);
                    problems.Add(Problem(key, text, "table", where, Suggestions.Closest(text, candidates)));
                }
            }
        }
        foreach (var text in options.ExcludeSchemas)
        {
            var pattern = PgDumpPattern.Schema(text);
            if (!catalog.Schemas.Any(pattern.MatchesSchema))
            {
                problems.Add(Problem("source.exclude_schemas", text, "schema", where, Suggestions.Closest(text, catalog.Schemas)));
            }
        }
        Report(problems, unmatched, warn, configFile);
    }

    /// <summary>"source.exclude_tables entry 'x' matches no table of db (did you mean y?)".</summary>
    internal static string Problem(string key, string entry, string what, string where, string? closest) =>
        $"{key} entry '{entry}' matches no {what} {where}{(closest is null ? "" : $" (did you mean {closest}?)")}";

    /// <summary>Fails with every problem (unmatched_rules: error), or warns of each.</summary>
    internal static void Report(List<string> problems, UnmatchedRules unmatched, Action<string>? warn, string? configFile)
    {
        if (problems.Count == 0)
        {
            return;
        }
        if (unmatched == UnmatchedRules.Warn)
        {
            foreach (var problem in problems)
            {
                warn?.Invoke(problem + "; it left nothing out");
            }
            return;
        }
        var message = new StringBuilder()
            .Append(problems.Count == 1 ? "an exclude entry matches" : $"{problems.Count} exclude entries match")
            .Append(" nothing in the source, so what it was meant to leave out would be dumped; nothing was stored:");
        foreach (var problem in problems)
        {
            message.Append("\n  ").Append(problem);
        }
        message.Append("\nFix the name, or remove the entry (or set 'unmatched_rules: warn').");
        throw new ConfigException(message.ToString(), configFile);
    }
}

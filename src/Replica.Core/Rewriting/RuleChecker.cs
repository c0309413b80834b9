using Replica.Scanning;
using Replica.Lexing;

namespace Replica.Rewriting;

/// <summary>What a dump checks against its rules while it streams (<see cref="RewriteRules.Checks"/>).</summary>
public sealed class RuleChecks
{
    /// <summary>'unmatched_rules': a rule that matches no table or column of the dump fails it, or only warns.</summary>
    public UnmatchedRules Unmatched { get; init; } = UnmatchedRules.Error;

    /// <summary>
    /// Strict mode from the dump itself (a file or stdin, where no catalog is read): a column of the dump that looks like
    /// personal data by its name and its CREATE TABLE type, and has no rule, fails the dump before its rows are stored.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>
    /// The dump is source.connection_uri's, made with the source's filters: in strict mode a table whose rows they leave
    /// out (<see cref="SourceDumpsData"/> false: exclude_table_data) has no data to check. A dump file was made without them.
    /// </summary>
    public bool LiveSource { get; init; }

    /// <summary>
    /// Whether the source's filters (pg_dump's --table, --exclude-table, --schema) let a table's data into the dump, by
    /// schema and name: a rule for a table they leave out is explained, not an error. Default: every table.
    /// </summary>
    public Func<string, string, bool> SourceDumpsData { get; init; } = static (_, _) => true;

    /// <summary>
    /// Whether the source's exclude_tables or exclude_table_data name a table: its partitions and inheritance children,
    /// at any depth, are left out with it (Sources.ExcludedChildren). Default: none.
    /// </summary>
    public Func<string, string, bool> SourceExcludesWithChildren { get; init; } = static (_, _) => false;

    /// <summary>The config file, for messages.</summary>
    public string? ConfigFile { get; init; }

    readonly List<string> _sourceWarnings = [];

    /// <summary>
    /// A warning found before the rows are read (a source exclude entry that matches nothing, with unmatched_rules: warn):
    /// listed first among the rewriter's warnings.
    /// </summary>
    public void Warn(string warning)
    {
        lock (_sourceWarnings)
        {
            _sourceWarnings.Add(warning);
        }
    }

    internal List<string> SourceWarnings()
    {
        lock (_sourceWarnings)
        {
            return [.. _sourceWarnings];
        }
    }
}

/// <summary>
/// Makes sure that no rule misses silently. A rule for a column that the table's column list (CREATE TABLE, COPY
/// header, INSERT column list) does not have fails the dump as soon as that list is seen; a rule for a table or column
/// that the whole dump does not contain fails it at the end of the input, before anything is listed. Rules for tables
/// that the config itself removes are explained in <see cref="Warnings"/> instead. With strict checks, columns that look
/// like personal data and have no rule fail the dump when the first table's data begins (pg_dump writes every CREATE
/// TABLE before any data, so no row is written) and, for tables seen later, when their data begins or the input ends.
/// </summary>
internal sealed class RuleChecker(RewriteRules rules, Dictionary<TableName, TableState> tables)
{
    readonly RuleChecks? _checks = rules.Checks;
    /// <summary>Some rule names a column by a bare name with capitals (<see cref="ColumnRule.FoldedFrom"/>).</summary>
    readonly bool _anyFolded = rules.Rules.Any(r => r.Columns.Any(c => c.FoldedFrom is not null));
    /// <summary>Some rule for a wildcard table names a lower-case column (see <see cref="CheckWildcardCaseColumns"/>).</summary>
    readonly bool _anyWildcardLowerCase = rules.Rules.Any(r => r.Action == TableAction.Transform && (r.Table.Schema.IsAny || r.Table.Table.IsAny)
        && r.Columns.Any(c => c.FoldedFrom is null && c.Column.Name is { } name && name == Identifiers.FoldCase(name)));
    readonly List<string> _warnings = [];
    bool _dataBegun;

    /// <summary>Rules that matched nothing (with unmatched_rules: warn) and rules explained as having no effect.</summary>
    public IReadOnlyList<string> Warnings => _checks?.SourceWarnings() is { Count: > 0 } early ? [.. early, .. _warnings] : _warnings;

    /// <summary>A CREATE TABLE was read; its own columns are all its columns unless it is a partition or child table.</summary>
    public void OnCreateTable(TableState table, bool hasParent)
    {
        if (table.Columns is { } declared)
        {
            var names = declared.ConvertAll(c => c.Name);
            CheckFoldedColumns(table, names);
            CheckWildcardCaseColumns(table, names);
        }
        if (_checks is null || table.Columns is not { } columns)
        {
            return;
        }
        table.NoteColumns(columns.ConvertAll(c => c.Name));
        if (!hasParent && columns.Count > 0)
        {
            CheckColumnsOf(table);
        }
    }

    /// <summary>A COPY header or INSERT column list: the table's data begins with these columns.</summary>
    public void OnData(TableState table, IReadOnlyList<string> columns)
    {
        CheckFoldedColumns(table, columns);
        CheckWildcardCaseColumns(table, columns);
        if (_checks is null)
        {
            return;
        }
        table.NoteColumns(columns);
        CheckColumnsOf(table);
        if (_checks.Strict)
        {
            var findings = new List<PersonalDataFinding>();
            if (!_dataBegun)
            {
                CheckStrict(findings, leavesOnly: true);
            }
            CheckStrict(table, findings);
            ThrowStrict(findings);
        }
        _dataBegun = true;
    }

    /// <summary>The end of the input: what the dump does not contain is known now.</summary>
    public void OnComplete()
    {
        if (_checks is null)
        {
            return;
        }
        if (_checks.Strict)
        {
            var findings = new List<PersonalDataFinding>();
            CheckStrict(findings, leavesOnly: true);
            ThrowStrict(findings);
        }
        CheckUnmatched();
    }

    // ---- a bare column name that folds away from the column it was written for ------------------------------------

    /// <summary>
    /// A bare rule column with capitals folds to lower case (Email names email, as PostgreSQL reads unquoted names), so a
    /// column spelled as written ("Email", or "EMAIL") would stay in clear: beside a column email the rule masks that one
    /// instead, without one it masks nothing. Whoever wrote Email most likely meant "Email", so either is an error, also
    /// for an optional rule or with unmatched_rules: warn, when such a column has no rule of its own. Checked at the CREATE
    /// TABLE and at every COPY header or INSERT column list, before a row is written. MySQL compares column names without
    /// case, so this is PostgreSQL's alone.
    /// </summary>
    void CheckFoldedColumns(TableState table, IReadOnlyList<string> columns)
    {
        if (!_anyFolded || table.Dialect != SqlDialect.PostgreSql || table.Action(rules) != TableAction.Transform)
        {
            return;
        }
        foreach (var t in table.Lineage())
        {
            foreach (var rule in rules.Rules)
            {
                if (rule.Action != TableAction.Transform || !rule.Table.Matches(t.Name.Schema, t.Name.Table))
                {
                    continue;
                }
                foreach (var column in rule.Columns)
                {
                    if (column.FoldedFrom is not { } written)
                    {
                        continue;
                    }
                    var folded = column.Column.Name!;
                    foreach (var other in columns)
                    {
                        if (other != folded && Identifiers.FoldCase(other) == folded && !HasRule(table, other))
                        {
                            var where = column.Source ?? rule.Source ?? _checks?.ConfigFile ?? "config";
                            RewriteThrow.FoldedColumn(where, table.DisplayName, written, folded, other, columns.Contains(folded));
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// A rule for a wildcard table ('*.users') with a lower-case column (email) on a matched table that has no column
    /// email but one that differs only by case ("Email"), which no rule masks. For an exact table the rule would match no
    /// column and fail the dump (<see cref="CheckColumnsOf"/>); with a wildcard one matching table that has email was
    /// enough, and "Email" stayed in clear. An error, with the folded-column message, also for an optional rule or with
    /// unmatched_rules: warn. A table that has email too keeps the rule's meaning, as with an exact table.
    /// </summary>
    void CheckWildcardCaseColumns(TableState table, IReadOnlyList<string> columns)
    {
        if (!_anyWildcardLowerCase || table.Dialect != SqlDialect.PostgreSql || table.Action(rules) != TableAction.Transform)
        {
            return;
        }
        foreach (var t in table.Lineage())
        {
            foreach (var rule in rules.Rules)
            {
                if (rule.Action != TableAction.Transform || !(rule.Table.Schema.IsAny || rule.Table.Table.IsAny)
                    || !rule.Table.Matches(t.Name.Schema, t.Name.Table))
                {
                    continue;
                }
                foreach (var column in rule.Columns)
                {
                    if (column.FoldedFrom is not null || column.Column.Name is not { } name || name != Identifiers.FoldCase(name)
                        || columns.Contains(name) || table.Definition(name) is not null)
                    {
                        continue;
                    }
                    foreach (var other in columns)
                    {
                        if (other != name && Identifiers.FoldCase(other) == name && !HasRule(table, other))
                        {
                            var where = column.Source ?? rule.Source ?? _checks?.ConfigFile ?? "config";
                            RewriteThrow.FoldedColumn(where, table.DisplayName, name, name, other, hasFolded: false);
                        }
                    }
                }
            }
        }
    }

    // ---- rules that match nothing ---------------------------------------------------------------------------------

    /// <summary>
    /// Rules naming exactly this table (no wildcard) must name columns it has. Only for PostgreSQL, where an exact
    /// name is one table; a MySQL name may stand for a table in several databases, so those wait for the end.
    /// </summary>
    void CheckColumnsOf(TableState table)
    {
        if (_checks!.Unmatched != UnmatchedRules.Error || table.Dialect != SqlDialect.PostgreSql || ActionOf(table) == TableAction.Drop)
        {
            return;
        }
        List<string>? missing = null;
        foreach (var rule in rules.Rules)
        {
            if (rule.Optional || rule.Action != TableAction.Transform || rule.Table.Schema.IsAny || rule.Table.Table.IsAny
                || !rule.Table.Matches(table.Name.Schema, table.Name.Table))
            {
                continue;
            }
            foreach (var column in rule.Columns)
            {
                if (!column.Column.IsAny && !table.HasColumn(column.Column))
                {
                    (missing ??= []).Add(NoSuchColumn(rule, column, [table]));
                }
            }
        }
        if (missing is not null)
        {
            RewriteThrow.UnmatchedRules(missing, _checks!.ConfigFile);
        }
    }

    void CheckUnmatched()
    {
        var problems = new List<string>();
        foreach (var rule in rules.Rules)
        {
            var matched = new List<TableState>();
            foreach (var table in tables.Values)
            {
                if (RewriteRules.Matches(rule.Table, table.Name, table.Dialect))
                {
                    matched.Add(table);
                }
            }
            var where = rule.Source ?? _checks!.ConfigFile ?? "config";
            if (matched.Count == 0)
            {
                if (ExplainAbsent(rule) is { } why)
                {
                    _warnings.Add($"{where}: the rule for table {rule.Table} matches no table of this dump, as expected: {why}");
                }
                else if (!rule.Optional)
                {
                    problems.Add($"{where}: the rule for table {rule.Table} matches no table of this dump{SuggestTable(rule.Table)}");
                }
                continue;
            }
            if (rule.Action != TableAction.Transform || rule.Columns.Count == 0)
            {
                continue;
            }
            var kept = matched.FindAll(t => ActionOf(t) != TableAction.Drop);
            if (kept.Count == 0)
            {
                _warnings.Add($"{where}: the rule for table {rule.Table} has no effect: {DropReason(matched[0])}");
                continue;
            }
            foreach (var column in rule.Columns)
            {
                if (!rule.Optional && !kept.Exists(t => t.HasColumn(column.Column)))
                {
                    problems.Add(NoSuchColumn(rule, column, kept));
                }
            }
        }
        CheckPlaces(problems);
        if (problems.Count == 0)
        {
            return;
        }
        if (_checks!.Unmatched == UnmatchedRules.Error)
        {
            RewriteThrow.UnmatchedRules(problems, _checks!.ConfigFile);
        }
        foreach (var problem in problems)
        {
            _warnings.Add(problem + "; it masked nothing");
        }
    }

    /// <summary>
    /// A place inside a value that a column's transformer names (a json path) and that no value of the dump has: a typo
    /// ($.contact.emial) would leave the value it meant in clear, so it is a rule that matched nothing, over every table
    /// and masking lane the rule reached. A place looked for in no value (a table without rows, a column of NULLs) could
    /// not be found and is not counted, as a column rule on an empty table is not.
    /// </summary>
    void CheckPlaces(List<string> problems)
    {
        Dictionary<TransformerConfig, Dictionary<string, (long Searched, long Found)>>? sums = null;
        foreach (var table in tables.Values)
        {
            foreach (var (config, place) in table.Places)
            {
                sums ??= new(ReferenceEqualityComparer.Instance);
                if (!sums.TryGetValue(config, out var paths))
                {
                    sums[config] = paths = new(StringComparer.Ordinal);
                }
                var (searched, found) = paths.GetValueOrDefault(place.Path);
                paths[place.Path] = (searched + place.Searched, found + place.Found);
            }
        }
        if (sums is null)
        {
            return;
        }
        foreach (var rule in rules.Rules)
        {
            if (rule.Optional)
            {
                continue;
            }
            foreach (var column in rule.Columns)
            {
                if (!sums.TryGetValue(column.Transformer, out var paths))
                {
                    continue;
                }
                sums.Remove(column.Transformer);
                foreach (var (path, (searched, found)) in paths)
                {
                    if (searched > 0 && found == 0)
                    {
                        var where = column.Source ?? rule.Source ?? _checks!.ConfigFile ?? "config";
                        problems.Add($"{where}: the json path {path} of the rule for column {column.Column} of table {rule.Table} matches no "
                            + $"string, number or null in any of the {searched} {(searched == 1 ? "document" : "documents")} of this dump "
                            + "(json paths are case-sensitive)");
                    }
                }
            }
        }
    }

    string NoSuchColumn(TableRule rule, ColumnRule column, List<TableState> kept)
    {
        var where = column.Source ?? rule.Source ?? _checks!.ConfigFile ?? "config";
        var names = string.Join(", ", kept.ConvertAll(t => t.DisplayName));
        if (column.Column.IsAny)
        {
            return $"{where}: the rule for every column (*) of table {rule.Table} matches no column: no column of {names} is known in this dump";
        }
        var columns = new List<string>();
        foreach (var table in kept)
        {
            foreach (var t in table.Lineage())
            {
                columns.AddRange(t.SeenColumns);
            }
        }
        var best = Suggestions.Closest(column.Column.Name!, columns);
        var suggestion = best is null ? "" : $" (did you mean '{best}'?)";
        return $"{where}: the rule for column {column.Column} of table {rule.Table} matches no column of {names}{suggestion}";
    }

    string SuggestTable(TablePattern pattern)
    {
        if (pattern.Table.IsAny)
        {
            return "";
        }
        var bare = new List<string>();
        foreach (var table in tables.Values)
        {
            bare.Add(table.Name.Table);
        }
        if (Suggestions.Closest(pattern.Table.Name!, bare) is not { } best)
        {
            return "";
        }
        // Prefer the table in the rule's own schema when several schemas have one of that name.
        TableState? choice = null;
        foreach (var table in tables.Values)
        {
            if (table.Name.Table == best && (choice is null || (pattern.Schema.Name is { } schema && table.Name.Schema == schema)))
            {
                choice = table;
            }
        }
        return $" (did you mean {choice!.DisplayName}?)";
    }

    /// <summary>Why a table the dump does not contain is expected to be missing: the config leaves it out.</summary>
    string? ExplainAbsent(TableRule rule)
    {
        if (rule.Table.Schema.Name is not { } schema || rule.Table.Table.Name is not { } name)
        {
            return null;
        }
        if (rules.OnlyTables.Count > 0 && !rules.OnlyTables.Any(p => p.Matches(schema, name)))
        {
            return "only_tables leaves it out";
        }
        foreach (var other in rules.Rules)
        {
            if (other.Action == TableAction.Drop && other.Table.Matches(schema, name))
            {
                return $"the rule at {other.Source ?? "config"} drops it";
            }
        }
        if (!_checks!.SourceDumpsData(schema, name))
        {
            return "source.tables, exclude_tables or schemas leave it out of the dump";
        }
        return null;
    }

    string DropReason(TableState table)
    {
        foreach (var t in table.Lineage())
        {
            if (rules.OnlyTables.Count > 0 && !rules.OnlyTables.Any(p => RewriteRules.Matches(p, t.Name, t.Dialect)))
            {
                return $"only_tables leaves {t.DisplayName} out";
            }
            foreach (var rule in rules.Rules)
            {
                if (rule.Action == TableAction.Drop && RewriteRules.Matches(rule.Table, t.Name, t.Dialect))
                {
                    return $"the rule at {rule.Source ?? "config"} drops {t.DisplayName}";
                }
            }
        }
        return $"{table.DisplayName} is dropped";
    }

    /// <summary>The table's action as far as its parents are known now (not cached, unlike <see cref="TableState.Action"/>).</summary>
    TableAction ActionOf(TableState table) => table.ActionOf(rules);

    // ---- strict mode from the dump --------------------------------------------------------------------------------

    /// <summary>Every table not checked yet; with <paramref name="leavesOnly"/> not partitioned or parent tables, whose rows are their children's.</summary>
    void CheckStrict(List<PersonalDataFinding> findings, bool leavesOnly)
    {
        var parents = new HashSet<TableState>();
        foreach (var table in tables.Values)
        {
            parents.UnionWith(table.Parents);
        }
        foreach (var table in tables.Values)
        {
            if (!(leavesOnly && parents.Contains(table)))
            {
                CheckStrict(table, findings);
            }
        }
    }

    void CheckStrict(TableState table, List<PersonalDataFinding> findings)
    {
        if (table.StrictChecked)
        {
            return;
        }
        table.StrictChecked = true;
        if (ActionOf(table) != TableAction.Transform
            || (_checks!.LiveSource && (!_checks.SourceDumpsData(table.Name.Schema, table.Name.Table)
                || table.Lineage().Exists(t => _checks.SourceExcludesWithChildren(t.Name.Schema, t.Name.Table)))))
        {
            return;
        }
        // The names of the tables at the top of its ancestry tell what a column holds (a partition's name does not), and
        // with several parents each of them counts; its columns are its own, or if it has seen none, its ancestors'.
        var lineage = table.Lineage();
        var roots = lineage.FindAll(t => t.Parents.Count == 0);
        if (roots.Count == 0)
        {
            roots.Add(table);
        }
        var columns = new List<string>(table.SeenColumns);
        if (columns.Count == 0)
        {
            foreach (var t in lineage)
            {
                columns.AddRange(t.SeenColumns.Where(c => !columns.Contains(c)));
            }
        }
        foreach (var column in columns)
        {
            var definition = table.Definition(column);
            NameMatch? match = null;
            foreach (var root in roots)
            {
                match ??= PersonalData.ByName(root.Name.Table, column, definition?.Category ?? TypeCategory.Unknown);
            }
            if (match is not { } found || HasRule(table, column))
            {
                continue;
            }
            var type = definition?.TypeName ?? "type unknown: no CREATE TABLE in the dump";
            var unique = definition?.Unique ?? false;
            findings.Add(new PersonalDataFinding(table.Name.Schema, table.Name.Table, column, type, found.Kind, found.Confidence, found.Reason,
                unique, TransformerProposals.For(found.Kind, table.Name.Schema, table.Name.Table, column, definition?.TypeName ?? "text", unique)));
        }
    }

    /// <summary>Whether a rule masks this column of the table (or of a table it is a partition or child of).</summary>
    bool HasRule(TableState table, string column) => table.Lineage().Exists(t => rules.SpecFor(t.Name, column, t.Dialect) is not null);

    void ThrowStrict(List<PersonalDataFinding> findings)
    {
        if (findings.Count > 0)
        {
            throw StrictPolicy.Failure(findings, _checks!.ConfigFile, "nothing was stored");
        }
    }
}

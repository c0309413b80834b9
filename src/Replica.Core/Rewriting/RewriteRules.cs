using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Rewriting;

/// <summary>
/// Creates the transformer for one column from its configured transformer; in production the registry, bound by
/// <see cref="DumpRequest.BuildRules"/>; anything in tests.
/// </summary>
public delegate Transformer TransformerFactory(TransformerConfig transformer, ColumnInfo column);

/// <summary>
/// The configured rules, resolved for a table or column of the dump. For a column the first matching rule wins; a table
/// is dropped when a drop rule matches it or when only_tables is set and does not list it.
/// </summary>
public sealed class RewriteRules
{
    readonly IReadOnlyList<TableRule> _rules;
    readonly IReadOnlyList<TablePattern> _onlyTables;

    public RewriteRules(IReadOnlyList<TableRule> rules, IReadOnlyList<TablePattern> onlyTables, TransformerFactory factory)
    {
        _rules = rules;
        _onlyTables = onlyTables;
        Factory = factory;
        foreach (var rule in rules)
        {
            DropsTables |= rule.Action == TableAction.Drop;
        }
        DropsTables |= onlyTables.Count > 0;
    }

    public static RewriteRules None { get; } = new([], [], static (spec, column) => throw new InvalidOperationException("no rules"));

    public TransformerFactory Factory { get; }

    /// <summary>Some table may be dropped entirely, so schema statements must be checked for the tables they name.</summary>
    public bool DropsTables { get; }

    public bool IsEmpty => _rules.Count == 0 && _onlyTables.Count == 0 && Checks is not { Strict: true };

    /// <summary>
    /// What a dump checks against these rules as it streams (rules that match nothing, strict mode from the dump's
    /// CREATE TABLE); null checks nothing.
    /// </summary>
    public RuleChecks? Checks { get; init; }

    internal IReadOnlyList<TableRule> Rules => _rules;

    internal IReadOnlyList<TablePattern> OnlyTables => _onlyTables;

    internal TableAction ActionFor(TableName table, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        if (_onlyTables.Count > 0)
        {
            var listed = false;
            foreach (var pattern in _onlyTables)
            {
                listed |= Matches(pattern, table, dialect);
            }
            if (!listed)
            {
                return TableAction.Drop;
            }
        }
        var action = TableAction.Transform;
        for (var i = 0; i < _rules.Count; i++)
        {
            var rule = _rules[i];
            if (rule.Action != TableAction.Transform && Matches(rule.Table, table, dialect))
            {
                if (rule.Action == TableAction.Drop)
                {
                    return TableAction.Drop;
                }
                action = TableAction.SkipData;
            }
        }
        return action;
    }

    internal TransformerConfig? SpecFor(TableName table, string column, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        for (var i = 0; i < _rules.Count; i++)
        {
            var rule = _rules[i];
            if (rule.Action != TableAction.Transform || !Matches(rule.Table, table, dialect))
            {
                continue;
            }
            foreach (var c in rule.Columns)
            {
                if (dialect == SqlDialect.MySql ? MySqlNameMatches(c.Column, column) : c.Column.Matches(column))
                {
                    return c.Transformer;
                }
            }
        }
        return null;
    }

    /// <summary>Whether any column rule could apply to the table (before its columns are known).</summary>
    internal bool HasColumnRules(TableName table, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        foreach (var rule in _rules)
        {
            if (rule.Action == TableAction.Transform && rule.Columns.Count > 0 && Matches(rule.Table, table, dialect))
            {
                return true;
            }
        }
        return false;
    }

    internal static bool Matches(TablePattern pattern, TableName table, SqlDialect dialect)
    {
        if (dialect == SqlDialect.PostgreSql)
        {
            return pattern.Matches(table.Schema, table.Table);
        }
        // MySQL has no schema "public": the database plays its part. A bare config name (which the config reads as
        // public.name) matches the table in any database, and so does any name when the dump does not say its database
        // (Schema ""). MySQL compares column names without case, and table names too on most installations; a config's
        // bare names are folded to lower case, so names are compared without case here.
        if (!MySqlNameMatches(pattern.Table, table.Table))
        {
            return false;
        }
        return pattern.Schema.IsAny || pattern.Schema.Name == "public" || table.Schema.Length == 0
            || MySqlNameMatches(pattern.Schema, table.Schema);
    }

    internal static bool MySqlNameMatches(NamePattern pattern, string name) =>
        pattern.IsAny || string.Equals(pattern.Name, name, StringComparison.OrdinalIgnoreCase);

    readonly HashSet<(string Schema, string Table, string Column)> _uniqueColumns = [];

    /// <summary>
    /// Marks columns the source database knows to be unique (its catalog's primary keys, unique constraints and unique
    /// indexes, see Catalog.DatabaseCatalog.UniqueColumns), so that their transformers are created unique-safe, as for
    /// 'unique: true' in the config or UNIQUE in the dump's CREATE TABLE. Call before the dump starts. A partition
    /// inherits its parent's marks.
    /// </summary>
    public void MarkUnique(IEnumerable<(string Schema, string Table, string Column)> columns)
    {
        foreach (var column in columns)
        {
            _uniqueColumns.Add(column);
        }
    }

    /// <summary>Whether <see cref="MarkUnique"/> named this column.</summary>
    internal bool IsMarkedUnique(TableName table, string column) =>
        _uniqueColumns.Count > 0 && _uniqueColumns.Contains((table.Schema, table.Table, column));
}

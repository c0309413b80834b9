using Replica.Config;
using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Pipeline;

/// <summary>What the rewriter knows of one table of the dump: its CREATE TABLE columns, parent, action and transformers.</summary>
internal sealed class TableState : IDisposable
{
    readonly Dictionary<string, Transformer?> _transformers = new(StringComparer.Ordinal);
    TableAction? _action;

    public TableState(TableName name, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        Name = name;
        Dialect = dialect;
    }

    public TableName Name { get; }
    public SqlDialect Dialect { get; }

    /// <summary>The name as error messages show it: "schema"."table", or `db`.`table` / `table` for MySQL.</summary>
    public string DisplayName => Dialect == SqlDialect.MySql ? MySqlDisplayName(Name) : Name.ToString();

    public static string MySqlDisplayName(TableName name) =>
        name.Schema.Length == 0 ? Backtick(name.Table) : $"{Backtick(name.Schema)}.{Backtick(name.Table)}";

    static string Backtick(string name) => "`" + name.Replace("`", "``") + "`";
    public TableState? Parent { get; set; }
    public List<ColumnDefinition>? Columns { get; set; }
    public bool Created { get; set; }
    public long Rows { get; set; }

    public TableAction Action(RewriteRules rules)
    {
        if (_action is { } known)
        {
            return known;
        }
        // A partition or child table follows its parent's rules, so masking a partitioned table masks every partition.
        var action = rules.ActionFor(Name, Dialect);
        for (var p = Parent; p is not null && action == TableAction.Transform; p = p.Parent)
        {
            action = rules.ActionFor(p.Name, Dialect);
        }
        _action = action;
        return action;
    }

    /// <summary>The transformer of a column, created once per table and column; null when no rule matches it.</summary>
    public Transformer? TransformerFor(string column, RewriteRules rules)
    {
        if (_transformers.TryGetValue(column, out var existing))
        {
            return existing;
        }
        TransformerSpec? spec = null;
        for (var t = this; t is not null && spec is null; t = t.Parent)
        {
            spec = rules.SpecFor(t.Name, column, Dialect);
        }
        Transformer? transformer = null;
        if (spec is not null)
        {
            transformer = rules.Factory(spec, DescribeColumn(column, rules));
        }
        _transformers[column] = transformer;
        return transformer;
    }

    ColumnInfo DescribeColumn(string column, RewriteRules rules)
    {
        ColumnDefinition? definition = null;
        for (var t = this; t is not null && definition is null; t = t.Parent)
        {
            definition = t.Columns?.Find(c => string.Equals(c.Name, column, Dialect == SqlDialect.MySql ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal));
        }
        var markedUnique = false;
        for (var t = this; t is not null && !markedUnique; t = t.Parent)
        {
            markedUnique = rules.IsMarkedUnique(t.Name, column);
        }
        return new ColumnInfo(Name.Schema, Name.Table, column)
        {
            TypeName = definition?.TypeName,
            Category = definition?.Category ?? TypeCategory.Unknown,
            MaxLength = definition?.MaxLength,
            Unique = (definition?.Unique ?? false) || markedUnique,
        };
    }

    public List<string>? ColumnNames()
    {
        for (var t = this; t is not null; t = t.Parent)
        {
            if (t.Columns is { } columns)
            {
                return columns.ConvertAll(c => c.Name);
            }
        }
        return null;
    }

    public void Dispose()
    {
        foreach (var transformer in _transformers.Values)
        {
            transformer?.Dispose();
        }
        _transformers.Clear();
    }
}

using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Rewriting;

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

    /// <summary>Whether <see cref="Parent"/> is the partitioned table this one is a partition of (not an inheritance parent).</summary>
    public bool IsPartition { get; set; }

    /// <summary>The primary and foreign keys the dump declares (learned when the rewriter has a row filter).</summary>
    public List<TableKey> Keys { get; } = [];
    public List<ColumnDefinition>? Columns { get; set; }
    public bool Created { get; set; }
    public long Rows { get; set; }

    List<string>? _seenColumns;

    /// <summary>Every column this table was seen with: in its CREATE TABLE, COPY headers and INSERT column lists.</summary>
    public IReadOnlyList<string> SeenColumns => _seenColumns ?? [];

    /// <summary>Strict mode looked at this table's columns already.</summary>
    public bool StrictChecked { get; set; }

    public void NoteColumns(IEnumerable<string> columns)
    {
        _seenColumns ??= [];
        foreach (var column in columns)
        {
            if (!_seenColumns.Exists(c => SameColumn(c, column)))
            {
                _seenColumns.Add(column);
            }
        }
    }

    bool SameColumn(string a, string b) =>
        string.Equals(a, b, Dialect == SqlDialect.MySql ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>Whether the table, or a table it is a partition or child of, has a column the pattern matches.</summary>
    public bool HasColumn(NamePattern pattern)
    {
        for (var t = this; t is not null; t = t.Parent)
        {
            foreach (var column in t.SeenColumns)
            {
                if (Dialect == SqlDialect.MySql ? RewriteRules.MySqlNameMatches(pattern, column) : pattern.Matches(column))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>The column's CREATE TABLE definition, from this table or the one it is a partition or child of.</summary>
    public ColumnDefinition? Definition(string column)
    {
        for (var t = this; t is not null; t = t.Parent)
        {
            if (t.Columns?.Find(c => SameColumn(c.Name, column)) is { } definition)
            {
                return definition;
            }
        }
        return null;
    }

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
        var transformer = NewTransformer(column, rules);
        _transformers[column] = transformer;
        return transformer;
    }

    /// <summary>A new transformer for a column (the caller disposes it), as <see cref="TransformerFor"/> builds: a masking lane's own.</summary>
    public Transformer? NewTransformer(string column, RewriteRules rules)
    {
        TransformerConfig? spec = null;
        for (var t = this; t is not null && spec is null; t = t.Parent)
        {
            spec = rules.SpecFor(t.Name, column, Dialect);
        }
        return spec is null ? null : rules.Factory(spec, DescribeColumn(column, rules));
    }

    ColumnInfo DescribeColumn(string column, RewriteRules rules)
    {
        var definition = Definition(column);
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

    /// <summary>The dump ended: each transformer checks its column (<see cref="Transformer.Complete"/>).</summary>
    public void CompleteTransformers()
    {
        foreach (var transformer in _transformers.Values)
        {
            transformer?.Complete();
        }
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

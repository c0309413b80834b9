using Replica.Config;
using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Pipeline;

/// <summary>What the rewriter knows of one table of the dump: its CREATE TABLE columns, parent, action and transformers.</summary>
internal sealed class TableState : IDisposable
{
    readonly Dictionary<string, Transformer?> _transformers = new(StringComparer.Ordinal);
    TableAction? _action;

    public TableState(TableName name) => Name = name;

    public TableName Name { get; }
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
        var action = rules.ActionFor(Name);
        for (var p = Parent; p is not null && action == TableAction.Transform; p = p.Parent)
        {
            action = rules.ActionFor(p.Name);
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
            spec = rules.SpecFor(t.Name, column);
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
            definition = t.Columns?.Find(c => c.Name == column);
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

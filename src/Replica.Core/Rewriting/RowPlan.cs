using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Rewriting;

/// <summary>
/// How the rows of one COPY block or INSERT column list are rewritten: the transformer of each column position and the
/// order to run them in, resolved once per header, never per row.
/// </summary>
internal sealed class RowPlan
{
    public RowPlan(TableState table, IReadOnlyList<string> columns, TableAction action, RewriteRules rules, RowSelection? selection = null)
    {
        Table = table;
        Columns = columns;
        Action = action;
        Selection = action == TableAction.Transform ? selection : null;
        Transformers = new Transformer?[columns.Count];
        if (action != TableAction.Transform)
        {
            EvaluationOrder = [];
            References = [];
            return;
        }
        var plain = new List<int>();
        var referencing = new List<int>();
        References = new int[columns.Count][];
        var generated = table.Dialect == SqlDialect.MySql ? GeneratedColumns(table, columns) : null;
        var ruledGenerated = false;
        for (var i = 0; i < columns.Count; i++)
        {
            // A column the selection writes as NULL is NULL whatever rule it has.
            var transformer = Selection is not null && Selection.Nulls.Contains(i) ? new NullTransformer() : table.TransformerFor(columns[i], rules);
            References[i] = [];
            if (generated is not null && generated[i])
            {
                ruledGenerated |= transformer is not null; // written as DEFAULT below, whatever its rule
                continue;
            }
            Transformers[i] = transformer;
            if (transformer is null)
            {
                continue;
            }
            var names = transformer.ReferencedColumns;
            if (names.Count == 0)
            {
                plain.Add(i);
                continue;
            }
            referencing.Add(i);
            var indexes = new int[names.Count];
            for (var r = 0; r < names.Count; r++)
            {
                indexes[r] = IndexOf(columns, names[r], table.Dialect == SqlDialect.MySql);
                if (indexes[r] < 0)
                {
                    RewriteThrow.UnknownReferencedColumn(columns[i], table.Name, names[r], columns);
                }
                if (generated is not null && generated[indexes[r]])
                {
                    RewriteThrow.ReferencedGeneratedColumn(columns[i], table.Name, columns[indexes[r]]);
                }
            }
            References[i] = indexes;
        }
        // Columns read by other transformers get their own output computed first: the plain ones, then each
        // referencing one after the referencing ones it reads (a template of a column that is a template itself), so
        // that every transformer reads the masked value of another masked column, never its real one.
        plain.AddRange(OrderReferencing(referencing, References, table.Name, columns));
        EvaluationOrder = [.. plain];
        HasTransformers = EvaluationOrder.Length > 0 || ruledGenerated;
        if (HasTransformers && generated is not null)
        {
            Defaults = generated;
        }
    }

    /// <summary>
    /// Which of <paramref name="columns"/> CREATE TABLE declared generated (null: none). mariadb-dump writes their
    /// values, which the source computed from the real data (<c>upper(email)</c> beside a masked <c>email</c>); pg_dump
    /// and MySQL's mysqldump leave them out. A generated column reads only its own row (no subqueries, no stored
    /// functions), so only a row with a masked value has them to hide: there they are written as DEFAULT, which MySQL
    /// and MariaDB compute again from the masked values on restore. A table without a masked column keeps its bytes.
    /// https://mariadb.com/kb/en/generated-columns/ , https://dev.mysql.com/doc/refman/8.0/en/create-table-generated-columns.html
    /// </summary>
    static bool[]? GeneratedColumns(TableState table, IReadOnlyList<string> columns)
    {
        bool[]? generated = null;
        for (var i = 0; i < columns.Count; i++)
        {
            if (table.Definition(columns[i]) is { Generated: true })
            {
                generated ??= new bool[columns.Count];
                generated[i] = true;
            }
        }
        return generated;
    }

    public TableState Table { get; }
    public IReadOnlyList<string> Columns { get; }
    public TableAction Action { get; }
    public Transformer?[] Transformers { get; }
    public int[] EvaluationOrder { get; }
    public int[][] References { get; }
    public bool HasTransformers { get; }

    /// <summary>The generated columns written as DEFAULT in place of their values (see <see cref="GeneratedColumns"/>); null: none.</summary>
    public bool[]? Defaults { get; }
    public bool DropsRows => Action != TableAction.Transform;

    /// <summary>Which rows stay (a subset); null: every row does.</summary>
    public RowSelection? Selection { get; }

    /// <summary>
    /// The plan of an INSERT without a column list into a table a rule reaches, though no column of it is transformed:
    /// each tuple's width is checked against <see cref="Columns"/> (DumpRewriter.CheckTupleWidths).
    /// </summary>
    public bool ChecksWidth { get; set; }

    /// <summary>Whether every row needs a look of its own: to transform it or to choose it.</summary>
    public bool ReadsRows => HasTransformers || Selection is not null;

    /// <summary>The block's values have all been given: each transformer checks its column (<see cref="Transformer.Complete"/>).</summary>
    public void CompleteTransformers()
    {
        foreach (var transformer in Transformers)
        {
            transformer?.Complete();
        }
    }

    /// <summary>
    /// The referencing columns, each after the referencing columns it reads (its own column aside: a transformer reads
    /// its own column's value as it was). A cycle has no such order and fails.
    /// </summary>
    static List<int> OrderReferencing(List<int> referencing, int[][] references, TableName table, IReadOnlyList<string> columns)
    {
        var ordered = new List<int>(referencing.Count);
        var state = new byte[references.Length]; // 0: not yet, 1: ordering what it reads, 2: ordered
        foreach (var c in referencing)
        {
            Visit(c);
        }
        return ordered;

        void Visit(int c)
        {
            if (state[c] == 2)
            {
                return;
            }
            state[c] = 1;
            foreach (var r in references[c])
            {
                if (r == c || references[r].Length == 0)
                {
                    continue;
                }
                if (state[r] == 1)
                {
                    RewriteThrow.ReferenceCycle(columns[c], table, columns[r]);
                }
                Visit(r);
            }
            state[c] = 2;
            ordered.Add(c);
        }
    }

    /// <summary>Whether the transformer of column <paramref name="c"/> reads the transformed value of the column it references at <paramref name="r"/>.</summary>
    public bool ReadsOutput(int c, int r) => References[c][r] != c && Transformers[References[c][r]] is not null;

    static int IndexOf(IReadOnlyList<string> columns, string name, bool ignoreCase)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i] == name)
            {
                return i;
            }
        }
        var folded = Identifiers.FoldCase(name);
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i] == folded || (ignoreCase && string.Equals(columns[i], name, StringComparison.OrdinalIgnoreCase)))
            {
                return i;
            }
        }
        return -1;
    }
}

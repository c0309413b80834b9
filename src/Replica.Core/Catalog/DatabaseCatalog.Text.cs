using System.Globalization;
using System.Text;

namespace Replica.Catalog;

public sealed partial record DatabaseCatalog
{
    /// <summary>
    /// The text `replica schema` prints: one block per table with its name, rows and size, keys, then its columns aligned.
    /// </summary>
    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"database {Database} (PostgreSQL {ServerVersion}): {Schemas.Count} schema(s), {Tables.Count} table(s)\n");
        foreach (var table in Tables)
        {
            text.Append('\n').Append(table.QualifiedName);
            if (table.Kind == TableKind.Partitioned)
            {
                text.Append(" (partitioned)");
            }
            if (table.PartitionOf is { } parent)
            {
                text.Append(" (partition of ").Append(parent).Append(')');
            }
            var rows = table.EstimatedRows is { } r ? "~" + r.ToString("N0", CultureInfo.InvariantCulture) + " rows" : "rows unknown (not analyzed)";
            text.Append(CultureInfo.InvariantCulture, $"  {rows}, {ByteSizes.Format(table.TotalBytes)} (table {ByteSizes.Format(table.TableBytes)})\n");
            if (table.PrimaryKey is { } pk)
            {
                text.Append("  primary key ").Append(List(pk.Columns)).Append('\n');
            }
            foreach (var key in table.UniqueKeys)
            {
                var kind = key.Kind == UniqueKeyKind.UniqueIndex ? "unique index" : "unique";
                text.Append("  ").Append(kind).Append(' ').Append(key.Name).Append(' ')
                    .Append(key.Expression ?? List(key.Columns)).Append(key.Partial && key.Expression is null ? " (partial)" : "").Append('\n');
            }
            foreach (var fk in table.ForeignKeys)
            {
                text.Append("  foreign key ").Append(fk.Name).Append(' ').Append(List(fk.Columns)).Append(" → ")
                    .Append(fk.References).Append(' ').Append(List(fk.ReferencedColumns));
                if (fk.OnDelete != ReferentialAction.NoAction)
                {
                    text.Append(" on delete ").Append(Words(fk.OnDelete));
                }
                text.Append('\n');
            }
            var width = 0;
            foreach (var c in table.Columns)
            {
                width = Math.Max(width, Identifiers.Quote(c.Name).Length);
            }
            foreach (var c in table.Columns)
            {
                text.Append("    ").Append(Identifiers.Quote(c.Name).PadRight(width)).Append("  ").Append(c.Type)
                    .Append(c.Nullable ? "" : " not null").Append('\n');
            }
        }
        return text.ToString();
    }

    static string List(IReadOnlyList<string> columns)
    {
        var quoted = new string[columns.Count];
        for (var i = 0; i < quoted.Length; i++)
        {
            quoted[i] = Identifiers.Quote(columns[i]);
        }
        return "(" + string.Join(", ", quoted) + ")";
    }

    static string Words(ReferentialAction action) => action switch
    {
        ReferentialAction.Restrict => "restrict",
        ReferentialAction.Cascade => "cascade",
        ReferentialAction.SetNull => "set null",
        ReferentialAction.SetDefault => "set default",
        _ => "no action",
    };
}

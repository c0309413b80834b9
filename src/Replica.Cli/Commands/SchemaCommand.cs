using System.CommandLine;
using System.Globalization;
using System.Text;
using Replica.Catalog;
using Replica.Pipeline;

namespace Replica.Cli.Commands;

internal static class SchemaCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var source = SourceDatabase.Option();
        var json = new Option<bool>("--json") { Description = "Print the catalog as JSON (snake_case)." };
        var command = new Command("schema", $"""
            Shows what the source database holds: schemas, tables (partitions under their parent), estimated rows, sizes,
            primary keys, unique constraints and indexes, foreign keys, and columns with their types. Reads the catalog
            only, in one read-only snapshot; no table data.
            {SourceDatabase.PasswordHint}

            Examples:
              replica schema -c replica.yaml
              replica schema --source postgres://readonly@db.example.com/shop --json | jq '.tables[].name'
            """)
        {
            config, source, json,
        };
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var uri = Endpoints.CatalogSource(parse.GetValue(source), settings);
            var catalog = await PostgresCatalog.ReadAsync(uri, cancellationToken).ConfigureAwait(false);
            Console.Out.Write(parse.GetValue(json) ? catalog.ToJson() + "\n" : Describe(catalog));
            return 0;
        }));
        return command;
    }

    /// <summary>One block per table: name, rows and size, keys, then its columns aligned.</summary>
    internal static string Describe(DatabaseCatalog catalog)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"database {catalog.Database} (PostgreSQL {catalog.ServerVersion}): {catalog.Schemas.Count} schema(s), {catalog.Tables.Count} table(s)\n");
        foreach (var table in catalog.Tables)
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
            text.Append(CultureInfo.InvariantCulture, $"  {rows}, {CommonOptions.Size(table.TotalBytes)} (table {CommonOptions.Size(table.TableBytes)})\n");
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

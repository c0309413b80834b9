using System.CommandLine;
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
            var catalog = await SchemaRequest.ReadAsync(settings, parse.GetValue(source), cancellationToken).ConfigureAwait(false);
            Console.Out.Write(parse.GetValue(json) ? catalog.ToJson() + "\n" : catalog.ToText());
            return 0;
        }));
        return command;
    }
}

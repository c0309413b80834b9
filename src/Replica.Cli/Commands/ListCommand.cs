using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace Replica.Cli.Commands;

internal static class ListCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var json = new Option<bool>("--json") { Description = "Print the complete dumps as a JSON array." };
        var command = new Command("list", """
            Lists the complete dumps in the bridge, oldest first. Dumps being written or that failed are not listed.

            Examples:
              replica list
              replica list --json | jq -r '.[-1].name'
            """)
        {
            config, json,
        };
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var dumps = await CommonOptions.Bridge(settings).ListAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
                Console.Out.WriteLine(JsonSerializer.Serialize(dumps, options));
                return 0;
            }
            if (dumps.Count == 0)
            {
                Console.Out.WriteLine("no dumps");
                return 0;
            }
            var table = new Table().AddColumns("name", "created (UTC)", "size in", "size out", "chunks", "compressed", "encrypted");
            foreach (var d in dumps)
            {
                table.AddRow(
                    Markup.Escape(d.Name),
                    DateTimeOffset.FromUnixTimeMilliseconds(d.CreatedAt).ToString("yyyy-MM-dd HH:mm:ss"),
                    CommonOptions.Size(d.SizeIn),
                    CommonOptions.Size(d.SizeOut),
                    d.ChunkCount.ToString(),
                    d.Compressed ? "yes" : "no",
                    d.Encrypted ? "yes" : "no");
            }
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}

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
                // Streamed, not built as one string: index.json may list ~900,000 dumps (1.2 GB as text; found by review).
                // JSON escapes every control character, so nothing here drives a terminal.
                var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
                Console.Out.Flush();
                using var stdout = Console.OpenStandardOutput();
                await JsonSerializer.SerializeAsync(stdout, dumps, options, cancellationToken).ConfigureAwait(false);
                await stdout.WriteAsync("\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
                return 0;
            }
            if (dumps.Count == 0)
            {
                Console.Out.WriteLine("no dumps");
                return 0;
            }
            // Into a pipe or a file (replica list | grep nightly): one line per dump, every value whole. A table there is drawn
            // 80 columns wide and wraps names and times over several lines.
            if (dumps.Count > MaxTableRows || Console.IsOutputRedirected)
            {
                WriteRows(dumps);
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

    /// <summary>The most dumps drawn as a table: Spectre.Console holds a whole table while it draws it (8.3 GB of RSS for 930,000 rows).</summary>
    const int MaxTableRows = 1000;

    /// <summary>
    /// The listing written a line at a time in aligned columns: into a pipe or a file, and for more dumps than a table
    /// takes (index.json, which anyone with write access to the bridge can edit, may list ~900,000 within its 128 MiB;
    /// found by review).
    /// </summary>
    static void WriteRows(IReadOnlyList<Replica.Bridges.DumpEntry> dumps)
    {
        string[] header = ["name", "created (UTC)", "size in", "size out", "chunks", "compressed", "encrypted"];
        int[] widths = [.. header.Select(h => h.Length)];
        foreach (var d in dumps)
        {
            Widen(Row(d));
        }
        Write(header);
        foreach (var d in dumps)
        {
            Write(Row(d));
        }

        void Widen(string[] row)
        {
            for (int i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        void Write(string[] row)
        {
            var line = new System.Text.StringBuilder();
            for (int i = 0; i < row.Length; i++)
            {
                line.Append(i == 0 ? "" : "  ").Append(i is 0 or 1 ? row[i].PadRight(widths[i]) : row[i].PadLeft(widths[i]));
            }
            Console.Out.WriteLine(line.ToString().TrimEnd());
        }
    }

    static string[] Row(Replica.Bridges.DumpEntry d) =>
    [
        d.Name,
        DateTimeOffset.FromUnixTimeMilliseconds(d.CreatedAt).ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
        CommonOptions.Size(d.SizeIn),
        CommonOptions.Size(d.SizeOut),
        d.ChunkCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        d.Compressed ? "yes" : "no",
        d.Encrypted ? "yes" : "no",
    ];
}

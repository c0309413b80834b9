using System.CommandLine;
using Replica.Transformers;
using Spectre.Console;

namespace Replica.Cli.Commands;

internal static class TransformersCommand
{
    public static Command Create()
    {
        var markdown = new Option<bool>("--markdown") { Description = "Print a Markdown table (as in the README)." };
        var command = new Command("transformers", """
            Lists the built-in transformers with their options and an example.

            Examples:
              replica transformers
              replica transformers --markdown
            """)
        {
            markdown,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(markdown))
            {
                Console.Out.WriteLine("| name | what it does | options | example |");
                Console.Out.WriteLine("| --- | --- | --- | --- |");
                foreach (var t in TransformerRegistry.All)
                {
                    var options = string.Join("<br>", t.Options.Select(o => o.Default is null ? $"`{o.Name}`: {o.Description}" : $"`{o.Name}`: {o.Description} (default `{o.Default}`)"));
                    Console.Out.WriteLine($"| `{t.Name}` | {Cell(t.Description)} | {(options.Length == 0 ? "-" : Cell(options))} | `{Cell(t.Example.ReplaceLineEndings(" "))}` |");
                }
                return 0;
            }
            var table = new Table().AddColumns("name", "what it does", "options", "example");
            foreach (var t in TransformerRegistry.All)
            {
                var options = string.Join("\n", t.Options.Select(o => o.Default is null ? $"{o.Name}: {o.Description}" : $"{o.Name}: {o.Description} (default {o.Default})"));
                table.AddRow(Markup.Escape(t.Name), Markup.Escape(t.Description), Markup.Escape(options.Length == 0 ? "-" : options), Markup.Escape(t.Example));
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    static string Cell(string text) => text.Replace("|", "\\|").ReplaceLineEndings(" ");
}

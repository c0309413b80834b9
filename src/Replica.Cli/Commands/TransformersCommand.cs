using System.CommandLine;
using Replica.Transformers;
using Spectre.Console;

namespace Replica.Cli.Commands;

internal static class TransformersCommand
{
    public static Command Create()
    {
        var command = new Command("transformers", """
            Lists the built-in transformers with their options and an example.

            Example:
              replica transformers
            """);
        command.SetAction(_ =>
        {
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
}

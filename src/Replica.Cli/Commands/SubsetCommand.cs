using System.CommandLine;
using Replica.Pipeline;

namespace Replica.Cli.Commands;

internal static class SubsetCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var json = new Option<bool>("--json") { Description = "Print the plan as JSON: tables with role and estimated rows, links with the ways they are walked." };
        var format = new Option<string>("--format")
        {
            Description = "text (default), mermaid (a flowchart, tables coloured by role) or dot (Graphviz).",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "mermaid", "dot");
        var plan = new Command("plan", """
            Shows what a config's 'subset' section does on the source: each table's role (root, followed child, parents
            only, passthrough, excluded, unreached), each foreign key and which ways the closure walks it (down to
            children of rows reached downward when the child table is followed; up to the parents of every kept row),
            and the planner's row estimates. Reads the catalog only, in a read-only transaction. Plan errors (a root
            that is not a table, a NOT NULL foreign key into a table whose rows are not kept) exit 2.

            Examples:
              replica subset plan -c replica.yaml
              replica subset plan -c replica.yaml --format mermaid > subset.mmd
            """)
        {
            config, json, format,
        };
        plan.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: true);
            var result = await SubsetPlan.ReadAsync(settings, cancellationToken).ConfigureAwait(false);
            Console.Out.Write(parse.GetValue(json) ? result.ToJson() + "\n" : parse.GetValue(format) switch
            {
                "mermaid" => result.ToMermaid(),
                "dot" => result.ToDot(),
                _ => result.ToText(),
            });
            return 0;
        }));
        return new Command("subset", "Subsetting: a small copy of a large database in which every foreign key holds (replica dump applies a config's subset section).")
        {
            plan,
        };
    }
}

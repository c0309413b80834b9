using System.CommandLine;
using Replica.Bridges;
using Replica.Config;
using Replica.Pipeline;

namespace Replica.Cli.Commands;

internal static class DeleteCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var name = new Argument<string?>("name") { Description = "The dump to delete.", Arity = ArgumentArity.ZeroOrOne };
        var olderThan = new Option<string?>("--older-than") { Description = "Delete dumps older than this age: 14d, 12h, 30m, 1d12h." };
        var keepLast = new Option<int?>("--keep-last") { Description = "Keep the newest N dumps, delete the rest." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only print what would be deleted." };
        var abandoned = new Option<bool>("--abandoned")
        {
            Description = "Delete what writers that died left behind: unlisted dumps whose writer marker is older than --stale-after.",
        };
        var staleAfter = new Option<string>("--stale-after")
        {
            Description = "With --abandoned: how long a writer marker must have gone unrefreshed (writers refresh it every minute).",
            DefaultValueFactory = _ => "1h",
        };
        var json = JsonReport.Option("the dumps deleted (or that would be, with --dry-run)");
        var command = new Command("delete", """
            Deletes dumps: their chunks, manifest and index entry. Never touches another dump (dump-1 vs dump-10).
            With both --older-than and --keep-last, a dump is kept when either keeps it. --abandoned removes the leftovers
            of dumps that never completed (a killed writer); it never touches a listed dump or a live writer.

            Examples:
              replica delete dump-1763760000000
              replica delete --older-than 14d --dry-run
              replica delete --keep-last 5
              replica delete --abandoned --stale-after 2h
            """)
        {
            config, name, olderThan, keepLast, dryRun, abandoned, staleAfter, json,
        };
        // Which dumps to delete is a usage question (exit 1), answered before any bridge is opened.
        command.Validators.Add(result =>
        {
            var hasName = result.GetValue(name) is not null;
            var age = result.GetValue(olderThan);
            var keep = result.GetValue(keepLast);
            if (result.GetValue(abandoned))
            {
                if (hasName || age is not null || keep is not null)
                {
                    result.AddError("--abandoned takes no dump NAME, --older-than or --keep-last");
                }
                // (In a validator an option left at its default reads as empty; the default 1h is valid.)
                else if (result.GetValue(staleAfter) is { Length: > 0 } stale && !RetentionPolicy.TryParseDuration(stale, out _))
                {
                    result.AddError($"'{stale}' is not a duration for --stale-after; write e.g. 1h, 90m or 1d");
                }
                return;
            }
            if (!hasName == (age is null && keep is null))
            {
                result.AddError("give a dump NAME, or --older-than and/or --keep-last, or --abandoned");
                return;
            }
            if (!hasName)
            {
                try
                {
                    RetentionPolicy.Parse(age, keep);
                }
                catch (ConfigException e)
                {
                    result.AddError(e.Message);
                }
            }
        });
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var bridge = CommonOptions.Bridge(settings);
            var single = parse.GetValue(name);
            var age = parse.GetValue(olderThan);
            var keep = parse.GetValue(keepLast);
            var isJson = parse.GetValue(json);
            if (parse.GetValue(abandoned))
            {
                return await DeleteAbandonedAsync(bridge, parse.GetValue(staleAfter)!, parse.GetValue(dryRun), isJson, cancellationToken).ConfigureAwait(false);
            }
            var (doomed, listed) = await DeleteRequest.SelectAsync(bridge, single, age, keep, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
            if (single is null && doomed.Count == 0 && !isJson)
            {
                var what = parse.GetValue(dryRun) ? "would delete nothing" : "deleted nothing";
                Console.Out.WriteLine($"{what}: no dump in {bridge.Description} matches ({listed} {CommonOptions.Plural(listed, "dump")} kept)");
            }
            foreach (var dump in doomed)
            {
                if (!parse.GetValue(dryRun))
                {
                    await bridge.DeleteAsync(dump, cancellationToken).ConfigureAwait(false);
                }
                if (!isJson)
                {
                    Console.Out.WriteLine(parse.GetValue(dryRun) ? $"would delete {dump}" : $"deleted {dump}");
                }
            }
            if (isJson)
            {
                JsonReport.Write(new { Command = "delete", DryRun = parse.GetValue(dryRun), Deleted = doomed, Kept = listed - doomed.Count });
            }
            return 0;
        }));
        return command;
    }

    static async Task<int> DeleteAbandonedAsync(IBridge bridge, string staleAfter, bool dryRun, bool json, CancellationToken cancellationToken)
    {
        var names = await DeleteRequest.DeleteAbandonedAsync(bridge, staleAfter, dryRun, cancellationToken).ConfigureAwait(false);
        if (json)
        {
            JsonReport.Write(new { Command = "delete", Abandoned = true, DryRun = dryRun, Deleted = names });
        }
        foreach (var dump in json ? [] : names)
        {
            Console.Out.WriteLine(dryRun ? $"would delete abandoned {dump}" : $"deleted abandoned {dump}");
        }
        if (names.Count == 0)
        {
            await Console.Error.WriteLineAsync($"replica: no abandoned dumps (unlisted, writer marker older than {staleAfter}) in {bridge.Description}").ConfigureAwait(false);
        }
        return 0;
    }
}

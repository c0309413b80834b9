using System.CommandLine;
using Replica.Destinations;
using Replica.Pipeline;

namespace Replica.Cli.Commands;

internal static class RestoreCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var quiet = CommonOptions.Quiet();
        var latest = new Option<bool>("--latest") { Description = "Restore the newest complete dump." };
        var name = new Option<string?>("--name", "-n") { Description = "Restore the dump with this name." };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Where the restored SQL goes: a file (written whole, then renamed into place) or - for stdout.",
            DefaultValueFactory = _ => "-",
        };
        var command = new Command("restore", """
            Restores a dump from the bridge: every chunk is checked against its SHA-256 in the manifest.

            Examples:
              replica restore --latest --output restored.sql
              replica restore --name dump-1763760000000 | psql -v ON_ERROR_STOP=1 --single-transaction devdb
            """)
        {
            config, quiet, latest, name, output,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(latest) == (result.GetValue(name) is not null))
            {
                result.AddError("give exactly one of --latest or --name NAME");
            }
        });
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var bridge = CommonOptions.Bridge(settings);
            var target = parse.GetValue(output)!;
            await using IRestoreDestination destination = target == "-" ? new StandardOutputDestination() : new FileDestination(target);
            var (entry, bytes) = await RestoreJob.RunAsync(bridge, parse.GetValue(name), destination, settings.Bridge, cancellationToken).ConfigureAwait(false);
            if (!parse.GetValue(quiet))
            {
                await Console.Error.WriteLineAsync($"replica: restored {entry.Name} ({CommonOptions.Size(bytes)}) to {destination.Description}").ConfigureAwait(false);
            }
            return 0;
        }));
        return command;
    }
}

using System.CommandLine;
using Replica.Bridges;

namespace Replica.Cli.Commands;

internal static class IndexCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var rebuild = new Command("rebuild", """
            Recreates index.json from the dumps' manifests (each dump's manifest is the source of truth, written once
            after its last chunk). Use it when index.json was lost or damaged.

            Example:
              replica index rebuild -c replica.yaml
            """)
        {
            config,
        };
        rebuild.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var bridge = CommonOptions.Bridge(settings);
            if (bridge is not IIndexRebuild rebuildable)
            {
                throw new BridgeException($"{bridge.Description} cannot rebuild its index");
            }
            var entries = await rebuildable.RebuildIndexAsync(cancellationToken).ConfigureAwait(false);
            Console.Out.WriteLine($"index.json rebuilt: {entries.Count} complete dumps");
            return 0;
        }));
        return new Command("index", "Maintains the bridge's index.json.") { rebuild };
    }
}

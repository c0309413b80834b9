using System.CommandLine;
using System.Diagnostics;
using Replica.Bridges;
using Replica.Destinations;
using Replica.Pipeline;

namespace Replica.Cli.Commands;

/// <summary>`replica export` and `replica import`: a dump as one self-contained file (ArchiveJob).</summary>
internal static class ArchiveCommands
{
    public static Command Export()
    {
        var config = CommonOptions.Config();
        var quiet = CommonOptions.Quiet();
        var name = new Argument<string?>("name") { Description = "The dump to export.", Arity = ArgumentArity.ZeroOrOne };
        var latest = new Option<bool>("--latest") { Description = "Export the newest complete dump." };
        var output = new Option<string>("--output", "-o")
        {
            Description = "The file to write (written whole, then renamed into place), or - for stdout.",
            Required = true,
        };
        var allowLegacy = CommonOptions.AllowLegacy("Export");
        var json = JsonReport.Option("the dump exported, its chunks, stored size, the file and the duration");
        var command = new Command("export", """
            Writes a dump of the bridge to one self-contained file: a tar archive of its manifest and chunks as stored,
            still compressed and encrypted, every chunk checked against the manifest on the way. Share it, then
            'replica restore --from-file' or 'replica import' it; an encrypted dump still needs its key. An encrypted
            dump whose index entry is not authenticated (written before encryption header version 4) is refused (exit 5)
            unless --allow-legacy.

            Examples:
              replica export --latest -o shop.replica
              replica export nightly-2026-11-21 -o - | ssh dev-box 'cat > shop.replica'
            """)
        {
            config, quiet, name, latest, output, allowLegacy, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(latest) == (result.GetValue(name) is not null))
            {
                result.AddError("give exactly one of --latest or a dump NAME");
            }
            if (result.GetValue(output) is { } path && string.IsNullOrWhiteSpace(path))
            {
                result.AddError("--output needs a file name, or - for standard output");
            }
        });
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var path = parse.GetValue(output)!;
            var stopwatch = Stopwatch.StartNew();
            if (parse.GetValue(json) && path == "-")
            {
                throw new UsageException("--json prints its report on stdout, where -o - would write the archive: give --output FILE");
            }
            await using IRestoreDestination destination = Endpoints.Output(path);
            DumpEntry entry = await ArchiveJob.ExportAsync(CommonOptions.Bridge(settings), parse.GetValue(name), destination, cancellationToken,
                CommonOptions.Legacy(parse.GetValue(allowLegacy))).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                JsonReport.Write(new
                {
                    Command = "export",
                    entry.Name,
                    File = Path.GetFullPath(path),
                    Chunks = entry.ChunkCount,
                    entry.SizeOut,
                    DurationSeconds = JsonReport.Seconds(stopwatch.Elapsed),
                });
            }
            if (!parse.GetValue(quiet))
            {
                await Console.Error.WriteLineAsync(
                    $"replica: exported {entry.Name} ({entry.ChunkCount} {CommonOptions.Plural(entry.ChunkCount, "chunk")}, {CommonOptions.Size(entry.SizeOut)} stored) to {destination.Description} in {stopwatch.Elapsed.TotalSeconds:0.0} s").ConfigureAwait(false);
            }
            return 0;
        }));
        return command;
    }

    public static Command Import()
    {
        var config = CommonOptions.Config();
        var quiet = CommonOptions.Quiet();
        var file = new Argument<string>("file") { Description = "A file 'replica export' wrote." };
        var allowLegacy = CommonOptions.AllowLegacy("Import");
        var json = JsonReport.Option("the dump imported, its chunks, stored size, the bridge and the duration");
        var command = new Command("import", """
            Copies the dump of a file 'replica export' wrote into the configured bridge, as it is stored (same name, same
            creation time, still compressed and encrypted). Every chunk is checked on the way; the dump is listed only
            once all of it is stored, and a failed import leaves nothing behind. An encrypted dump whose index entry is
            not authenticated (written before encryption header version 4) is refused (exit 5) unless --allow-legacy.

            Examples:
              replica import shop.replica
              replica import -c team.yaml shop.replica
            """)
        {
            config, quiet, file, allowLegacy, json,
        };
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var bridge = CommonOptions.Bridge(settings);
            var stopwatch = Stopwatch.StartNew();
            DumpEntry entry = await ArchiveJob.ImportAsync(bridge, parse.GetValue(file)!, cancellationToken,
                CommonOptions.Legacy(parse.GetValue(allowLegacy))).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                JsonReport.Write(new
                {
                    Command = "import",
                    entry.Name,
                    Bridge = bridge.Description,
                    Chunks = entry.ChunkCount,
                    entry.SizeOut,
                    DurationSeconds = JsonReport.Seconds(stopwatch.Elapsed),
                });
            }
            if (!parse.GetValue(quiet))
            {
                await Console.Error.WriteLineAsync(
                    $"replica: imported {entry.Name} ({entry.ChunkCount} {CommonOptions.Plural(entry.ChunkCount, "chunk")}, {CommonOptions.Size(entry.SizeOut)}) into {bridge.Description} in {stopwatch.Elapsed.TotalSeconds:0.0} s").ConfigureAwait(false);
            }
            return 0;
        }));
        return command;
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Replica.Bridges;
using Replica.Config;
using Replica.Pipeline;
using Replica.Sources;
using Replica.Transformers;

namespace Replica.Cli.Commands;

internal static class DumpCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var quiet = CommonOptions.Quiet();
        var input = new Option<string>("--input", "-i")
        {
            Description = "The plain-format SQL dump to read: a file, or - for standard input.",
            Required = true,
        };
        var name = new Option<string?>("--name", "-n") { Description = "Name of the new dump. Default: dump-<unix ms>." };
        var strict = new Option<bool>("--strict") { Description = "Fail before writing anything when a column of source.connection_uri that looks like personal data has no rule (as 'policy: strict')." };
        var command = new Command("dump", """
            Reads a plain-format PostgreSQL dump, transforms the configured columns, and stores it in the bridge.
            Prints the new dump's name on stdout.

            Examples:
              replica dump -c replica.yaml --input shop.sql
              pg_dump shop | replica dump --input - --name nightly-2026-11-21
            """)
        {
            config, quiet, input, name, strict,
        };
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(() =>
            RunAsync(parse.GetValue(config)!, parse.GetValue(input)!, parse.GetValue(name), parse.GetValue(quiet), parse.GetValue(strict), cancellationToken)));
        return command;
    }

    static async Task<int> RunAsync(string configPath, string inputPath, string? name, bool quiet, bool strict, CancellationToken cancellationToken)
    {
        var config = CommonOptions.LoadConfig(configPath, required: true);
        var rules = BuildRules(config);
        // Strict mode and the catalog's unique columns; liveSource: true when the dump reads source.connection_uri itself.
        await SourceDatabase.CheckBeforeDumpAsync(config, strict, liveSource: false, rules, cancellationToken).ConfigureAwait(false);
        IDumpSource source = inputPath == "-" ? new StandardInputSource() : new FileDumpSource(inputPath);
        if (source is FileDumpSource && !File.Exists(inputPath))
        {
            throw new BridgeException($"the input dump {inputPath} does not exist");
        }
        var bridge = CommonOptions.Bridge(config);
        name ??= DumpName.ForTime(DateTimeOffset.UtcNow);

        using var rewriter = new DumpRewriter(rules, config.MaxRowBytes);
        var stopwatch = Stopwatch.StartNew();
        using var progress = Progress.Start(quiet, () => Describe(rewriter.Statistics, source.Length, stopwatch.Elapsed));
        var result = await DumpJob.RunAsync(source, rewriter, bridge, name, config.Bridge, cancellationToken).ConfigureAwait(false);
        progress.Stop();

        Console.Out.WriteLine(result.Entry.Name);
        if (!quiet)
        {
            var s = result.Statistics;
            Console.Error.WriteLine(
                $"replica: dump {result.Entry.Name} complete in {bridge.Description}: {CommonOptions.Size(s.BytesIn)} in, " +
                $"{CommonOptions.Size(result.Entry.SizeOut)} stored{Codecs(result.Entry)}, {s.Rows} rows, {s.TransformedValues} values transformed, " +
                $"{s.DroppedRows} rows dropped, {result.Entry.ChunkCount} chunks, {stopwatch.Elapsed.TotalSeconds:0.0} s");
            foreach (var unused in rules.UnusedRules())
            {
                Console.Error.WriteLine($"replica: warning: the rule for {unused.Table} ({unused.Source ?? "config"}) matched nothing in this dump; check the names");
            }
        }
        return 0;
    }

    static string Codecs(DumpEntry entry) => (entry.Compressed, entry.Encrypted) switch
    {
        (true, true) => " (compressed, encrypted)",
        (true, false) => " (compressed)",
        (false, true) => " (encrypted)",
        _ => "",
    };

    /// <summary>Builds the rules and checks every configured transformer and option now, before any data is read.</summary>
    internal static RewriteRules BuildRules(ReplicaConfig config)
    {
        var environment = new TransformerEnvironment(Encoding.UTF8.GetBytes(config.Secret), config.Locale);
        var hasTransformers = false;
        foreach (var rule in config.Tables)
        {
            foreach (var column in rule.Columns)
            {
                TransformerRegistry.Validate(column.Transformer, environment);
                hasTransformers = true;
            }
        }
        if (hasTransformers && config.Secret.Length == 0)
        {
            throw new ConfigException("'secret' is not set: deterministic transformers need a key (e.g. secret: ${REPLICA_SECRET})", config.File, key: "secret");
        }
        return new RewriteRules(config.Tables, config.OnlyTables, (spec, column) => TransformerRegistry.Create(spec, column, environment));
    }

    static string Describe(RewriteStatistics s, long? total, TimeSpan elapsed)
    {
        var rate = elapsed.TotalSeconds > 0 ? s.BytesIn / elapsed.TotalSeconds / (1 << 20) : 0;
        var percent = total is > 0 ? $" ({100.0 * s.BytesIn / total.Value:0}%)" : "";
        return $"{CommonOptions.Size(s.BytesIn)}{percent} read, {s.Rows} rows, {s.TransformedValues} values transformed, {rate:0.0} MiB/s";
    }
}

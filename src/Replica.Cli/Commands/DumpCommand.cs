using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Replica.Bridges;
using Replica.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Sources;
using Replica.Transformers;

namespace Replica.Cli.Commands;

internal static class DumpCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var quiet = CommonOptions.Quiet();
        var input = new Option<string?>("--input", "-i")
        {
            Description = "Read this plain-format SQL dump (a file, or - for standard input) instead of the config's source.connection_uri.",
        };
        var dialect = new Option<SqlDialect?>("--dialect")
        {
            Description = "The SQL dialect of --input: PostgreSql (pg_dump, the default) or MySql (mysqldump, mariadb-dump). "
                + "A source.connection_uri sets it by itself.",
        };
        var name = new Option<string?>("--name", "-n") { Description = "Name of the new dump. Default: dump-<unix ms>." };
        var strict = new Option<bool>("--strict") { Description = "Fail before anything is stored when a column that looks like personal data has no rule (as 'policy: strict'): the columns of source.connection_uri's catalog, or of the CREATE TABLE statements of --input." };
        var command = new Command("dump", """
            Dumps the config's source database (source.connection_uri: pg_dump runs and streams into Replica, nothing is
            staged on disk) or reads a plain-format dump (--input), transforms the configured columns, and stores the
            result in the bridge. Prints the new dump's name on stdout.

            Examples:
              replica dump -c replica.yaml
              replica dump -c replica.yaml --input shop.sql
              pg_dump shop | replica dump --input - --name nightly-2026-11-21
            """)
        {
            config, quiet, input, name, strict, dialect,
        };
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(() =>
            RunAsync(parse.GetValue(config)!, parse.GetValue(input), parse.GetValue(dialect), parse.GetValue(name), parse.GetValue(quiet), parse.GetValue(strict), cancellationToken)));
        return command;
    }

    static async Task<int> RunAsync(string configPath, string? inputPath, SqlDialect? dialect, string? name, bool quiet, bool strict, CancellationToken cancellationToken)
    {
        var config = CommonOptions.LoadConfig(configPath, required: true);
        // A dump file or stdin is checked in strict mode by the columns of its own CREATE TABLE statements, as it streams.
        var rules = BuildRules(config, strictFromDump: inputPath is not null && (strict || config.Strict));
        // Strict mode and the catalog's unique columns, from a PostgreSQL source's catalog.
        await SourceDatabase.CheckBeforeDumpAsync(config, strict, liveSource: inputPath is null, rules, cancellationToken).ConfigureAwait(false);
        var source = Endpoints.Source(config, inputPath);
        await using var _ = source as IAsyncDisposable;
        var bridge = CommonOptions.Bridge(config);
        name ??= DumpName.ForTime(DateTimeOffset.UtcNow);

        using var rewriter = new DumpRewriter(rules, config.MaxRowBytes, dialect ?? Endpoints.Dialect(config));
        var stopwatch = Stopwatch.StartNew();
        using var progress = Progress.Start(quiet, () => Describe(rewriter.Statistics, source, stopwatch.Elapsed));
        var result = await DumpJob.RunAsync(source, rewriter, bridge, name, config.Bridge, cancellationToken).ConfigureAwait(false);
        progress.Stop();

        Console.Out.WriteLine(result.Entry.Name);
        // Warnings print even with --quiet: they say that a rule masked nothing.
        foreach (var warning in rewriter.Warnings)
        {
            Console.Error.WriteLine($"replica: warning: {warning}");
        }
        if (!quiet)
        {
            var s = result.Statistics;
            Console.Error.WriteLine(
                $"replica: dump {result.Entry.Name} complete in {bridge.Description}: {CommonOptions.Size(s.BytesIn)} in, " +
                $"{CommonOptions.Size(result.Entry.SizeOut)} stored{Codecs(result.Entry)}, {s.Rows} rows, {s.TransformedValues} values transformed, " +
                $"{s.DroppedRows} rows dropped, {result.Entry.ChunkCount} {CommonOptions.Plural(result.Entry.ChunkCount, "chunk")}, {stopwatch.Elapsed.TotalSeconds:0.0} s");
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
    internal static RewriteRules BuildRules(ReplicaConfig config, bool strictFromDump = false)
    {
        var environment = new TransformerEnvironment(Encoding.UTF8.GetBytes(config.Secret), config.Locale) { MaxValueBytes = config.MaxRowBytes };
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
        return new RewriteRules(config.Tables, config.OnlyTables, (spec, column) => TransformerRegistry.Create(spec, column, environment))
        {
            Checks = new RuleChecks
            {
                Unmatched = config.UnmatchedRules,
                Strict = strictFromDump,
                Source = config.Source,
                ConfigFile = config.File,
            },
        };
    }

    static string Describe(RewriteStatistics s, IDumpSource source, TimeSpan elapsed)
    {
        var rate = elapsed.TotalSeconds > 0 ? s.BytesIn / elapsed.TotalSeconds : 0;
        var total = source.Length;
        // The catalog's sizes are estimates (heap pages, not dump text): show at most 99% and an ETA marked as such.
        var percent = total is > 0 ? $" (~{Math.Min(99, 100.0 * s.BytesIn / total.Value):0}%)" : "";
        var tables = source.TableCount is { } count ? $", {Math.Max(0, Math.Min(s.Tables, count) - 1)}/{count} tables done" : $", {s.Tables} tables";
        var eta = total is > 0 && rate > 0 && total.Value > s.BytesIn ? $", ETA ~{Progress.Duration(TimeSpan.FromSeconds((total.Value - s.BytesIn) / rate))}" : "";
        return $"{CommonOptions.Size(s.BytesIn)}{percent} read, {s.Rows} rows{tables}, {s.TransformedValues} values transformed, {rate / (1 << 20):0.0} MiB/s{eta}";
    }
}

using System.CommandLine;
using System.Diagnostics;
using Replica.Bridges;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Rewriting;
using Replica.Sources;

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
        var jobs = new Option<int>("--jobs", "-j")
        {
            Description = "Read, mask and store this many parts of a live PostgreSQL source at once, from one snapshot: the schema, "
                + "one part per table (largest first), the rest of the data, then indexes and constraints. Default 1: one pg_dump "
                + "stream. Not with --input (one stream), a MySQL source (no snapshot shared across connections without a global read lock) "
                + "nor sanitize: (its scratch database takes one part at a time).",
            DefaultValueFactory = _ => 1,
        };
        var json = JsonReport.Option("the dump's name, sizes, rows, tables, chunks, duration and warnings");
        var command = new Command("dump", """
            Dumps the config's source database (source.connection_uri: pg_dump runs and streams into Replica, nothing is
            staged on disk) or reads a plain-format dump (--input), transforms the configured columns, and stores the
            result in the bridge. With a sanitize: section, the masked dump is first restored into its scratch
            database, the statements run there, and pg_dump of the result is stored. Prints the new dump's name on stdout.

            Examples:
              replica dump -c replica.yaml
              replica dump -c replica.yaml --jobs 2
              replica dump -c replica.yaml --input shop.sql
              pg_dump shop | replica dump --input - --name nightly-2026-11-21
            """)
        {
            config, quiet, input, name, strict, dialect, jobs, json,
        };
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(() =>
            RunAsync(parse.GetValue(config)!, parse.GetValue(input), parse.GetValue(dialect), parse.GetValue(name), parse.GetValue(quiet), parse.GetValue(strict), parse.GetValue(jobs),
                parse.GetValue(json), cancellationToken)));
        return command;
    }

    static async Task<int> RunAsync(string configPath, string? inputPath, SqlDialect? dialect, string? name, bool quiet, bool strict, int jobs, bool json,
        CancellationToken cancellationToken)
    {
        var config = CommonOptions.LoadConfig(configPath, required: true);
        await using var request = await DumpRequest.CreateAsync(config, new DumpOptions { Input = inputPath, Dialect = dialect, Name = name, Strict = strict, Jobs = jobs },
            CommonOptions.Bridges, cancellationToken).ConfigureAwait(false);
        var source = request.Source;
        var bridge = request.Bridge;
        using var rewriter = request.CreateRewriter();
        if (!quiet)
        {
            request.Progress = line => Console.Error.WriteLine($"replica: {line}");
        }
        var stopwatch = Stopwatch.StartNew();
        using var progress = Progress.Start(quiet, () => Describe(rewriter.Statistics, source, stopwatch.Elapsed));
        var result = await request.RunAsync(rewriter, cancellationToken).ConfigureAwait(false);
        progress.Stop();

        if (json)
        {
            var s = result.Statistics;
            var e = result.Entry;
            JsonReport.Write(new
            {
                Command = "dump",
                e.Name,
                Bridge = bridge.Description,
                e.SizeIn,
                e.SizeOut,
                s.Rows,
                s.Tables,
                s.TransformedValues,
                s.DroppedRows,
                Chunks = e.ChunkCount,
                e.Compressed,
                e.Encrypted,
                DurationSeconds = JsonReport.Seconds(stopwatch.Elapsed),
                Warnings = rewriter.Warnings,
                Subset = result.Subset is { } kept ? new { Kept = kept.Kept.Select(k => new { k.Table, k.Rows }), kept.Rounds, kept.Nulled, kept.NulledValues } : null,
            });
        }
        else
        {
            Console.Out.WriteLine(result.Entry.Name);
        }
        // Warnings print even with --quiet: they say that a rule masked nothing.
        foreach (var warning in rewriter.Warnings)
        {
            Console.Error.WriteLine($"replica: warning: {warning}");
        }
        if (result.Subset is { } subset)
        {
            // Printed even with --quiet: these columns hold NULL where the source has a value.
            foreach (var link in subset.Nulled)
            {
                Console.Error.WriteLine($"replica: note: subset: {link} is written as NULL: no row of that table is kept");
            }
            if (subset.NulledValues is long nulled && subset.Nulled.Count > 0)
            {
                Console.Error.WriteLine($"replica: note: subset: {nulled} {CommonOptions.Plural(nulled, "value")} written as NULL");
            }
            if (!quiet)
            {
                Console.Error.WriteLine($"replica: subset: kept {subset.Kept.Sum(k => k.Rows)} rows of {subset.Kept.Count} "
                    + $"{CommonOptions.Plural(subset.Kept.Count, "table")} in {subset.Rounds} {CommonOptions.Plural(subset.Rounds, "round")} ("
                    + string.Join(", ", subset.Kept.Select(k => $"{k.Table} {k.Rows}")) + ")");
            }
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

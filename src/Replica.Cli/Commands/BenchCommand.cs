using System.CommandLine;
using System.Globalization;
using Replica.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Sources;

namespace Replica.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config", "-c")
        {
            Description = "A config whose transformers and bridge settings (chunk size, compression, encryption, workers) the benchmark uses; "
                + "without it: the synthetic dump's personal columns masked, zstd 1, AES-256-GCM with a random key.",
        };
        var sink = new Option<string>("--sink")
        {
            Description = "discard: every step runs, then the stored bytes are dropped (sizes the disk cannot hold); "
                + "bridge: stored in the config's bridge (a temp directory with the built-in config), deleted at the end.",
            DefaultValueFactory = _ => "discard",
        };
        sink.AcceptOnlyFromAmong("discard", "bridge");
        var csv = new Option<string?>("--csv") { Description = "Writes a time series once a second (elapsed s, phase, bytes in, bytes out, RSS, GC heap, MiB/s, CPU s) as it goes." };
        var restore = new Option<bool>("--restore") { Description = "Then restores the dump as a stream into a checker that counts rows and digests the unmasked columns (--sink bridge)." };
        var (size, dialect, format, seed) = GeneratorOptions();
        var bench = new Command("bench", """
            Runs the real dump pipeline (lexer, transformers, compression, encryption, chunking, SHA-256) on a synthetic
            shop-like dump of the given size and prints throughput, CPU seconds per GiB, peak RSS, chunks and ratios.
            Needs no database. The synthetic dump is deterministic: the same size, dialect, format and seed give the same bytes.

            Examples:
              replica bench --size 1GiB
              replica bench --size 10GiB --sink bridge --restore --csv run.csv
              replica bench -c replica.yaml --size 2GiB --dialect MySql --format inserts
              replica bench generate --size 50MiB -o shop.sql
            """)
        {
            config, size, dialect, format, seed, sink, csv, restore,
        };
        bench.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(() =>
            RunAsync(parse.GetValue(config), Options(parse.GetValue(size)!, parse.GetValue(dialect), parse.GetValue(format)!, parse.GetValue(seed)) with
            {
                Sink = parse.GetValue(sink) == "bridge" ? BenchSink.Bridge : BenchSink.Discard,
                Restore = parse.GetValue(restore),
            }, parse.GetValue(csv), cancellationToken)));

        var (genSize, genDialect, genFormat, genSeed) = GeneratorOptions();
        var output = new Option<string>("--output", "-o") { Description = "The file to write (- for standard output).", DefaultValueFactory = _ => "-" };
        var generate = new Command("generate", """
            Writes the synthetic dump replica bench reads: pg_dump plain output (COPY, or --format inserts) or mysqldump
            output of a shop-like database (customers, products, orders, order_items, payments) with names, e-mails,
            phones, addresses, cards, IBANs and JSON documents to mask, foreign keys that hold, NULLs, escapes, multi-line
            text and non-ASCII characters; restorable by psql or the mysql client.
            """)
        {
            genSize, genDialect, genFormat, genSeed, output,
        };
        generate.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var options = Options(parse.GetValue(genSize)!, parse.GetValue(genDialect), parse.GetValue(genFormat)!, parse.GetValue(genSeed));
            var path = parse.GetValue(output)!;
            var stream = new SyntheticDumpStream(options.Input);
            await using (stream.ConfigureAwait(false))
            {
                if (path == "-")
                {
                    var stdout = Console.OpenStandardOutput();
                    await using (stdout.ConfigureAwait(false))
                    {
                        await stream.CopyToAsync(stdout, 1 << 20, cancellationToken).ConfigureAwait(false);
                    }
                    return 0;
                }
                var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
                await using (file.ConfigureAwait(false))
                {
                    await stream.CopyToAsync(file, 1 << 20, cancellationToken).ConfigureAwait(false);
                }
                Console.Error.WriteLine($"replica: wrote {path}: {CommonOptions.Size(new FileInfo(path).Length)}, "
                    + $"{stream.Counts.Rows.ToString("N0", CultureInfo.InvariantCulture)} rows");
                return 0;
            }
        }));
        bench.Subcommands.Add(generate);
        return bench;
    }

    static (Option<string> Size, Option<SqlDialect> Dialect, Option<string> Format, Option<ulong> Seed) GeneratorOptions()
    {
        var size = new Option<string>("--size") { Description = "The synthetic dump's size, e.g. 1GiB, 500MB (" + ByteSize.Accepted + ").", Required = true };
        var dialect = new Option<SqlDialect>("--dialect") { Description = "PostgreSql (pg_dump plain output, the default) or MySql (mysqldump output)." };
        var format = new Option<string>("--format") { Description = "copy (COPY blocks, the default; PostgreSql only) or inserts (INSERT statements).", DefaultValueFactory = _ => "copy" };
        format.AcceptOnlyFromAmong("copy", "inserts");
        var seed = new Option<ulong>("--seed") { Description = "Another seed gives other (equally shaped) data.", DefaultValueFactory = _ => 1 };
        return (size, dialect, format, seed);
    }

    static BenchOptions Options(string size, SqlDialect dialect, string format, ulong seed)
    {
        if (!ByteSize.TryParse(size, out var bytes) || bytes <= 0)
        {
            throw new ConfigException($"--size {size}: expected {ByteSize.Accepted}, more than 0");
        }
        var input = new SyntheticOptions(bytes) { Dialect = dialect, Format = format == "inserts" ? SyntheticFormat.Inserts : SyntheticFormat.Copy, Seed = seed };
        BenchJob.Check(input);
        return new BenchOptions(input);
    }

    static async Task<int> RunAsync(string? configPath, BenchOptions options, string? csvPath, CancellationToken cancellationToken)
    {
        string? temporary = null;
        ReplicaConfig config;
        if (configPath is null)
        {
            temporary = Path.Combine(Path.GetTempPath(), "replica-bench-" + Path.GetRandomFileName());
            config = BenchJob.BuiltInConfig(temporary);
        }
        else
        {
            config = CommonOptions.LoadConfig(configPath, required: true);
        }
        StreamWriter? csv = null;
        try
        {
            if (csvPath is not null)
            {
                csv = new StreamWriter(csvPath, append: false) { AutoFlush = true };
                await csv.WriteLineAsync("elapsed_s,phase,bytes_in,bytes_out,rss_mib,gc_heap_mib,mib_per_s,cpu_s,gc_committed_mib").ConfigureAwait(false);
            }
            var writer = csv;
            options = options with
            {
                Sample = writer is null ? null : sample => writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{sample.ElapsedSeconds:F1},{sample.Phase},{sample.BytesIn},{sample.BytesOut},{sample.RssBytes / 1048576.0:F1},{sample.GcHeapBytes / 1048576.0:F1},{sample.MiBPerSecond:F1},{sample.CpuSeconds:F2},{sample.GcCommittedBytes / 1048576.0:F1}")),
            };
            var bridge = options.Sink == BenchSink.Bridge ? CommonOptions.Bridge(config) : null;
            Console.Error.WriteLine($"replica: bench on a {CommonOptions.Size(options.Input.Size)} synthetic dump ({options.Input.Dialect}, {options.Input.Format}, seed {options.Input.Seed}), "
                + $"{(configPath is null ? "built-in config" : "config " + configPath)}, stored: {(bridge?.Description ?? "discarded")}");
            var result = await BenchJob.RunAsync(config, options, bridge, cancellationToken).ConfigureAwait(false);
            Console.Out.Write(Report(result));
            if (result.Check is { Equal: false } check)
            {
                Console.Error.WriteLine($"replica: bench check FAILED: {check.Difference()}");
                return 5;
            }
            return 0;
        }
        finally
        {
            if (csv is not null)
            {
                await csv.DisposeAsync().ConfigureAwait(false);
            }
            if (temporary is not null && Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }

    static string Report(BenchResult result)
    {
        var text = new System.Text.StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        var dump = result.Dump;
        text.AppendLine(inv, $"input:    {result.Input}");
        text.AppendLine(inv, $"stored:   {result.Sink}");
        text.AppendLine(inv, $"dump:     {CommonOptions.Size(dump.BytesIn)} in {dump.WallSeconds:F1} s = {dump.MiBPerSecond:F1} MiB/s; CPU {dump.CpuSeconds:F1} s ({dump.CpuSecondsPerGiB:F2} s/GiB); "
            + $"peak RSS {dump.PeakRssBytes / 1048576.0:F1} MiB");
        text.AppendLine(inv, $"          {result.Rows:N0} rows, {result.TransformedValues:N0} values transformed; {CommonOptions.Size(dump.BytesOut)} stored "
            + $"({result.StoredRatio:P1} of the SQL) in {result.Chunks:N0} {CommonOptions.Plural(result.Chunks, "chunk")}");
        if (result.Restore is { } restore)
        {
            text.AppendLine(inv, $"restore:  {CommonOptions.Size(restore.BytesIn)} of SQL in {restore.WallSeconds:F1} s = {restore.MiBPerSecond:F1} MiB/s; "
                + $"CPU {restore.CpuSeconds:F1} s ({restore.CpuSecondsPerGiB:F2} s/GiB); peak RSS {restore.PeakRssBytes / 1048576.0:F1} MiB");
        }
        if (result.Check is { } check)
        {
            text.AppendLine(check.Equal
                ? string.Create(inv, $"check:    ok: {check.Rows:N0} rows in {check.Restored.Count} tables; row counts and the unmasked columns' digests equal the generated dump's")
                : $"check:    FAILED: {check.Difference()}");
        }
        return text.ToString();
    }
}

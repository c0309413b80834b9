using System.CommandLine;
using System.Globalization;
using Replica.Config;
using Replica.Lexing;
using Replica.Pipeline;

namespace Replica.Cli.Commands;

internal static class LeakCheckCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var quiet = CommonOptions.Quiet();
        var latest = new Option<bool>("--latest") { Description = "Check the newest complete dump." };
        var name = new Option<string?>("--name", "-n") { Description = "Check the dump with this name." };
        var fromFile = CommonOptions.FromFile("Check the dump of a file 'replica export' wrote instead of one in the bridge.");
        var fromUrl = CommonOptions.FromUrl("Check the dump shared at a link 'replica share' printed.");
        var input = new Option<string?>("--input", "-i")
        {
            HelpName = "FILE",
            Description = "The original plain-format dump the stored dump was made from (pg_dump with COPY or INSERT, mysqldump; - reads standard input). "
                + "Default: --source, or the config's source.connection_uri.",
        };
        var sourceUri = new Option<string?>("--source")
        {
            HelpName = "URI",
            Description = "The source database the stored dump was made from, postgres:// or mysql://, read live (only the primary keys and the "
                + "ruled columns, in one snapshot). Default: the config's source.connection_uri, when --input is not given.",
        };
        var dialect = new Option<SqlDialect?>("--dialect")
        {
            Description = "The SQL dialect of the dumps: PostgreSql (the default) or MySql. A source.connection_uri sets it by itself.",
        };
        var memory = new Option<string>("--memory")
        {
            HelpName = "SIZE",
            Description = "Memory for the hashed originals (e.g. 64MiB, the default); a table beyond it is partitioned to disk.",
            DefaultValueFactory = _ => "64MiB",
        };
        var everywhere = new Option<bool>("--everywhere")
        {
            Description = "Also look for the originals of e-mails, phones, card numbers and IBANs of masked columns anywhere in the dump, "
                + "in any column or statement: e-mails and IBANs as whole tokens of 6+ bytes, phone and card numbers by their 10-19 digits "
                + "however grouped; in bounded memory (a Bloom filter, then an exact look-up).",
        };
        var allowLegacy = CommonOptions.AllowLegacy("Check");
        var json = JsonReport.Option("the dump's name, sizes, rows, tables, leaks per column, durations and warnings");
        var command = new Command("leakcheck", """
            Compares a stored dump with the originals it was made from: for every column with a masking rule, a stored
            value equal to the original value of the same row (or to the original of another ruled column of the row,
            as a template copying it) is a leak. Transient columns are reviewed keeps: listed, not checked. Rows are
            matched by primary key, or by position in a table without one. A fake drawn from a small pool (city,
            country, first name ...), random (a short code) and number-noise (a small number) give a value back by
            chance: its unchanged rate is shown beside the rate chance explains, and only the rest counts. Prints counts and redacted examples (never whole values); keeps only
            keyed hashes of originals, within --memory. Exits 0, or 8 when a leak is found.

            Examples:
              replica leakcheck -c replica.yaml --latest --input shop.sql
              replica leakcheck -c replica.yaml --latest --source postgres://reader@db/shop
              replica leakcheck -c replica.yaml --name nightly-2026-11-21 --json
            """)
        {
            config, quiet, latest, name, fromFile, fromUrl, input, sourceUri, dialect, memory, everywhere, allowLegacy, json,
        };
        command.Validators.Add(result => CommonOptions.CheckDumpChoice(result, latest, name, fromFile, fromUrl));
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: true);
            var memoryText = parse.GetValue(memory)!;
            if (!ByteSize.TryParse(memoryText, out var memoryBytes) || memoryBytes <= 0)
            {
                throw new ConfigException($"--memory {memoryText}: expected {ByteSize.Accepted}, more than 0");
            }
            var (bridge, dump) = RestoreRequest.OpenBridge(settings,
                new RestoreOptions { Name = parse.GetValue(name), FromFile = parse.GetValue(fromFile), FromUrl = CommonOptions.Link(parse.GetValue(fromUrl)) }, CommonOptions.Bridges);
            var quietly = parse.GetValue(quiet);
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            var options = new LeakCheckOptions { Input = parse.GetValue(input), Source = parse.GetValue(sourceUri), Dialect = parse.GetValue(dialect), MemoryBytes = memoryBytes,
                Everywhere = parse.GetValue(everywhere), AllowLegacy = CommonOptions.Legacy(parse.GetValue(allowLegacy)) };
            var result = await LeakCheckJob.RunAsync(settings, bridge, dump, options,
                quietly ? null : line => Console.Error.WriteLine($"replica: {line}"), cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                WriteJson(result, stopwatch.Elapsed);
            }
            else
            {
                WriteText(result, stopwatch.Elapsed);
            }
            foreach (var warning in result.Warnings)
            {
                await Console.Error.WriteLineAsync($"replica: warning: {warning}").ConfigureAwait(false);
            }
            return result.Leaks > 0 ? (int)ReplicaErrorKind.LeakFound : 0;
        }));
        return command;
    }

    static void WriteJson(LeakCheckResult r, TimeSpan elapsed) => JsonReport.Write(new
    {
        Command = "leakcheck",
        r.Name,
        r.Original,
        r.OriginalBytes,
        r.StoredBytes,
        r.Tables,
        r.OriginalRows,
        r.StoredRows,
        r.RowsWithoutOriginal,
        r.Leaks,
        Columns = r.Columns.Select(c => new
        {
            c.Table,
            c.Column,
            c.Transformer,
            c.MatchedBy,
            c.Compared,
            c.Unchanged,
            c.Copied,
            c.CopiedFrom,
            c.Leaks,
            UnchangedRate = Math.Round(c.UnchangedRate, 6),
            c.PoolSize,
            ChanceRate = c.ChanceRate is { } rate ? Math.Round(rate, 6) : (double?)null,
            c.UnchangedDistinct,
            c.ExpectedDistinctByChance,
            c.Examples,
        }),
        r.Unchecked,
        Everywhere = r.Everywhere is { } e ? new { e.OriginalTokens, e.Candidates, e.Found, e.FoundByKind, e.Examples, e.BloomBytes } : null,
        r.MemoryBudget,
        r.PeakTableBytes,
        r.SpilledBytes,
        DurationSeconds = JsonReport.Seconds(elapsed),
        r.SchemaSeconds,
        r.OriginalSeconds,
        r.StoredSeconds,
        r.Warnings,
    });

    static void WriteText(LeakCheckResult r, TimeSpan elapsed)
    {
        var output = Console.Out;
        output.WriteLine($"leakcheck of {r.Name} against {r.Original}: {r.Tables} {CommonOptions.Plural(r.Tables, "table")}, "
            + $"{r.StoredRows} stored rows ({r.OriginalRows} original), {r.Columns.Count} {CommonOptions.Plural(r.Columns.Count, "column")} checked");
        foreach (var c in r.Columns)
        {
            var what = c.ChanceRate is { } chance
                ? $"{c.Unchanged} of {c.Compared} unchanged ({Percent(c.UnchangedRate)}; chance explains ~{Percent(chance)}"
                    + (c.PoolSize is { } pool ? $", pool ~{pool.ToString("0", CultureInfo.InvariantCulture)})" : ")")
                : $"{c.Unchanged} of {c.Compared} unchanged" + (c.Copied > 0 ? $", {c.Copied} copied from {string.Join(", ", c.CopiedFrom)}" : "");
            var verdict = c.Leaks > 0 ? $"LEAK: {c.Leaks} {CommonOptions.Plural(c.Leaks, "value")}" : "ok";
            var examples = c.Examples.Count > 0 ? " e.g. " + string.Join(", ", c.Examples.Select(e => $"\"{e}\"")) : "";
            output.WriteLine($"  {c.Table}.{c.Column} ({c.Transformer}, by {c.MatchedBy}): {what}: {verdict}{examples}");
        }
        if (r.Unchecked.Count > 0)
        {
            output.WriteLine($"  unchecked (transient, reviewed keeps): {string.Join(", ", r.Unchecked)}");
        }
        if (r.Everywhere is { } e)
        {
            var kinds = e.FoundByKind.Count > 0 ? " (" + string.Join(", ", e.FoundByKind.Select(k => $"{k.Key} {k.Value}")) + ")" : "";
            var examples = e.Examples.Count > 0 ? " e.g. " + string.Join(", ", e.Examples.Select(x => $"\"{x}\"")) : "";
            output.WriteLine($"  everywhere: {e.Found} of the dump's tokens are originals of masked e-mails, phones, cards or IBANs"
                + $"{kinds} ({e.OriginalTokens} original tokens, {e.Candidates} candidates){(e.Found > 0 ? ": LEAK" + examples : ": ok")}");
        }
        var leakingColumns = r.Columns.Count(c => c.Leaks > 0);
        var where = (leakingColumns, r.Everywhere?.Found ?? 0) switch
        {
            (0, _) => "elsewhere in the dump",
            (var columns, 0) => $"in {columns} {CommonOptions.Plural(columns, "column")}",
            var (columns, found) => $"in {columns} {CommonOptions.Plural(columns, "column")} and {found} elsewhere in the dump",
        };
        output.WriteLine(r.Leaks > 0
            ? $"{r.Leaks} leaked {CommonOptions.Plural(r.Leaks, "value")} {where} ({elapsed.TotalSeconds:0.0} s)"
            : $"no leaks ({elapsed.TotalSeconds:0.0} s)");
    }

    static string Percent(double rate) => (rate * 100).ToString(rate < 0.001 && rate > 0 ? "0.###" : "0.#", CultureInfo.InvariantCulture) + "%";
}

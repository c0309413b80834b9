using System.CommandLine;
using System.Diagnostics;
using Replica.Config;
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
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Write the restored SQL to a file (written whole, then renamed into place) or - for stdout, instead of "
                + "the config's destination.connection_uri. Without both, it goes to stdout.",
        };
        var wipe = new Option<WipeMode?>("--wipe")
        {
            // Lower case, as in the config (destination.wipe) and the README; parsing ignores case.
            HelpName = "schemas|database|none",
            Description = "Before restoring into a database: schemas drops its schemas (in the restore's transaction), database "
                + "restores into a new database that replaces the old one on success. Default: destination.wipe, else none.",
        };
        var noWipe = new Option<bool>("--no-wipe") { Description = "Restore on top of what the database holds (overrides destination.wipe)." };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask before wiping the destination." };
        var noCreate = new Option<bool>("--no-create") { Description = "Fail when the destination database does not exist instead of creating it." };
        var jobs = new Option<int?>("--jobs", "-j")
        {
            HelpName = "N",
            Description = "PostgreSQL: restore on N connections into a staging database swapped in on success (needs --wipe database, or a "
                + "destination database that does not exist yet): data parts or COPY blocks, index builds and foreign keys in parallel. Default 1.",
        };
        var fromFile = CommonOptions.FromFile("Restore the dump of a file 'replica export' wrote instead of one from the bridge.");
        var fromUrl = CommonOptions.FromUrl("Restore the dump shared at a link 'replica share' printed (no bucket credentials needed; an encrypted dump still needs its key).");
        var allowUnencrypted = CommonOptions.AllowUnencrypted("Restore");
        var allowLegacy = CommonOptions.AllowLegacy("Restore");
        var json = JsonReport.Option("what was restored where (name, bytes, rows, tables, how its manifest is authenticated, duration); needs a destination or --output FILE");
        var command = new Command("restore", """
            Restores a dump from the bridge into the config's destination database (psql, one transaction: a failed restore
            changes nothing), a file or stdout. Every chunk is checked against its SHA-256 in the manifest. With
            bridge.encryption set, a dump that is not encrypted is refused (exit 5) unless --allow-unencrypted; an
            encrypted dump whose index entry is not authenticated (written before encryption header version 4) is
            refused (exit 5) unless --allow-legacy. --latest picks the newest entry, and refuses it if it is such a dump.

            Examples:
              replica restore -c replica.yaml --latest
              replica restore -c replica.yaml --latest --wipe database --yes
              replica restore -c replica.yaml --latest --wipe database --yes --jobs 4
              replica restore --latest --output restored.sql
              replica restore --name dump-1763760000000 | psql -v ON_ERROR_STOP=1 --single-transaction devdb
              replica restore -c replica.yaml --from-file shop.replica
              replica restore -c replica.yaml --from-url - -o shop.sql < link.txt
            """)
        {
            config, quiet, latest, name, output, wipe, noWipe, yes, noCreate, jobs, fromFile, fromUrl, allowUnencrypted, allowLegacy, json,
        };
        command.Validators.Add(result =>
        {
            CommonOptions.CheckDumpChoice(result, latest, name, fromFile, fromUrl);
            if (result.GetValue(noWipe) && result.GetValue(wipe) is not null)
            {
                result.AddError("give --wipe or --no-wipe, not both");
            }
            if (result.GetValue(output) is { } path && string.IsNullOrWhiteSpace(path))
            {
                result.AddError("--output needs a file name, or - for standard output");
            }
            if (result.GetValue(jobs) is < 1)
            {
                result.AddError("--jobs needs a number of connections, 1 or more");
            }
            if (result.GetValue(output) is not null && result.GetValue(wipe) is { } w && w != WipeMode.None)
            {
                result.AddError("--wipe applies to a restore into a database; --output writes a file or stdout and wipes nothing");
            }
        });
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            await using var request = RestoreRequest.Create(settings, new RestoreOptions
            {
                Name = parse.GetValue(name),
                Output = parse.GetValue(output),
                Wipe = parse.GetValue(wipe),
                NoWipe = parse.GetValue(noWipe),
                NoCreate = parse.GetValue(noCreate),
                Jobs = parse.GetValue(jobs) ?? 1,
                FromFile = parse.GetValue(fromFile),
                FromUrl = CommonOptions.Link(parse.GetValue(fromUrl)),
                AllowUnencrypted = parse.GetValue(allowUnencrypted),
                AllowLegacy = CommonOptions.Legacy(parse.GetValue(allowLegacy)),
            }, CommonOptions.Bridges);
            var destination = request.Destination;
            if (settings.Destination.AfterRestore.Count > 0 && destination is FileDestination or StandardOutputDestination)
            {
                throw new UsageException($"destination.after_restore runs in a database restore's transaction; this restore writes {destination.Description}: "
                    + "restore into destination.connection_uri, or use a config without after_restore");
            }
            if (parse.GetValue(json) && destination is StandardOutputDestination)
            {
                throw new UsageException("--json prints its report on stdout, where this restore would write the SQL: give --output FILE or a destination (destination.connection_uri)");
            }
            if (request.WipesDatabase && !parse.GetValue(yes))
            {
                Confirm(request.Wipe, destination.Description);
            }
            var stopwatch = Stopwatch.StartNew();
            var isQuiet = parse.GetValue(quiet);
            // --jobs N: how the restore runs (split, or on one connection and why), before the destination is touched.
            var counter = new RestoreCounter
            {
                // Even with --quiet, like --allow-legacy's warning: what the restored data is worth.
                Warned = warning => Console.Error.WriteLine($"replica: warning: {warning}"),
                PlanChosen = plan =>
                {
                    if (!isQuiet)
                    {
                        Console.Error.WriteLine($"replica: {plan}");
                    }
                },
            };
            using var progress = Progress.Start(parse.GetValue(quiet),
                () => Describe(counter, destination, stopwatch.Elapsed));
            var (entry, bytes) = await request.RunAsync(counter, cancellationToken).ConfigureAwait(false);
            progress.Stop();
            if (destination is PsqlDestination { CommitNotice: { } notice })
            {
                // Even with --quiet: the restore completed, but not as it should have.
                await Console.Error.WriteLineAsync($"replica: {notice}").ConfigureAwait(false);
            }
            if (parse.GetValue(json))
            {
                JsonReport.Write(new
                {
                    Command = "restore",
                    entry.Name,
                    Destination = destination.Description,
                    Bytes = bytes,
                    Rows = (destination as PsqlDestination)?.Rows,
                    Tables = (destination as PsqlDestination)?.Tables,
                    // As verify --json says it: a dump opened with a private key is intact but not authenticated.
                    Manifest = counter.Manifest is { } manifest ? JsonReport.Manifest(manifest) : null,
                    DurationSeconds = JsonReport.Seconds(stopwatch.Elapsed),
                });
            }
            if (!parse.GetValue(quiet))
            {
                await Console.Error.WriteLineAsync(
                    $"replica: restored {entry.Name} ({CommonOptions.Size(bytes)}{Rows(destination)}) to {destination.Description} in {stopwatch.Elapsed.TotalSeconds:0.0} s").ConfigureAwait(false);
            }
            return 0;
        }));
        return command;
    }

    static string Describe(RestoreCounter counter, IRestoreDestination destination, TimeSpan elapsed)
    {
        var bytes = counter.Bytes;
        var rate = elapsed.TotalSeconds > 0 ? bytes / elapsed.TotalSeconds : 0;
        var total = counter.ExpectedBytes;
        var percent = total is > 0 ? $" of {CommonOptions.Size(total.Value)} ({100.0 * bytes / total.Value:0}%)" : "";
        var rows = destination is PsqlDestination psql
            ? $", {psql.Rows}{(counter.ExpectedRows is { } r ? $"/{r}" : "")} rows, {psql.Tables}{(counter.ExpectedTables is { } t ? $"/{t}" : "")} tables"
            : "";
        var eta = total is > 0 && rate > 0 && total.Value > bytes ? $", ETA {Progress.Duration(TimeSpan.FromSeconds((total.Value - bytes) / rate))}" : "";
        return $"{CommonOptions.Size(bytes)}{percent} sent{rows}, {rate / (1 << 20):0.0} MiB/s{eta}";
    }

    static string Rows(IRestoreDestination destination) => destination is PsqlDestination psql ? $", {psql.Rows} rows" : "";

    /// <summary>Wiping drops data: ask on a terminal, refuse without --yes elsewhere (a script must say it means it).</summary>
    static void Confirm(WipeMode wipe, string destination)
    {
        var what = wipe == WipeMode.Database ? $"replace {destination} (it is dropped once the restore succeeded)" : $"drop every schema of {destination} before restoring";
        if (Console.IsInputRedirected || Console.IsErrorRedirected)
        {
            throw new UsageException($"this restore would {what}; pass --yes to confirm (or --no-wipe)");
        }
        Console.Error.Write($"replica: this restore will {what}. Type 'yes' to continue: ");
        if (!string.Equals(Console.ReadLine()?.Trim(), "yes", StringComparison.OrdinalIgnoreCase))
        {
            throw new UsageException("restore cancelled: the destination was not confirmed");
        }
    }
}

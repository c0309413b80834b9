using System.CommandLine;
using System.Text.Json;
using Replica.Catalog;
using Replica.Config;
using Replica.Pipeline;
using Replica.Scanning;

namespace Replica.Cli.Commands;

internal static class ScanCommand
{
    public static Command Create()
    {
        var config = CommonOptions.Config();
        var source = SourceDatabase.Option();
        var json = new Option<bool>("--json") { Description = "Print every finding as JSON, with covered: true for columns the config already has a rule for." };
        var noSample = new Option<bool>("--no-sample") { Description = "Decide by column names and types only; read no values." };
        var command = new Command("scan", $"""
            Finds columns that look like personal data, by name (email, phone, first_name, iban, ...) and by a small sample
            of values (at most {PersonalDataScanner.SampleRows} rows per table, matched against e-mail, phone, card number,
            IBAN and IP patterns), and prints a 'transformers:' section to paste into replica.yaml. With a config, columns
            that already have a rule are left out. Review every proposal: a scan is a starting point, not a guarantee.
            {SourceDatabase.PasswordHint}

            Examples:
              replica scan -c replica.yaml
              replica scan --source postgres://readonly@db.example.com/shop --no-sample > transformers.yaml
            """)
        {
            config, source, json, noSample,
        };
        command.SetAction((parse, cancellationToken) => CommonOptions.RunAsync(async () =>
        {
            var settings = CommonOptions.LoadConfig(parse.GetValue(config)!, required: false);
            var uri = Endpoints.CatalogSource(parse.GetValue(source), settings);
            var catalog = await PostgresCatalog.ReadAsync(uri, cancellationToken).ConfigureAwait(false);
            var notes = new List<string>();
            var samples = parse.GetValue(noSample) ? null : await PersonalDataScanner.SampleAsync(uri, catalog, notes, cancellationToken).ConfigureAwait(false);
            var findings = PersonalDataScanner.Scan(catalog, samples);
            for (var i = 0; i < findings.Count; i++)
            {
                var table = catalog.Find(findings[i].Schema, findings[i].Table)!;
                findings[i] = findings[i] with { Covered = StrictPolicy.IsCovered(catalog, table, findings[i].Column, settings) };
            }
            foreach (var note in notes)
            {
                await Console.Error.WriteLineAsync($"replica: note: {note}").ConfigureAwait(false);
            }
            if (parse.GetValue(json))
            {
                var options = new JsonSerializerOptions(DatabaseCatalog.JsonOptions) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never };
                Console.Out.WriteLine(JsonSerializer.Serialize(new { database = uri.ToString(), findings, notes }, options));
                return 0;
            }
            var open = findings.FindAll(f => !f.Covered);
            var covered = findings.Count - open.Count;
            var header = $"replica scan of {uri.Describe()}: {open.Count} column(s) that look like personal data"
                + (covered > 0 ? $" ({covered} more already have rules in {settings.File})" : "")
                + (samples is null ? ", by name only" : "")
                + ".\nReview every line, then paste under 'transformers:' in replica.yaml (merge entries for tables already listed).";
            Console.Out.Write(ScanYaml.Write(open, header));
            return 0;
        }));
        return command;
    }
}

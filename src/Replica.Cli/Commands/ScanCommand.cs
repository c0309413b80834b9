using System.CommandLine;
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
            var result = await ScanRequest.RunAsync(settings, new ScanOptions { Source = parse.GetValue(source), NoSample = parse.GetValue(noSample) },
                cancellationToken).ConfigureAwait(false);
            foreach (var note in result.Notes)
            {
                await Console.Error.WriteLineAsync($"replica: note: {note}").ConfigureAwait(false);
            }
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(result.ToJson());
                return 0;
            }
            Console.Out.Write(result.ToYaml());
            return 0;
        }));
        return command;
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Replica.Catalog;
using Replica.Clients;
using Replica.Config;
using Replica.Scanning;

namespace Replica.Pipeline;

/// <summary>What `replica scan` is asked for besides the config (its command-line options).</summary>
public sealed record ScanOptions
{
    /// <summary>The database to scan (--source); null: the config's source.connection_uri.</summary>
    public string? Source { get; init; }

    /// <summary>Decide by column names and types only, reading no values (--no-sample).</summary>
    public bool NoSample { get; init; }
}

/// <summary>
/// What a scan found: every column that looks like personal data, each <see cref="PersonalDataFinding.Covered"/> when
/// the config already has a rule for it, and the notes on tables whose values could not be sampled.
/// </summary>
public sealed record ScanResult(DatabaseUri Database, IReadOnlyList<PersonalDataFinding> Findings, IReadOnlyList<string> Notes, bool Sampled, string? ConfigFile)
{
    /// <summary>The findings the config has no rule for yet: what the YAML proposes.</summary>
    public IReadOnlyList<PersonalDataFinding> Uncovered => [.. Findings.Where(f => !f.Covered)];

    /// <summary>How many findings the config already covers.</summary>
    public int CoveredCount => Findings.Count(f => f.Covered);

    /// <summary>The comment above the proposed rules: what was scanned, how many columns, how, and what to do with them.</summary>
    public string Header
    {
        get
        {
            var covered = CoveredCount;
            return $"replica scan of {Database.Describe()}: {Findings.Count - covered} column(s) that look like personal data"
                + (covered > 0 ? $" ({covered} more already have rules in {ConfigFile})" : "")
                + (Sampled ? "" : ", by name only")
                + ".\nReview every line, then paste under 'transformers:' in replica.yaml (merge entries for tables already listed).";
        }
    }

    /// <summary>The 'transformers:' section to paste into replica.yaml, for the uncovered findings, under <see cref="Header"/>.</summary>
    public string ToYaml() => ScanYaml.Write(Uncovered, Header);

    /// <summary>Every finding (covered ones with covered: true) and the notes, as snake_case JSON: `replica scan --json`.</summary>
    public string ToJson() => JsonSerializer.Serialize(new { database = Database.ToString(), findings = Findings, notes = Notes }, s_jsonOptions);

    static readonly JsonSerializerOptions s_jsonOptions = new(DatabaseCatalog.JsonOptions) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };
}

/// <summary>
/// `replica scan`: reads the catalog of the source database, samples values unless told not to, finds the columns that
/// look like personal data and marks those the config already has a rule for (as strict mode decides,
/// <see cref="StrictPolicy.IsCovered"/>).
/// </summary>
public static class ScanRequest
{
    /// <summary>Scans <see cref="ScanOptions.Source"/>, else the config's source.connection_uri.</summary>
    public static async Task<ScanResult> RunAsync(ReplicaConfig config, ScanOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        var uri = Endpoints.CatalogSource(options.Source, config);
        var catalog = await PostgresCatalog.ReadAsync(uri, cancellationToken).ConfigureAwait(false);
        var notes = new List<string>();
        var samples = options.NoSample ? null : await PersonalDataScanner.SampleAsync(uri, catalog, notes, cancellationToken).ConfigureAwait(false);
        return Assess(uri, catalog, samples, notes, config);
    }

    /// <summary>
    /// The findings for a catalog already read and, unless null, its sampled values (<see cref="PersonalDataScanner.Scan"/>),
    /// each marked covered when <paramref name="config"/> has a rule for it.
    /// </summary>
    public static ScanResult Assess(DatabaseUri uri, DatabaseCatalog catalog, IReadOnlyDictionary<(string Schema, string Table, string Column), ValueSample>? samples,
        IReadOnlyList<string> notes, ReplicaConfig config)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(config);
        var findings = StrictPolicy.MarkCovered(catalog, PersonalDataScanner.Scan(catalog, samples), config);
        return new ScanResult(uri, findings, notes, samples is not null, config.File);
    }
}

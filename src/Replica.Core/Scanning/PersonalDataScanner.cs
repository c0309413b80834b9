using System.Globalization;
using System.Text;
using Npgsql;
using Replica.Catalog;
using Replica.Clients;
using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Scanning;

/// <summary>
/// A column that looks like personal data, with the transformer proposed for it (null when no built-in one fits its
/// type) and why: "name (e-mail)", "values: 97% match email (200 sampled)". <see cref="Covered"/> when the config
/// already has a rule for it.
/// </summary>
public sealed record PersonalDataFinding(
    string Schema,
    string Table,
    string Column,
    string Type,
    PersonalDataKind Kind,
    double Confidence,
    string Reason,
    bool Unique,
    TransformerProposal? Transformer)
{
    public bool Covered { get; init; }

    public string QualifiedName => $"{Identifiers.Quote(Schema)}.{Identifiers.Quote(Table)}.{Identifiers.Quote(Column)}";
}

/// <summary>How many sampled values of one column matched each value pattern.</summary>
public sealed class ValueSample
{
    public int Values { get; set; }
    public int Emails { get; set; }
    public int Phones { get; set; }
    public int Cards { get; set; }
    public int IpAddresses { get; set; }
    public int Ibans { get; set; }

    public void Add(string value)
    {
        Values++;
        var span = value.AsSpan();
        if (ValuePatterns.IsEmail(span))
        {
            Emails++;
        }

        if (ValuePatterns.IsCardNumber(span))
        {
            Cards++;
        }
        else if (ValuePatterns.IsPhoneNumber(span))
        {
            Phones++;
        }

        if (ValuePatterns.IsIpAddress(span))
        {
            IpAddresses++;
        }

        if (ValuePatterns.IsIban(span))
        {
            Ibans++;
        }
    }

    /// <summary>The kind most sampled values match, when at least <see cref="MinimumValues"/> were seen and 80% match.</summary>
    public (PersonalDataKind Kind, double Share, string Pattern)? Best()
    {
        if (Values < MinimumValues)
        {
            return null;
        }
        (PersonalDataKind, double, string)? best = null;
        void Consider(int count, PersonalDataKind kind, string pattern)
        {
            var share = (double)count / Values;
            if (share >= 0.8 && (best is null || share > best.Value.Item2))
            {
                best = (kind, share, pattern);
            }
        }
        Consider(Emails, PersonalDataKind.Email, "email");
        Consider(Cards, PersonalDataKind.CardNumber, "card number (Luhn)");
        Consider(Ibans, PersonalDataKind.Iban, "IBAN (mod 97)");
        Consider(IpAddresses, PersonalDataKind.IpAddress, "IP address");
        Consider(Phones, PersonalDataKind.Phone, "phone number");
        return best;
    }

    public const int MinimumValues = 3;
}

/// <summary>
/// Finds columns that look like personal data: by name and type (<see cref="PersonalData.ByName"/>) and, optionally,
/// by a bounded sample of the values of text columns matched against <see cref="ValuePatterns"/>.
/// </summary>
public static class PersonalDataScanner
{
    /// <summary>Values read per table at most.</summary>
    public const int SampleRows = 200;

    /// <summary>Only the start of each value is read and matched: personal data is short, a document is not.</summary>
    const int SampleChars = 256;

    /// <summary>
    /// Findings for every column of <paramref name="catalog"/> (partitions are covered by their parent); with
    /// <paramref name="samples"/> (from <see cref="SampleAsync"/>) value matches are added and confirm name matches.
    /// </summary>
    public static List<PersonalDataFinding> Scan(DatabaseCatalog catalog, IReadOnlyDictionary<(string Schema, string Table, string Column), ValueSample>? samples = null)
    {
        var findings = new List<PersonalDataFinding>();
        foreach (var table in catalog.Tables)
        {
            if (table.PartitionOf is not null)
            {
                continue;
            }
            var uniques = new HashSet<string>(table.UniqueColumnNames(), StringComparer.Ordinal);
            foreach (var column in table.Columns)
            {
                var category = ColumnTypes.Categorize(column.Type).Category;
                var byName = PersonalData.ByName(table.Name, column.Name, category);
                ValueSample? sample = null;
                samples?.TryGetValue((table.Schema, table.Name, column.Name), out sample);
                var byValues = sample?.Best();

                PersonalDataKind kind;
                double confidence;
                string reason;
                if (byName is { } n)
                {
                    kind = n.Kind;
                    confidence = n.Confidence;
                    reason = n.Reason;
                    if (byValues is { } v)
                    {
                        reason += $"; values: {Percent(v.Share)} match {v.Pattern} ({sample!.Values} sampled)";
                        if (v.Kind == n.Kind)
                        {
                            confidence = Math.Max(confidence, Math.Min(0.99, 0.5 + v.Share / 2));
                        }
                    }
                }
                else if (byValues is { } v && PersonalData.Holds(v.Kind, category))
                {
                    kind = v.Kind;
                    confidence = Math.Round(v.Share * 0.95, 2);
                    reason = $"values: {Percent(v.Share)} match {v.Pattern} ({sample!.Values} sampled)";
                }
                else
                {
                    continue;
                }
                var unique = uniques.Contains(column.Name);
                var proposal = TransformerProposals.For(kind, table.Schema, table.Name, column.Name, column.Type, unique);
                findings.Add(new PersonalDataFinding(table.Schema, table.Name, column.Name, column.Type, kind, confidence, reason, unique, proposal));
            }
        }
        return findings;
    }

    static string Percent(double share) => (share * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    /// <summary>Whether values of a column of this type are sampled: text and other types with a text form, not numbers or dates.</summary>
    public static bool IsSampled(string type) =>
        ColumnTypes.Categorize(type).Category is TypeCategory.Text or TypeCategory.Other;

    /// <summary>
    /// Reads up to <see cref="SampleRows"/> rows of the text-like columns of every table (partitioned tables through
    /// their parent), each value cut to its first 256 characters. Small tables are read from their start; tables
    /// estimated above 20,000 rows through TABLESAMPLE SYSTEM, so a scan reads about 2,000 rows' worth of pages, not the
    /// table. Each query has a 15-second statement timeout; a table that times out or may not be read is skipped and
    /// named in <paramref name="notes"/>.
    /// </summary>
    public static async Task<Dictionary<(string Schema, string Table, string Column), ValueSample>> SampleAsync(
        DatabaseUri uri, DatabaseCatalog catalog, List<string> notes, CancellationToken cancellationToken)
    {
        var samples = new Dictionary<(string, string, string), ValueSample>();
        await using var connection = await PostgresCatalog.OpenAsync(uri, cancellationToken).ConfigureAwait(false);
        try
        {
            await using (var setup = new NpgsqlCommand("SET statement_timeout = '15s'; SET default_transaction_read_only = on", connection))
            {
                await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            foreach (var table in catalog.Tables)
            {
                if (table.PartitionOf is not null)
                {
                    continue;
                }
                var columns = new List<CatalogColumn>();
                foreach (var column in table.Columns)
                {
                    if (IsSampled(column.Type))
                    {
                        columns.Add(column);
                    }
                }
                if (columns.Count == 0)
                {
                    continue;
                }
                await using var command = new NpgsqlCommand(SampleSql(table, columns), connection);
                try
                {
                    await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    var stats = new ValueSample[columns.Count];
                    for (var i = 0; i < stats.Length; i++)
                    {
                        stats[i] = new ValueSample();
                        samples[(table.Schema, table.Name, columns[i].Name)] = stats[i];
                    }
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        for (var i = 0; i < stats.Length; i++)
                        {
                            if (!reader.IsDBNull(i))
                            {
                                stats[i].Add(reader.GetString(i));
                            }
                        }
                    }
                }
                catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.InsufficientPrivilege)
                {
                    notes.Add($"values of {table.QualifiedName} were not sampled: {e.MessageText}");
                }
            }
        }
        catch (NpgsqlException e)
        {
            throw new DatabaseException($"sampling values in {uri.Describe()} failed: {e.Message}", e);
        }
        return samples;
    }

    static string SampleSql(CatalogTable table, List<CatalogColumn> columns)
    {
        var sql = new StringBuilder("SELECT ");
        for (var i = 0; i < columns.Count; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"left({Identifiers.Delimited(columns[i].Name)}::text, {SampleChars})");
        }
        sql.Append(" FROM ").Append(Identifiers.Delimited(table.Schema)).Append('.').Append(Identifiers.Delimited(table.Name));
        if (table.EstimatedRows is > 20_000 and var rows)
        {
            // SYSTEM samples whole pages: cheap, and enough to tell the shape of values.
            var percent = Math.Clamp(100.0 * 2_000 / rows, 0.01, 100);
            sql.Append(CultureInfo.InvariantCulture, $" TABLESAMPLE SYSTEM ({percent:0.####})");
        }
        sql.Append(CultureInfo.InvariantCulture, $" LIMIT {SampleRows}");
        return sql.ToString();
    }

}

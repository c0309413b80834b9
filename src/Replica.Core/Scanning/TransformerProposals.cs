using Replica.Lexing;
using Replica.Transformers;

namespace Replica.Scanning;

/// <summary>A transformer proposed for a column: its name and options, as the config writes them.</summary>
public sealed record TransformerProposal(string Name, IReadOnlyDictionary<string, object?> Options);

/// <summary>
/// Picks, for a kind of personal data and a column, the first of a few candidate transformers that the registry
/// accepts for the column's type, length and uniqueness: the same check a dump makes when it creates the transformer,
/// so a proposal never fails at dump time (e.g. no text fake for an integer, no ip-address for a unique column).
/// </summary>
public static class TransformerProposals
{
    static readonly TransformerEnvironment s_environment = new(new byte[32], "en");

    static TransformerProposal Of(string name) => new(name, new Dictionary<string, object?>());

    static TransformerProposal Of(string name, string option, object value) => new(name, new Dictionary<string, object?> { [option] = value });

    /// <summary>Candidates in order of preference: the fitting fake first, hash or random as the fallback.</summary>
    static TransformerProposal[] Candidates(PersonalDataKind kind) => kind switch
    {
        PersonalDataKind.Email => [Of("email"), Of("hash")],
        PersonalDataKind.Phone => [Of("phone-number"), Of("random"), Of("hash")],
        PersonalDataKind.FirstName => [Of("first-name"), Of("hash")],
        PersonalDataKind.LastName => [Of("last-name"), Of("hash")],
        PersonalDataKind.FullName => [Of("full-name"), Of("hash")],
        PersonalDataKind.Username => [Of("username"), Of("hash")],
        PersonalDataKind.Address => [Of("street-address"), Of("hash")],
        PersonalDataKind.City => [Of("city"), Of("hash")],
        PersonalDataKind.PostalCode => [Of("random"), Of("hash")],
        PersonalDataKind.BirthDate => [Of("date-shift", "days", "365"), Of("random"), Of("hash")],
        PersonalDataKind.NationalId => [Of("hash"), Of("random")],
        PersonalDataKind.Iban => [Of("random"), Of("hash")],
        PersonalDataKind.BankAccount => [Of("random"), Of("hash")],
        PersonalDataKind.CardNumber => [Of("credit-card"), Of("hash"), Of("random")],
        PersonalDataKind.CardSecurityCode => [Of("random"), Of("hash")],
        PersonalDataKind.IpAddress => [Of("ip-address"), Of("hash")],
        PersonalDataKind.Password => [Of("hash")],
        PersonalDataKind.Secret => [Of("hash")],
        PersonalDataKind.Geolocation => [Of("number-noise", "percent", "1"), Of("random")],
        // Usually kept: few values, often under a CHECK constraint that a fake would break. Proposed so a reviewer decides.
        PersonalDataKind.Gender => [Of("transient")],
        _ => [Of("hash")],
    };

    /// <summary>The first candidate the registry can create for this column, or null when none fits its type.</summary>
    public static TransformerProposal? For(PersonalDataKind kind, string schema, string table, string column, string type, bool unique)
    {
        var info = Describe(schema, table, column, type, unique);
        foreach (var proposal in Candidates(kind))
        {
            var candidate = proposal;
            if (candidate.Name == "hash" && info.MaxLength is { } max && max < 64)
            {
                // A full hex HMAC is 64 characters; a shorter column keeps a prefix of it.
                candidate = Of("hash", "length", max.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            if (Fits(candidate, info))
            {
                return candidate;
            }
        }
        return null;
    }

    internal static ColumnInfo Describe(string schema, string table, string column, string type, bool unique)
    {
        var (category, maxLength) = ColumnTypes.Categorize(type);
        return new ColumnInfo(schema, table, column) { TypeName = type, Category = category, MaxLength = maxLength, Unique = unique };
    }

    static bool Fits(TransformerProposal proposal, ColumnInfo column)
    {
        try
        {
            var spec = new TransformerSpec(proposal.Name, proposal.Options);
            TransformerRegistry.Validate(spec, s_environment);
            using var transformer = TransformerRegistry.Create(spec, column, s_environment);
            return true;
        }
        catch (ConfigException)
        {
            return false;
        }
    }
}

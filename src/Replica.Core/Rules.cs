namespace Replica;

// The rules vocabulary that Config produces and the stages consume (Rewriting, Scanning, Pipeline): what a
// 'transformers:' entry says, as plain records. It lives in the root so that no stage depends on Config for it.

/// <summary>What happens to a table's data and schema.</summary>
public enum TableAction
{
    /// <summary>Keep schema and data, transform the configured columns.</summary>
    Transform,
    /// <summary>Keep the schema, drop every row ('skip' / 'data: skip').</summary>
    SkipData,
    /// <summary>Drop the table entirely: schema, data, indexes, constraints ('drop').</summary>
    Drop,
}

/// <summary>A 'transformers:' entry: which tables it matches, what it does to them and their columns.</summary>
public sealed record TableRule(TablePattern Table, TableAction Action, IReadOnlyList<ColumnRule> Columns)
{
    /// <summary>Where it was configured ("replica.yaml:12:5"), for messages.</summary>
    public string? Source { get; init; }

    /// <summary>'optional: true': the rule may match nothing in a dump without failing it.</summary>
    public bool Optional { get; init; }
}

public sealed record ColumnRule(NamePattern Column, TransformerConfig Transformer)
{
    /// <summary>Where the column was named ("replica.yaml:14:7"), for messages.</summary>
    public string? Source { get; init; }

    /// <summary>
    /// The bare name as written when folding it to lower case changed it (Email, folded to email); null for a "Quoted"
    /// name or one written in lower case. A PostgreSQL table with a column of that spelling ("Email") would keep it in
    /// clear, so such a rule is an error there (Rewriting.RuleChecker).
    /// </summary>
    public string? FoldedFrom { get; init; }

    /// <summary><see cref="FoldedFrom"/> for a column name as written in the config and as parsed.</summary>
    public static string? Folded(string written, NamePattern column)
    {
        var text = written.Trim();
        return column.Name is { } name && !text.StartsWith('"') && !string.Equals(name, text, StringComparison.Ordinal) ? text : null;
    }
}

/// <summary>
/// A column's transformer as written: its name and raw options (strings, lists IReadOnlyList&lt;object?&gt;, maps
/// IReadOnlyDictionary&lt;string, object?&gt;, as YAML gives them), and where. The Pipeline binds it to a transformer when
/// the dump's rules are built; errors found there name <see cref="Location"/> or the option's own location.
/// </summary>
public sealed record TransformerConfig(string Name, IReadOnlyDictionary<string, object?> Options)
{
    /// <summary>Where the transformer was configured; null when built in code.</summary>
    public ConfigLocation? Location { get; init; }

    /// <summary>"replica.yaml:12:9", for messages; null when built in code.</summary>
    public string? Source => Location?.ToString();

    /// <summary>Where each option was written (its key), by option name.</summary>
    public IReadOnlyDictionary<string, ConfigLocation> OptionLocations { get; init; } = new Dictionary<string, ConfigLocation>();

    /// <summary>'unique': true, false, or null for "decide by the transformer".</summary>
    public bool? Unique { get; init; }

    /// <summary>
    /// The options whose value (or a value inside it) came through a ${VAR}: their values are never shown in messages.
    /// </summary>
    public IReadOnlySet<string> OptionsFromEnvironment { get; init; } = new HashSet<string>();

    public static TransformerConfig Of(string name) => new(name, new Dictionary<string, object?>());
}

/// <summary>What a rule that matches nothing in a dump does ('unmatched_rules').</summary>
public enum UnmatchedRules
{
    /// <summary>The dump fails before anything is listed: a misspelt table or column must not leave data unmasked.</summary>
    Error,
    /// <summary>The dump completes and prints a warning for each such rule.</summary>
    Warn,
}

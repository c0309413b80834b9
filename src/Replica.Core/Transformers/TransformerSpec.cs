namespace Replica.Transformers;

/// <summary>
/// A transformer as configured: its name and options. Option values are strings, lists (IReadOnlyList&lt;object?&gt;)
/// or nested maps (IReadOnlyDictionary&lt;string, object?&gt;), as YAML gives them. <see cref="Location"/> says where it
/// was configured ("replica.yaml:12:9"), and <see cref="OptionLocations"/> where each option was, for error messages.
/// </summary>
public sealed record TransformerSpec(string Name, IReadOnlyDictionary<string, object?> Options)
{
    /// <summary>Where the transformer was configured; null when built in code.</summary>
    public ConfigLocation? Location { get; init; }

    /// <summary>"replica.yaml:12:9", for messages; null when built in code.</summary>
    public string? Source => Location?.ToString();

    /// <summary>Where each option was written (its key), by option name; an option's error points there.</summary>
    public IReadOnlyDictionary<string, ConfigLocation>? OptionLocations { get; init; }

    /// <summary>The column is marked unique in the config: true, false, or null for "decide by the transformer".</summary>
    public bool? Unique { get; init; }

    /// <summary>
    /// The options whose value (or a value inside it) came through a ${VAR}: their values are never shown in messages.
    /// </summary>
    public IReadOnlySet<string> OptionsFromEnvironment { get; init; } = new HashSet<string>();

    public static TransformerSpec Of(string name) => new(name, new Dictionary<string, object?>());
}

/// <summary>Everything a transformer needs besides its spec, shared by a whole run.</summary>
public sealed class TransformerEnvironment
{
    public TransformerEnvironment(ReadOnlyMemory<byte> secret, string locale = "en")
    {
        Secret = secret;
        Locale = locale;
    }

    /// <summary>The key that makes deterministic transformers repeatable (config 'secret').</summary>
    public ReadOnlyMemory<byte> Secret { get; }

    /// <summary>Bogus locale for fakes, e.g. "en", "de", "fr".</summary>
    public string Locale { get; }

    /// <summary>The largest value a transformer may produce ('limits.max_row_size'): a custom command's answer line is cut off there.</summary>
    public long MaxValueBytes { get; init; } = 256L << 20;
}

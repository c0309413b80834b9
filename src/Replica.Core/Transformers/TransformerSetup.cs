using System.Collections;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Replica.Transformers;

/// <summary>
/// One transformer being validated or created: reads and checks its options (every problem is a
/// <see cref="ConfigException"/> naming where it was configured, the transformer and the option), derives its keys and
/// checks the column's type. With no column (<see cref="ValidateOnly"/>) only the options are checked.
/// </summary>
internal sealed class TransformerSetup
{
    readonly TransformerKind _kind;
    DerivedKeys? _keys;

    public TransformerSetup(TransformerKind kind, TransformerSpec spec, TransformerEnvironment env, ColumnInfo? column)
    {
        _kind = kind;
        Spec = spec;
        Env = env;
        Column = column;
        foreach (var key in spec.Options.Keys)
        {
            if (!kind.HasOption(key))
            {
                var accepted = kind.Descriptor.Options.Count == 0
                    ? "it takes no options"
                    : "it accepts " + string.Join(", ", kind.Descriptor.Options.Select(o => o.Name));
                throw OptionError(key, $"is unknown; {accepted}");
            }
        }
    }

    public TransformerSpec Spec { get; }

    public TransformerEnvironment Env { get; }

    public ColumnInfo? Column { get; }

    public string Name => _kind.Descriptor.Name;

    public bool ValidateOnly => Column is null;

    public ColumnInfo ColumnOrThrow => Column ?? throw new InvalidOperationException("No column while validating.");

    public DerivedKeys Keys => _keys ??= DerivedKeys.Derive(Env.Secret.Span, Name, Spec.Options);

    /// <summary>Whether outputs must stay unique: the column says so, the config says so, or the transformer's default.</summary>
    public bool IsUnique(bool byDefault) => ColumnOrThrow.Unique || Spec.Unique == true || (Spec.Unique is null && byDefault);

    public static bool IsTextLike(TypeCategory category) =>
        category is TypeCategory.Text or TypeCategory.Unknown or TypeCategory.Other;

    // ---- options ----

    object? Raw(string name)
    {
        System.Diagnostics.Debug.Assert(_kind.HasOption(name), $"option {name} not declared for {Name}");
        foreach (var pair in Spec.Options)
        {
            if (string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return pair.Value;
            }
        }

        return null;
    }

    public bool Has(string name)
    {
        foreach (var key in Spec.Options.Keys)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A scalar option as text; null when absent (or YAML null).</summary>
    public string? GetString(string name)
    {
        var raw = Raw(name);
        return raw switch
        {
            null => null,
            string s => s,
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => throw OptionError(name, "must be a single value, not a list or a map"),
        };
    }

    public string GetRequiredString(string name, string what)
    {
        var value = GetString(name);
        if (string.IsNullOrEmpty(value))
        {
            throw OptionError(name, $"is required: {what}");
        }

        return value;
    }

    public int GetInt(string name, int defaultValue, int min, int max)
    {
        var text = GetString(name);
        if (text is null)
        {
            return defaultValue;
        }

        if (!int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value)
            || value < min || value > max)
        {
            throw OptionError(name, $"must be a whole number from {min} to {max}, not {Shown(name, text)}");
        }

        return value;
    }

    public int? GetOptionalInt(string name, int min, int max) => Has(name) && GetString(name) is not null ? GetInt(name, 0, min, max) : null;

    public double GetDouble(string name, double defaultValue, double minExclusive, double maxInclusive)
    {
        var text = GetString(name);
        if (text is null)
        {
            return defaultValue;
        }

        if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            || !(value > minExclusive) || value > maxInclusive)
        {
            throw OptionError(name, $"must be a number above {minExclusive.ToString(CultureInfo.InvariantCulture)} " +
                                    $"and at most {maxInclusive.ToString(CultureInfo.InvariantCulture)}, not {Shown(name, text)}");
        }

        return value;
    }

    public string GetChoice(string name, string defaultValue, params string[] choices)
    {
        var text = GetString(name);
        if (text is null)
        {
            return defaultValue;
        }

        foreach (var choice in choices)
        {
            if (string.Equals(choice, text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return choice;
            }
        }

        throw OptionError(name, $"must be one of {string.Join(", ", choices)}, not {Shown(name, text)}");
    }

    /// <summary>A list option (YAML sequence) or a string split on whitespace; null when absent.</summary>
    public IReadOnlyList<string>? GetWords(string name)
    {
        var raw = Raw(name);
        switch (raw)
        {
            case null:
                return null;
            case string s:
                return s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            case IEnumerable list when raw is not IDictionary && raw is not IEnumerable<KeyValuePair<string, object?>>:
                var words = new List<string>();
                foreach (var item in list)
                {
                    words.Add(item switch
                    {
                        string s => s,
                        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                        bool b => b ? "true" : "false",
                        _ => throw OptionError(name, "must be a list of plain values"),
                    });
                }

                return words;
            default:
                return [GetString(name)!];
        }
    }

    /// <summary>The raw option value, for options that nest (json's transformer).</summary>
    public object? GetRaw(string name) => Raw(name);

    // ---- locale ----

    /// <summary>The fake data of the 'locale' option or the run's locale, checked to exist.</summary>
    public LocaleData GetLocale()
    {
        var locale = GetString("locale") ?? Env.Locale;
        if (!LocaleData.Exists(locale))
        {
            var known = string.Join(", ", LocaleData.AllNames);
            throw Has("locale")
                ? OptionError("locale", $"is '{locale}', which Bogus has no data for; known locales: {known}")
                : Error($"needs fake data for the run's locale '{locale}', which Bogus does not have; known locales: {known}");
        }

        return LocaleData.Get(locale);
    }

    // ---- column checks ----

    /// <summary>
    /// Fails unless the column's category is text-like (text, varchar, unknown) or one of <paramref name="alsoFits"/>.
    /// </summary>
    public void RequireCategory(string writes, params TypeCategory[] alsoFits)
    {
        var category = ColumnOrThrow.Category;
        if (IsTextLike(category) || Array.IndexOf(alsoFits, category) >= 0)
        {
            return;
        }

        var fits = new StringBuilder("text columns");
        foreach (var other in alsoFits)
        {
            fits.Append(", ").Append(other.ToString().ToLowerInvariant());
        }

        throw ColumnError($"writes {writes}, which this column cannot hold; it suits {fits}");
    }

    /// <summary>Fails when the column must stay unique, for transformers whose outputs cannot be made unique.</summary>
    public void RejectUnique(string why)
    {
        if (IsUnique(byDefault: false))
        {
            throw ColumnError($"cannot keep a unique column unique ({why}); use hash, uuid or a text fake, or keep the column (transient)");
        }
    }

    // ---- errors ----

    /// <summary>An option's problem points at the option's key where it was written, else at the transformer.</summary>
    /// <summary>An option's value for a message: quoted, or not shown when it came through a ${VAR} (ConfigScalar.Shown).</summary>
    public string Shown(string option, string value)
    {
        foreach (var name in Spec.OptionsFromEnvironment)
        {
            if (string.Equals(name, option, StringComparison.OrdinalIgnoreCase))
            {
                return "the value (from an environment variable, not shown)";
            }
        }
        return $"'{value}'";
    }

    public ConfigException OptionError(string option, string problem) =>
        At(OptionLocation(option) ?? TransformerLocation, $"transformer '{Name}': option '{option}' {problem}");

    public ConfigException Error(string problem) => At(TransformerLocation, $"transformer '{Name}' {problem}");

    public ConfigException ColumnError(string problem)
    {
        var column = ColumnOrThrow;
        var type = column.TypeName ?? column.Category.ToString().ToLowerInvariant();
        return At(TransformerLocation, $"column {column.QualifiedName} ({type}): transformer '{Name}' {problem}");
    }

    // Where the transformer was written, without its key path: these messages name the transformer (and column) instead.
    ConfigLocation? TransformerLocation => Spec.Location is { } location ? location with { Key = null } : null;

    static ConfigException At(ConfigLocation? location, string message) =>
        location is null ? new ConfigException(message) : new ConfigException(message, location);

    ConfigLocation? OptionLocation(string option)
    {
        if (Spec.OptionLocations is { } locations)
        {
            foreach (var pair in locations)
            {
                if (string.Equals(pair.Key, option, StringComparison.OrdinalIgnoreCase))
                {
                    return pair.Value;
                }
            }
        }
        return null;
    }
}

/// <summary>
/// The keys of one configured transformer, derived once per Create: HMAC-SHA256(secret, transformer name + canonical
/// options). The first 16 bytes key the SipHash that picks fakes, the last 16 the unique suffix, so both are
/// independent and the same (secret, transformer, options, value) gives the same output in every table and run.
/// </summary>
internal sealed class DerivedKeys
{
    DerivedKeys(SipKey pick, SipKey unique)
    {
        Pick = pick;
        Unique = unique;
    }

    public SipKey Pick { get; }

    public SipKey Unique { get; }

    public static DerivedKeys Derive(ReadOnlySpan<byte> secret, string name, IReadOnlyDictionary<string, object?> options)
    {
        var text = new StringBuilder("replica/transformer/v1\n").Append(name).Append('\n');
        AppendCanonical(text, options);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(text.ToString()), mac);
        return new DerivedKeys(SipKey.FromBytes(mac[..16]), SipKey.FromBytes(mac[16..]));
    }

    // Sorted keys, quoted strings: two configs that mean the same options give the same key, whatever YAML's order or
    // scalar typing (5 and "5" both read as 5).
    static void AppendCanonical(StringBuilder text, object? value)
    {
        switch (value)
        {
            case null:
                text.Append("null");
                break;
            case string s:
                AppendQuoted(text, s);
                break;
            case bool b:
                AppendQuoted(text, b ? "true" : "false");
                break;
            case IFormattable f:
                AppendQuoted(text, f.ToString(null, CultureInfo.InvariantCulture));
                break;
            case IReadOnlyDictionary<string, object?> map:
                AppendMap(text, map.Select(p => (p.Key, p.Value)));
                break;
            case IDictionary dictionary:
                var pairs = new List<(string, object?)>();
                foreach (DictionaryEntry entry in dictionary)
                {
                    pairs.Add((Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "", entry.Value));
                }

                AppendMap(text, pairs);
                break;
            case IEnumerable list:
                text.Append('[');
                foreach (var item in list)
                {
                    AppendCanonical(text, item);
                    text.Append(',');
                }

                text.Append(']');
                break;
            default:
                AppendQuoted(text, value.ToString() ?? "");
                break;
        }
    }

    static void AppendMap(StringBuilder text, IEnumerable<(string Key, object? Value)> pairs)
    {
        text.Append('{');
        foreach (var (key, value) in pairs.OrderBy(p => p.Key.ToLowerInvariant(), StringComparer.Ordinal))
        {
            AppendQuoted(text, key.ToLowerInvariant());
            text.Append(':');
            AppendCanonical(text, value);
            text.Append(',');
        }

        text.Append('}');
    }

    static void AppendQuoted(StringBuilder text, string s)
    {
        text.Append('"');
        foreach (char c in s)
        {
            if (c is '"' or '\\')
            {
                text.Append('\\');
            }

            text.Append(c);
        }

        text.Append('"');
    }
}

namespace Replica.Transformers;

/// <summary>
/// The built-in transformers: their descriptions (for `replica transformers`), validation of configured specs at start,
/// and creation of one instance per column.
/// </summary>
public static class TransformerRegistry
{
    static readonly TransformerKind[] s_kinds =
    [
        TransientTransformer.Kind,
        NullTransformer.Kind,
        ConstantTransformer.Kind,
        RedactTransformer.Kind,
        KeepFirstCharTransformer.Kind,
        HashTransformer.Kind,
        RandomTransformer.Kind,
        FakeTransformer.FirstName,
        FakeTransformer.LastName,
        FakeTransformer.FullName,
        EmailTransformer.Kind,
        FakeTransformer.PhoneNumber,
        CreditCardTransformer.Kind,
        FakeTransformer.StreetAddress,
        FakeTransformer.City,
        FakeTransformer.Country,
        FakeTransformer.Company,
        UsernameTransformer.Kind,
        IpAddressTransformer.Kind,
        UuidTransformer.Kind,
        DateShiftTransformer.Kind,
        NumberNoiseTransformer.Kind,
        RegexReplaceTransformer.Kind,
        TemplateTransformer.Kind,
        JsonTransformer.Kind,
        CustomTransformer.Kind,
    ];

    static readonly TransformerDescriptor[] s_descriptors = Array.ConvertAll(s_kinds, kind => kind.Descriptor);

    /// <summary>Every built-in transformer, in the order `replica transformers` lists them.</summary>
    public static IReadOnlyList<TransformerDescriptor> All => s_descriptors;

    /// <summary>Whether <paramref name="name"/> names a built-in transformer (case and '-'/'_' insensitive).</summary>
    public static bool IsKnown(string name) => Find(name) is not null;

    /// <summary>
    /// Checks a configured transformer without a column: its name, its options and their values. Throws
    /// <see cref="ConfigException"/> naming <see cref="TransformerSpec.Location"/>, the transformer, the option and what is
    /// accepted, so a bad config fails at start even for tables the dump never reaches.
    /// </summary>
    public static void Validate(TransformerSpec spec, TransformerEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(env);
        var kind = FindOrThrow(spec);
        kind.Build(new TransformerSetup(kind, spec, env, column: null));
    }

    /// <summary>
    /// Creates the transformer for one column of one table. Throws <see cref="ConfigException"/> for a bad spec or when
    /// the transformer cannot keep the column's values valid for its type, length or uniqueness. The caller disposes it.
    /// </summary>
    public static Transformer Create(TransformerSpec spec, ColumnInfo column, TransformerEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(column);
        ArgumentNullException.ThrowIfNull(env);
        var kind = FindOrThrow(spec);
        return kind.Build(new TransformerSetup(kind, spec, env, column))
               ?? throw new InvalidOperationException($"Transformer '{kind.Descriptor.Name}' built nothing for a column.");
    }

    static TransformerKind FindOrThrow(TransformerSpec spec)
    {
        var kind = Find(spec.Name);
        if (kind is null)
        {
            var message = $"unknown transformer '{spec.Name}'; known transformers: {string.Join(", ", Array.ConvertAll(s_descriptors, d => d.Name))}";
            throw spec.Location is { } location ? new ConfigException(message, location with { Key = null }) : new ConfigException(message);
        }

        return kind;
    }

    static TransformerKind? Find(string name)
    {
        var normalized = name.Trim().Replace('_', '-');
        foreach (var kind in s_kinds)
        {
            if (string.Equals(kind.Descriptor.Name, normalized, StringComparison.OrdinalIgnoreCase))
            {
                return kind;
            }
        }

        return null;
    }
}

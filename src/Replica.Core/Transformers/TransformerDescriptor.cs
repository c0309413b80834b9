namespace Replica.Transformers;

/// <summary>What `replica transformers` prints about one built-in transformer.</summary>
/// <param name="Example">A YAML snippet configuring it for one column.</param>
public sealed record TransformerDescriptor(string Name, string Description, IReadOnlyList<TransformerOption> Options, string Example);

/// <summary>One option of a transformer; <paramref name="Default"/> is null when the option is required or has no default.</summary>
public sealed record TransformerOption(string Name, string Description, string? Default);

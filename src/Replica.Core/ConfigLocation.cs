using System.Globalization;

namespace Replica;

/// <summary>
/// Where something was written in a config file: the file, the 1-based line and column, and the key path
/// (<c>transformers[0].columns.ssn.options.length</c>). Config records carry it, so an error raised where they are
/// bound (a transformer's options, checked when the dump's rules are built) points where the loader's own errors do.
/// </summary>
public sealed record ConfigLocation(string File, int LineNumber, int ColumnNumber)
{
    /// <summary>The key path of the value, as the loader's errors name it; null when not known.</summary>
    public string? Key { get; init; }

    /// <summary>"replica.yaml:12:9".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{File}:{LineNumber}:{ColumnNumber}");
}

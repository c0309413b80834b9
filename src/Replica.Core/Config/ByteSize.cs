using System.Globalization;

namespace Replica.Config;

/// <summary>
/// Sizes as written in a config or on the command line: a whole number of bytes, optionally followed by a unit.
/// KiB/MiB/GiB/TiB are powers of 1024 and KB/MB/GB/TB powers of 1000, as IEC 80000-13 defines them, so that
/// "32MB" never silently means something other than what the standard says. Units are case-insensitive.
/// </summary>
public static class ByteSize
{
    /// <summary>What <see cref="TryParse"/> accepts, for error messages.</summary>
    public const string Accepted =
        "a whole number of bytes, optionally with a unit: B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000), e.g. 32MiB";

    static readonly (string Unit, long Factor)[] s_units =
    [
        ("B", 1),
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
    ];

    /// <summary>Parses "1048576", "32MiB", "32 MiB", "5MB"; false for anything else, negative numbers or overflow.</summary>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var s = text.AsSpan().Trim();
        var digits = 0;
        while (digits < s.Length && char.IsAsciiDigit(s[digits]))
        {
            digits++;
        }
        if (digits == 0)
        {
            return false;
        }
        if (!long.TryParse(s[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }
        var unit = s[digits..].TrimStart();
        var factor = 0L;
        if (unit.IsEmpty)
        {
            factor = 1;
        }
        else
        {
            foreach (var (name, f) in s_units)
            {
                if (unit.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    factor = f;
                    break;
                }
            }
        }
        if (factor == 0 || number > long.MaxValue / factor)
        {
            return false;
        }
        bytes = number * factor;
        return true;
    }

    /// <summary>Formats with the largest binary unit that divides the size exactly: 33554432 -> "32MiB".</summary>
    public static string Format(long bytes)
    {
        string[] units = ["TiB", "GiB", "MiB", "KiB"];
        for (var i = 0; i < units.Length; i++)
        {
            var shift = 40 - (10 * i);
            var factor = 1L << shift;
            if (bytes != 0 && bytes % factor == 0)
            {
                return (bytes >> shift).ToString(CultureInfo.InvariantCulture) + units[i];
            }
        }
        return bytes.ToString(CultureInfo.InvariantCulture) + "B";
    }
}

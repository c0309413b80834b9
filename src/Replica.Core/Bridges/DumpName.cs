using System.Diagnostics.CodeAnalysis;

namespace Replica.Bridges;

/// <summary>
/// The rules for dump names. A name becomes a folder (local bridge) or a key prefix (S3), so it is kept to characters
/// that mean the same thing on every file system and in URLs.
/// </summary>
public static class DumpName
{
    public const int MaxLength = 128;

    /// <summary>The name `replica dump` uses when none is given: "dump-" and the Unix time in milliseconds.</summary>
    public static string ForTime(DateTimeOffset time) => $"dump-{time.ToUnixTimeMilliseconds()}";

    /// <summary>True when <paramref name="name"/> may name a dump; otherwise <paramref name="problem"/> says why not.</summary>
    public static bool IsValid([NotNullWhen(true)] string? name, [NotNullWhen(false)] out string? problem)
    {
        if (string.IsNullOrEmpty(name))
        {
            problem = "a dump name cannot be empty";
            return false;
        }
        if (name.Length > MaxLength)
        {
            problem = $"a dump name has at most {MaxLength} characters, this one has {name.Length}";
            return false;
        }
        if (name[0] == '.')
        {
            // Dot names are reserved for the bridge's own files (.index.lock, .deleted-*), and "." / ".." are paths.
            problem = "a dump name cannot start with '.'";
            return false;
        }
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_' && c != '.')
            {
                problem = $"character {i + 1} ('{c}') is not allowed; use ASCII letters, digits, '-', '_' and '.'";
                return false;
            }
        }
        if (name.Equals(ObjectBridge.IndexKey, StringComparison.OrdinalIgnoreCase))
        {
            problem = $"'{ObjectBridge.IndexKey}' is the bridge's index";
            return false;
        }
        problem = null;
        return true;
    }

    /// <summary>Throws <see cref="BridgeException"/> when <paramref name="name"/> may not name a dump.</summary>
    public static void Validate(string? name)
    {
        if (!IsValid(name, out string? problem))
        {
            BridgeThrow.InvalidName(name, problem);
        }
    }
}

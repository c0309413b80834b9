using System.Text;

namespace Replica.Config;

/// <summary>
/// Environment variables in config values: ${NAME}, ${NAME:-default} (default when unset or empty, as in POSIX sh),
/// $$ for a literal $, and RepliByte's bare $NAME when it is the whole value. Values of variables never appear in
/// error messages: they are often passwords or the secret.
/// </summary>
internal static class EnvInterpolation
{
    public const string Accepted = "${NAME}, ${NAME:-default}, $NAME as the whole value, or $$ for a literal $";

    const char OpenBrace = '\uE000';
    const char CloseBrace = '\uE001';

    /// <summary>
    /// Hides the braces of ${NAME} and ${NAME:-default} from the YAML parser (as private-use characters, one for one, so
    /// line and column numbers stay right): in a flow mapping such as { passphrase: ${REPLICA_PASSPHRASE} } a brace
    /// would otherwise end the mapping. <see cref="TryExpand"/> puts them back. $${ stays literal.
    /// </summary>
    public static string ProtectBraces(string yaml)
    {
        if (!yaml.Contains("${", StringComparison.Ordinal))
        {
            return yaml;
        }
        var chars = yaml.ToCharArray();
        for (var i = 0; i + 1 < chars.Length; i++)
        {
            if (chars[i] != '$')
            {
                continue;
            }
            if (chars[i + 1] == '$')
            {
                i++; // $$ is a literal dollar
                continue;
            }
            if (chars[i + 1] != '{')
            {
                continue;
            }
            var close = i + 2;
            while (close < chars.Length && chars[close] is not ('}' or '\n' or '\r'))
            {
                close++;
            }
            if (close < chars.Length && chars[close] == '}' && close > i + 2 && IsName(chars.AsSpan(i + 2, NameLength(chars.AsSpan(i + 2, close - i - 2)))))
            {
                chars[i + 1] = OpenBrace;
                chars[close] = CloseBrace;
                i = close;
            }
        }
        return new string(chars);
    }

    static int NameLength(ReadOnlySpan<char> inner)
    {
        var colon = inner.IndexOf(':');
        return colon < 0 ? inner.Length : colon;
    }

    static string RestoreBraces(string text) =>
        text.Contains(OpenBrace) ? text.Replace(OpenBrace, '{').Replace(CloseBrace, '}') : text;

    /// <summary>
    /// Expands <paramref name="text"/>. <paramref name="usedVariables"/> is true when any variable syntax was present,
    /// so that callers know not to print the result. On failure <paramref name="error"/> says what and which variable.
    /// The values taken from variables (not defaults written in the text) are added to <paramref name="substituted"/>,
    /// so that what runs the result can keep them out of the messages it shows.
    /// </summary>
    public static bool TryExpand(string text, Func<string, string?> getEnv, out string result, out bool usedVariables, out string? error,
        ICollection<string>? substituted = null)
    {
        text = RestoreBraces(text);
        result = text;
        usedVariables = false;
        error = null;
        if (!text.Contains('$'))
        {
            return true;
        }

        // RepliByte substitutes a value that is exactly "$NAME" (and nothing else); keep that working as is.
        if (text.Length > 1 && text[0] == '$' && IsName(text.AsSpan(1)))
        {
            usedVariables = true;
            var name = text[1..];
            var value = getEnv(name);
            if (value is null)
            {
                error = $"environment variable {name} is not set (set it, or write $${name} for the literal text)";
                return false;
            }
            result = value;
            substituted?.Add(value);
            return true;
        }

        var sb = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c != '$' || i + 1 >= text.Length)
            {
                sb.Append(c);
                i++;
                continue;
            }
            var next = text[i + 1];
            if (next == '$')
            {
                sb.Append('$');
                i += 2;
                continue;
            }
            if (next != '{')
            {
                // A lone '$' is literal: JSONPath ('$.a.email') and prices must not need escaping.
                sb.Append('$');
                i++;
                continue;
            }
            usedVariables = true;
            var close = text.IndexOf('}', i + 2);
            if (close < 0)
            {
                error = $"'${{' at character {i + 1} has no closing '}}'; expected {Accepted}";
                return false;
            }
            var inner = text.AsSpan(i + 2, close - i - 2);
            string? defaultValue = null;
            var sep = inner.IndexOf(":-", StringComparison.Ordinal);
            var nameSpan = inner;
            if (sep >= 0)
            {
                nameSpan = inner[..sep];
                defaultValue = inner[(sep + 2)..].ToString();
            }
            if (!IsName(nameSpan))
            {
                // The text inside is not shown: in a secret or a connection URI it may be the sensitive part.
                error = $"the '${{' at character {i + 1} does not start a variable reference; expected {Accepted}";
                return false;
            }
            var varName = nameSpan.ToString();
            var varValue = getEnv(varName);
            if (defaultValue is not null && string.IsNullOrEmpty(varValue))
            {
                sb.Append(defaultValue);
            }
            else if (varValue is null)
            {
                error = $"environment variable {varName} is not set (set it, or give a default: ${{{varName}:-default}})";
                return false;
            }
            else
            {
                sb.Append(varValue);
                substituted?.Add(varValue);
            }
            i = close + 1;
        }
        result = sb.ToString();
        return true;
    }

    /// <summary>A shell-style variable name: a letter or '_', then letters, digits or '_'.</summary>
    static bool IsName(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty || !(char.IsAsciiLetter(s[0]) || s[0] == '_'))
        {
            return false;
        }
        foreach (var c in s)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }
        return true;
    }
}

using System.Text;
using System.Text.RegularExpressions;

namespace Replica.Clients;

/// <summary>
/// A pg_dump --table/--schema pattern, matched as pg_dump matches it (psql's pattern rules,
/// https://www.postgresql.org/docs/current/app-psql.html#APP-PSQL-PATTERNS): '*' is any run of characters, '?' one
/// character, unquoted letters fold to lower case, "double-quoted" text is literal, a dot separates schema and table.
/// Other characters act as in a regular expression, as in psql ("[]" excepted: psql takes it for an array type's name,
/// literally). The expression is the one patternToSQLRegex (fe_utils/string_utils.c) builds, matched as the server
/// matches it (not newline-sensitive): '.' matches a newline and the end anchor is the string's end, so a name holding a
/// newline is matched here exactly when pg_dump matches it. A table pattern without a schema matches tables visible
/// in the search path of pg_dump's session; this reads that as schema public (the default search_path), since no session
/// is at hand. The config refuses such a pattern for a PostgreSQL source (<see cref="NamesSchema"/>), so that reading
/// only serves configs without a live source.
/// </summary>
public sealed class PgDumpPattern
{
    readonly Regex? _schema;
    readonly Regex _name;

    PgDumpPattern(Regex? schema, Regex name)
    {
        _schema = schema;
        _name = name;
    }

    /// <summary>A --table pattern: [[database.]schema.]table.</summary>
    public static PgDumpPattern Table(string pattern)
    {
        var parts = SplitParts(pattern);
        return parts.Count switch
        {
            1 => new PgDumpPattern(null, ToRegex(parts[0])),
            _ => new PgDumpPattern(ToRegex(parts[^2]), ToRegex(parts[^1])),
        };
    }

    /// <summary>Whether a --table pattern names its schema (schema.table or database.schema.table, a dot outside double quotes).</summary>
    public static bool NamesSchema(string pattern) => SplitParts(pattern).Count > 1;

    /// <summary>A --schema pattern: [database.]schema.</summary>
    public static PgDumpPattern Schema(string pattern) => new(null, ToRegex(SplitParts(pattern)[^1]));

    /// <summary>Whether a table pattern matches schema.table.</summary>
    public bool Matches(string schema, string table) =>
        (_schema is null ? schema == "public" : _schema.IsMatch(schema)) && _name.IsMatch(table);

    /// <summary>Whether a schema pattern matches the schema.</summary>
    public bool MatchesSchema(string schema) => _name.IsMatch(schema);

    /// <summary>Splits on dots outside double quotes, keeping the quotes for <see cref="ToRegex"/>.</summary>
    static List<string> SplitParts(string pattern)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        var quoted = false;
        foreach (var c in pattern)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            if (c == '.' && !quoted)
            {
                parts.Add(current.ToString());
                current.Clear();
                continue;
            }
            current.Append(c);
        }
        parts.Add(current.ToString());
        return parts;
    }

    static Regex ToRegex(string part)
    {
        // "^(" as pg_dump writes it: a capturing group, so a back reference in the pattern counts groups as the server does.
        var regex = new StringBuilder("^(");
        var quoted = false;
        for (var i = 0; i < part.Length; i++)
        {
            var c = part[i];
            if (c == '"')
            {
                if (quoted && i + 1 < part.Length && part[i + 1] == '"')
                {
                    regex.Append('"');
                    i++;
                    continue;
                }
                quoted = !quoted;
                continue;
            }
            if (quoted)
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
            else if (c == '*')
            {
                regex.Append(".*");
            }
            else if (c == '?')
            {
                regex.Append('.');
            }
            else if (c == '$')
            {
                regex.Append("\\$");
            }
            else if (c == '[' && i + 1 < part.Length && part[i + 1] == ']')
            {
                regex.Append("\\[");
            }
            else
            {
                regex.Append(c is >= 'A' and <= 'Z' ? (char)(c + 32) : c);
            }
        }
        // The server's $ is the string's end only; .NET's $ also matches before a final newline, \z does not.
        regex.Append(")\\z");
        try
        {
            // Singleline: '.' (from * and ?) matches a newline, as in the server's regular expressions by default.
            return new Regex(regex.ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            throw new ConfigException($"'{part}' is not a valid pg_dump name pattern");
        }
    }
}

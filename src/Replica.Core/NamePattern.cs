using System.Text;

namespace Replica;

/// <summary>
/// One identifier or '*' in a config, matched as PostgreSQL matches names: an unquoted name folds to lower case,
/// a "quoted" one is exact (https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS).
/// </summary>
public readonly record struct NamePattern(string? Name)
{
    public static readonly NamePattern Any = new(null);

    public bool IsAny => Name is null;

    /// <summary>Matches a name as PostgreSQL stores it (already folded or unquoted).</summary>
    public bool Matches(string name) => Name is null || string.Equals(Name, name, StringComparison.Ordinal);

    public override string ToString() => Name is null ? "*" : Identifiers.Quote(Name);

    /// <summary>Parses one identifier: '*', a bare name (folded to lower case) or a "quoted" name ("" inside is one quote).</summary>
    public static NamePattern Parse(string text)
    {
        var parts = QualifiedNames.SplitQualified(text);
        if (parts.Count != 1)
        {
            throw new FormatException($"'{text}' is not a single name (quote it if it contains dots: \"{text}\")");
        }
        return parts[0];
    }
}

/// <summary>A schema.table pattern; a bare table name means schema public, as PostgreSQL's default search_path resolves it.</summary>
public readonly record struct TablePattern(NamePattern Schema, NamePattern Table)
{
    public bool Matches(string schema, string table) => Schema.Matches(schema) && Table.Matches(table);

    public override string ToString() => $"{Schema}.{Table}";

    /// <summary>Parses "schema.table", "table" (schema public), "*.table", "schema.*", with quoting as in SQL.</summary>
    public static TablePattern Parse(string text)
    {
        var parts = QualifiedNames.SplitQualified(text);
        return parts.Count switch
        {
            1 => new TablePattern(new NamePattern("public"), parts[0]),
            2 => new TablePattern(parts[0], parts[1]),
            _ => throw new FormatException($"'{text}' is not a table name; expected table, schema.table, or * in place of either"),
        };
    }
}

/// <summary>Qualified names as the config writes them (schema.table, with * for either).</summary>
public static class QualifiedNames
{
    /// <summary>Splits a possibly qualified name into parts, folding unquoted parts to lower case. '*' is a wildcard part.</summary>
    public static List<NamePattern> SplitQualified(string text)
    {
        var parts = new List<NamePattern>();
        var i = 0;
        text = text.Trim();
        if (text.Length == 0)
        {
            throw new FormatException("a name is empty");
        }
        while (true)
        {
            if (i >= text.Length)
            {
                throw new FormatException($"'{text}' ends with a dot");
            }
            if (text[i] == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw new FormatException($"'{text}' has an unterminated quoted name");
                    }
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            sb.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    sb.Append(text[i++]);
                }
                if (sb.Length == 0)
                {
                    throw new FormatException($"'{text}' has an empty quoted name");
                }
                parts.Add(new NamePattern(sb.ToString()));
            }
            else
            {
                var end = text.IndexOf('.', i);
                if (end < 0)
                {
                    end = text.Length;
                }
                var part = text[i..end].Trim();
                if (part.Length == 0)
                {
                    throw new FormatException($"'{text}' has an empty name part");
                }
                if (part.Contains('"'))
                {
                    throw new FormatException($"'{text}' has a quote inside an unquoted name");
                }
                parts.Add(part == "*" ? NamePattern.Any : new NamePattern(Identifiers.FoldCase(part)));
                i = end;
            }
            if (i >= text.Length)
            {
                return parts;
            }
            if (text[i] != '.')
            {
                throw new FormatException($"'{text}': expected '.' after a quoted name at character {i + 1}");
            }
            i++;
        }
    }
}

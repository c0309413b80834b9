namespace Replica;

/// <summary>Identifier case folding and quoting shared by the config, the lexer and the catalog.</summary>
public static class Identifiers
{
    /// <summary>PostgreSQL folds only ASCII letters of unquoted identifiers in UTF-8 databases.</summary>
    public static string FoldCase(string name)
    {
        foreach (var c in name)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return string.Create(name.Length, name, static (span, s) =>
                {
                    for (var i = 0; i < s.Length; i++)
                    {
                        var ch = s[i];
                        span[i] = ch is >= 'A' and <= 'Z' ? (char)(ch + 32) : ch;
                    }
                });
            }
        }
        return name;
    }

    /// <summary>
    /// A PostgreSQL delimited identifier: the name in double quotes, inner quotes doubled. Always quoted, so a reserved
    /// word (user, order) or a mixed-case name is read as the name it is (for SQL; <see cref="Quote"/> is for display).
    /// </summary>
    public static string Delimited(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>Quotes a name unless it is a plain lower-case identifier.</summary>
    public static string Quote(string name)
    {
        var plain = name.Length > 0 && (name[0] is (>= 'a' and <= 'z') or '_');
        foreach (var c in name)
        {
            if (!(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '$'))
            {
                plain = false;
                break;
            }
        }
        return plain ? name : "\"" + name.Replace("\"", "\"\"") + "\"";
    }

    /// <summary>
    /// A PostgreSQL delimited identifier that holds no control character: a name with one (a newline, a tab) is written
    /// with Unicode escapes (U&amp;"line\000Abreak", backslashes doubled), which names the same table in SQL yet prints on
    /// one line and passes the manifest reader's refusal of control characters; other names as <see cref="Delimited"/>.
    /// https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS-UESCAPE
    /// </summary>
    public static string DelimitedPrintable(string name)
    {
        if (!name.Any(char.IsControl))
        {
            return Delimited(name);
        }
        var text = new System.Text.StringBuilder("U&\"", name.Length + 16);
        foreach (var c in name)
        {
            if (c is '"' or '\\')
            {
                text.Append(c).Append(c);
            }
            else if (char.IsControl(c))
            {
                text.Append('\\').Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append(c);
            }
        }
        return text.Append('"').ToString();
    }
}

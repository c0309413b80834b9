namespace Replica.Lexing;

// Replica reads a table name without a schema as public's (TryReadQualifiedName), PostgreSQL's default search_path.
// pg_dump since 10.3 empties the search_path (set_config('search_path', '', false)) and qualifies every name; older
// pg_dump (SET search_path = app, pg_catalog;) and scripts name tables of another schema bare, whose rows rules written
// for that schema would then miss, while the CREATE TABLE read as public's raises no error of its own.
// https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-PATH
internal static partial class StatementParser
{
    /// <summary>
    /// SET [SESSION | LOCAL] search_path {TO | =} ..., or set_config('search_path', '...', ...) anywhere in the statement,
    /// to a path with a schema other than public, pg_catalog, pg_temp and "$user" (a bare name in it would then not be
    /// public's), or to a value that is not a plain literal. Returns the schemas named (or "a value Replica cannot read")
    /// and the offset of the deciding word, or null. SET ... TO DEFAULT and RESET keep the default.
    /// </summary>
    public static string? FindSearchPathAwayFromPublic(ReadOnlySpan<byte> sql, bool nonStandardStrings, out int at)
    {
        var t = new SqlTokenizer(sql, nonStandardStrings);
        at = -1;
        if (!t.Next())
        {
            return null;
        }
        if (t.IsWord("set"u8))
        {
            var p = t;
            p.Next();
            if (p.IsWord("session"u8) || p.IsWord("local"u8))
            {
                p.Next();
            }
            if (IsSettingName(p, "search_path"))
            {
                var other = new List<string>();
                while (p.Next() && !p.IsPunct((byte)';'))
                {
                    if (p.IsWord("to"u8) || p.IsWord("default"u8) || p.IsPunct((byte)',') || (p.Kind == TokenKind.Other && p.Span.SequenceEqual("="u8)))
                    {
                        continue;
                    }
                    var name = p.Kind is TokenKind.String or TokenKind.EString && IsPlainLiteral(p)
                        ? System.Text.Encoding.UTF8.GetString(p.Span[1..^1]).Replace("''", "'", StringComparison.Ordinal)
                        : p.IsIdentifier ? p.IdentifierName() : null;
                    if (name is null || !IsPublicPathSchema(name))
                    {
                        other.Add(name ?? System.Text.Encoding.UTF8.GetString(p.Span));
                    }
                }
                if (other.Count > 0)
                {
                    at = t.Start;
                    return string.Join(", ", other);
                }
                return null;
            }
        }
        do
        {
            var setConfig = t.Kind == TokenKind.Word ? t.IsWord("set_config"u8)
                : t.Kind == TokenKind.QuotedIdentifier && string.Equals(t.IdentifierName(), "set_config", StringComparison.Ordinal);
            if (setConfig && SetConfigSearchPath(t) is { } schemas)
            {
                at = t.Start;
                return schemas;
            }
        }
        while (t.Next());
        return null;
    }

    /// <summary>With the tokenizer on set_config: the schemas other than public's that its search_path value names, else null.</summary>
    static string? SetConfigSearchPath(SqlTokenizer p)
    {
        if (!p.Next() || !p.IsPunct((byte)'(') || !p.Next() || !IsPlainLiteral(p)
            || !string.Equals(System.Text.Encoding.UTF8.GetString(p.Span[1..^1]), "search_path", StringComparison.OrdinalIgnoreCase))
        {
            return null; // another setting, or a name FindSettingTheLexerMisses refuses
        }
        if (!p.Next() || !p.IsPunct((byte)',') || !p.Next() || !IsPlainLiteral(p))
        {
            return "a value Replica cannot read";
        }
        var other = new List<string>();
        foreach (var part in System.Text.Encoding.UTF8.GetString(p.Span[1..^1]).Replace("''", "'", StringComparison.Ordinal).Split(','))
        {
            var name = part.Trim();
            name = name.Length >= 2 && name[0] == '"' && name[^1] == '"' ? name[1..^1].Replace("\"\"", "\"", StringComparison.Ordinal) : name.ToLowerInvariant();
            if (name.Length > 0 && !IsPublicPathSchema(name))
            {
                other.Add(name);
            }
        }
        return other.Count > 0 ? string.Join(", ", other) : null;
    }

    static bool IsPublicPathSchema(string name) => name is "public" or "pg_catalog" or "pg_temp" or "$user";
}

using System.Globalization;
using System.Text;
using Replica.Lexing;

namespace Replica.Pipeline;

/// <summary>
/// How a dump file's subset compares a foreign key's values, which it knows only as text, where the database compares
/// them with the column's equality: numeric 1.00 equals 1, citext and case-insensitive collations ignore case (MySQL's
/// *_ci, the default, accents and trailing blanks too), char(n) ignores trailing blanks. Both sides of a link are
/// folded alike into a text at least as coarse as the database's equality: every parent whose folded key matches a kept
/// child's is kept (a superset of what the database would match), so no kept row loses its parent. Identities (and so
/// percent and limit) stay the values as written; only the lookups of a link's rows fold.
/// </summary>
[Flags]
internal enum KeyFolding
{
    None = 0,
    /// <summary>A number in canonical form: no leading or trailing zeros, no exponent, no sign on zero.</summary>
    Number = 1,
    /// <summary>Trailing blanks ignored (char(n), MySQL's PAD SPACE collations).</summary>
    TrailingBlanks = 2,
    /// <summary>Case ignored.</summary>
    Case = 4,
    /// <summary>Accents of Latin letters ignored (and ß as ss).</summary>
    Accents = 8,
}

internal static class KeyFold
{
    /// <summary>How a column of a dump's CREATE TABLE compares (<paramref name="column"/> null: not a column of the dump, e.g. a link's condition).</summary>
    public static KeyFolding Of(ColumnDefinition? column, SqlDialect dialect)
    {
        if (column is null)
        {
            return KeyFolding.None;
        }
        var type = Head(column.TypeName);
        if (type is "numeric" or "decimal" or "dec" or "fixed")
        {
            return KeyFolding.Number;
        }
        if (dialect == SqlDialect.MySql)
        {
            if (type is not ("char" or "varchar" or "tinytext" or "text" or "mediumtext" or "longtext" or "enum" or "set"
                or "character" or "character varying" or "national char" or "national varchar" or "nchar" or "nvarchar"))
            {
                return KeyFolding.None;
            }
            // Every collation but the binary ones ignores case (the server's default is case-insensitive too); the
            // accent-sensitive ones among them are folded as well: coarser is safe.
            var collation = column.Collation ?? "";
            var exact = collation == "binary" || collation.EndsWith("_bin", StringComparison.Ordinal) || collation.Contains("_cs", StringComparison.Ordinal);
            return KeyFolding.TrailingBlanks | (exact ? KeyFolding.None : KeyFolding.Case | KeyFolding.Accents);
        }
        var folding = type is "character" or "char" or "bpchar" ? KeyFolding.TrailingBlanks : KeyFolding.None;
        if (type == "citext")
        {
            folding |= KeyFolding.Case;
        }
        // A collation of the dump's own (CREATE COLLATION) may be nondeterministic: case- or accent-insensitive.
        if (column.Collation is { } named && !named.StartsWith("pg_catalog.", StringComparison.Ordinal) && named is not ("C" or "POSIX" or "default"))
        {
            folding |= KeyFolding.Case | KeyFolding.Accents | KeyFolding.TrailingBlanks;
        }
        return folding;
    }

    /// <summary>Whether two columns' values of the same value can be written differently in ways no folding undoes (floats of two widths).</summary>
    public static bool Comparable(ColumnDefinition? a, ColumnDefinition? b)
    {
        if (a is null || b is null)
        {
            return true;
        }
        var x = Head(a.TypeName);
        var y = Head(b.TypeName);
        return x == y || !(IsFloat(x) || IsFloat(y));
    }

    static bool IsFloat(string type) => type is "real" or "double precision" or "float" or "float4" or "float8" or "double";

    /// <summary>A type's name without its schema, modifiers and array brackets.</summary>
    static string Head(string type)
    {
        var bare = type.StartsWith("pg_catalog.", StringComparison.Ordinal) ? type["pg_catalog.".Length..]
            : type.StartsWith("public.", StringComparison.Ordinal) ? type["public.".Length..] : type;
        var paren = bare.IndexOf('(', StringComparison.Ordinal);
        var head = (paren < 0 ? bare : bare[..paren]).Trim();
        return head.Replace("\"", "", StringComparison.Ordinal);
    }

    /// <summary>The value folded: values the database takes as equal fold to the same text.</summary>
    public static string Apply(string value, KeyFolding folding)
    {
        if (folding.HasFlag(KeyFolding.TrailingBlanks))
        {
            value = value.TrimEnd(' ');
        }
        if (folding.HasFlag(KeyFolding.Number))
        {
            value = Number(value);
        }
        if (folding.HasFlag(KeyFolding.Case) || folding.HasFlag(KeyFolding.Accents))
        {
            value = value.ToUpperInvariant().ToLowerInvariant();
        }
        if (folding.HasFlag(KeyFolding.Accents))
        {
            // Replica runs with invariant globalization (no Unicode normalization tables): the Latin letters with
            // accents, by a table of their own.
            var folded = new StringBuilder(value.Length);
            foreach (var c in value)
            {
                if (c == 'ß')
                {
                    folded.Append("ss");
                }
                else if (c is >= '\u00E0' and <= '\u017F' && s_baseLetters[c - '\u00E0'] is var b && b != '?')
                {
                    folded.Append(b);
                }
                else if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
                {
                    folded.Append(c);
                }
            }
            value = folded.ToString();
        }
        return value;
    }

    // The base letter of U+00E0..U+017F (lowercase letters with accents; '?': none, kept as it is), after case folding.
    static readonly string s_baseLetters =
        "aaaaaaaceeeeiiii" + "?nooooo?ouuuuy?y" // U+00E0..U+00FF (æ, ÷, þ kept)
        + "aaaaaaccccccccdd" + "ddeeeeeeeeeegggg" + "gggghhhhiiiiiiii" + "ii??jjkk?lllllll" // U+0100..U+013F
        + "lllnnnnnnn??oooo" + "oo??rrrrrrssssss" + "ssttttttuuuuuuuu" + "uuuuwwyyyzzzzzzs"; // U+0140..U+017F

    /// <summary>
    /// A decimal number's canonical text (-001.500 and -1.5e0: -1.5; -0.00: 0); anything else (NaN, Infinity, not a
    /// number) as it is.
    /// </summary>
    internal static string Number(string text)
    {
        var s = text.AsSpan().Trim();
        var negative = false;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        var exponent = 0L;
        var e = s.IndexOfAny('e', 'E');
        if (e >= 0)
        {
            if (!long.TryParse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent) || Math.Abs(exponent) > 100_000)
            {
                return text;
            }
            s = s[..e];
        }
        var digits = new StringBuilder(s.Length);
        var point = -1;
        foreach (var c in s)
        {
            if (c == '.' && point < 0)
            {
                point = digits.Length;
            }
            else if (c is >= '0' and <= '9')
            {
                digits.Append(c);
            }
            else
            {
                return text;
            }
        }
        if (digits.Length == 0)
        {
            return text;
        }
        // The value is 0.digits × 10^position.
        var position = (point < 0 ? digits.Length : point) + exponent;
        var lead = 0;
        while (lead < digits.Length && digits[lead] == '0')
        {
            lead++;
        }
        if (lead == digits.Length)
        {
            return "0";
        }
        var significant = digits.ToString(lead, digits.Length - lead).TrimEnd('0');
        position -= lead;
        var result = new StringBuilder(significant.Length + 8);
        if (negative)
        {
            result.Append('-');
        }
        if (position <= 0)
        {
            result.Append("0.").Append('0', (int)-position).Append(significant);
        }
        else if (position >= significant.Length)
        {
            result.Append(significant).Append('0', (int)(position - significant.Length));
        }
        else
        {
            result.Append(significant, 0, (int)position).Append('.').Append(significant, (int)position, significant.Length - (int)position);
        }
        return result.ToString();
    }
}

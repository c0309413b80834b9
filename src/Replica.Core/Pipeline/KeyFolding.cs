using System.Globalization;
using System.Text;
using Replica.Lexing;

namespace Replica.Pipeline;

/// <summary>
/// How a dump file's subset compares a foreign key's values, which it knows only as text, where the database compares
/// them with the column's equality: numeric 1.00 equals 1, float -0 equals 0, citext and case-insensitive collations
/// ignore case (MySQL's *_ci, the default, accents and trailing blanks too), char(n) ignores trailing blanks, interval
/// '1 day' equals '24:00:00', a date equals a timestamp at its midnight; a type the dump does not say how it compares (a
/// domain: CREATE DOMAIN email AS citext) folds every way. Both sides of a link are
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
    /// <summary>An interval as its length in microseconds, a month 30 days ('1 day' = '24:00:00', '1 mon' = '30 days').</summary>
    Interval = 16,
    /// <summary>A timestamp at midnight as its date (a date references a timestamp).</summary>
    Midnight = 32,
    /// <summary>A type the dump does not say how it compares (a domain, an extension's type): every folding, coarser is safe.</summary>
    Unknown = Number | TrailingBlanks | Case | Accents | Interval | Midnight,
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
        var folding = type switch
        {
            "character" or "char" or "bpchar" => KeyFolding.TrailingBlanks,
            // -0 = 0; pg_dump writes every other float exactly (extra_float_digits 3), one text per value.
            "real" or "double precision" or "float4" or "float8" or "float" => KeyFolding.Number,
            "interval" => KeyFolding.Interval,
            "date" or "timestamp" or "timestamp without time zone" => KeyFolding.Midnight,
            "citext" => KeyFolding.Case,
            // A domain (its CREATE DOMAIN may name citext, a nondeterministic collation or numeric) or another type of
            // the dump's own, or an extension's from another schema.
            _ when !s_exact.Contains(type) => KeyFolding.Unknown,
            _ => KeyFolding.None,
        };
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

    // Built-in types (format_type's names, as pg_dump writes them) whose equal values have one text in a dump.
    static readonly HashSet<string> s_exact = new(StringComparer.Ordinal)
    {
        "smallint", "integer", "bigint", "int", "int2", "int4", "int8", "text", "character varying", "varchar", "name", "uuid",
        "boolean", "bool", "bytea", "timestamp with time zone", "timestamptz", "time", "time without time zone",
        "time with time zone", "timetz", "inet", "cidr", "macaddr", "macaddr8", "jsonb", "money", "bit", "bit varying",
        "varbit", "oid",
    };

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
        if (folding.HasFlag(KeyFolding.Interval))
        {
            value = Interval(value);
        }
        if (folding.HasFlag(KeyFolding.Midnight))
        {
            value = Midnight(value);
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
    /// An interval as pg_dump writes it (IntervalStyle postgres: <c>-1 years +2 mons 3 days -04:05:06.5</c>) as its
    /// length in microseconds, a month 30 days and a day 24 hours, as interval_cmp_value compares them
    /// (https://www.postgresql.org/docs/current/datatype-datetime.html#DATATYPE-INTERVAL-OUTPUT); anything else as it is.
    /// </summary>
    internal static string Interval(string text)
    {
        const long MicrosecondsPerDay = 86_400_000_000;
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            return text;
        }
        Int128 total = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Contains(':', StringComparison.Ordinal))
            {
                if (Time(part) is not { } time)
                {
                    return text;
                }
                total += time;
                continue;
            }
            if (i + 1 == parts.Length || !long.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            {
                return text;
            }
            var daysPerUnit = parts[++i] switch
            {
                "year" or "years" => 360,
                "mon" or "mons" => 30,
                "day" or "days" => 1,
                _ => 0,
            };
            if (daysPerUnit == 0)
            {
                return text;
            }
            total += (Int128)n * daysPerUnit * MicrosecondsPerDay;
        }
        return total.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>[-+]H:MM:SS[.ffffff] in microseconds; null if it is not that.</summary>
    static Int128? Time(string part)
    {
        var negative = part[0] == '-';
        var s = part[0] is '-' or '+' ? part[1..] : part;
        var fields = s.Split(':');
        if (fields.Length != 3 || !long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minutes))
        {
            return null;
        }
        var point = fields[2].IndexOf('.', StringComparison.Ordinal);
        var whole = point < 0 ? fields[2] : fields[2][..point];
        var fraction = point < 0 ? "" : fields[2][(point + 1)..];
        if (!int.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || fraction.Length > 6
            || fraction.Length > 0 && !int.TryParse(fraction, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return null;
        }
        var micro = fraction.Length == 0 ? 0 : int.Parse(fraction.PadRight(6, '0'), CultureInfo.InvariantCulture);
        var value = ((Int128)hours * 3600 + minutes * 60 + seconds) * 1_000_000 + micro;
        return negative ? -value : value;
    }

    /// <summary>A timestamp at midnight (<c>2026-01-01 00:00:00</c>, BC too) as the date it starts, as a date = timestamp compares.</summary>
    internal static string Midnight(string text)
    {
        const string Zero = " 00:00:00";
        if (text.EndsWith(Zero, StringComparison.Ordinal))
        {
            return text[..^Zero.Length];
        }
        return text.EndsWith(Zero + " BC", StringComparison.Ordinal) ? text[..^(Zero.Length + 3)] + " BC" : text;
    }

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

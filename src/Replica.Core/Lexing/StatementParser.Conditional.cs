namespace Replica.Lexing;

/// <summary>
/// The MySQL or MariaDB server a restore talks to, as executable comments need it: <c>/*!NNNNN ... */</c> is code only
/// on a server of that version or later, <c>/*M!NNNNNN ... */</c> only on MariaDB of that version or later; on any
/// other server both are comments. https://dev.mysql.com/doc/refman/8.0/en/comments.html,
/// https://mariadb.com/kb/en/comment-syntax/
/// </summary>
/// <param name="Version">major * 10000 + minor * 100 + patch (10.11.19: 101119, 8.0.36: 80036).</param>
internal readonly record struct MySqlServer(bool MariaDb, int Version)
{
    /// <summary>From SELECT VERSION(): "10.11.19-MariaDB-0+deb12u1", "8.0.36".</summary>
    public static MySqlServer Parse(string version)
    {
        var parts = version.Split('.', 3);
        int Number(int i)
        {
            if (i >= parts.Length)
            {
                return 0;
            }
            var digits = 0;
            while (digits < parts[i].Length && char.IsAsciiDigit(parts[i][digits]))
            {
                digits++;
            }
            return digits == 0 ? 0 : int.Parse(parts[i].AsSpan(0, Math.Min(digits, 4)), System.Globalization.CultureInfo.InvariantCulture);
        }
        return new MySqlServer(version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase), (Number(0) * 10000) + (Number(1) * 100) + Number(2));
    }
}

// The restore guard's tokenizer reads every executable comment as code, the server only those its version runs: a
// dump could hide a word or a dot from the server (DROP /*M!999999 x */ DATABASE shop: the guard read x, the server
// dropped the database) or from the guard. So, before checking a MySQL statement, the guard blanks the executable
// comments the server skips (it skips them too: nothing changes for the server), and refuses one whose version the
// server could read otherwise (a version of other than 5 or 6 digits, 6 digits on MySQL, a comment opened inside one).
internal static partial class StatementParser
{
    /// <summary>
    /// Finds the executable comments of a MySQL statement that <paramref name="server"/> skips, and blanks them in
    /// <paramref name="blanked"/> (a copy of <paramref name="sql"/>, made only when there is one; spaces, line breaks
    /// kept). Returns the reason and offset of an executable comment the guard cannot read as the server does, or null.
    /// Strings are read with backslash escapes (the restore stops a dump that turns NO_BACKSLASH_ESCAPES on).
    /// </summary>
    public static string? BlankSkippedConditionals(ReadOnlySpan<byte> sql, MySqlServer server, ref byte[]? blanked, out int at)
    {
        at = 0;
        if (sql.IndexOf("/*"u8) < 0)
        {
            return null;
        }
        var inExecutable = false;
        var i = 0;
        while (i < sql.Length)
        {
            var b = sql[i];
            var next = i + 1 < sql.Length ? sql[i + 1] : (byte)0;
            if (b is (byte)'\'' or (byte)'"' or (byte)'`')
            {
                i = EndOfQuoted(sql, i);
            }
            else if (SqlTokenizer.StartsLineComment(sql, i))
            {
                var lf = sql[i..].IndexOf((byte)'\n');
                i = lf < 0 ? sql.Length : i + lf + 1;
            }
            else if (b == (byte)'*' && next == (byte)'/' && inExecutable)
            {
                inExecutable = false;
                i += 2;
            }
            else if (b == (byte)'/' && next == (byte)'*')
            {
                var start = i;
                var p = i + 2;
                var mariaOnly = p + 1 < sql.Length && sql[p] == (byte)'M' && sql[p + 1] == (byte)'!';
                if (mariaOnly)
                {
                    p++;
                }
                var close = sql[(i + 2)..].IndexOf("*/"u8);
                var end = close < 0 ? sql.Length : i + 2 + close + 2;
                if (p >= sql.Length || sql[p] != (byte)'!')
                {
                    i = end; // a plain comment
                    continue;
                }
                if (inExecutable)
                {
                    at = start;
                    return "an executable comment inside another, which the server may read otherwise than the restore's check";
                }
                p++;
                var digits = 0;
                while (p + digits < sql.Length && sql[p + digits] is >= (byte)'0' and <= (byte)'9')
                {
                    digits++;
                }
                if (mariaOnly && !server.MariaDb)
                {
                    digits = -1; // a plain comment to MySQL, whatever follows
                }
                else if (digits is not (0 or 5 or 6) || (digits == 6 && !server.MariaDb))
                {
                    at = start;
                    return $"an executable comment with a version of {digits} digits, which the server may read otherwise than the restore's check";
                }
                var runs = digits >= 0 && (digits == 0 || int.Parse(sql.Slice(p, digits), System.Globalization.CultureInfo.InvariantCulture) <= server.Version);
                if (runs)
                {
                    inExecutable = true;
                    i = p + digits;
                    continue;
                }
                if (blanked is null)
                {
                    blanked = sql.ToArray();
                }
                foreach (ref var c in blanked.AsSpan(start, end - start))
                {
                    if (c is not ((byte)'\n' or (byte)'\r'))
                    {
                        c = (byte)' ';
                    }
                }
                i = end;
            }
            else
            {
                i++;
            }
        }
        return null;
    }

    /// <summary>The offset after the quoted string or name that starts at <paramref name="i"/> (backslash escapes in strings, doubled quotes).</summary>
    static int EndOfQuoted(ReadOnlySpan<byte> sql, int i)
    {
        var quote = sql[i];
        var p = i + 1;
        while (p < sql.Length)
        {
            var c = sql[p];
            if (c == (byte)'\\' && quote != (byte)'`')
            {
                p += 2;
            }
            else if (c == quote)
            {
                if (p + 1 < sql.Length && sql[p + 1] == quote)
                {
                    p += 2;
                }
                else
                {
                    return p + 1;
                }
            }
            else
            {
                p++;
            }
        }
        return sql.Length;
    }

    /// <summary>
    /// What the restore runs after each SET of a MySQL dump, on the same line: it fails (the client stops there) when the
    /// session now has NO_BACKSLASH_ESCAPES or a client character set in which a backslash can be the second byte of a
    /// character (big5, cp932, gbk, gb18030, sjis). Either makes the client or the server split the following statements
    /// otherwise than the guard read them (the client follows the server's NO_BACKSLASH_ESCAPES flag; the server reads a
    /// query in the client character set): a string the guard read whole would end early, and what follows it run as
    /// a statement of its own. A dump can set either through a variable, where the guard cannot follow; the server's
    /// own session says. mysqldump sets neither (it writes SET NAMES utf8mb4, or the character set of the dump).
    /// https://dev.mysql.com/doc/refman/8.0/en/sql-mode.html#sqlmode_no_backslash_escapes,
    /// https://dev.mysql.com/doc/refman/8.0/en/charset-connection.html (impermissible client character sets)
    /// </summary>
    public const string MySqlSessionCheck =
        "SET @@SESSION.sql_mode = IF(FIND_IN_SET('NO_BACKSLASH_ESCAPES', @@SESSION.sql_mode) > 0 "
        + "OR @@SESSION.character_set_client IN (" + MySqlBackslashCharsets + "), "
        + "'REPLICA-REFUSES-NO_BACKSLASH_ESCAPES-AND-CLIENT-CHARSETS-BIG5-CP932-GBK-GB18030-SJIS', @@SESSION.sql_mode)";

    /// <summary>
    /// The client character sets in which a backslash (0x5C) can be the second byte of a character, as a SQL list: the
    /// restore's session check and the dump's check of SET NAMES / character_set_client (<see cref="IsMySqlBackslashCharset"/>) share it.
    /// </summary>
    public const string MySqlBackslashCharsets = "'big5', 'cp932', 'gbk', 'gb18030', 'sjis'";

    /// <summary>Whether a MySQL statement is a SET (of a session variable, NAMES, CHARACTER SET, sql_mode ...).</summary>
    public static bool IsMySqlSet(ReadOnlySpan<byte> sql)
    {
        var t = new SqlTokenizer(sql, mySql: true);
        return t.Next() && t.IsWord("set"u8);
    }
}

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
                    if (inExecutable)
                    {
                        // The mysql client ends a comment inside an executable comment at a later */ than the server
                        // (found by review: /*!50000 SELECT 1 /* */ ' */ */ hid the statements after it from the guard).
                        at = start;
                        return "a comment inside an executable comment, which the mysql client ends elsewhere than the server; mysqldump writes none";
                    }
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

    /// <summary>Why <see cref="FindMySqlClientReadsDifferently"/> refuses "--" before a byte other than a space.</summary>
    internal const string DashDashReason =
        "'--' before a byte other than a space or line break, which the mysql client may read as a comment where the restore's check does not; mysqldump writes none";

    /// <summary>Why <see cref="FindMySqlClientReadsDifferently"/> refuses a line of a comment that starts with '#' or '--'.</summary>
    internal const string LineSkippedInCommentReason =
        "a line inside a /* */ comment that starts with '#' or '--', which the mysql client drops whole, a */ on it included; mysqldump writes none";

    /// <summary>Why <see cref="FindMySqlClientReadsDifferently"/> refuses a backslash in a "..." string.</summary>
    internal const string DoubleQuotedBackslashReason =
        "a backslash in a \"...\" string, which under ANSI_QUOTES is a name without escapes and ends elsewhere; mysqldump writes strings in single quotes";

    /// <summary>
    /// The offset of the first place in a MySQL statement where the mysql client may split it otherwise than the guard
    /// read it, with the reason; -1 when none. Each was found by review, hiding the statements after it from the guard:
    /// "--" before a byte that is not a space (the client skips a line that starts with "--" as a comment, the guard
    /// reads "--'" as two minus signs and a quote), a line inside a /* */ comment that starts with '#' or '--' (the
    /// client drops it, a */ on it included), and a backslash inside "..." (the client reads "..." as a name without
    /// escapes once sql_mode has ANSI_QUOTES, where the guard reads an escaped quote). Strings, names and comments are
    /// skipped as the guard reads them; the content of executable comments is read as SQL, so the guard runs this on a
    /// statement before it blanks the executable comments the server skips (a comment inside one is refused there).
    /// </summary>
    public static int FindMySqlClientReadsDifferently(ReadOnlySpan<byte> sql, out string? reason)
    {
        reason = null;
        // Each refusal needs a '"', a "--" or a "/*": most of a dump's INSERTs have none, and the walk below is not
        // needed for them (the guard runs this on every statement of a restore).
        if (sql.IndexOf((byte)'"') < 0 && sql.IndexOf("--"u8) < 0 && sql.IndexOf("/*"u8) < 0)
        {
            return -1;
        }
        var i = 0;
        while (i < sql.Length)
        {
            var b = sql[i];
            var next = i + 1 < sql.Length ? sql[i + 1] : (byte)0;
            if (b is (byte)'\'' or (byte)'`')
            {
                i = EndOfQuoted(sql, i);
            }
            else if (b == (byte)'"')
            {
                var end = EndOfQuoted(sql, i);
                if (sql[i..end].Contains((byte)'\\'))
                {
                    reason = DoubleQuotedBackslashReason;
                    return i;
                }
                i = end;
            }
            else if (b == (byte)'-' && next == (byte)'-')
            {
                // The client's comment: "--" then a space, tab, line break, vertical tab or form feed (my_isspace).
                if (i + 2 < sql.Length && sql[i + 2] is not ((byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C))
                {
                    reason = DashDashReason;
                    return i;
                }
                var lf = sql[i..].IndexOf((byte)'\n');
                i = lf < 0 ? sql.Length : i + lf + 1;
            }
            else if (b == (byte)'#')
            {
                var lf = sql[i..].IndexOf((byte)'\n');
                i = lf < 0 ? sql.Length : i + lf + 1;
            }
            else if (b == (byte)'/' && next == (byte)'*' && !IsExecutableCommentAt(sql, i))
            {
                var close = sql[(i + 2)..].IndexOf("*/"u8);
                var end = close < 0 ? sql.Length : i + 2 + close + 2;
                // The client drops a whole line that starts with '#' or '--' before it reads comments: a */ on such a
                // line does not end the comment for it (found by review: "/* x\n--*/ SELECT 1;" then a string holding
                // "*/ DELETE ..." ran the DELETE).
                for (var p = i + 2; p < end; p++)
                {
                    var line = p + 1;
                    if (sql[p] == (byte)'\n' && line < sql.Length
                        && (sql[line] == (byte)'#' || (sql[line] == (byte)'-' && line + 1 < sql.Length && sql[line + 1] == (byte)'-')))
                    {
                        reason = LineSkippedInCommentReason;
                        return line;
                    }
                }
                i = end;
            }
            else
            {
                i++;
            }
        }
        return -1;
    }

    static bool IsExecutableCommentAt(ReadOnlySpan<byte> sql, int i)
    {
        var p = i + 2;
        if (p + 1 < sql.Length && sql[p] == (byte)'M')
        {
            p++;
        }
        return p < sql.Length && sql[p] == (byte)'!';
    }

    /// <summary>The offset after the quoted string or name that starts at <paramref name="i"/> (backslash escapes in strings, doubled quotes).</summary>
    static int EndOfQuoted(ReadOnlySpan<byte> sql, int i)
    {
        var quote = sql[i];
        var escapes = quote != (byte)'`';
        var p = i + 1;
        while (p < sql.Length)
        {
            // Straight to the next quote or backslash (vectorized): the walk passes over every string of a statement.
            var k = escapes ? sql[p..].IndexOfAny(quote, (byte)'\\') : sql[p..].IndexOf(quote);
            if (k < 0)
            {
                return sql.Length;
            }
            p += k;
            if (sql[p] == (byte)'\\')
            {
                p += 2;
            }
            else if (p + 1 < sql.Length && sql[p + 1] == quote)
            {
                p += 2;
            }
            else
            {
                return p + 1;
            }
        }
        return sql.Length;
    }

    /// <summary>
    /// What the restore runs before a MySQL dump and after each of its statements but INSERT and REPLACE, on the same line:
    /// it fails (the client stops there) when the session now has NO_BACKSLASH_ESCAPES, ANSI_QUOTES or a client character
    /// set in which a backslash can be the second byte of a character (big5, cp932, gbk, gb18030, sjis). Each makes the
    /// client or the server split the following statements otherwise than the guard read them (the client follows the
    /// server's NO_BACKSLASH_ESCAPES and ANSI_QUOTES flags: "x\" is then closed; the server reads a query in the client
    /// character set): a string the guard read whole would end early, and what follows it run as a statement of its
    /// own. A dump can set them through a variable, a SET inside a compound statement (BEGIN NOT ATOMIC ... END keeps
    /// the character set it sets), or the server's own default, where the guard cannot follow; the server's session
    /// says. mysqldump sets none (it writes SET NAMES utf8mb4, or the character set of the dump).
    /// https://dev.mysql.com/doc/refman/8.0/en/sql-mode.html#sqlmode_no_backslash_escapes,
    /// https://dev.mysql.com/doc/refman/8.0/en/charset-connection.html (impermissible client character sets)
    /// </summary>
    public const string MySqlSessionCheck =
        "SET @@SESSION.sql_mode = IF(FIND_IN_SET('NO_BACKSLASH_ESCAPES', @@SESSION.sql_mode) > 0 "
        + "OR FIND_IN_SET('ANSI_QUOTES', @@SESSION.sql_mode) > 0 "
        + "OR @@SESSION.character_set_client IN (" + MySqlBackslashCharsets + "), "
        + "'REPLICA-REFUSES-NO_BACKSLASH_ESCAPES-ANSI_QUOTES-AND-CLIENT-CHARSETS-BIG5-CP932-GBK-GB18030-SJIS', @@SESSION.sql_mode)";

    /// <summary>
    /// The client character sets in which a backslash (0x5C) can be the second byte of a character, as a SQL list: the
    /// restore's session check and the dump's check of SET NAMES / character_set_client (<see cref="IsMySqlBackslashCharset"/>) share it.
    /// </summary>
    public const string MySqlBackslashCharsets = "'big5', 'cp932', 'gbk', 'gb18030', 'sjis'";

    /// <summary>Whether a MySQL statement is an INSERT or REPLACE (the rows of a dump).</summary>
    public static bool IsMySqlInsert(ReadOnlySpan<byte> sql)
    {
        var t = new SqlTokenizer(sql, mySql: true);
        return t.Next() && (t.IsWord("insert"u8) || t.IsWord("replace"u8));
    }
}

using System.Text;

namespace Replica.Lexing;

// What a dump may not do to a MySQL session, refused when the dump is read (the restore checks the server's session
// again, MySqlSessionCheck): turn on NO_BACKSLASH_ESCAPES, or switch the client character set to one in which a
// backslash can be the second byte of a character. Either makes the server end a string where Replica's lexer does not:
// 'x\' is a whole string under NO_BACKSLASH_ESCAPES, and in sjis 0x83 0x5C is one character, not a byte and an escaping
// backslash. A dump can then hide a real value where the rewriter sees a comment. mysqldump writes neither: it sets
// SQL_MODE='NO_AUTO_VALUE_ON_ZERO', a routine's own sql_mode and SET NAMES / character_set_client with the dump's
// character set (utf8mb4 by default), and restores the values it saved in user variables (@OLD_SQL_MODE,
// @saved_cs_client). https://dev.mysql.com/doc/refman/8.0/en/sql-mode.html#sqlmode_no_backslash_escapes,
// https://dev.mysql.com/doc/refman/8.0/en/charset-connection.html#charset-connection-impermissible-client-charset,
// https://dev.mysql.com/doc/refman/8.0/en/set-variable.html
internal static partial class StatementParser
{
    /// <summary>Why a MySQL dump's sql_mode is refused.</summary>
    public const string NoBackslashEscapesReason =
        "a SET of sql_mode with NO_BACKSLASH_ESCAPES, under which the server ends a string at a backslash that Replica reads as an escape (mysqldump never writes it)";

    /// <summary>Why a MySQL dump's sql_mode with ANSI_QUOTES is refused.</summary>
    public const string AnsiQuotesReason =
        "a SET of sql_mode with ANSI_QUOTES (or a mode that has it: ANSI, DB2, MAXDB, MSSQL, ORACLE, POSTGRESQL), under which \"...\" is a name without escapes where Replica reads a string (mysqldump sets it only for a trigger or routine created under it)";

    /// <summary>Whether a sql_mode value turns ANSI_QUOTES on, itself or through a combination mode.</summary>
    static bool SetsAnsiQuotes(ReadOnlySpan<byte> value) =>
        ContainsIgnoreCase(value, "ansi"u8) || ContainsIgnoreCase(value, "db2"u8) || ContainsIgnoreCase(value, "maxdb"u8)
        || ContainsIgnoreCase(value, "mssql"u8) || ContainsIgnoreCase(value, "oracle"u8) || ContainsIgnoreCase(value, "postgresql"u8);

    /// <summary>Why a MySQL dump's sql_mode or client character set from an expression is refused.</summary>
    public const string UnclearMySqlSessionReason =
        "a SET of sql_mode or the client character set to an expression, a number or a variable the dump gave another value, which Replica cannot follow "
        + "(mysqldump gives them as names, and restores them from the variables it saved them in)";

    /// <summary>Why a MySQL dump's sql_mode or client character set from the server's defaults is refused.</summary>
    public const string ServerDefaultSessionReason =
        "a SET of sql_mode or the client character set to DEFAULT or to a server setting (@@GLOBAL..., @@character_set_server), a value the dump does not show "
        + "and the server's may be sjis or have ANSI_QUOTES (mysqldump restores them only from the session values it saved)";

    /// <summary>Why a MySQL client character set is refused.</summary>
    public static string BackslashCharsetReason(string charset) =>
        $"a SET of the client character set to {charset}, in which a backslash byte can be the second byte of a character ({MySqlBackslashCharsets.Replace("'", "", StringComparison.Ordinal)}), "
        + "so the server would end strings elsewhere than Replica reads them (mysqldump writes utf8mb4 or the dump's own character set)";

    /// <summary>Whether <paramref name="charset"/> is one of <see cref="MySqlBackslashCharsets"/> (any case).</summary>
    public static bool IsMySqlBackslashCharset(string charset) =>
        charset.Length > 0 && MySqlBackslashCharsets.Contains("'" + charset.ToLowerInvariant() + "'", StringComparison.Ordinal);

    /// <summary>
    /// Checks a MySQL statement for what it does to the session (see above). <paramref name="tainted"/>: the user variables
    /// the dump gave a value other than a saved session value or a safe name, which a SET may not restore sql_mode or the
    /// client character set from; updated here: a SET assigns them (SET @OLD_SQL_MODE=@@SQL_MODE is fine), any other
    /// statement that names one (SELECT ... INTO @v, a SET in a trigger's body) or an @v := anywhere taints it. A variable
    /// the dump never assigned is NULL on restore, which neither sql_mode nor a character set takes (the server refuses
    /// it). Returns the reason to refuse and its offset, or null.
    /// </summary>
    public static string? FindUnsafeMySqlSession(ReadOnlySpan<byte> sql, HashSet<string> tainted, out int at)
    {
        at = 0;
        var t = new SqlTokenizer(sql, mySql: true);
        if (!t.Next())
        {
            return null;
        }
        if (t.IsWord("insert"u8) || t.IsWord("replace"u8))
        {
            TaintMySqlVariables(sql, tainted, everyUse: false);
            return null;
        }
        // Only a SET statement of its own clears a variable: a body's SET may run in any order with what else taints it.
        // An executable comment no server runs may come first (mariadb-dump's /*M!999999\- enable the sandbox mode */).
        var isSet = t.IsWord("set"u8) || StartsWithSetOnEveryServer(sql);
        TaintMySqlVariables(sql, tainted, everyUse: !isSet);
        // Every SET, not only one that starts the statement: an executable comment the server skips may come first
        // (mariadb-dump's /*M!999999\- enable the sandbox mode */ does), and a routine's or trigger's body may hold one.
        // CHARACTER SET x and a SET('a', 'b') column type are not statements, nor is the SET of an UPDATE, INSERT,
        // REPLACE or LOAD DATA, which names columns (UPDATE t SET names = 'x' in mariadb-dump's own output of a
        // procedure was refused as SET NAMES).
        var previousCharacter = false;
        var columnSet = false;
        do
        {
            if (t.IsWord("set"u8) && !previousCharacter)
            {
                if (!t.Next())
                {
                    return null;
                }
                if (t.IsPunct((byte)'(') || columnSet)
                {
                    columnSet = false;
                    continue;
                }
                if (FindUnsafeSetAssignment(sql, ref t, tainted, isSet, out at) is { } reason)
                {
                    return reason;
                }
            }
            if (t.IsWord("update"u8) || t.IsWord("insert"u8) || t.IsWord("replace"u8) || t.IsWord("load"u8))
            {
                columnSet = true;
            }
            else if (StartsBodyStatement(ref t))
            {
                columnSet = false;
            }
            previousCharacter = t.IsWord("character"u8);
        }
        while (t.Next());
        return null;
    }

    /// <summary>
    /// Whether a statement of a trigger's, routine's or event's body may start after this token: ';', BEGIN, THEN, ELSE,
    /// DO, LOOP, REPEAT, and the ROW of FOR EACH ROW (a BEFORE UPDATE trigger's body follows it). A SET after one of them
    /// is checked, not taken for the column SET of an UPDATE before it (more of them only means more SETs checked).
    /// </summary>
    static bool StartsBodyStatement(ref SqlTokenizer t) =>
        t.IsPunct((byte)';') || t.IsWord("begin"u8) || t.IsWord("then"u8) || t.IsWord("else"u8) || t.IsWord("do"u8)
        || t.IsWord("loop"u8) || t.IsWord("repeat"u8) || t.IsWord("row"u8);

    /// <summary>A MySQL or MariaDB server of every version the dump can meet (executable comments of 99.99.99 run on none).</summary>
    static readonly MySqlServer s_everyServer = new(MariaDb: true, Version: 999998);

    /// <summary>Whether the statement is a SET once the executable comments no server runs are left out.</summary>
    static bool StartsWithSetOnEveryServer(ReadOnlySpan<byte> sql)
    {
        byte[]? blanked = null;
        BlankSkippedConditionals(sql, s_everyServer, ref blanked, out _);
        if (blanked is null)
        {
            return false;
        }
        var t = new SqlTokenizer(blanked, mySql: true);
        return t.Next() && t.IsWord("set"u8);
    }

    /// <summary>Checks the assignments of a SET, from the token after SET; leaves the tokenizer after the last value.</summary>
    static string? FindUnsafeSetAssignment(ReadOnlySpan<byte> sql, ref SqlTokenizer t, HashSet<string> tainted, bool mayClear, out int at)
    {
        while (true)
        {
            at = t.Start;
            // [GLOBAL | SESSION | LOCAL | PERSIST | PERSIST_ONLY] name, @@[scope.]name, @user, NAMES, CHARACTER SET, CHARSET
            if ((t.IsWord("global"u8) || t.IsWord("session"u8) || t.IsWord("local"u8) || t.IsWord("persist"u8) || t.IsWord("persist_only"u8)) && !t.Next())
            {
                return null;
            }
            string? user = null;
            string? variable = null;
            var names = false;
            if (t.IsOther((byte)'@'))
            {
                var atEnd = t.End;
                if (!t.Next())
                {
                    return null;
                }
                if (t.IsOther((byte)'@') && t.Start == atEnd)
                {
                    if (!t.Next())
                    {
                        return null;
                    }
                    if ((t.IsWord("global"u8) || t.IsWord("session"u8) || t.IsWord("local"u8) || t.IsWord("persist"u8) || t.IsWord("persist_only"u8))
                        && t.Next() && t.IsPunct((byte)'.'))
                    {
                        t.Next();
                    }
                    variable = t.IsIdentifier ? t.IdentifierName() : "";
                }
                else
                {
                    user = VariableName(ref t);
                }
            }
            else if (t.IsWord("names"u8) || t.IsWord("charset"u8))
            {
                names = true;
            }
            else if (t.IsWord("character"u8))
            {
                names = true;
                t.Next(); // SET
            }
            else if (t.IsIdentifier)
            {
                variable = t.IdentifierName();
            }
            if (!t.Next())
            {
                return null;
            }
            if (!names && t.IsOther((byte)':'))
            {
                t.Next();
            }
            if (!names && t.IsOther((byte)'='))
            {
                t.Next();
            }
            // The value: up to a ',' outside parentheses.
            var valueStart = t.Start;
            var tokens = 0;
            var depth = 0;
            var firstKind = t.Kind;
            var first = t.Kind == TokenKind.End ? default : t.Span;
            var valueAt = t.Start;
            string? valueVariable = null;
            var sessionValue = false;
            // @@sql_mode or @@character_set_client of this session (no GLOBAL.): a value the dump's checks followed.
            var checkedSessionValue = false;
            var ended = false;
            do
            {
                if (t.Kind == TokenKind.End || (depth == 0 && (t.IsPunct((byte)',') || t.IsPunct((byte)';'))))
                {
                    ended = t.Kind == TokenKind.End || t.IsPunct((byte)';');
                    break;
                }
                if (names && tokens == 1 && t.IsWord("collate"u8))
                {
                    t.Next(); // SET NAMES x COLLATE y: the collation is not the character set
                    t.Next();
                    continue;
                }
                if (tokens == 0 && t.IsOther((byte)'@'))
                {
                    var atEnd = t.End;
                    t.Next();
                    if (t.IsOther((byte)'@') && t.Start == atEnd)
                    {
                        sessionValue = true; // @@sql_mode, @@session.character_set_client ...
                        var parts = 0;
                        string? scope = null;
                        string? name = null;
                        while (t.Next() && (t.IsIdentifier || t.IsPunct((byte)'.')))
                        {
                            if (t.IsIdentifier)
                            {
                                parts++;
                                scope = name;
                                name = t.IdentifierName();
                            }
                        }
                        checkedSessionValue = parts <= 2 && IsCheckedSessionSetting(name)
                            && (parts == 1 || scope!.Equals("session", StringComparison.OrdinalIgnoreCase) || scope.Equals("local", StringComparison.OrdinalIgnoreCase));
                        tokens++;
                        continue;
                    }
                    valueVariable = VariableName(ref t);
                    tokens++;
                    t.Next();
                    continue;
                }
                depth += t.IsPunct((byte)'(') ? 1 : t.IsPunct((byte)')') ? -1 : 0;
                tokens++;
                t.Next();
            }
            while (true);
            var value = sql[valueStart..Math.Max(valueStart, t.Kind == TokenKind.End ? sql.Length : t.Start)];
            var single = tokens == 1 && valueVariable is null && !sessionValue;
            var literal = single && firstKind is TokenKind.Word or TokenKind.EString or TokenKind.QuotedIdentifier ? Literal(first, firstKind) : null;
            if (user is not null)
            {
                // SET @v = @@sql_mode or a safe name: a later SET may restore it. Not @@GLOBAL.sql_mode, nor a setting
                // the dump may have changed unchecked (@@character_set_results).
                if ((checkedSessionValue && tokens == 1) || (literal is not null && SafeLiteral(literal)))
                {
                    if (mayClear)
                    {
                        tainted.Remove(user);
                    }
                }
                else
                {
                    tainted.Add(user);
                }
            }
            else if (names || IsCheckedSessionSetting(variable))
            {
                var isMode = !names && variable!.Equals("sql_mode", StringComparison.OrdinalIgnoreCase);
                if (value.Contains((byte)'\\'))
                {
                    // The server drops the backslash of an unknown escape ('NO_BACKSLASH_ESCAPE\S', 'sj\is'), which the
                    // comparisons below would not see (found by review); mysqldump writes these values without one.
                    at = valueAt;
                    return UnclearMySqlSessionReason;
                }
                if (isMode && ContainsIgnoreCase(value, "no_backslash_escapes"u8))
                {
                    at = valueAt;
                    return NoBackslashEscapesReason;
                }
                if (isMode && SetsAnsiQuotes(value))
                {
                    at = valueAt;
                    return AnsiQuotesReason;
                }
                if ((firstKind == TokenKind.Word && literal is not null && literal.Equals("default", StringComparison.OrdinalIgnoreCase))
                    || (sessionValue && !checkedSessionValue && tokens == 1))
                {
                    // SET NAMES DEFAULT, sql_mode = @@GLOBAL.sql_mode: the server's default, which the dump does not show
                    // (found by review; SET NAMES DEFAULT gave sjis on a server set up so).
                    at = valueAt;
                    return ServerDefaultSessionReason;
                }
                if (literal is not null)
                {
                    if (!isMode && IsMySqlBackslashCharset(literal))
                    {
                        at = valueAt;
                        return BackslashCharsetReason(literal.ToLowerInvariant());
                    }
                }
                else if (tokens != 1 || !(checkedSessionValue || (valueVariable is not null && !tainted.Contains(valueVariable))))
                {
                    at = valueAt;
                    return UnclearMySqlSessionReason;
                }
            }
            if (ended || !t.Next())
            {
                return null;
            }
        }
    }

    /// <summary>The session settings whose every change the dump's check follows: sql_mode and character_set_client.</summary>
    static bool IsCheckedSessionSetting(string? name) =>
        name is not null && (name.Equals("sql_mode", StringComparison.OrdinalIgnoreCase) || name.Equals("character_set_client", StringComparison.OrdinalIgnoreCase));

    /// <summary>A name or string value as text: sjis, 'sjis', `sjis`, "NO_AUTO_VALUE_ON_ZERO" (no escapes in what is checked).</summary>
    static string Literal(ReadOnlySpan<byte> token, TokenKind kind) =>
        kind == TokenKind.Word ? Encoding.UTF8.GetString(token) : Encoding.UTF8.GetString(token[1..^1]);

    /// <summary>A value that may sit in a variable a SET restores sql_mode or the client character set from.</summary>
    static bool SafeLiteral(string value) =>
        !value.Contains("no_backslash_escapes", StringComparison.OrdinalIgnoreCase) && !SetsAnsiQuotes(System.Text.Encoding.UTF8.GetBytes(value))
        && !IsMySqlBackslashCharset(value) && !value.Contains('\\', StringComparison.Ordinal);

    /// <summary>The user variable's name after '@': a word, `name`, 'name' or "name" (names are compared without case).</summary>
    static string VariableName(ref SqlTokenizer t) =>
        t.Kind is TokenKind.Word or TokenKind.QuotedIdentifier or TokenKind.EString ? Literal(t.Span, t.Kind).ToLowerInvariant() : "";

    static bool ContainsIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerCase)
    {
        for (var i = 0; i + lowerCase.Length <= text.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(text.Slice(i, lowerCase.Length), lowerCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Taints the user variables the statement may write: with <paramref name="everyUse"/> every @v it names (SELECT
    /// ... INTO @v, a SET inside a trigger's or routine's body), else those it assigns with :=. An INSERT is only
    /// tokenized when it holds ":=" (mysqldump's never do).
    /// </summary>
    static void TaintMySqlVariables(ReadOnlySpan<byte> sql, HashSet<string> tainted, bool everyUse)
    {
        if ((everyUse ? sql.IndexOf((byte)'@') : sql.IndexOf(":="u8)) < 0)
        {
            return;
        }
        var t = new SqlTokenizer(sql, mySql: true);
        var afterAt = false;
        var previousAtEnd = -1;
        while (t.Next())
        {
            if (t.IsOther((byte)'@'))
            {
                // @@name is a system variable: the second '@' starts no user variable.
                afterAt = t.Start != previousAtEnd;
                previousAtEnd = t.End;
                continue;
            }
            if (afterAt && t.Start == previousAtEnd)
            {
                var name = VariableName(ref t);
                if (everyUse || (t.Next() && t.IsOther((byte)':') && t.End is var colonEnd && t.Next() && t.IsOther((byte)'=') && t.Start == colonEnd))
                {
                    tainted.Add(name);
                }
            }
            afterAt = false;
        }
    }
}

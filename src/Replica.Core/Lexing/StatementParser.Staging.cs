namespace Replica.Lexing;

/// <summary>
/// The databases a MySQL restore must not name: the destination, and the <c>&lt;db&gt;_replica_...</c> staging and
/// trash databases of it (<see cref="Destinations.MysqlDestination"/>). Names compare ignoring ASCII case (a server with
/// lower_case_table_names set does, and refusing the other spelling costs nothing).
/// </summary>
internal sealed class StagedNames
{
    /// <param name="database">The destination database.</param>
    /// <param name="stagingPrefix">How its staging and trash databases begin; it starts with a prefix of <paramref name="database"/>.</param>
    public StagedNames(string database, string stagingPrefix)
    {
        Database = database;
        StagingPrefix = stagingPrefix;
        var common = 0;
        while (common < database.Length && common < stagingPrefix.Length && database[common] == stagingPrefix[common])
        {
            common++;
        }
        Needle = System.Text.Encoding.UTF8.GetBytes(database[..Math.Max(common, 1)]);
    }

    public string Database { get; }

    public string StagingPrefix { get; }

    /// <summary>What every name above starts with, in UTF-8: a statement without it names none of them.</summary>
    public byte[] Needle { get; }

    /// <summary>Names no database (where only an object's name is read).</summary>
    public static StagedNames None { get; } = new("\u0000", "\u0000_replica_");

    public bool Matches(string name) =>
        string.Equals(name, Database, StringComparison.OrdinalIgnoreCase) || name.StartsWith(StagingPrefix, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// A definition that <see cref="StatementParser.FindStagingEscape"/> passed: VIEW, TRIGGER, FUNCTION, PROCEDURE or
/// PACKAGE, its name, a trigger's table, and whether its body names the destination (or one of its staging databases).
/// </summary>
internal readonly record struct StagedDefinition(string Kind, string Name, string? Table, bool NamesDestination);

// A MySQL restore runs the dump in a staging database that takes the destination's place only at the end, so that a
// failed restore changes nothing (MysqlDestination). The staging database confines unqualified names only: a statement
// that names the destination (INSERT INTO shop.t, DELETE FROM `shop`.t, CALL shop.p()) changes it directly, at once, also
// in a restore that then fails (tested: a failed restore had deleted the destination's rows). Nor does the guard see the
// SQL that a prepared statement builds from a string or that a procedure or event runs. mysqldump of one database
// writes none of these at the top level: it never qualifies a name with its database, writes no CALL, PREPARE or
// EXECUTE, and writes events only with --events (which the restore could not keep: events stay in the staging database).
// https://dev.mysql.com/doc/refman/8.0/en/identifier-qualifiers.html (a qualifier may stand apart: shop . t),
// https://dev.mysql.com/doc/refman/8.0/en/sql-prepared-statements.html, https://mariadb.com/kb/en/execute-immediate/,
// https://mariadb.com/kb/en/binlog/
// Refused: CALL, PREPARE, EXECUTE (and MariaDB's EXECUTE IMMEDIATE), BINLOG, CREATE EVENT, also behind SET STATEMENT ...
// FOR; and a name qualified with the destination or one of its staging databases, anywhere in a statement but the body
// of a definition. A view's, trigger's or routine's body is kept, not run, when it is created (a routine of the
// database may name its own database, and mysqldump writes it as it was written): there only the definition's own name,
// and a trigger's table, are checked. Such a body runs later, though: a trigger when a row of its table is written, a
// function in an expression (a trigger's, a view's). mysqldump writes a table's triggers after its rows, and routines
// after every table, so nothing of its own runs them during the restore; RestoreGuard refuses what could, once a body
// that names the destination was defined (FindCodeRun).
internal static partial class StatementParser
{
    /// <summary>
    /// Why a MySQL statement would reach past the staging database (see above), or null. <paramref name="at"/> is the
    /// offset of the word or name that decided.
    /// </summary>
    /// <param name="definition">The definition the statement makes (Kind null for any other statement).</param>
    public static string? FindStagingEscape(ReadOnlySpan<byte> sql, StagedNames names, out int at, out StagedDefinition definition)
    {
        var t = new SqlTokenizer(sql, mySql: true);
        at = 0;
        definition = default;
        if (!t.Next())
        {
            return null;
        }
        if (t.Kind != TokenKind.Word)
        {
            return FindQualifiedName(sql, names, out at); // (SELECT shop.f())
        }
        at = t.Start;
        if (t.IsWord("set"u8) && !AfterSetStatementFor(ref t, ref at))
        {
            return FindQualifiedName(sql, names, out at);
        }
        if (t.IsWord("call"u8))
        {
            return "CALL runs a stored procedure, whose statements the restore cannot check";
        }
        if (t.IsWord("prepare"u8) || t.IsWord("execute"u8))
        {
            return $"{Upper(t.Span)} runs SQL built from a string, which the restore cannot check";
        }
        if (t.IsWord("binlog"u8))
        {
            return "BINLOG replays binary log events, which name their own databases";
        }
        if (t.IsWord("create"u8) && DefinitionKind(ref t) is { } kind)
        {
            if (kind == "EVENT")
            {
                return "CREATE EVENT: an event runs on its own schedule (SQL built from strings included), in the staging database during the restore, and is not restored";
            }
            if (FindQualifiedNameInDefinitionHead(ref t, kind, names, out at, out var name, out var table) is { } head)
            {
                return head;
            }
            // The head passed, so a name qualified with the destination is in the body.
            definition = new StagedDefinition(kind, name, table, FindQualifiedName(sql, names, out _) is not null);
            return null;
        }
        return FindQualifiedName(sql, names, out at);
    }

    /// <summary>MariaDB's SET STATEMENT var = value [, ...] FOR statement: moves to the statement after FOR (false: not this form).</summary>
    static bool AfterSetStatementFor(ref SqlTokenizer t, ref int at)
    {
        var u = t;
        if (!u.Next() || !u.IsWord("statement"u8))
        {
            return false;
        }
        while (NextOutsideParentheses(ref u))
        {
            if (u.IsWord("for"u8))
            {
                if (!u.Next() || u.Kind != TokenKind.Word)
                {
                    return false;
                }
                t = u;
                at = t.Start;
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// After CREATE: VIEW, TRIGGER, FUNCTION, PROCEDURE, PACKAGE or EVENT when the statement defines one (past OR
    /// REPLACE, ALGORITHM, DEFINER, SQL SECURITY, AGGREGATE), with the tokenizer on that word; null for anything else.
    /// </summary>
    static string? DefinitionKind(ref SqlTokenizer t)
    {
        for (var i = 0; i < 24 && t.Next(); i++)
        {
            if (t.Kind != TokenKind.Word)
            {
                continue;
            }
            if (t.IsWord("view"u8) || t.IsWord("trigger"u8) || t.IsWord("function"u8) || t.IsWord("procedure"u8)
                || t.IsWord("package"u8) || t.IsWord("event"u8))
            {
                return Upper(t.Span);
            }
            if (!(t.IsWord("or"u8) || t.IsWord("replace"u8) || t.IsWord("algorithm"u8) || t.IsWord("definer"u8) || t.IsWord("sql"u8)
                || t.IsWord("security"u8) || t.IsWord("aggregate"u8) || t.IsWord("current_user"u8)
                || t.IsWord("undefined"u8) || t.IsWord("merge"u8) || t.IsWord("temptable"u8) || t.IsWord("invoker"u8)))
            {
                return null; // CREATE TABLE, INDEX, DATABASE ...; an unquoted definer's name reads as another word too
            }
        }
        return null;
    }

    /// <summary>
    /// The head of a definition (tokenizer on its kind): its name, and a trigger's table after ON. The body that follows
    /// is kept, not run, and may name the database it was written for.
    /// </summary>
    static string? FindQualifiedNameInDefinitionHead(ref SqlTokenizer t, string kind, StagedNames names, out int at, out string name, out string? table)
    {
        at = 0;
        name = "";
        table = null;
        if (!t.Next())
        {
            return null;
        }
        if (kind == "PACKAGE" && t.IsWord("body"u8) && !t.Next())
        {
            return null;
        }
        if (t.IsWord("if"u8))
        {
            t.Next(); // NOT
            t.Next(); // EXISTS
            t.Next();
        }
        var named = ObjectName(ref t, names, out at, out name);
        if (named is not null || kind != "TRIGGER")
        {
            return named;
        }
        // CREATE TRIGGER name {BEFORE | AFTER} {INSERT | UPDATE | DELETE} ON table
        for (var i = 0; i < 8 && t.Kind != TokenKind.End; i++, t.Next())
        {
            if (t.IsWord("on"u8))
            {
                if (!t.Next())
                {
                    return null;
                }
                var onTable = ObjectName(ref t, names, out at, out var tableName);
                table = tableName;
                return onTable;
            }
        }
        return null;
    }

    /// <summary>
    /// A name at the tokenizer, [qualifier .] name: the message when the qualifier names one of <paramref name="names"/>'
    /// databases (<paramref name="at"/> on it), else null with the object's own name (the last part). The tokenizer is
    /// left on the token after the name.
    /// </summary>
    static string? ObjectName(ref SqlTokenizer t, StagedNames names, out int at, out string name)
    {
        at = t.Start;
        name = "";
        if (!t.IsNameOrAnsiQuoted)
        {
            return null;
        }
        name = t.IdentifierName();
        if (!t.Next() || !IsQualifierDot(ref t))
        {
            return null;
        }
        if (names.Matches(name))
        {
            return QualifiedMessage(name, names);
        }
        if (t.Next() && t.IsNameOrAnsiQuoted)
        {
            name = t.IdentifierName();
            t.Next();
        }
        return null;
    }

    /// <summary>A name qualified with one of the databases, anywhere in the statement (comments and strings skipped).</summary>
    static string? FindQualifiedName(ReadOnlySpan<byte> sql, StagedNames names, out int at)
    {
        at = 0;
        if (!MayQualify(sql, names.Needle))
        {
            return null;
        }
        var t = new SqlTokenizer(sql, mySql: true);
        // The previous token, when it was an identifier that no '.' preceded (so a qualifier, not a table's or column's name).
        var qualifier = -1;
        var qualifierEnd = -1;
        var afterDot = false;
        // A number right before a word: MySQL names may start with digits (2024db), which the tokenizer reads as two tokens.
        var number = -1;
        var numberEnd = -1;
        while (t.Next())
        {
            if (IsQualifierDot(ref t))
            {
                if (qualifier >= 0)
                {
                    string name;
                    if (qualifier < qualifierEnd && sql[qualifier] is >= (byte)'0' and <= (byte)'9')
                    {
                        name = System.Text.Encoding.UTF8.GetString(sql[qualifier..qualifierEnd]);
                    }
                    else
                    {
                        var u = new SqlTokenizer(sql, start: qualifier, mySql: true);
                        u.Next();
                        name = u.IdentifierName();
                    }
                    if (names.Matches(name))
                    {
                        at = qualifier;
                        return QualifiedMessage(name, names);
                    }
                }
                qualifier = -1;
                number = -1;
                afterDot = true;
                continue;
            }
            if (t.Kind == TokenKind.Word && number >= 0 && numberEnd == t.Start)
            {
                qualifier = number; // 2024 db -> the name 2024db
                qualifierEnd = t.End;
            }
            else
            {
                qualifier = t.IsNameOrAnsiQuoted && !afterDot ? t.Start : -1;
                qualifierEnd = t.End;
            }
            number = t.Kind == TokenKind.Number && t.Span[0] != (byte)'.' && !afterDot ? t.Start : -1;
            numberEnd = t.End;
            afterDot = false;
        }
        return null;
    }

    /// <summary>
    /// Whether a MySQL statement (not a definition) could run the body of a trigger or routine the dump defined, and
    /// how (for the message): a statement that evaluates expressions (SELECT, DO, UPDATE, DELETE, WITH, VALUES, TABLE,
    /// HANDLER, CREATE ... SELECT, a SET with a parenthesis), or that writes rows (INSERT, REPLACE) into a table
    /// <paramref name="hasTrigger"/> says has a trigger, or with anything but literals in them (a call, a SELECT).
    /// mysqldump's INSERTs of a table's rows, its LOCK/UNLOCK TABLES, ALTER TABLE ... KEYS and SETs of session variables
    /// run none. <paramref name="at"/> is the offset of the statement's first word.
    /// </summary>
    public static string? FindCodeRun(ReadOnlySpan<byte> sql, Func<string, bool> hasTrigger, out int at)
    {
        var t = new SqlTokenizer(sql, mySql: true);
        at = 0;
        if (!t.Next())
        {
            return null;
        }
        at = t.Start;
        if (t.Kind != TokenKind.Word)
        {
            return t.IsPunct((byte)'(') ? "a query in parentheses" : null;
        }
        if (t.IsWord("insert"u8) || t.IsWord("replace"u8))
        {
            var verb = Upper(t.Span);
            while (t.Next() && (t.IsWord("low_priority"u8) || t.IsWord("delayed"u8) || t.IsWord("high_priority"u8) || t.IsWord("ignore"u8) || t.IsWord("into"u8)))
            {
            }
            if (ObjectName(ref t, StagedNames.None, out _, out var table) is null && table.Length > 0 && hasTrigger(table))
            {
                return $"{verb} into `{table}`, a table with a trigger or a view,";
            }
            // VALUES of literals only: a word before a '(' may call a routine, and a SELECT may too.
            var word = false;
            for (; t.Kind != TokenKind.End; t.Next())
            {
                if (t.IsWord("select"u8) || (word && t.IsPunct((byte)'(')))
                {
                    return $"{verb} with an expression that may call a routine";
                }
                word = t.Kind is TokenKind.Word or TokenKind.QuotedIdentifier && !t.IsIntroducer && !t.IsWord("values"u8) && !t.IsWord("value"u8);
            }
            return null;
        }
        if (t.IsWord("select"u8) || t.IsWord("do"u8) || t.IsWord("update"u8) || t.IsWord("delete"u8) || t.IsWord("with"u8)
            || t.IsWord("values"u8) || t.IsWord("table"u8) || t.IsWord("handler"u8) || t.IsWord("analyze"u8) || t.IsWord("explain"u8))
        {
            return Upper(t.Span);
        }
        var first = t.IsWord("set"u8) ? "SET" : t.IsWord("create"u8) ? "CREATE" : null;
        if (first is null)
        {
            return null;
        }
        while (t.Next())
        {
            if ((first == "SET" && t.IsPunct((byte)'(')) || (first == "CREATE" && t.IsWord("select"u8)))
            {
                return first == "SET" ? "SET with an expression that may call a routine" : "CREATE ... SELECT";
            }
        }
        return null;
    }

    /// <summary>A '.' between names; the tokenizer reads ".5" in <c>shop.5t</c> as a number, which starts with the same dot.</summary>
    static bool IsQualifierDot(ref SqlTokenizer t) => t.IsPunct((byte)'.') || (t.Kind == TokenKind.Number && t.Span[0] == (byte)'.');

    static string QualifiedMessage(string name, StagedNames names) =>
        string.Equals(name, names.Database, StringComparison.OrdinalIgnoreCase)
            ? $"a name qualified with the destination database (`{name}`.; a table named like the database? restore into a database of another name)"
            : $"a name qualified with a staging database of the destination (`{name}`.)";

    /// <summary>
    /// A quick look before the tokenizer: whether <paramref name="needle"/> (ignoring ASCII case) stands in the
    /// statement where it could qualify a name: not after a letter, and followed by the rest of an identifier, a
    /// closing backtick or double quote and blanks, then a '.' or the start of a comment. Most statements (the rows of
    /// an INSERT) have no such place and are not tokenized.
    /// </summary>
    static bool MayQualify(ReadOnlySpan<byte> sql, ReadOnlySpan<byte> needle)
    {
        var first = needle[0];
        var other = IsAsciiLetter(first) ? (byte)(first ^ 0x20) : first;
        var from = 0;
        while (from <= sql.Length - needle.Length)
        {
            var k = sql[from..].IndexOfAny(first, other);
            if (k < 0)
            {
                return false;
            }
            var i = from + k;
            from = i + 1;
            // A digit before it may end the version of an executable comment (/*!40000shop.t*/), which the server
            // reads as a space.
            if (i + needle.Length > sql.Length || !EqualsIgnoreAsciiCase(sql.Slice(i, needle.Length), needle)
                || (i > 0 && UnitScanner.IsIdentifierByte(sql[i - 1]) && sql[i - 1] is not (>= (byte)'0' and <= (byte)'9')))
            {
                continue;
            }
            var j = i + needle.Length;
            while (j < sql.Length && UnitScanner.IsIdentifierByte(sql[j]))
            {
                j++;
            }
            if (j < sql.Length && sql[j] is (byte)'`' or (byte)'"')
            {
                j++; // the end of a `name` or, with ANSI_QUOTES, a "name"
            }
            while (j < sql.Length && sql[j] <= (byte)' ')
            {
                j++; // blanks (form feed and vertical tab too) and control bytes
            }
            if (j == sql.Length || sql[j] is (byte)'.' or (byte)'/' or (byte)'#' or (byte)'-' or (byte)'*')
            {
                return true;
            }
        }
        return false;
    }

    static bool IsAsciiLetter(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    static bool EqualsIgnoreAsciiCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i] && !(IsAsciiLetter(a[i]) && (a[i] ^ 0x20) == b[i]))
            {
                return false;
            }
        }
        return true;
    }
}

using System.Buffers;

namespace Replica.Lexing;

/// <summary>What a restore must know about a statement before it hands it to psql or the mysql client.</summary>
internal enum StatementClass : byte
{
    Other,
    /// <summary>BEGIN, START TRANSACTION, COMMIT, END: a restore in one transaction makes them redundant, and a COMMIT would end it early.</summary>
    TransactionControl,
    /// <summary>ROLLBACK, ABORT, PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED: they would undo or end the restore's transaction.</summary>
    TransactionEnd,
    /// <summary>COPY table [(columns)] FROM stdin, as pg_dump writes it: text-format rows follow.</summary>
    CopyFromStdin,
    /// <summary>COPY ... FROM stdin with options (CSV, BINARY, a DELIMITER ...), which pg_dump never writes.</summary>
    CopyWithOptions,
    /// <summary>COPY ... FROM/TO PROGRAM or a file name: the server runs a program or reads or writes its own files.</summary>
    CopyServerSide,
    /// <summary>
    /// COPY ... FROM STDOUT, which the server takes for FROM STDIN (gram.y: copy_file_name): psql sends the lines after it
    /// as rows, up to \. or the end of its input, where the lexer reads SQL.
    /// </summary>
    CopyFromStdout,
    /// <summary>MySQL: a statement that the mysql client takes as one of its own commands (system, source, tee, pager ...).</summary>
    ClientCommand,
    /// <summary>MySQL: LOAD DATA [LOCAL] INFILE or LOAD XML, which read a file of the client or the server.</summary>
    LoadFile,
    /// <summary>MySQL: SELECT ... INTO OUTFILE / DUMPFILE, which writes a file of the server (like COPY ... TO 'file').</summary>
    WriteFile,
    /// <summary>MySQL: XA START, END, PREPARE, COMMIT, ROLLBACK, RECOVER: a prepared XA transaction outlives the client's session.</summary>
    XaTransaction,
    /// <summary>
    /// PostgreSQL: DO or CALL, which run code at restore time whose statements the guard cannot see (a DO block's body is a
    /// string, a procedure's is in the catalog): a restore must roll them back with everything else (ParallelRestore).
    /// </summary>
    RunsCode,
}

/// <summary>A psql meta-command line.</summary>
internal enum MetaCommand : byte
{
    /// <summary>Anything pg_dump does not write (\! \o \i \copy \set \g ...), or a meta-command of an unexpected shape.</summary>
    Other,
    /// <summary>\restrict KEY (pg_dump 17.6, 16.10, 15.14 and later): psql refuses other meta-commands until \unrestrict.</summary>
    Restrict,
    Unrestrict,
    /// <summary>\connect DATABASE (or \c), with one plain or "quoted" database name, as pg_dump --create writes it.</summary>
    Connect,
    /// <summary>\encoding NAME with an ASCII-safe encoding (pg_dump writes \encoding SQL_ASCII before a \connect).</summary>
    Encoding,
}

// Statements and meta-commands that run something on the restoring machine or outside the restore's transaction. pg_dump and
// mysqldump write none of them except those allowed here; a restore refuses the others before they reach the client.
// psql meta-commands: https://www.postgresql.org/docs/current/app-psql.html#APP-PSQL-META-COMMANDS
// mysql client commands: https://dev.mysql.com/doc/refman/8.0/en/mysql-commands.html
internal static partial class StatementParser
{
    static readonly SearchValues<byte> s_letterOrDigit = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"u8);
    static readonly SearchValues<byte> s_encodingName = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"u8);
    static readonly SearchValues<byte> s_bareDatabase = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_."u8);

    /// <summary>Why a client encoding that <see cref="SetsUnsafeClientEncoding"/> finds is refused.</summary>
    internal const string UnsafeClientEncodingReason =
        "a client encoding whose characters can contain a backslash or quote byte (SJIS, BIG5, GBK ...), which pg_dump never writes";

    /// <summary>
    /// Why a statement of this class must never reach a client, or null: what the dump refuses to store and the restore
    /// refuses to run, in one list. <paramref name="decidingWord"/> starts at the word that decided (the <c>at</c> of
    /// <see cref="Classify"/>). (The restore refuses more: transaction ends, COPY forms pg_dump never writes, and
    /// statements that reach beyond the destination database, <see cref="FindReachBeyondDatabase"/>.)
    /// </summary>
    internal static string? RefusalReason(StatementClass kind, ReadOnlySpan<byte> decidingWord) => kind switch
    {
        StatementClass.CopyServerSide => "COPY from or to a program or a file of the server, which pg_dump never writes",
        StatementClass.CopyFromStdout => "COPY ... FROM STDOUT, which the server reads as FROM STDIN, so that the lines after it would be rows that Replica reads as SQL; pg_dump never writes it",
        StatementClass.ClientCommand => $"'{FirstWord(decidingWord)}' is a command of the mysql client, which mysqldump never writes",
        StatementClass.LoadFile => "LOAD DATA / LOAD XML reads a file, which mysqldump never writes",
        StatementClass.WriteFile => "INTO OUTFILE / INTO DUMPFILE writes a file of the server, which mysqldump never writes",
        StatementClass.XaTransaction => "an XA transaction, which once prepared outlives the restore and holds its locks until someone ends it; mysqldump never writes one",
        _ => null,
    };

    /// <summary>The identifier at the start of <paramref name="text"/> (at most 32 bytes), for messages.</summary>
    internal static string FirstWord(ReadOnlySpan<byte> text)
    {
        var end = 0;
        while (end < text.Length && end < 32 && UnitScanner.IsIdentifierByte(text[end]))
        {
            end++;
        }
        return System.Text.Encoding.UTF8.GetString(text[..end]);
    }

    /// <summary>
    /// Classifies a complete statement by its first words (comments and whitespace skipped). <paramref name="at"/> is
    /// the offset of the word that decided, for the error message.
    /// </summary>
    public static StatementClass Classify(ReadOnlySpan<byte> sql, bool mySql, bool nonStandardStrings, out int at)
    {
        var t = new SqlTokenizer(sql, nonStandardStrings, mySql: mySql);
        at = 0;
        if (!t.Next() || t.Kind != TokenKind.Word)
        {
            return StatementClass.Other;
        }
        at = t.Start;
        return mySql ? ClassifyMySql(ref t) : ClassifyPostgres(sql, ref t);
    }

    static StatementClass ClassifyPostgres(ReadOnlySpan<byte> sql, ref SqlTokenizer t)
    {
        // https://www.postgresql.org/docs/current/sql-commands.html: BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT,
        // PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED.
        if (t.IsWord("begin"u8))
        {
            return StatementClass.TransactionControl;
        }
        if (t.IsWord("start"u8))
        {
            return t.Next() && t.IsWord("transaction"u8) ? StatementClass.TransactionControl : StatementClass.Other;
        }
        if (t.IsWord("commit"u8) || t.IsWord("end"u8))
        {
            return t.Next() && t.IsWord("prepared"u8) ? StatementClass.TransactionEnd : StatementClass.TransactionControl;
        }
        if (t.IsWord("abort"u8))
        {
            return StatementClass.TransactionEnd;
        }
        if (t.IsWord("rollback"u8))
        {
            // ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name stays inside the transaction.
            t.Next();
            if (t.IsWord("work"u8) || t.IsWord("transaction"u8))
            {
                t.Next();
            }
            return t.IsWord("to"u8) ? StatementClass.Other : StatementClass.TransactionEnd;
        }
        if (t.IsWord("prepare"u8))
        {
            return t.Next() && t.IsWord("transaction"u8) ? StatementClass.TransactionEnd : StatementClass.Other;
        }
        if (t.IsWord("do"u8) || t.IsWord("call"u8))
        {
            // https://www.postgresql.org/docs/current/sql-do.html, sql-call.html
            return StatementClass.RunsCode;
        }
        return t.IsWord("copy"u8) ? ClassifyCopy(sql, ref t) : StatementClass.Other;
    }

    /// <summary>
    /// CREATE [OR REPLACE] FUNCTION or PROCEDURE (PostgreSQL): code the dump defines, which then runs wherever something
    /// calls it - a SELECT, a trigger that a COPY fires, a column default, a CHECK or an index expression - none of which
    /// the guard can tell from pg_dump's own statements, and whose body (a string) it cannot see into. Returns the
    /// offset of CREATE and "CREATE FUNCTION" or "CREATE PROCEDURE", or -1 and null.
    /// https://www.postgresql.org/docs/current/sql-createfunction.html
    /// </summary>
    public static int FindRoutineDefinition(ReadOnlySpan<byte> sql, bool nonStandardStrings, out string? what)
    {
        what = null;
        var t = new SqlTokenizer(sql, nonStandardStrings);
        if (!t.Next() || !t.IsWord("create"u8))
        {
            return -1;
        }
        var at = t.Start;
        if (!t.Next() || (t.IsWord("or"u8) && !(t.Next() && t.IsWord("replace"u8) && t.Next())))
        {
            return -1;
        }
        what = t.IsWord("function"u8) ? "CREATE FUNCTION" : t.IsWord("procedure"u8) ? "CREATE PROCEDURE" : null;
        return what is null ? -1 : at;
    }

    /// <summary>
    /// COPY { table [(columns)] | (query) } { FROM | TO } { STDIN | STDOUT | PROGRAM 'command' | 'filename' } [options]
    /// (https://www.postgresql.org/docs/current/sql-copy.html): the first FROM or TO outside parentheses decides.
    /// </summary>
    static StatementClass ClassifyCopy(ReadOnlySpan<byte> sql, ref SqlTokenizer t)
    {
        while (NextOutsideParentheses(ref t))
        {
            if (t.IsWord("from"u8) || t.IsWord("to"u8))
            {
                var from = t.IsWord("from"u8);
                if (!t.Next())
                {
                    return StatementClass.Other;
                }
                if (t.IsWord("program"u8) || t.Kind is TokenKind.String or TokenKind.EString or TokenKind.DollarString)
                {
                    return StatementClass.CopyServerSide;
                }
                if (from && t.IsWord("stdout"u8))
                {
                    return StatementClass.CopyFromStdout;
                }
                if (!from || !t.IsWord("stdin"u8))
                {
                    return StatementClass.Other; // TO STDOUT: psql prints the rows; anything else the server refuses
                }
                return TryParseCopy(sql, out _, out _) && !CopyHasOptions(sql) ? StatementClass.CopyFromStdin : StatementClass.CopyWithOptions;
            }
        }
        return StatementClass.Other;
    }

    /// <summary>
    /// The mysql client's own commands in their long form (it reads the first word of a statement before sending it):
    /// every one but DELIMITER, which mysqldump writes, and USE, which is also a statement of the server.
    /// </summary>
    static readonly string[] s_mysqlClientCommands =
    [
        "clear", "connect", "edit", "ego", "exit", "go", "help", "nopager", "notee", "nowarning", "pager", "print", "prompt",
        "query_attributes", "quit", "rehash", "resetconnection", "source", "ssl_session_data_print", "status",
        "system", "tee", "charset", "warnings",
    ];

    static StatementClass ClassifyMySql(ref SqlTokenizer t)
    {
        if (t.IsWord("load"u8))
        {
            // https://dev.mysql.com/doc/refman/8.0/en/load-data.html, load-xml.html
            return t.Next() && (t.IsWord("data"u8) || t.IsWord("xml"u8)) ? StatementClass.LoadFile : StatementClass.Other;
        }
        if (t.IsWord("xa"u8))
        {
            // https://mariadb.com/kb/en/xa-transactions/: XA PREPARE leaves the transaction, its locks and its changes to
            // whoever commits or rolls it back, after the client has gone (found by review: the swap's RENAME then waited
            // on its lock for lock_wait_timeout, a year by default).
            return StatementClass.XaTransaction;
        }
        var word = t.Span;
        foreach (var command in s_mysqlClientCommands)
        {
            if (word.Length == command.Length && System.Text.Ascii.EqualsIgnoreCase(word, command))
            {
                return StatementClass.ClientCommand;
            }
        }
        // INTO OUTFILE / DUMPFILE ends a SELECT (or TABLE, VALUES), also one in a routine's or event's body; an INSERT (the
        // bulk of a dump, read here by its first word only) cannot hold one.
        // https://mariadb.com/kb/en/select-into-outfile/
        if (t.IsWord("insert"u8) || t.IsWord("replace"u8))
        {
            return StatementClass.Other;
        }
        var into = false;
        while (t.Next())
        {
            if (into && (t.IsWord("outfile"u8) || t.IsWord("dumpfile"u8)))
            {
                return StatementClass.WriteFile;
            }
            into = t.IsWord("into"u8);
        }
        return StatementClass.Other;
    }

    /// <summary>
    /// Reads a psql meta-command line (leading whitespace and comments allowed, as the scanner leaves them in the unit).
    /// Only the exact shapes pg_dump writes are recognised; <paramref name="argument"/> is the key or the database name.
    /// <paramref name="at"/> is the offset of the backslash.
    /// </summary>
    public static MetaCommand ClassifyMetaCommand(ReadOnlySpan<byte> line, out string? argument, out int at)
    {
        argument = null;
        at = SkipTrivia(line);
        var rest = line[at..];
        if (rest.IsEmpty || rest[0] != (byte)'\\')
        {
            return MetaCommand.Other;
        }
        var nameEnd = 1;
        while (nameEnd < rest.Length && rest[nameEnd] is >= (byte)'a' and <= (byte)'z')
        {
            nameEnd++;
        }
        var name = rest[1..nameEnd];
        var args = rest[nameEnd..];
        // One space-separated argument, then the end of the line: psql would read anything more as further arguments
        // or as another meta-command on the same line.
        var end = args.Length;
        while (end > 0 && args[end - 1] is (byte)'\n' or (byte)'\r' or (byte)' ' or (byte)'\t')
        {
            end--;
        }
        args = args[..end];
        var start = args.IndexOfAnyExcept((byte)' ', (byte)'\t');
        if (start <= 0)
        {
            return MetaCommand.Other;
        }
        var value = args[start..];
        if (name.SequenceEqual("restrict"u8) || name.SequenceEqual("unrestrict"u8))
        {
            // pg_dump's key is letters and digits.
            if (value.IndexOfAnyExcept(s_letterOrDigit) >= 0)
            {
                return MetaCommand.Other;
            }
            argument = System.Text.Encoding.ASCII.GetString(value);
            return name[0] == (byte)'r' ? MetaCommand.Restrict : MetaCommand.Unrestrict;
        }
        if (name.SequenceEqual("connect"u8) || name.SequenceEqual("c"u8))
        {
            argument = value.StartsWith("-reuse-previous=on "u8) ? ConnectionStringDatabase(value["-reuse-previous=on ".Length..]) : ConnectDatabase(value);
            return argument is null ? MetaCommand.Other : MetaCommand.Connect;
        }
        if (name.SequenceEqual("encoding"u8))
        {
            // pg_dump writes \encoding SQL_ASCII before a \connect with a conninfo string.
            argument = System.Text.Encoding.ASCII.GetString(value);
            return value.IndexOfAnyExcept(s_encodingName) < 0 && !IsUnsafeClientEncoding(argument)
                ? MetaCommand.Encoding
                : MetaCommand.Other;
        }
        return MetaCommand.Other;
    }

    /// <summary>
    /// Client encodings in which a byte of a multibyte character can be a backslash or quote (SJIS, BIG5, GBK, UHC,
    /// GB18030, JOHAB; https://www.postgresql.org/docs/current/multibyte.html): psql lexes them by character, Replica's lexer
    /// by byte, so the two could disagree on where a string ends. pg_dump only writes server encodings, which are all safe.
    /// </summary>
    public static bool IsUnsafeClientEncoding(string name)
    {
        var key = new string(name.Where(char.IsAsciiLetterOrDigit).Select(char.ToLowerInvariant).ToArray());
        return key is "sjis" or "shiftjis" or "shiftjis2004" or "mskanji" or "win932" or "windows932" or "big5" or "win950" or "windows950"
            or "gbk" or "win936" or "windows936" or "cp936" or "uhc" or "win949" or "windows949" or "gb18030" or "johab";
    }

    /// <summary>Why a statement with <see cref="PsqlStatementTracker.UnclearAt"/> is refused.</summary>
    internal const string WordPsqlCountsDifferentlyReason =
        "a word right after a number, a variable psql sets (:VERSION, :USER ...) or tests (:{?name}), a byte order mark before a word, or a BEGIN in a function's statement that is not BEGIN ATOMIC, where psql may end the statement elsewhere than the server or the guard does, which pg_dump never writes";

    /// <summary>Why transaction control inside a statement psql sends whole (a function body) is refused.</summary>
    internal const string TransactionInBodyReason =
        "transaction control, a COPY or a client encoding change inside a function body or rule, which pg_dump never writes there (only the END that closes a BEGIN ATOMIC body)";

    /// <summary>Whether a statement starting at its first word is END, closing a BEGIN ATOMIC body (not END TRANSACTION / END WORK).</summary>
    public static bool IsBodyEnd(ReadOnlySpan<byte> statement)
    {
        var t = new SqlTokenizer(statement);
        return t.Next() && t.IsWord("end"u8) && (!t.Next() || t.IsPunct((byte)';'));
    }

    /// <summary>Why a dollar quote with a tag longer than <see cref="DollarTag.Length"/> bytes is refused (<see cref="UnitKind.LongDollarTag"/>).</summary>
    internal const string LongDollarTagReason =
        "a dollar quote whose tag is longer than 64 bytes, which the lexer cannot follow where psql and the server read a quote; pg_dump never writes one";

    /// <summary>Why a COPY row with a NUL byte is refused, when a dump is stored and when it is restored.</summary>
    internal const string NulInCopyRowReason =
        "a NUL byte in a COPY row, where psql's line reading stops (it would miss the end marker and end the COPY at a later one, then run what follows as a meta-command); text COPY cannot carry a NUL into PostgreSQL, and pg_dump never writes one";

    /// <summary>Why a statement that <see cref="FindDollarPsqlReadsDifferently"/> finds is refused.</summary>
    internal const string DollarAfterNumberReason =
        "a $ right after a number, a $n parameter or a psql :variable, where psql may start a dollar quote that the lexer does not see, which pg_dump never writes";

    /// <summary>
    /// The offset of a '$' that the lexer reads as part of a name but psql may read as the start of a dollar quote, or -1:
    /// psql ends a number (1$$, 1a$$), a parameter ($1$$) or a variable (:a$$, not ::a$$) before a '$', where the
    /// UnitScanner takes a '$' after any letter or digit as part of a name (a$b). Text that psql then reads as quoted
    /// would reach it unchecked. Only statements holding a '$' are read.
    /// </summary>
    public static int FindDollarPsqlReadsDifferently(ReadOnlySpan<byte> sql, bool nonStandardStrings)
    {
        if (sql.IndexOf((byte)'$') < 0)
        {
            return -1;
        }
        var t = new SqlTokenizer(sql, nonStandardStrings);
        var previousEnd = -1;
        var previousEndsName = false; // a number, a $n parameter: psql ends the token before a '$'
        while (t.Next())
        {
            var span = t.Span;
            var holdsDollar = t.Kind == TokenKind.DollarString || (t.Kind is TokenKind.Word or TokenKind.Other && span.IndexOf((byte)'$') >= 0);
            if (holdsDollar && t.Start == previousEnd && previousEndsName)
            {
                return t.Start;
            }
            if (t.Kind == TokenKind.Word && span.IndexOf((byte)'$') >= 0 && PsqlStatementTracker.IsVariable(sql, t.Start))
            {
                return t.Start;
            }
            previousEnd = t.End;
            previousEndsName = t.Kind == TokenKind.Number || (t.Kind == TokenKind.Other && span[0] == (byte)'$');
        }
        return -1;
    }

    /// <summary>SET client_encoding (or "client_encoding": setting names ignore case) / SET NAMES to an encoding from <see cref="IsUnsafeClientEncoding"/>.</summary>
    public static bool SetsUnsafeClientEncoding(ReadOnlySpan<byte> sql)
    {
        var t = new SqlTokenizer(sql);
        if (!t.Next() || !t.IsWord("set"u8) || !t.Next())
        {
            return false;
        }
        if (t.IsWord("session"u8) || t.IsWord("local"u8))
        {
            t.Next();
        }
        if (!IsSettingName(t, "client_encoding") && !t.IsWord("names"u8))
        {
            return false;
        }
        while (t.Next())
        {
            var text = t.Kind is TokenKind.String or TokenKind.EString ? t.Span[1..^1] : t.Span;
            if (IsUnsafeClientEncoding(System.Text.Encoding.UTF8.GetString(text)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether the token names the setting <paramref name="name"/>: a word, or a quoted identifier (the server looks settings up ignoring case).</summary>
    static bool IsSettingName(in SqlTokenizer t, string name) =>
        t.IsIdentifier && string.Equals(t.IdentifierName(), name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Why a backslash that <see cref="FindBackslashAfterNonAscii"/> finds is refused.</summary>
    internal const string BackslashAfterNonAsciiReason =
        "a backslash right after a non-ASCII byte, which psql and the server read as part of that character if the dump switched the client encoding to SJIS, BIG5 or GBK (set_config() included), where Replica reads an escape";

    /// <summary>
    /// The offset of a backslash that follows a byte of 0x80 or more, or -1. In SJIS, BIG5, GBK, UHC and JOHAB a 0x5C can
    /// be the second byte of a character, which psql and the server then do not read as a backslash: a quote after it
    /// ends an E'...' string there, not where the lexer ends it. The dump and the restore refuse SET client_encoding to
    /// them, but a dump can switch it where the lexer cannot see (set_config() in a function it calls, ALTER DATABASE
    /// ... SET and \connect), and psql and the server follow the session's setting. No other byte that matters to the
    /// lexer can be such a second byte (they start at 0x40), and in UTF-8 a backslash after a non-ASCII character is rare
    /// outside COPY data, which is not lexed as SQL.
    /// </summary>
    public static int FindBackslashAfterNonAscii(ReadOnlySpan<byte> unit)
    {
        var from = 1;
        while (from < unit.Length && unit[from..].IndexOf((byte)'\\') is var k and >= 0)
        {
            if (unit[from + k - 1] >= 0x80)
            {
                return from + k;
            }
            from += k + 1;
        }
        return -1;
    }

    /// <summary>
    /// Finds a change of client_encoding or standard_conforming_strings that the lexer does not follow, which would let
    /// psql and the server end a string elsewhere than the lexer does: set_config() of either (or of a name that is not a
    /// plain literal), SET LOCAL standard_conforming_strings (psql outside a transaction ignores it, the lexer would
    /// not), SET standard_conforming_strings to a value <see cref="TryParseStandardConformingStrings"/> does not read,
    /// RESET standard_conforming_strings or ALL, DISCARD ALL, and any write to pg_settings. pg_dump writes none of them
    /// (it sets search_path through set_config). Returns the offset of the deciding word and why, or -1.
    /// https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-SET
    /// </summary>
    public static int FindSettingTheLexerMisses(ReadOnlySpan<byte> sql, bool nonStandardStrings, out string? reason)
    {
        reason = null;
        var t = new SqlTokenizer(sql, nonStandardStrings);
        if (!t.Next())
        {
            return -1;
        }
        var first = t.Start;
        if (t.IsWord("set"u8))
        {
            var p = t;
            p.Next();
            var local = p.IsWord("local"u8);
            if (local || p.IsWord("session"u8))
            {
                p.Next();
            }
            if (IsSettingName(p, "standard_conforming_strings") && (local || !TryParseStandardConformingStrings(sql, out _)))
            {
                reason = "SET LOCAL standard_conforming_strings, or a value other than on/off/true/false/yes/no/1/0, which the lexer does not follow; pg_dump never writes it";
                return p.Start;
            }
        }
        else if (t.IsWord("reset"u8) || t.IsWord("discard"u8))
        {
            var p = t;
            p.Next();
            if (p.IsWord("all"u8) || IsSettingName(p, "standard_conforming_strings"))
            {
                reason = "RESET or DISCARD of standard_conforming_strings (or ALL), which the lexer does not follow; pg_dump never writes it";
                return first;
            }
        }
        else if (t.IsWord("update"u8) || t.IsWord("insert"u8) || t.IsWord("with"u8) || t.IsWord("merge"u8) || t.IsWord("prepare"u8) || t.IsWord("explain"u8))
        {
            var writes = new List<WriteTarget>();
            FindWriteTargets(sql, mySql: false, nonStandardStrings, "", writes);
            foreach (var write in writes)
            {
                if (write.Table is { } table && string.Equals(table.Table, "pg_settings", StringComparison.OrdinalIgnoreCase))
                {
                    reason = "a write to pg_settings, which changes settings (client_encoding, standard_conforming_strings) where the lexer cannot follow; pg_dump never writes one";
                    return write.At;
                }
            }
        }
        do
        {
            var setConfig = t.Kind == TokenKind.Word ? t.IsWord("set_config"u8)
                : t.Kind == TokenKind.QuotedIdentifier && string.Equals(t.IdentifierName(), "set_config", StringComparison.Ordinal);
            if (setConfig && FindSetConfigTheLexerMisses(ref t) is { } why)
            {
                reason = why;
                return t.Start;
            }
        }
        while (t.Next());
        return -1;
    }

    /// <summary>
    /// Whether the bytes may name set_config (a "_config" in any case, or a U&amp;"..." name that could spell it): a cheap
    /// look before <see cref="FindSettingTheLexerMisses"/> reads an INSERT, the bulk of an INSERT-form dump.
    /// </summary>
    public static bool MayNameSetConfig(ReadOnlySpan<byte> unit)
    {
        if (unit.IndexOf("&\""u8) >= 0)
        {
            return true;
        }
        var from = 0;
        while (unit[from..].IndexOf((byte)'_') is var k and >= 0)
        {
            var at = from + k + 1;
            if (unit.Length - at >= 6 && System.Text.Ascii.EqualsIgnoreCase(unit.Slice(at, 6), "config"u8))
            {
                return true;
            }
            from = at;
        }
        return false;
    }

    /// <summary>
    /// A '...' literal that reads the same with and without backslash escapes: with standard_conforming_strings off (as
    /// pg_dump writes it for such a database) a plain '...' is an escape string to the tokenizer, and set_config('search_path',
    /// '', false) must still pass (found by CI: a subset of such a database was refused).
    /// </summary>
    static bool IsPlainLiteral(in SqlTokenizer t) =>
        t.Kind is TokenKind.String or TokenKind.EString && t.Span[0] == (byte)'\'' && t.Span.IndexOf((byte)'\\') < 0;

    /// <summary>With the tokenizer on the word set_config: why the call is refused, or null (the tokenizer is left on set_config).</summary>
    static string? FindSetConfigTheLexerMisses(ref SqlTokenizer t)
    {
        var p = t;
        if (!p.Next() || !p.IsPunct((byte)'('))
        {
            return null; // not a call
        }
        if (!p.Next() || !IsPlainLiteral(p))
        {
            return "set_config() with a setting name that is not a plain string literal, which Replica cannot read; pg_dump never writes one";
        }
        var name = System.Text.Encoding.UTF8.GetString(p.Span[1..^1]).Replace("''", "'", StringComparison.Ordinal);
        if (!p.Next() || !p.IsPunct((byte)','))
        {
            return "set_config() with a setting name that is not a plain string literal, which Replica cannot read; pg_dump never writes one";
        }
        if (string.Equals(name, "standard_conforming_strings", StringComparison.OrdinalIgnoreCase))
        {
            return "set_config() of standard_conforming_strings, which the lexer does not follow (it follows SET standard_conforming_strings); pg_dump never writes it";
        }
        if (!string.Equals(name, "client_encoding", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (!p.Next() || !IsPlainLiteral(p)
            || IsUnsafeClientEncoding(System.Text.Encoding.UTF8.GetString(p.Span[1..^1])) || !p.Next() || !p.IsPunct((byte)','))
        {
            return "set_config() of client_encoding to " + UnsafeClientEncodingReason;
        }
        return null;
    }

    /// <summary>The database of a conninfo string "dbname=..." as pg_dump quotes it (appendConnStrVal inside fmtId).</summary>
    static string? ConnectionStringDatabase(ReadOnlySpan<byte> value)
    {
        var conninfo = Unquote(value.Trim((byte)' '));
        if (conninfo is null || !conninfo.StartsWith("dbname=", StringComparison.Ordinal))
        {
            return null;
        }
        var v = conninfo["dbname=".Length..];
        if (!v.StartsWith('\''))
        {
            return v.Length > 0 && !v.Any(c => c is ' ' or '\\' or '\'') ? v : null;
        }
        var text = new System.Text.StringBuilder();
        for (var i = 1; i < v.Length; i++)
        {
            var c = v[i];
            if (c == '\\' && i + 1 < v.Length)
            {
                text.Append(v[++i]);
            }
            else if (c == '\'')
            {
                return i == v.Length - 1 ? text.ToString() : null;
            }
            else
            {
                text.Append(c);
            }
        }
        return null;
    }

    /// <summary>
    /// The database of \connect as pg_dump writes it (appendPsqlMetaConnect): letters, digits, _ and . bare, or a
    /// "quoted" identifier. Backquotes (a shell command in psql) and variables are not accepted.
    /// </summary>
    static string? ConnectDatabase(ReadOnlySpan<byte> value) =>
        value.IndexOfAnyExcept(s_bareDatabase) < 0
            ? System.Text.Encoding.UTF8.GetString(value)
            : Unquote(value);

    /// <summary>A psql argument in double quotes: taken literally, "" is one quote; null for anything else.</summary>
    static string? Unquote(ReadOnlySpan<byte> value)
    {
        if (value.Length < 2 || value[0] != (byte)'"' || value[^1] != (byte)'"')
        {
            return null;
        }
        var inner = value[1..^1];
        for (var i = 0; i < inner.Length; i++)
        {
            if (inner[i] is (byte)'\n' or (byte)'\r')
            {
                return null;
            }
            if (inner[i] == (byte)'"')
            {
                if (i + 1 >= inner.Length || inner[i + 1] != (byte)'"')
                {
                    return null;
                }
                i++;
            }
        }
        return System.Text.Encoding.UTF8.GetString(inner).Replace("\"\"", "\"", StringComparison.Ordinal);
    }

    /// <summary>Skips whitespace, -- comments and (nested) /* */ comments.</summary>
    static int SkipTrivia(ReadOnlySpan<byte> s)
    {
        var i = 0;
        while (i < s.Length)
        {
            var b = s[i];
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'\f' or (byte)'\v' or 0xEF or 0xBB or 0xBF)
            {
                i++;
            }
            else if (b == (byte)'-' && i + 1 < s.Length && s[i + 1] == (byte)'-')
            {
                var lf = s[i..].IndexOfAny((byte)'\n', (byte)'\r');
                i = lf < 0 ? s.Length : i + lf + 1;
            }
            else if (b == (byte)'/' && i + 1 < s.Length && s[i + 1] == (byte)'*')
            {
                var depth = 0;
                while (i < s.Length)
                {
                    if (s[i] == (byte)'/' && i + 1 < s.Length && s[i + 1] == (byte)'*')
                    {
                        depth++;
                        i += 2;
                    }
                    else if (s[i] == (byte)'*' && i + 1 < s.Length && s[i + 1] == (byte)'/')
                    {
                        i += 2;
                        if (--depth == 0)
                        {
                            break;
                        }
                    }
                    else
                    {
                        i++;
                    }
                }
            }
            else
            {
                break;
            }
        }
        return i;
    }
}

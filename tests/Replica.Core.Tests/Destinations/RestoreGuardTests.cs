using System.Buffers;
using System.Text;
using Replica.Lexing;
using Replica.Destinations;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Destinations;

/// <summary>What a restore into a database hands to psql or mysql: everything pg_dump and mysqldump write, nothing that runs on the restoring machine.</summary>
public class RestoreGuardTests
{
    static readonly byte[] s_tricky = Fixture("tricky.sql");

    /// <summary>Guards <paramref name="input"/> fed in blocks that end at the given split points; returns what passed.</summary>
    static byte[] Guard(byte[] input, IEnumerable<int>? splits = null, SqlDialect dialect = SqlDialect.PostgreSql, string? database = "shop")
    {
        using var guard = new RestoreGuard(dialect, database);
        var output = new ArrayBufferWriter<byte>();
        var start = 0;
        foreach (var split in splits ?? [])
        {
            guard.Process(input.AsSpan(start, split - start), output);
            start = split;
        }
        guard.Process(input.AsSpan(start), output);
        guard.Complete(output);
        return output.WrittenSpan.ToArray();
    }

    static string Guard(string input, SqlDialect dialect = SqlDialect.PostgreSql) => Text(Guard(Encoding.UTF8.GetBytes(input), dialect: dialect));

    /// <summary>Asserts the input is refused at every split, and that nothing from the refused statement on passed.</summary>
    static DumpFormatException Refused(string input, string refused, SqlDialect dialect = SqlDialect.PostgreSql)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        var cut = Encoding.UTF8.GetByteCount(input[..input.IndexOf(refused, StringComparison.Ordinal)]);
        DumpFormatException? first = null;
        for (var split = 0; split <= bytes.Length; split += Math.Max(1, bytes.Length / 40))
        {
            using var guard = new RestoreGuard(dialect, "shop");
            var output = new ArrayBufferWriter<byte>();
            var e = Assert.Throws<DumpFormatException>(() =>
            {
                guard.Process(bytes.AsSpan(0, split), output);
                guard.Process(bytes.AsSpan(split), output);
                guard.Complete(output);
            });
            Assert.True(output.WrittenCount <= cut, $"split {split}: {Text(output.WrittenSpan.ToArray())}");
            Assert.Equal(first?.Message ?? e.Message, e.Message);
            first ??= e;
        }
        Assert.Contains("refused", first!.Message, StringComparison.Ordinal);
        return first;
    }

    [Fact]
    public void Guard_PgDumpOutput_PassesUnchangedButTheConnectToTheDestination()
    {
        // The \connect to the destination is left out (psql is connected there already), its line break kept.
        var connect = "\\connect -reuse-previous=on \"dbname='shop'\"\n"u8;
        var at = s_tricky.AsSpan().IndexOf(connect);
        byte[] expected = [.. s_tricky.AsSpan(0, at), (byte)'\n', .. s_tricky.AsSpan(at + connect.Length)];
        for (var split = 1; split < s_tricky.Length; split++)
        {
            Assert.True(Guard(s_tricky, [split]).AsSpan().SequenceEqual(expected), $"split at {split} changed the output");
        }
        Assert.Equal(expected, Guard(s_tricky, Enumerable.Range(1, s_tricky.Length - 1)));
    }

    [Theory]
    [InlineData("\\! touch /tmp/marker\n", "\\!")]
    [InlineData("\\o /tmp/out\n", "\\o")]
    [InlineData("\\i /etc/passwd\n", "\\i")]
    [InlineData("\\copy t from program 'id'\n", "\\copy")]
    [InlineData("\\setenv PAGER x\n", "\\setenv")]
    [InlineData("-- a comment\n\\set ON_ERROR_STOP 0\n", "\\set")]
    [InlineData("\\restrict abc \\! id\n", "\\restrict")]
    [InlineData("\\connect `id`\n", "\\connect")]
    [InlineData("\\connect other\n", "\\connect")]
    [InlineData("\\encoding SJIS\n", "\\encoding")]
    public void Guard_MetaCommand_IsRefusedBeforeItPasses(string meta, string name)
    {
        var e = Refused($"CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n{meta}INSERT INTO t VALUES (2);\n", meta.StartsWith("--", StringComparison.Ordinal) ? "\\set" : meta);
        Assert.Equal(3, e.LineNumber + (meta.StartsWith("--", StringComparison.Ordinal) ? -1 : 0));
        Assert.Contains(name == "\\connect" && meta.Contains("other", StringComparison.Ordinal) ? "other" : name, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT 1 \\! touch /tmp/marker\n;")]
    [InlineData("SELECT 1 \\g |id\n")]
    [InlineData("SELECT 'a' \\gexec\n")]
    [InlineData("SELECT 1 /* c */ \\o /tmp/out\n;")]
    public void Guard_BackslashInsideAStatement_IsRefused(string statement)
    {
        var e = Refused($"SELECT 0;\n{statement}", statement);
        Assert.Equal(2, e.LineNumber);
        Assert.Contains("psql would run it as a meta-command", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_MetaCommandsInsideCopyDataQuotesAndComments_AreData()
    {
        var dump = "COPY public.t (a) FROM stdin;\n\\! touch /tmp/marker\n\\o /tmp/x\n\\.\n"
            + "SELECT E'\\\\! x', '\\o', $$ \\! $$; -- \\! comment\n/* \\! */ SELECT 1;\n";
        // Strings with a backslash go to psql as E'...' (Guard_StringWithBackslash_...).
        Assert.Equal(dump.Replace("'\\o'", "E'\\\\o'", StringComparison.Ordinal), Guard(dump));
    }

    [Theory]
    // psql reads a plain string by the standard_conforming_strings the server last reported, which the dump can change
    // where the lexer does not see it; written as E'...' the string ends in the same place in either setting.
    [InlineData("SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);\nSELECT 'a\\' , ' \\! touch /tmp/m #';\n",
        "SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);\nSELECT E'a\\\\' , E' \\\\! touch /tmp/m #';\n")]
    [InlineData("SET standard_conforming_strings = no;\nSELECT 'a\\' , ' \\! touch /tmp/m #';\n",
        "SET standard_conforming_strings = no;\nSELECT E'a\\\\' , E' \\\\! touch /tmp/m #';\n")]
    // The lexer reads this one in off mode, as psql does from the next line on: the string keeps its escapes.
    [InlineData("SET standard_conforming_strings = off; SELECT 'a\\' \\! touch /tmp/m #';\n",
        "SET standard_conforming_strings = off; SELECT E'a\\' \\! touch /tmp/m #';\n")]
    // psql reads $E'...' (a lone $, then E'...') and :E'...' (an unset variable) as escape strings.
    [InlineData("SELECT $E'\\'; COMMIT; SELECT '\\! touch /tmp/m #';\n", "SELECT $E E'\\\\'; SELECT E'\\\\! touch /tmp/m #';\n")]
    [InlineData("SELECT :E'\\' \\! touch /tmp/m #';\n", "SELECT : E'\\' \\! touch /tmp/m #';\n")]
    [InlineData("SELECT B'0', X'1', U&'d\\0061t', 'no backslash';\n", "SELECT B'0', X'1', U&'d\\0061t', 'no backslash';\n")]
    public void Guard_StringWithBackslash_IsWrittenAsAnEscapeStringPsqlReadsTheSameInEitherSetting(string dump, string expected)
    {
        Assert.Equal(expected, Guard(dump));
    }

    [Theory]
    [InlineData("SELECT B'\\' \\! touch /tmp/m #'';", "\\!")]
    [InlineData("SELECT X'\\' \\! touch /tmp/m #'';", "\\!")]
    [InlineData("SELECT U&'\\' \\! touch /tmp/m #'';", "\\!")]
    public void Guard_BitOrUnicodeStringWhileStandardConformingStringsIsOff_TakesNoEscapesAsInPsql(string statement, string refused)
    {
        Assert.Contains("meta-command", Refused($"SET standard_conforming_strings = off;\n{statement}\n", refused).Message, StringComparison.Ordinal);
    }

    [Theory]
    // psql ends a number, a parameter or a variable before a '$' and may start a dollar quote there; the lexer reads a name.
    [InlineData("SELECT 1$$ ' $$ \\! touch /tmp/m #' ;")]
    [InlineData("SELECT 1a$$ ' $$ \\! touch /tmp/m #' ;")]
    [InlineData("SELECT $1$$ ' $$ \\! touch /tmp/m #' ;")]
    [InlineData("SELECT :a$$ ' $$ \\! touch /tmp/m #' ;")]
    [InlineData("SELECT ':' || :::a$$ ' $$ \\! touch /tmp/m #' ;")]
    public void Guard_DollarWherePsqlMayStartADollarQuote_IsRefused(string statement)
    {
        Assert.Contains("may start a dollar quote", Refused($"SELECT 0;\n{statement}\n", statement).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_DollarInNamesCastsAndDollarQuotes_Passes()
    {
        const string dump = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $_$ SELECT 1 $_$;\nSELECT a$b, 'x'::a$b, x[1:2], $$1$$ FROM t;\n";
        Assert.Equal(dump, Guard(dump));
    }

    [Fact]
    public void Guard_CommentEndedByACarriageReturn_LeavesTheRestOfTheLineToRead()
    {
        // psql (and the server) end a -- comment at a CR: the \! after it is a meta-command, not comment text.
        var e = Refused("SELECT 0;\nSELECT 1; -- c\r\\! touch /tmp/m\nSELECT 2;\n", "\\! touch");
        Assert.Contains("meta-command", e.Message, StringComparison.Ordinal);
        Assert.Equal("SELECT 1; -- c\r\nSELECT 2;\n", Guard("SELECT 1; -- c\r\nSELECT 2;\n"));
    }

    [Theory]
    [InlineData("SELECT 1 \0$$\n\\! touch /tmp/m\n$$;\n")]
    [InlineData("SELECT 1 \0/*\n\\! touch /tmp/m\n*/;\n")]
    public void Guard_NulByteOutsideCopyData_IsRefused(string statement)
    {
        // psql drops what follows a NUL on its line, so the quote or comment the lexer saw open is not open for psql.
        Assert.Contains("NUL byte", Refused($"SELECT 0;\n{statement}", "SELECT 1").Message, StringComparison.Ordinal);
    }

    [Theory]
    // In SJIS 0x81 0x5C is one character: psql, switched there by set_config(), reads no backslash and ends the string.
    [InlineData("SELECT pg_catalog.set_config('client_encoding', 'SJIS', false);\nSELECT E'\u00c1\\' \\! touch /tmp/m #';\n", "SELECT E'")]
    [InlineData("SELECT 1; -- \u00e9\\\nSELECT 2;\n", " -- ")]
    public void Guard_BackslashAfterANonAsciiByte_IsRefused(string dump, string refused)
    {
        Assert.Contains("non-ASCII byte", Refused(dump, refused).Message, StringComparison.Ordinal);
        const string data = "COPY public.t (a) FROM stdin;\n\u00c1\\\\\n\\.\nSELECT '\u00c1 \\ x';\n";
        Assert.Equal(data.Replace("'\u00c1 \\ x'", "E'\u00c1 \\\\ x'", StringComparison.Ordinal), Guard(data));
    }

    [Fact]
    public void Guard_TopLevelTransactionControl_IsReplacedByItsLineBreaks()
    {
        var dump = "SELECT 1;\nBEGIN;\n\nSELECT pg_catalog.lo_create('16400');\nCOMMIT;\nstart transaction;\nEND\n;\nSELECT 2;\n";
        var guarded = Guard(dump);
        Assert.Equal("SELECT 1;\n\n\nSELECT pg_catalog.lo_create('16400');\n\n\n\n\nSELECT 2;\n", guarded);
        Assert.Equal(dump.Count(c => c == '\n'), guarded.Count(c => c == '\n'));
    }

    [Fact]
    public void Guard_LastStatementWithoutSemicolon_GetsOneBeforeTheCommitThatFollows()
    {
        // psql runs it at the end of its input; here the restore's COMMIT comes after it, so it must end first.
        Assert.Equal("SELECT 1;\nSELECT 2 -- no semicolon\n;", Guard("SELECT 1;\nSELECT 2 -- no semicolon"));
        Assert.Equal("SELECT 1;\n-- only a comment", Guard("SELECT 1;\n-- only a comment"));
    }

    [Fact]
    public void Guard_SqlStandardFunctionBody_KeepsItsEnd()
    {
        // psql reads BEGIN ATOMIC ... END as one statement: the END; inside is no COMMIT.
        var dump = "CREATE FUNCTION public.f() RETURNS integer\n    LANGUAGE sql\n    BEGIN ATOMIC\n SELECT 1;\n SELECT CASE WHEN true THEN 2 END;\nEND;\n\nCOMMIT;\nSELECT 3;\n";
        Assert.Equal(dump.Replace("\nCOMMIT;", "\n", StringComparison.Ordinal), Guard(dump));
    }

    [Theory]
    [InlineData("ROLLBACK;")]
    [InlineData("abort;")]
    [InlineData("PREPARE TRANSACTION 'x';")]
    [InlineData("COMMIT PREPARED 'x';")]
    public void Guard_StatementThatEndsTheTransaction_IsRefused(string statement)
    {
        Assert.Contains("would end the restore's transaction", Refused($"SELECT 1;\n{statement}\nSELECT 2;\n", statement).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_RollbackToSavepoint_Passes()
    {
        const string dump = "SAVEPOINT a;\nROLLBACK TO SAVEPOINT a;\nRELEASE a;\n";
        Assert.Equal(dump, Guard(dump));
    }

    [Theory]
    [InlineData("COPY public.t FROM PROGRAM 'touch /tmp/marker';", "program or a file")]
    [InlineData("COPY public.t TO '/tmp/out';", "program or a file")]
    [InlineData("copy (SELECT 1) to program 'id';", "program or a file")]
    [InlineData("COPY public.t FROM '/etc/passwd';", "program or a file")]
    [InlineData("COPY public.t FROM stdin WITH (FORMAT csv);", "with options")]
    [InlineData("COPY public.t FROM stdin; SELECT 1;", "text after COPY", " SELECT 1;")]
    [InlineData("SET client_encoding = 'SJIS';", "client encoding")]
    public void Guard_CopyOrSettingPgDumpNeverWrites_IsRefused(string statement, string reason, string? refused = null)
    {
        Assert.Contains(reason, Refused($"SELECT 0;\n{statement}\n1\n\\.\n", refused ?? statement).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_MultiActionRule_PassesUnchanged()
    {
        // pg_dump 15's output for CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO a ...; INSERT INTO b ...): psql
        // reads on past the ';' inside the parentheses and sends the rule as one statement.
        const string dump = "CREATE RULE r AS\n    ON INSERT TO public.t DO INSTEAD ( INSERT INTO public.a (id)\n  VALUES (new.id);\n"
            + " INSERT INTO public.b (v)\n  VALUES (new.v);\n);\n\n\nCOPY public.a (id) FROM stdin;\n1\n\\.\n";
        Assert.Equal(dump, Guard(dump));
        var bytes = Encoding.UTF8.GetBytes(dump);
        Assert.Equal(bytes, Guard(bytes, Enumerable.Range(1, bytes.Length - 1)));
    }

    [Fact]
    public void Guard_CopyInsideOpenParentheses_StartsNoDataAndItsBackslashLinesAreRefused()
    {
        // psql does not send "SELECT (1; COPY ... FROM stdin;" on its own, so no COPY data follows it: the next line is a
        // meta-command to psql, not a row.
        Assert.Contains("meta-command", Refused("SELECT 0;\nSELECT (1;\nCOPY public.t FROM stdin;\n\\! touch /tmp/marker\n\\.\n", "\\! touch").Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_CopyToStdout_Passes()
    {
        const string dump = "COPY (SELECT 1 FROM t) TO STDOUT;\nSELECT 2;\n";
        Assert.Equal(dump, Guard(dump));
    }

    [Theory]
    [InlineData("mysql-default.sql")]
    [InlineData("mysql-databases.sql")]
    [InlineData("mysql-hex-blob.sql")]
    [InlineData("mysql-complete-insert.sql")]
    public void Guard_MySqlDump_PassesByteIdentical(string fixture)
    {
        var dump = Fixture(fixture);
        Assert.Equal(dump, Guard(dump, dialect: SqlDialect.MySql, database: null));
        Assert.Equal(dump, Guard(dump, Enumerable.Range(1, dump.Length - 1), SqlDialect.MySql, null));
    }

    [Theory]
    [InlineData("system touch /tmp/marker;", "command of the mysql client")]
    [InlineData("/* c */ SOURCE /etc/passwd;", "command of the mysql client")]
    [InlineData("tee /tmp/out;", "command of the mysql client")]
    [InlineData("pager id\n;", "command of the mysql client")]
    [InlineData("\\! touch /tmp/marker\n;", "mysql client would run it")]
    [InlineData("SELECT 1 \\. /etc/passwd\n;", "mysql client would run it")]
    [InlineData("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t;", "LOAD DATA")]
    [InlineData("/*!40101 load xml infile '/x' into table t */;", "LOAD DATA")]
    [InlineData("SELECT a FROM t INTO OUTFILE '/tmp/out';", "INTO OUTFILE")]
    [InlineData("/*!50000 select 0x41 into dumpfile '/tmp/x' */;", "INTO OUTFILE")]
    public void Guard_MySqlClientCommandOrLoadData_IsRefused(string statement, string reason)
    {
        Assert.Contains(reason, Refused($"INSERT INTO t VALUES (1);\n{statement}\nINSERT INTO t VALUES (2);\n", statement, SqlDialect.MySql).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_MySqlBackslashesInStringsAndTheSandboxCommand_Pass()
    {
        const string dump = "/*M!999999\\- enable the sandbox mode */ \nINSERT INTO t VALUES ('\\\\! x', \"\\\\. y\", `a\\b`);\n# \\! comment\n";
        Assert.Equal(dump, Guard(dump, SqlDialect.MySql));
    }
}

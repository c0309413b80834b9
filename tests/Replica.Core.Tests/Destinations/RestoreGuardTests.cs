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
    /// <remarks>A MySQL guard restores into a database named "fixture", as the fixture dumps' own.</remarks>
    static byte[] Guard(byte[] input, IEnumerable<int>? splits = null, SqlDialect dialect = SqlDialect.PostgreSql, string? database = "shop")
    {
        using var guard = new RestoreGuard(dialect, database, staged: Staged(dialect, "fixture"));
        var output = new ArrayBufferWriter<byte>();
        Feed(guard, input, splits ?? [], output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>What a MySQL restore into <paramref name="database"/> must not name (its staging databases begin as MysqlDestination's do).</summary>
    static StagedNames? Staged(SqlDialect dialect, string database) =>
        dialect == SqlDialect.MySql ? new StagedNames(database, database + "_replica_") : null;

    /// <summary>Feeds <paramref name="input"/> to the guard in blocks cut at <paramref name="splits"/> (ascending), then completes it.</summary>
    static void Feed(RestoreGuard guard, byte[] input, IEnumerable<int> splits, ArrayBufferWriter<byte> output)
    {
        var start = 0;
        foreach (var split in splits)
        {
            guard.Process(input.AsSpan(start, split - start), output);
            start = split;
        }
        guard.Process(input.AsSpan(start), output);
        guard.Complete(output);
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
            using var guard = new RestoreGuard(dialect, "shop", staged: Staged(dialect, "shop"));
            var output = new ArrayBufferWriter<byte>();
            var e = Assert.Throws<DumpFormatException>(() => Feed(guard, bytes, [split], output));
            Assert.True(output.WrittenCount <= cut, $"split {split}: {Text(output.WrittenSpan.ToArray())}");
            Assert.Equal(first?.Message ?? e.Message, e.Message);
            first ??= e;
        }
        Assert.Contains("refused", first!.Message, StringComparison.Ordinal);
        return first;
    }

    [Fact]
    public void Guard_PgDumpOutput_PassesUnchangedButTheConnectToTheDestinationAndTheRestrictPair()
    {
        // The \connect to the destination is left out (psql is connected there already), and pg_dump's \restrict and
        // \unrestrict (the session is restricted under a key of its own), their line breaks kept.
        var expected = s_tricky;
        foreach (var line in new[] { "\\connect -reuse-previous=on \"dbname='shop'\"\n"u8.ToArray(), "\\restrict AbCdEf0123456789\n"u8.ToArray(), "\\unrestrict AbCdEf0123456789\n"u8.ToArray() })
        {
            var at = expected.AsSpan().IndexOf(line);
            Assert.True(at >= 0);
            expected = [.. expected.AsSpan(0, at), (byte)'\n', .. expected.AsSpan(at + line.Length)];
        }
        for (var split = 1; split < s_tricky.Length; split++)
        {
            Assert.True(Guard(s_tricky, [split]).AsSpan().SequenceEqual(expected), $"split at {split} changed the output");
        }
        Assert.Equal(expected, Guard(s_tricky, Enumerable.Range(1, s_tricky.Length - 1)));
    }

    [Theory]
    // psql reads ":begin" as an (unset) variable, no word: the function ends at its ';', so COMMIT and what follows run
    // alone. The guard counted "begin" and let the rest through unchecked as part of a body (found by a review).
    [InlineData("CREATE FUNCTION f(a int[], begin int) RETURNS int[] LANGUAGE sql RETURN a[1:begin];\nCOMMIT;\nDROP TABLE keep_me;\nALTER ROLE CURRENT_USER PASSWORD 'x';\nSELECT 1/0;\n", "ALTER ROLE", 4)]
    // psql reads "U&" without a quote as no word: CREATE FUNCTION ... BEGIN opens a body, the COPY starts no data and the
    // next line is a meta-command. The guard counted "U", took the COPY's data for rows and let the line through.
    [InlineData("CREATE TABLE t (a text);\nU&CREATE FUNCTION BEGIN;\nCOPY t (a) FROM stdin;\n\\! touch /tmp/marker\n\\.\n", "BEGIN;", 2)]
    // psql opens a body at any BEGIN of a function's statement, the server only at BEGIN ATOMIC: psql would send what
    // follows as one string of statements the server runs on their own, END as a COMMIT (found by a review).
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = begin RETURN 1;\nEND;\nSELECT 1/0;\n", "begin", 1)]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 AS begin;\nEND;\nEND;\n", "begin;", 1)]
    [InlineData("CREATE FUNCTION f() RETURNS boolean LANGUAGE sql RETURN :{?begin};\nEND;\n", ":{?begin}", 1)]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql \uFEFFbegin atomic SELECT 1;\nEND;\n", "begin atomic", 1)]
    [InlineData("PREPARE p AS SELECT $1begin;\n", "begin", 1)]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;\nCOPY t (a) FROM stdin;\nEND;\n", "COPY", 2)]
    // Inside a body psql sends whole: still no transaction control but END, nothing beyond the database.
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;\nCOMMIT;\nEND;\n", "COMMIT", 2)]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;\nROLLBACK;\nEND;\n", "ROLLBACK", 2)]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;\nALTER ROLE CURRENT_USER PASSWORD 'x';\nEND;\n", "ALTER ROLE", 2)]
    // Words psql may count otherwise: after a number (psql 15 on: trailing junk), a variable psql sets (read as its value).
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1begin;\nSELECT 1;\n", "begin", 1)]
    [InlineData("SELECT 2;\nCREATE FUNCTION f() RETURNS text LANGUAGE sql RETURN :VERSION;\n", ":VERSION", 2)]
    public void Guard_StatementWherePsqlMayEndItElsewhere_IsRefused(string dump, string refused, int line)
    {
        var e = Refused(dump, refused);
        Assert.Equal(line, e.LineNumber);
    }

    [Fact]
    public void Guard_EncodingMetaCommand_BecomesTheSetItStandsFor()
    {
        // pg_dump --create of a SQL_ASCII database writes \encoding before its \connect; the restore's psql runs
        // restricted and would refuse it, so it goes as the SET psql would send (same line).
        const string dump = "SELECT 0;\n\\encoding SQL_ASCII\n\\connect shop\nSELECT 1;\n";
        var bytes = Encoding.UTF8.GetBytes(dump);
        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal("SELECT 0;\nSET client_encoding = 'SQL_ASCII';\n\nSELECT 1;\n", Text(Guard(bytes, [split])));
        }
    }

    [Fact]
    public void Guard_NumbersSlicesAndUnsetVariables_Pass()
    {
        // What pg_dump writes (exponents, slices with a bound named like a keyword) and psql leaves as written.
        var dump = "CREATE VIEW v AS SELECT 1e5 AS a, 1.5 AS b, 1_000 AS c, (ARRAY[1,2,3])[1:2] AS d, x.y[1:n] AS e FROM x;\n"
            + "CREATE FUNCTION f(a int[], n int) RETURNS int[] LANGUAGE sql BEGIN ATOMIC SELECT a[1:n]; SELECT a[1 : n]; END;\nSELECT 3::int;\n";
        Assert.Equal(dump, Guard(dump));
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

    /// <summary>
    /// Asserts <paramref name="input"/> is refused with the same positioned error (<paramref name="line"/>, byte
    /// <paramref name="offset"/>) at every split point of the stream and as one-byte blocks, and that nothing from the
    /// unit at <paramref name="cut"/> on passed.
    /// </summary>
    static DumpFormatException RefusedAtEverySplit(byte[] input, int cut, long line, long offset)
    {
        IEnumerable<int[]> splits = [.. Enumerable.Range(0, input.Length + 1).Select(i => new[] { i }), [.. Enumerable.Range(1, input.Length - 1)]];
        DumpFormatException? first = null;
        foreach (var points in splits)
        {
            using var guard = new RestoreGuard(SqlDialect.PostgreSql, "shop");
            var output = new ArrayBufferWriter<byte>();
            var e = Assert.Throws<DumpFormatException>(() => Feed(guard, input, points, output));
            Assert.True(output.WrittenCount <= cut, $"split {points[0]}: {Text(output.WrittenSpan.ToArray())}");
            Assert.Equal(first?.Message ?? e.Message, e.Message);
            first ??= e;
        }
        Assert.Equal(line, first!.LineNumber);
        Assert.Equal(offset, first.ByteOffset);
        Assert.Contains("nothing was restored", first.Message, StringComparison.Ordinal);
        return first;
    }

    /// <summary>
    /// A dollar quote whose tag is longer than the lexer tracks (64 bytes): psql and the server read it as a quote, so a
    /// lexer that took it for text opened its own quote at the "$$" after it and read the \! line, which psql runs, as
    /// quoted text ("-- $$" brought the two back in step and the restore succeeded). Refused where the quote opens.
    /// </summary>
    [Theory]
    [InlineData(65)]
    [InlineData(200)]
    public void Guard_DollarQuoteTagLongerThanTracked_IsRefusedWhereItOpens(int length)
    {
        var tag = "$" + new string('T', length) + "$";
        var input = $"CREATE TABLE t (a int);\nSELECT {tag}, $$\n{tag} AS a,\n\\! touch /tmp/m\n$$ AS b; -- $$;\nSELECT 2;\n";

        var e = RefusedAtEverySplit(Encoding.UTF8.GetBytes(input), cut: 24, line: 2, offset: 31);

        Assert.Contains("refused: a dollar quote whose tag is longer than 64 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_DollarQuoteTagOf64Bytes_AndALongTagThatOpensNoQuote_Pass()
    {
        // 64 bytes are tracked whole; "$" and 65 tag bytes without a closing "$" are plain text, to psql as well.
        var tag = "$" + new string('T', 64) + "$";
        var dump = $"SELECT {tag}a $$ \\! b{tag};\nSELECT 1 AS \"x\", ${new string('u', 65)} ;\n";
        for (var split = 0; split <= dump.Length; split++)
        {
            Assert.Equal(dump, Text(Guard(Encoding.UTF8.GetBytes(dump), [split])));
        }
    }

    /// <summary>
    /// A NUL byte in a COPY row: psql reads lines as C strings, so the NUL hid the row's line break, psql sent the real
    /// end marker as data, ended the COPY at a "\." the lexer read inside $$...$$ and ran the \! line after it. Refused
    /// at the NUL, in a row of its own or in a run of rows, however the stream is cut; rows before it passed.
    /// </summary>
    [Theory]
    [InlineData("")]
    [InlineData("a\nb\n")]
    public void Guard_NulByteInCopyRow_IsRefusedAtTheNul(string rowsBefore)
    {
        var head = "CREATE TABLE t (a text);\nCOPY t (a) FROM stdin;\n" + rowsBefore;
        var input = Encoding.UTF8.GetBytes(head + "x\0y\n\\.\nSELECT $$\n\\.\n\\! touch /tmp/m\nSELECT 1; --$$;\n");

        var e = RefusedAtEverySplit(input, cut: head.Length, line: 3 + rowsBefore.Count(c => c == '\n'), offset: head.Length + 1);

        Assert.Contains("refused: a NUL byte in a COPY row", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_NulByteRightBeforeTheEndMarkersLineBreak_IsRefused()
    {
        var head = "COPY t (a) FROM stdin;\n1\n";
        var e = RefusedAtEverySplit(Encoding.UTF8.GetBytes(head + "\\.\0\n\\.\n"), cut: head.Length, line: 3, offset: head.Length + 2);
        Assert.Contains("NUL byte in a COPY row", e.Message, StringComparison.Ordinal);
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
    // "no" is off to the server, and now to the lexer too (it used to read only on/off/true/false).
    [InlineData("SET standard_conforming_strings = no;\nSELECT 'a\\' \\! touch /tmp/m #';\n",
        "SET standard_conforming_strings = no;\nSELECT E'a\\' \\! touch /tmp/m #';\n")]
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

    /// <summary>
    /// Restored in place, pg_dump's setval of a sequence gets an ALTER SEQUENCE ... RESTART (when the role owns it) before
    /// it, on the same line, so that a rollback undoes it (tested against PostgreSQL in PostgresRestoreSafetyTests); other
    /// forms pass as they are, and so does everything into a staging database.
    /// </summary>
    [Fact]
    public void Guard_SetvalWhenRestoringInPlace_GetsARestartBeforeItOnTheSameLine()
    {
        const string dump = "--\n-- Name: t_id_seq; Type: SEQUENCE SET; Schema: public; Owner: app\n--\n\n"
            + "SELECT pg_catalog.setval('public.t_id_seq', 12, true);\n\n\n"
            + "select /* c */ setval('\"Odd\".\"Seq\"', 3);\n"
            + "SELECT setval('a$b', 1);\nSELECT setval(E'x', 1);\nSELECT setval(pg_catalog.concat('a', 'b'), 1);\nSELECT nextval('public.t_id_seq');\n";
        static string Restart(string name) => "DO $replica$BEGIN IF pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.relkind = 'S' "
            + $"AND c.oid = pg_catalog.to_regclass({name})), 'USAGE') THEN EXECUTE pg_catalog.format('ALTER SEQUENCE %s RESTART', pg_catalog.to_regclass({name})); END IF; END$replica$; ";
        var expected = dump
            .Replace("SELECT pg_catalog.setval(", Restart("'public.t_id_seq'") + "SELECT pg_catalog.setval(", StringComparison.Ordinal)
            .Replace("select /* c */", Restart("'\"Odd\".\"Seq\"'") + "select /* c */", StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(dump);

        for (var split = 0; split <= bytes.Length; split++)
        {
            using var guard = new RestoreGuard(SqlDialect.PostgreSql, "shop", sequencesInPlace: true);
            var output = new ArrayBufferWriter<byte>();
            Feed(guard, bytes, [split], output);
            Assert.Equal(expected, Text(output.WrittenSpan.ToArray()));
        }
        Assert.Equal(dump, Guard(dump));
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
    [InlineData("COPY public.t FROM STDOUT;", "FROM STDOUT, which the server reads as FROM STDIN")]
    [InlineData("SET \"client_encoding\" = 'SJIS';", "client encoding")]
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
        // meta-command to psql, not a row. A COPY psql does not send alone is refused itself (pg_dump writes none).
        Assert.Contains("a COPY", Refused("SELECT 0;\nSELECT (1;\nCOPY public.t FROM stdin;\n\\! touch /tmp/marker\n\\.\n", "COPY public.t").Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_CopyToStdout_Passes()
    {
        const string dump = "COPY (SELECT 1 FROM t) TO STDOUT;\nSELECT 2;\n";
        Assert.Equal(dump, Guard(dump));
    }

    /// <summary>
    /// A dump written with mysqldump --databases: its CREATE DATABASE and USE lines are left out (blank lines, so the
    /// client's line numbers stay the dump's), the rest passes byte for byte, at every split point; run, they would
    /// send the restore into that database instead of its staging database (the destination itself when the names match).
    /// </summary>
    [Fact]
    public void Guard_MySqlDumpOfOneDatabaseWithCreateDatabaseAndUse_LeavesThemOut()
    {
        var dump = Fixture("mysql-databases.sql");
        var lines = Text(dump).Split('\n');
        static bool OnTheDatabase(string line) => line.StartsWith("CREATE DATABASE ", StringComparison.Ordinal) || line == "USE `fixture`;";
        Assert.Equal(3, lines.Count(OnTheDatabase));

        foreach (var output in new[] { Guard(dump, dialect: SqlDialect.MySql, database: null), Guard(dump, Enumerable.Range(1, dump.Length - 1), SqlDialect.MySql, null) })
        {
            var passed = Text(output).Split('\n');
            Assert.Equal(lines.Length, passed.Length);
            // Each line passes as it is, or is left out with the comments before it in the same unit.
            for (var i = 0; i < lines.Length; i++)
            {
                Assert.True(passed[i] == lines[i] || (passed[i].Length == 0 && (OnTheDatabase(lines[i]) || lines[i].StartsWith("--", StringComparison.Ordinal))),
                    $"line {i + 1}: '{lines[i]}' became '{passed[i]}'");
                Assert.False(OnTheDatabase(passed[i]), $"line {i + 1} passed: {passed[i]}");
            }
        }
    }

    [Theory]
    [InlineData("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;")]
    [InlineData("/*!40000 DROP DATABASE IF EXISTS `shop`*/;")]
    [InlineData("USE `shop`;")]
    [InlineData("use\nshop;")]
    [InlineData("ALTER DATABASE `shop` CHARACTER SET latin1 COLLATE latin1_swedish_ci ;")]
    [InlineData("create /* c */ schema if not exists `shop`;")]
    [InlineData("CREATE OR REPLACE DATABASE shop;")]
    [InlineData("drop schema `shop`;")]
    // With sql_mode ANSI_QUOTES (which a dump can set) the server reads "shop" as a name.
    [InlineData("DROP DATABASE IF EXISTS \"shop\";")]
    [InlineData("USE \"shop\";")]
    public void Guard_MySqlStatementOnTheDumpsDatabase_IsLeftOutKeepingLineBreaks(string statement)
    {
        var dump = $"INSERT INTO t VALUES (1);\n{statement}\nINSERT INTO t VALUES (2);\n";
        var expected = $"INSERT INTO t VALUES (1);\n{new string('\n', statement.Count(c => c == '\n'))}\nINSERT INTO t VALUES (2);\n";

        foreach (var split in Enumerable.Range(0, dump.Length + 1))
        {
            Assert.Equal(expected, Text(Guard(Encoding.UTF8.GetBytes(dump), [split], SqlDialect.MySql, null)));
        }
    }

    [Theory]
    [InlineData("USE `other`;")]
    [InlineData("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `other`;")]
    [InlineData("/*!40000 DROP DATABASE IF EXISTS `other`*/;")]
    [InlineData("ALTER DATABASE `other` CHARACTER SET latin1;")]
    [InlineData("USE \"other\";")]
    public void Guard_MySqlDumpOfTwoDatabases_IsRefusedAtTheSecond(string second)
    {
        var e = Refused($"CREATE DATABASE `shop`;\nUSE `shop`;\nCREATE TABLE t (a int);\n{second}\nCREATE TABLE u (a int);\n", second, SqlDialect.MySql);

        Assert.Contains("more than one database ('shop', then 'other'", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, e.LineNumber);
    }

    [Theory]
    [InlineData("mysql-default.sql")]
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
    [InlineData("SELECT 1 \\C sjis\n;", "mysql client would run it")]
    [InlineData("/*!40101 SELECT 1 \\C sjis */;", "mysql client would run it")]
    [InlineData("SELECT 1 \\. /etc/passwd\n;", "mysql client would run it")]
    [InlineData("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t;", "LOAD DATA")]
    [InlineData("/*!40101 load xml infile '/x' into table t */;", "LOAD DATA")]
    [InlineData("SELECT a FROM t INTO OUTFILE '/tmp/out';", "INTO OUTFILE")]
    [InlineData("/*!50000 select 0x41 into dumpfile '/tmp/x' */;", "INTO OUTFILE")]
    [InlineData("XA START 'replica-review';", "an XA transaction")]
    [InlineData("/*!50000 xa prepare 'x' */;", "an XA transaction")]
    public void Guard_MySqlClientCommandOrLoadData_IsRefused(string statement, string reason)
    {
        Assert.Contains(reason, Refused($"INSERT INTO t VALUES (1);\n{statement}\nINSERT INTO t VALUES (2);\n", statement, SqlDialect.MySql).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Asserts <paramref name="statement"/>, between two ordinary ones, is refused with the same positioned error at every
    /// split point of the stream and as one-byte blocks, and that nothing from it on passed.
    /// </summary>
    static DumpFormatException RefusedEverywhere(string statement, SqlDialect dialect, string why = "beyond the destination database")
    {
        var input = (dialect == SqlDialect.MySql ? "INSERT INTO t VALUES (1);\n" : "CREATE TABLE t (a int);\n") + statement + "\nSELECT 2;\n";
        var bytes = Encoding.UTF8.GetBytes(input);
        var cut = Encoding.UTF8.GetByteCount(input[..input.IndexOf(statement, StringComparison.Ordinal)]);
        IEnumerable<int[]> splits = [.. Enumerable.Range(0, bytes.Length + 1).Select(i => new[] { i }), [.. Enumerable.Range(1, bytes.Length - 1)]];
        DumpFormatException? first = null;
        foreach (var points in splits)
        {
            using var guard = new RestoreGuard(dialect, "shop", staged: Staged(dialect, "shop"));
            var output = new ArrayBufferWriter<byte>();
            var e = Assert.Throws<DumpFormatException>(() => Feed(guard, bytes, points, output));
            Assert.True(output.WrittenCount <= cut, $"split {points[0]}: {Text(output.WrittenSpan.ToArray())}");
            Assert.Equal(first?.Message ?? e.Message, e.Message);
            first ??= e;
        }
        Assert.Contains("refused: ", first!.Message, StringComparison.Ordinal);
        Assert.Contains(why, first.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was restored", first.Message, StringComparison.Ordinal);
        Assert.Equal(2, first.LineNumber);
        return first;
    }

    [Theory]
    [InlineData("ALTER ROLE CURRENT_USER PASSWORD 'x';", "ALTER ROLE", 0)]
    [InlineData("alter /* a comment */ User app\n  with password 'x';", "ALTER USER", 0)]
    [InlineData("Alter Role app SET search_path = evil, public;", "ALTER ROLE", 0)]
    [InlineData("ALTER ROLE app IN DATABASE shop SET work_mem = '1GB';", "ALTER ROLE", 0)]
    [InlineData("ALTER GROUP staff ADD USER app;", "ALTER GROUP", 0)]
    [InlineData("CREATE ROLE evil LOGIN PASSWORD 'x';", "CREATE ROLE", 0)]
    [InlineData("create user evil;", "CREATE USER", 0)]
    [InlineData("DROP -- gone\nROLE IF EXISTS app;", "DROP ROLE", 0)]
    [InlineData("DROP USER app;", "DROP USER", 0)]
    [InlineData("GRANT pg_read_all_data TO app;", "GRANT of a role", 0)]
    [InlineData("grant \"Admins\" to app with admin option;", "GRANT of a role", 0)]
    [InlineData("REVOKE ADMIN OPTION FOR staff FROM app;", "REVOKE of a role", 0)]
    [InlineData("GRANT ALL ON DATABASE other_db TO PUBLIC;", "GRANT ... ON DATABASE", 0)]
    [InlineData("GRANT CREATE ON TABLESPACE ts TO app;", "GRANT ... ON TABLESPACE", 0)]
    [InlineData("REVOKE CONNECT ON database other_db FROM PUBLIC;", "REVOKE ... ON DATABASE", 0)]
    [InlineData("GRANT SET ON PARAMETER work_mem TO app;", "GRANT ... ON PARAMETER", 0)]
    [InlineData("CREATE SCHEMA s CREATE TABLE t (a int) GRANT CONNECT ON DATABASE other_db TO PUBLIC;", "GRANT ... ON DATABASE", 39)]
    [InlineData("ALTER DATABASE other_db SET search_path = evil;", "ALTER DATABASE", 0)]
    [InlineData("alter database other_db rename to gone;", "ALTER DATABASE", 0)]
    [InlineData("CREATE DATABASE evil;", "CREATE DATABASE", 0)]
    [InlineData("DROP DATABASE other_db;", "DROP DATABASE", 0)]
    [InlineData("COMMENT ON DATABASE other_db IS 'x';", "COMMENT ON DATABASE", 0)]
    [InlineData("comment /* c */ on role app is 'x';", "COMMENT ON ROLE", 0)]
    [InlineData("COMMENT ON TABLESPACE ts IS 'x';", "COMMENT ON TABLESPACE", 0)]
    [InlineData("SECURITY LABEL FOR selinux ON ROLE app IS 'x';", "SECURITY LABEL ON ROLE", 0)]
    [InlineData("security label on database other_db is 'x';", "SECURITY LABEL ON DATABASE", 0)]
    [InlineData("CREATE TABLESPACE ts LOCATION '/tmp/ts';", "CREATE TABLESPACE", 0)]
    [InlineData("ALTER TABLESPACE ts OWNER TO app;", "ALTER TABLESPACE", 0)]
    [InlineData("DROP TABLESPACE ts;", "DROP TABLESPACE", 0)]
    [InlineData("ALTER SYSTEM SET shared_buffers = '1GB';", "ALTER SYSTEM", 0)]
    [InlineData("REASSIGN OWNED BY app TO evil;", "REASSIGN OWNED", 0)]
    [InlineData("DROP OWNED BY app;", "DROP OWNED", 0)]
    public void Guard_StatementThatChangesTheClusterBeyondTheDatabase_IsRefused(string statement, string what, int at)
    {
        var e = RefusedEverywhere(statement, SqlDialect.PostgreSql);

        Assert.Contains($"refused: {what} changes the cluster", e.Message, StringComparison.Ordinal);
        Assert.Contains("pg_dump of one database without --create never writes", e.Message, StringComparison.Ordinal);
        Assert.Equal("CREATE TABLE t (a int);\n".Length + at, e.ByteOffset);
    }

    [Theory]
    [InlineData("SET PASSWORD = PASSWORD('x');", "SET PASSWORD", 0)]
    [InlineData("set /* c */ Password for 'app'@'%' = 'x';", "SET PASSWORD", 0)]
    [InlineData("/*!40101 SET PASSWORD = 'x' */;", "SET PASSWORD", 9)]
    [InlineData("ALTER USER CURRENT_USER() IDENTIFIED BY 'x';", "ALTER USER", 0)]
    [InlineData("/*!80000 alter user current_user() identified by 'x' */;", "ALTER USER", 9)]
    [InlineData("/*M!100100 Alter\n# c\nUser app IDENTIFIED BY 'x' */;", "ALTER USER", 11)]
    [InlineData("SET STATEMENT max_statement_time = 5 FOR SET PASSWORD = 'x';", "SET PASSWORD", 41)]
    [InlineData("CREATE USER evil IDENTIFIED BY 'x';", "CREATE USER", 0)]
    [InlineData("create or replace user evil;", "CREATE USER", 0)]
    [InlineData("DROP USER IF EXISTS app;", "DROP USER", 0)]
    [InlineData("RENAME USER app TO evil;", "RENAME USER", 0)]
    [InlineData("CREATE ROLE evil;", "CREATE ROLE", 0)]
    [InlineData("DROP ROLE r;", "DROP ROLE", 0)]
    [InlineData("SET DEFAULT ROLE r FOR app;", "SET DEFAULT ROLE", 0)]
    [InlineData("GRANT SELECT ON other.* TO 'app'@'%';", "GRANT", 0)]
    [InlineData("/*!50000 grant r to app */;", "GRANT", 9)]
    [InlineData("REVOKE ALL PRIVILEGES ON *.* FROM app;", "REVOKE", 0)]
    [InlineData("CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'evil');", "CREATE SERVER", 0)]
    [InlineData("ALTER SERVER s OPTIONS (HOST 'evil');", "ALTER SERVER", 0)]
    [InlineData("DROP SERVER s;", "DROP SERVER", 0)]
    [InlineData("INSTALL PLUGIN p SONAME 'p.so';", "INSTALL", 0)]
    [InlineData("install soname 'p';", "INSTALL", 0)]
    [InlineData("UNINSTALL PLUGIN p;", "UNINSTALL", 0)]
    [InlineData("ALTER INSTANCE ROTATE INNODB MASTER KEY;", "ALTER INSTANCE", 0)]
    [InlineData("CREATE TABLESPACE ts ADD DATAFILE 'ts.ibd';", "CREATE TABLESPACE", 0)]
    [InlineData("CREATE UNDO TABLESPACE u ADD DATAFILE 'u.ibu';", "CREATE UNDO TABLESPACE", 0)]
    [InlineData("CREATE RESOURCE GROUP g TYPE = USER;", "CREATE RESOURCE GROUP", 0)]
    [InlineData("SHUTDOWN;", "SHUTDOWN", 0)]
    [InlineData("/*!80000 restart */;", "RESTART", 9)]
    [InlineData("KILL 1;", "KILL", 0)]
    public void Guard_MySqlStatementThatChangesTheServerBeyondTheDatabase_IsRefused(string statement, string what, int at)
    {
        var e = RefusedEverywhere(statement, SqlDialect.MySql);

        Assert.Contains($"refused: {what} changes the server", e.Message, StringComparison.Ordinal);
        Assert.Contains("mysqldump of one database never writes", e.Message, StringComparison.Ordinal);
        Assert.Equal("INSERT INTO t VALUES (1);\n".Length + at, e.ByteOffset);
    }

    /// <summary>
    /// A MySQL restore runs in a staging database that replaces the destination only at the end; these would reach past
    /// it into the destination at once (tested against MariaDB in MysqlRestoreSafetyTests). The destination is "shop".
    /// </summary>
    [Theory]
    [InlineData("INSERT INTO shop.t VALUES (1);", "destination database (`shop`.", 12)]
    [InlineData("insert into `shop`.`t` values (1);", "destination database (`shop`.", 12)]
    [InlineData("UPDATE t, Shop . t2 SET t2.a = 1;", "destination database (`Shop`.", 10)]
    [InlineData("DELETE FROM shop/* c */.t;", "destination database (`shop`.", 12)]
    [InlineData("DELETE FROM shop\n# c\n.t;", "destination database (`shop`.", 12)]
    [InlineData("/*!40000 DELETE FROM shop.t */;", "destination database (`shop`.", 21)]
    [InlineData("DELETE FROM /*!40000shop.t*/;", "destination database (`shop`.", 20)]
    [InlineData("DELETE FROM /*M!100100shop.t*/;", "destination database (`shop`.", 22)]
    [InlineData("REPLACE INTO shop_replica_123_1700000000.t VALUES (1);", "staging database of the destination (`shop_replica_123_1700000000`.", 13)]
    [InlineData("DROP TABLE IF EXISTS t, `shop`.t2;", "destination database (`shop`.", 24)]
    [InlineData("RENAME TABLE t TO shop.t;", "destination database (`shop`.", 18)]
    [InlineData("INSERT INTO t VALUES (shop.f());", "destination database (`shop`.", 22)]
    [InlineData("INSERT INTO t SELECT a FROM shop.t2;", "destination database (`shop`.", 28)]
    [InlineData("CREATE VIEW shop.v AS SELECT 1;", "destination database (`shop`.", 12)]
    [InlineData("CREATE OR REPLACE DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `shop`.`v` AS SELECT 1;", "destination database (`shop`.", 71)]
    [InlineData("CREATE DEFINER=`root`@`localhost` TRIGGER tr AFTER INSERT ON `shop`.`t` FOR EACH ROW SET @a = 1;", "destination database (`shop`.", 61)]
    [InlineData("CREATE TRIGGER shop.tr AFTER INSERT ON t FOR EACH ROW SET @a = 1;", "destination database (`shop`.", 15)]
    [InlineData("CREATE PROCEDURE shop.p() SELECT 1;", "destination database (`shop`.", 17)]
    [InlineData("CREATE FUNCTION IF NOT EXISTS shop.f() RETURNS int RETURN 1;", "destination database (`shop`.", 30)]
    [InlineData("INSERT INTO \"shop\".t VALUES (1);", "destination database (`shop`.", 12)]
    [InlineData("DELETE FROM \"Shop\" . \"t\";", "destination database (`Shop`.", 12)]
    [InlineData("CREATE TRIGGER tr AFTER INSERT ON \"shop\".t FOR EACH ROW SET @a = 1;", "destination database (`shop`.", 34)]
    [InlineData("CALL p();", "CALL runs a stored procedure", 0)]
    [InlineData("call shop.p;", "CALL runs a stored procedure", 0)]
    [InlineData("/*!50000 Call p() */;", "CALL runs a stored procedure", 9)]
    [InlineData("PREPARE s FROM @sql;", "PREPARE runs SQL built from a string", 0)]
    [InlineData("execute s using @a;", "EXECUTE runs SQL built from a string", 0)]
    [InlineData("EXECUTE IMMEDIATE CONCAT('DROP TABLE ', 'shop.t');", "EXECUTE runs SQL built from a string", 0)]
    [InlineData("SET STATEMENT max_statement_time = 5 FOR CALL p();", "CALL runs a stored procedure", 41)]
    [InlineData("BINLOG 'AbCd';", "BINLOG replays binary log events", 0)]
    [InlineData("CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP DO DELETE FROM t;", "CREATE EVENT: an event runs on its own schedule", 0)]
    [InlineData("/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`localhost`*/ /*!50106 EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t */;", "CREATE EVENT", 9)]
    public void Guard_MySqlStatementThatReachesPastTheStagingDatabase_IsRefused(string statement, string what, int at)
    {
        var e = RefusedEverywhere(statement, SqlDialect.MySql, "the restore runs in a staging database that replaces the destination only at the end");

        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.Contains("mysqldump of one database writes none of these", e.Message, StringComparison.Ordinal);
        Assert.Equal("INSERT INTO t VALUES (1);\n".Length + at, e.ByteOffset);
    }

    /// <summary>
    /// Once the dump defined a trigger or routine whose body names the destination, a statement that could run the body
    /// (a row for the trigger's table, an expression that may call the routine) is refused, at every split point; the
    /// destination is "shop".
    /// </summary>
    [Theory]
    [InlineData("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW DELETE FROM shop.keep_me;\n", "INSERT INTO T VALUES (1);", "INSERT into `T`, a table with a trigger or a view, after the trigger `tr` (line 2)")]
    [InlineData("DELIMITER ;;\nCREATE TRIGGER tr BEFORE INSERT ON `t` FOR EACH ROW BEGIN\n  UPDATE `shop`.`keep_me` SET id = id + 1;\nEND ;;\nDELIMITER ;\n",
        "INSERT IGNORE INTO `t` VALUES (1),(2);", "INSERT into `t`, a table with a trigger or a view, after the trigger `tr` (line 3)")]
    [InlineData("CREATE TRIGGER tr AFTER INSERT ON \"t\" FOR EACH ROW DELETE FROM \"shop\".keep_me;\n", "INSERT INTO \"t\" VALUES (1);", "INSERT into `t`, a table with a trigger or a view, after the trigger `tr` (line 2)")]
    [InlineData("CREATE FUNCTION f() RETURNS int RETURN (SELECT count(*) FROM shop.t);\n", "INSERT INTO u VALUES (1, f());", "INSERT with an expression that may call a routine after the function `f` (line 2)")]
    [InlineData("CREATE FUNCTION f() RETURNS int RETURN (SELECT count(*) FROM shop.t);\n", "INSERT INTO u SELECT a FROM v;", "INSERT with an expression")]
    [InlineData("CREATE PROCEDURE p() DELETE FROM shop.t;\n", "SELECT f();", "SELECT after the procedure `p` (line 2)")]
    [InlineData("CREATE PROCEDURE p() DELETE FROM shop.t;\n", "SET @a = f();", "SET with an expression")]
    [InlineData("CREATE PROCEDURE p() DELETE FROM shop.t;\n", "UPDATE u SET a = 1;", "UPDATE after")]
    [InlineData("CREATE PROCEDURE p() DELETE FROM shop.t;\n", "CREATE TABLE u2 AS SELECT 1;", "CREATE ... SELECT after")]
    public void Guard_MySqlStatementThatMayRunABodyNamingTheDestination_IsRefused(string definition, string statement, string what)
    {
        var e = Refused($"CREATE TABLE t (a int);\n{definition}{statement}\nINSERT INTO u VALUES (3);\n", statement, SqlDialect.MySql);

        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.Contains("whose body names the destination database", e.Message, StringComparison.Ordinal);
    }

    static readonly MySqlServer s_mariaDb = MySqlServer.Parse("10.11.19-MariaDB-0+deb12u1");

    /// <summary>Guards a MySQL dump restored into "shop" on <paramref name="server"/> in blocks cut at <paramref name="split"/>.</summary>
    static string GuardOn(MySqlServer server, string dump, int split = 0)
    {
        using var guard = new RestoreGuard(SqlDialect.MySql, null, staged: Staged(SqlDialect.MySql, "shop"), mySqlServer: () => server);
        var output = new ArrayBufferWriter<byte>();
        Feed(guard, Encoding.UTF8.GetBytes(dump), [split], output);
        return Text(output.WrittenSpan.ToArray());
    }

    /// <summary>
    /// An executable comment the server skips (a version above its own; /*M! on MySQL) is blanked before the checks, so
    /// that a word or dot in it hides nothing from them (found by review: the guard read DROP x DATABASE and passed it,
    /// the server dropped the database); one whose version the server may read otherwise is refused.
    /// </summary>
    [Theory]
    [InlineData("10.11.19-MariaDB", "DELETE FROM shop/*M!999999 x*/.t;", "destination database (`shop`.")]
    [InlineData("10.11.19-MariaDB", "DELETE FROM /*M!999999 x. */ shop.t;", "destination database (`shop`.")]
    [InlineData("10.11.19-MariaDB", "CREATE /*M!999999 VIEW */ TABLE shop.t2 (c int);", "destination database (`shop`.")]
    [InlineData("10.11.19-MariaDB", "/*M!999999 x */ CALL p;", "CALL runs a stored procedure")]
    [InlineData("10.11.19-MariaDB", "CREATE /*M!999999 VIEW */ EVENT e ON SCHEDULE EVERY 1 SECOND DO DELETE FROM t;", "CREATE EVENT")]
    [InlineData("8.0.36", "CREATE /*!99999 VIEW */ EVENT e ON SCHEDULE EVERY 1 SECOND DO DELETE FROM t;", "CREATE EVENT")]
    [InlineData("8.0.36", "DELETE FROM shop/*M!100100 x*/.t;", "destination database (`shop`.")]
    [InlineData("8.0.36", "/*!123456 SET @a = 1 */;", "a version of 6 digits")]
    [InlineData("10.11.19-MariaDB", "/*!4010 SET @a = 1 */;", "a version of 4 digits")]
    [InlineData("10.11.19-MariaDB", "/*!40101 SET @a = 1 /*!40101 , @b = 2 */ */;", "inside another")]
    [InlineData("10.11.19-MariaDB", "/*!50000 SELECT 1 /* */ ' */ */ ;\nDELETE FROM t;\n# ';", "a comment inside an executable comment")]
    [InlineData("8.0.36", "/*!50000 SELECT 1 /* x */ */;", "a comment inside an executable comment")]
    [InlineData("10.11.19-MariaDB", "DELETE FROM shop\f.t;", "destination database (`shop`.")]
    [InlineData("10.11.19-MariaDB", "(SELECT shop.f());", "destination database (`shop`.")]
    public void Guard_MySqlExecutableCommentTheServerSkips_HidesNothing(string version, string statement, string what)
    {
        var server = MySqlServer.Parse(version);
        var input = $"INSERT INTO t VALUES (1);\n{statement}\nINSERT INTO t VALUES (2);\n";
        string? first = null;
        for (var split = 0; split <= input.Length; split++)
        {
            var e = Assert.Throws<DumpFormatException>(() => GuardOn(server, input, split));
            Assert.Equal(first ?? e.Message, e.Message);
            first ??= e.Message;
        }
        Assert.Contains(what, first, StringComparison.Ordinal);
        Assert.Contains("line 2", first, StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_MySqlExecutableComments_RunAsTheServerRunsThem()
    {
        const string dump = "/*M!999999\\- enable the sandbox mode */\n/*!40101 SET NAMES utf8mb4 */;\n"
            + "/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n"
            + "DROP /*M!999999 x */ DATABASE shop;\nCREATE TABLE t (a int) /*!80016 DEFAULT ENCRYPTION='N' */ /*!99999 COMMENT 'x' */;\n";
        const string sandbox = "/*M!999999\\- enable the sandbox mode */";
        var expected = dump.Replace(sandbox, new string(' ', sandbox.Length), StringComparison.Ordinal)
            .Replace("DROP /*M!999999 x */ DATABASE shop;", "", StringComparison.Ordinal);

        // MariaDB 10.11 (101119) runs /*!99999 ...*/ and /*M!100616 ...*/; MySQL 8.0.36 runs neither. (The session check
        // after each SET is left aside here: Guard_MySqlSet_IsFollowedByTheSessionCheckOnItsLine.)
        static string GuardOn(MySqlServer server, string dump) => RestoreGuardTests.GuardOn(server, dump).Replace(StatementParser.MySqlSessionCheck + ";", "", StringComparison.Ordinal);
        Assert.Equal(expected, GuardOn(s_mariaDb, dump));
        const string note = "/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */";
        const string comment = "/*!99999 COMMENT 'x' */";
        Assert.Equal(expected.Replace(note, new string(' ', note.Length), StringComparison.Ordinal).Replace(comment, new string(' ', comment.Length), StringComparison.Ordinal),
            GuardOn(MySqlServer.Parse("8.0.36"), dump));
    }

    /// <summary>
    /// After each statement but INSERT and REPLACE, on the same line and with the delimiter in force, the check that
    /// stops the client when the session now splits statements otherwise than the guard (NO_BACKSLASH_ESCAPES,
    /// ANSI_QUOTES, a GBK-like client character set). Not only after a SET: MariaDB keeps the character set a SET inside
    /// BEGIN NOT ATOMIC ... END set (found by review).
    /// </summary>
    [Fact]
    public void Guard_MySqlStatement_IsFollowedByTheSessionCheckOnItsLine()
    {
        const string dump = "SET NAMES utf8mb4;\nINSERT INTO t VALUES (1);\nREPLACE INTO t VALUES (1);\nCREATE TABLE u (a int);\nDELIMITER ;;\nSET @a = 1;;\n"
            + "BEGIN NOT ATOMIC SET NAMES utf8mb4; END;;\nDELIMITER ;\n/*!40101 SET @x = 2 */;\nSET @z = 3";
        const string check = StatementParser.MySqlSessionCheck;
        // The last statement has no delimiter (nothing of the dump follows it): no check after it.
        var expected = $"SET NAMES utf8mb4;{check};\nINSERT INTO t VALUES (1);\nREPLACE INTO t VALUES (1);\nCREATE TABLE u (a int);{check};\nDELIMITER ;;\nSET @a = 1;;{check};;\n"
            + $"BEGIN NOT ATOMIC SET NAMES utf8mb4; END;;{check};;\nDELIMITER ;\n/*!40101 SET @x = 2 */;{check};\nSET @z = 3";

        for (var split = 0; split <= dump.Length; split++)
        {
            Assert.Equal(expected, GuardOn(s_mariaDb, dump, split));
        }
        Assert.Equal(dump, Guard(dump, SqlDialect.MySql));
    }

    /// <summary>
    /// Where the mysql client splits a dump otherwise than the guard reads it (found by review, each hid a LOAD DATA LOCAL
    /// and a DELETE from the guard): "--" before a byte that is not a space (the client skips a line that starts with
    /// "--"; the guard read "--'" as two minus signs and a quote), and a backslash in a "..." string (a name without
    /// escapes under ANSI_QUOTES). The same positioned refusal at every split point, nothing of it passed.
    /// </summary>
    [Theory]
    [InlineData("--'\nDELETE FROM t;\n# ';", DashDash)]
    [InlineData("SELECT 1 --\u0001'\nDELETE FROM t;\n# ';", DashDash)]
    [InlineData("SELECT 1 AS \"x\\\";\nDELETE FROM t;\n# \";", "a backslash in a \"...\" string")]
    [InlineData("/*!50000 SELECT \"\\\\\" */;", "a backslash in a \"...\" string")]
    public void Guard_MySqlStatementTheClientSplitsOtherwise_IsRefused(string statement, string what)
    {
        RefusedEverywhere(statement, SqlDialect.MySql, what);
    }

    /// <summary>
    /// The client drops a whole line that starts with '#' or '--' before it reads comments, so a */ on such a line inside
    /// a /* */ comment does not end the comment for it; what the guard then reads as a string the client runs (found by
    /// review). Refused at every split point, nothing of it passed. Also where the server skips the executable comment:
    /// the check runs before the blanking.
    /// </summary>
    [Theory]
    [InlineData("/* x\n--*/ SELECT 1;\nSELECT '*/ DELETE FROM t; -- ';")]
    [InlineData("/* x\n#*/ SELECT 1;\nSELECT '*/ DELETE FROM t; -- ';")]
    [InlineData("SELECT 1 /* a\n-- b */;")]
    public void Guard_MySqlCommentLineTheClientDrops_IsRefused(string statement)
    {
        var e = Refused($"INSERT INTO t VALUES (1);\n{statement}\nINSERT INTO t VALUES (2);\n", statement, SqlDialect.MySql);
        Assert.Contains("a line inside a /* */ comment that starts with '#' or '--'", e.Message, StringComparison.Ordinal);
        var input = $"INSERT INTO t VALUES (1);\n{statement}\n";
        Assert.Throws<DumpFormatException>(() => GuardOn(s_mariaDb, input));
    }

    /// <summary>
    /// The mysql client (--binary-mode, as the restore runs it) takes DELIMITER as its command only alone at the start of a
    /// line; elsewhere it adds it to the statement and swallows everything up to the next ';' into the command, then runs
    /// the rest under a terminator the guard never saw (checked with MariaDB 10.11's client: "SELECT 1; DELIMITER $$"
    /// then "SELECT 'a'; SELECT 'smuggled'$$" ran the second SELECT as a statement of its own, which the guard read as
    /// the tail of the first). It also takes any line whose first nine bytes spell DELIMITER in Latin-1 (DELIMITERS $$,
    /// D\xC9LIMITER $$, DELIMITER alone or before a carriage return), and keeps at most 15 bytes of a terminator, with its
    /// quotes and escapes stripped. Each is refused at the command, at every split point, nothing of it passed.
    /// </summary>
    [Theory]
    [InlineData("SELECT 1; DELIMITER $$\nSELECT 'a'; XA START 'x' $$\n", "DELIMITER $$", Misplaced)]
    [InlineData("/* c */ DELIMITER $$\nSELECT 'a'; XA START 'x' $$\n", "DELIMITER $$", Misplaced)]
    [InlineData("/* a\nb */ delimiter $$\nSELECT 'a'; XA START 'x' $$\n", "delimiter $$", Misplaced)]
    [InlineData("DELIMITER\nXA START 'x';\n", "DELIMITER\n", Misplaced)]
    [InlineData("DELIMITER\r\nXA START 'x';\n", "DELIMITER\r", Misplaced)]
    [InlineData("DELIMITERS $$\nSELECT 'a'; XA START 'x' $$\n", "DELIMITERS", Misplaced)]
    [InlineData("DELIMITER;x $$\nSELECT 'a'; XA START 'x' $$\n", "DELIMITER;", Misplaced)]
    [InlineData("delimiter\v$$\nSELECT 'a'; XA START 'x' $$\n", "delimiter\v", Misplaced)]
    [InlineData("DELIMITER ;;;;;;;;;;;;;;;;;;\nSELECT 'a' ;;;;;;;;;;;;;;; XA START 'x' ;;;;;;;;;;;;;;;;;;\n", "DELIMITER ;;;", BadTerminator)]
    [InlineData("DELIMITER '$$ x'\nSELECT 'a' $$ x\n", "DELIMITER '", BadTerminator)]
    [InlineData("DELIMITER $\\$\nSELECT 'a' $$\n", "DELIMITER $", BadTerminator)]
    [InlineData("DELIMITER dd\ndd XA START 'x' dd\n", "DELIMITER dd", BadTerminator)]
    public void Guard_MySqlDelimiterTheClientReadsOtherwise_IsRefused(string statement, string command, string why)
    {
        var input = Encoding.UTF8.GetBytes("INSERT INTO t VALUES (1);\n" + statement + "SELECT 2;\n");
        var at = 26 + statement.IndexOf(command, StringComparison.Ordinal);
        IEnumerable<int[]> splits = [.. Enumerable.Range(0, input.Length + 1).Select(i => new[] { i }), [.. Enumerable.Range(1, input.Length - 1)]];
        foreach (var points in splits)
        {
            using var guard = new RestoreGuard(SqlDialect.MySql, "shop", staged: Staged(SqlDialect.MySql, "shop"));
            var output = new ArrayBufferWriter<byte>();
            var e = Assert.Throws<DumpFormatException>(() => Feed(guard, input, points, output));
            Assert.Contains("refused: " + why, e.Message, StringComparison.Ordinal);
            Assert.Equal(at, e.ByteOffset);
            Assert.True(output.WrittenCount <= at, $"split {points[0]}: {Text(output.WrittenSpan.ToArray())}");
        }
    }

    /// <summary>A byte the client's Latin-1 comparison folds to a letter of DELIMITER: the client takes the line as the command.</summary>
    [Theory]
    [InlineData("D\u00C9LIMITER $$\nSELECT 'a'; XA START 'x' $$\n")]
    [InlineData("\u00D0ELIMITER $$\nSELECT 1$$\n")]
    [InlineData("DELIMIT\u00C8R $$\nSELECT 1$$\n")]
    public void Guard_MySqlDelimiterSpelledWithLatin1Letters_IsRefused(string statement)
    {
        var input = Encoding.Latin1.GetBytes("INSERT INTO t VALUES (1);\n" + statement + "SELECT 2;\n");
        foreach (var split in Enumerable.Range(0, input.Length + 1))
        {
            using var guard = new RestoreGuard(SqlDialect.MySql, "shop", staged: Staged(SqlDialect.MySql, "shop"));
            var output = new ArrayBufferWriter<byte>();
            var e = Assert.Throws<DumpFormatException>(() => Feed(guard, input, [split], output));
            Assert.Contains(Misplaced, e.Message, StringComparison.Ordinal);
            Assert.Equal(26, e.ByteOffset);
            Assert.True(output.WrittenCount <= 26, $"split {split}");
        }
    }

    /// <summary>
    /// MysqlDestination writes its session check on the client's first line, before the dump: a DELIMITER on the dump's
    /// first line follows a statement there, and the client swallows what follows it up to the next ';'.
    /// </summary>
    [Fact]
    public void Guard_MySqlDelimiterOnTheFirstLineBehindTheSessionCheck_IsRefused()
    {
        const string dump = "  DELIMITER $$\nSELECT 'a'; XA START 'x' $$\n";
        for (var split = 0; split <= dump.Length; split++)
        {
            var e = Assert.Throws<DumpFormatException>(() => GuardOn(s_mariaDb, dump, split));
            Assert.Contains(Misplaced, e.Message, StringComparison.Ordinal);
            Assert.Equal(2, e.ByteOffset);
        }
        Assert.Contains("\nDELIMITER $$\nSELECT 1 $$", GuardOn(s_mariaDb, "-- dump\nDELIMITER $$\nSELECT 1 $$"), StringComparison.Ordinal);
    }

    /// <summary>What the client takes as DELIMITER the same way passes, byte for byte, and sets the same terminator.</summary>
    [Theory]
    [InlineData("  delimiter $$\nSELECT 1 $$\nDELIMITER ;\nSELECT 2;\n")]
    [InlineData("-- c\n/* a */\n\tDELIMITER\t//   trailing words\nSELECT 1 //\nDELIMITER ;\n")]
    [InlineData("\v\fDELIMITER ;;\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET @a = 1; END ;;\nDELIMITER ;\n")]
    [InlineData("DELIMITER ;;\r\nSELECT 1 ;; SELECT 2 ;;\r\nDELIMITER ;\r\nSELECT 3;\r\n")]
    [InlineData("DELIMITER ;;;;;;;;;;;;;;;\nSELECT 1 ;;;;;;;;;;;;;;;\nDELIMITER ;\n")]
    public void Guard_MySqlDelimiterAloneAtTheStartOfALine_Passes(string statements)
    {
        var input = "INSERT INTO t VALUES (1);\n" + statements;
        Assert.Equal(input, Guard(input, SqlDialect.MySql));
    }

    /// <summary>
    /// CRLF lines: the client keeps the carriage return in the terminator (--binary-mode), "DELIMITER ;;\r\n" ends
    /// statements at ";;\r" only; so does the lexer now (it ended them at ";;", in "SELECT 1 ;; SELECT 2" too).
    /// </summary>
    [Fact]
    public void Split_MySqlDelimiterBeforeACarriageReturn_KeepsItInTheTerminator()
    {
        using var splitter = new UnitSplitter(1 << 20, SqlDialect.MySql);
        var units = new UnitCollector();
        splitter.Process("DELIMITER ;;\r\nSELECT 1 ;; SELECT 2 ;;\r\n"u8, units);
        Assert.Equal(["DELIMITER ;;\r\n", "SELECT 1 ;; SELECT 2 ;;\r"], units.Texts);
        Assert.Equal(";;\r"u8.ToArray(), splitter.Delimiter.ToArray());
    }

    sealed class UnitCollector : IUnitSink
    {
        public List<string> Texts { get; } = [];

        public void Unit(in DumpUnit unit, ReadOnlySpan<byte> bytes) => Texts.Add(Encoding.Latin1.GetString(bytes));

        public void Rows(ReadOnlySpan<byte> rows) => Texts.Add(Encoding.Latin1.GetString(rows));
    }

    const string Misplaced = "a DELIMITER command after other text on its line, or spelled otherwise";
    const string BadTerminator = "DELIMITER needs a terminator of 1 to 15 bytes";

    const string DashDash = "'--' before a byte other than a space";

    [Theory]
    [InlineData("-- a comment\nSELECT 1;")]
    [InlineData("--\nSELECT 1;")]
    [InlineData("--\tx\nSELECT 1;")]
    [InlineData("SELECT 1 - -1, '--x', `--y`, \"--z\";")]
    [InlineData("SELECT 1 /* --x */;")]
    public void Guard_MySqlDashesThatBothReadAlike_Pass(string statement)
    {
        var dump = $"INSERT INTO t VALUES (1);\n{statement}\n";
        Assert.Equal(dump, Guard(dump, SqlDialect.MySql));
    }

    [Theory]
    [InlineData("(SELECT f());", "a query in parentheses after")]
    [InlineData("ANALYZE SELECT f();", "ANALYZE after")]
    [InlineData("INSERT INTO v VALUES (1);", "INSERT into `v`, a table with a trigger or a view, after")]
    public void Guard_MySqlStatementThatMayRunABodyNamingTheDestinationAnotherWay_IsRefused(string statement, string what)
    {
        var e = Refused("CREATE TABLE a (c int);\nCREATE TRIGGER tr BEFORE INSERT ON a FOR EACH ROW DELETE FROM shop.t;\nCREATE VIEW v AS SELECT c FROM a;\n"
            + statement + "\n", statement, SqlDialect.MySql);

        Assert.Contains(what, e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// mysqldump's order, with a trigger that names its own database (the destination, "fixture"): the table's rows come
    /// before its trigger, other tables' rows are literals, routines come last, and the session settings after them run
    /// nothing; a trigger that does not name the destination taints nothing.
    /// </summary>
    [Fact]
    public void Guard_MySqlDumpOrderWithABodyNamingTheDestination_Passes()
    {
        const string dump = "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n"
            + "CREATE TRIGGER plain AFTER INSERT ON u FOR EACH ROW INSERT INTO audit VALUES (NEW.a);\n"
            + "INSERT INTO u VALUES (0);\n"
            + "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO fixture.audit VALUES (NEW.a) */;\n"
            + "CREATE TABLE w (a int, b blob, c text);\nLOCK TABLES `w` WRITE;\n/*!40000 ALTER TABLE `w` DISABLE KEYS */;\n"
            + "INSERT INTO `w` VALUES (1,_binary 'y',NULL),(2,0x41,'f(x)');\nINSERT INTO w (a) VALUES (2) ON DUPLICATE KEY UPDATE a = VALUES(a);\n"
            + "/*!40000 ALTER TABLE `w` ENABLE KEYS */;\nUNLOCK TABLES;\n"
            + "DELIMITER ;;\nCREATE PROCEDURE p()\nBEGIN\n  DELETE FROM fixture.audit;\nEND ;;\nDELIMITER ;\n"
            + "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n";
        Assert.Equal(dump, Guard(dump, SqlDialect.MySql));
    }

    /// <summary>A destination whose name starts with digits (the tokenizer reads 2024 and db): its qualifier is found too.</summary>
    [Theory]
    [InlineData("DELETE FROM 2024db.t;", true)]
    [InlineData("DELETE FROM `2024db`.t;", true)]
    [InlineData("DELETE FROM 2024 db.t;", false)]
    [InlineData("SELECT 2024db FROM t;", false)]
    public void Guard_MySqlDestinationWhoseNameStartsWithDigits_IsFoundAsAQualifier(string statement, bool refused)
    {
        using var guard = new RestoreGuard(SqlDialect.MySql, null, staged: new StagedNames("2024db", "2024db_replica_"));
        var output = new ArrayBufferWriter<byte>();
        var dump = Encoding.UTF8.GetBytes(statement + "\n");
        if (refused)
        {
            Assert.Contains("destination database (`2024db`.", Assert.Throws<DumpFormatException>(() => Feed(guard, dump, [], output)).Message, StringComparison.Ordinal);
        }
        else
        {
            Feed(guard, dump, [], output);
            Assert.Equal(statement + "\n", Text(output.WrittenSpan.ToArray()));
        }
    }

    /// <summary>
    /// What looks like the destination's name but does not qualify a name, another database (the user's grants decide
    /// there), and the bodies of definitions, which are kept, not run: a routine or trigger may name its own database,
    /// and a view may read a table named like it. The destination is "fixture", as in <see cref="Guard(byte[], IEnumerable{int}?, SqlDialect, string?)"/>.
    /// </summary>
    [Theory]
    [InlineData("INSERT INTO t VALUES ('fixture.t', 'INSERT INTO fixture.t', 1.5, .5);")]
    [InlineData("/* fixture.t */ INSERT INTO t VALUES (1);")]
    [InlineData("# fixture.t\nINSERT INTO t VALUES (1);")]
    [InlineData("INSERT INTO fixtures.t VALUES (1);")]
    [InlineData("INSERT INTO my_fixture.t VALUES (1);")]
    [InlineData("SELECT t.fixture, u.fixture . x FROM t, u;")]
    [InlineData("CREATE TABLE fixture (fixture int);")]
    [InlineData("/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */ /*!50001 VIEW `v` AS select `fixture`.`id` AS `id` from `fixture` */;")]
    [InlineData("/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 trigger tr after insert on t for each row insert into fixture.audit values (new.id) */;")]
    [InlineData("DELIMITER ;;\nCREATE DEFINER=`root`@`localhost` PROCEDURE `p`()\nBEGIN\n  INSERT INTO fixture.t VALUES (1);\n  PREPARE s FROM @x; EXECUTE s;\nEND ;;\nDELIMITER ;")]
    [InlineData("DEALLOCATE PREPARE s;")]
    public void Guard_MySqlStatementThatStaysInTheStagingDatabase_Passes(string statement)
    {
        var dump = statement + "\n";
        Assert.Equal(dump, Guard(dump, SqlDialect.MySql));
    }

    [Theory]
    // pg_dump's ACLs name objects of the database; user mappings belong to a foreign server of the database.
    [InlineData("GRANT SELECT ON TABLE public.t TO reporting;")]
    [InlineData("GRANT SELECT(a, b) ON public.t TO reporting;")]
    [InlineData("REVOKE ALL ON SCHEMA public FROM PUBLIC;")]
    [InlineData("GRANT USAGE ON FOREIGN SERVER s TO app;")]
    [InlineData("GRANT ALL ON ALL TABLES IN SCHEMA public TO app;")]
    [InlineData("ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA public GRANT SELECT ON TABLES TO reporting;")]
    [InlineData("CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'x');")]
    [InlineData("ALTER USER MAPPING FOR app SERVER s OPTIONS (SET user 'y');")]
    [InlineData("COMMENT ON TABLE public.role IS 'ALTER ROLE app PASSWORD ''x''';")]
    [InlineData("ALTER TABLE public.t ALTER role TYPE text;")]
    [InlineData("SECURITY LABEL FOR selinux ON TABLE public.t IS 'x';")]
    [InlineData("CREATE SCHEMA s AUTHORIZATION app CREATE TABLE t (a int) GRANT SELECT ON t TO reporting;")]
    [InlineData("CREATE TABLE public.\"user\" (role text, \"grant\" text);")]
    [InlineData("SET ROLE app;")]
    [InlineData("SET default_tablespace = '';")]
    public void Guard_StatementInsideTheDatabase_Passes(string statement)
    {
        var dump = statement + "\n";
        Assert.Equal(dump, Guard(dump));
    }

    [Theory]
    // What mysqldump writes: session settings, locks, an ALTER DATABASE of the current database (no name).
    [InlineData("/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;")]
    [InlineData("SET @@SESSION.SQL_LOG_BIN= 0;")]
    [InlineData("LOCK TABLES `user` WRITE;")]
    [InlineData("ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci ;")]
    [InlineData("CREATE TABLE `database` (`use` int);")]
    [InlineData("CREATE TABLE `user` (`role` int, `password` varchar(10));")]
    [InlineData("DROP TABLE IF EXISTS `server`;")]
    [InlineData("SET ROLE r;")]
    [InlineData("SET STATEMENT max_statement_time = 5 FOR SELECT 1;")]
    public void Guard_MySqlStatementInsideTheDatabase_Passes(string statement)
    {
        var dump = statement + "\n";
        Assert.Equal(dump, Guard(dump, SqlDialect.MySql));
    }

    [Theory]
    [InlineData("GRANT reporting TO app", SqlDialect.PostgreSql)]
    [InlineData("ALTER ROLE app SET search_path = shop", SqlDialect.PostgreSql)]
    [InlineData("GRANT SELECT ON shop.* TO 'reporting'@'%'", SqlDialect.MySql)]
    public void CheckStep_ConfigAuthorsStepThatChangesRoles_Passes(string sql, SqlDialect dialect)
    {
        // destination.after_restore is the config author's own SQL, not the dump's.
        var step = new SqlStep(sql, "replica.yaml:3:7");
        Assert.StartsWith(sql, Text(RestoreGuard.CheckStep(step, dialect, "shop")), StringComparison.Ordinal);
    }

    [Fact]
    public void Guard_MySqlBackslashesInStringsAndTheSandboxCommand_Pass()
    {
        const string dump = "/*M!999999\\- enable the sandbox mode */ \nINSERT INTO t VALUES ('\\\\! x', \"y\", `a\\b`);\n# \\! comment\n";
        Assert.Equal(dump, Guard(dump, SqlDialect.MySql));
    }
}

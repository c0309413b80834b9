using System.Text;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>`replica dump` refuses what a restore would refuse, so it never reaches a bridge.</summary>
public class DumpRewriterSafetyTests
{
    static DumpFormatException Refused(string dump, SqlDialect dialect = SqlDialect.PostgreSql) =>
        Assert.Throws<DumpFormatException>(() => Rewrite(Encoding.UTF8.GetBytes(dump), dialect: dialect));

    [Theory]
    [InlineData("\\! touch /tmp/marker\n")]
    [InlineData("\\o /tmp/out\n")]
    [InlineData("SELECT 1 \\g |id\n;")]
    [InlineData("COPY public.t FROM PROGRAM 'id';")]
    [InlineData("COPY public.t TO '/tmp/t';")]
    public void Rewrite_CommandThatRunsOnTheRestoringMachine_IsRefusedWithItsLine(string statement)
    {
        var e = Refused($"SET client_encoding = 'UTF8';\nSELECT 1;\n{statement}\nSELECT 2;\n");
        Assert.Equal(3, e.LineNumber);
        var start = "SET client_encoding = 'UTF8';\nSELECT 1;\n".Length;
        Assert.Equal(start + (statement.StartsWith("SELECT", StringComparison.Ordinal) ? statement.IndexOf('\\', StringComparison.Ordinal) : 0), e.ByteOffset);
        Assert.StartsWith($"malformed dump at line 3, byte offset {e.ByteOffset}: refused: ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\\.\n")]
    public void Rewrite_CopyFromStdout_IsRefused(string end)
    {
        // The server takes COPY ... FROM STDOUT for FROM STDIN, and psql sends the lines after it as rows, up to \. or the
        // end of the dump. The lexer read them as SQL: the rows of a masked table went through unmasked.
        const string copy = "CREATE TABLE public.t (id integer, email text);\ncopy public.t (id, email) FROM stdout;\n";
        var dump = copy + "1\treal@example.com\n" + end;
        var bytes = Encoding.UTF8.GetBytes(dump);
        var rules = Rules("public.t.email=upper");

        var e = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules));
        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(e.Message, Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, [split])).Message);
        }
        Assert.Equal(2, e.LineNumber);
        Assert.Equal(copy.IndexOf("copy", StringComparison.Ordinal), e.ByteOffset);
        Assert.Contains("refused: COPY ... FROM STDOUT, which the server reads as FROM STDIN", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rewrite_NonStandardStringsWithoutRules_ReadsBackslashEscapes()
    {
        // standard_conforming_strings = off: \' is a quote inside the string, so "; \! x" is string content, not a
        // meta-command. Without rules the rewriter used to read the string as if the setting were on, and refused it.
        var dump = "SET standard_conforming_strings = off;\nSELECT 'it\\'s; \\! x';\n";

        Assert.Equal(dump, Text(Rewrite(Encoding.UTF8.GetBytes(dump))));
    }

    [Theory]
    [InlineData("system touch /tmp/marker;")]
    [InlineData("\\! touch /tmp/marker\n;")]
    [InlineData("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t;")]
    [InlineData("INSERT INTO t VALUES (2) \\! touch /tmp/marker\n;")]
    public void Rewrite_MySqlClientCommandOrLoadData_IsRefused(string statement)
    {
        Assert.Equal(2, Refused($"INSERT INTO t VALUES (1);\n{statement}\n", SqlDialect.MySql).LineNumber);
    }

    [Theory]
    [InlineData("INSERT INTO public.t VALUES (1) \\g |id\n;")]
    [InlineData("  insert INTO public.t VALUES (1) \\! id\n;")]
    public void Rewrite_BackslashCommandInsideAnInsert_IsRefused(string statement)
    {
        // INSERTs take a shortcut past the statement classification; the backslash check still sees them.
        Assert.Equal(2, Refused($"SELECT 1;\n{statement}\nSELECT 2;\n").LineNumber);
    }

    [Fact]
    public void Rewrite_MetaCommandsPgDumpWrites_PassThrough()
    {
        const string dump = "\\restrict AbC123\n\\connect shop\n\\connect \"Odd\"\"Db\"\nSELECT 1;\n\\unrestrict AbC123\n";
        Assert.Equal(dump, Text(Rewrite(Encoding.UTF8.GetBytes(dump))));
    }
}

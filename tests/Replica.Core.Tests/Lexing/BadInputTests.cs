using System.Text;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Lexing;

public class BadInputTests
{
    static DumpFormatException Fails(string dump, Replica.Rewriting.RewriteRules? rules = null, long maxUnitBytes = 256L << 20)
    {
        var bytes = Encoding.UTF8.GetBytes(dump);
        var whole = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, maxUnitBytes: maxUnitBytes));
        // The same error, at the same place, whatever the block boundaries.
        for (var split = 1; split < bytes.Length; split++)
        {
            var part = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, [split], maxUnitBytes));
            Assert.Equal(whole.Message, part.Message);
        }
        return whole;
    }

    const string Header = "SET x = 1;\nCOPY public.t (a, b) FROM stdin;\n";

    [Fact]
    public void Rewrite_TruncatedCopyBlock_NamesTableAndRow()
    {
        var e = Fails(Header + "1\tx\n2\ty\n");
        Assert.Equal("public.t", e.Table);
        Assert.Equal(3, e.RowNumber);
        Assert.Equal(5, e.LineNumber);
        Assert.Equal(Header.Length + 8, e.ByteOffset);
        Assert.Contains("\\.", e.Message);
    }

    [Theory]
    [InlineData("INSERT INTO public.t (a, b) VALUES (1, );\n")]
    [InlineData("INSERT INTO public.t (a, b) VALUES (1, 'x'), (2, );\n")]
    public void Rewrite_EmptyValueInATransformedColumn_IsPositionedAtItsEnd(string statement)
    {
        var dump = "SET x = 1;\n" + statement;

        var e = Fails(dump, Rules("public.t.b=upper"));

        // Found by fuzzing: the offset was -1 (the value's start, which an empty value does not have).
        Assert.Equal(dump.LastIndexOf(')'), e.ByteOffset);
        Assert.Equal(2, e.LineNumber);
        Assert.Contains("column b has no value", e.Message);
    }

    [Fact]
    public void Rewrite_RowCutWithoutNewline_IsTruncated()
    {
        var e = Fails(Header + "1\tx\n2\ty");
        Assert.Equal(2, e.RowNumber);
        Assert.Equal(4, e.LineNumber);
    }

    [Fact]
    public void Rewrite_WrongFieldCount_NamesRowLineAndOffset()
    {
        var e = Fails(Header + "1\tx\n2\ty\tz\n\\.\n");
        Assert.Equal("public.t", e.Table);
        Assert.Equal(2, e.RowNumber);
        Assert.Equal(4, e.LineNumber);
        Assert.Equal(Header.Length + 4, e.ByteOffset);
        Assert.Contains("3 fields, expected 2", e.Message);
    }

    [Fact]
    public void Rewrite_WrongFieldCountInTransformedTable_IsAlsoAnError()
    {
        var e = Fails(Header + "1\tx\n2\n\\.\n", Rules("public.t.b=upper"));
        Assert.Equal(2, e.RowNumber);
        Assert.Contains("1 fields, expected 2", e.Message);
    }

    [Fact]
    public void Rewrite_EscapedTabIsNotADelimiter()
    {
        var ok = Encoding.UTF8.GetBytes(Header + "1\tx\\\ty\n\\.\n");
        Assert.Equal(ok, Rewrite(ok));
        var e = Fails(Header + "1\\\tx\n\\.\n");
        Assert.Contains("1 fields", e.Message);
    }

    [Fact]
    public void Rewrite_BackslashAtEndOfRow_IsABadEscape()
    {
        var e = Fails(Header + "1\tx\\\n\\.\n");
        Assert.Contains("bad escape", e.Message);
        Assert.Equal(1, e.RowNumber);
    }

    [Fact]
    public void Rewrite_EscapeDecodingToZeroByte_IsABadEscapeWhenTransformed()
    {
        var e = Fails(Header + "1\tx\\000y\n\\.\n", Rules("public.t.b=upper"));
        Assert.Contains("zero byte", e.Message);
        Assert.Equal(Header.Length + 3, e.ByteOffset);
    }

    [Fact]
    public void Rewrite_UnterminatedString_PointsAtItsStart()
    {
        var e = Fails("SET a = 1;\nSELECT 'abc;\n\nSELECT 1;\n");
        Assert.Contains("unterminated quoted string", e.Message);
        Assert.Equal(2, e.LineNumber);
        Assert.Equal(18, e.ByteOffset);
    }

    [Fact]
    public void Rewrite_UnterminatedCommentAndDollarQuote_AreErrors()
    {
        Assert.Contains("unterminated /* comment", Fails("SELECT 1; /* a /* b */ c;\n").Message);
        Assert.Contains("unterminated dollar-quoted", Fails("CREATE FUNCTION f() AS $x$ body; $y$;\n").Message);
        Assert.Contains("unterminated quoted identifier", Fails("SELECT \"abc;\n").Message);
        Assert.Contains("unterminated E''", Fails("SELECT E'ab\\';\n").Message);
    }

    [Fact]
    public void Rewrite_RowOverTheCap_IsAnError()
    {
        var e = Fails(Header + "1\t" + new string('x', 100) + "\n\\.\n", maxUnitBytes: 64);
        Assert.Contains("larger than the limit of 64 bytes", e.Message);
        Assert.Equal("public.t", e.Table);
        Assert.Equal(1, e.RowNumber);
    }

    [Fact]
    public void Rewrite_InsertWithWrongValueCount_IsAnError()
    {
        var e = Fails("CREATE TABLE public.t (a int, b text);\nINSERT INTO public.t VALUES (1, 'x', 3);\n", Rules("public.t.b=upper"));
        Assert.Contains("more than 2 values", e.Message);
        Assert.Equal(2, e.LineNumber);
    }

    [Fact]
    public void Rewrite_CopyInCsvFormat_IsRefusedClearly()
    {
        var e = Fails("COPY public.t (a, b) FROM stdin WITH (FORMAT csv);\n1,\"x\ny\"\n\\.\n");
        Assert.Contains("COPY with options", e.Message);
        Assert.Equal("public.t", e.Table);
    }

    [Fact]
    public void Rewrite_StatementWithoutSemicolonAtEnd_PassesThrough()
    {
        var bytes = Encoding.UTF8.GetBytes("SELECT 1;\nSELECT 2 -- no semicolon");
        Assert.Equal(bytes, Rewrite(bytes));
    }

    /// <summary>
    /// A NUL byte in a COPY row: text COPY cannot carry it into PostgreSQL and psql reads its line only up to it (a
    /// restore refuses it), so it is refused when the dump is stored, at the NUL, with the table and row: passed
    /// through, dropped or transformed, in a run of rows or alone.
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData("public.t.b=upper")]
    [InlineData("public.t.a=upper")]
    public void Rewrite_NulByteInCopyRow_IsRefusedAtTheNul(string? rule)
    {
        var dump = Header + "1\tx\n2\ty\0z\n3\tw\n\\.\n";

        var e = Fails(dump, rule is null ? null : Rules(rule));

        Assert.Equal("public.t", e.Table);
        Assert.Equal(2, e.RowNumber);
        Assert.Equal(4, e.LineNumber);
        Assert.Equal(Header.Length + 7, e.ByteOffset);
        Assert.Contains("refused: a NUL byte in a COPY row", e.Message);
    }

    [Fact]
    public void Rewrite_NulByteInRowOfDroppedTable_IsRefused()
    {
        var e = Fails(Header + "1\tx\0\n\\.\n", Rules([], ["public.t"], []));
        Assert.Equal(Header.Length + 3, e.ByteOffset);
        Assert.Contains("NUL byte in a COPY row", e.Message);
    }

    /// <summary>
    /// A dollar quote whose tag is longer than the lexer tracks (64 bytes) is refused where it opens, at every split
    /// point: psql and the server read it as a quote, the lexer could not follow it, and a restore would refuse it.
    /// </summary>
    [Fact]
    public void Rewrite_DollarQuoteTagLongerThanTracked_IsRefusedWhereItOpens()
    {
        var tag = "$" + new string('T', 65) + "$";
        var dump = $"SET x = 1;\nSELECT {tag}, $$\n{tag} AS a,\n\\! touch /tmp/m\n$$ AS b; -- $$;\n";

        var e = Fails(dump);

        Assert.Equal(2, e.LineNumber);
        Assert.Equal(18, e.ByteOffset);
        Assert.Contains("refused: a dollar quote whose tag is longer than 64 bytes", e.Message);
    }
}

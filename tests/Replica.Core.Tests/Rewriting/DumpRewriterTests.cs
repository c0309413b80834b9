using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

public class DumpRewriterTests
{
    static readonly byte[] s_tricky = Fixture("tricky.sql");

    [Fact]
    public void Rewrite_CopyColumnRule_ChangesOnlyThatColumn()
    {
        var output = Text(Rewrite(s_tricky, Rules("public.customers.email=upper")));
        Assert.Contains("1\tALICE@EXAMPLE.COM\tAlice\t\\N\n", output);
        Assert.Contains("2\tBOB@EXAMPLE.COM\tBob\ttab\\there\\nnewline \\\\ backslash\n", output);
        // INSERT with and without a column list, and multi-row VALUES.
        Assert.Contains("VALUES (5, 'EVE@EXAMPLE.COM', 'Eve', NULL);", output);
        Assert.Contains("(6, 'O''NEIL@EXAMPLE.COM', E'Fr\\\\u00e4nk', 'x'::text);", output);
        Assert.Contains("(7, 'G@EXAMPLE.COM', 'G', NULL),", output);
        Assert.Contains("(8, 'H@EXAMPLE.COM', 'H;', 'semi;colon');", output);
        // The function body that looks like COPY and the constraint keep their bytes.
        Assert.Contains("-- looks like data: COPY public.customers (id) FROM stdin;", output);
        Assert.Contains("ADD CONSTRAINT customers_email_key UNIQUE (email);", output);
    }

    // Consecutive INSERTs with the same bytes up to VALUES reuse the first one's table and columns (TryRepeatInsert).
    [Fact]
    public void Rewrite_RepeatedInsertPrefix_MasksEveryRowAtEverySplit()
    {
        var input = "INSERT INTO public.t (id, email) VALUES (1, 'a@example.com');\n"u8.ToArray()
            .Concat("INSERT INTO public.t (id, email) VALUES (2, 'b@example.com');\n"u8.ToArray())
            .Concat("INSERT INTO public.t (email, id) VALUES ('c@example.com', 3);\n"u8.ToArray())
            .Concat("INSERT INTO public.t (email, id) VALUES ('d@example.com', 4);\n"u8.ToArray()).ToArray();
        var expected = "INSERT INTO public.t (id, email) VALUES (1, 'A@EXAMPLE.COM');\n"
            + "INSERT INTO public.t (id, email) VALUES (2, 'B@EXAMPLE.COM');\n"
            + "INSERT INTO public.t (email, id) VALUES ('C@EXAMPLE.COM', 3);\n"
            + "INSERT INTO public.t (email, id) VALUES ('D@EXAMPLE.COM', 4);\n";
        for (var split = 0; split <= input.Length; split++)
        {
            Assert.Equal(expected, Text(Rewrite(input, Rules("public.t.email=upper"), [split])));
        }
    }

    [Fact]
    public void Rewrite_RepeatedInsertPrefix_FollowedByAnotherWord_IsNotAnInsert()
    {
        // Same bytes up to VALUES, but the word goes on: not an INSERT ... VALUES, so it is not read as one. (It used to
        // pass unchanged; an INSERT the rewriter cannot read is now refused for a masked table.)
        var e = Assert.Throws<Replica.Lexing.DumpFormatException>(() => Rewrite("""
            INSERT INTO public.t (id, email) VALUES (1, 'a@example.com');
            INSERT INTO public.t (id, email) VALUES_x (2, 'b@example.com');

            """u8.ToArray(), Rules("public.t.email=upper")));
        Assert.Equal(2, e.LineNumber);
        Assert.Contains("INSERT writes rows of public.t", e.Message);
    }

    [Fact]
    public void Rewrite_RepeatedInsertPrefix_AfterStandardConformingStringsOff_ReadsBackslashesAsEscapes()
    {
        var output = Text(Rewrite("""
            INSERT INTO public.t (id, note) VALUES (1, 'a\tb');
            SET standard_conforming_strings = off;
            INSERT INTO public.t (id, note) VALUES (2, 'a\tb');

            """u8.ToArray(), Rules("public.t.note=upper")));
        Assert.Contains("VALUES (1, 'A\\TB');", output); // a backslash, then "tb"
        Assert.Contains("VALUES (2, E'A\tB');", output); // a tab: upper-cased around it
    }

    [Fact]
    public void Rewrite_QuotedMixedCaseNames_MatchExactly()
    {
        var output = Text(Rewrite(s_tricky, Rules("public.customers.\"First Name\"=upper", "\"Odd Schema\".\"Tab.le, \"\"x\"\"\".\"ÄÖ\"=x")));
        Assert.Contains("1\talice@example.com\tALICE\t\\N\n", output);
        Assert.Contains("3\tcarol@example.com\t\\\\N\t\n", output); // the text \N, not NULL, upper-cased stays \N
        Assert.Contains("x\t1.50\nx\tNaN\n", output); // the test constant replaces NULL too
        // Unquoted config names fold to lower case and so do not match "First Name".
        var folded = Text(Rewrite(s_tricky, Rules("public.customers.First Name=upper")));
        Assert.Contains("1\talice@example.com\tAlice\t", folded);
    }

    [Fact]
    public void Rewrite_ValuesWithSpecialCharacters_AreEscapedForCopyAndSql()
    {
        var output = Text(Rewrite(s_tricky, Rules("public.customers.note=tricky")));
        Assert.Contains("1\talice@example.com\tAlice\ta\\tb\\nc\\\\d'e\"f\\r\n", output);
        Assert.Contains("(5, 'eve@example.com', 'Eve', 'a\tb\nc\\d''e\"f\r');", output);
        Assert.Contains("'a\tb\nc\\d''e\"f\r'::text);", output);
    }

    [Fact]
    public void Rewrite_NullTransformer_WritesNullInBothSyntaxes()
    {
        var output = Text(Rewrite(s_tricky, Rules("public.customers.email=null")));
        Assert.Contains("1\t\\N\tAlice\t\\N\n", output);
        Assert.Contains("VALUES (5, NULL, 'Eve', NULL);", output);
    }

    [Fact]
    public void Rewrite_DecodesEscapesBeforeTransforming()
    {
        var output = Text(Rewrite(s_tricky, Rules("public.customers.\"First Name\"=upper")));
        // D\303\251j\xe0: octal and hex escapes decode to bytes; upper-casing ASCII keeps the others, re-encoded raw.
        Assert.Contains("4\tdave@example.com\tD\u00e9J\ufffd", output.Replace("\u00e0", "\ufffd"));
    }

    [Fact]
    public void Rewrite_TemplateReferences_SeeOtherColumnsOutputs()
    {
        var output = Text(Rewrite(s_tricky, Rules("public.customers.note=concat", "public.customers.email=upper")));
        Assert.Contains("1\tALICE@EXAMPLE.COM\tAlice\t1:ALICE@EXAMPLE.COM\n", output);
        Assert.Contains("(5, 'EVE@EXAMPLE.COM', 'Eve', '5:EVE@EXAMPLE.COM');", output);
    }

    [Fact]
    public void Rewrite_WithRules_IsTheSameAtEverySplitPoint()
    {
        var rules = Rules("public.customers.email=upper", "public.customers.note=tricky");
        var expected = Rewrite(s_tricky, rules);
        for (var split = 1; split < s_tricky.Length; split++)
        {
            Assert.True(Rewrite(s_tricky, Rules("public.customers.email=upper", "public.customers.note=tricky"), [split]).AsSpan().SequenceEqual(expected), $"split at {split}");
        }
        Assert.Equal(expected, RewriteInSegments(s_tricky, 1, Rules("public.customers.email=upper", "public.customers.note=tricky")));
    }

    [Fact]
    public void Rewrite_CrlfDump_TransformsAndKeepsLineEndings()
    {
        var crlf = Replica.Core.Tests.Lexing.PassThroughTests.Crlf(s_tricky);
        var output = Text(Rewrite(crlf, Rules("public.customers.email=upper")));
        Assert.Contains("1\tALICE@EXAMPLE.COM\tAlice\t\\N\r\n", output);
        Assert.Contains("\\.\r\n", output);
    }

    [Fact]
    public void Rewrite_DropTable_RemovesSchemaDataAndDependentStatements()
    {
        var output = Text(Rewrite(s_tricky, Rules([], ["public.customers"], [])));
        Assert.DoesNotContain("CREATE TABLE public.customers", output);
        Assert.DoesNotContain("alice@example.com", output);
        Assert.DoesNotContain("eve@example.com", output);
        Assert.DoesNotContain("customers_email_key", output);
        Assert.DoesNotContain("COMMENT ON COLUMN public.customers.note", output);
        Assert.Contains("CREATE TABLE \"Odd Schema\"", output);
        Assert.Contains("CREATE FUNCTION public.tricky()", output); // its body only mentions the table
    }

    [Fact]
    public void Rewrite_SkipData_KeepsSchemaDropsRows()
    {
        var output = Text(Rewrite(s_tricky, Rules([], [], ["public.customers"])));
        Assert.Contains("CREATE TABLE public.customers", output);
        Assert.Contains("customers_email_key", output);
        Assert.DoesNotContain("alice@example.com", output);
        Assert.DoesNotContain("eve@example.com", output);
        Assert.DoesNotContain("COPY public.customers (id, email", output);
        Assert.Contains("ü\t1.50", output);
    }

    [Fact]
    public void Rewrite_OnlyTables_DropsTheOthers()
    {
        var output = Text(Rewrite(s_tricky, Rules([], [], [], ["\"Odd Schema\".*"])));
        Assert.DoesNotContain("CREATE TABLE public.customers", output);
        Assert.DoesNotContain("empty_cols", output);
        Assert.Contains("ü\t1.50", output);
    }
}


using System.Text;
using Replica.Lexing;

namespace Replica.Core.Tests.Lexing;

/// <summary>
/// The lexer on its own, without the rewriter: the units it yields and every transition it owns (COPY header, data and
/// end marker; SET standard_conforming_strings; DELIMITER), for each dialect, the same at every split of the input into
/// two blocks, in one-byte blocks, and with COPY rows taken in runs (<see cref="DumpLexer.CompleteRows"/>).
/// </summary>
public class DumpLexerTests
{
    internal sealed record Unit(UnitKind Kind, string Text, long Offset, long LineNumber, bool NonStandardStrings);

    /// <summary>Feeds <paramref name="input"/> in the given blocks, keeping a unit cut by a block boundary as a consumer does.</summary>
    internal static List<Unit> Lex(byte[] input, SqlDialect dialect, IEnumerable<int> blockEnds, int expectedTabs = -2)
    {
        var lexer = new DumpLexer(dialect);
        var units = new List<Unit>();
        var carry = new List<byte>();
        long blockOffset = 0;
        void Add(DumpUnit u, ReadOnlySpan<byte> bytes) =>
            units.Add(new Unit(u.Kind, Encoding.UTF8.GetString(bytes), u.Offset, u.LineNumber, u.NonStandardStrings));

        var start = 0;
        foreach (var end in blockEnds.Append(input.Length))
        {
            var block = input.AsSpan(start, end - start);
            start = end;
            var pos = 0;
            if (carry.Count > 0)
            {
                var unitEnd = lexer.Scan(block, 0, blockOffset);
                if (unitEnd < 0)
                {
                    carry.AddRange(block);
                    blockOffset += block.Length;
                    continue;
                }
                carry.AddRange(block[..unitEnd]);
                var bytes = carry.ToArray();
                Add(lexer.Complete(bytes), bytes);
                carry.Clear();
                pos = unitEnd;
            }
            while (pos < block.Length)
            {
                if (expectedTabs > -2 && lexer.InCopyData)
                {
                    // A run of rows: the same rows, at the same places, as one unit each.
                    var line = lexer.UnitLineNumber;
                    var offset = lexer.UnitOffset;
                    var runEnd = lexer.CompleteRows(block, pos, expectedTabs, long.MaxValue, out var rows);
                    var run = block[pos..runEnd];
                    for (var r = 0; r < rows; r++)
                    {
                        var lf = run.IndexOf((byte)'\n');
                        units.Add(new Unit(UnitKind.CopyRow, Encoding.UTF8.GetString(run[..(lf + 1)]), offset, line++, false));
                        offset += lf + 1;
                        run = run[(lf + 1)..];
                    }
                    Assert.Equal(offset, lexer.UnitOffset);
                    Assert.Equal(line, lexer.UnitLineNumber);
                    pos = runEnd;
                    if (pos >= block.Length)
                    {
                        break;
                    }
                }
                var unitEnd = lexer.Scan(block, pos, blockOffset);
                if (unitEnd < 0)
                {
                    carry.AddRange(block[pos..]);
                    break;
                }
                Add(lexer.Complete(block[pos..unitEnd]), block[pos..unitEnd]);
                pos = unitEnd;
            }
            blockOffset += block.Length;
        }
        if (carry.Count > 0)
        {
            Assert.True(lexer.CanEndAtEof);
            var bytes = carry.ToArray();
            Add(lexer.Complete(bytes), bytes);
        }
        return units;
    }

    /// <summary>The units of <paramref name="dump"/>, checked to be the same at every split point and in one-byte blocks.</summary>
    static List<Unit> LexEverywhere(string dump, SqlDialect dialect, int expectedTabs = -2)
    {
        var input = Encoding.UTF8.GetBytes(dump);
        var whole = Lex(input, dialect, []);
        for (var split = 1; split < input.Length; split++)
        {
            Assert.Equal(whole, Lex(input, dialect, [split]));
            if (expectedTabs > -2)
            {
                Assert.Equal(whole, Lex(input, dialect, [split], expectedTabs));
            }
        }
        Assert.Equal(whole, Lex(input, dialect, Enumerable.Range(1, Math.Max(0, input.Length - 1))));
        Assert.Equal(dump, string.Concat(whole.Select(u => u.Text)));
        return whole;
    }

    const string PostgresDump =
        "SET standard_conforming_strings = on;\n" +
        "SELECT 'a\\' AS x; -- it's\n" +
        "COPY public.t (a, b) FROM stdin;\n" +
        "1\tx\n" +
        "2\ty\\\\;\n" +
        "\\.\n" +
        "\\connect shop\n" +
        "SET standard_conforming_strings = off;\n" +
        "SELECT 'c\\';d';\n" +
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n" +
        "/* a /* nested; */ comment; */ SELECT \"q;\"\"\";\n";

    [Fact]
    public void Complete_PostgresDump_YieldsEachUnitWithItsKindAndPosition()
    {
        var units = LexEverywhere(PostgresDump, SqlDialect.PostgreSql, expectedTabs: 1);

        Assert.Equal(
            [UnitKind.Statement, UnitKind.Statement, UnitKind.CopyHeader, UnitKind.CopyHeaderTail, UnitKind.CopyRow, UnitKind.CopyRow,
                UnitKind.CopyEnd, UnitKind.MetaCommand, UnitKind.Statement, UnitKind.Statement, UnitKind.Statement, UnitKind.Statement,
                UnitKind.Statement],
            units.Select(u => u.Kind));
        // standard_conforming_strings on: 'a\' is a whole string, and the statement ends at the ';' after it.
        Assert.Equal("\nSELECT 'a\\' AS x;", units[1].Text);
        // The quote in the comment opens no string; the comment belongs to the next unit.
        Assert.Equal(" -- it's\nCOPY public.t (a, b) FROM stdin;", units[2].Text);
        Assert.Equal("2\ty\\\\;\n", units[5].Text);
        Assert.Equal((PostgresDump.IndexOf("2\ty", StringComparison.Ordinal), 5L), (units[5].Offset, units[5].LineNumber));
        Assert.Equal("\\connect shop\n", units[7].Text);
        // After SET standard_conforming_strings = off, '...' takes backslash escapes: \' is a quote inside the string.
        Assert.False(units[8].NonStandardStrings);
        Assert.True(units[9].NonStandardStrings);
        Assert.Equal("\nSELECT 'c\\';d';", units[9].Text);
        Assert.EndsWith("$body$ LANGUAGE sql;", units[10].Text);
        Assert.Equal("\n/* a /* nested; */ comment; */ SELECT \"q;\"\"\";", units[11].Text);
        Assert.Equal("\n", units[12].Text);
        Assert.Equal(11, units[12].LineNumber);
    }

    [Fact]
    public void Complete_QuoteInALineComment_OpensNoString()
    {
        var units = LexEverywhere("SELECT 1; -- it's\nSELECT 'x';\n", SqlDialect.PostgreSql);

        Assert.Equal(["SELECT 1;", " -- it's\nSELECT 'x';", "\n"], units.Select(u => u.Text));
        Assert.Equal(1, units[1].LineNumber);
    }

    [Fact]
    public void Complete_CopyWithoutColumnList_StillStartsData()
    {
        var units = LexEverywhere("COPY t FROM stdin;\na\tb\n\\.\nSELECT 1;\n", SqlDialect.PostgreSql, expectedTabs: 1);

        Assert.Equal(
            [UnitKind.CopyHeader, UnitKind.CopyHeaderTail, UnitKind.CopyRow, UnitKind.CopyEnd, UnitKind.Statement, UnitKind.Statement],
            units.Select(u => u.Kind));
    }

    [Fact]
    public void Complete_CopyToStdout_IsAPlainStatement()
    {
        var units = LexEverywhere("COPY t TO stdout;\nSELECT 1;\n", SqlDialect.PostgreSql);

        Assert.All(units, u => Assert.Equal(UnitKind.Statement, u.Kind));
    }

    [Fact]
    public void Complete_EndMarkerWithCrLf_EndsTheCopyBlock()
    {
        var units = LexEverywhere("COPY t (a) FROM stdin;\r\nx\r\n\\.\r\nSELECT 1;\r\n", SqlDialect.PostgreSql, expectedTabs: 0);

        Assert.Equal(UnitKind.CopyEnd, units[3].Kind);
        Assert.Equal(UnitKind.Statement, units[4].Kind);
    }

    [Fact]
    public void Complete_RowThatLooksLikeAMetaCommand_IsData()
    {
        var units = LexEverywhere("COPY t (a) FROM stdin;\n\\\\! rm -rf /\n\\.\n", SqlDialect.PostgreSql, expectedTabs: 0);

        Assert.Equal(UnitKind.CopyRow, units[2].Kind);
        Assert.Equal("\\\\! rm -rf /\n", units[2].Text);
    }

    [Fact]
    public void CompleteRows_StopsAtARowWithTheWrongFieldCountOrABadEscape()
    {
        var input = Encoding.UTF8.GetBytes("a\tb\nc\td\ne\nf\tg\\\n");
        var lexer = new DumpLexer(SqlDialect.PostgreSql);
        foreach (var unit in new[] { "COPY t (a, b) FROM stdin;"u8.ToArray(), "\n"u8.ToArray() })
        {
            lexer.Complete(unit);
        }

        var end = lexer.CompleteRows(input, 0, expectedTabs: 1, maxRowBytes: long.MaxValue, out var rows);
        Assert.Equal((8, 2L), (end, rows));
        Assert.Equal((34L, 4L), (lexer.UnitOffset, lexer.UnitLineNumber));

        // "e" has one field: a unit of its own, for the consumer to report.
        Assert.Equal(10, lexer.Scan(input, end, 0));
        Assert.Equal(UnitKind.CopyRow, lexer.Complete(input.AsSpan(8, 2)).Kind);

        // "f\tg\" ends with a backslash that escapes nothing.
        Assert.Equal((10, 0L), (lexer.CompleteRows(input, 10, expectedTabs: 1, maxRowBytes: long.MaxValue, out rows), rows));
    }

    [Fact]
    public void CompleteRows_StopsBeforeARowOverTheLimit()
    {
        var input = Encoding.UTF8.GetBytes("a\nbbbbbb\n");
        var lexer = new DumpLexer(SqlDialect.PostgreSql);
        lexer.Complete("COPY t (a) FROM stdin;"u8);
        lexer.Complete("\n"u8);

        Assert.Equal(2, lexer.CompleteRows(input, 0, expectedTabs: 0, maxRowBytes: 4, out var rows));
        Assert.Equal(1, rows);
    }

    const string MySqlDump =
        "/*!40101 SET NAMES utf8mb4 */;\n" +
        "INSERT INTO `t` VALUES (1,'a\\';b'),(2,\"c;\"\"\");\n" +
        "# a comment; it's\n" +
        "DELIMITER ;;\n" +
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END ;;\n" +
        "DELIMITER ;\n" +
        "SELECT `x;`;\n";

    [Fact]
    public void Complete_MySqlDump_YieldsStatementsAndAppliesDelimiter()
    {
        var units = LexEverywhere(MySqlDump, SqlDialect.MySql);

        Assert.Equal(
            [UnitKind.Statement, UnitKind.Statement, UnitKind.Delimiter, UnitKind.Statement, UnitKind.Delimiter, UnitKind.Statement,
                UnitKind.Statement],
            units.Select(u => u.Kind));
        Assert.Equal("\nINSERT INTO `t` VALUES (1,'a\\';b'),(2,\"c;\"\"\");", units[1].Text);
        // Between the two DELIMITER commands the statement ends at ";;", not at the ';' inside the trigger.
        Assert.EndsWith("SET NEW.a = 1; END ;;", units[3].Text);
        Assert.Equal(5, units[3].LineNumber);
        Assert.Equal("SELECT `x;`;", units[5].Text);
    }

    [Fact]
    public void Complete_MySqlDelimiterWithoutTerminator_IsBadAndNotApplied()
    {
        var units = LexEverywhere("DELIMITER \nSELECT 1;\n", SqlDialect.MySql);

        Assert.Equal(UnitKind.BadDelimiter, units[0].Kind);
        Assert.Equal("SELECT 1;", units[1].Text);
    }

    [Fact]
    public void Complete_MySqlCopyStatement_StartsNoData()
    {
        var units = LexEverywhere("COPY t FROM stdin;\nSELECT 1;\n", SqlDialect.MySql);

        Assert.All(units, u => Assert.Equal(UnitKind.Statement, u.Kind));
    }
}

using System.Text;
using Replica.Lexing;
using Replica.Rewriting;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Lexing;

/// <summary>Where MySQL statements end, seen through the rewriter: a rule on t.b shows which INSERTs it parsed.</summary>
public class MySqlScannerTests
{
    const string Create = "CREATE TABLE `t` (`a` int, `b` varchar(20));\n";

    static string Masked(string dump)
    {
        var bytes = Encoding.UTF8.GetBytes(Create + dump);
        var expected = Text(Rewrite(bytes, Rules("t.b=upper"), dialect: SqlDialect.MySql));
        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(expected, Text(Rewrite(bytes, Rules("t.b=upper"), [split], dialect: SqlDialect.MySql)));
        }
        return expected[Create.Length..];
    }

    [Fact]
    public void Scan_MySqlComments_HideQuotesAndSemicolons()
    {
        var output = Masked("# it's; a comment\n-- don't; either\n/* 'nor; this' */ INSERT INTO t VALUES (1,'x');\n");
        Assert.EndsWith("INSERT INTO t VALUES (1,'X');\n", output);
    }

    [Fact]
    public void Scan_MySqlDashDashWithoutSpace_IsNotAComment()
    {
        // "--1" is minus minus one: the quote after it is a real string, and the statement ends at its ';'.
        var output = Masked("SELECT 1--1, 'a;b';\nINSERT INTO t VALUES (2,'y');\n");
        Assert.Equal("SELECT 1--1, 'a;b';\nINSERT INTO t VALUES (2,'Y');\n", output);
    }

    [Fact]
    public void Scan_MySqlExecutableComment_IsReadAsSql()
    {
        var output = Masked("/*!40000 ALTER TABLE `t` DISABLE KEYS */;\n/*!50003 SET x = ';*/' */;\nINSERT INTO t VALUES (1,'x');\n");
        Assert.EndsWith("INSERT INTO t VALUES (1,'X');\n", output);
    }

    [Fact]
    public void Scan_MySqlDelimiterCommand_ChangesTheTerminator()
    {
        var output = Masked(
            "DELIMITER //\nCREATE PROCEDURE p() BEGIN /* x// */ SELECT '//'; INSERT INTO t VALUES (9,'in body'); END//\n" +
            "delimiter ;\nINSERT INTO t VALUES (1,'x');\n" +
            "DELIMITER $$\nINSERT INTO t VALUES ($,'y') $$\nDELIMITER ;\n");
        Assert.Contains("VALUES (9,'in body'); END//\n", output); // part of the procedure, not an INSERT of its own
        Assert.Contains("INSERT INTO t VALUES (1,'X');\n", output);
        // A lone $ does not end the statement (a $ after the tuples would now be refused as more than the tuples).
        Assert.Contains("INSERT INTO t VALUES ($,'Y') $$\n", output);
    }

    [Fact]
    public void Scan_MySqlWordsStartingLikeDelimiter_AreSql()
    {
        var output = Masked("DELETE FROM t WHERE b = 'a;b';\nDELIMIT x;\nINSERT INTO t VALUES (1,'x');\n");
        Assert.EndsWith("DELIMIT x;\nINSERT INTO t VALUES (1,'X');\n", output);
    }

    /// <summary>
    /// The mysql client (--binary-mode) compares only the first nine bytes: DELIMITERX; is its DELIMITER command, not SQL
    /// (it was passed as SQL), so it is refused where it starts.
    /// </summary>
    [Fact]
    public void Rewrite_MySqlWordThatTheClientTakesForDelimiter_IsRefused()
    {
        var e = Assert.Throws<DumpFormatException>(() => Masked("DELETE FROM t WHERE b = 'a;b';\nDELIMITERX;\nINSERT INTO t VALUES (1,'x');\n"));
        Assert.Contains("refused: a DELIMITER command after other text on its line, or spelled otherwise", e.Message, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(Create + "DELETE FROM t WHERE b = 'a;b';\n"), e.ByteOffset);
    }

    [Fact]
    public void Scan_MySqlDoubleQuotesAndBackticks_AreQuotes()
    {
        var output = Masked("SELECT \"a;\\\"b\", `c;``d`;\nINSERT INTO t VALUES (1,\"x\\\"\");\n");
        Assert.EndsWith("INSERT INTO t VALUES (1,'X\\\"');\n", output);
    }

    [Fact]
    public void Rewrite_MySqlDelimiterWithoutTerminator_IsAnError()
    {
        var e = Assert.Throws<DumpFormatException>(() => Rewrite(Encoding.UTF8.GetBytes("SELECT 1;\nDELIMITER \n"), RewriteRules.None, dialect: SqlDialect.MySql));
        Assert.Equal(2, e.LineNumber);
    }
}

using System.Text;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Lexing;

public class MySqlBadInputTests
{
    static DumpFormatException Fails(string dump, Replica.Rewriting.RewriteRules? rules = null)
    {
        var bytes = Encoding.UTF8.GetBytes(dump);
        var whole = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, dialect: SqlDialect.MySql));
        for (var split = 1; split < bytes.Length; split++)
        {
            var part = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, [split], dialect: SqlDialect.MySql));
            Assert.Equal(whole.Message, part.Message);
        }
        return whole;
    }

    [Fact]
    public void Rewrite_DelimiterWithoutTerminator_PointsAtTheCommand()
    {
        var e = Fails("SELECT 1;\nDELIMITER \nSELECT 2;\n");
        Assert.Contains("DELIMITER needs a terminator of 1 to 15 bytes", e.Message);
        Assert.Equal(2, e.LineNumber);
        Assert.Equal("SELECT 1;\n".Length, e.ByteOffset);
    }

    [Fact]
    public void Rewrite_MySqlUnterminatedString_PointsAtItsStart()
    {
        var e = Fails("SET a = 1;\nINSERT INTO `t` VALUES (1,'it\\'s;\n\nSELECT 1;\n");
        Assert.Contains("unterminated quoted string", e.Message);
        Assert.Equal(2, e.LineNumber);
        Assert.Equal(37, e.ByteOffset);
    }

    [Fact]
    public void Rewrite_MySqlUnterminatedBacktickAndComment_AreErrors()
    {
        var e = Fails("LOCK TABLES `t WRITE;\n");
        Assert.Contains("unterminated `quoted` identifier", e.Message);
        Assert.Equal(12, e.ByteOffset);
        var c = Fails("SELECT 1;\n/* a /* b */ c; /* d;\n");
        Assert.Contains("unterminated /* comment", c.Message);
        Assert.Equal(2, c.LineNumber);
        Assert.Equal(26, c.ByteOffset); // MySQL comments do not nest: the first one ended at the first */
        Assert.Contains("unterminated quoted string", Fails("SELECT \"ab\\\";\n").Message);
    }

    [Fact]
    public void Rewrite_MySqlInsertWithWrongValueCount_NamesTableAndTuple()
    {
        var e = Fails("CREATE TABLE `t` (`a` int, `b` text);\nINSERT INTO `t` VALUES (1,'x'),(2,'y',3);\n", Rules("t.b=upper"));
        Assert.Contains("more than 2 values", e.Message);
        Assert.Equal("`t`", e.Table);
        Assert.Equal(2, e.RowNumber);
        Assert.Equal(2, e.LineNumber);
    }

    [Fact]
    public void Rewrite_MySqlInsertWithoutColumnsOrCreateTable_SaysToUseCompleteInsert()
    {
        var e = Fails("INSERT INTO `t` VALUES (1,'x');\n", Rules("t.b=upper"));
        Assert.Contains("mysqldump --complete-insert", e.Message);
    }

    [Fact]
    public void Rewrite_MySqlStatementWithoutTerminatorAtEnd_PassesThrough()
    {
        var bytes = Encoding.UTF8.GetBytes("SELECT 1;\nSELECT 2 -- no semicolon");
        Assert.Equal(bytes, Rewrite(bytes, dialect: SqlDialect.MySql));
    }
}

using System.Text;
using Replica.Config;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// mariadb-dump writes the values of generated columns, which the source computed from the real data: in a row with a
/// masked column they must go (written as DEFAULT, which the server computes again on restore).
/// </summary>
public class MySqlGeneratedColumnTests
{
    // As mariadb-dump 10.11 writes them, plus the other spellings MariaDB and MySQL accept.
    const string Schema =
        "CREATE TABLE `gen` (\n" +
        "  `id` int(11) NOT NULL,\n" +
        "  `email` varchar(200) DEFAULT NULL,\n" +
        "  `up` varchar(200) GENERATED ALWAYS AS (upper(`email`)) STORED,\n" +
        "  `dom` varchar(200) GENERATED ALWAYS AS (substring_index(`email`,'@',1)) VIRTUAL,\n" +
        "  `p` varchar(200) AS (concat(`email`,'!')) PERSISTENT,\n" +
        "  `len` int(11) AS (length(`email`)),\n" +
        "  PRIMARY KEY (`id`)\n" +
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n";

    static string MySql(string dump, params string[] rules) => Text(Rewrite(Encoding.UTF8.GetBytes(dump), Rules(rules), dialect: SqlDialect.MySql));

    [Fact]
    public void Parse_MySqlGeneratedColumns_AreMarked()
    {
        Assert.True(StatementParser.TryParseMySqlCreateTable(Encoding.UTF8.GetBytes(Schema), "shop", out _, out var columns));
        Assert.Equal([false, false, true, true, true, true], columns.Select(c => c.Generated));
        Assert.Equal("varchar(200)", columns[2].TypeName);
        // System versioning's row start and end are not computed from the row.
        Assert.True(StatementParser.TryParseMySqlCreateTable(
            "CREATE TABLE `v` (`a` int, `s` timestamp(6) GENERATED ALWAYS AS ROW START, `e` timestamp(6) GENERATED ALWAYS AS ROW END, PERIOD FOR SYSTEM_TIME(`s`, `e`)) WITH SYSTEM VERSIONING;"u8,
            "", out _, out var versioned));
        Assert.DoesNotContain(versioned, c => c.Generated);
    }

    [Fact]
    public void Rewrite_GeneratedColumnsOfAMaskedRow_BecomeDefault()
    {
        var dump = Schema +
            "INSERT INTO `gen` VALUES (1,'real-1@example.com','REAL-1@EXAMPLE.COM','real-1','real-1@example.com!',18),\n" +
            "(2,NULL,NULL,NULL,NULL,NULL);\n";
        var expected = Schema +
            "INSERT INTO `gen` VALUES (1,'REAL-1@EXAMPLE.COM',DEFAULT,DEFAULT,DEFAULT,DEFAULT),\n" +
            "(2,NULL,DEFAULT,DEFAULT,DEFAULT,DEFAULT);\n";
        Assert.Equal(expected, MySql(dump, "gen.email=upper"));
        var bytes = Encoding.UTF8.GetBytes(dump);
        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(expected, Text(Rewrite(bytes, Rules("gen.email=upper"), [split], dialect: SqlDialect.MySql)));
        }
    }

    [Fact]
    public void Rewrite_GeneratedColumnsWithColumnListAndRepeatedInserts_BecomeDefault()
    {
        // mariadb-dump --complete-insert --skip-extended-insert: a column list in the dump's order, one row per statement.
        var dump = Schema +
            "INSERT INTO `gen` (`dom`, `id`, `email`, `up`, `p`, `len`) VALUES ('real-1',1,'real-1@example.com','REAL-1@EXAMPLE.COM','real-1@example.com!',18);\n" +
            "INSERT INTO `gen` (`dom`, `id`, `email`, `up`, `p`, `len`) VALUES ('real-2',2,'real-2@example.com','REAL-2@EXAMPLE.COM','real-2@example.com!',18);\n";
        var output = MySql(dump, "gen.email=upper");
        Assert.Contains("VALUES (DEFAULT,1,'REAL-1@EXAMPLE.COM',DEFAULT,DEFAULT,DEFAULT);\n", output);
        Assert.Contains("VALUES (DEFAULT,2,'REAL-2@EXAMPLE.COM',DEFAULT,DEFAULT,DEFAULT);\n", output);
        Assert.DoesNotContain("real-", output);
    }

    [Fact]
    public void Rewrite_RuleOnTheGeneratedColumnOnly_WritesDefault()
    {
        var dump = Schema + "INSERT INTO `gen` VALUES (1,'a@example.com','A@EXAMPLE.COM','a','a@example.com!',13);\n";
        Assert.Contains("VALUES (1,'a@example.com',DEFAULT,DEFAULT,DEFAULT,DEFAULT);", MySql(dump, "gen.up=x"));
    }

    [Fact]
    public void Rewrite_TableWithoutMaskedColumn_KeepsItsGeneratedValues()
    {
        var dump = Schema + "INSERT INTO `gen` VALUES (1,'a@example.com','A@EXAMPLE.COM','a','a@example.com!',13);\n" +
            "CREATE TABLE `other` (`a` int, `b` text);\nINSERT INTO `other` VALUES (1,'x');\n";
        Assert.Equal(dump.Replace("(1,'x')", "(1,'X')", StringComparison.Ordinal), MySql(dump, "other.b=upper"));
    }

    [Fact]
    public void Rewrite_TransformerReadingAGeneratedColumn_IsAConfigError()
    {
        // ConcatTransformer reads id and email: here email is computed from the real value of another column.
        var dump = "CREATE TABLE `t` (`id` int, `secret` text, `email` text AS (lower(`secret`)) VIRTUAL, `note` text);\n" +
            "INSERT INTO `t` VALUES (1,'Real','real','n');\n";
        var e = Assert.Throws<ConfigException>(() => MySql(dump, "t.secret=x", "t.note=concat"));
        Assert.Contains("references column 'email', a generated column", e.Message);
    }

    [Fact]
    public void Rewrite_GeneratedColumnValueMissing_IsPositioned()
    {
        var bytes = Encoding.UTF8.GetBytes(Schema + "INSERT INTO `gen` VALUES (1,'a@example.com',,'a','b',1);\n");
        var whole = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, Rules("gen.email=upper"), dialect: SqlDialect.MySql));
        Assert.Contains("column up has no value", whole.Message, StringComparison.Ordinal);
        Assert.Equal(10, whole.LineNumber);
        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(whole.Message, Assert.Throws<DumpFormatException>(() => Rewrite(bytes, Rules("gen.email=upper"), [split], dialect: SqlDialect.MySql)).Message);
        }
    }
}

using System.Text;
using Replica.Lexing;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Lexing;

/// <summary>
/// A MySQL dump that turns on NO_BACKSLASH_ESCAPES or a client character set in which a backslash can end a character
/// (sjis, cp932, big5, gbk, gb18030) makes the server end strings elsewhere than the rewriter: a real value could sit
/// where the rewriter saw a comment. Refused when the dump is read, at every split point; mysqldump's own SETs pass.
/// </summary>
public class MySqlSessionSafetyTests
{
    const string Table = "CREATE TABLE `customers` (`id` varchar(10), `note` varchar(100), `email` varchar(100));\n";

    // The review's repro: under sjis the server reads 0x83 0x5C as one character, so 'real-...' is the email and the
    // comment holds what the rewriter took for it.
    const string Smuggled = "INSERT INTO `customers` (`id`, `note`, `email`) VALUES ('1', '\u00ff\\', 'real-sjis@example.com');\n# ', 'z');\n";

    static DumpFormatException Fails(string dump, string at)
    {
        var bytes = Encoding.Latin1.GetBytes(dump);
        var rules = Rules("customers.email=upper");
        var whole = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, dialect: SqlDialect.MySql));
        Assert.Equal(dump.LastIndexOf(at, StringComparison.Ordinal), whole.ByteOffset);
        for (var split = 1; split < bytes.Length; split++)
        {
            var part = Assert.Throws<DumpFormatException>(() => Rewrite(bytes, rules, [split], dialect: SqlDialect.MySql));
            Assert.Equal(whole.Message, part.Message);
        }
        return whole;
    }

    [Theory]
    [InlineData("/*!40101 SET NAMES sjis */;\n", "sjis */", "sjis")]
    [InlineData("SET character_set_client = sjis;\n", "sjis;", "sjis")]
    [InlineData("SET @@session.character_set_client='cp932';\n", "'cp932'", "cp932")]
    [InlineData("SET `character_set_client` = sjis;\n", "sjis;", "sjis")]
    [InlineData("SET SESSION character_set_client := GB18030;\n", "GB18030", "gb18030")]
    [InlineData("SET CHARACTER SET big5;\n", "big5", "big5")]
    [InlineData("SET CHARSET 'gbk';\n", "'gbk'", "gbk")]
    [InlineData("SET time_zone = '+00:00', NAMES `sjis` COLLATE sjis_bin;\n", "`sjis`", "sjis")]
    public void Rewrite_MySqlBackslashClientCharset_IsRefused(string set, string at, string charset)
    {
        var e = Fails(Table + set + Smuggled, at);
        Assert.Contains($"refused: a SET of the client character set to {charset}, in which a backslash byte can be the second byte", e.Message);
        Assert.Equal(2, e.LineNumber);
    }

    [Theory]
    [InlineData("/*!40101 SET SQL_MODE='NO_BACKSLASH_ESCAPES' */;\n", "'NO_")]
    [InlineData("SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO,no_backslash_escapes';\n", "'NO_AUTO")]
    [InlineData("SET @@GLOBAL.sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES');\n", "CONCAT")]
    [InlineData("SET LOCAL sql_mode := \"ANSI,NO_BACKSLASH_ESCAPES\";\n", "\"ANSI")]
    public void Rewrite_MySqlNoBackslashEscapes_IsRefused(string set, string at)
    {
        var e = Fails(Table + set + Smuggled.Replace("\u00ff\\", "x\\", StringComparison.Ordinal), at);
        Assert.Contains("refused: a SET of sql_mode with NO_BACKSLASH_ESCAPES", e.Message);
    }

    /// <summary>ANSI_QUOTES (itself or in a combination mode) makes "x\\" a closed name where the lexer reads an open string.</summary>
    [Theory]
    [InlineData("SET sql_mode = 'ANSI_QUOTES';\n", "'ANSI")]
    [InlineData("/*!40101 SET SQL_MODE='STRICT_TRANS_TABLES,ansi' */;\n", "'STRICT")]
    [InlineData("SET SESSION sql_mode = ORACLE;\n", "ORACLE")]
    public void Rewrite_MySqlAnsiQuotes_IsRefused(string set, string at)
    {
        var e = Fails(Table + set + Smuggled.Replace("\u00ff\\", "x\\", StringComparison.Ordinal), at);
        Assert.Contains("refused: a SET of sql_mode with ANSI_QUOTES", e.Message);
    }

    [Theory]
    [InlineData("SET @m = 'NO_BACKSLASH_ESCAPES';\nSET sql_mode = @m;\n", "@m;")]
    [InlineData("SET @OLD_SQL_MODE=@@SQL_MODE;\nSELECT 'NO_BACKSLASH_ESCAPES' INTO @OLD_SQL_MODE;\nSET SQL_MODE=@OLD_SQL_MODE;\n", "@OLD_SQL_MODE;\n")]
    [InlineData("SET @OLD_SQL_MODE=@@SQL_MODE;\nINSERT INTO `customers` VALUES ('0', @old_sql_mode := 'NO_BACKSLASH_ESCAPES', NULL);\nSET SQL_MODE=@OLD_SQL_MODE;\n", "@OLD_SQL_MODE;\n")]
    [InlineData("SET @cs = 'sjis';\nSET character_set_client = @cs;\n", "@cs;")]
    [InlineData("SET character_set_client = 13;\n", "13;")]
    [InlineData("SET sql_mode = 4194304;\n", "4194304;")]
    [InlineData("SET sql_mode='NO_BACKSLASH_ESCAPE\\S';\n", "'NO_")]
    [InlineData("SET NAMES 'sj\\is';\n", "'sj")]
    [InlineData("SET sql_mode='AN\\SI_QUOTES';\n", "'AN")]
    [InlineData("SET @cs = CONCAT('sj', 'is');\nSET character_set_client = @cs;\n", "@cs;")]
    [InlineData("CREATE TRIGGER t BEFORE INSERT ON customers FOR EACH ROW SET @m = 'NO_BACKSLASH_ESCAPES';\nSET sql_mode = @m;\n", "@m;")]
    [InlineData("DELIMITER ;;\nCREATE TRIGGER t BEFORE INSERT ON customers FOR EACH ROW BEGIN IF NEW.id = '1' THEN SET @m = ''; ELSE SELECT 'NO_BACKSLASH_ESCAPES' INTO @m; END IF; END ;;\nDELIMITER ;\nSET sql_mode = @m;\n", "@m;")]
    public void Rewrite_MySqlSessionFromAnExpressionOrAVariableTheDumpChanged_IsRefused(string set, string at)
    {
        var e = Fails(Table + set + Smuggled, at);
        Assert.Contains("refused: a SET of sql_mode or the client character set to an expression", e.Message);
    }

    /// <summary>
    /// DEFAULT and a server setting switch the session to a value the dump does not show, which may be sjis or have
    /// ANSI_QUOTES (SET NAMES DEFAULT gave sjis on a server whose global character_set_client is sjis); these passed.
    /// </summary>
    [Theory]
    [InlineData("SET NAMES DEFAULT;\n", "DEFAULT;")]
    [InlineData("/*!40101 SET CHARACTER SET DEFAULT */;\n", "DEFAULT */")]
    [InlineData("SET character_set_client = DEFAULT;\n", "DEFAULT;")]
    [InlineData("SET character_set_client = @@character_set_server;\n", "@@character_set_server")]
    [InlineData("SET SESSION character_set_client = @@global.character_set_client;\n", "@@global")]
    [InlineData("SET sql_mode = @@GLOBAL.sql_mode;\n", "@@GLOBAL")]
    [InlineData("SET @@session.sql_mode := DEFAULT;\n", "DEFAULT;")]
    [InlineData("SET @m = @@global.sql_mode;\nSET sql_mode = @m;\n", "@m;")]
    [InlineData("SET character_set_results = sjis;\nSET @cs = @@character_set_results;\nSET character_set_client = @cs;\n", "@cs;")]
    public void Rewrite_MySqlSessionToTheServersDefault_IsRefused(string set, string at)
    {
        var e = Fails(Table + set + Smuggled, at);
        Assert.Contains(set.Contains("@m;", StringComparison.Ordinal) || set.Contains("@cs;", StringComparison.Ordinal)
            ? "refused: a SET of sql_mode or the client character set to an expression"
            : "refused: a SET of sql_mode or the client character set to DEFAULT or to a server setting", e.Message);
    }

    /// <summary>
    /// A column, a NEW. field or a routine's value named like a session setting is no SET of the session: mariadb-dump's
    /// own output of a procedure that updates a column `names` was refused as a SET NAMES.
    /// </summary>
    [Theory]
    [InlineData("DELIMITER ;;\nCREATE PROCEDURE p() BEGIN UPDATE customers SET names = 'y', sql_mode = 'ANSI_QUOTES', character_set_client = 'sjis'; END ;;\nDELIMITER ;\n")]
    [InlineData("/*!50106 CREATE*/ /*!50106 EVENT `e` ON SCHEDULE EVERY 1 DAY DO UPDATE customers SET names = 'e' */;\n")]
    [InlineData("CREATE TRIGGER tr BEFORE UPDATE ON customers FOR EACH ROW SET NEW.names = 'x', NEW.sql_mode = 'ANSI';\n")]
    [InlineData("DELIMITER ;;\nCREATE TRIGGER tr AFTER INSERT ON customers FOR EACH ROW BEGIN INSERT INTO log SET names = 'x'; REPLACE INTO log SET sql_mode = 'ANSI'; END ;;\nDELIMITER ;\n")]
    [InlineData("UPDATE log SET character_set_client = 'big5' WHERE id = 1;\n")]
    public void Rewrite_MySqlColumnNamedLikeASessionSetting_Passes(string statements)
    {
        var dump = Encoding.UTF8.GetBytes(Table + statements + "INSERT INTO `customers` VALUES ('1','n','a@example.com');\n");
        var output = Text(Rewrite(dump, Rules("customers.email=upper"), dialect: SqlDialect.MySql));
        Assert.EndsWith(statements + "INSERT INTO `customers` VALUES ('1','n','A@EXAMPLE.COM');\n", output);
    }

    /// <summary>A SET of the session after an UPDATE in the same body is still checked.</summary>
    [Theory]
    [InlineData("CREATE TRIGGER tr BEFORE UPDATE ON customers FOR EACH ROW SET NAMES sjis;\n", "sjis;")]
    [InlineData("DELIMITER ;;\nCREATE PROCEDURE p() BEGIN UPDATE customers SET note = 'y'; SET NAMES sjis; END ;;\nDELIMITER ;\n", "sjis;")]
    [InlineData("DELIMITER ;;\nCREATE PROCEDURE p() BEGIN IF (SELECT 1 FROM customers FOR UPDATE) THEN SET NAMES sjis; END IF; END ;;\nDELIMITER ;\n", "sjis;")]
    [InlineData("DELIMITER ;;\nCREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN INSERT INTO customers VALUES ('2', REPLACE('a', 'b', 'c'), NULL); SET NAMES sjis; END ;;\nDELIMITER ;\n", "sjis;")]
    public void Rewrite_MySqlSessionSetAfterAnUpdateInABody_IsRefused(string statements, string at)
    {
        var e = Fails(Table + statements + Smuggled, at);
        Assert.Contains("refused: a SET of the client character set to sjis", e.Message);
    }

    [Fact]
    public void Rewrite_MySqlDumpSessionStatements_PassUnchanged()
    {
        // mysqldump 8 / mariadb-dump's header, a table's and a routine's saved settings, and the trailer.
        var dump = Encoding.UTF8.GetBytes(
            "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n" +
            "/*!40101 SET NAMES utf8mb4 */;\n" +
            "/*!50503 SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci */;\n" +
            "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n" +
            "/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n" +
            "/*!40101 SET @saved_cs_client     = @@character_set_client */;\n" +
            "/*!40101 SET character_set_client = utf8mb4 */;\n" +
            Table +
            "/*!40101 SET character_set_client = @saved_cs_client */;\n" +
            "INSERT INTO `customers` VALUES ('1','a:=b','a@example.com');\n" +
            "/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;\n" +
            "/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION' */ ;\n" +
            "/*!50003 SET sql_mode              = @saved_sql_mode */ ;\n" +
            "SET @@SESSION.SQL_LOG_BIN= 0;\n" +
            "SET sql_mode = @@session.sql_mode, character_set_client = @@CHARACTER_SET_CLIENT;\n" +
            "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n" +
            "/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n");
        var output = Text(Rewrite(dump, Rules("customers.note=x"), dialect: SqlDialect.MySql));
        Assert.Equal(Text(dump).Replace("'a:=b'", "'x'", StringComparison.Ordinal), output);
    }
}

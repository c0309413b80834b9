using Replica.Config;
using Replica.Transformers;
using System.Text;
using Replica.Lexing;
using Replica.Rewriting;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>Rules applied to real mariadb-dump output (Lexing/Fixtures/make-mysql-fixtures.sh).</summary>
public class MySqlDumpRewriterTests
{
    static readonly byte[] s_default = Fixture("mysql-default.sql");

    static string MySql(byte[] dump, RewriteRules rules) => Text(Rewrite(dump, rules, dialect: SqlDialect.MySql));

    static string MySql(string fixture, params string[] columnRules) => MySql(Fixture(fixture), Rules(columnRules));

    [Fact]
    public void Rewrite_MySqlColumnRule_ChangesOnlyThatColumnInExtendedInserts()
    {
        var output = MySql(s_default, Rules("customers.email=upper"));
        Assert.Contains("(1,'ALICE@EXAMPLE.COM','Alice',NULL,12.50,15000000000,-42,'1990-01-31','2024-02-29 23:59:59','{\\\"a\\\": [1, \\\"x\\\\\\\"y\\\"]}',1),\n", output);
        Assert.Contains("(2,'BOB@EXAMPLE.COM','O\\'Brien \\\"Bob\\\"',", output);
        Assert.Contains("(5,'EVE@EXAMPLE.COM','',", output);
        Assert.DoesNotContain("alice@example.com", output);
        Assert.DoesNotContain("eve@example.com", output);
        // Everything else is untouched: undo the change and the dump is what it was.
        var restored = output;
        foreach (var name in new[] { "alice", "bob", "carol", "dave", "eve" })
        {
            restored = restored.Replace($"'{name.ToUpperInvariant()}@EXAMPLE.COM'", $"'{name}@example.com'");
        }
        Assert.Equal(Text(s_default), restored);
    }

    [Fact]
    public void Rewrite_MySqlCompleteInsertAndHexBlob_AreRewrittenToo()
    {
        var complete = MySql("mysql-complete-insert.sql", "fixture.customers.email=upper");
        Assert.Contains("VALUES (3,'CAROL@EXAMPLE.COM','Carol;',", complete);
        Assert.DoesNotContain("carol@example.com", complete);
        var hex = MySql("mysql-hex-blob.sql", "blobs.small=upper", "blobs.data=null");
        Assert.Contains("(3,NULL,0x5C27220D0A1A),", hex); // upper-casing bytes without letters keeps them; hex stays hex
        Assert.Contains("(2,NULL,0x00),", hex);
    }

    [Fact]
    public void Rewrite_MySqlTransformedValues_AreWrittenAsMySqlLiterals()
    {
        var output = MySql(s_default, Rules("customers.note=tricky", "customers.balance=upper", "customers.delta=x", "\"odd`name\".*=upper"));
        // A tab stays raw, newline, backslash, quotes and CR are escaped as mysqldump escapes them.
        Assert.Contains("'Alice','a\tb\\nc\\\\d\\'e\\\"f\\r',12.50,15000000000,'x',", output);
        Assert.Contains("'O\\'Brien \\\"Bob\\\"','a\tb\\nc\\\\d\\'e\\\"f\\r',-0.01,-2.25,'x',", output); // numbers stay bare
        Assert.Contains("INSERT INTO `odd``name` VALUES\n(-3,'-- X'),\n(1,'BACK`TICK'),\n(2,NULL);", output);
    }

    [Fact]
    public void Rewrite_MySqlBinaryValues_RoundTripEveryByte()
    {
        // blobs.data row 4 holds all 256 byte values; decoded and encoded again it must come out as mysqldump wrote it.
        var same = MySql(s_default, Rules("blobs.*=same"));
        Assert.Equal(Text(s_default), same);
        var hex = Fixture("mysql-hex-blob.sql");
        Assert.Equal(Text(hex), MySql(hex, Rules("blobs.*=same")));
    }

    [Fact]
    public void Rewrite_MySqlNullTransformer_WritesNull()
    {
        var output = MySql(s_default, Rules("customers.name=null"));
        Assert.Contains("(1,'alice@example.com',NULL,NULL,12.50,", output);
        Assert.Contains("(4,'dave@example.com',NULL,'/* not a comment */", output);
    }

    [Fact]
    public void Rewrite_MySqlRowCounts_AreKept()
    {
        Rewrite(s_default, out var statistics, Rules("customers.email=upper", "blobs.data=upper", "orders.amount=upper", "\"odd`name\".*=upper"), dialect: SqlDialect.MySql);
        Assert.Equal(5 + 4 + 3 + 3, statistics.Rows);
        Rewrite(Fixture("mysql-complete-insert.sql"), out var single, Rules("customers.email=upper"), dialect: SqlDialect.MySql);
        Assert.Equal(5, single.Rows);
    }

    [Fact]
    public void Rewrite_MySqlTableNames_BareMatchesAnyDatabaseQualifiedMatchesItsOwn()
    {
        // The dump header names database "fixture"; --databases has USE `fixture`.
        foreach (var fixture in new[] { "mysql-default.sql", "mysql-databases.sql" })
        {
            Assert.Contains("'ALICE@EXAMPLE.COM'", MySql(fixture, "customers.email=upper"));
            Assert.Contains("'ALICE@EXAMPLE.COM'", MySql(fixture, "fixture.customers.EMAIL=upper")); // MySQL names ignore case
            Assert.Contains("'ALICE@EXAMPLE.COM'", MySql(fixture, "*.Customers.email=upper"));
            Assert.DoesNotContain("'ALICE@EXAMPLE.COM'", MySql(fixture, "otherdb.customers.email=upper"));
        }
    }

    [Fact]
    public void Rewrite_MySqlSameInsertAfterUse_IsReadInTheNewDatabase()
    {
        // The two INSERTs have the same bytes; USE between them makes the second one another table.
        var output = MySql("""
            USE `a`;
            INSERT INTO `t` (`id`, `email`) VALUES (1,'x@example.com');
            INSERT INTO `t` (`id`, `email`) VALUES (2,'y@example.com');
            USE `b`;
            INSERT INTO `t` (`id`, `email`) VALUES (3,'z@example.com');

            """u8.ToArray(), Rules("a.t.email=upper"));
        Assert.Contains("(1,'X@EXAMPLE.COM')", output);
        Assert.Contains("(2,'Y@EXAMPLE.COM')", output);
        Assert.Contains("(3,'z@example.com')", output);
    }

    [Fact]
    public void Rewrite_MySqlCreateTable_GivesColumnTypesAndUniqueness()
    {
        ColumnInfo? email = null;
        ColumnInfo? prefs = null;
        ColumnInfo? name = null;
        var rules = new RewriteRules(
            [new TableRule(TablePattern.Parse("customers"), TableAction.Transform,
                [new ColumnRule(NamePattern.Parse("email"), TransformerConfig.Of("same")),
                 new ColumnRule(NamePattern.Parse("prefs"), TransformerConfig.Of("same")),
                 new ColumnRule(NamePattern.Parse("name"), TransformerConfig.Of("same"))])],
            [],
            (spec, column) =>
            {
                switch (column.Column)
                {
                    case "email": email = column; break;
                    case "prefs": prefs = column; break;
                    default: name = column; break;
                }
                return new Same();
            });
        Rewrite(s_default, rules, dialect: SqlDialect.MySql);
        Assert.NotNull(email);
        Assert.Equal(("fixture", "customers", TypeCategory.Text, 100, true), (email.Schema, email.Table, email.Category, email.MaxLength, email.Unique));
        Assert.Equal(TypeCategory.Json, prefs!.Category); // longtext CHECK (json_valid(`prefs`))
        Assert.False(name!.Unique); // a plain KEY is not unique
    }

    internal sealed class Same : Transformer
    {
        public override TransformResult Transform(ReadOnlySpan<byte> value, bool isNull, IRowContext row, System.Buffers.IBufferWriter<byte> output) =>
            TransformResult.Unchanged;
    }

    [Fact]
    public void Rewrite_MySqlSkipData_KeepsSchemaDropsInserts()
    {
        var output = MySql(s_default, Rules([], [], ["customers"]));
        Assert.Contains("CREATE TABLE `customers` (", output);
        Assert.Contains("LOCK TABLES `customers` WRITE;", output);
        Assert.DoesNotContain("alice@example.com", output);
        Assert.Contains("(1,1,10.500,'2024-01-01 10:00:00'),", output);
    }

    [Fact]
    public void Rewrite_MySqlDropTable_RemovesItsStatementsAndKeepsOthers()
    {
        var output = MySql(s_default, Rules([], ["customers"], []));
        Assert.DoesNotContain("DROP TABLE IF EXISTS `customers`", output);
        Assert.DoesNotContain("CREATE TABLE `customers`", output);
        Assert.DoesNotContain("LOCK TABLES `customers`", output);
        Assert.DoesNotContain("ALTER TABLE `customers`", output);
        Assert.DoesNotContain("alice@example.com", output);
        Assert.DoesNotContain("TRIGGER customers_audit", output); // the trigger ON customers
        Assert.DoesNotContain("VIEW `customer_emails` AS select", output); // the view FROM customers
        // orders keeps its foreign key to customers: mysqldump's FOREIGN_KEY_CHECKS=0 lets it load without its target.
        Assert.Contains("CONSTRAINT `orders_customer_fk` FOREIGN KEY (`customer_id`) REFERENCES `customers`", output);
        Assert.Contains("(1,1,10.500,'2024-01-01 10:00:00'),", output);
        Assert.Contains("CREATE TABLE `audit`", output);
        Assert.Contains("DELIMITER ;;", output);
    }

    [Fact]
    public void Rewrite_MySqlOnlyTables_DropsTheOthers()
    {
        var output = MySql(s_default, Rules([], [], [], ["orders"]));
        Assert.Contains("CREATE TABLE `orders`", output);
        Assert.DoesNotContain("CREATE TABLE `customers`", output);
        Assert.DoesNotContain("INSERT INTO `blobs`", output);
        Assert.DoesNotContain("`odd``name`", output);
    }

    [Fact]
    public void Rewrite_MySqlIntroducersAndInsertVariants_AreLiterals()
    {
        var dump = Encoding.UTF8.GetBytes(
            "CREATE TABLE `t` (`a` int, `b` blob);\n" +
            "INSERT IGNORE INTO `t` VALUES (1,_binary 'ab\\0'),(2,_binary 0x6162),(3,X'6162'),(4,N'ab');\n" +
            "REPLACE INTO `t` (`b`, `a`) VALUES ('cd',-5);\n");
        var output = Text(Rewrite(dump, Rules("t.b=upper"), dialect: SqlDialect.MySql));
        Assert.Contains("VALUES (1,_binary 'AB\\0'),(2,_binary 0x4142),(3,0x4142),(4,'AB');\n", output);
        Assert.Contains("REPLACE INTO `t` (`b`, `a`) VALUES ('CD',-5);\n", output);
    }
}

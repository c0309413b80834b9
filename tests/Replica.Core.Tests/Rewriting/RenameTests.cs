using System.Text;
using Replica.Lexing;
using Replica.Rewriting;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// A table renamed or moved after its CREATE TABLE, or a column renamed, took its values out of reach of the rule written
/// for the old name: the rows written under the new name passed unmasked, and the rule, having matched the CREATE TABLE,
/// raised no error (found by review). MySQL's ALTER TABLE reordering columns (MODIFY ... AFTER) put the transformer on
/// another column of an INSERT without a column list, mysqldump's default.
/// </summary>
public class RenameTests
{
    const string Create = "CREATE TABLE public.customers (id integer, email text, ssn text);\n";
    const string MyCreate = "CREATE TABLE `customers` (\n  `id` int NOT NULL,\n  `email` varchar(255) DEFAULT NULL,\n  `note` varchar(255) DEFAULT NULL\n);\n";

    static RewriteRules Masked => Rules("public.customers.email=upper");

    [Theory]
    [InlineData("ALTER TABLE public.customers RENAME TO clients;\nCOPY public.clients (id, email, ssn) FROM stdin;\n1\treal@x\ts\n\\.\n", "RENAME", false)]
    [InlineData("ALTER TABLE IF EXISTS ONLY customers RENAME TO clients;\nINSERT INTO public.clients VALUES (1, 'real@x', 's');\n", "RENAME", false)]
    [InlineData("CREATE SCHEMA other;\nALTER TABLE public.customers SET SCHEMA other;\nCOPY other.customers (id, email, ssn) FROM stdin;\n1\treal@x\ts\n\\.\n", "SET", false)]
    [InlineData("ALTER INDEX public.customers RENAME TO clients;\nINSERT INTO public.clients VALUES (1, 'real@x', 's');\n", "RENAME", false)]
    [InlineData("ALTER TABLE public.customers RENAME COLUMN email TO mail;\nCOPY public.customers (id, mail, ssn) FROM stdin;\n1\treal@x\ts\n\\.\n", "RENAME", true)]
    [InlineData("ALTER TABLE IF EXISTS public.customers RENAME ssn TO email2, RENAME COLUMN email TO ssn;\nINSERT INTO public.customers VALUES (2, 'n', 'real@x');\n", "RENAME", true)]
    [InlineData("ALTER TABLE public.customers RENAME email TO mail;\nINSERT INTO public.customers (id, mail, ssn) VALUES (1, 'real@x', 's');\n", "RENAME", true)]
    public void Rewrite_RenameOfAMaskedTableOrColumn_IsRefused(string rest, string word, bool column)
    {
        var e = Fails(Create + rest, Masked);

        Assert.Equal(2 + rest[..rest.IndexOf(word, StringComparison.Ordinal)].Count(c => c == '\n'), e.LineNumber);
        Assert.Equal(Create.Length + rest.IndexOf(word, StringComparison.Ordinal), e.ByteOffset);
        Assert.Equal("public.customers", e.Table);
        Assert.Contains(column ? "refused: a column of public.customers is renamed" : "refused: public.customers is renamed to", e.Message);
    }

    [Fact]
    public void Rewrite_RenameOfAnUnmaskedTableToAMaskedName_IsRefused()
    {
        // The rows went in unmasked under the old name; after the rename they are the masked table's.
        const string dump = "CREATE TABLE public.clients (id integer, email text, ssn text);\n" + Create
            + "INSERT INTO public.clients VALUES (1, 'real@x', 's');\nDROP TABLE public.customers;\nALTER TABLE public.clients RENAME TO customers;\n";
        var e = Fails(dump, Masked);

        Assert.Equal(dump.IndexOf("RENAME", StringComparison.Ordinal), e.ByteOffset);
        Assert.Contains("refused: public.clients is renamed to public.customers", e.Message);
    }

    [Fact]
    public void Rewrite_ColumnRenamedInAParentOfAMaskedChild_IsRefused()
    {
        // Renaming the parent's column renames the child's, whose rule then misses it.
        const string dump = "CREATE TABLE public.people (id integer, email text);\nCREATE TABLE public.customers () INHERITS (public.people);\n"
            + "ALTER TABLE public.people RENAME COLUMN email TO mail;\n";
        var e = Fails(dump, Masked);

        Assert.Equal(dump.IndexOf("RENAME", StringComparison.Ordinal), e.ByteOffset);
        Assert.Equal("public.people", e.Table);
    }

    [Theory]
    [InlineData("ALTER TABLE public.other RENAME TO others;\n")]
    [InlineData("ALTER TABLE public.other RENAME COLUMN id TO key;\n")]
    [InlineData("ALTER TABLE ONLY public.customers RENAME CONSTRAINT c1 TO c2;\n")]
    [InlineData("ALTER INDEX public.customers_pkey RENAME TO customers_key;\n")]
    [InlineData("ALTER TABLE public.customers SET (fillfactor = 70);\n")]
    public void Rewrite_RenameNoRuleReaches_PassesThrough(string statement)
    {
        var dump = Create + "CREATE TABLE public.other (id integer);\n" + statement;
        Assert.Equal(dump, Passes(dump, Masked));
    }

    [Theory]
    [InlineData("RENAME TABLE customers TO clients;\nINSERT INTO `clients` VALUES (1,'real@x','n');\n", "customers")]
    [InlineData("RENAME TABLE `other` TO `o2`, `db`.`customers` TO `other`.`clients`;\n", "`db`")]
    [InlineData("ALTER TABLE customers RENAME TO clients;\nINSERT INTO `clients` VALUES (1,'real@x','n');\n", "RENAME")]
    [InlineData("ALTER TABLE `customers` RENAME AS `clients`;\n", "RENAME")]
    [InlineData("ALTER TABLE `customers` ADD KEY `k` (`note`), RENAME `clients`;\n", "RENAME")]
    [InlineData("ALTER TABLE customers CHANGE email mail varchar(255);\nINSERT INTO `customers` (id, mail, note) VALUES (1,'real@x','n');\n", "CHANGE")]
    [InlineData("ALTER TABLE customers RENAME COLUMN email TO mail;\n", "RENAME")]
    public void Rewrite_MySqlRenameOfAMaskedTableOrColumn_IsRefused(string rest, string word)
    {
        var dump = "USE `db`;\n" + MyCreate + rest;
        var e = Fails(dump, Rules("db.customers.email=upper"), SqlDialect.MySql);

        Assert.Equal(dump.IndexOf(word, dump.IndexOf("ALTER", StringComparison.Ordinal) is var a and >= 0 ? a : dump.IndexOf("RENAME", StringComparison.Ordinal), StringComparison.Ordinal), e.ByteOffset);
        Assert.Equal("`db`.`customers`", e.Table);
        Assert.Contains("refused:", e.Message);
    }

    [Theory]
    [InlineData("ALTER TABLE customers MODIFY note varchar(255) AFTER id;\nINSERT INTO `customers` VALUES (1,'note','real@x');\n")]
    [InlineData("ALTER TABLE customers DROP COLUMN note, ADD COLUMN note varchar(255) FIRST;\nINSERT INTO `customers` VALUES ('note',1,'real@x');\n")]
    [InlineData("ALTER TABLE customers DROP id, ADD id int;\nINSERT INTO `customers` VALUES ('real@x','n',1);\n")]
    [InlineData("ALTER TABLE customers CHANGE note note varchar(255) FIRST;\nINSERT INTO `customers` VALUES ('n',1,'real@x');\n")]
    public void Rewrite_MySqlColumnsMovedThenInsertWithoutColumnList_IsRefused(string rest)
    {
        // The CREATE TABLE's order would put the transformer on another column and leave the real value in clear.
        var e = Fails(MyCreate + rest, Rules("customers.email=upper"), SqlDialect.MySql);

        Assert.Equal(MyCreate.Length + rest.IndexOf("\nINSERT", StringComparison.Ordinal), e.ByteOffset); // the unit begins after the ALTER's semicolon
        Assert.Contains("has no column list, and the order of its columns cannot be known from the dump", e.Message);
    }

    [Fact]
    public void Rewrite_MySqlColumnsMovedThenInsertWithColumnList_IsMasked()
    {
        const string rest = "ALTER TABLE customers MODIFY note varchar(255) AFTER id;\nINSERT INTO `customers` (`id`, `note`, `email`) VALUES (1,'note','real@x');\n";
        Assert.Equal(MyCreate + rest.Replace("'real@x'", "'REAL@X'", StringComparison.Ordinal),
            Passes(MyCreate + rest, Rules("customers.email=upper"), SqlDialect.MySql));
    }

    [Fact]
    public void Rewrite_MySqlDumpKeysAndIndexes_PassAndMask()
    {
        // What mysqldump writes around a table's data, and index changes, move no column.
        const string rest = "/*!40000 ALTER TABLE `customers` DISABLE KEYS */;\nALTER TABLE `customers` ADD INDEX `k` (`note`), DROP KEY `k2`, DROP PRIMARY KEY, RENAME INDEX `a` TO `b`;\n"
            + "INSERT INTO `customers` VALUES (1,'real@x','n');\n/*!40000 ALTER TABLE `customers` ENABLE KEYS */;\n";
        Assert.Equal(MyCreate + rest.Replace("'real@x'", "'REAL@X'", StringComparison.Ordinal),
            Passes(MyCreate + rest, Rules("customers.email=upper"), SqlDialect.MySql));
    }
}

using System.Text;
using Replica.Lexing;
using Replica.Rewriting;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// Statements that write rows in a form the rewriter does not rewrite value by value (INSERT ... SELECT, UPDATE, MERGE,
/// WITH, DO, an INSERT's tail) are refused for tables whose rows the config changes: passed through, their values reached
/// the stored dump unmasked (review finding 5).
/// </summary>
public class UnreadWriteTests
{
    const string Create = "CREATE TABLE public.customers (id integer, email text, ssn text);\n";
    const string MyCreate = "CREATE TABLE `customers` (\n  `id` int NOT NULL,\n  `email` varchar(255) DEFAULT NULL,\n  `ssn` varchar(255) DEFAULT NULL\n);\n";

    static RewriteRules Masked => Rules("public.customers.email=upper");

    [Theory]
    [InlineData("INSERT INTO public.customers AS c (id, email, ssn) VALUES (1, 'real1', 's');", "INSERT")]
    [InlineData("INSERT INTO public.customers (id, email, ssn) SELECT 2, 'real2', 's';", "INSERT")]
    [InlineData("INSERT INTO public.customers DEFAULT VALUES;", "INSERT")]
    [InlineData("WITH w AS (SELECT 1) INSERT INTO public.customers (id, email, ssn) VALUES (6, 'real6', 's');", "INSERT")]
    [InlineData("WITH x AS (UPDATE public.customers SET email = 'real' RETURNING id) SELECT * FROM x;", "UPDATE")]
    [InlineData("UPDATE public.customers SET email = 'real7' WHERE id = 1;", "UPDATE")]
    [InlineData("update ONLY Customers c SET email = 'real7';", "update")]
    [InlineData("MERGE INTO public.customers c USING (VALUES (1, 'real')) v (id, e) ON c.id = v.id WHEN MATCHED THEN UPDATE SET email = v.e WHEN NOT MATCHED THEN INSERT VALUES (v.id, v.e, 's');", "MERGE")]
    [InlineData("PREPARE p (integer, text) AS INSERT INTO public.customers VALUES ($1, $2, 's');", "INSERT")]
    [InlineData("EXPLAIN ANALYZE UPDATE public.customers SET email = 'real';", "UPDATE")]
    [InlineData("UPDATE U&\"public\".U&\"c\\0075stomers\" SET email = 'real';", "UPDATE")]
    [InlineData("UPDATE U&\"c!0075stomers\" UESCAPE '!' SET email = 'real';", "UPDATE")]
    [InlineData("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1) SEARCH DEPTH FIRST BY n SET key INSERT INTO public.customers (id, email, ssn) VALUES (1, 'real', 's');", "INSERT")]
    [InlineData("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 1) CYCLE n SET c USING key INSERT INTO public.customers (id, email, ssn) VALUES (1, 'real', 's');", "INSERT")]
    public void Rewrite_WriteTheRewriterDoesNotRead_IsRefusedForAMaskedTable(string statement, string verb)
    {
        var e = Fails(Create + statement + "\n", Masked);

        Assert.Equal(2, e.LineNumber);
        Assert.Equal(Create.Length + statement.IndexOf(verb, StringComparison.Ordinal), e.ByteOffset);
        Assert.Equal("public.customers", e.Table);
        Assert.Contains($"refused: {verb.ToUpperInvariant()} writes rows of public.customers, whose rows the config masks, filters or leaves out", e.Message);
    }

    [Theory]
    [InlineData("UPDATE public.customers SET id = 2;")]
    [InlineData("INSERT INTO public.customers (id) SELECT 1;")]
    public void Rewrite_WriteIntoASkippedTable_IsRefused(string statement)
    {
        var e = Fails(Create + statement + "\n", Rules([], [], ["public.customers"]));
        Assert.Equal(Create.Length, e.ByteOffset);
    }

    [Theory]
    [InlineData("DO $$ BEGIN INSERT INTO public.customers VALUES (1, 'real', 's'); END $$;", 0)]
    [InlineData("UPDATE (SELECT 1) SET x = 1;", 0)]
    [InlineData("WITH a AS (SELECT 1) UPDATE 42 SET email = 'real';", 21)]
    public void Rewrite_WriteWhoseTableCannotBeTold_IsRefusedWhenRulesExist(string statement, int at)
    {
        var e = Fails(Create + statement + "\n", Masked);

        Assert.Equal(Create.Length + at, e.ByteOffset);
        Assert.Null(e.Table);
        Assert.Contains("may write rows of a table that Replica cannot tell", e.Message);
        // Without rules nothing is masked, so nothing is refused.
        Assert.Equal(Create + statement + "\n", Passes(Create + statement + "\n", Replica.Rewriting.RewriteRules.None));
    }

    [Theory]
    [InlineData("UPDATE public.other SET email = 'real7' WHERE id = 1;")]
    [InlineData("INSERT INTO public.other AS o (id) SELECT 2 ON CONFLICT (id) DO UPDATE SET id = 3;")]
    [InlineData("WITH w AS (INSERT INTO public.other VALUES (1) RETURNING id) UPDATE public.other SET id = 2;")]
    [InlineData("MERGE INTO other USING public.customers c ON other.id = c.id WHEN MATCHED THEN DO NOTHING;")]
    [InlineData("SELECT pg_catalog.setval('public.customers_id_seq', 42, true);")]
    [InlineData("SELECT * FROM public.customers FOR UPDATE;")]
    [InlineData("INSERT INTO public.other (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = 2;")]
    public void Rewrite_WriteToATableWithoutRules_PassesThrough(string statement)
    {
        var dump = Create + "CREATE TABLE public.other (id integer);\n" + statement + "\n";
        Assert.Equal(dump, Passes(dump, Masked));
    }

    [Fact]
    public void Rewrite_UnreadInsertIntoADroppedTable_GoesWithIt()
    {
        var dump = Create + "INSERT INTO public.customers (id) SELECT 1;\nUPDATE public.customers SET id = 2;\nSELECT 1;\n";
        Assert.Equal("\nSELECT 1;\n", Passes(dump, Rules([], ["public.customers"], [])));
    }

    [Theory]
    [InlineData(" ON CONFLICT (id) DO UPDATE SET email = 'real3'")]
    [InlineData(" ON CONFLICT DO UPDATE SET email = 'real3'")]
    [InlineData(" UNION ALL SELECT 5, 'real5', 's'")]
    [InlineData(" ON CONFLICT (id) WHERE email = 'x' DO NOTHING")]
    [InlineData(" RETURNING email")]
    public void Rewrite_InsertTailOtherThanDoNothing_IsRefused(string tail)
    {
        var statement = "INSERT INTO public.customers (id, email, ssn) VALUES (3, 'x', 'x'), (4, 'y', 'y')" + tail + ";";
        var e = Fails(Create + statement + "\n", Masked);

        Assert.Equal(Create.Length + statement.IndexOf(tail, StringComparison.Ordinal) + 1, e.ByteOffset);
        Assert.Equal("public.customers", e.Table);
        Assert.Contains("refused: an INSERT into public.customers goes on after its VALUES tuples", e.Message);
    }

    [Fact]
    public void Rewrite_InsertTailWithoutMaskedColumns_IsRefusedToo()
    {
        // The column list holds no masked column, so the tuples are not read: the tail could still set one.
        const string statement = "INSERT INTO public.customers (id) VALUES (3) ON CONFLICT (id) DO UPDATE SET email = 'real3';";
        var e = Fails(Create + statement + "\n", Masked);
        Assert.Equal(Create.Length + statement.IndexOf("ON CONFLICT", StringComparison.Ordinal), e.ByteOffset);
    }

    [Theory]
    [InlineData(" ON CONFLICT DO NOTHING")]
    [InlineData(" ON CONFLICT (id) DO NOTHING")]
    [InlineData(" ON CONFLICT ((lower(email))) DO NOTHING")]
    [InlineData(" ON CONFLICT ON CONSTRAINT customers_pkey DO NOTHING")]
    [InlineData("")]
    public void Rewrite_InsertTailDoNothing_IsMasked(string tail)
    {
        var dump = Create + "INSERT INTO public.customers (id, email, ssn) VALUES (3, 'x', 'x')" + tail + ";\n";
        Assert.Equal(dump.Replace("'x', 'x'", "'X', 'x'", StringComparison.Ordinal), Passes(dump, Masked));
    }

    [Fact]
    public void Rewrite_UnicodeEscapedNames_AreDecoded()
    {
        // U&"..." names used to be read as written: the table or column missed its rule and its values went through.
        var dump = Create
            + "INSERT INTO U&\"public\".U&\"c\\0075stomers\" (id, email, ssn) VALUES (6, 'real-6', 's');\n"
            + "INSERT INTO public.customers (id, U&\"\\0065mail\", ssn) VALUES (7, 'real-7', 's');\n"
            + "INSERT INTO public.customers (id, U&\"!+000065mail\" UESCAPE '!', ssn) VALUES (8, 'real-8', 's');\n"
            + "INSERT INTO public.customers (id, U&\"e\\\\mail\", ssn) VALUES (9, 'not-masked', 's');\n";

        var output = Passes(dump, Masked);

        Assert.Contains("VALUES (6, 'REAL-6', 's')", output, StringComparison.Ordinal);
        Assert.Contains("VALUES (7, 'REAL-7', 's')", output, StringComparison.Ordinal);
        Assert.Contains("VALUES (8, 'REAL-8', 's')", output, StringComparison.Ordinal);
        Assert.Contains("VALUES (9, 'not-masked', 's')", output, StringComparison.Ordinal); // the column e\mail is another one
    }

    [Fact]
    public void Rewrite_UnicodeEscapedNameInCreateTable_IsDecoded()
    {
        var dump = "CREATE TABLE U&\"c\\0075stomers\" (id integer, U&\"\\0065mail\" text);\nINSERT INTO public.customers VALUES (1, 'real');\n";
        Assert.EndsWith("VALUES (1, 'REAL');\n", Passes(dump, Masked), StringComparison.Ordinal);
    }

    [Fact]
    public void Rewrite_RuleActionsAndAtomicBodies_PassThrough()
    {
        // pg_dump writes a multi-action rule's actions and a SQL-standard body over several ';': psql sends them with the
        // CREATE as one statement, which stores them and runs nothing.
        var dump = Create
            + "CREATE RULE r AS\n    ON INSERT TO public.other DO ( INSERT INTO public.log (x)\n  VALUES (new.x);\n UPDATE public.customers SET email = new.x;\n);\n"
            + "CREATE PROCEDURE public.p()\n    LANGUAGE sql\n    BEGIN ATOMIC\n UPDATE public.customers SET email = 'x';\n INSERT INTO public.customers (id) SELECT 1;\n MERGE INTO public.customers c USING public.other o ON c.id = o.id WHEN MATCHED THEN DELETE;\nEND;\n"
            + "CREATE PROCEDURE public.add(IN e text)\n    LANGUAGE sql\n    BEGIN ATOMIC\n INSERT INTO public.customers (id, email, ssn)\n  VALUES (1, add.e, 'x');\nEND;\n"
            + "CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN UPDATE public.customers SET email = 'x'; END $$;\n"
            + "CREATE TRIGGER t BEFORE INSERT OR UPDATE ON public.customers FOR EACH ROW EXECUTE FUNCTION public.f();\n";

        Assert.Equal(dump, Passes(dump, Masked));
    }

    [Fact]
    public void Rewrite_BeginThatIsNotAtomic_DoesNotHideAnUpdate()
    {
        // psql would send the UPDATE with the CREATE as one string, which the server runs as two statements.
        const string create = "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1' SET search_path = begin;\n";
        const string update = "UPDATE public.customers SET email = 'real';\n";
        var e = Fails(Create + create + update + "END;\n", Masked);
        Assert.Equal(Create.Length + create.Length, e.ByteOffset);
    }

    [Theory]
    [InlineData("INSERT INTO `customers` SET `id`=1, `email`='real1@example.com', `ssn`='s';", "INSERT", 0)]
    [InlineData("INSERT INTO `customers` (`id`,`email`,`ssn`) SELECT 4,'real4@example.com','s';", "INSERT", 0)]
    [InlineData("REPLACE customers SELECT 4,'real4@example.com','s';", "REPLACE", 0)]
    [InlineData("UPDATE `customers` SET `email`='real8@example.com' WHERE id=7;", "UPDATE", 0)]
    [InlineData("UPDATE LOW_PRIORITY customers AS c SET email = 'real';", "UPDATE", 0)]
    public void Rewrite_MySqlWriteTheRewriterDoesNotRead_IsRefused(string statement, string verb, int at)
    {
        var e = Fails(MyCreate + statement + "\n", Masked, SqlDialect.MySql);

        Assert.Equal(MyCreate.Length + at, e.ByteOffset);
        Assert.Equal("`customers`", e.Table);
        Assert.Contains($"refused: {verb} writes rows of `customers`", e.Message);
    }

    [Theory]
    [InlineData("UPDATE customers, other SET customers.email = 'real';")]
    [InlineData("UPDATE customers JOIN other ON customers.id = other.id SET email = 'real';")]
    [InlineData("WITH a AS (SELECT 1) UPDATE customers SET email = 'real';")]
    [InlineData("PREPARE s FROM 'UPDATE customers SET email = ''real''';")]
    public void Rewrite_MySqlWriteWhoseTableCannotBeTold_IsRefused(string statement)
    {
        var e = Fails(MyCreate + statement + "\n", Masked, SqlDialect.MySql);
        Assert.Contains("may write rows of a table that Replica cannot tell", e.Message);
    }

    [Theory]
    [InlineData(" ON DUPLICATE KEY UPDATE `email`='real3@example.com'", 1)]
    [InlineData(" AS new ON DUPLICATE KEY UPDATE `email`=new.email", 1)]
    public void Rewrite_MySqlInsertTail_IsRefused(string tail, int at)
    {
        var statement = "INSERT INTO `customers` VALUES (3,'x@example.com','x')" + tail + ";";
        var e = Fails(MyCreate + statement + "\n", Masked, SqlDialect.MySql);
        Assert.Equal(MyCreate.Length + statement.IndexOf(tail, StringComparison.Ordinal) + at, e.ByteOffset);
    }

    [Fact]
    public void Rewrite_MySqlValuesRow_IsRefused()
    {
        const string statement = "INSERT INTO `customers` VALUES ROW(2,'real2@example.com','s');";
        var e = Fails(MyCreate + statement + "\n", Masked, SqlDialect.MySql);
        Assert.Equal(MyCreate.Length + statement.IndexOf("ROW", StringComparison.Ordinal), e.ByteOffset);
    }

    [Fact]
    public void Rewrite_MySqlDumpShapes_AreMasked()
    {
        // mysqldump's own forms: executable comments, INSERT IGNORE, REPLACE, a trigger's body behind DELIMITER.
        var dump = MyCreate
            + "/*!40000 INSERT INTO `customers` VALUES (5,'a','s') */;\n"
            + "INSERT IGNORE INTO `customers` VALUES (6,'b','s');\n"
            + "REPLACE INTO `customers` VALUES (7,'c','s');\n"
            + "DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON customers FOR EACH ROW UPDATE other SET x = 1 */;;\nDELIMITER ;\n";

        var output = Passes(dump, Rules("public.customers.email=upper"), SqlDialect.MySql);

        Assert.Contains("(5,'A','s')", output, StringComparison.Ordinal);
        Assert.Contains("(6,'B','s')", output, StringComparison.Ordinal);
        Assert.Contains("(7,'C','s')", output, StringComparison.Ordinal);
        Assert.Contains("UPDATE other SET x = 1", output, StringComparison.Ordinal);
    }
}

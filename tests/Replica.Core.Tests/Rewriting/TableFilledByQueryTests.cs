using System.Text;
using Replica.Lexing;
using Replica.Rewriting;
using static Replica.Core.Tests.Rewriting.RewriteHarness;

namespace Replica.Core.Tests.Rewriting;

/// <summary>
/// CREATE TABLE ... AS VALUES / SELECT and SELECT ... INTO filled a masked table with literal rows that passed unmasked
/// (found by review).
/// </summary>
public class TableFilledByQueryTests
{
    static RewriteRules Masked(SqlDialect dialect) =>
        dialect == SqlDialect.MySql ? Rules("customers.email=upper") : Rules("public.customers.email=upper");

    static DumpFormatException Fails(string dump, SqlDialect dialect = SqlDialect.PostgreSql) => RewriteHarness.Fails(dump, Masked(dialect), dialect);

    [Theory]
    [InlineData("CREATE TABLE public.customers (id, email) AS VALUES (1, 'real@x');\n", "AS")]
    [InlineData("CREATE UNLOGGED TABLE IF NOT EXISTS customers WITH (fillfactor = 70) AS SELECT 1 AS id, 'real@x'::text AS email;\n", "AS")]
    [InlineData("SELECT 1 AS id, 'real@x'::text AS email INTO TEMP TABLE public.customers;\n", "INTO")]
    public void Rewrite_MaskedTableFilledByAQuery_IsRefused(string statement, string word)
    {
        var e = Fails("SELECT 1;\n" + statement);

        Assert.Equal(2, e.LineNumber);
        Assert.Equal("SELECT 1;\n".Length + statement.IndexOf(" " + word + " ", StringComparison.Ordinal) + 1, e.ByteOffset);
        Assert.Equal("public.customers", e.Table);
        Assert.Contains($"refused: {word} writes rows of public.customers", e.Message);
    }

    [Theory]
    [InlineData("CREATE TABLE customers SELECT 1 AS id, 'real@x' AS email;\n", "SELECT")]
    [InlineData("CREATE TABLE `customers` (id int, email varchar(9)) IGNORE AS SELECT 1 AS id, 'real@x' AS email;\n", "AS")]
    [InlineData("CREATE TABLE customers (id int, email varchar(9)) VALUES ROW(1, 'real@x');\n", "VALUES")]
    public void Rewrite_MySqlMaskedTableFilledByAQuery_IsRefused(string statement, string word)
    {
        var e = Fails("SELECT 1;\n" + statement, SqlDialect.MySql);

        Assert.Equal("SELECT 1;\n".Length + statement.IndexOf(" " + word + " ", StringComparison.Ordinal) + 1, e.ByteOffset);
        Assert.Contains($"refused: {word} writes rows of", e.Message);
    }

    [Theory]
    [InlineData("CREATE TABLE public.customers AS SELECT 1 AS id, 'real@x'::text AS email WITH NO DATA;\n", SqlDialect.PostgreSql)]
    [InlineData("CREATE TABLE public.other AS SELECT 1 AS id, 'x'::text AS email;\n", SqlDialect.PostgreSql)]
    [InlineData("CREATE TABLE public.customers (id integer, email text GENERATED ALWAYS AS (lower(ssn)) STORED, ssn text) PARTITION BY RANGE (id);\n", SqlDialect.PostgreSql)]
    [InlineData("SELECT * INTO STRICT x FROM public.other;\n", SqlDialect.PostgreSql)]
    [InlineData("CREATE TABLE `customers` (\n  `id` int,\n  `email` varchar(9) AS (lower(`id`)) VIRTUAL\n) ENGINE=InnoDB WITH SYSTEM VERSIONING\n/*!50100 PARTITION BY RANGE (`id`)\n(PARTITION `p0` VALUES LESS THAN (10) ENGINE = InnoDB) */;\n", SqlDialect.MySql)]
    public void Rewrite_TableWithoutQueryRowsOrRules_Passes(string statement, SqlDialect dialect)
    {
        Assert.Equal(statement, Passes(statement, Masked(dialect), dialect));
    }
}

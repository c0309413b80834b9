using Replica.Clients;


namespace Replica.Core.Tests.Clients;

public sealed class PgDumpPatternTests
{
    [Theory]
    [InlineData("users", "public", "users", true)]
    [InlineData("users", "sales", "users", false)]        // no schema: the search path, i.e. public
    [InlineData("sales.*", "sales", "orders", true)]
    [InlineData("*.logs", "audit", "logs", true)]
    [InlineData("Users", "public", "users", true)]         // unquoted folds to lower case
    [InlineData("\"Users\"", "public", "users", false)]
    [InlineData("\"Mixed Case\"", "public", "Mixed Case", true)]
    [InlineData("\"my.schema\".t", "my.schema", "t", true)]
    [InlineData("log_202?", "public", "log_2024", true)]
    [InlineData("log_202?", "public", "log_20245", false)]
    [InlineData("shop.public.users", "public", "users", true)]
    public void Table_Patterns(string pattern, string schema, string table, bool expected)
    {
        Assert.Equal(expected, PgDumpPattern.Table(pattern).Matches(schema, table));
    }

    /// <summary>
    /// Whether pg_dump --table selects the table (each row checked with pg_dump 15 against a server): '.' and [^x] match
    /// a newline, the end is the string's end (not before a final newline), unquoted letters fold to lower case, quoted
    /// text and $ are literal, "[]" is literal outside quotes too.
    /// </summary>
    [Theory]
    [InlineData("public.audit*", "public", "audit\nlog", true)]
    [InlineData("public.audit?log", "public", "audit\nlog", true)]
    [InlineData("public.audit?log", "public", "audit\tlog", true)]
    [InlineData("public.audit[^x]log", "public", "audit\nlog", true)]
    [InlineData("public.audit", "public", "audit\n", false)]
    [InlineData("public.audit*", "public", "\naudit", false)]
    [InlineData("public.*", "public", "\n", true)]
    [InlineData("*.audit*", "sch\nema", "audit_a", true)]
    [InlineData("public.\"Audit\"*", "public", "Audit\nLog", true)]
    [InlineData("public.\"Audit\"*", "public", "audit_log", false)]
    [InlineData("public.AUDIT*", "public", "audit\nLOG", true)]
    [InlineData("public.AUDIT*", "public", "Audit_log", false)]
    [InlineData("\"a.b\".\"c.d\"", "a.b", "c.d", true)]
    [InlineData("\"a.b\".\"c.d\"", "aXb", "cXd", false)]
    [InlineData("\"a.b\".c_d", "a.b", "c_d", true)]
    [InlineData("public.\"we\"\"ird\"", "public", "we\"ird", true)]
    [InlineData("public.price$", "public", "price$", true)]
    [InlineData("public.price$", "public", "price", false)]
    [InlineData("public.\"a*b\"", "public", "a*b", true)]
    [InlineData("public.\"a*b\"", "public", "aXb", false)]
    [InlineData("public.t[]", "public", "t[]", true)]
    [InlineData("public.t[12]", "public", "t1", true)]
    [InlineData("public.t(a|b)", "public", "tb", true)]
    [InlineData("public.t+", "public", "ttt", true)]
    [InlineData("public.\"t+\"", "public", "ttt", false)]
    [InlineData("public.\"line\nbreak\"", "public", "line\nbreak", true)]
    public void Table_NamesWithNewlinesQuotesAndRegexCharacters_MatchAsPgDump(string pattern, string schema, string table, bool expected)
    {
        Assert.Equal(expected, PgDumpPattern.Table(pattern).Matches(schema, table));
    }

    [Theory]
    [InlineData("aud*", "aud\nit", true)]
    [InlineData("audit", "audit\n", false)]
    [InlineData("\"Odd.Sch\"", "Odd.Sch", true)]
    public void Schema_NamesWithNewlinesAndDots_MatchAsPgDump(string pattern, string schema, bool expected)
    {
        Assert.Equal(expected, PgDumpPattern.Schema(pattern).MatchesSchema(schema));
    }

    [Theory]
    [InlineData("users", false)]
    [InlineData("\"my.table\"", false)]     // the dot is quoted: one part
    [InlineData("public.users", true)]
    [InlineData("*.users", true)]
    [InlineData("\"my.schema\".t", true)]
    [InlineData("shop.public.users", true)]
    public void NamesSchema_DotOutsideQuotes(string pattern, bool expected)
    {
        Assert.Equal(expected, PgDumpPattern.NamesSchema(pattern));
    }

    [Theory]
    [InlineData("audit", "audit", true)]
    [InlineData("aud*", "audit", true)]
    [InlineData("audit", "audit2", false)]
    public void Schema_Patterns(string pattern, string schema, bool expected)
    {
        Assert.Equal(expected, PgDumpPattern.Schema(pattern).MatchesSchema(schema));
    }
}

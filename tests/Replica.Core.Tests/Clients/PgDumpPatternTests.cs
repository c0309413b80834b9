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

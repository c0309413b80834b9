using Replica.Destinations;

namespace Replica.Core.Tests.Destinations;

public sealed class MysqlReachTests
{
    static readonly string[] s_databases = ["shop", "shop_replica_12_1700000000", "shopping", "shopxdb", "keepdb"];

    [Theory]
    [InlineData("shop", "shop", true)]
    [InlineData("shop\\_replica\\_%", "shop", true)]
    [InlineData("shop\\_replica\\_12\\_1700000000", "shop", true)]
    [InlineData("shop_replica_%", "shop", false)]  // '_' is a wildcard: shopXreplica... is not a staging database
    [InlineData("shop%", "shop", false)]
    [InlineData("%", "shop", false)]
    [InlineData("keepdb", "shop", false)]
    [InlineData("sho_", "shop", true)]             // only '_' wildcards, matching no other database that exists
    [InlineData("keep_db", "keep_db", true)]
    [InlineData("shop_db", "shop_db", false)]      // matches shopxdb too, which exists
    [InlineData("shop\\_db", "shop_db", true)]
    public void PatternConfined_ReachesOnlyTheDestinationAndItsStaging(string pattern, string database, bool confined) =>
        Assert.Equal(confined, MysqlReach.PatternConfined(pattern, database, [.. s_databases, "shop_db", "keep_db"]));

    [Theory]
    [InlineData("a%c", "abbbc", true)]
    [InlineData("a%c", "ab", false)]
    [InlineData("a_c", "abc", true)]
    [InlineData("a\\_c", "abc", false)]
    [InlineData("a\\_c", "a_c", true)]
    [InlineData("%", "", true)]
    [InlineData("a\\%", "a%", true)]
    [InlineData("A", "a", false)]
    public void Like_FollowsSqlLike(string pattern, string text, bool matches) =>
        Assert.Equal(matches, MysqlReach.Like(pattern, text));

    [Fact]
    public void Reasons_NameEveryGrantThatReachesFurther()
    {
        string?[][] rows =
        [
            ["global", "USAGE", null], ["global", "SELECT", null], ["global", "FILE", null],
            ["schema", "SELECT", "keepdb"], ["schema", "INSERT", "shop"], ["schema", "CREATE", "shop\\_replica\\_%"],
            ["schema", "TRIGGER", "keepdb"], ["table", "INSERT", "keepdb"], ["table", "INSERT", "shop"], ["column", "UPDATE", "keepdb"],
            ["role", "admin", null], ["database", null, "keepdb"], ["database", null, "shop"],
        ];

        var reasons = MysqlReach.Reasons(rows, "shop");

        Assert.Equal(
            ["may FILE on every database", "may TRIGGER on databases matching 'keepdb'", "may INSERT on tables of 'keepdb'",
             "may UPDATE on columns of 'keepdb'", "may SET ROLE admin (whose grants are not checked)"],
            reasons);
    }

    [Fact]
    public void Reasons_ConfinedUser_None()
    {
        string?[][] rows =
        [
            ["global", "USAGE", null], ["schema", "SELECT", "keepdb"], ["schema", "ALTER", "shop"], ["schema", "DROP", "shop\\_replica\\_%"],
            ["database", null, "keepdb"], ["database", null, "shop"],
        ];

        Assert.Empty(MysqlReach.Reasons(rows, "shop"));
    }
}

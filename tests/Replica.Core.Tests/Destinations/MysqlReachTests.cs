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

    [Fact]
    public void GrantRows_ReadShowGrantsLines()
    {
        string?[][] lines =
        [
            ["GRANT USAGE ON *.* TO `conf`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122'"],
            ["GRANT ALL PRIVILEGES ON `shop\\_replica\\_%`.* TO `conf`@`%`"],
            ["GRANT SELECT, UPDATE (`i`, `j`) ON `keepdb`.`t` TO PUBLIC"],
            ["GRANT EXECUTE ON PROCEDURE `keepdb`.`p` TO `conf`@`%`"],
            ["GRANT FILE ON *.* TO PUBLIC"],
            ["GRANT `r1` TO `conf`@`%`"],
            ["GRANT PROXY ON ''@'127.0.0.1' TO 'root'@'localhost' WITH GRANT OPTION"],
            ["SET DEFAULT ROLE `r1` FOR `conf`@`%`"],
        ];

        var rows = MysqlReach.GrantRows(lines, "PUBLIC").Select(r => string.Join("|", r.Take(3))).ToList();

        Assert.Equal(
            ["global|USAGE|", "schema|ALL|shop\\_replica\\_%", "table|SELECT|keepdb", "table|UPDATE|keepdb", "routine|EXECUTE|keepdb",
             "global|FILE|", "role|`r1`|"],
            rows);
    }

    [Fact]
    public void Reasons_PublicAndRoutineGrants_AreNamed()
    {
        var rows = MysqlReach.GrantRows([["GRANT INSERT ON `keepdb`.* TO PUBLIC"], ["GRANT FILE ON *.* TO PUBLIC"]], "PUBLIC");
        rows.AddRange(MysqlReach.GrantRows([["GRANT EXECUTE ON FUNCTION `keepdb`.`f` TO `u`@`%`"], ["GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `u`@`%`"]], "user"));

        Assert.Equal(
            ["may FILE on every database (granted to PUBLIC)", "may INSERT on databases matching 'keepdb' (granted to PUBLIC)", "may EXECUTE on routines of 'keepdb'"],
            MysqlReach.Reasons(rows, "shop"));
    }
}

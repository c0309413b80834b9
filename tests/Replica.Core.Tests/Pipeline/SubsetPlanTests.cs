using Replica.Config;
using Replica.Lexing;
using Replica.Pipeline;
using Replica.Subsetting;
using static Replica.Core.Tests.Config.ConfigTestHelpers;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// Subset plans over MySQL tables whose names differ only in case (lower_case_table_names=0): the config's exact name
/// picks one, an unclear one is a config error naming both (it crashed with "Sequence contains more than one element").
/// </summary>
public class SubsetPlanTests
{
    static readonly SubsetTable[] s_tables =
    [
        new("shop.Customers", ["id"], [0]),
        new("shop.customers", ["id"], [0]),
        new("shop.Orders", ["id"], [0]),
        new("shop.ORDERS", ["id"], [0]),
    ];

    static SubsetPlan Plan(string subset) => SubsetPlan.Build(
        ConfigLoader.Parse("secret: s3cr3t-s3cr3t-s3cr3t\nsubset:\n" + subset, "replica.yaml", Known, Env()),
        s_tables, [], s_tables.ToDictionary(t => t, _ => 10L), SqlDialect.MySql);

    [Theory]
    [InlineData("customers", "shop.customers")]
    [InlineData("'\"Customers\"'", "shop.Customers")]
    [InlineData("'\"ORDERS\"'", "shop.ORDERS")]
    public void Build_MySqlTablesDifferingOnlyInCase_TheExactNameIsTheRoot(string table, string root)
    {
        var plan = Plan($"  roots: [{{ table: {table}, percent: 100 }}]\n");
        Assert.Equal(root, Assert.Single(plan.Graph.Roles, r => r.Value == SubsetRole.Root).Key.Name);
    }

    [Fact]
    public void Build_MySqlRootMatchingTablesDifferingOnlyInCaseNoneExactly_IsAConfigErrorNamingThem()
    {
        var e = Assert.Throws<ConfigException>(() => Plan("  roots: [{ table: orders, percent: 100 }]\n"));
        Assert.Contains("matches 2 tables whose names differ only in case (shop.Orders, shop.ORDERS", e.Message, StringComparison.Ordinal);
        Assert.Contains("write the root's exact name in double quotes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_MySqlFollowChildrenAndPassthrough_TakeTheExactName()
    {
        var plan = Plan("  roots: [{ table: '\"Customers\"', percent: 100 }]\n  follow_children: [customers]\n  passthrough: ['\"ORDERS\"']\n");
        Assert.Equal(["shop.customers"], plan.Graph.Followed.Select(t => t.Name));
        Assert.Equal(["shop.ORDERS"], plan.Graph.Passthrough.Select(t => t.Name));
    }
}

using Replica.Config;
using static Replica.Core.Tests.Config.ConfigTestHelpers;

namespace Replica.Core.Tests.Config;

/// <summary>The 'subset:' section: what it reads, and a positioned error for what it cannot.</summary>
public class SubsetConfigTests
{
    static ReplicaConfig Parse(string subset) =>
        ConfigLoader.Parse("secret: s3cr3t-s3cr3t-s3cr3t\nsubset:\n" + subset, "replica.yaml", Known, Env());

    static ConfigException Fails(string subset) => Assert.Throws<ConfigException>(() => Parse(subset));

    [Fact]
    public void Parse_FollowChildrenAll_FollowsEveryChildTable()
    {
        var subset = Parse("  roots: [{ table: customers, limit: 10 }]\n  follow_children: all\n  unreached: full\n").Subset!;

        Assert.True(subset.FollowAllChildren);
        Assert.True(subset.UnreachedFull);
        Assert.Equal("public.customers", subset.Roots.Single().Table.ToString());
        Assert.Null(subset.MaxRowsPerTable);
    }

    [Theory]
    [InlineData("  roots: []\n", 3, "subset.roots", "at least one root")]
    [InlineData("  follow_children: all\n", 3, "subset.roots", "where the subset starts")]
    [InlineData("  roots: [{ table: 'public.*' }]\n", 3, "subset.roots[0].table", "a pattern; a root or a virtual foreign key names one table")]
    [InlineData("  roots: [{ table: t, percent: 0 }]\n", 3, "subset.roots[0].percent", "above 0 and up to 100")]
    [InlineData("  roots: [{ table: t, percent: 101 }]\n", 3, "subset.roots[0].percent", "above 0 and up to 100")]
    [InlineData("  roots: [{ table: t, limit: -1 }]\n", 3, "subset.roots[0].limit", "whole number")]
    [InlineData("  roots: [{ table: t, sample: 3 }]\n", 3, "subset.roots[0].sample", "unknown key 'sample'")]
    [InlineData("  roots: [{ table: t }]\n  follow_children: some\n", 4, "subset.follow_children", "expected all")]
    [InlineData("  roots: [{ table: t }]\n  unreached: half\n", 4, "subset.unreached", "expected empty")]
    [InlineData("  roots: [{ table: t }]\n  virtual_foreign_keys: [{ table: c, columns: [a, b], references: { table: p, columns: [id] } }]\n", 4,
        "subset.virtual_foreign_keys[0].references", "1 referenced columns for 2 referencing ones")]
    public void Parse_BadSubset_IsAConfigErrorAtItsPosition(string subset, int line, string key, string message)
    {
        var e = Fails(subset);

        Assert.Equal(key, e.Key);
        Assert.Equal(line, e.LineNumber);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}

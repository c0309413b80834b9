using Replica.Destinations;

namespace Replica.Core.Tests.Destinations;

public sealed class LeftoversTests
{
    // Above /proc/sys/kernel/pid_max (at most 2^22 on Linux): no process can have it.
    const int GonePid = int.MaxValue;

    [Theory]
    [InlineData("shop_replica_{gone}_1764680000000", true)]
    [InlineData("shop_replica_{self}_1764680000000", false)]
    [InlineData("shop_replica_{gone}", false)]
    [InlineData("shop_replica_{gone}_x", false)]
    [InlineData("shop_replica_old_{gone}_1764680000000", false)]
    [InlineData("shop2_replica_{gone}_1764680000000", false)]
    [InlineData("shop_replica_-1_1764680000000", false)]
    public void IsAbandonedStaging_OnlyWellFormedNamesOfGoneProcesses(string template, bool abandoned)
    {
        var name = template.Replace("{gone}", GonePid.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{self}", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        Assert.Equal(abandoned, Leftovers.IsAbandonedStaging(name, "shop_replica_"));
    }

    [Fact]
    public void IsAbandonedStaging_Null_IsNot() => Assert.False(Leftovers.IsAbandonedStaging(null, "shop_replica_"));

    [Fact]
    public void LikePrefix_EscapesWildcardsOfTheName() =>
        Assert.Equal("my\\_db\\%x\\\\y\\_replica\\_%", Leftovers.LikePrefix("my_db%x\\y_replica_"));
}

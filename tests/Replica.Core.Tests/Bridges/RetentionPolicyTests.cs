using Replica.Bridges;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Bridges;

public sealed class RetentionPolicyTests
{
    static readonly DateTimeOffset s_now = T0;

    // Ages 30d, 20d, 10d, 5d, 1h, listed out of order on purpose.
    static readonly DumpEntry[] s_dumps =
    [
        Entry("d-10", TimeSpan.FromDays(10)),
        Entry("d-30", TimeSpan.FromDays(30)),
        Entry("h-1", TimeSpan.FromHours(1)),
        Entry("d-20", TimeSpan.FromDays(20)),
        Entry("d-5", TimeSpan.FromDays(5)),
    ];

    static DumpEntry Entry(string name, TimeSpan age) =>
        new(name, DumpEntry.Complete, 1, 1, (s_now - age).ToUnixTimeMilliseconds(), false, false, 1);

    static string[] Select(string? olderThan, int? keepLast) =>
        [.. RetentionPolicy.Parse(olderThan, keepLast).SelectForDeletion(s_dumps, s_now).Select(e => e.Name)];

    [Fact]
    public void SelectForDeletion_OlderThan_SelectsOldOnesOldestFirst()
    {
        Assert.Equal(["d-30", "d-20"], Select("14d", null));
    }

    [Fact]
    public void SelectForDeletion_KeepLast_KeepsNewestN()
    {
        Assert.Equal(["d-30", "d-20"], Select(null, 3));
        Assert.Equal(["d-30", "d-20", "d-10", "d-5", "h-1"], Select(null, 0));
        Assert.Empty(Select(null, 10));
    }

    [Fact]
    public void SelectForDeletion_Both_DeletesOldOnlyBeyondTheNewestN()
    {
        Assert.Equal(["d-30", "d-20", "d-10"], Select("2d", 2));
        // Every dump is old, but the newest one is kept.
        Assert.Equal(["d-30", "d-20", "d-10", "d-5"], Select("30m", 1));
    }

    [Fact]
    public void SelectForDeletion_ExactlyAsOldAsTheLimit_IsKept()
    {
        Assert.Equal(["d-30", "d-20"], Select("10d", null));
    }

    [Fact]
    public void SelectForDeletion_SameCreatedAt_KeepsByNameOrder()
    {
        DumpEntry[] twins = [Entry("b", TimeSpan.FromDays(1)), Entry("a", TimeSpan.FromDays(1))];

        var selected = RetentionPolicy.Parse(null, 1).SelectForDeletion(twins, s_now);

        Assert.Equal(["a"], selected.Select(e => e.Name));
    }

    [Theory]
    [InlineData("14d", 14 * 86400)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("30m", 30 * 60)]
    [InlineData("45s", 45)]
    [InlineData("2w", 14 * 86400)]
    [InlineData("1d12h", 36 * 3600)]
    [InlineData("0s", 0)]
    public void TryParseDuration_GoodInput_Parses(string text, long seconds)
    {
        Assert.True(RetentionPolicy.TryParseDuration(text, out TimeSpan duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("14")]
    [InlineData("d")]
    [InlineData("14x")]
    [InlineData("14D")]
    [InlineData("-1d")]
    [InlineData("1.5h")]
    [InlineData(" 14d")]
    [InlineData("14d ")]
    [InlineData("99999999999999d")]
    public void TryParseDuration_BadInput_Fails(string text)
    {
        Assert.False(RetentionPolicy.TryParseDuration(text, out _));
    }

    [Fact]
    public void Parse_BadDuration_ThrowsConfigExceptionNamingOptionAndValue()
    {
        var ex = Assert.Throws<ConfigException>(() => RetentionPolicy.Parse("14x", null));

        Assert.Equal("--older-than", ex.Key);
        Assert.Contains("'14x'", ex.Message);
        Assert.Contains("14d", ex.Message);
    }

    [Fact]
    public void Parse_NegativeKeepLast_ThrowsConfigException()
    {
        var ex = Assert.Throws<ConfigException>(() => RetentionPolicy.Parse(null, -1));

        Assert.Equal("--keep-last", ex.Key);
    }

    [Fact]
    public void Parse_NeitherOption_ThrowsConfigException()
    {
        var ex = Assert.Throws<ConfigException>(() => RetentionPolicy.Parse(null, null));

        Assert.Contains("--older-than", ex.Message);
    }

    [Fact]
    public async Task SelectForDeletion_DryRunThenDelete_RemovesExactlyTheSelection()
    {
        using var dir = new TempDirectory();
        var clock = new ManualClock(s_now - TimeSpan.FromDays(20));
        var bridge = new LocalBridge(dir.Path, new LocalBridgeOptions { TimeProvider = clock });
        await WriteDumpAsync(bridge, "old", Bytes(5), 4);
        clock.Now = s_now - TimeSpan.FromDays(1);
        await WriteDumpAsync(bridge, "new", Bytes(5), 4);

        var selected = RetentionPolicy.Parse("7d", null).SelectForDeletion(await bridge.ListAsync(CancellationToken.None), s_now);
        foreach (DumpEntry dump in selected)
        {
            await bridge.DeleteAsync(dump.Name, CancellationToken.None);
        }

        Assert.Equal(["old"], selected.Select(e => e.Name));
        Assert.Equal(["new"], (await bridge.ListAsync(CancellationToken.None)).Select(e => e.Name));
    }
}

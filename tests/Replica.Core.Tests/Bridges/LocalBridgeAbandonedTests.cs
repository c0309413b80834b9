using Replica.Bridges;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Bridges;

/// <summary>`replica delete --abandoned` on the local bridge: only unlisted dumps of dead writers with a stale marker go.</summary>
public sealed class LocalBridgeAbandonedTests : IDisposable
{
    static readonly TimeSpan s_hour = TimeSpan.FromHours(1);

    readonly TempDirectory _dir = new();
    readonly ManualClock _clock = new(DateTimeOffset.UtcNow);
    readonly LocalBridge _bridge;

    public LocalBridgeAbandonedTests()
    {
        _bridge = new LocalBridge(_dir.Path, new LocalBridgeOptions { TimeProvider = _clock });
    }

    public void Dispose() => _dir.Dispose();

    async Task KillWriterAsync(string name)
    {
        IDumpWriter writer = await _bridge.BeginDumpAsync(name, CancellationToken.None);
        await writer.WriteChunkAsync(Bytes(10), CancellationToken.None);
        ((ObjectDumpWriter)writer).SimulateCrash();
    }

    [Fact]
    public async Task DeleteAbandonedAsync_DeadWriterWithStaleMarker_RemovedAndNameUsableAgain()
    {
        await KillWriterAsync("killed");
        _clock.Now += TimeSpan.FromHours(2);

        IReadOnlyList<string> dryRun = await _bridge.DeleteAbandonedAsync(s_hour, dryRun: true, CancellationToken.None);
        Assert.True(Directory.Exists(_dir.Combine("killed")));
        IReadOnlyList<string> removed = await _bridge.DeleteAbandonedAsync(s_hour, dryRun: false, CancellationToken.None);

        Assert.Equal(["killed"], dryRun);
        Assert.Equal(["killed"], removed);
        Assert.False(Directory.Exists(_dir.Combine("killed")));
        Assert.Empty(Directory.GetDirectories(_dir.Path));
        await WriteDumpAsync(_bridge, "killed", Bytes(10), chunkSize: 10);
    }

    [Fact]
    public async Task DeleteAbandonedAsync_DeadWriterWithYoungMarker_IsKept()
    {
        await KillWriterAsync("recent");
        _clock.Now += TimeSpan.FromMinutes(30);

        IReadOnlyList<string> removed = await _bridge.DeleteAbandonedAsync(s_hour, dryRun: false, CancellationToken.None);

        Assert.Empty(removed);
        Assert.True(File.Exists(_dir.Combine("recent", "p000000-000000.chunk")));
    }

    [Fact]
    public async Task DeleteAbandonedAsync_LiveWriterAndListedDump_AreNeverRemoved()
    {
        await WriteDumpAsync(_bridge, "listed", Bytes(10), chunkSize: 10);
        await using IDumpWriter live = await _bridge.BeginDumpAsync("live", CancellationToken.None);
        await live.WriteChunkAsync(Bytes(10), CancellationToken.None);
        // Even with its marker long unrefreshed (say, a clock that jumped), the writer's lock says it is alive.
        _clock.Now += TimeSpan.FromDays(3);

        IReadOnlyList<string> removed = await _bridge.DeleteAbandonedAsync(s_hour, dryRun: false, CancellationToken.None);

        Assert.Empty(removed);
        await live.CompleteAsync(new DumpSummary(10, "test", false, false), CancellationToken.None);
        Assert.Equal(["listed", "live"], (await _bridge.ListAsync(CancellationToken.None)).Select(e => e.Name).Order());
    }

    [Fact]
    public async Task Writer_WhileWorking_RefreshesItsMarker()
    {
        var bridge = new LocalBridge(_dir.Path, new LocalBridgeOptions
        {
            TimeProvider = _clock,
            MarkerRefreshInterval = TimeSpan.FromMilliseconds(20),
        });
        await using IDumpWriter writer = await bridge.BeginDumpAsync("busy", CancellationToken.None);
        string marker = _dir.Combine("busy", ".writing");
        DateTime started = File.GetLastWriteTimeUtc(marker);
        _clock.Now += TimeSpan.FromMinutes(10);

        DateTime refreshed = started;
        for (int i = 0; i < 250 && refreshed == started; i++)
        {
            await Task.Delay(20);
            refreshed = File.GetLastWriteTimeUtc(marker);
        }

        Assert.True(Math.Abs((refreshed - _clock.Now.UtcDateTime).TotalSeconds) < 1, $"marker time {refreshed:O}, clock {_clock.Now:O}");
    }

    [Fact]
    public async Task DeleteAbandonedAsync_StaleAfterShorterThanTwoRefreshes_IsRefused()
    {
        var ex = await Assert.ThrowsAsync<ConfigException>(() =>
            _bridge.DeleteAbandonedAsync(TimeSpan.FromSeconds(90), dryRun: false, CancellationToken.None));

        Assert.Contains("too short", ex.Message);
    }
}

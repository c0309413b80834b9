using System.Security.Cryptography;
using Replica.Bridges;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Bridges;

/// <summary>
/// The local store's durable writes (fsync) block threads of its own, a few that stay, not the thread pool's: blocked
/// pool threads made the pool inject and retire threads all through a bridge dump, and RSS grew with them (issue 12).
/// </summary>
public sealed class StoreThreadsTests : IDisposable
{
    readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RunAsync_Work_RunsOffTheThreadPool()
    {
        var (pooled, name) = await StoreThreads.RunAsync(
            () => (Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name), CancellationToken.None);

        Assert.False(pooled);
        Assert.StartsWith("replica store", name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_WorkThrows_TheTaskFailsWithItsException()
    {
        var error = await Assert.ThrowsAsync<BridgeException>(
            () => StoreThreads.RunAsync<int>(() => throw new BridgeException("disk full"), CancellationToken.None));

        Assert.Equal("disk full", error.Message);
    }

    [Fact]
    public async Task PutAsync_ManyFilesFromManyTasks_StoredOnAFewThreadsThatStay()
    {
        var store = new LocalStore(_dir.Path, new LocalBridgeOptions());
        Directory.CreateDirectory(_dir.Combine("d"));
        const int Tasks = 8;
        const int FilesEach = 40;

        await RunTogetherAsync(Tasks, async number =>
        {
            for (int i = 0; i < FilesEach; i++)
            {
                byte[] data = Bytes(100 + i, seed: number);
                await store.PutAsync($"d/{number}-{i}", data, SHA256.HashData(data), "a test file", CancellationToken.None);
            }
        });

        for (int number = 1; number <= Tasks; number++)
        {
            for (int i = 0; i < FilesEach; i++)
            {
                Assert.Equal(Bytes(100 + i, seed: number), File.ReadAllBytes(_dir.Combine("d", $"{number}-{i}")));
            }
        }
        // Eight writers at once (and whatever other tests store meanwhile) share at most four threads, ever.
        Assert.InRange(StoreThreads.Started, 1, StoreThreads.MaxThreads);
    }

    [Fact]
    public async Task PutAsync_Cancelled_WritesNothing()
    {
        var store = new LocalStore(_dir.Path, new LocalBridgeOptions());
        Directory.CreateDirectory(_dir.Combine("d"));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => store.PutAsync("d/x", new byte[10], new byte[32], "a test file", cancelled.Token));

        Assert.False(File.Exists(_dir.Combine("d", "x")));
    }
}

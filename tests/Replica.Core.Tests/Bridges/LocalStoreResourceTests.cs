using System.Security.Cryptography;
using Replica.Bridges;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Bridges;

/// <summary>
/// What the local store costs a long dump (issue 12): its durable writes (fsync) block threads of its own, a few that
/// stay, not the thread pool's (blocked pool threads made the pool inject and retire threads all through a bridge dump);
/// it lists a folder as the directory is read, not by gathering it first.
/// </summary>
public sealed class LocalStoreResourceTests : IDisposable
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

    [Fact]
    public async Task ListAsync_LargeFolder_YieldsFilesAsTheDirectoryIsRead()
    {
        // A delete on a directory store asks only whether the folder holds anything: the first file must not cost a
        // list of them all (a 100 GiB dump's folder holds ~25,000 chunks; the list cost ~20 MiB, issue 12).
        var store = new LocalStore(_dir.Path, new LocalBridgeOptions());
        string folder = _dir.Combine("big");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < 5000; i++)
        {
            File.WriteAllBytes(Path.Combine(folder, $"chunk-{i:D6}.bin"), []);
        }

        // The local store lists synchronously: the whole enumeration runs on this thread, so its allocations are counted.
        long before = GC.GetAllocatedBytesForCurrentThread();
        string? first = null;
        await foreach (ObjectInfo item in store.ListAsync("big/", CancellationToken.None))
        {
            first = item.Key;
            break;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.StartsWith("big/chunk-", first, StringComparison.Ordinal);
        Assert.InRange(allocated, 0, 64 << 10);
        int count = 0;
        await foreach (ObjectInfo _ in store.ListAsync("big/", CancellationToken.None))
        {
            count++;
        }
        Assert.Equal(5000, count);
    }
}

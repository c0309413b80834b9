using Replica.Bridges;

namespace Replica.Core.Tests.Bridges;

/// <summary>The local store lists a folder as the directory is read, not by gathering it first (issue 12).</summary>
public sealed class LocalStoreListTests : IDisposable
{
    readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

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

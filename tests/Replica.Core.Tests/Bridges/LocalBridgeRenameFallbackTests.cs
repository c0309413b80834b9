using Replica.Bridges;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Bridges;

/// <summary>The collection of tests that set NoFollowFolder's process-wide hooks: they run alone, never beside other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NoFollowHooksCollection
{
    public const string Name = "NoFollowFolder hooks";
}

/// <summary>
/// The local bridge on file systems whose renameat2 rejects flags (the Linux NFS client: EINVAL; a kernel older than
/// 3.15 under glibc 2.28: ENOSYS) and, in some cases, that have no hard links (EPERM, ENOTSUP): simulated through
/// NoFollowFolder's hooks, so the fallbacks run on this machine's file system. Dumps are written, deleted and cleaned
/// up as usual.
/// </summary>
[Collection(NoFollowHooksCollection.Name)]
public sealed class LocalBridgeRenameFallbackTests : IDisposable
{
    const int EPERM = 1, EINVAL = 22, ENOSYS = 38, ENOTSUP = 95;

    readonly TempDirectory _dir = new();
    readonly ManualClock _clock = new(DateTimeOffset.UtcNow);
    readonly LocalBridge _bridge;

    public LocalBridgeRenameFallbackTests()
    {
        _bridge = new LocalBridge(_dir.Path, new LocalBridgeOptions { TimeProvider = _clock });
    }

    public void Dispose()
    {
        NoFollowFolder.RenameFlagsErrnoForTests = 0;
        NoFollowFolder.LinkErrnoForTests = 0;
        _dir.Dispose();
    }

    /// <summary>Where only paths are checked (REPLICA_FORCE_PATH_CHECKS) the hooks do nothing and the tests run the path code.</summary>
    static void Simulate(int renameFlagsErrno, int linkErrno)
    {
        NoFollowFolder.RenameFlagsErrnoForTests = renameFlagsErrno;
        NoFollowFolder.LinkErrnoForTests = linkErrno;
    }

    public static TheoryData<int, int> FileSystems => new()
    {
        { EINVAL, 0 },
        { ENOSYS, 0 },
        { EINVAL, EPERM },
        { EINVAL, ENOTSUP },
    };

    [Theory]
    [MemberData(nameof(FileSystems))]
    public async Task DeleteAsync_NoRenameFlags_DeletesTheDump(int renameFlagsErrno, int linkErrno)
    {
        Simulate(renameFlagsErrno, linkErrno);
        await WriteDumpAsync(_bridge, "old", Bytes(100), chunkSize: 30);

        await _bridge.DeleteAsync("old", CancellationToken.None);

        Assert.Empty(await _bridge.ListAsync(CancellationToken.None));
        Assert.Empty(Directory.GetDirectories(_dir.Path));
    }

    [Theory]
    [MemberData(nameof(FileSystems))]
    public async Task DeleteAbandonedAsync_NoRenameFlags_RemovesTheDeadWritersFolder(int renameFlagsErrno, int linkErrno)
    {
        Simulate(renameFlagsErrno, linkErrno);
        IDumpWriter writer = await _bridge.BeginDumpAsync("killed", CancellationToken.None);
        await writer.WriteChunkAsync(Bytes(10), CancellationToken.None);
        ((ObjectDumpWriter)writer).SimulateCrash();
        _clock.Now += TimeSpan.FromHours(2);

        IReadOnlyList<string> removed = await _bridge.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: false, CancellationToken.None);

        Assert.Equal(["killed"], removed);
        Assert.Empty(Directory.GetDirectories(_dir.Path));
    }

    [Theory]
    [MemberData(nameof(FileSystems))]
    public async Task WriteDumpAsync_NoRenameFlags_StoresChunksAndIndexAndCleansUpLeftovers(int renameFlagsErrno, int linkErrno)
    {
        Simulate(renameFlagsErrno, linkErrno);
        byte[] first = Bytes(100, seed: 1), second = Bytes(75, seed: 2);
        await WriteDumpAsync(_bridge, "first", first, chunkSize: 30);
        // A removal that died left its folder aside; the next dump's cleanup removes it.
        Directory.CreateDirectory(_dir.Combine(".deleted-gone-0123", "sub"));
        File.WriteAllBytes(_dir.Combine(".deleted-gone-0123", "sub", "p000000-000000.chunk"), Bytes(5));

        await WriteDumpAsync(_bridge, "second", second, chunkSize: 30);

        Assert.Equal(["first", "second"], (await _bridge.ListAsync(CancellationToken.None)).Select(e => e.Name));
        Assert.Equal(first, await RestoreAsync(_bridge, "first"));
        Assert.Equal(second, await RestoreAsync(_bridge, "second"));
        Assert.False(Directory.Exists(_dir.Combine(".deleted-gone-0123")));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Theory]
    [MemberData(nameof(FileSystems))]
    public void Move_NoReplaceOntoExistingFile_FailsAndKeepsBoth(int renameFlagsErrno, int linkErrno)
    {
        Simulate(renameFlagsErrno, linkErrno);
        File.WriteAllText(_dir.Combine("from"), "new");
        File.WriteAllText(_dir.Combine("to"), "old");
        using NoFollowFolder root = NoFollowFolder.OpenRoot(_dir.Path);

        IOException error = Assert.ThrowsAny<IOException>(() => root.Move("from", "to", replace: false));

        Assert.Contains("exists", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("new", File.ReadAllText(_dir.Combine("from")));
        Assert.Equal("old", File.ReadAllText(_dir.Combine("to")));
    }
}

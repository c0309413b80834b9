using Replica.Bridges;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Bridges;

/// <summary>
/// Symbolic links planted inside a local bridge must never make it write, rename or delete anything outside its
/// directory: each test points a link at a file or folder next to the bridge and checks that it is left untouched and
/// that the operation stops with a BridgeException (exit 4) naming the link.
/// </summary>
public sealed class LocalBridgeLinkTests : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly string _root;
    readonly string _outside;
    readonly string _outsideFile;
    readonly LocalBridge _bridge;

    public LocalBridgeLinkTests()
    {
        _root = Directory.CreateDirectory(_dir.Combine("bridge")).FullName;
        _outside = Directory.CreateDirectory(_dir.Combine("outside")).FullName;
        _outsideFile = Path.Combine(_outside, "precious.txt");
        File.WriteAllText(_outsideFile, "precious");
        _bridge = new LocalBridge(_root);
    }

    public void Dispose() => _dir.Dispose();

    void AssertOutsideUntouched()
    {
        Assert.Equal("precious", File.ReadAllText(_outsideFile));
        Assert.Equal([_outsideFile], Directory.GetFileSystemEntries(_outside, "*", SearchOption.AllDirectories));
    }

    static void AssertNamesLink(BridgeException ex, string linkPath)
    {
        Assert.Contains("symbolic link", ex.Message);
        Assert.Contains($"'{linkPath}'", ex.Message);
        Assert.Equal(ReplicaErrorKind.Bridge, ex.Kind);
    }

    [Fact]
    public async Task CleanupAbandonedAsync_DeletedFolderIsLinkToOutside_RefusesAndDeletesNothingOutside()
    {
        string link = Path.Combine(_root, ".deleted-x");
        Directory.CreateSymbolicLink(link, _outside);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => _bridge.CleanupAbandonedAsync(CancellationToken.None));

        AssertNamesLink(ex, link);
        AssertOutsideUntouched();
        // A dump runs the same cleanup first, so it refuses too, before storing anything.
        ex = await Assert.ThrowsAsync<BridgeException>(() => _bridge.BeginDumpAsync("d", CancellationToken.None));
        AssertNamesLink(ex, link);
        Assert.False(Directory.Exists(Path.Combine(_root, "d")));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task WriteDump_IndexTempFileIsLinkToOutsideFile_RefusesAndLeavesTheFile()
    {
        string link = Path.Combine(_root, ".index.json.tmp");
        File.CreateSymbolicLink(link, _outsideFile);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => WriteDumpAsync(_bridge, "d", Bytes(100), chunkSize: 40));

        AssertNamesLink(ex, link);
        AssertOutsideUntouched();
        Assert.False(File.Exists(Path.Combine(_root, "index.json")));
        Assert.False(Directory.Exists(Path.Combine(_root, "d")));
    }

    [Fact]
    public async Task WriteDump_IndexTempFileIsDanglingLink_CreatesNothingOutside()
    {
        string link = Path.Combine(_root, ".index.json.tmp");
        string target = Path.Combine(_outside, "created.json");
        File.CreateSymbolicLink(link, target);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => WriteDumpAsync(_bridge, "d", Bytes(100), chunkSize: 40));

        AssertNamesLink(ex, link);
        Assert.False(File.Exists(target));
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task WriteDump_StaleIndexTempFile_IsReplaced()
    {
        await File.WriteAllTextAsync(Path.Combine(_root, ".index.json.tmp"), "left by a writer that died");

        await WriteDumpAsync(_bridge, "d", Bytes(100), chunkSize: 40);

        Assert.Equal(["d"], (await _bridge.ListAsync(CancellationToken.None)).Select(e => e.Name));
        Assert.False(File.Exists(Path.Combine(_root, ".index.json.tmp")));
    }

    [Fact]
    public async Task BeginDumpAsync_IndexLockIsDanglingLink_CreatesNothingOutside()
    {
        string link = Path.Combine(_root, ".index.lock");
        string target = Path.Combine(_outside, "lock");
        File.CreateSymbolicLink(link, target);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => _bridge.BeginDumpAsync("d", CancellationToken.None));

        AssertNamesLink(ex, link);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public async Task DeleteAsync_DumpFolderIsLinkToOutside_RefusesAndDeletesNothingOutside()
    {
        string link = Path.Combine(_root, "victim");
        Directory.CreateSymbolicLink(link, _outside);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => _bridge.DeleteAsync("victim", CancellationToken.None));

        AssertNamesLink(ex, link);
        AssertOutsideUntouched();
        Assert.Equal(_outside, new DirectoryInfo(link).LinkTarget);
    }

    [Fact]
    public async Task DeleteAsync_ListedDumpFolderReplacedByLink_RefusesAndKeepsTheEntry()
    {
        await WriteDumpAsync(_bridge, "listed", Bytes(100), chunkSize: 40);
        string folder = Path.Combine(_root, "listed");
        Directory.Delete(folder, recursive: true);
        Directory.CreateSymbolicLink(folder, _outside);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => _bridge.DeleteAsync("listed", CancellationToken.None));

        AssertNamesLink(ex, folder);
        AssertOutsideUntouched();
        Assert.Equal(["listed"], (await _bridge.ListAsync(CancellationToken.None)).Select(e => e.Name));
    }

    [Fact]
    public async Task CleanupAbandonedAsync_DumpFolderIsLinkToFolderWithStaleWritingLock_RefusesAndDeletesNothingOutside()
    {
        File.WriteAllText(Path.Combine(_outside, ".writing"), "pid 1");
        string link = Path.Combine(_root, "victim");
        Directory.CreateSymbolicLink(link, _outside);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => _bridge.CleanupAbandonedAsync(CancellationToken.None));

        AssertNamesLink(ex, link);
        Assert.Equal("precious", File.ReadAllText(_outsideFile));
        Assert.True(File.Exists(Path.Combine(_outside, ".writing")));
    }

    [Fact]
    public async Task CleanupAbandonedAsync_StaleWriterFolderHoldsLinkToOutsideFolder_RefusesAndDeletesNothingOutside()
    {
        string dead = Directory.CreateDirectory(Path.Combine(_root, "dead")).FullName;
        File.WriteAllText(Path.Combine(dead, ".writing"), "pid 1");
        File.WriteAllText(Path.Combine(dead, "000000.chunk"), "chunk");
        Directory.CreateSymbolicLink(Path.Combine(dead, "sub"), _outside);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => _bridge.CleanupAbandonedAsync(CancellationToken.None));

        Assert.Contains("symbolic link", ex.Message);
        Assert.Contains("sub'", ex.Message);
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task CleanupAbandonedAsync_WritingLockIsLinkToOutsideFile_Refuses()
    {
        string dead = Directory.CreateDirectory(Path.Combine(_root, "dead")).FullName;
        string link = Path.Combine(dead, ".writing");
        File.CreateSymbolicLink(link, _outsideFile);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => _bridge.CleanupAbandonedAsync(CancellationToken.None));

        AssertNamesLink(ex, link);
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task BeginDumpAsync_NameIsLinkToOutside_RefusesNamingTheLink()
    {
        await WriteDumpAsync(_bridge, "first", Bytes(10), chunkSize: 40);
        string link = Path.Combine(_root, "victim");
        Directory.CreateSymbolicLink(link, Path.Combine(_outside, "missing"));

        var ex = await Assert.ThrowsAsync<BridgeException>(() => _bridge.BeginDumpAsync("victim", CancellationToken.None));

        AssertNamesLink(ex, link);
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task BeginDumpAsync_LinkNobodyActsOn_DoesNotBlockDumps()
    {
        await WriteDumpAsync(_bridge, "first", Bytes(10), chunkSize: 40);
        Directory.CreateSymbolicLink(Path.Combine(_root, "latest"), Path.Combine(_root, "first"));

        await WriteDumpAsync(_bridge, "second", Bytes(10), chunkSize: 40);

        Assert.Equal(["first", "second"], (await _bridge.ListAsync(CancellationToken.None)).Select(e => e.Name));
    }

    [Fact]
    public async Task DisposeAsync_WritersFolderReplacedByLink_RefusesAndDeletesNothingOutside()
    {
        IDumpWriter writer = await _bridge.BeginDumpAsync("d", CancellationToken.None);
        await writer.WriteChunkAsync(Bytes(10), CancellationToken.None);
        string folder = Path.Combine(_root, "d");
        Directory.Move(folder, Path.Combine(_dir.Path, "moved"));
        Directory.CreateSymbolicLink(folder, _outside);

        var ex = await Assert.ThrowsAsync<BridgeException>(async () => await writer.DisposeAsync());

        AssertNamesLink(ex, folder);
        AssertOutsideUntouched();
    }

    [Fact]
    public async Task DeleteAbandonedAsync_DumpFolderIsLinkToFolderWithStaleMarker_RefusesAndDeletesNothingOutside()
    {
        string marker = Path.Combine(_outside, ".writing");
        File.WriteAllText(marker, "pid 1");
        File.SetLastWriteTimeUtc(marker, DateTime.UtcNow - TimeSpan.FromHours(2));
        string link = Path.Combine(_root, "victim");
        Directory.CreateSymbolicLink(link, _outside);

        var ex = await Assert.ThrowsAsync<BridgeException>(() => _bridge.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: false, CancellationToken.None));

        AssertNamesLink(ex, link);
        Assert.Equal("precious", File.ReadAllText(_outsideFile));
        Assert.True(File.Exists(marker));
    }

    [Fact]
    public async Task DeleteAbandonedAsync_OldLinkNobodyActsOn_IsLeftAlone()
    {
        await WriteDumpAsync(_bridge, "first", Bytes(10), chunkSize: 40);
        foreach (string file in Directory.GetFiles(Path.Combine(_root, "first")))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow - TimeSpan.FromDays(2));
        }
        Directory.CreateSymbolicLink(Path.Combine(_root, "latest"), Path.Combine(_root, "first"));

        IReadOnlyList<string> removed = await _bridge.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: false, CancellationToken.None);

        Assert.Empty(removed);
        Assert.Equal(Bytes(10), await RestoreAsync(_bridge, "first"));
        Assert.True(Directory.Exists(Path.Combine(_root, "latest")));
    }
}

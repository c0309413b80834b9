using Replica.Bridges;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Bridges;

/// <summary>Folders nested deeper than any dump makes, planted in a dump's folder: deleting it is refused, cleanly.</summary>
public sealed class LocalBridgeDeepTreeTests : IDisposable
{
    /// <summary>LocalStore.MaxTreeDepth.</summary>
    const int Bound = 256;

    readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task DeleteAsync_FoldersNestedDeeperThanTheBound_RefusedWithBridgeExceptionAndNothingOutsideTouched()
    {
        string root = _dir.Combine("bridge");
        Directory.CreateDirectory(root);
        File.WriteAllText(_dir.Combine("outside.txt"), "keep");
        var bridge = new LocalBridge(root);
        await WriteDumpAsync(bridge, "deep", Bytes(50), chunkSize: 20);
        // One-letter names: 300 levels make a path of about 600 bytes, well inside PATH_MAX.
        string bottom = Path.Combine([Path.Combine(root, "deep"), .. Enumerable.Repeat("d", Bound + 44)]);
        Directory.CreateDirectory(bottom);
        File.WriteAllText(Path.Combine(bottom, "planted"), "x");

        BridgeException error = await Assert.ThrowsAsync<BridgeException>(() => bridge.DeleteAsync("deep", CancellationToken.None));

        Assert.Contains($"nested more than {Bound} deep", error.Message);
        Assert.Contains(root, error.Message);
        Assert.Equal("keep", File.ReadAllText(_dir.Combine("outside.txt")));
        Assert.Equal(["bridge", "outside.txt"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName).Order());
        // The planted bottom was never reached, so never touched.
        string moved = Assert.Single(Directory.GetDirectories(root));
        Assert.True(File.Exists(Path.Combine([moved, .. Enumerable.Repeat("d", Bound + 44), "planted"])));
    }
}

using Replica.Bridges;
using Replica.Core.Tests.Bridges;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

public sealed partial class DumpReaderTests : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly ManualClock _clock = new(T0);
    readonly LocalBridge _bridge;

    public DumpReaderTests()
    {
        _bridge = new LocalBridge(_dir.Path, new LocalBridgeOptions { TimeProvider = _clock });
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RestoreAsync_CorruptedChunkByte_ThrowsNamingDumpAndChunk()
    {
        await WriteDumpAsync(_bridge, "dump-c", Bytes(300), 100);
        string chunkPath = _dir.Combine("dump-c", "p000000-000001.chunk");
        byte[] stored = File.ReadAllBytes(chunkPath);
        stored[42] ^= 0x01;
        File.WriteAllBytes(chunkPath, stored);

        using var output = new MemoryStream();
        var ex = await Assert.ThrowsAsync<IntegrityException>(
            () => DumpReader.RestoreAsync(_bridge, "dump-c", output, CancellationToken.None));

        Assert.Contains("'dump-c'", ex.Message);
        Assert.Contains("chunk 1 (p000000-000001.chunk)", ex.Message);
        Assert.Contains("SHA-256", ex.Message);
        // Nothing of the bad chunk reaches the output: only the verified chunk before it.
        Assert.Equal(Bytes(300).AsSpan(0, 100).ToArray(), output.ToArray());
    }

    [Fact]
    public async Task RestoreAsync_MissingChunk_ThrowsNamingDumpAndChunk()
    {
        await WriteDumpAsync(_bridge, "dump-m", Bytes(300), 100);
        File.Delete(_dir.Combine("dump-m", "p000000-000002.chunk"));

        var ex = await Assert.ThrowsAsync<IntegrityException>(
            () => DumpReader.RestoreAsync(_bridge, "dump-m", Stream.Null, CancellationToken.None));

        Assert.Contains("'dump-m'", ex.Message);
        Assert.Contains("chunk 2 (p000000-000002.chunk)", ex.Message);
        Assert.Contains("missing", ex.Message);
    }

    [Fact]
    public async Task RestoreAsync_TruncatedChunk_ThrowsSizeMismatch()
    {
        await WriteDumpAsync(_bridge, "dump-t", Bytes(300), 100);
        string chunkPath = _dir.Combine("dump-t", "p000000-000000.chunk");
        File.WriteAllBytes(chunkPath, File.ReadAllBytes(chunkPath).AsSpan(0, 99).ToArray());

        var ex = await Assert.ThrowsAsync<IntegrityException>(
            () => DumpReader.RestoreAsync(_bridge, "dump-t", Stream.Null, CancellationToken.None));

        Assert.Contains("chunk 0 (p000000-000000.chunk)", ex.Message);
        Assert.Contains("99 bytes", ex.Message);
    }

    [Fact]
    public async Task RestoreAsync_MissingManifestOfListedDump_ThrowsIntegrity()
    {
        await WriteDumpAsync(_bridge, "dump-x", Bytes(30), 10);
        File.Delete(_dir.Combine("dump-x", "manifest.json"));

        var ex = await Assert.ThrowsAsync<IntegrityException>(
            () => DumpReader.RestoreAsync(_bridge, "dump-x", Stream.Null, CancellationToken.None));

        Assert.Contains("'dump-x'", ex.Message);
        Assert.Contains("manifest", ex.Message);
    }

    [Fact]
    public async Task RestoreAsync_UnknownDump_ThrowsBridgeException()
    {
        var ex = await Assert.ThrowsAsync<BridgeException>(
            () => DumpReader.RestoreAsync(_bridge, "ghost", Stream.Null, CancellationToken.None));

        Assert.Contains("'ghost'", ex.Message);
    }

    [Fact]
    public async Task RestoreAsync_ManyChunks_WritesThemInOrder()
    {
        byte[] data = Bytes(10_000, seed: 7);
        await WriteDumpAsync(_bridge, "ordered", data, 333);

        Assert.Equal(data, await RestoreAsync(_bridge, "ordered"));
    }

    [Fact]
    public async Task RestoreAsync_FailingOutput_StopsAndReportsTheOutputError()
    {
        await WriteDumpAsync(_bridge, "dump-o", Bytes(1000), 100);

        var ex = await Assert.ThrowsAsync<IOException>(
            () => DumpReader.RestoreAsync(_bridge, "dump-o", new FailingStream(failAfterWrites: 3), CancellationToken.None));

        Assert.Equal("disk full", ex.Message);
    }

    [Fact]
    public async Task ResolveLatestAsync_SeveralDumps_ReturnsNewestByCreatedAt()
    {
        _clock.Now = T0.AddDays(1);
        await WriteDumpAsync(_bridge, "a-newest", Bytes(1), 4);
        _clock.Now = T0;
        await WriteDumpAsync(_bridge, "z-oldest", Bytes(1), 4);

        DumpEntry latest = await DumpReader.ResolveLatestAsync(_bridge, CancellationToken.None);

        Assert.Equal("a-newest", latest.Name);
    }

    [Fact]
    public async Task ResolveLatestAsync_NoDumps_Throws()
    {
        var ex = await Assert.ThrowsAsync<BridgeException>(() => DumpReader.ResolveLatestAsync(_bridge, CancellationToken.None));

        Assert.Contains(_dir.Path, ex.Message);
    }

    sealed class FailingStream(int failAfterWrites) : Stream
    {
        int _writes;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (++_writes > failAfterWrites)
            {
                throw new IOException("disk full");
            }
        }
    }
}

using Replica.Bridges;
using Replica.Config;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

/// <summary>Several workers fetch and decode chunks ahead of the writer; the output is the one a single worker writes.</summary>
public sealed partial class DumpReaderTests
{
    static readonly TimeSpan s_patience = EncodedDumps.Patience;
    static readonly BridgeConfig s_zstdAes = EncodedDumps.ZstdAes(chunkSize: 7);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task RestoreAsync_EncodedTinyChunksSeveralWorkers_ByteIdentical(int workers)
    {
        byte[] data = Bytes(7 * 500 + 3);
        await WriteEncodedDumpAsync("encoded", data);

        using var output = new MemoryStream();
        long written = await DumpReader.RestoreAsync(_bridge, "encoded", () => Task.FromResult<Stream>(output),
            m => BridgeCodecs.ForManifest(m, s_zstdAes), workers, CancellationToken.None);

        Assert.Equal(data.Length, written);
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    public async Task RestoreAsync_TwoCorruptChunksFourWorkers_ReportsTheFirstAndWritesOnlyWhatCameBefore()
    {
        byte[] data = Bytes(2000);
        await WriteDumpAsync(_bridge, "dump-2c", data, 100);
        foreach (var index in new[] { 12, 5 })
        {
            string chunkPath = _dir.Combine("dump-2c", $"p000000-{index:D6}.chunk");
            byte[] stored = File.ReadAllBytes(chunkPath);
            stored[7] ^= 0x01;
            File.WriteAllBytes(chunkPath, stored);
        }

        using var output = new MemoryStream();
        var ex = await Assert.ThrowsAsync<IntegrityException>(() =>
            DumpReader.RestoreAsync(_bridge, "dump-2c", () => Task.FromResult<Stream>(output), openCodec: null, workers: 4, CancellationToken.None));

        Assert.Contains("chunk 5 (p000000-000005.chunk)", ex.Message);
        Assert.Equal(data.AsSpan(0, 500).ToArray(), output.ToArray());
    }

    [Fact]
    public async Task RestoreAsync_OutputBlocked_FetchesAtMostWorkersPlusTwoChunksAhead()
    {
        const int Workers = 3;
        byte[] data = Bytes(7 * 60);
        await WriteEncodedDumpAsync("ahead", data);
        using var output = new GatedStream();
        var bridge = new CountingBridge(_bridge, () => output.Writes);

        Task<long> restore = DumpReader.RestoreAsync(bridge, "ahead", () => Task.FromResult<Stream>(output),
            m => BridgeCodecs.ForManifest(m, s_zstdAes), Workers, CancellationToken.None);

        // The first write waits at the gate: the reader may fetch only as far as its lanes reach, never the whole dump.
        Assert.True(await output.FirstWrite.Task.WaitAsync(s_patience));
        Assert.True(SpinWait.SpinUntil(() => bridge.Fetched == Workers + 2, s_patience));
        output.Open.Set();
        Assert.Equal(data.Length, await restore);

        Assert.Equal(data, output.Written.ToArray());
        Assert.Equal(60, bridge.Fetched);
        Assert.Equal(Workers + 2, bridge.MaxAhead);
    }

    [Fact]
    public async Task RestoreAsync_SixtyChunksThreeWorkers_ReadsEveryChunkIntoOneReusedBufferPerLane()
    {
        const int Workers = 3;
        byte[] data = Bytes(7 * 60);
        await WriteEncodedDumpAsync("reuse", data);
        using var output = new MemoryStream();
        var bridge = new CountingBridge(_bridge, () => 0);

        long written = await DumpReader.RestoreAsync(bridge, "reuse", () => Task.FromResult<Stream>(output),
            m => BridgeCodecs.ForManifest(m, s_zstdAes), Workers, CancellationToken.None);

        Assert.Equal(data, output.ToArray());
        Assert.Equal(data.Length, written);
        // Every chunk went into a buffer the reader handed in, and no more buffers than lanes (workers + 2): a restore
        // leaves no garbage per chunk.
        Assert.Equal(60, bridge.FetchedIntoBuffer);
        Assert.InRange(bridge.DistinctBuffers, 1, Workers + 2);
    }

    Task WriteEncodedDumpAsync(string name, byte[] data) => EncodedDumps.WriteAsync(_bridge, name, data, s_zstdAes, DumpChunker.DefaultWorkers);

    /// <summary>A bridge that counts chunk fetches and, for each, how many chunks were fetched but not yet written.</summary>
    sealed class CountingBridge(IBridge inner, Func<int> written) : IBridge
    {
        readonly List<int> _writtenAtFetch = [];
        readonly HashSet<byte[]> _buffers = new(ReferenceEqualityComparer.Instance);
        int _fetched;
        int _fetchedIntoBuffer;

        public int Fetched => Volatile.Read(ref _fetched);

        /// <summary>Fetches that came with a buffer to read into.</summary>
        public int FetchedIntoBuffer => Volatile.Read(ref _fetchedIntoBuffer);

        /// <summary>How many different buffers the fetches came with.</summary>
        public int DistinctBuffers
        {
            get
            {
                lock (_buffers)
                {
                    return _buffers.Count;
                }
            }
        }

        public string Description => inner.Description;

        /// <summary>The most chunks that were fetched (counting the one being fetched) and not yet written.</summary>
        public int MaxAhead
        {
            get
            {
                lock (_writtenAtFetch)
                {
                    return _writtenAtFetch.Select((writtenBefore, i) => i + 1 - writtenBefore).Max();
                }
            }
        }

        public Task<byte[]> ReadChunkAsync(string name, ChunkInfo chunk, CancellationToken cancellationToken)
        {
            lock (_writtenAtFetch)
            {
                Interlocked.Increment(ref _fetched);
                _writtenAtFetch.Add(written());
            }
            return inner.ReadChunkAsync(name, chunk, cancellationToken);
        }

        public Task<ReadOnlyMemory<byte>> ReadChunkAsync(string name, ChunkInfo chunk, byte[]? buffer, CancellationToken cancellationToken)
        {
            lock (_writtenAtFetch)
            {
                Interlocked.Increment(ref _fetched);
                _writtenAtFetch.Add(written());
            }
            if (buffer is not null)
            {
                Interlocked.Increment(ref _fetchedIntoBuffer);
                lock (_buffers)
                {
                    _buffers.Add(buffer);
                }
            }
            return inner.ReadChunkAsync(name, chunk, buffer, cancellationToken);
        }

        public Task<IDumpWriter> BeginDumpAsync(string name, CancellationToken cancellationToken) => inner.BeginDumpAsync(name, cancellationToken);

        public Task<IReadOnlyList<DumpEntry>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

        public Task<DumpManifest> ReadManifestAsync(string name, CancellationToken cancellationToken) => inner.ReadManifestAsync(name, cancellationToken);

        public Task DeleteAsync(string name, CancellationToken cancellationToken) => inner.DeleteAsync(name, cancellationToken);
    }

    /// <summary>Holds the first write until opened; counts the writes done.</summary>
    sealed class GatedStream : Stream
    {
        int _writes;

        public ManualResetEventSlim Open { get; } = new();

        public TaskCompletionSource<bool> FirstWrite { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public MemoryStream Written { get; } = new();

        public int Writes => Volatile.Read(ref _writes);

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written.Length;
        public override long Position { get => Written.Length; set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            FirstWrite.TrySetResult(true);
            await Task.Run(() => Open.Wait(s_patience), cancellationToken);
            Written.Write(buffer.Span);
            Interlocked.Increment(ref _writes);
        }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Open.Dispose();
                Written.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

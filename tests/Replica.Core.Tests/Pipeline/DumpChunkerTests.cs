using System.Buffers;
using System.IO.Pipelines;
using Replica.Bridges;
using Replica.Core.Tests.Bridges;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

public sealed partial class DumpChunkerTests
{
    [Theory]
    [InlineData(0, 5, new int[0])]
    [InlineData(1, 5, new[] { 1 })]
    [InlineData(10, 5, new[] { 5, 5 })]
    [InlineData(11, 5, new[] { 5, 5, 1 })]
    [InlineData(4, 5, new[] { 4 })]
    [InlineData(3, 1, new[] { 1, 1, 1 })]
    public async Task RunAsync_Pipe_CutsFullChunksAndAShortLastOne(int length, int chunkSize, int[] expectedSizes)
    {
        byte[] data = Bytes(length);
        var writer = new RecordingWriter();
        var pipe = new Pipe();

        Task<long> run = DumpChunker.RunAsync(pipe.Reader, writer, chunkSize, CancellationToken.None);
        for (int i = 0; i < data.Length; i++)
        {
            await pipe.Writer.WriteAsync(data.AsMemory(i, 1)); // one-byte segments: every boundary case
        }
        await pipe.Writer.CompleteAsync();

        Assert.Equal(length, await run);
        Assert.Equal(expectedSizes, writer.Chunks.Select(c => c.Length));
        Assert.Equal(data, writer.Chunks.SelectMany(c => c).ToArray());
    }

    [Fact]
    public async Task RunAsync_WriterFails_CompletesPipeWithTheError()
    {
        var pipe = new Pipe();
        var writer = new RecordingWriter { FailOnChunk = 1 };

        Task<long> run = DumpChunker.RunAsync(pipe.Reader, writer, 4, CancellationToken.None);
        await pipe.Writer.WriteAsync(Bytes(16));
        var ex = await Assert.ThrowsAsync<BridgeException>(() => run);

        // The producer gets the failure on its next write instead of blocking on a full pipe.
        var producerEx = await Assert.ThrowsAsync<BridgeException>(async () => await pipe.Writer.WriteAsync(Bytes(1)));
        Assert.Equal("chunk 1 failed", ex.Message);
        Assert.Same(ex, producerEx);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task RunAsync_BadChunkSize_Throws(int chunkSize)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => DumpChunker.RunAsync(new Pipe().Reader, new RecordingWriter(), chunkSize, CancellationToken.None));
    }

    [Theory]
    [InlineData(0, 5, new[] { 0 }, 1)]
    [InlineData(0, 5, new[] { 0 }, 4)]
    [InlineData(10, 5, new[] { 5, 5 }, 1)]
    [InlineData(10, 5, new[] { 5, 5 }, 4)]
    [InlineData(11, 5, new[] { 5, 5, 1 }, 1)]
    [InlineData(11, 5, new[] { 5, 5, 1 }, 3)]
    [InlineData(3, 5, new[] { 3 }, 2)]
    public async Task RunAsync_WithCodec_EncodesEachChunkAndMarksOnlyTheLast(int length, int chunkSize, int[] plainSizes, int workers)
    {
        byte[] data = Bytes(length);
        var writer = new RecordingWriter();
        using var codec = new MarkingCodec();
        var pipe = new Pipe();
        Task<long> run = DumpChunker.RunAsync(pipe.Reader, writer, chunkSize, codec, workers, CancellationToken.None);
        for (int i = 0; i < data.Length; i += 2)
        {
            await pipe.Writer.WriteAsync(data.AsMemory(i, Math.Min(2, data.Length - i)));
        }
        await pipe.Writer.CompleteAsync();

        Assert.Equal(length, await run);
        // Each stored chunk is [index, isLast, plain bytes...]: in order, numbered from 0, and only the last one marked.
        Assert.Equal(plainSizes.Length, writer.Chunks.Count);
        for (int i = 0; i < writer.Chunks.Count; i++)
        {
            Assert.Equal(i, writer.Chunks[i][0]);
            Assert.Equal(i == writer.Chunks.Count - 1 ? 1 : 0, writer.Chunks[i][1]);
            Assert.Equal(plainSizes[i], writer.Chunks[i].Length - 2);
        }
        Assert.Equal(data, writer.Chunks.SelectMany(c => c.Skip(2)).ToArray());
    }

    sealed class MarkingCodec : Replica.Codecs.IChunkCodec
    {
        public string Name => "marking";

        public void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, System.Buffers.IBufferWriter<byte> output)
        {
            output.Write((ReadOnlySpan<byte>)[(byte)chunkIndex, isLast ? (byte)1 : (byte)0]);
            output.Write(plain);
        }

        public void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, System.Buffers.IBufferWriter<byte> output) =>
            output.Write(stored[2..]);

        public Replica.Codecs.IChunkCodec Fork() => new MarkingCodec();

        public void Dispose()
        {
        }
    }

    sealed class RecordingWriter : IDumpWriter
    {
        public List<byte[]> Chunks { get; } = [];
        public int FailOnChunk { get; init; } = -1;
        /// <summary>Called with the number of chunks stored, after each one.</summary>
        public Action<int>? OnChunk { get; init; }
        public string Name => "recording";

        public Task WriteChunkAsync(ReadOnlyMemory<byte> chunk, ReadOnlyMemory<byte> sha256, CancellationToken cancellationToken)
        {
            // The hash the chunker computed while streaming must be the hash of the chunk it hands over.
            Assert.Equal(System.Security.Cryptography.SHA256.HashData(chunk.Span), sha256.ToArray());
            if (Chunks.Count == FailOnChunk)
            {
                throw new BridgeException($"chunk {FailOnChunk} failed");
            }
            Chunks.Add(chunk.ToArray()); // copied: the chunker reuses its buffer
            OnChunk?.Invoke(Chunks.Count);
            return Task.CompletedTask;
        }

        public Task<DumpEntry> CompleteAsync(DumpSummary summary, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public int BeginPart(string kind, string? table = null) => throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Returns at most 3 bytes per read, like a pipe from another process.</summary>
    sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(3, buffer.Length)], cancellationToken);
    }
}

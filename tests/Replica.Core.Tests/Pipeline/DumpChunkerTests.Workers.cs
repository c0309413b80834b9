using System.Buffers;
using System.IO.Pipelines;
using Replica.Bridges;
using Replica.Codecs;
using Replica.Core.Tests.Bridges;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

/// <summary>Several workers encode chunks at once; the dump they store is the one a single worker stores.</summary>
public sealed partial class DumpChunkerTests
{
    static readonly TimeSpan s_patience = EncodedDumps.Patience;

    [Fact]
    public async Task RunAsync_ThousandTinyChunksFourWorkers_RestoresByteIdentical()
    {
        using var dir = new TempDirectory();
        var bridge = new LocalBridge(dir.Path);
        byte[] data = Bytes(3000);
        var config = EncodedDumps.ZstdAes(chunkSize: 3);

        await EncodedDumps.WriteAsync(bridge, "tiny", data, config, workers: 4);

        // Each chunk's index and last-chunk mark are bound into its encryption: a chunk stored out of order fails here.
        using var output = new MemoryStream();
        await DumpReader.RestoreAsync(bridge, "tiny", output, m => BridgeCodecs.ForManifest(m, config), CancellationToken.None);
        Assert.Equal(data, output.ToArray());
        Assert.Equal(1000, (await bridge.ListAsync(CancellationToken.None)).Single().ChunkCount);
    }

    [Fact]
    public async Task RunAsync_OneWorkerOrFour_StoresTheSameBytes()
    {
        // Same key, dump id and nonce prefix (one codec for both runs): the nonce of a chunk is fixed by its index, so
        // the number of workers changes nothing that is stored.
        byte[] data = Bytes(2000);
        var codecs = BridgeCodecs.ForNewDump(EncodedDumps.ZstdAes(chunkSize: 5));
        using var codec = codecs.Codec;
        var one = new RecordingWriter();
        var four = new RecordingWriter();

        foreach (var (writer, workers) in new[] { (one, 1), (four, 4) })
        {
            var pipe = new Pipe();
            Task<long> run = DumpChunker.RunAsync(pipe.Reader, writer, 5, codec, workers, CancellationToken.None);
            await EncodedDumps.WriteInPiecesAsync(pipe.Writer, data);
            Assert.Equal(data.Length, await run);
        }

        Assert.Equal(400, one.Chunks.Count);
        Assert.Equal(one.Chunks, four.Chunks);
    }

    [Fact]
    public async Task RunAsync_WorkerFailsMidDump_FailsWithItsErrorAndNothingIsListed()
    {
        using var dir = new TempDirectory();
        var bridge = new LocalBridge(dir.Path);
        using var codec = new FailingCodec(failOnIndex: 37);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32));
        Exception? producerFailure = null;

        await using (IDumpWriter writer = await bridge.BeginDumpAsync("broken", CancellationToken.None))
        {
            Task<long> run = DumpChunker.RunAsync(pipe.Reader, writer, 4, codec, workers: 3, CancellationToken.None);
            try
            {
                await EncodedDumps.WriteInPiecesAsync(pipe.Writer, Bytes(4000));
            }
            catch (InvalidOperationException e)
            {
                producerFailure = e;
            }
            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => run);

            Assert.Equal("chunk 37 failed", ex.Message);
            // The producer stops with the same error instead of filling a pipe nobody reads.
            Assert.Same(ex, producerFailure ?? await Assert.ThrowsAsync<InvalidOperationException>(async () => await pipe.Writer.WriteAsync(Bytes(1))));
        } // disposed uncompleted, as DumpJob does on a failure

        Assert.Empty(await bridge.ListAsync(CancellationToken.None));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.chunk", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task RunAsync_Canceled_ThrowsAndFailsTheProducer()
    {
        using var cancel = new CancellationTokenSource();
        var writer = new RecordingWriter { OnChunk = count => { if (count == 20) { cancel.Cancel(); } } };
        using var codec = new FailingCodec(failOnIndex: -1);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32));

        Task<long> run = DumpChunker.RunAsync(pipe.Reader, writer, 4, codec, workers: 3, cancel.Token);
        // Never completed: only the cancellation can end this dump.
        var producer = Task.Run(async () =>
        {
            while (true)
            {
                await pipe.Writer.WriteAsync(Bytes(10));
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => producer);
        Assert.Equal(20, writer.Chunks.Count); // nothing is stored after the cancellation
    }

    [Fact]
    public async Task RunAsync_WorkersBusy_HoldsAtMostWorkersPlusTwoChunks()
    {
        const int Workers = 3;
        var waiting = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ChunkerProbe { WaitingForChunk = inFlight => waiting.TrySetResult(inFlight) };
        using var gate = new Gate();
        using var codec = new GatedCodec(gate);
        var writer = new RecordingWriter();
        // A pipe that never pushes back: only the chunker's own bound can stop it from taking everything.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0));
        byte[] data = Bytes(400);

        Task<long> run = DumpChunker.RunAsync(pipe.Reader, writer, 4, codec, Workers, probe, CancellationToken.None);
        await pipe.Writer.WriteAsync(data);

        // Every worker holds a chunk it cannot finish, so nothing is stored: the reader must stop and wait.
        Assert.Equal(Workers + 2, await waiting.Task.WaitAsync(s_patience));
        for (int i = 0; i < Workers; i++)
        {
            Assert.True(await gate.Entered.WaitAsync(s_patience));
        }
        Assert.Equal(Workers, gate.MaxActive);
        Assert.Empty(writer.Chunks);

        gate.Open.Set();
        await pipe.Writer.CompleteAsync();
        Assert.Equal(data.Length, await run);
        Assert.Equal(Workers + 2, probe.MaxInFlight);
        Assert.Equal(Workers, gate.MaxActive);
        Assert.Equal(data, writer.Chunks.SelectMany(c => c).ToArray());
    }

    [Fact]
    public async Task RunAsync_EncoderCannotStart_FailsAndReleasesTheProducerInsteadOfHanging()
    {
        // Found with a 40 MiB GC heap limit: an out-of-memory while the chunker set up its slots and workers left the pipe
        // unread and not completed, so the rewriter waited on a full pipe for ever and the dump hung.
        var writer = new RecordingWriter();
        using var codec = new UnforkableCodec();
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64, resumeWriterThreshold: 32));

        var run = DumpChunker.RunAsync(pipe.Reader, writer, 16, codec, 3, CancellationToken.None);
        // The producer writes far more than the pipe holds: it must be told, by a completed flush or the chunker's error.
        var producer = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < 100; i++)
                {
                    if ((await pipe.Writer.WriteAsync(new byte[32])).IsCompleted)
                    {
                        return "completed";
                    }
                }
                return "wrote everything";
            }
            catch (InsufficientMemoryException)
            {
                return "told the chunker's error";
            }
        });

        var e = await Assert.ThrowsAsync<InsufficientMemoryException>(() => run.WaitAsync(s_patience));
        Assert.Equal("no memory for a fork", e.Message);
        Assert.NotEqual("wrote everything", await producer.WaitAsync(s_patience));
        Assert.Empty(writer.Chunks);
    }

    /// <summary>A codec whose forks cannot be made (as when memory runs out while the workers start).</summary>
    sealed class UnforkableCodec : IChunkCodec
    {
        public string Name => "unforkable";

        public void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, IBufferWriter<byte> output) => output.Write(plain);

        public void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, IBufferWriter<byte> output) => output.Write(stored);

        public IChunkCodec Fork() => throw new InsufficientMemoryException("no memory for a fork");

        public void Dispose()
        {
        }
    }

    /// <summary>Stores chunks as they are, and fails on one chunk index (whichever fork gets it).</summary>
    sealed class FailingCodec(int failOnIndex) : IChunkCodec
    {
        public string Name => "failing";

        public void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, IBufferWriter<byte> output)
        {
            if (chunkIndex == failOnIndex)
            {
                throw new InvalidOperationException($"chunk {chunkIndex} failed");
            }
            output.Write(plain);
        }

        public void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, IBufferWriter<byte> output) => output.Write(stored);

        public IChunkCodec Fork() => new FailingCodec(failOnIndex);

        public void Dispose()
        {
        }
    }

    /// <summary>Holds every encode until opened, counting the encodes running at once.</summary>
    sealed class Gate : IDisposable
    {
        int _active;
        int _maxActive;

        public ManualResetEventSlim Open { get; } = new();

        public SemaphoreSlim Entered { get; } = new(0);

        public int MaxActive => Volatile.Read(ref _maxActive);

        public void Pass()
        {
            int active = Interlocked.Increment(ref _active);
            int max;
            while (active > (max = Volatile.Read(ref _maxActive)) && Interlocked.CompareExchange(ref _maxActive, active, max) != max)
            {
            }
            Entered.Release();
            try
            {
                if (!Open.Wait(s_patience))
                {
                    throw new TimeoutException("the test never opened the gate");
                }
            }
            finally
            {
                Interlocked.Decrement(ref _active);
            }
        }

        public void Dispose()
        {
            Open.Dispose();
            Entered.Dispose();
        }
    }

    sealed class GatedCodec(Gate gate) : IChunkCodec
    {
        public string Name => "gated";

        public void Encode(ReadOnlySpan<byte> plain, int chunkIndex, bool isLast, IBufferWriter<byte> output)
        {
            gate.Pass();
            output.Write(plain);
        }

        public void Decode(ReadOnlySpan<byte> stored, int chunkIndex, bool isLast, IBufferWriter<byte> output) => output.Write(stored);

        public IChunkCodec Fork() => new GatedCodec(gate);

        public void Dispose()
        {
        }
    }
}

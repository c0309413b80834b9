using System.IO.Pipelines;
using Replica.Bridges;
using Replica.Rewriting;
using Replica.Sources;

namespace Replica.Pipeline;

/// <summary>The outcome of a dump: its index entry and the rewriter's counters.</summary>
public sealed record DumpResult(DumpEntry Entry, RewriteStatistics Statistics)
{
    /// <summary>What a subset kept; null for a dump without one.</summary>
    public SubsetSummary? Subset { get; init; }
}

/// <summary>
/// A subset's outcome: the closure's rounds, the rows kept per table (tables that keep any), and the foreign keys written
/// as NULL because their table's rows are not kept ("public.orders (salesperson_id) -> public.employees").
/// </summary>
public sealed record SubsetSummary(int Rounds, IReadOnlyList<(string Table, long Rows)> Kept, IReadOnlyList<string> Nulled)
{
    /// <summary>How many non-NULL values of those foreign keys were written as NULL (known in file mode; null live).</summary>
    public long? NulledValues { get; init; }
}

/// <summary>
/// Wires one dump: source → rewriter (lexer + transformers) → chunker → bridge. The rewriter and the chunker run
/// concurrently, joined by a pipe whose back-pressure bounds memory. The dump is listed only when every stage succeeded;
/// on any failure the bridge writer is disposed uncompleted, which removes what was written.
/// </summary>
public static partial class DumpJob
{
    // 1 MiB; the tests read in tiny blocks (REPLICA_READ_BLOCK_SIZE), so that they cross block boundaries inside statements and rows.
    static readonly int s_readBlockSize = Switches.ReadBlockSize;
    static readonly int s_readHint = Math.Min(s_readBlockSize, 64 << 10);

    /// <summary>Runs a dump with the chunk size, compression and encryption of <paramref name="settings"/>.</summary>
    public static async Task<DumpResult> RunAsync(IDumpSource source, DumpRewriter rewriter, IBridge bridge, string name, Config.BridgeConfig settings, CancellationToken cancellationToken)
    {
        DumpChunker.CheckChunkSize(settings.ChunkSize);
        await source.PrepareAsync(cancellationToken).ConfigureAwait(false);
        var codecs = BridgeCodecs.ForNewDump(settings);
        using var codec = codecs.Codec;
        await using var writer = await bridge.BeginDumpAsync(name, cancellationToken).ConfigureAwait(false);
        await using var stream = source.Open();
        // A single stream is one part of the dump.
        int part = writer.BeginPart(PartKind.Stream);
        var workers = settings.Workers ?? DumpChunker.DefaultWorkers;
        using var buffers = new PartBuffers(s_readBlockSize, (int)settings.ChunkSize, codec, workers, probe: null);
        long sizePlain = await StreamPartAsync(stream, rewriter, writer, part, settings, codec, workers, probe: null, buffers, cancellationToken)
            .ConfigureAwait(false);
        await source.CompleteAsync(cancellationToken).ConfigureAwait(false);
        var summary = new DumpSummary(rewriter.Statistics.BytesIn, source.Description, codecs.Compression is not null, codecs.Encryption is not null)
        {
            Compression = codecs.Compression,
            Encryption = codecs.Encryption,
            AuthenticateChunks = codecs.AuthenticateChunks,
            SizePlain = sizePlain,
            Tables = rewriter.Statistics.Tables,
            Rows = Math.Max(0, rewriter.Statistics.Rows - rewriter.Statistics.DroppedRows),
        };
        var entry = await writer.CompleteAsync(summary, cancellationToken).ConfigureAwait(false);
        return new DumpResult(entry, rewriter.Statistics);
    }

    /// <summary>
    /// One stream (a whole dump, or one part of a dump in parts) read on its own task, rewritten, and chunked into part
    /// <paramref name="part"/> of the writer, through <paramref name="buffers"/> (which no other stream uses meanwhile).
    /// Returns the plain bytes stored. The first stage to fail is the error thrown.
    /// </summary>
    static Task<long> StreamPartAsync(Stream stream, DumpRewriter rewriter, IDumpWriter writer, int part, Config.BridgeConfig settings,
        Codecs.IChunkCodec? codec, int workers, ChunkerProbe? probe, PartBuffers buffers, CancellationToken cancellationToken) =>
        RewriteAsync(stream, rewriter, workers, buffers.Input, buffers.Rewritten,
            rewritten => DumpChunker.RunPartAsync(rewritten, writer, part, (int)settings.ChunkSize, codec, workers, probe, buffers.Slots, cancellationToken),
            cancellationToken);

    /// <summary>
    /// <paramref name="stream"/> read on its own task and rewritten into a pipe that <paramref name="consume"/> reads
    /// (and completes): the chunker, or psql into a scratch database. The pipes are made with <paramref name="input"/>
    /// and <paramref name="rewritten"/> (<see cref="InputPipeOptions"/>, <see cref="RewrittenPipeOptions"/>). The first
    /// stage to fail is the error thrown.
    /// </summary>
    static async Task<T> RewriteAsync<T>(Stream stream, DumpRewriter rewriter, int workers, PipeOptions input, PipeOptions rewritten,
        Func<PipeReader, Task<T>> consume, CancellationToken cancellationToken)
    {
        // Reading runs ahead of the rewriter on its own task, so the rewriter never waits for a read.
        var source = new Pipe(input);
        var reading = Task.Run(() => FillAsync(stream, source.Writer, cancellationToken), cancellationToken);
        var pipe = new Pipe(rewritten);

        var rewriting = Task.Run(async () =>
        {
            try
            {
                await rewriter.RunAsync(source.Reader, pipe.Writer, maskingLanes: workers, cancellationToken).ConfigureAwait(false);
                await pipe.Writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
                throw;
            }
            finally
            {
                await source.Reader.CompleteAsync().ConfigureAwait(false);
            }
        }, cancellationToken);
        var consuming = consume(pipe.Reader);
        try
        {
            // The reader last: after a failure or Ctrl+C it may sit in a read of standard input that no token interrupts
            // (an idle pg_dump), and the cleanup below must not wait for the producer. On success the rewriter has read
            // the input to its end, so the reader is done too.
            await Task.WhenAll(rewriting, consuming).ConfigureAwait(false);
            await reading.ConfigureAwait(false);
        }
        catch
        {
            // The first stage's error is the cause; later stages only saw their pipe fail because of it.
            if (reading.IsFaulted)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(reading.Exception!.InnerException!);
            }
            if (rewriting.IsFaulted)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(rewriting.Exception!.InnerException!);
            }
            throw;
        }
        return await consuming.ConfigureAwait(false);
    }

    /// <summary>
    /// The source -> rewriter pipe, in segments of <paramref name="readBlockSize"/> (1 MiB; tiny in the tests).
    /// </summary>
    internal static PipeOptions InputPipeOptions(int readBlockSize, ChunkerProbe? probe) => PipeOptionsFor(readBlockSize, probe: probe);

    /// <summary>
    /// The rewriter -> consumer pipe. The consumer's side holds little: the chunker copies into its slots (workers + 2
    /// chunks, which are the buffer between the stages) and hands the pipe its bytes back at once. With four segments in
    /// the pipe, the phases where the chunker is the slower stage (tables that are not masked) made the pipe reach four
    /// more 1 MiB segments than the masked ones, late in a dump (issue 12); one segment is enough to keep the rewriter going.
    /// </summary>
    internal static PipeOptions RewrittenPipeOptions(ChunkerProbe? probe) => PipeOptionsFor(1 << 20, pauseSegments: 1, probe);

    /// <summary>
    /// A pipe that holds about four segments: few enough that segments handed back fit the shared array pool's
    /// per-core caches and are reused. (With 8 MiB in 64 KiB segments most were dropped and reallocated: 380 MiB of
    /// garbage per GB of dump and a peak RSS that grew with the dump.) The segments come from a pool of the pipe's own
    /// (<see cref="SegmentPool"/>), not the shared array pool, which dropped and reallocated them as threads came and went.
    /// </summary>
    /// <remarks><paramref name="pauseSegments"/>: the writer waits once that many segments' bytes are unread, and goes on
    /// at half of them. The pool makes the segments such a pipe holds at most, and touches their pages, with the pipe:
    /// the threshold's worth, a head that the reader has partly consumed and a tail that the writer is filling. (One
    /// fewer was not enough: a 12 GiB bench made the rewriter -> chunker pipe's third 1 MiB block at 37.6 %, where a
    /// table that is not masked begins.)</remarks>
    internal static PipeOptions PipeOptionsFor(int segmentSize, int pauseSegments = 4, ChunkerProbe? probe = null) => new(
        pool: new SegmentPool(segmentSize, maxKept: 8, resident: pauseSegments + 2, probe),
        pauseWriterThreshold: pauseSegments * (long)segmentSize,
        resumeWriterThreshold: Math.Max(1, pauseSegments * (long)segmentSize / 2),
        minimumSegmentSize: segmentSize,
        useSynchronizationContext: false);

    static async Task FillAsync(Stream stream, PipeWriter writer, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                // Ask for at least s_readHint, not a whole block: the pipe then hands out the rest of its current segment. A
                // source that delivers small pieces (pg_dump writes 4 KiB at a time) otherwise got a fresh 1 MiB
                // segment per read, and memory grew to 205 MiB.
                var read = await stream.ReadAsync(writer.GetMemory(s_readHint), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                writer.Advance(read);
                var flush = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    break; // the rewriter stopped reading (it failed)
                }
            }
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await writer.CompleteAsync(e).ConfigureAwait(false);
            throw;
        }
    }
}

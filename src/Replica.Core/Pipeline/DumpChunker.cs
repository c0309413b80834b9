using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using Replica.Bridges;
using Replica.Codecs;

namespace Replica.Pipeline;

/// <summary>
/// Cuts the bytes of a (rewritten) dump into chunks of a fixed size, encodes each on its own (compression, encryption)
/// and hands it to an <see cref="IDumpWriter"/> with the SHA-256 of the stored bytes. Chunks are encoded and hashed by
/// several workers at once, each with its own fork of the codec, and stored one at a time in order on another task, so
/// the writing end of the pipe waits neither for the codec nor for the disk or the network. At most workers + 2 chunks
/// are in memory (one filling, one per worker, one being stored), each a plain chunk plus its encoded form. Every chunk
/// is full except the last. An empty dump has no chunks, unless a codec is set: then it has one empty chunk, so that an
/// encrypting codec can seal the "last chunk" mark. A failure anywhere (the input, a worker, the store) or a
/// cancellation stops every stage; the caller then disposes the writer uncompleted, so nothing is listed.
/// </summary>
public static partial class DumpChunker
{
    /// <summary>The largest chunk size: a chunk is one array in memory, and 1 GiB is far beyond any useful object size.</summary>
    public const int MaxChunkSize = 1 << 30;

    /// <summary>The most workers a dump may use; each holds up to two chunks in memory.</summary>
    public const int MaxWorkers = 64;

    /// <summary>The default number of workers: the number of cores, at most 4 (memory grows with each).</summary>
    public static int DefaultWorkers { get; } = Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>
    /// Reads <paramref name="input"/> to its end, storing a chunk each time <paramref name="chunkSize"/> bytes have arrived
    /// and a shorter last one at the end, hashing on <see cref="DefaultWorkers"/> workers. Completes
    /// <paramref name="input"/> (with the failure, if any, so the writing end stops too). Returns the plain bytes read.
    /// The caller still calls <see cref="IDumpWriter.CompleteAsync"/>.
    /// </summary>
    public static Task<long> RunAsync(PipeReader input, IDumpWriter writer, int chunkSize, CancellationToken cancellationToken) =>
        RunAsync(input, writer, chunkSize, codec: null, DefaultWorkers, cancellationToken);

    /// <inheritdoc cref="RunAsync(PipeReader, IDumpWriter, int, CancellationToken)"/>
    public static Task<long> RunAsync(PipeReader input, IDumpWriter writer, int chunkSize, IChunkCodec? codec, CancellationToken cancellationToken) =>
        RunAsync(input, writer, chunkSize, codec, DefaultWorkers, cancellationToken);

    /// <summary>
    /// The same, encoding and hashing on <paramref name="workers"/> workers (1..<see cref="MaxWorkers"/>). The stored
    /// chunks do not depend on the number of workers: a chunk's encoding depends only on its bytes, its index and
    /// whether it is the last.
    /// </summary>
    public static Task<long> RunAsync(PipeReader input, IDumpWriter writer, int chunkSize, IChunkCodec? codec, int workers, CancellationToken cancellationToken) =>
        RunAsync(input, writer, chunkSize, codec, workers, partIndex: 0, partBegun: false, probe: null, slots: null, cancellationToken);

    /// <summary>
    /// The same for one part of a dump: the caller began part <paramref name="partIndex"/> on <paramref name="writer"/>
    /// (<see cref="IDumpWriter.BeginPart"/>); the codec binds the part into its chunks and seals the part's last chunk.
    /// Without a part begun, the writer makes the chunks one single-stream part 0.
    /// </summary>
    public static Task<long> RunPartAsync(PipeReader input, IDumpWriter writer, int partIndex, int chunkSize, IChunkCodec? codec, int workers, CancellationToken cancellationToken) =>
        RunAsync(input, writer, chunkSize, codec, workers, partIndex, partBegun: true, probe: null, slots: null, cancellationToken);

    internal static Task<long> RunAsync(PipeReader input, IDumpWriter writer, int chunkSize, IChunkCodec? codec, int workers,
        ChunkerProbe? probe, CancellationToken cancellationToken) =>
        RunAsync(input, writer, chunkSize, codec, workers, partIndex: 0, partBegun: false, probe, slots: null, cancellationToken);

    /// <summary>
    /// <see cref="RunPartAsync"/> with a probe that counts the chunks in flight (shared by parts chunked at once), and
    /// with <paramref name="slots"/> lent (null: made for this run): they must be for this chunk size, these workers and
    /// a codec or not as this run, and no other run may use them at the same time.
    /// </summary>
    internal static Task<long> RunPartAsync(PipeReader input, IDumpWriter writer, int partIndex, int chunkSize, IChunkCodec? codec, int workers,
        ChunkerProbe? probe, ChunkSlots? slots, CancellationToken cancellationToken) =>
        RunAsync(input, writer, chunkSize, codec, workers, partIndex, partBegun: true, probe, slots, cancellationToken);

    static async Task<long> RunAsync(PipeReader input, IDumpWriter writer, int chunkSize, IChunkCodec? codec, int workers, int partIndex,
        bool partBegun, ChunkerProbe? probe, ChunkSlots? slots, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(writer);
        CheckChunkSize(chunkSize);
        CheckWorkers(workers);
        using var trimmed = NativeHeap.KeepTrimmed();

        ChunkEncoder encoder;
        try
        {
            encoder = new ChunkEncoder(writer, codec, chunkSize, workers, partIndex, partBegun, probe, slots, cancellationToken);
        }
        catch (Exception e)
        {
            // The producer must learn that nobody reads its pipe, or it waits on a full pipe for ever (an out-of-memory
            // while the slots and workers were set up once hung a dump this way).
            await input.CompleteAsync(e).ConfigureAwait(false);
            throw;
        }
        Slot? filling = null;
        Slot? full = null; // a full chunk waits until we know whether another byte follows it (then it is not the last)
        long total = 0;
        Exception? failure = null;
        try
        {
            while (true)
            {
                // The encoder's token: a failed worker or store stops this read too, even when the producer is idle.
                ReadResult result = await input.ReadAsync(encoder.Token).ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    throw new OperationCanceledException("Reading the dump was canceled.");
                }
                ReadOnlySequence<byte> data = result.Buffer;
                if (full is not null && !data.IsEmpty)
                {
                    encoder.Submit(full, isLast: false);
                    full = null;
                }

                // Take only what fits in the current chunk and release it to the pipe at once, so the writing end can
                // go on producing; the rest is returned again by the next ReadAsync.
                int take = (int)Math.Min(chunkSize - (filling?.Length ?? 0), data.Length);
                if (take > 0)
                {
                    // Waits while workers + 2 chunks are in flight: this is what bounds memory.
                    filling ??= await encoder.RentAsync().ConfigureAwait(false);
                    data.Slice(0, take).CopyTo(filling.Plain.AsSpan(filling.Length));
                    filling.Length += take;
                    total += take;
                }
                input.AdvanceTo(data.GetPosition(take));

                bool end = result.IsCompleted && take == data.Length;
                if (filling?.Length == chunkSize)
                {
                    full = filling;
                    filling = null;
                }
                if (end)
                {
                    if (full is not null)
                    {
                        encoder.Submit(full, isLast: filling is null);
                        full = null;
                    }
                    if (filling is not null)
                    {
                        encoder.Submit(filling, isLast: true);
                        filling = null;
                    }
                    else if (encoder.Submitted == 0 && codec is not null)
                    {
                        encoder.Submit(await encoder.RentAsync().ConfigureAwait(false), isLast: true);
                    }
                    await encoder.CompleteAsync().ConfigureAwait(false);
                    return total;
                }
            }
        }
        catch (Exception ex)
        {
            // A stage that saw the encoder stop only reports the cancellation; the cause is the first failure.
            failure = encoder.Fail(ex);
            if (!ReferenceEquals(failure, ex))
            {
                ExceptionDispatchInfo.Throw(failure);
            }
            throw;
        }
        finally
        {
            await input.CompleteAsync(failure).ConfigureAwait(false);
            // Waits for every worker and the store before their buffers go back to the pool.
            await encoder.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 1 &lt;= <paramref name="chunkSize"/> &lt;= <see cref="MaxChunkSize"/>.</summary>
    public static void CheckChunkSize(long chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, MaxChunkSize);
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 1 &lt;= <paramref name="workers"/> &lt;= <see cref="MaxWorkers"/>.</summary>
    public static void CheckWorkers(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(workers, MaxWorkers);
    }
}

/// <summary>
/// Test hook: how many chunks the chunker holds, and how many buffers a dump made (chunk slots, pipe segments), so that
/// tests check its memory bound by counting.
/// </summary>
internal sealed class ChunkerProbe
{
    int _inFlight;
    int _maxInFlight;
    int _slotsMade;
    int _segmentsMade;

    /// <summary>Chunks taken for filling and not yet stored.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The most chunks ever in flight at once.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>Called with the chunks in flight each time the reader has to wait for one to be stored.</summary>
    public Action<int>? WaitingForChunk { get; init; }

    internal void Taken()
    {
        var now = Interlocked.Increment(ref _inFlight);
        int max;
        while (now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max)
        {
        }
    }

    internal void Returned() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Chunk slots made (each a plain chunk and its encoded form).</summary>
    public int SlotsMade => Volatile.Read(ref _slotsMade);

    /// <summary>Segments made by the pools of the dump's pipes (source -> rewriter, rewriter -> chunker).</summary>
    public int SegmentsMade => Volatile.Read(ref _segmentsMade);

    internal void SlotMade() => Interlocked.Increment(ref _slotsMade);

    internal void SegmentMade() => Interlocked.Increment(ref _segmentsMade);
}

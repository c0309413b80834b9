using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Replica.Bridges;
using Replica.Codecs;

namespace Replica.Pipeline;

/// <summary>
/// Cuts the bytes of a (rewritten) dump into chunks of a fixed size, encodes each on its own (compression, encryption)
/// and hands it to an <see cref="IDumpWriter"/> with the SHA-256 of the stored bytes. One chunk is stored on another
/// thread while the next one fills, so the writing end of the pipe never waits for the disk or the network; memory is
/// two plain chunks plus one encoded one. Every chunk is full except the last. An empty dump has no chunks, unless a
/// codec is set: then it has one empty chunk, so that an encrypting codec can seal the "last chunk" mark.
/// </summary>
public static class DumpChunker
{
    /// <summary>The largest chunk size: a chunk is one array in memory, and 1 GiB is far beyond any useful object size.</summary>
    public const int MaxChunkSize = 1 << 30;

    /// <summary>
    /// Reads <paramref name="input"/> to its end, storing a chunk each time <paramref name="chunkSize"/> bytes have arrived
    /// and a shorter last one at the end. Completes <paramref name="input"/> (with the failure, if any, so the writing
    /// end stops too). Returns the plain bytes read. The caller still calls <see cref="IDumpWriter.CompleteAsync"/>.
    /// </summary>
    public static async Task<long> RunAsync(PipeReader input, IDumpWriter writer, int chunkSize, CancellationToken cancellationToken) =>
        await RunAsync(input, writer, chunkSize, codec: null, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc cref="RunAsync(PipeReader, IDumpWriter, int, CancellationToken)"/>
    public static Task<long> RunAsync(PipeReader input, IDumpWriter writer, int chunkSize, IChunkCodec? codec, CancellationToken cancellationToken) =>
        RunAsync(input, writer, chunkSize, codec, partIndex: 0, cancellationToken);

    /// <summary>
    /// The same for one part of a dump: the caller began part <paramref name="partIndex"/> on <paramref name="writer"/>
    /// (<see cref="IDumpWriter.BeginPart"/>); the codec binds the part into its chunks and seals the part's last chunk.
    /// Without a part begun, the writer makes the chunks one single-stream part 0.
    /// </summary>
    public static async Task<long> RunAsync(PipeReader input, IDumpWriter writer, int chunkSize, IChunkCodec? codec, int partIndex, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(writer);
        CheckChunkSize(chunkSize);

        var store = new Store(writer, codec, chunkSize, partIndex);
        byte[][] buffers = [ArrayPool<byte>.Shared.Rent(chunkSize), ArrayPool<byte>.Shared.Rent(chunkSize)];
        var slot = 0;
        var filled = 0;
        var pendingSlot = -1; // a full chunk waits until we know whether another byte follows it (then it is not the last)
        byte[]? pendingHash = null;
        long total = 0;
        Exception? failure = null;
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    throw new OperationCanceledException("Reading the dump was canceled.");
                }
                ReadOnlySequence<byte> data = result.Buffer;
                if (pendingSlot >= 0 && !data.IsEmpty)
                {
                    await store.StartAsync(buffers[pendingSlot], chunkSize, pendingHash, isLast: false, cancellationToken).ConfigureAwait(false);
                    pendingSlot = -1;
                }

                // Take only what fits in the current chunk and release it to the pipe at once, so the writing end can
                // go on producing; the rest is returned again by the next ReadAsync.
                int take = (int)Math.Min(chunkSize - filled, data.Length);
                if (take > 0)
                {
                    // Before refilling this buffer, the store of what it held before must be done.
                    await store.WaitForBufferAsync(buffers[slot]).ConfigureAwait(false);
                    data.Slice(0, take).CopyTo(buffers[slot].AsSpan(filled));
                    // Without a codec the stored bytes are these bytes: hash them as they arrive, spreading the work.
                    store.HashPlain(buffers[slot].AsSpan(filled, take));
                    filled += take;
                    total += take;
                }
                input.AdvanceTo(data.GetPosition(take));

                bool end = result.IsCompleted && take == data.Length;
                if (filled == chunkSize)
                {
                    pendingSlot = slot;
                    pendingHash = store.TakePlainHash();
                    slot = 1 - slot;
                    filled = 0;
                }
                if (end)
                {
                    if (pendingSlot >= 0)
                    {
                        await store.StartAsync(buffers[pendingSlot], chunkSize, pendingHash, isLast: filled == 0, cancellationToken).ConfigureAwait(false);
                    }
                    if (filled > 0 || (store.Count == 0 && codec is not null))
                    {
                        await store.WaitForBufferAsync(buffers[slot]).ConfigureAwait(false);
                        await store.StartAsync(buffers[slot], filled, store.TakePlainHash(), isLast: true, cancellationToken).ConfigureAwait(false);
                    }
                    await store.WaitAsync().ConfigureAwait(false);
                    return total;
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex;
            throw;
        }
        finally
        {
            await input.CompleteAsync(failure).ConfigureAwait(false);
            try
            {
                // A store still running reads its buffer: wait for it before the buffer goes back to the pool.
                await store.WaitAsync().ConfigureAwait(false);
            }
            catch when (failure is not null)
            {
                // Already failing; the first failure is the one reported.
            }
            store.Dispose();
            ArrayPool<byte>.Shared.Return(buffers[0]);
            ArrayPool<byte>.Shared.Return(buffers[1]);
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 1 &lt;= <paramref name="chunkSize"/> &lt;= <see cref="MaxChunkSize"/>.</summary>
    public static void CheckChunkSize(long chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, MaxChunkSize);
    }

    /// <summary>Encodes and stores chunks one at a time, in order, on a background task.</summary>
    sealed class Store(IDumpWriter writer, IChunkCodec? codec, int chunkSize, int partIndex) : IDisposable
    {
        readonly IncrementalHash _plainHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        readonly ArrayBufferWriter<byte>? _encoded = codec is null ? null : new ArrayBufferWriter<byte>(chunkSize + (chunkSize >> 4) + 4096);
        Task _storing = Task.CompletedTask;
        byte[]? _busy;

        public int Count { get; private set; }

        public void HashPlain(ReadOnlySpan<byte> bytes)
        {
            if (codec is null)
            {
                _plainHash.AppendData(bytes);
            }
        }

        public byte[]? TakePlainHash() => codec is null ? _plainHash.GetHashAndReset() : null;

        public async Task WaitForBufferAsync(byte[] buffer)
        {
            if (ReferenceEquals(_busy, buffer))
            {
                await WaitAsync().ConfigureAwait(false);
            }
        }

        public async Task WaitAsync()
        {
            await _storing.ConfigureAwait(false);
            _busy = null;
        }

        /// <summary>Starts storing the next chunk once the previous one is stored (chunks are stored in order).</summary>
        public async Task StartAsync(byte[] buffer, int length, byte[]? plainHash, bool isLast, CancellationToken cancellationToken)
        {
            await WaitAsync().ConfigureAwait(false);
            var index = Count++;
            _busy = buffer;
            _storing = Task.Run(() => StoreAsync(buffer.AsMemory(0, length), plainHash, index, isLast, cancellationToken), cancellationToken);
        }

        async Task StoreAsync(ReadOnlyMemory<byte> plain, byte[]? plainHash, int index, bool isLast, CancellationToken cancellationToken)
        {
            if (codec is null)
            {
                await writer.WriteChunkAsync(plain, plainHash!, cancellationToken).ConfigureAwait(false);
                return;
            }
            _encoded!.ResetWrittenCount();
            codec.Encode(plain.Span, partIndex, index, isLast, _encoded);
            var sha256 = SHA256.HashData(_encoded.WrittenSpan);
            await writer.WriteChunkAsync(_encoded.WrittenMemory, sha256, cancellationToken).ConfigureAwait(false);
        }

        public void Dispose() => _plainHash.Dispose();
    }
}

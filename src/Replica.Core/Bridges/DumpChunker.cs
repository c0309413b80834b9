using System.Security.Cryptography;
using System.Buffers;
using System.IO.Pipelines;

namespace Replica.Bridges;

/// <summary>
/// Cuts the bytes of a (rewritten) dump into chunks of a fixed size and hands each to an <see cref="IDumpWriter"/>.
/// Memory stays at one chunk: a single pooled buffer is filled, stored, and refilled. Every chunk is full except the
/// last; an empty dump has no chunks at all.
/// </summary>
public static class DumpChunker
{
    /// <summary>The largest chunk size: a chunk is one array in memory, and 1 GiB is far beyond any useful object size.</summary>
    public const int MaxChunkSize = 1 << 30;

    /// <summary>
    /// Reads <paramref name="input"/> to its end, as the reading end of a pipe, storing a chunk each time
    /// <paramref name="chunkSize"/> bytes have arrived and a shorter last one at the end. Completes
    /// <paramref name="input"/> (with the failure, if any, so the writing end stops too). Returns the bytes read.
    /// The caller still calls <see cref="IDumpWriter.CompleteAsync"/>.
    /// </summary>
    public static async Task<long> RunAsync(PipeReader input, IDumpWriter writer, int chunkSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(writer);
        CheckChunkSize(chunkSize);

        // Two buffers: one chunk is stored (written and flushed to disk on another thread) while the next one fills,
        // so the writing end of the pipe never waits for the disk. Memory is two chunks.
        byte[][] buffers = [ArrayPool<byte>.Shared.Rent(chunkSize), ArrayPool<byte>.Shared.Rent(chunkSize)];
        byte[] buffer = buffers[0];
        Task storing = Task.CompletedTask;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int filled = 0;
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

                // Take only what fits in the current chunk and release it to the pipe at once, so the writing end can
                // go on producing; the rest is returned again by the next ReadAsync.
                ReadOnlySequence<byte> data = result.Buffer;
                int take = (int)Math.Min(chunkSize - filled, data.Length);
                data.Slice(0, take).CopyTo(buffer.AsSpan(filled));
                input.AdvanceTo(data.GetPosition(take));
                // Hash as the bytes arrive, so the work is spread evenly while the writing end keeps producing.
                hash.AppendData(buffer, filled, take);
                filled += take;
                total += take;

                bool end = result.IsCompleted && take == data.Length;
                if (filled == chunkSize || (end && filled > 0))
                {
                    // Chunks are stored in order: the previous one must be done before this one starts.
                    await storing.ConfigureAwait(false);
                    var chunk = buffer.AsMemory(0, filled);
                    var sha256 = hash.GetHashAndReset();
                    storing = Task.Run(() => StoreAsync(writer, chunk, sha256, cancellationToken), cancellationToken);
                    buffer = buffer == buffers[0] ? buffers[1] : buffers[0];
                    filled = 0;
                }
                if (end)
                {
                    await storing.ConfigureAwait(false);
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
                await storing.ConfigureAwait(false);
            }
            catch when (failure is not null)
            {
                // Already failing; the first failure is the one reported.
            }
            ArrayPool<byte>.Shared.Return(buffers[0]);
            ArrayPool<byte>.Shared.Return(buffers[1]);
        }
    }

    /// <summary>
    /// The same for a <see cref="Stream"/> (e.g. a file or a process's stdout): reads it to its end, storing full chunks
    /// and a shorter last one. Does not dispose <paramref name="input"/>. Returns the bytes read.
    /// </summary>
    public static async Task<long> RunAsync(Stream input, IDumpWriter writer, int chunkSize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(writer);
        CheckChunkSize(chunkSize);

        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
        long total = 0;
        try
        {
            while (true)
            {
                int filled = await input.ReadAtLeastAsync(buffer.AsMemory(0, chunkSize), chunkSize, throwOnEndOfStream: false,
                    cancellationToken).ConfigureAwait(false);
                if (filled > 0)
                {
                    await StoreAsync(writer, buffer.AsMemory(0, filled), SHA256.HashData(buffer.AsSpan(0, filled)), cancellationToken).ConfigureAwait(false);
                    total += filled;
                }
                if (filled < chunkSize)
                {
                    return total;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 1 &lt;= <paramref name="chunkSize"/> &lt;= <see cref="MaxChunkSize"/>.</summary>
    public static void CheckChunkSize(long chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, MaxChunkSize);
    }

    static Task StoreAsync(IDumpWriter writer, ReadOnlyMemory<byte> chunk, byte[] sha256, CancellationToken cancellationToken)
    {
        // Issue 3's codecs plug in here: each chunk is encoded on its own before it is stored, compressed (zstd) and
        // then encrypted (AES-GCM, a fresh nonce per chunk), so a chunk can be verified and decoded without its
        // neighbours. The manifest's size and sha256 then describe the encoded bytes, as stored.
        return writer.WriteChunkAsync(chunk, sha256, cancellationToken);
    }
}

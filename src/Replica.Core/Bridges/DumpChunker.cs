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

        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
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
                // go on producing while the chunk is stored; the rest is returned again by the next ReadAsync.
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
                    await StoreAsync(writer, buffer.AsMemory(0, filled), hash.GetHashAndReset(), cancellationToken).ConfigureAwait(false);
                    filled = 0;
                }
                if (end)
                {
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
            ArrayPool<byte>.Shared.Return(buffer);
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

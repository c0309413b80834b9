using System.Security.Cryptography;
using Replica.Bridges;
using Replica.Codecs;

namespace Replica.Pipeline;

/// <summary>Streams a stored dump back out, verifying every chunk against its manifest before writing it.</summary>
public static class DumpReader
{
    /// <summary>The newest complete dump (by created_at, then name); <see cref="BridgeException"/> when there is none.</summary>
    public static async Task<DumpEntry> ResolveLatestAsync(IBridge bridge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        IReadOnlyList<DumpEntry> dumps = await bridge.ListAsync(cancellationToken).ConfigureAwait(false);
        DumpEntry? latest = null;
        foreach (DumpEntry entry in dumps)
        {
            if (latest is null || DumpOrdering.OldestFirst(entry, latest) > 0)
            {
                latest = entry;
            }
        }
        return latest ?? throw new BridgeException($"There is no complete dump in {bridge.Description}.");
    }

    /// <summary>
    /// Writes dump <paramref name="name"/> to <paramref name="output"/>, part by part and chunk by chunk in manifest order
    /// (bridge format v1 or v2: one plain SQL stream either way). Each chunk's
    /// size and SHA-256 are checked before any of its bytes are written; a mismatch or a missing chunk is an
    /// <see cref="IntegrityException"/> naming the dump and the chunk. Chunk n+1 is fetched while chunk n is written,
    /// so at most two chunks are in memory. Returns the bytes written. Does not flush or dispose <paramref name="output"/>.
    /// </summary>
    public static Task<long> RestoreAsync(IBridge bridge, string name, Stream output, CancellationToken cancellationToken) =>
        RestoreAsync(bridge, name, output, openCodec: null, cancellationToken);

    /// <summary>
    /// The same for dumps whose chunks are encoded (compressed, encrypted): <paramref name="openCodec"/> builds the
    /// decoding codec from the manifest (and the keys the caller holds). Each chunk is verified, then decoded whole
    /// (decryption authenticates it) before any of its bytes are written.
    /// </summary>
    public static Task<long> RestoreAsync(IBridge bridge, string name, Stream output, Func<DumpManifest, IChunkCodec?>? openCodec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        return RestoreAsync(bridge, name, () => Task.FromResult(output), openCodec, cancellationToken);
    }

    /// <summary>
    /// The same, with the output opened by <paramref name="openOutput"/> only once the manifest was read, the codec opened
    /// (a wrong key fails there) and the first chunk fetched, verified and decoded: a restore that cannot read the dump
    /// fails before its destination is touched (a database created, a file begun).
    /// </summary>
    public static async Task<long> RestoreAsync(IBridge bridge, string name, Func<Task<Stream>> openOutput, Func<DumpManifest, IChunkCodec?>? openCodec,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentNullException.ThrowIfNull(openOutput);
        DumpManifest manifest = await bridge.ReadManifestAsync(name, cancellationToken).ConfigureAwait(false);
        using IChunkCodec? codec = openCodec?.Invoke(manifest);
        CheckManifest(name, manifest, codec);
        var decoded = codec is null ? null : new System.Buffers.ArrayBufferWriter<byte>();

        IReadOnlyList<ChunkInfo> chunks = manifest.Chunks;
        // Parts in restore order (a v1 dump is one part 0 of every chunk); the chunk list holds their chunks in that order.
        IReadOnlyList<PartInfo> parts = manifest.PartsOf();
        int part = 0;
        int inPart = 0;
        if (chunks.Count == 0)
        {
            await openOutput().ConfigureAwait(false);
            return 0;
        }
        Stream? output = null;

        using var prefetchCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<byte[]>? next = FetchAsync(bridge, name, chunks[0], prefetchCancel.Token);
        long total = 0;
        try
        {
            for (int i = 0; i < chunks.Count; i++)
            {
                byte[] stored = await next!.ConfigureAwait(false);
                next = null;
                Verify(name, chunks[i], stored);
                if (i + 1 < chunks.Count)
                {
                    next = FetchAsync(bridge, name, chunks[i + 1], prefetchCancel.Token);
                }

                if (decoded is null)
                {
                    output ??= await openOutput().ConfigureAwait(false);
                    await output.WriteAsync(stored, cancellationToken).ConfigureAwait(false);
                    total += stored.Length;
                    continue;
                }
                while (inPart == parts[part].ChunkCount)
                {
                    part++;
                    inPart = 0;
                }
                decoded.ResetWrittenCount();
                Decode(codec!, name, chunks[i], stored, parts[part], inPart, decoded);
                inPart++;
                output ??= await openOutput().ConfigureAwait(false);
                await output.WriteAsync(decoded.WrittenMemory, cancellationToken).ConfigureAwait(false);
                total += decoded.WrittenCount;
            }
            return total;
        }
        finally
        {
            if (next is not null)
            {
                // We are failing for another reason; stop the prefetch and wait for it so it neither outlives this call
                // nor surfaces as an unobserved exception. Its own outcome no longer matters.
                await prefetchCancel.CancelAsync().ConfigureAwait(false);
                await ((Task)next).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// Decodes chunk <paramref name="inPart"/> of <paramref name="part"/>; the part's last chunk carries the last-chunk
    /// mark. In a dump in parts, a failure names the dump, the part and the chunk (the codec knows only the numbers).
    /// </summary>
    static void Decode(IChunkCodec codec, string name, ChunkInfo chunk, byte[] stored, PartInfo part, int inPart, System.Buffers.IBufferWriter<byte> decoded)
    {
        bool isLast = inPart == part.ChunkCount - 1;
        if (chunk.Part is null)
        {
            codec.Decode(stored, inPart, isLast, decoded);
            return;
        }
        try
        {
            codec.Decode(stored, part.Index, inPart, isLast, decoded);
        }
        catch (IntegrityException ex)
        {
            throw new IntegrityException($"Dump '{name}', {part}, chunk {chunk.Index} ({chunk.Key}): {ex.Message}", ex);
        }
    }

    static Task<byte[]> FetchAsync(IBridge bridge, string name, ChunkInfo chunk, CancellationToken cancellationToken) =>
        // Task.Run so the fetch proceeds even where a bridge does its I/O synchronously before its first await.
        Task.Run(() => bridge.ReadChunkAsync(name, chunk, cancellationToken), cancellationToken);

    static void CheckManifest(string name, DumpManifest manifest, IChunkCodec? codec)
    {
        if ((manifest.Compressed || manifest.Encrypted) && codec is null)
        {
            throw new BridgeException(
                $"Dump '{name}' is {(manifest.Compressed ? "compressed" : "encrypted")}; this version of replica cannot decode it.");
        }
        long sum = 0;
        for (int i = 0; i < manifest.Chunks.Count; i++)
        {
            ChunkInfo chunk = manifest.Chunks[i];
            if (chunk.Index != i)
            {
                BridgeThrow.DumpIntegrity(name, $"the manifest lists chunk {chunk.Index} ({chunk.Key}) at position {i}");
            }
            sum += chunk.Size;
        }
        if (sum != manifest.SizeOut)
        {
            BridgeThrow.DumpIntegrity(name, $"the manifest's chunks add up to {sum} bytes, but its size_out is {manifest.SizeOut}");
        }
    }

    static void Verify(string name, ChunkInfo chunk, byte[] stored)
    {
        if (stored.Length != chunk.Size)
        {
            BridgeThrow.ChunkIntegrity(name, chunk, $"{stored.Length} bytes stored, the manifest says {chunk.Size}");
        }
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(stored, hash);
        string actual = Convert.ToHexStringLower(hash);
        if (!string.Equals(actual, chunk.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            BridgeThrow.ChunkIntegrity(name, chunk, $"SHA-256 is {actual}, the manifest says {chunk.Sha256}");
        }
    }
}

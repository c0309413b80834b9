using System.Security.Cryptography;
using Replica.Bridges;
using Replica.Codecs;

namespace Replica.Pipeline;

/// <summary>Streams a stored dump back out, verifying every chunk against its manifest before writing it.</summary>
public static partial class DumpReader
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
    /// <see cref="IntegrityException"/> naming the dump and the chunk. The next chunks are fetched while one is written,
    /// so at most workers + 2 chunks are in memory. Returns the bytes written. Does not flush or dispose <paramref name="output"/>.
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
    /// fails before its destination is touched (a database created, a file begun). Fetches and decodes on
    /// <see cref="DumpChunker.DefaultWorkers"/> workers.
    /// </summary>
    public static Task<long> RestoreAsync(IBridge bridge, string name, Func<Task<Stream>> openOutput, Func<DumpManifest, IChunkCodec?>? openCodec,
        CancellationToken cancellationToken) =>
        RestoreAsync(bridge, name, openOutput, openCodec, DumpChunker.DefaultWorkers, cancellationToken);

    /// <summary>
    /// The same, with chunks fetched, verified and decoded by <paramref name="workers"/> workers at once (each decoding
    /// with its own fork of the codec) up to workers + 2 chunks ahead of the one being written, and written in manifest
    /// order. The first chunk in order that fails is the one reported; nothing of it or after it is written.
    /// </summary>
    public static async Task<long> RestoreAsync(IBridge bridge, string name, Func<Task<Stream>> openOutput, Func<DumpManifest, IChunkCodec?>? openCodec,
        int workers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentNullException.ThrowIfNull(openOutput);
        DumpChunker.CheckWorkers(workers);
        using var trimmed = NativeHeap.KeepTrimmed();
        DumpManifest manifest = await bridge.ReadManifestAsync(name, cancellationToken).ConfigureAwait(false);
        using IChunkCodec? codec = openCodec?.Invoke(manifest);
        CheckManifest(name, manifest, codec);

        IReadOnlyList<ChunkInfo> chunks = manifest.Chunks;
        // Parts in restore order (a v1 dump is one part 0 of every chunk); the chunk list holds their chunks in that order.
        IReadOnlyList<PartInfo> parts = manifest.PartsOf();
        if (chunks.Count == 0)
        {
            await openOutput().ConfigureAwait(false);
            return 0;
        }
        Stream? output = null;
        long total = 0;
        // Every chunk but a part's last holds the dump's chunk size of plain bytes; the average is a close first size.
        long plainHint = manifest.SizePlain is long sizePlain ? (sizePlain + chunks.Count - 1) / chunks.Count : 0;
        await using var fetcher = new ChunkFetcher(bridge, name, chunks, parts, codec, workers, cancellationToken, plainHint);
        for (int i = 0; i < chunks.Count; i++)
        {
            ReadOnlyMemory<byte> plain = await fetcher.NextAsync(i).ConfigureAwait(false);
            output ??= await openOutput().ConfigureAwait(false);
            await output.WriteAsync(plain, cancellationToken).ConfigureAwait(false);
            total += plain.Length;
        }
        return total;
    }

    /// <summary>
    /// Decodes chunk <paramref name="inPart"/> of <paramref name="part"/>; the part's last chunk carries the last-chunk
    /// mark. In a dump in parts, a failure names the dump, the part and the chunk (the codec knows only the numbers).
    /// </summary>
    static void Decode(IChunkCodec codec, string name, ChunkInfo chunk, ReadOnlySpan<byte> stored, PartInfo part, int inPart, System.Buffers.IBufferWriter<byte> decoded)
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


    internal static void CheckManifest(string name, DumpManifest manifest, IChunkCodec? codec)
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

    static void Verify(string name, ChunkInfo chunk, ReadOnlySpan<byte> stored) => chunk.CheckStored(name, stored);
}

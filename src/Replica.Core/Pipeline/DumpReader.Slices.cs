using Replica.Bridges;
using Replica.Codecs;

namespace Replica.Pipeline;

/// <summary>
/// A run of one part's bytes, for a reader that restores parts (or pieces of one) on several connections: chunks
/// [<see cref="FirstChunk"/>, <see cref="ChunkEndExcl"/>) of the part (numbers within the part), of whose bytes the
/// first <see cref="Skip"/> are left out and at most <see cref="Take"/> written.
/// </summary>
internal readonly record struct PartSlice(PartInfo Part, IReadOnlyList<ChunkInfo> Chunks, int FirstChunk, int ChunkEndExcl, long Skip, long Take)
{
    /// <summary>Every byte of <paramref name="part"/>, whose chunks are <paramref name="chunks"/>.</summary>
    public static PartSlice Whole(PartInfo part, IReadOnlyList<ChunkInfo> chunks) => new(part, chunks, 0, chunks.Count, 0, long.MaxValue);

    /// <summary>
    /// Bytes [<paramref name="from"/>, <paramref name="toExcl"/>) of a part whose chunk i starts at
    /// <paramref name="chunkStarts"/>[i] (plain bytes; one more entry: the part's length).
    /// </summary>
    public static PartSlice Range(PartInfo part, IReadOnlyList<ChunkInfo> chunks, IReadOnlyList<long> chunkStarts, long from, long toExcl)
    {
        int first = 0;
        while (first + 1 < chunks.Count && chunkStarts[first + 1] <= from)
        {
            first++;
        }
        int end = first;
        while (end < chunks.Count && chunkStarts[end] < toExcl)
        {
            end++;
        }
        return new PartSlice(part, chunks, first, Math.Max(end, first), from - chunkStarts[first], toExcl - from);
    }
}

public static partial class DumpReader
{
    /// <summary>
    /// The chunks of each part, in restore order: the manifest lists them part after part (<see cref="DumpManifest.PartsOf"/>).
    /// </summary>
    internal static List<(PartInfo Part, IReadOnlyList<ChunkInfo> Chunks)> ChunksByPart(DumpManifest manifest)
    {
        var parts = new List<(PartInfo, IReadOnlyList<ChunkInfo>)>();
        int next = 0;
        foreach (PartInfo part in manifest.PartsOf())
        {
            // A view, not a copy: a bridge may hold the chunk list compactly, and copying it would make every ChunkInfo.
            parts.Add((part, new ListView<ChunkInfo>(manifest.Chunks, next, part.ChunkCount)));
            next += part.ChunkCount;
        }
        return parts;
    }

    /// <summary>
    /// Writes <paramref name="slice"/> to <paramref name="write"/>: its chunks fetched, verified and decoded (with
    /// <paramref name="codec"/>, this reader's own) up to 3 ahead of the one being written, by one worker. The first bad chunk
    /// throws, naming it; nothing of it is written. <paramref name="onChunk"/> hears each chunk's plain length, in order.
    /// Returns the bytes written.
    /// </summary>
    internal static async Task<long> ReadSliceAsync(IBridge bridge, string name, PartSlice slice, IChunkCodec? codec,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, CancellationToken cancellationToken, int workers = 1, Action<int>? onChunk = null)
    {
        int count = slice.ChunkEndExcl - slice.FirstChunk;
        if (count <= 0 || slice.Take <= 0)
        {
            return 0;
        }
        using var trimmed = NativeHeap.KeepTrimmed();
        var chunks = new ListView<ChunkInfo>(slice.Chunks, slice.FirstChunk, count);
        var positions = new (PartInfo, int)[count];
        for (int i = 0; i < count; i++)
        {
            positions[i] = (slice.Part, slice.FirstChunk + i);
        }
        long skip = slice.Skip;
        long left = slice.Take;
        long total = 0;
        await using var fetcher = new ChunkFetcher(bridge, name, chunks, positions, codec, workers, cancellationToken);
        for (int i = 0; i < count && left > 0; i++)
        {
            ReadOnlyMemory<byte> plain = await fetcher.NextAsync(i).ConfigureAwait(false);
            onChunk?.Invoke(plain.Length);
            if (skip >= plain.Length)
            {
                skip -= plain.Length;
                continue;
            }
            plain = plain[(int)skip..];
            skip = 0;
            if (plain.Length > left)
            {
                plain = plain[..(int)left];
            }
            await write(plain, cancellationToken).ConfigureAwait(false);
            left -= plain.Length;
            total += plain.Length;
        }
        return total;
    }
}

/// <summary>Items [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of a list, read through, not copied.</summary>
internal sealed class ListView<T>(IReadOnlyList<T> list, int start, int count) : IReadOnlyList<T>
{
    public int Count => count;

    public T this[int index] => (uint)index < (uint)count ? list[start + index] : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<T> GetEnumerator()
    {
        for (int i = 0; i < count; i++)
        {
            yield return list[start + i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

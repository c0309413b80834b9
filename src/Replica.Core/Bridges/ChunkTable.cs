using System.Collections;

namespace Replica.Bridges;

/// <summary>
/// One stored chunk, compactly: its part, number in the part, size and SHA-256 (48 bytes, no strings). Its key is the
/// one the writer gives every chunk of bridge format v2 and v3 (<see cref="ObjectBridge.ChunkKey"/>); a
/// <see cref="ChunkInfo"/> is made from it when one is asked for.
/// </summary>
internal struct ChunkEntry
{
    public int Part;
    public int InPart;
    public long Size;
    public Sha256Bytes Sha256;

    /// <summary>The chunk as the manifest lists it, at <paramref name="index"/> in the whole dump's chunk list.</summary>
    public readonly ChunkInfo ToInfo(int index) =>
        new(index, ObjectBridge.ChunkKey(Part, InPart), Size, Convert.ToHexStringLower(Sha256)) { Part = Part };
}

[System.Runtime.CompilerServices.InlineArray(32)]
internal struct Sha256Bytes
{
    byte _first;
}

/// <summary>
/// A dump's whole chunk list as a reader holds it for a bridge format v3 dump: <see cref="ChunkEntry"/>s, each made
/// into a <see cref="ChunkInfo"/> when read. ~48 bytes a chunk instead of ~270 for a ChunkInfo with its key and hash
/// strings: a 1 TiB dump of 4 MiB chunks is 12 MB here, not 70. Chunks go in in order, part after part, and must
/// carry the key their part and number give, and a SHA-256 of 64 lowercase hex digits (what replica writes).
/// </summary>
internal sealed class ChunkTable : IReadOnlyList<ChunkInfo>
{
    readonly List<ChunkEntry> _entries;

    public ChunkTable(long expected) => _entries = new List<ChunkEntry>((int)Math.Clamp(expected, 0, 1 << 20));

    public int Count => _entries.Count;

    public ChunkInfo this[int index] => _entries[index].ToInfo(index);

    /// <summary>Adds chunk <paramref name="inPart"/> of <paramref name="part"/>; what is wrong with it, or null when nothing.</summary>
    public string? TryAdd(ChunkInfo chunk, int part, int inPart)
    {
        string key = ObjectBridge.ChunkKey(part, inPart);
        if (chunk.Key != key)
        {
            return $"has the key {chunk.Key}, not {key}";
        }
        var entry = new ChunkEntry { Part = part, InPart = inPart, Size = chunk.Size };
        if (!BridgeJson.IsSha256Text(chunk.Sha256))
        {
            return "has a SHA-256 that is not 64 lowercase hex digits";
        }
        Convert.FromHexString(chunk.Sha256, entry.Sha256, out _, out _);
        _entries.Add(entry);
        return null;
    }

    public IEnumerator<ChunkInfo> GetEnumerator()
    {
        for (int i = 0; i < _entries.Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

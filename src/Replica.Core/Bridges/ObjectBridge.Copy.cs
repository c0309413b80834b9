namespace Replica.Bridges;

public partial class ObjectBridge
{
    /// <summary>One stored object of a dump, as a copy writes it: its key in the dump's folder, bytes and SHA-256.</summary>
    internal readonly record struct DumpObject(string Key, ReadOnlyMemory<byte> Data, ReadOnlyMemory<byte> Sha256, string What);

    /// <summary>
    /// The objects of complete dump <paramref name="name"/> besides its manifest, as stored: its chunk lists (bridge
    /// format v3), then its chunks in restore order, each checked against the manifest's size and SHA-256 before it is
    /// yielded. A chunk's bytes are in a buffer reused for the next one: use them before moving on. Memory: the largest
    /// chunk, and one chunk list at a time.
    /// </summary>
    internal async IAsyncEnumerable<DumpObject> ReadDumpObjectsAsync(DumpManifest manifest,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string name = manifest.Name;
        foreach (PartInfo part in manifest.PartsOf())
        {
            int number = 0;
            foreach (ChunkListInfo list in part.ChunkLists ?? [])
            {
                ReadOnlyMemory<byte> json = await ReadChunkListAsync(name, part, list, cancellationToken).ConfigureAwait(false);
                yield return new DumpObject(list.Key, json, Convert.FromHexString(list.Sha256), $"chunk list {number++} of {part} of dump '{name}'");
            }
        }
        byte[]? buffer = null;
        byte[] sha256 = new byte[System.Security.Cryptography.SHA256.HashSizeInBytes];
        foreach (ChunkInfo chunk in manifest.Chunks)
        {
            // The buffer grows to chunks the store has shown to exist, never to a size a manifest merely claims.
            ReadOnlyMemory<byte> data = await ReadChunkAsync(name, chunk, buffer, cancellationToken).ConfigureAwait(false);
            if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out ArraySegment<byte> array) && array.Array != buffer)
            {
                buffer = array.Array;
            }
            chunk.CheckStored(name, data.Span);
            System.Security.Cryptography.SHA256.HashData(data.Span, sha256);
            yield return new DumpObject(chunk.Key, data, sha256, $"{chunk} of dump '{name}'");
        }
    }

    /// <summary>
    /// Copies complete dump <paramref name="name"/> from <paramref name="source"/> (another bridge, or a dump archive)
    /// into this bridge as it is stored: the same chunks, chunk lists and manifest bytes, so it verifies and restores with
    /// the same keys, under the same name and creation time. Every object is checked on the way; the dump is listed only
    /// once everything is stored, and a copy that fails leaves nothing behind. <see cref="BridgeException"/> when the
    /// name is taken here. <paramref name="accept"/> sees the manifest before anything is written, and throws to refuse the dump.
    /// </summary>
    public async Task<DumpEntry> ImportAsync(ObjectBridge source, string name, CancellationToken cancellationToken, Action<DumpManifest>? accept = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        (DumpManifest manifest, ReadOnlyMemory<byte> json) = await source.ReadListedManifestAsync(name, cancellationToken).ConfigureAwait(false);
        accept?.Invoke(manifest);
        await using var writer = (ObjectDumpWriter)await BeginDumpAsync(name, cancellationToken).ConfigureAwait(false);
        await foreach (DumpObject item in source.ReadDumpObjectsAsync(manifest, cancellationToken).ConfigureAwait(false))
        {
            await writer.PutObjectAsync(item.Key, item.Data, item.Sha256, item.What, cancellationToken).ConfigureAwait(false);
        }
        return await writer.CompleteCopyAsync(json, EntryOf(manifest), cancellationToken).ConfigureAwait(false);
    }
}

using System.Formats.Tar;
using System.Text.Json;

namespace Replica.Bridges;

/// <summary>
/// A dump exported to one self-contained file (`replica export`, `restore --from-file`, `import`): a POSIX tar (ustar)
/// archive, so `tar tf dump.replica` shows what it holds, laid out as a bridge with one dump:
/// <code>
/// replica-export.json          what the file is: {"format": "replica dump archive", "version": 1, "dump": NAME, ...}
/// index.json                   the dump's index entry, as in a bridge
/// NAME/manifest.json           the dump's manifest, byte for byte as stored
/// NAME/p000000-list000000.json its chunk lists (bridge format v3), as stored
/// NAME/p000000-000000.chunk    its chunks, still compressed and encrypted, in restore order
/// </code>
/// Nothing is decoded or re-encoded: the archive verifies and restores with the dump's own key, and an encrypted dump's
/// manifest keeps its chunks tag. Reading it back is <see cref="ArchiveStore"/> under an <see cref="ObjectBridge"/>,
/// so a restore from a file makes every check a restore from the bridge makes.
/// </summary>
public static class DumpArchive
{
    /// <summary>The first entry of every archive.</summary>
    public const string HeaderKey = "replica-export.json";

    public const string Format = "replica dump archive";

    /// <summary>The archive format this replica writes and reads.</summary>
    public const int Version = 1;

    /// <summary>
    /// Writes complete dump <paramref name="name"/> of <paramref name="bridge"/> to <paramref name="output"/> as an
    /// archive, checking every chunk and chunk list against the manifest on the way (a damaged dump fails with
    /// <see cref="IntegrityException"/> instead of being shared). Memory: one chunk. Returns the dump's entry.
    /// <paramref name="accept"/> sees the manifest before anything is written, and throws to refuse the dump.
    /// </summary>
    public static async Task<DumpEntry> ExportAsync(ObjectBridge bridge, string name, Stream output, CancellationToken cancellationToken,
        Action<DumpManifest>? accept = null)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentNullException.ThrowIfNull(output);
        (DumpManifest manifest, ReadOnlyMemory<byte> json) = await bridge.ReadListedManifestAsync(name, cancellationToken).ConfigureAwait(false);
        accept?.Invoke(manifest);
        DumpEntry entry = ObjectBridge.EntryOf(manifest);
        DateTimeOffset created = DateTimeOffset.FromUnixTimeMilliseconds(manifest.CreatedAt);
        var header = new ArchiveHeader(Format, Version, name, manifest.CreatedAt, ToolInfo.Version);
        await using var tar = new TarWriter(output, TarEntryFormat.Ustar, leaveOpen: true);
        await WriteAsync(tar, HeaderKey, JsonSerializer.SerializeToUtf8Bytes(header, BridgeJsonContext.Default.ArchiveHeader), created, cancellationToken).ConfigureAwait(false);
        var index = new BridgeIndex { Dumps = [entry] };
        await WriteAsync(tar, ObjectBridge.IndexKey, JsonSerializer.SerializeToUtf8Bytes(index, BridgeJsonContext.Default.BridgeIndex), created, cancellationToken).ConfigureAwait(false);
        await WriteAsync(tar, ObjectBridge.ManifestKey(name), json, created, cancellationToken).ConfigureAwait(false);
        await foreach (ObjectBridge.DumpObject item in bridge.ReadDumpObjectsAsync(manifest, cancellationToken).ConfigureAwait(false))
        {
            await WriteAsync(tar, ObjectBridge.DumpPrefix(name) + item.Key, item.Data, created, cancellationToken).ConfigureAwait(false);
        }
        return entry;
    }

    static async Task WriteAsync(TarWriter tar, string key, ReadOnlyMemory<byte> data, DateTimeOffset modified, CancellationToken cancellationToken)
    {
        Stream content = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out ArraySegment<byte> array)
            ? new MemoryStream(array.Array!, array.Offset, array.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
        await using (content.ConfigureAwait(false))
        {
            var entry = new UstarTarEntry(TarEntryType.RegularFile, key)
            {
                DataStream = content,
                ModificationTime = modified,
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            };
            await tar.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Opens an archive for reading: a read-only bridge holding its one dump, and that dump's name. Fails with
    /// <see cref="BridgeException"/> when the file is not an archive replica can read (not a tar, not ours, a newer
    /// version, truncated, an entry outside the layout above).
    /// </summary>
    public static (ObjectBridge Bridge, string Name) Open(string path)
    {
        ArchiveStore store = ArchiveStore.Open(path);
        return (new ObjectBridge(store), store.DumpName);
    }
}

/// <summary>The first entry of a dump archive (<see cref="DumpArchive"/>).</summary>
internal sealed record ArchiveHeader(string Format, int Version, string Dump, long CreatedAt, string ToolVersion);

namespace Replica.Bridges;

/// <summary>
/// Where dumps are stored: a local directory or an S3 bucket. A dump is a folder of chunk objects, numbered by part and
/// by chunk inside the part, plus a manifest listing the parts in restore order; the bridge root holds index.json. A dump is listed only once every chunk and its manifest are stored.
/// </summary>
public interface IBridge
{
    /// <summary>A short description for messages, e.g. "local directory /srv/replica-bridge".</summary>
    string Description { get; }

    /// <summary>
    /// Starts writing a new dump. Fails with <see cref="BridgeException"/> when the name is taken or invalid.
    /// Disposing the writer without <see cref="IDumpWriter.CompleteAsync"/> abandons the dump and removes what it wrote.
    /// </summary>
    Task<IDumpWriter> BeginDumpAsync(string name, CancellationToken cancellationToken);

    /// <summary>The complete dumps, oldest first.</summary>
    Task<IReadOnlyList<DumpEntry>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The manifest of a complete dump, as stored (not yet checked against its tag, nor its index entry against it);
    /// <see cref="BridgeException"/> when there is no such complete dump.
    /// </summary>
    Task<DumpManifest> ReadManifestAsync(string name, CancellationToken cancellationToken);

    /// <summary>Reads one stored chunk (the bytes as stored, after codecs) into memory.</summary>
    Task<byte[]> ReadChunkAsync(string name, ChunkInfo chunk, CancellationToken cancellationToken);

    /// <summary>
    /// Reads one stored chunk into <paramref name="buffer"/> when it holds the chunk's size, else into a new array;
    /// returns the chunk's bytes. A reader that reuses one buffer per chunk in flight leaves no garbage per chunk (a
    /// new array per chunk is large-object-heap garbage that only a full collection frees: a restore with 8 MiB chunks
    /// and 4 workers peaked at 289 MiB that way).
    /// </summary>
    async Task<ReadOnlyMemory<byte>> ReadChunkAsync(string name, ChunkInfo chunk, byte[]? buffer, CancellationToken cancellationToken) =>
        await ReadChunkAsync(name, chunk, cancellationToken).ConfigureAwait(false);

    /// <summary>Removes a dump's chunks, manifest and index entry; touches no other dump.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken);
}

/// <summary>A bridge whose index.json can be recreated from the dumps' manifests (`replica index rebuild`).</summary>
public interface IIndexRebuild
{
    /// <summary>Lists every dump with a valid manifest as complete, in a new index.json; returns the entries.</summary>
    Task<IReadOnlyList<DumpEntry>> RebuildIndexAsync(CancellationToken cancellationToken);
}

/// <summary>A bridge that can remove what writers that died left behind (`replica delete --abandoned`).</summary>
public interface IAbandonedCleanup
{
    /// <summary>
    /// Removes every dump that is not listed and whose writer is gone: its .writing marker has not been refreshed for
    /// longer than <paramref name="staleAfter"/> (writers refresh it every minute or so while they work). Never removes
    /// a listed dump nor a live writer's; the names removed can be used again. With <paramref name="dryRun"/> only
    /// returns what it would remove. <see cref="ConfigException"/> when <paramref name="staleAfter"/> is too short to
    /// tell a dead writer from a live one.
    /// </summary>
    Task<IReadOnlyList<string>> DeleteAbandonedAsync(TimeSpan staleAfter, bool dryRun, CancellationToken cancellationToken);
}

/// <summary>
/// Writes one dump: a list of parts in restore order, each an ordered run of chunks (bridge format v2). Call
/// <see cref="BeginPart"/>, then write the part's chunks; the part ends where the next one begins, or at
/// <see cref="CompleteAsync"/>. A writer that writes chunks without beginning a part writes one part of kind
/// <see cref="PartKind.Stream"/>: a single-stream dump (a file, stdin, pg_dump, mysqldump).
/// </summary>
public interface IDumpWriter : IAsyncDisposable
{
    string Name { get; }

    /// <summary>
    /// Ends the current part (if any) and begins the next one; returns its index, which encrypting codecs bind into its
    /// chunks (<see cref="Codecs.IChunkCodec"/>'s part-aware Encode). <paramref name="table"/> names the table of a
    /// <see cref="PartKind.Data"/> part and must be null for the other kinds.
    /// </summary>
    int BeginPart(string kind, string? table = null);

    /// <summary>
    /// Stores the next chunk (bytes as they will be stored) with its SHA-256, which the caller computed while the bytes
    /// streamed in (hashing in a second pass at the end of each chunk would stall the pipeline). Chunks are numbered
    /// from 0 in call order within their part.
    /// </summary>
    Task WriteChunkAsync(ReadOnlyMemory<byte> chunk, ReadOnlyMemory<byte> sha256, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the next chunk of part <paramref name="part"/> (an index <see cref="BeginPart"/> returned). Writers that
    /// take several parts at once (the bridges' own, for replica dump --jobs) accept calls for different parts
    /// concurrently, each part's chunks one at a time in order; by default a writer takes one part at a time, and this
    /// stores the chunk in the part begun last.
    /// </summary>
    Task WriteChunkAsync(int part, ReadOnlyMemory<byte> chunk, ReadOnlyMemory<byte> sha256, CancellationToken cancellationToken) =>
        WriteChunkAsync(chunk, sha256, cancellationToken);

    /// <summary>Stores the next chunk, hashing it here.</summary>
    Task WriteChunkAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken) =>
        WriteChunkAsync(chunk, System.Security.Cryptography.SHA256.HashData(chunk.Span), cancellationToken);

    /// <summary>Writes the manifest, then lists the dump as complete in the index. Returns the index entry.</summary>
    Task<DumpEntry> CompleteAsync(DumpSummary summary, CancellationToken cancellationToken);
}

/// <summary>What the pipeline knows about a dump when it completes.</summary>
public sealed record DumpSummary(long SizeIn, string Source, bool Compressed, bool Encrypted)
{
    /// <summary>The compression codec's name ("zstd", "gzip"); null when not compressed.</summary>
    public string? Compression { get; init; }

    /// <summary>The encryption header (algorithm, KDF parameters, wrapped data keys: never a secret); null when not encrypted.</summary>
    public System.Text.Json.JsonElement? Encryption { get; init; }

    /// <summary>Bytes of SQL a restore writes (after masking, before compression); for restore progress.</summary>
    public long? SizePlain { get; init; }

    /// <summary>Tables whose data the dump holds, and its rows; for restore progress.</summary>
    public int? Tables { get; init; }

    public long? Rows { get; init; }

    /// <summary>
    /// Computes <see cref="DumpManifest.ChunksTag"/> from the finished manifest (an encrypted dump's codec, under its data
    /// key); null when the dump is not encrypted.
    /// </summary>
    public Func<DumpManifest, string>? AuthenticateChunks { get; init; }

    /// <summary>
    /// The manifest every bridge writes for a completed dump (bridge format v2, or v3 when a part has chunk lists):
    /// <paramref name="chunks"/> are the chunks of the parts without chunk lists, numbered by their position in the whole dump.
    /// </summary>
    public DumpManifest ToManifest(string name, long createdAt, long sizeOut, IReadOnlyList<ChunkInfo> chunks, IReadOnlyList<PartInfo> parts)
    {
        var manifest = new DumpManifest(name, createdAt, ToolInfo.Version, Source, SizeIn, sizeOut, Compressed, Encrypted, chunks)
        {
            // Version 3 only where it is needed: a dump without chunk lists stays readable by replicas that know version 2.
            Version = parts.Any(p => p.ChunkLists is not null) ? DumpManifest.ListsVersion : DumpManifest.PartsVersion,
            Parts = parts,
            Compression = Compression,
            Encryption = Encryption,
            SizePlain = SizePlain,
            Tables = Tables,
            Rows = Rows,
        };
        return AuthenticateChunks is null ? manifest : manifest with { ChunksTag = AuthenticateChunks(manifest) };
    }

    /// <summary>The index entry every bridge lists for a completed dump.</summary>
    public DumpEntry ToEntry(string name, long createdAt, long sizeOut, int chunkCount) =>
        new(name, DumpEntry.Complete, SizeIn, sizeOut, createdAt, Compressed, Encrypted, chunkCount);
}

/// <summary>
/// One entry of index.json: what a listed dump's manifest says about it (<c>ObjectBridge.EntryOf</c>), repeated so that
/// `replica list` and `--latest` need not read every manifest. Readers check it against the manifest
/// (<c>ObjectBridge.CheckListedEntry</c>), whose tag covers these fields in encrypted dumps of header version 4 on.
/// </summary>
public sealed record DumpEntry(
    string Name,
    string Status,
    long SizeIn,
    long SizeOut,
    long CreatedAt,
    bool Compressed,
    bool Encrypted,
    int ChunkCount)
{
    public const string Complete = "complete";
}

/// <summary>
/// One stored chunk, as the manifest lists it. <see cref="Index"/> is its position in the manifest's chunk list (the
/// whole dump, restore order); <see cref="Part"/> (bridge format v2) is the index of the part it belongs to, null in v1.
/// </summary>
public sealed record ChunkInfo(int Index, string Key, long Size, string Sha256)
{
    public int? Part { get; init; }

    /// <summary>How messages name the chunk: "part 1, chunk 5 (p000001-000002.chunk)"; "chunk 5 (000005.chunk)" in v1.</summary>
    public override string ToString() => Part is { } part ? $"part {part}, chunk {Index} ({Key})" : $"chunk {Index} ({Key})";

    /// <summary>
    /// Throws <see cref="IntegrityException"/> naming dump <paramref name="dumpName"/> and this chunk unless
    /// <paramref name="stored"/> has the manifest's size and SHA-256.
    /// </summary>
    internal void CheckStored(string dumpName, ReadOnlySpan<byte> stored)
    {
        if (stored.Length != Size)
        {
            BridgeThrow.ChunkIntegrity(dumpName, this, $"{stored.Length} bytes stored, the manifest says {Size}");
        }
        Span<byte> hash = stackalloc byte[System.Security.Cryptography.SHA256.HashSizeInBytes];
        System.Security.Cryptography.SHA256.HashData(stored, hash);
        string actual = Convert.ToHexStringLower(hash);
        if (!string.Equals(actual, Sha256, StringComparison.OrdinalIgnoreCase))
        {
            BridgeThrow.ChunkIntegrity(dumpName, this, $"SHA-256 is {actual}, the manifest says {Sha256}");
        }
    }
}

/// <summary>What a part of a dump holds (bridge format v2), as the manifest names it.</summary>
public static class PartKind
{
    /// <summary>A whole single-stream dump (a file, stdin, pg_dump, mysqldump): schema, data and all, as it came.</summary>
    public const string Stream = "stream";

    /// <summary>The schema that comes before the data (pg_dump --section=pre-data).</summary>
    public const string PreData = "pre-data";

    /// <summary>The rows of one table (<see cref="PartInfo.Table"/>).</summary>
    public const string Data = "data";

    /// <summary>What comes after the data: indexes, constraints, triggers (pg_dump --section=post-data).</summary>
    public const string PostData = "post-data";

    public static bool IsKnown(string? kind) => kind is Stream or PreData or Data or PostData;
}

/// <summary>
/// One part of a dump (bridge format v2): an ordered run of <see cref="ChunkCount"/> chunks of the manifest's chunk
/// list, those whose <see cref="ChunkInfo.Part"/> is <see cref="Index"/>. The manifest lists parts in restore order;
/// indices are distinct but need not follow that order, so writers on several machines can number their parts
/// independently (issue 10 §5). <see cref="Table"/> names a data part's table.
/// </summary>
public sealed record PartInfo(int Index, string Kind, int ChunkCount)
{
    public string? Table { get; init; }

    /// <summary>
    /// Bridge format v3: the objects that list this part's chunks, in order, when the part has more chunks than one list
    /// holds (<see cref="ObjectBridgeOptions.ChunkListLength"/>); its chunks are then not in manifest.json. Null when the
    /// manifest lists the part's chunks itself (every part of a v1 or v2 dump).
    /// </summary>
    public IReadOnlyList<ChunkListInfo>? ChunkLists { get; init; }

    /// <summary>How messages name the part: "part 1 (data public.orders)".</summary>
    public override string ToString() => Table is null ? $"part {Index} ({Kind})" : $"part {Index} ({Kind} {Table})";
}

/// <summary>
/// One stored list of a part's chunks (bridge format v3): an object in the dump's folder holding <see cref="ChunkCount"/>
/// chunk entries as a JSON array, each numbered by its position in the part; <see cref="Size"/> and
/// <see cref="Sha256"/> are the object's, checked before it is parsed. A writer keeps at most one list per part in
/// memory, so a dump of any size is written in bounded memory and its manifest stays small.
/// </summary>
public sealed record ChunkListInfo(string Key, int ChunkCount, long Size, string Sha256)
{
    public override string ToString() => $"chunk list {Key}";
}

/// <summary>
/// A dump's manifest: the source of truth for its chunks, written once after the last chunk. Version 1 (no "version"
/// field) lists one run of chunks; version 2 adds <see cref="Parts"/> and each chunk's part (see <see cref="PartsOf"/>);
/// version 3 stores the chunks of long parts in chunk lists of their own (<see cref="PartInfo.ChunkLists"/>), and is
/// written only by dumps that have such a part (so small dumps stay readable by replicas that know version 2). As a
/// bridge returns it, <see cref="Chunks"/> is always the whole dump's chunk list, the stored lists read and checked.
/// </summary>
public sealed record DumpManifest(
    string Name,
    long CreatedAt,
    string ToolVersion,
    string Source,
    long SizeIn,
    long SizeOut,
    bool Compressed,
    bool Encrypted,
    IReadOnlyList<ChunkInfo> Chunks)
{
    /// <summary>The compression codec's name ("zstd", "gzip"); null when not compressed.</summary>
    public string? Compression { get; init; }

    /// <summary>The encryption header needed to open the dump with the right key; null when not encrypted.</summary>
    public System.Text.Json.JsonElement? Encryption { get; init; }

    /// <summary>Bytes of SQL a restore writes; null in manifests of older versions.</summary>
    public long? SizePlain { get; init; }

    /// <summary>Tables with data and rows in the dump; null in manifests of older versions.</summary>
    public int? Tables { get; init; }

    public long? Rows { get; init; }

    /// <summary>The bridge format v1: one run of chunks, no parts.</summary>
    public const int StreamVersion = 1;

    /// <summary>The bridge format v2: a list of parts.</summary>
    public const int PartsVersion = 2;

    /// <summary>The bridge format v3: a list of parts, long ones with their chunks in chunk lists.</summary>
    public const int ListsVersion = 3;

    /// <summary>The bridge format as stored: absent (null) in version 1 manifests, 2 for dumps in parts; other values are refused when the manifest is read.</summary>
    public int? Version { get; init; }

    /// <summary>The bridge format: <see cref="Version"/>, 1 when absent.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int FormatVersion => Version ?? StreamVersion;

    /// <summary>Version 2: the parts in restore order; null in version 1.</summary>
    public IReadOnlyList<PartInfo>? Parts { get; init; }

    /// <summary>
    /// The parts in restore order; a version 1 manifest is one <see cref="PartKind.Stream"/> part of index 0 holding every
    /// chunk (its chunks are encrypted without a part).
    /// </summary>
    public IReadOnlyList<PartInfo> PartsOf() => Parts ?? [new PartInfo(0, PartKind.Stream, Chunks.Count)];

    /// <summary>
    /// Encrypted dumps: a tag under the dump's key over the chunk list (<see cref="AppendChunkList"/>), so that edits to
    /// the list are detected before any chunk is read; from encryption header version 4 on, over the dump's name,
    /// created_at and sizes too (<see cref="AppendEntry"/>, then the chunk list). Null when not encrypted, and in
    /// manifests written before it existed.
    /// </summary>
    public string? ChunksTag { get; init; }

    static readonly byte[] s_entryLabel = "replica manifest entry\0"u8.ToArray();

    /// <summary>
    /// Feeds the canonical bytes of what the dump's index entry repeats, and the manifest's other fields, into
    /// <paramref name="hash"/>, ahead of <see cref="AppendChunkList"/>: a label, <paramref name="tagVersion"/> (the
    /// encryption header's version, which chose this layout), then name, created_at, tool_version, source, size_in,
    /// size_out, the chunk count (the parts' counts added up: the same as written and as read), compressed, encrypted,
    /// compression, size_plain, tables and rows. Numbers are 64-bit big-endian, text UTF-8 with a 4-byte big-endian
    /// length, and each optional field a 0/1 presence number before its value, so two different manifests never give the
    /// same bytes. A dump copied under another name, or an index entry that claims another created_at or size than the
    /// manifest, is then told apart from the dump its key wrote.
    /// </summary>
    public void AppendEntry(System.Security.Cryptography.IncrementalHash hash, int tagVersion)
    {
        ArgumentNullException.ThrowIfNull(hash);
        Span<byte> number = stackalloc byte[sizeof(long)];
        hash.AppendData(s_entryLabel);
        AppendNumber(hash, number, tagVersion);
        AppendText(hash, Name);
        AppendNumber(hash, number, CreatedAt);
        AppendText(hash, ToolVersion);
        AppendText(hash, Source);
        AppendNumber(hash, number, SizeIn);
        AppendNumber(hash, number, SizeOut);
        AppendNumber(hash, number, PartsOf().Sum(p => (long)p.ChunkCount));
        AppendNumber(hash, number, Compressed ? 1 : 0);
        AppendNumber(hash, number, Encrypted ? 1 : 0);
        AppendNumber(hash, number, Compression is null ? 0 : 1);
        AppendText(hash, Compression ?? "");
        AppendOptional(hash, number, SizePlain);
        AppendOptional(hash, number, Tables);
        AppendOptional(hash, number, Rows);
    }

    static void AppendOptional(System.Security.Cryptography.IncrementalHash hash, Span<byte> buffer, long? value)
    {
        AppendNumber(hash, buffer, value is null ? 0 : 1);
        AppendNumber(hash, buffer, value ?? 0);
    }

    static readonly byte[] s_chunkListLabel = "replica manifest chunk list v1\0"u8.ToArray();
    static readonly byte[] s_partListLabel = "replica manifest part list v2\0"u8.ToArray();
    static readonly byte[] s_listedPartsLabel = "replica manifest listed parts v3\0"u8.ToArray();

    /// <summary>
    /// Feeds the canonical bytes of the chunk list into <paramref name="hash"/>: a label, the chunk count and size_out,
    /// then per chunk, in order, its index, key, size and SHA-256 text. Numbers are 64-bit big-endian and text is UTF-8
    /// with a 4-byte big-endian length before it, so two different lists never give the same bytes. Version 2 starts
    /// with another label and adds each chunk's part after its index, then the part count and per part its index, kind,
    /// whether it has a table and the table, and its chunk count: a manifest cannot be passed off as the other version,
    /// nor its parts reordered, relabelled or resized. Version 3 (a third label) covers what manifest.json holds: the
    /// chunks of parts without chunk lists as in version 2, and per part also its chunk lists (key, chunk count, size,
    /// SHA-256), whose hashes bind the chunks they list. It gives the same bytes for the manifest as written and as read
    /// (the chunks of listed parts are then in <see cref="Chunks"/> too, and are skipped here).
    /// </summary>
    public void AppendChunkList(System.Security.Cryptography.IncrementalHash hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        Span<byte> number = stackalloc byte[sizeof(long)];
        bool parts = FormatVersion >= PartsVersion;
        bool lists = FormatVersion >= ListsVersion;
        IReadOnlyList<PartInfo> partList = Parts ?? [];
        HashSet<int> listed = lists ? [.. partList.Where(p => p.ChunkLists is not null).Select(p => p.Index)] : [];
        hash.AppendData(lists ? s_listedPartsLabel : parts ? s_partListLabel : s_chunkListLabel);
        AppendNumber(hash, number, lists ? Chunks.Count(c => !listed.Contains(c.Part ?? -1)) : Chunks.Count);
        AppendNumber(hash, number, SizeOut);
        foreach (ChunkInfo chunk in Chunks)
        {
            if (lists && listed.Contains(chunk.Part ?? -1))
            {
                continue;
            }
            AppendNumber(hash, number, chunk.Index);
            if (parts)
            {
                AppendNumber(hash, number, chunk.Part ?? -1);
            }
            AppendText(hash, chunk.Key);
            AppendNumber(hash, number, chunk.Size);
            AppendText(hash, chunk.Sha256);
        }
        if (parts)
        {
            AppendNumber(hash, number, partList.Count);
            foreach (PartInfo part in partList)
            {
                AppendNumber(hash, number, part.Index);
                AppendText(hash, part.Kind);
                AppendNumber(hash, number, part.Table is null ? 0 : 1);
                AppendText(hash, part.Table ?? "");
                AppendNumber(hash, number, part.ChunkCount);
                if (lists)
                {
                    IReadOnlyList<ChunkListInfo> partLists = part.ChunkLists ?? [];
                    AppendNumber(hash, number, partLists.Count);
                    foreach (ChunkListInfo list in partLists)
                    {
                        AppendText(hash, list.Key);
                        AppendNumber(hash, number, list.ChunkCount);
                        AppendNumber(hash, number, list.Size);
                        AppendText(hash, list.Sha256);
                    }
                }
            }
        }
    }

    static void AppendNumber(System.Security.Cryptography.IncrementalHash hash, Span<byte> buffer, long value)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(buffer, value);
        hash.AppendData(buffer);
    }

    static void AppendText(System.Security.Cryptography.IncrementalHash hash, string text)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text);
        Span<byte> length = stackalloc byte[sizeof(int)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}

namespace Replica.Bridges;

/// <summary>
/// Where dumps are stored: a local directory now, an S3 bucket next. A dump is a folder of numbered chunk objects plus a
/// manifest; the bridge root holds index.json. A dump is listed only once every chunk and its manifest are stored.
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

    /// <summary>The manifest of a complete dump; <see cref="BridgeException"/> when there is no such complete dump.</summary>
    Task<DumpManifest> ReadManifestAsync(string name, CancellationToken cancellationToken);

    /// <summary>Reads one stored chunk (the bytes as stored, after codecs) into memory.</summary>
    Task<byte[]> ReadChunkAsync(string name, ChunkInfo chunk, CancellationToken cancellationToken);

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

/// <summary>Writes the chunks of one dump, in order.</summary>
public interface IDumpWriter : IAsyncDisposable
{
    string Name { get; }

    /// <summary>
    /// Stores the next chunk (bytes as they will be stored) with its SHA-256, which the caller computed while the bytes
    /// streamed in (hashing in a second pass at the end of each chunk would stall the pipeline). Chunks are numbered
    /// from 0 in call order.
    /// </summary>
    Task WriteChunkAsync(ReadOnlyMemory<byte> chunk, ReadOnlyMemory<byte> sha256, CancellationToken cancellationToken);

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

    /// <summary>The manifest every bridge writes for a completed dump.</summary>
    public DumpManifest ToManifest(string name, long createdAt, long sizeOut, IReadOnlyList<ChunkInfo> chunks)
    {
        var manifest = new DumpManifest(name, createdAt, ToolInfo.Version, Source, SizeIn, sizeOut, Compressed, Encrypted, chunks)
        {
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

/// <summary>One entry of index.json.</summary>
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

/// <summary>One stored chunk, as the manifest lists it.</summary>
public sealed record ChunkInfo(int Index, string Key, long Size, string Sha256);

/// <summary>A dump's manifest: the source of truth for its chunks, written once after the last chunk.</summary>
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

    /// <summary>
    /// Encrypted dumps: a tag under the dump's key over the chunk list (<see cref="AppendChunkList"/>), so that edits to
    /// the list are detected before any chunk is read. Null when not encrypted, and in manifests written before it existed.
    /// </summary>
    public string? ChunksTag { get; init; }

    static readonly byte[] s_chunkListLabel = "replica manifest chunk list v1\0"u8.ToArray();

    /// <summary>
    /// Feeds the canonical bytes of the chunk list into <paramref name="hash"/>: a label, the chunk count and size_out,
    /// then per chunk, in order, its index, key, size and SHA-256 text. Numbers are 64-bit big-endian and text is UTF-8
    /// with a 4-byte big-endian length before it, so two different lists never give the same bytes.
    /// </summary>
    public void AppendChunkList(System.Security.Cryptography.IncrementalHash hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        Span<byte> number = stackalloc byte[sizeof(long)];
        hash.AppendData(s_chunkListLabel);
        AppendNumber(hash, number, Chunks.Count);
        AppendNumber(hash, number, SizeOut);
        foreach (ChunkInfo chunk in Chunks)
        {
            AppendNumber(hash, number, chunk.Index);
            AppendText(hash, chunk.Key);
            AppendNumber(hash, number, chunk.Size);
            AppendText(hash, chunk.Sha256);
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

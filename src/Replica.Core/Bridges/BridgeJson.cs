using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Replica.Bridges;

/// <summary>The shape of index.json: {"version":1,"dumps":[...]}. Kept small: one entry per dump, no chunk lists.</summary>
internal sealed class BridgeIndex
{
    public const int CurrentVersion = 1;

    public int Version { get; set; } = CurrentVersion;

    /// <summary>
    /// One more at every write of index.json (<see cref="ObjectBridge.UpdateIndexAsync"/>), so that a write always
    /// changes its bytes, and with them its ETag (S3's is the MD5 of the bytes): a compare-and-swap based on an earlier
    /// read then fails even when nothing listed changed (`delete --abandoned` relies on it, see RemoveAbandonedAsync).
    /// Absent (0) in an index.json written before it; older replicas ignore it.
    /// </summary>
    public long Revision { get; set; }

    public List<DumpEntry> Dumps { get; set; } = [];

    public DumpEntry? Find(string name)
    {
        foreach (DumpEntry entry in Dumps)
        {
            if (string.Equals(entry.Name, name, StringComparison.Ordinal))
            {
                return entry;
            }
        }
        return null;
    }

    public bool Remove(string name)
    {
        // Exact, ordinal match: deleting "dump-1" must never touch "dump-10".
        return Dumps.RemoveAll(e => string.Equals(e.Name, name, StringComparison.Ordinal)) > 0;
    }
}

/// <summary>
/// snake_case, indented JSON for index.json and manifest.json, so a person can read them with `cat`. Missing required
/// fields and nulls in non-nullable fields are errors rather than silent defaults.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(BridgeIndex))]
[JsonSerializable(typeof(DumpManifest))]
[JsonSerializable(typeof(PartInfo))]
[JsonSerializable(typeof(ChunkInfo[]))]
[JsonSerializable(typeof(ArchiveHeader))]
[JsonSerializable(typeof(ShareObject))]
[JsonSerializable(typeof(SharedLink[]))]
internal sealed partial class BridgeJsonContext : JsonSerializerContext;

/// <summary>
/// Reads index.json and manifest.json for every bridge. They are files anyone with access to the bridge can edit, so what
/// System.Text.Json lets through (a null inside a list, a name that is a path) is checked here, once: a bad file is a
/// <see cref="BridgeException"/> (index) or <see cref="IntegrityException"/> (manifest) naming the file, never a crash later.
/// </summary>
internal static class BridgeJson
{
    // What JsonSerializer.SerializeToUtf8Bytes writes with the context's options, so both give the same bytes.
    static readonly JsonWriterOptions s_writerOptions = new()
    {
        Encoder = BridgeJsonContext.Default.Options.Encoder,
        Indented = BridgeJsonContext.Default.Options.WriteIndented,
        IndentCharacter = BridgeJsonContext.Default.Options.IndentCharacter,
        IndentSize = BridgeJsonContext.Default.Options.IndentSize,
        NewLine = BridgeJsonContext.Default.Options.NewLine,
        MaxDepth = BridgeJsonContext.Default.Options.MaxDepth,
        SkipValidation = true,
    };

    /// <summary>
    /// Writes <paramref name="value"/> into <paramref name="buffer"/>, byte for byte what SerializeToUtf8Bytes returns,
    /// for a caller that reuses its buffer rather than making a new array each time.
    /// </summary>
    public static void Write<T>(IBufferWriter<byte> buffer, T value, JsonTypeInfo<T> typeInfo)
    {
        using var writer = new Utf8JsonWriter(buffer, s_writerOptions);
        JsonSerializer.Serialize(writer, value, typeInfo);
    }

    /// <param name="where">The file as shown in messages: a path or an s3:// URL.</param>
    /// <param name="hint">Appended to messages about a broken index, e.g. how to rebuild it.</param>
    public static BridgeIndex ReadIndex(ReadOnlySpan<byte> json, string where, string hint = "")
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new BridgeException($"The index {where} is not valid: it is not UTF-8 text.{hint}");
        }
        BridgeIndex? index;
        try
        {
            index = System.Text.Json.JsonSerializer.Deserialize(json, BridgeJsonContext.Default.BridgeIndex);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new BridgeException($"The index {where} is not valid: {ex.Message}{hint}", ex);
        }
        if (index is null)
        {
            throw new BridgeException($"The index {where} is not valid: it holds null.{hint}");
        }
        if (index.Version != BridgeIndex.CurrentVersion)
        {
            throw new BridgeException(
                $"The index {where} has version {index.Version}; this replica reads version {BridgeIndex.CurrentVersion} only.");
        }
        for (int i = 0; i < index.Dumps.Count; i++)
        {
            DumpEntry? entry = index.Dumps[i];
            if (entry is null)
            {
                throw new BridgeException($"The index {where} is not valid: dumps[{i}] is null.{hint}");
            }
            if (!DumpName.IsValid(entry.Name, out string? problem))
            {
                // The name becomes a folder or key prefix: an edited "../x" must not lead outside the bridge.
                throw new BridgeException($"The index {where} is not valid: dumps[{i}] has an invalid name: {problem}.{hint}");
            }
        }
        return index;
    }

    /// <summary>The manifest of dump <paramref name="name"/>; it must name that dump and list its chunks in order.</summary>
    public static DumpManifest ReadManifest(ReadOnlySpan<byte> json, string name, string where)
    {
        // System.Text.Json checks UTF-8 only in the strings it decodes; the encryption header is kept as raw JSON and
        // decoded later, where invalid bytes would throw an InvalidOperationException.
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            BridgeThrow.DumpIntegrity(name, $"manifest {where} is not valid: it is not UTF-8 text");
        }
        DumpManifest? manifest = Parse(json, BridgeJsonContext.Default.DumpManifest, $"Dump '{name}': manifest {where}");
        if (manifest is null || manifest.Name != name)
        {
            BridgeThrow.DumpIntegrity(name, $"manifest {where} names dump '{manifest?.Name}'");
        }
        for (int i = 0; i < manifest.Chunks.Count; i++)
        {
            ChunkInfo? chunk = manifest.Chunks[i];
            if (chunk is null)
            {
                BridgeThrow.DumpIntegrity(name, $"manifest {where} is not valid: chunks[{i}] is null");
            }
            // A key names a file or object: a control character (a NUL above all) is refused by the file APIs with an
            // ArgumentException, not an I/O error.
            if (chunk.Key.AsSpan().ContainsAnyInRange('\0', '\x1f'))
            {
                BridgeThrow.DumpIntegrity(name, $"manifest {where} is not valid: the key of chunks[{i}] holds a control character");
            }
            // Checked here, once, for every reader of the manifest: `replica share` signs a link to each chunk's key
            // without reading it, and "../../team-b/x" in a link is another prefix's object once a client reads the URL.
            if (!ObjectBridge.IsPlainName(chunk.Key))
            {
                BridgeThrow.DumpIntegrity(name, $"manifest {where} is not valid: the key of chunks[{i}] ({chunk.Key}) is not a plain file name in the dump's folder");
            }
            // Nor the name of a bridge's own file: an import copies every chunk under its key, and "index.json" in the
            // dump's folder is the index of another bridge whose prefix is that folder (and makes the folder no dump's,
            // so it could never be deleted): found by review.
            if (!ObjectBridge.IsObjectName(chunk.Key))
            {
                BridgeThrow.DumpIntegrity(name, $"manifest {where} is not valid: the key of chunks[{i}] ({chunk.Key}) is the name of the bridge's own file");
            }
        }
        CheckParts(manifest, name, where);
        return manifest;
    }

    /// <summary>
    /// Version 1 has no parts; versions 2 and 3 list at least one, each of a known kind (a table for data parts only),
    /// with distinct indices, and the chunks of each part without chunk lists are the next run of the chunk list, each
    /// naming the part. Chunk lists are version 3's: a part that has them has its chunks in them alone (see
    /// <see cref="CheckChunkLists"/>). Any other version was written by a newer replica.
    /// </summary>
    static void CheckParts(DumpManifest manifest, string name, string where)
    {
        if (manifest.FormatVersion is not (DumpManifest.StreamVersion or DumpManifest.PartsVersion or DumpManifest.ListsVersion))
        {
            throw new BridgeException(
                $"Dump '{name}': manifest {where} has bridge format version {manifest.Version}; this replica reads versions "
                + $"{DumpManifest.StreamVersion} to {DumpManifest.ListsVersion}. It was written by a newer replica: upgrade to read it.");
        }
        if (manifest.FormatVersion == DumpManifest.StreamVersion)
        {
            if (manifest.Parts is not null || manifest.Chunks.Any(c => c.Part is not null))
            {
                BridgeThrow.DumpIntegrity(name, $"manifest {where} is not valid: it has parts but no \"version\": {DumpManifest.PartsVersion}");
            }
            return;
        }
        if (manifest.Parts is not { Count: > 0 } parts)
        {
            BridgeThrow.DumpIntegrity(name, $"manifest {where} is not valid: version {manifest.FormatVersion} needs a non-empty list of parts");
            return;
        }
        var seen = new HashSet<int>();
        int next = 0;
        for (int p = 0; p < parts.Count; p++)
        {
            PartInfo? part = parts[p];
            string problem = part is null ? "is null"
                : part.Index < 0 || !seen.Add(part.Index) ? $"has index {part.Index}, negative or used twice"
                : !PartKind.IsKnown(part.Kind) ? $"has an unknown kind '{part.Kind}'"
                : (part.Kind == PartKind.Data) != (part.Table is not null) ? "must name a table if and only if it is a data part"
                : part.Table is { } table && (table.Length == 0 || table.AsSpan().ContainsAnyInRange('\0', '\x1f')) ? "has an empty table name or one with a control character"
                : part.ChunkLists is { } lists ? CheckChunkLists(manifest, part, lists)
                : part.ChunkCount < 0 || part.ChunkCount > manifest.Chunks.Count - next ? $"has {part.ChunkCount} chunks, more than the chunk list has left"
                : "";
            if (problem.Length > 0)
            {
                BridgeThrow.DumpIntegrity(name, $"manifest {where} is not valid: parts[{p}] {problem}");
            }
            if (part!.ChunkLists is not null)
            {
                continue;
            }
            for (int c = next; c < next + part.ChunkCount; c++)
            {
                if (manifest.Chunks[c].Part != part.Index)
                {
                    BridgeThrow.DumpIntegrity(name,
                        $"manifest {where} is not valid: chunks[{c}] should be in {part}, yet it names part {manifest.Chunks[c].Part?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
                }
            }
            next += part.ChunkCount;
        }
        if (next != manifest.Chunks.Count)
        {
            BridgeThrow.DumpIntegrity(name, $"manifest {where} is not valid: its parts hold {next} chunks, its chunk list {manifest.Chunks.Count}");
        }
    }

    /// <summary>
    /// What is wrong with a part's chunk lists ("" when nothing): they are version 3's, at least one, each named by a
    /// key without control characters, of 1 to <see cref="ObjectBridgeOptions.MaxChunkListLength"/> chunks, at most
    /// <see cref="MaxChunkListBytes"/> long (read whole: the bound keeps an edited manifest from making us allocate
    /// more), with a SHA-256 in hex; together they hold the part's chunks.
    /// </summary>
    static string CheckChunkLists(DumpManifest manifest, PartInfo part, IReadOnlyList<ChunkListInfo> lists)
    {
        if (manifest.FormatVersion < DumpManifest.ListsVersion)
        {
            return $"has chunk lists, which need \"version\": {DumpManifest.ListsVersion}";
        }
        if (lists.Count == 0)
        {
            return "has an empty list of chunk lists";
        }
        long chunks = 0;
        for (int l = 0; l < lists.Count; l++)
        {
            string problem = lists[l] is not { } list ? "is null"
                : list.Key.Length == 0 || list.Key.AsSpan().ContainsAnyInRange('\0', '\x1f') ? "has an empty key or one with a control character"
                : list.ChunkCount is < 1 or > ObjectBridgeOptions.MaxChunkListLength ? $"has {list.ChunkCount} chunks, not 1 to {ObjectBridgeOptions.MaxChunkListLength}"
                : list.Size is < 1 or > MaxChunkListBytes ? $"has a size of {list.Size} bytes, not 1 to {MaxChunkListBytes}"
                : !IsSha256Text(list.Sha256) ? "has a SHA-256 that is not 64 lowercase hex digits"
                : "";
            if (problem.Length > 0)
            {
                return $"chunk_lists[{l}] {problem}";
            }
            chunks += lists[l].ChunkCount;
        }
        return chunks == part.ChunkCount ? "" : $"has {part.ChunkCount} chunks, its chunk lists {chunks}";
    }

    /// <summary>A dump's JSON object; what System.Text.Json refuses is an <see cref="IntegrityException"/> naming it (<paramref name="what"/>).</summary>
    static T? Parse<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(json, type);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new IntegrityException($"{what} is not valid: {ex.Message}", ex);
        }
    }

    /// <summary>A SHA-256 as replica writes it in manifests and chunk lists: 64 lowercase hex digits.</summary>
    internal static bool IsSha256Text(string text) => text.Length == 64 && text.All(char.IsAsciiHexDigitLower);

    /// <summary>The longest chunk list a reader takes: the most entries at 512 bytes each (they take about 200).</summary>
    public const long MaxChunkListBytes = ObjectBridgeOptions.MaxChunkListLength * 512L;

    /// <summary>
    /// The entries of a chunk list of <paramref name="part"/> (bridge format v3) whose first is chunk
    /// <paramref name="first"/> of the part: <paramref name="count"/> of them, numbered <paramref name="first"/>,
    /// <paramref name="first"/> + 1, ... within the part, each naming the part, with a key without control characters.
    /// </summary>
    public static ChunkInfo[] ReadChunkList(ReadOnlySpan<byte> json, string name, string where, PartInfo part, int first, int count)
    {
        ChunkInfo[]? chunks = Parse(json, BridgeJsonContext.Default.ChunkInfoArray, $"Dump '{name}', {part}: chunk list {where}");
        if (chunks is null || chunks.Length != count)
        {
            BridgeThrow.DumpIntegrity(name, $"{part}: chunk list {where} holds {chunks?.Length ?? 0} chunks, the manifest says {count}");
        }
        for (int i = 0; i < chunks.Length; i++)
        {
            string problem = chunks[i] is not { } chunk ? "is null"
                : chunk.Index != first + i ? $"is numbered {chunk.Index}, not {first + i}"
                : chunk.Part != part.Index ? $"names part {chunk.Part?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}"
                : chunk.Key.AsSpan().ContainsAnyInRange('\0', '\x1f') ? "has a key with a control character"
                : "";
            if (problem.Length > 0)
            {
                BridgeThrow.DumpIntegrity(name, $"{part}: chunk list {where} is not valid: entry {i} {problem}");
            }
        }
        return chunks;
    }
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Replica.Bridges;
using Replica.Codecs.Encryption;
using Replica.Config;
using Replica.Destinations;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Bridges;

/// <summary>
/// Bridge format v3: a part with more chunks than a chunk list holds has its chunk entries stored in chunk lists as it
/// grows (the writer keeps at most one list per part in memory), the manifest naming each list with its size and
/// SHA-256. Here a list holds 2 chunks, so a dump of a few 256-byte chunks has them.
/// </summary>
public sealed class ChunkListTests : IDisposable
{
    const string Name = "listed";
    const int ChunkSize = 256;
    const int ListLength = 2;
    static readonly string s_key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray());

    // Part 0: 5 chunks (lists of 2, 2, 1); part 1: 2 (one full list); part 2: 1 chunk, part 3: none (plain) or one
    // sealed empty chunk (encrypted): both in manifest.json.
    static readonly (string Kind, string? Table, byte[] Data)[] s_parts =
    [
        (PartKind.PreData, null, Text("CREATE TABLE a (id int);\n", 5 * ChunkSize - 10)),
        (PartKind.Data, "public.a", Text("COPY public.a (id) FROM stdin;\n", 2 * ChunkSize)),
        (PartKind.Data, "public.b", Text("COPY public.b (id) FROM stdin;\n", 100)),
        (PartKind.PostData, null, []),
    ];

    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;

    public ChunkListTests()
    {
        _bridge = new LocalBridge(_dir.Path, new LocalBridgeOptions { ChunkListLength = ListLength });
    }

    public void Dispose() => _dir.Dispose();

    static byte[] Text(string start, int length)
    {
        var text = new StringBuilder(start);
        for (int i = 0; text.Length < length; i++)
        {
            text.Append(length).Append(' ').Append(i).Append('\n');
        }
        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }

    static byte[] AllParts => [.. s_parts.SelectMany(p => p.Data)];

    static BridgeConfig ConfigNamed(string config) => BridgeConfigNamed(config, ChunkSize, s_key);

    string ManifestPath => _dir.Combine(Name, ObjectBridge.ManifestName);

    string ListPath(int part, int list) => _dir.Combine(Name, ObjectBridge.ChunkListKey(part, list));

    async Task<IntegrityException> RestoreFailsAsync(BridgeConfig config, string output)
    {
        var ex = await Assert.ThrowsAsync<IntegrityException>(async () =>
        {
            await using var destination = new FileDestination(output);
            await RestoreJob.RunAsync(_bridge, Name, destination, config, CancellationToken.None);
        });
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.EnumerateFiles(_dir.Path, "*.partial", SearchOption.TopDirectoryOnly));
        return ex;
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("encrypted")]
    [InlineData("zstd+encrypted")]
    public async Task CompleteAsync_PartsLongerThanAList_StoresTheirChunksInListsAndRestoresTheSameBytes(string config)
    {
        DumpEntry entry = await WritePartsAsync(_bridge, Name, ConfigNamed(config), s_parts);
        string output = _dir.Combine("restored.sql");

        // As stored: version 3, the long parts' chunks in their lists, only the short parts' chunks in manifest.json.
        var stored = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
        Assert.Equal(3, (int)stored["version"]!);
        int[] ListCounts(int part) => [.. stored["parts"]![part]!["chunk_lists"]?.AsArray().Select(l => (int)l!["chunk_count"]!) ?? []];
        Assert.Equal([2, 2, 1], ListCounts(0));
        Assert.Equal([2], ListCounts(1));
        Assert.Empty(ListCounts(2));
        Assert.Equal(
            ["p000000-list000000.json", "p000000-list000001.json", "p000000-list000002.json"],
            stored["parts"]![0]!["chunk_lists"]!.AsArray().Select(l => (string)l!["key"]!));
        int sealedEmpty = config == "plain" ? 0 : 1;
        Assert.Equal(
            [(7, "p000002-000000.chunk"), .. Enumerable.Repeat((8, "p000003-000000.chunk"), sealedEmpty)],
            stored["chunks"]!.AsArray().Select(c => ((int)c!["index"]!, (string)c["key"]!)));
        Assert.True(File.Exists(ListPath(0, 2)));

        // As read: the whole chunk list, in restore order, numbered through the dump.
        DumpManifest manifest = await _bridge.ReadManifestAsync(Name, CancellationToken.None);
        Assert.Equal(8 + sealedEmpty, manifest.Chunks.Count);
        Assert.Equal(Enumerable.Range(0, manifest.Chunks.Count), manifest.Chunks.Select(c => c.Index));
        Assert.Equal(
            ["p000000-000000.chunk", "p000000-000001.chunk", "p000000-000002.chunk", "p000000-000003.chunk", "p000000-000004.chunk",
             "p000001-000000.chunk", "p000001-000001.chunk", "p000002-000000.chunk", .. Enumerable.Repeat("p000003-000000.chunk", sealedEmpty)],
            manifest.Chunks.Select(c => c.Key));
        Assert.Equal(manifest.Chunks.Count, entry.ChunkCount);

        await using (var destination = new FileDestination(output))
        {
            await RestoreJob.RunAsync(_bridge, Name, destination, ConfigNamed(config), CancellationToken.None);
        }
        VerifiedDump verified = await RestoreJob.VerifyAsync(_bridge, Name, ConfigNamed(config), CancellationToken.None);
        Assert.Equal(AllParts, File.ReadAllBytes(output));
        Assert.Equal(manifest.Chunks.Count, verified.ChunkCount);
        Assert.Equal(4, verified.PartCount);
        Assert.Equal(config == "plain" ? ManifestAuthentication.NotEncrypted : ManifestAuthentication.AuthenticatedWithEntry, verified.Manifest);
    }

    [Fact]
    public void Write_ChunkList_SameBytesAsSerializeToUtf8Bytes()
    {
        // The writer serializes chunk lists into a reused buffer: the bytes (and so their SHA-256 in the manifest)
        // must be what a fresh serialization gives, escapes included.
        ChunkInfo[] list = [.. Enumerable.Range(0, 300).Select(i =>
            new ChunkInfo(i, ObjectBridge.ChunkKey(1, i), 4_000_000 + i, Convert.ToHexStringLower(new byte[32].Select(b => (byte)i).ToArray())) { Part = 1 })];
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();

        BridgeJson.Write(buffer, list[..10], BridgeJsonContext.Default.ChunkInfoArray);
        buffer.ResetWrittenCount();
        BridgeJson.Write(buffer, list, BridgeJsonContext.Default.ChunkInfoArray);

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(list, BridgeJsonContext.Default.ChunkInfoArray), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task CompleteAsync_SingleStreamOfSevenChunks_ListsThemAllAndKeepsNoneInTheManifest()
    {
        await WriteDumpAsync(_bridge, Name, Bytes(7 * ChunkSize - 3), ChunkSize);

        var stored = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();

        Assert.Empty(stored["chunks"]!.AsArray());
        Assert.Equal([2, 2, 2, 1], stored["parts"]![0]!["chunk_lists"]!.AsArray().Select(l => (int)l!["chunk_count"]!));
        Assert.Equal(Bytes(7 * ChunkSize - 3), await RestoreAsync(_bridge, Name));
    }

    [Fact]
    public async Task CompleteAsync_PartShorterThanAList_WritesVersion2AsBefore_AFullListIsStoredAsItFills()
    {
        await WriteDumpAsync(_bridge, Name, Bytes(ChunkSize - 1), ChunkSize);
        var shorter = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
        await _bridge.DeleteAsync(Name, CancellationToken.None);
        await WriteDumpAsync(_bridge, Name, Bytes(2 * ChunkSize), ChunkSize);
        var full = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();

        Assert.Equal(2, (int)shorter["version"]!);
        Assert.Null(shorter["parts"]![0]!["chunk_lists"]);
        Assert.Single(shorter["chunks"]!.AsArray());
        Assert.Equal(3, (int)full["version"]!);
        Assert.Equal(2, (int)full["parts"]![0]!["chunk_lists"]![0]!["chunk_count"]!);
        Assert.Empty(full["chunks"]!.AsArray());
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("encrypted")]
    public async Task RunAsync_ChunkListEdited_FailsNamingTheListAndWritesNothing(string config)
    {
        await WritePartsAsync(_bridge, Name, ConfigNamed(config), s_parts);
        // Chunk 1's entry points at chunk 0's object: a restore from this list would repeat chunk 0.
        var list = JsonNode.Parse(File.ReadAllText(ListPath(0, 0)))!.AsArray();
        list[1]!["key"] = "p000000-000000.chunk";
        list[1]!["sha256"] = (string)list[0]!["sha256"]!;
        File.WriteAllText(ListPath(0, 0), list.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        var restore = await RestoreFailsAsync(ConfigNamed(config), _dir.Combine("restored.sql"));
        var verify = await Assert.ThrowsAsync<IntegrityException>(
            () => RestoreJob.VerifyAsync(_bridge, Name, ConfigNamed(config), CancellationToken.None));

        foreach (var ex in new[] { restore, verify })
        {
            Assert.Contains($"Dump '{Name}': part 0 (pre-data): '{ListPath(0, 0)}' has", ex.Message);
            Assert.Contains("the manifest says", ex.Message);
        }
    }

    [Fact]
    public async Task RunAsync_ChunkListMissing_FailsNamingIt()
    {
        await WritePartsAsync(_bridge, Name, ConfigNamed("plain"), s_parts);
        File.Delete(ListPath(1, 0));

        var ex = await RestoreFailsAsync(ConfigNamed("plain"), _dir.Combine("restored.sql"));

        Assert.Contains($"Dump '{Name}', part 1 (data public.a): chunk list p000001-list000000.json is missing", ex.Message);
    }

    [Fact]
    public async Task RunAsync_EncryptedChunkListEditedWithManifestFollowing_FailsTheManifestsTag()
    {
        // Someone without the key edits a list and makes the manifest's size and hash of it match: the chunks tag,
        // which covers every list's hash, no longer does.
        await WritePartsAsync(_bridge, Name, ConfigNamed("encrypted"), s_parts);
        var list = JsonNode.Parse(File.ReadAllText(ListPath(0, 0)))!.AsArray();
        list[1]!["sha256"] = (string)list[0]!["sha256"]!;
        byte[] edited = Encoding.UTF8.GetBytes(list.ToJsonString());
        File.WriteAllBytes(ListPath(0, 0), edited);
        var manifest = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
        var reference = manifest["parts"]![0]!["chunk_lists"]![0]!;
        reference["size"] = edited.Length;
        reference["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(edited));
        File.WriteAllText(ManifestPath, manifest.ToJsonString());

        var ex = await RestoreFailsAsync(ConfigNamed("encrypted"), _dir.Combine("restored.sql"));

        Assert.Contains("does not match its chunks_tag", ex.Message);
    }

    [Fact]
    public async Task ReadManifestAsync_Version2WithChunkLists_IsRefused()
    {
        await WritePartsAsync(_bridge, Name, ConfigNamed("plain"), s_parts);
        var manifest = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
        manifest["version"] = 2;
        File.WriteAllText(ManifestPath, manifest.ToJsonString());

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => _bridge.ReadManifestAsync(Name, CancellationToken.None));

        Assert.Contains("parts[0] has chunk lists, which need \"version\": 3", ex.Message);
    }

    [Theory]
    [InlineData("chunk_count", 3, "has 5 chunks, its chunk lists 6")]
    [InlineData("size", 1L << 40, "not 1 to 33554432")]
    [InlineData("key", "../../escape.json", "is not a plain file name")]
    [InlineData("sha256", "ABC", "64 lowercase hex digits")]
    public async Task ReadManifestAsync_ChunkListReferenceEdited_IsRefusedBeforeAnythingIsRead(string field, object value, string message)
    {
        await WritePartsAsync(_bridge, Name, ConfigNamed("plain"), s_parts);
        var manifest = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
        manifest["parts"]![0]!["chunk_lists"]![0]![field] = JsonValue.Create(value);
        File.WriteAllText(ManifestPath, manifest.ToJsonString());

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => _bridge.ReadManifestAsync(Name, CancellationToken.None));

        Assert.Contains(message, ex.Message);
    }

    [Theory]
    [InlineData("list", "key", "p000000-000003.chunk", "part 0 (pre-data): chunk 1 in chunk list")]
    [InlineData("list", "sha256", "UPPER", "64 lowercase hex digits")]
    [InlineData("manifest", "key", "p000002-000001.chunk", "part 2 (data public.b): chunk 0 in the manifest has the key p000002-000001.chunk, not p000002-000000.chunk")]
    [InlineData("manifest", "index", 3, "the manifest lists chunk 3 (p000002-000000.chunk) at position 7")]
    public async Task ReadManifestAsync_ChunkNotAsTheWriterNamesIt_IsRefused(string where, string field, object value, string message)
    {
        // In version 3 every chunk has the key its part and number give: the reader keeps only those numbers.
        await WritePartsAsync(_bridge, Name, ConfigNamed("plain"), s_parts);
        if (where == "list")
        {
            var list = JsonNode.Parse(File.ReadAllText(ListPath(0, 0)))!.AsArray();
            list[1]![field] = value is "UPPER" ? ((string)list[1]!["sha256"]!).ToUpperInvariant() : JsonValue.Create(value);
            byte[] edited = Encoding.UTF8.GetBytes(list.ToJsonString());
            File.WriteAllBytes(ListPath(0, 0), edited);
            var manifest = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
            manifest["parts"]![0]!["chunk_lists"]![0]!["size"] = edited.Length;
            manifest["parts"]![0]!["chunk_lists"]![0]!["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(edited));
            File.WriteAllText(ManifestPath, manifest.ToJsonString());
        }
        else
        {
            var manifest = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
            manifest["chunks"]![0]![field] = JsonValue.Create(value);
            File.WriteAllText(ManifestPath, manifest.ToJsonString());
        }

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => _bridge.ReadManifestAsync(Name, CancellationToken.None));

        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public async Task RebuildIndexAsync_DumpWithChunkLists_ListsItWithEveryChunk()
    {
        DumpEntry written = await WritePartsAsync(_bridge, Name, ConfigNamed("plain"), s_parts);
        File.Delete(_dir.Combine(ObjectBridge.IndexKey));

        IReadOnlyList<DumpEntry> rebuilt = await _bridge.RebuildIndexAsync(CancellationToken.None);

        Assert.Equal(written, Assert.Single(rebuilt));
        Assert.Equal(8, written.ChunkCount);
    }

    [Fact]
    public async Task DisposeAsync_WriterAbandonedAfterAList_RemovesTheListsWithTheChunks()
    {
        await using (IDumpWriter writer = await _bridge.BeginDumpAsync(Name, CancellationToken.None))
        {
            for (int i = 0; i < 3; i++)
            {
                await writer.WriteChunkAsync(Bytes(ChunkSize, i), CancellationToken.None);
            }
            Assert.True(File.Exists(ListPath(0, 0)));
        }

        Assert.False(Directory.Exists(_dir.Combine(Name)));
        Assert.Empty(await _bridge.ListAsync(CancellationToken.None));
    }
}

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
/// Bridge format v2: a dump is a list of parts (pre-data, data of one table, post-data; or one stream), listed in restore
/// order in the manifest, each with its own chunks; encryption binds the part into every chunk.
/// </summary>
public sealed class DumpPartsTests : IDisposable
{
    const string Name = "parted";
    const int ChunkSize = 256;
    static readonly string s_key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;

    public DumpPartsTests()
    {
        _bridge = new LocalBridge(_dir.Path);
    }

    public void Dispose() => _dir.Dispose();

    static readonly (string Kind, string? Table, byte[] Data)[] s_parts =
    [
        (PartKind.PreData, null, Sql("CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n", 3 * ChunkSize)),
        (PartKind.Data, "public.a", Sql("COPY public.a (id) FROM stdin;\n", 3 * ChunkSize)),
        (PartKind.Data, "public.b", []),
        (PartKind.PostData, null, Sql("ALTER TABLE a ADD PRIMARY KEY (id);\n", 100)),
    ];

    /// <summary>Text of exactly <paramref name="length"/> bytes (a distinct run of lines per call).</summary>
    static byte[] Sql(string start, int length)
    {
        var text = new StringBuilder(start);
        for (int i = 0; text.Length < length; i++)
        {
            text.Append(length).Append('\t').Append(i).Append('\n');
        }
        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }

    static byte[] AllParts => [.. s_parts.SelectMany(p => p.Data)];

    static BridgeConfig ConfigNamed(string config) => BridgeConfigNamed(config, ChunkSize, s_key);

    string ChunkPath(int part, int chunk) => _dir.Combine(Name, ObjectBridge.ChunkKey(part, chunk));

    [Fact]
    public async Task CompleteAsync_SeveralParts_ManifestListsThemInOrderWithKeysPerPart()
    {
        await WritePartsAsync(_bridge, Name, ConfigNamed("plain"), s_parts);

        DumpManifest manifest = await _bridge.ReadManifestAsync(Name, CancellationToken.None);

        Assert.Equal(DumpManifest.PartsVersion, manifest.Version);
        Assert.Equal(
            ["part 0 (pre-data)", "part 1 (data public.a)", "part 2 (data public.b)", "part 3 (post-data)"],
            manifest.Parts!.Select(p => p.ToString()));
        Assert.Equal([3, 3, 0, 1], manifest.Parts!.Select(p => p.ChunkCount));
        Assert.Equal(
            ["p000000-000000.chunk", "p000000-000001.chunk", "p000000-000002.chunk", "p000001-000000.chunk",
             "p000001-000001.chunk", "p000001-000002.chunk", "p000003-000000.chunk"],
            manifest.Chunks.Select(c => c.Key));
        Assert.Equal([0, 0, 0, 1, 1, 1, 3], manifest.Chunks.Select(c => c.Part!.Value));
        Assert.Equal(Enumerable.Range(0, 7), manifest.Chunks.Select(c => c.Index));
    }

    [Fact]
    public async Task CompleteAsync_SingleStream_IsOneStreamPart()
    {
        await WriteDumpAsync(_bridge, Name, Bytes(700), ChunkSize);

        DumpManifest manifest = await _bridge.ReadManifestAsync(Name, CancellationToken.None);

        PartInfo part = Assert.Single(manifest.Parts!);
        Assert.Equal(new PartInfo(0, PartKind.Stream, 3), part);
        Assert.All(manifest.Chunks, c => Assert.Equal(0, c.Part));
        Assert.Equal(Bytes(700), await RestoreAsync(_bridge, Name));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("encrypted")]
    [InlineData("zstd+encrypted")]
    public async Task RunAsync_MultiPartDumpToOutputFile_WritesThePartsConcatenatedInOrder(string config)
    {
        await WritePartsAsync(_bridge, Name, ConfigNamed(config), s_parts);
        string output = _dir.Combine("restored.sql");

        await using var destination = new FileDestination(output);
        (_, long bytes) = await RestoreJob.RunAsync(_bridge, Name, destination, ConfigNamed(config), CancellationToken.None);
        VerifiedDump verified = await RestoreJob.VerifyAsync(_bridge, Name, ConfigNamed(config), CancellationToken.None);

        Assert.Equal(AllParts, File.ReadAllBytes(output));
        Assert.Equal(AllParts.Length, bytes);
        Assert.Equal(AllParts.Length, verified.Bytes);
        // Encrypted: every part ends with a sealed chunk, so the empty part has one (empty) chunk.
        Assert.Equal(config == "plain" ? 7 : 8, verified.ChunkCount);
        Assert.Equal(4, verified.PartCount);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("encrypted")]
    public async Task RunAsync_ChunkMovedToAnotherPart_FailsNamingPartAndChunkAndWritesNothing(string config)
    {
        await WritePartsAsync(_bridge, Name, ConfigNamed(config), s_parts);
        // Chunk 1 of part 1 takes the place of chunk 1 of part 0 (same size).
        File.Move(ChunkPath(1, 1), ChunkPath(0, 1), overwrite: true);
        string output = _dir.Combine("restored.sql");

        var restore = await Assert.ThrowsAsync<IntegrityException>(async () =>
        {
            await using var destination = new FileDestination(output);
            await RestoreJob.RunAsync(_bridge, Name, destination, ConfigNamed(config), CancellationToken.None);
        });
        var verify = await Assert.ThrowsAsync<IntegrityException>(
            () => RestoreJob.VerifyAsync(_bridge, Name, ConfigNamed(config), CancellationToken.None));

        foreach (var ex in new[] { restore, verify })
        {
            Assert.Contains($"Dump '{Name}', part 0, chunk 1 (p000000-000001.chunk): SHA-256", ex.Message);
        }
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.EnumerateFiles(_dir.Path, "*.partial", SearchOption.TopDirectoryOnly));
    }

    [Fact]
    public async Task RunAsync_EncryptedChunkMovedToAnotherPartWithManifestForged_FailsAuthenticationOfThePart()
    {
        // Someone holding the key rewrites the manifest so that the moved chunk's hash and the chunk list tag match:
        // the chunk's own authentication still knows it belongs to part 1.
        await WritePartsAsync(_bridge, Name, ConfigNamed("encrypted"), s_parts);
        File.Move(ChunkPath(1, 1), ChunkPath(0, 1), overwrite: true);
        string manifestPath = _dir.Combine(Name, ObjectBridge.ManifestName);
        DumpManifest manifest = BridgeJson.ReadManifest(File.ReadAllBytes(manifestPath), Name, manifestPath);
        var chunks = manifest.Chunks.ToArray();
        chunks[1] = chunks[1] with { Sha256 = chunks[4].Sha256, Size = chunks[4].Size };
        var forged = manifest with { Chunks = chunks, ChunksTag = null };
        var header = EncryptionHeader.Parse(manifest.Encryption!.Value.GetRawText());
        using (var keys = new EncryptionKeys().AddRawKeyBase64(s_key, "test"))
        using (AesGcmChunkCodec aes = DumpEncryption.Open(header, keys))
        {
            forged = forged with { ChunksTag = aes.ManifestTag(hash => Replica.Pipeline.BridgeCodecs.AppendTagged(forged, header.Version, hash)) };
        }
        File.WriteAllBytes(manifestPath, JsonSerializer.SerializeToUtf8Bytes(forged, BridgeJsonContext.Default.DumpManifest));
        string output = _dir.Combine("restored.sql");

        var ex = await Assert.ThrowsAsync<IntegrityException>(async () =>
        {
            await using var destination = new FileDestination(output);
            await RestoreJob.RunAsync(_bridge, Name, destination, ConfigNamed("encrypted"), CancellationToken.None);
        });

        Assert.Contains($"Dump '{Name}', part 0 (pre-data), chunk 1 (p000000-000001.chunk)", ex.Message);
        Assert.Contains("not chunk 1 of part 0", ex.Message);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.EnumerateFiles(_dir.Path, "*.partial", SearchOption.TopDirectoryOnly));
    }

    [Fact]
    public async Task VerifyAsync_ManifestOfUnknownVersion_RefusedSayingANewerReplicaWroteIt()
    {
        await WritePartsAsync(_bridge, Name, ConfigNamed("plain"), s_parts);
        string manifestPath = _dir.Combine(Name, ObjectBridge.ManifestName);
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        manifest["version"] = 4;
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        var ex = await Assert.ThrowsAsync<BridgeException>(() => RestoreJob.VerifyAsync(_bridge, Name, ConfigNamed("plain"), CancellationToken.None));

        Assert.Contains("bridge format version 4", ex.Message);
        Assert.Contains("reads versions 1 to 3", ex.Message);
        Assert.Contains("upgrade", ex.Message);
    }

    [Fact]
    public async Task VerifyAsync_ManifestPartsNotMatchingTheirChunks_FailsNamingThePart()
    {
        await WritePartsAsync(_bridge, Name, ConfigNamed("plain"), s_parts);
        string manifestPath = _dir.Combine(Name, ObjectBridge.ManifestName);
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        manifest["parts"]![0]!["chunk_count"] = 2;
        File.WriteAllText(manifestPath, manifest.ToJsonString());

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RestoreJob.VerifyAsync(_bridge, Name, ConfigNamed("plain"), CancellationToken.None));

        Assert.Contains("chunks[2] should be in part 1 (data public.a), yet it names part 0", ex.Message);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("zstd+encrypted")]
    public async Task WriteChunkAsync_PartsStoredAtOnceFinishingInReverse_ManifestListsThemInRestoreOrder(string config)
    {
        // replica dump --jobs: every part begun in restore order, then all chunked at once, the last part finishing first.
        var settings = ConfigNamed(config);
        var codecs = BridgeCodecs.ForNewDump(settings);
        using var codec = codecs.Codec;
        var writer = await _bridge.BeginDumpAsync(Name, CancellationToken.None);
        await using (writer)
        {
            var pipes = new List<System.IO.Pipelines.Pipe>();
            var chunking = new List<Task<long>>();
            var forks = new List<Replica.Codecs.IChunkCodec?>();
            foreach (var (kind, table, _) in s_parts)
            {
                int part = writer.BeginPart(kind, table);
                var pipe = new System.IO.Pipelines.Pipe();
                var fork = codec?.Fork();
                forks.Add(fork);
                pipes.Add(pipe);
                chunking.Add(DumpChunker.RunPartAsync(pipe.Reader, writer, part, ChunkSize, fork, workers: 2, CancellationToken.None));
            }
            // Every part gets its first bytes before any part ends, so their chunks are stored interleaved.
            for (int i = 0; i < s_parts.Length; i++)
            {
                await pipes[i].Writer.WriteAsync(s_parts[i].Data.AsMemory(0, Math.Min(ChunkSize + 1, s_parts[i].Data.Length)));
            }
            for (int i = s_parts.Length - 1; i >= 0; i--)
            {
                await pipes[i].Writer.WriteAsync(s_parts[i].Data.AsMemory(Math.Min(ChunkSize + 1, s_parts[i].Data.Length)));
                await pipes[i].Writer.CompleteAsync();
                await chunking[i];
            }
            forks.ForEach(f => f?.Dispose());
            await writer.CompleteAsync(new DumpSummary(AllParts.Length, "test parts", codecs.Compression is not null, codecs.Encryption is not null)
            {
                Compression = codecs.Compression,
                Encryption = codecs.Encryption,
                AuthenticateChunks = codecs.AuthenticateChunks,
                SizePlain = AllParts.Length,
            }, CancellationToken.None);
        }

        DumpManifest manifest = await _bridge.ReadManifestAsync(Name, CancellationToken.None);
        Assert.Equal(
            ["part 0 (pre-data)", "part 1 (data public.a)", "part 2 (data public.b)", "part 3 (post-data)"],
            manifest.Parts!.Select(p => p.ToString()));
        Assert.Equal(Enumerable.Range(0, manifest.Chunks.Count), manifest.Chunks.Select(c => c.Index));
        Assert.Equal(manifest.Chunks.Select(c => c.Part!.Value).Order(), manifest.Chunks.Select(c => c.Part!.Value));
        string output = _dir.Combine("restored.sql");
        await using (var destination = new FileDestination(output))
        {
            await RestoreJob.RunAsync(_bridge, Name, destination, settings, CancellationToken.None);
        }
        Assert.Equal(AllParts, File.ReadAllBytes(output));
    }

    [Fact]
    public async Task BeginPart_DataPartWithoutTable_Throws()
    {
        await using IDumpWriter writer = await _bridge.BeginDumpAsync(Name, CancellationToken.None);

        Assert.Throws<ArgumentException>(() => writer.BeginPart(PartKind.Data));
        Assert.Throws<ArgumentException>(() => writer.BeginPart(PartKind.PreData, "public.a"));
        Assert.Throws<ArgumentException>(() => writer.BeginPart("schema"));
    }
}

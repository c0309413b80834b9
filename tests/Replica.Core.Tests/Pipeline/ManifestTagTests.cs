using System.Text.Json.Nodes;
using Replica.Bridges;
using Replica.Codecs.Encryption;
using Replica.Config;
using Replica.Core.Tests.Bridges;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// An encrypted dump's manifest carries a tag under the dump's key over its chunk list, so an edit to the list fails
/// before any chunk is read (and before a byte reaches the output); dumps written before the tag still restore.
/// </summary>
public sealed class ManifestTagTests : IDisposable
{
    const string Name = "tagged";
    static readonly string s_key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;
    readonly BridgeConfig _config = new()
    {
        ChunkSize = 4096,
        Compression = new CompressionConfig { Algorithm = "none" },
        Encryption = new EncryptionConfig { Key = s_key },
    };

    public ManifestTagTests()
    {
        _bridge = new LocalBridge(_dir.Path);
    }

    public void Dispose() => _dir.Dispose();

    string ManifestPath => _dir.Combine(Name, "manifest.json");

    Task<DumpEntry> WriteEncryptedDumpAsync(byte[] data) => WriteCodedDumpAsync(_bridge, Name, data, _config);

    async Task<(long Bytes, MemoryStream Output)> RestoreAsync(LocalBridge bridge, string name)
    {
        var output = new MemoryStream();
        long bytes = await DumpReader.RestoreAsync(bridge, name, output, m => BridgeCodecs.ForManifest(m, _config), CancellationToken.None);
        return (bytes, output);
    }

    void EditManifest(Action<JsonObject> edit)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(ManifestPath))!.AsObject();
        edit(manifest);
        File.WriteAllText(ManifestPath, manifest.ToJsonString());
    }

    [Fact]
    public async Task Verify_NewEncryptedDump_ManifestAuthenticatedWithManifestsChunkCount()
    {
        byte[] data = Bytes(5 * 4096 + 100);
        await WriteEncryptedDumpAsync(data);

        VerifiedDump verified = await RestoreJob.VerifyAsync(_bridge, Name, _config, CancellationToken.None);

        Assert.Equal(ManifestAuthentication.AuthenticatedWithEntry, verified.Manifest);
        Assert.Equal(6, verified.ChunkCount);
        Assert.Equal(data.Length, verified.Bytes);
        Assert.False(string.IsNullOrEmpty(JsonNode.Parse(File.ReadAllText(ManifestPath))!["chunks_tag"]!.GetValue<string>()));
    }

    /// <summary>
    /// Verify never counted the index's chunk_count (it reported the manifest's); since the manifest's tag covers the
    /// dump's sizes (encryption header version 4), an index entry that disagrees with the manifest is refused outright.
    /// </summary>
    [Fact]
    public async Task Verify_IndexChunkCountEdited_RefusedNamingTheField()
    {
        await WriteEncryptedDumpAsync(Bytes(3 * 4096));
        string indexPath = _dir.Combine("index.json");
        var index = JsonNode.Parse(File.ReadAllText(indexPath))!;
        index["dumps"]![0]!["chunk_count"] = 99;
        File.WriteAllText(indexPath, index.ToJsonString());

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RestoreJob.VerifyAsync(_bridge, Name, _config, CancellationToken.None));

        Assert.Contains("index.json says chunk_count 99, the manifest says 3", ex.Message);
    }

    [Fact]
    public async Task Restore_ManifestChunksReordered_FailsOnTheManifestBeforeAnyChunk()
    {
        await WriteEncryptedDumpAsync(Bytes(5 * 4096 + 100));
        EditManifest(manifest =>
        {
            // Swap what entries 1 and 2 point at, keeping their index numbers in order.
            var chunks = manifest["chunks"]!.AsArray();
            foreach (string field in (ReadOnlySpan<string>)["key", "sha256"])
            {
                var first = chunks[1]![field]!.GetValue<string>();
                chunks[1]![field] = chunks[2]![field]!.GetValue<string>();
                chunks[2]![field] = first;
            }
        });

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RestoreAsync(_bridge, Name));

        Assert.Contains("chunk list does not match its chunks_tag", ex.Message);
        Assert.Contains($"'{Name}'", ex.Message);
    }

    [Fact]
    public async Task Restore_LastChunkDroppedAndCountsFixed_FailsBeforeWritingAnything()
    {
        await WriteEncryptedDumpAsync(Bytes(5 * 4096 + 100));
        EditManifest(manifest =>
        {
            var chunks = manifest["chunks"]!.AsArray();
            long lastSize = chunks[^1]!["size"]!.GetValue<long>();
            chunks.RemoveAt(chunks.Count - 1);
            manifest["size_out"] = manifest["size_out"]!.GetValue<long>() - lastSize;
            manifest["parts"]![0]!["chunk_count"] = chunks.Count;
        });
        var output = new MemoryStream();

        var ex = await Assert.ThrowsAsync<IntegrityException>(() =>
            DumpReader.RestoreAsync(_bridge, Name, output, m => BridgeCodecs.ForManifest(m, _config), CancellationToken.None));

        Assert.Contains("chunks_tag", ex.Message);
        // Without the tag the first five chunks were written before the missing last-chunk flag gave the edit away.
        Assert.Equal(0, output.Length);
    }

    [Fact]
    public async Task Restore_TagRemoved_FailsNamingTheMissingTag()
    {
        await WriteEncryptedDumpAsync(Bytes(3 * 4096));
        EditManifest(manifest => manifest.Remove("chunks_tag"));

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RestoreAsync(_bridge, Name));

        Assert.Contains("chunks_tag is missing", ex.Message);
    }

    [Fact]
    public async Task Restore_TagRemovedAndHeaderVersionLowered_DoesNotOpen()
    {
        await WriteEncryptedDumpAsync(Bytes(3 * 4096));
        EditManifest(manifest =>
        {
            manifest.Remove("chunks_tag");
            manifest["encryption"]!["version"] = 1;
        });

        // The version is bound into every key slot: passing a tagged dump off as an older one fails like a wrong key.
        var ex = await Assert.ThrowsAsync<WrongKeyException>(() => RestoreAsync(_bridge, Name));
        Assert.Equal(ReplicaErrorKind.Integrity, ex.Kind);
    }

    [Fact]
    public async Task VerifyAndRestore_DumpWrittenBeforeTags_RestoresAndSaysManifestUnauthenticated()
    {
        string fixtures = Path.Combine(AppContext.BaseDirectory, "Pipeline", "Fixtures");
        string root = _dir.Combine("old");
        foreach (string file in Directory.EnumerateFiles(Path.Combine(fixtures, "pre-tag-bridge"), "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(root, Path.GetRelativePath(Path.Combine(fixtures, "pre-tag-bridge"), file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var bridge = new LocalBridge(root);

        // Header version 1: its index entry is not authenticated either, so it is read only with --allow-legacy (LegacyEntryTests).
        VerifiedDump verified = await RestoreJob.VerifyAsync(bridge, "pre-tag", _config, CancellationToken.None, allowLegacy: new AllowLegacy(_ => { }));
        (_, MemoryStream output) = await RestoreAsync(bridge, "pre-tag");

        Assert.Equal(ManifestAuthentication.WrittenBeforeTags, verified.Manifest);
        Assert.Equal(5, verified.ChunkCount);
        Assert.Equal(File.ReadAllBytes(Path.Combine(fixtures, "pre-tag.sql")), output.ToArray());
    }
}

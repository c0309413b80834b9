using System.Text.Json.Nodes;
using Replica.Bridges;
using Replica.Codecs.Encryption;
using Replica.Config;
using Replica.Core.Tests.Bridges;
using Replica.Destinations;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// index.json repeats each dump's name, created_at and sizes, and anyone with write access to the bridge can edit it.
/// From encryption header version 4 the manifest's tag covers those fields too, and every reader checks the index entry
/// against the manifest: an older dump moved ahead for `--latest`, a dump copied under another name, or edited sizes
/// are refused before a byte is written (found by review: all of them restored, and verify said "manifest authenticated").
/// </summary>
public sealed class IndexEntryTagTests : IDisposable
{
    const string Older = "nightly-1";
    const string Newer = "nightly-2";
    static readonly string s_key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i + 7)).ToArray());
    static readonly string s_fixtures = Path.Combine(AppContext.BaseDirectory, "Bridges", "Fixtures");

    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;
    readonly BridgeConfig _config = new()
    {
        ChunkSize = 4096,
        Compression = new CompressionConfig { Algorithm = "none" },
        Encryption = new EncryptionConfig { Key = s_key },
    };
    readonly byte[] _olderData = Bytes(3 * 4096 + 10, seed: 1);
    readonly byte[] _newerData = Bytes(2 * 4096 + 20, seed: 2);

    public IndexEntryTagTests()
    {
        _bridge = new LocalBridge(_dir.Combine("bridge"));
    }

    public void Dispose() => _dir.Dispose();

    string IndexPath => _dir.Combine("bridge", "index.json");

    string ManifestPath(string name) => _dir.Combine("bridge", name, "manifest.json");

    string OutputPath => _dir.Combine("restored.sql");

    Task<DumpEntry> WriteEncryptedDumpAsync(string name, byte[] data) => WriteCodedDumpAsync(_bridge, name, data, _config);

    async Task WriteBothAsync()
    {
        await WriteEncryptedDumpAsync(Older, _olderData);
        await WriteEncryptedDumpAsync(Newer, _newerData);
    }

    static void EditJson(string path, Action<JsonNode> edit)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        edit(node);
        File.WriteAllText(path, node.ToJsonString());
    }

    static JsonNode EntryOf(JsonNode index, string name) =>
        index["dumps"]!.AsArray().Single(d => d!["name"]!.GetValue<string>() == name)!;

    long CreatedAt(string name) => EntryOf(JsonNode.Parse(File.ReadAllText(IndexPath))!, name)["created_at"]!.GetValue<long>();

    Task<(DumpEntry Entry, long Bytes)> RestoreToFileAsync(string? name) =>
        RestoreJob.RunAsync(_bridge, name, new FileDestination(OutputPath), _config, CancellationToken.None);

    /// <summary>Copies dump <paramref name="from"/>'s folder and index entry under <paramref name="to"/>, the manifest renamed to match.</summary>
    void CopyUnderNewName(string from, string to)
    {
        string source = _dir.Combine("bridge", from);
        string target = Directory.CreateDirectory(_dir.Combine("bridge", to)).FullName;
        foreach (string file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
        EditJson(ManifestPath(to), manifest => manifest["name"] = to);
        EditJson(IndexPath, index =>
        {
            JsonNode entry = EntryOf(index, from).DeepClone();
            entry["name"] = to;
            index["dumps"]!.AsArray().Add(entry);
        });
    }

    [Fact]
    public async Task VerifyAndRestore_FreshEncryptedDump_RoundTripsWithTheIndexEntryAuthenticated()
    {
        await WriteBothAsync();

        VerifiedDump verified = await RestoreJob.VerifyAsync(_bridge, null, _config, CancellationToken.None);
        (DumpEntry entry, long bytes) = await RestoreToFileAsync(null);

        Assert.Equal(Newer, verified.Name);
        Assert.Equal(ManifestAuthentication.AuthenticatedWithEntry, verified.Manifest);
        Assert.Equal(Newer, entry.Name);
        Assert.Equal(_newerData.Length, bytes);
        Assert.Equal(_newerData, File.ReadAllBytes(OutputPath));
        var header = JsonNode.Parse(File.ReadAllText(ManifestPath(Newer)))!["encryption"]!;
        Assert.Equal(EncryptionHeader.EntryTagVersion, header["version"]!.GetValue<int>());
    }

    [Fact]
    public async Task RestoreLatest_OlderDumpsCreatedAtMovedAheadInTheIndex_RefusedNamingDumpAndField()
    {
        await WriteBothAsync();
        long ahead = CreatedAt(Newer) + 60_000;
        EditJson(IndexPath, index => EntryOf(index, Older)["created_at"] = ahead);

        var restore = await Assert.ThrowsAsync<IntegrityException>(() => RestoreToFileAsync(null));
        var verify = await Assert.ThrowsAsync<IntegrityException>(() => RestoreJob.VerifyAsync(_bridge, null, _config, CancellationToken.None));

        foreach (var ex in new[] { restore, verify })
        {
            Assert.Contains($"'{Older}'", ex.Message);
            Assert.Contains("created_at", ex.Message);
            Assert.Contains("index.json", ex.Message);
            Assert.DoesNotContain(s_key, ex.Message);
        }
        Assert.False(File.Exists(OutputPath));
    }

    [Fact]
    public async Task RestoreLatest_CreatedAtMovedAheadInIndexAndManifest_RefusedByTheManifestsTag()
    {
        await WriteBothAsync();
        long ahead = CreatedAt(Newer) + 60_000;
        EditJson(IndexPath, index => EntryOf(index, Older)["created_at"] = ahead);
        EditJson(ManifestPath(Older), manifest => manifest["created_at"] = ahead);

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RestoreToFileAsync(null));

        Assert.Contains($"'{Older}'", ex.Message);
        Assert.Contains("chunks_tag", ex.Message);
        Assert.Contains("created_at", ex.Message);
        Assert.False(File.Exists(OutputPath));
    }

    [Fact]
    public async Task RestoreAndVerifyByName_DumpCopiedUnderAnotherName_Refused()
    {
        await WriteBothAsync();
        CopyUnderNewName(Older, "nightly-3");

        var restore = await Assert.ThrowsAsync<IntegrityException>(() => RestoreToFileAsync("nightly-3"));
        var verify = await Assert.ThrowsAsync<IntegrityException>(() => RestoreJob.VerifyAsync(_bridge, "nightly-3", _config, CancellationToken.None));

        foreach (var ex in new[] { restore, verify })
        {
            // The message of a tag that covers the name (header version 4), not the chunk list alone: the rename is what failed it.
            Assert.Contains("dump 'nightly-3': the manifest's name, created_at, sizes or chunk list does not match its chunks_tag", ex.Message);
            Assert.Contains("the dump renamed, e.g. copied under another name", ex.Message);
        }
        Assert.False(File.Exists(OutputPath));
        // The original is untouched and still restores.
        await RestoreToFileAsync(Older);
        Assert.Equal(_olderData, File.ReadAllBytes(OutputPath));
    }

    [Theory]
    [InlineData("size_in")]
    [InlineData("size_out")]
    [InlineData("chunk_count")]
    public async Task RestoreAndVerify_IndexSizeEdited_RefusedNamingTheField(string field)
    {
        await WriteBothAsync();
        EditJson(IndexPath, index => EntryOf(index, Newer)[field] = 12345);

        var restore = await Assert.ThrowsAsync<IntegrityException>(() => RestoreToFileAsync(Newer));
        var verify = await Assert.ThrowsAsync<IntegrityException>(() => RestoreJob.VerifyAsync(_bridge, null, _config, CancellationToken.None));

        foreach (var ex in new[] { restore, verify })
        {
            Assert.Contains($"'{Newer}'", ex.Message);
            Assert.Contains($"{field} 12345", ex.Message);
        }
        Assert.False(File.Exists(OutputPath));
    }

    [Fact]
    public async Task Restore_SizeInEditedInIndexAndManifest_RefusedByTheManifestsTag()
    {
        await WriteBothAsync();
        EditJson(IndexPath, index => EntryOf(index, Newer)["size_in"] = 1);
        EditJson(ManifestPath(Newer), manifest => manifest["size_in"] = 1);

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RestoreToFileAsync(Newer));

        Assert.Contains($"'{Newer}'", ex.Message);
        Assert.Contains("chunks_tag", ex.Message);
        Assert.False(File.Exists(OutputPath));
    }

    [Fact]
    public async Task Import_DumpCopiedToAnotherBridge_KeepsNameAndCreatedAtSoItsTagStillHolds()
    {
        await WriteBothAsync();
        var target = new LocalBridge(_dir.Combine("other"));

        DumpEntry copied = await target.ImportAsync(_bridge, Older, CancellationToken.None);
        VerifiedDump verified = await RestoreJob.VerifyAsync(target, Older, _config, CancellationToken.None);

        Assert.Equal(CreatedAt(Older), copied.CreatedAt);
        Assert.Equal(ManifestAuthentication.AuthenticatedWithEntry, verified.Manifest);
        Assert.Equal(_olderData.Length, verified.Bytes);
    }

    [Fact]
    public async Task Import_SourceIndexEntryEdited_RefusedAndNothingListed()
    {
        await WriteBothAsync();
        EditJson(IndexPath, index => EntryOf(index, Older)["created_at"] = 1);
        var target = new LocalBridge(_dir.Combine("other"));

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => target.ImportAsync(_bridge, Older, CancellationToken.None));

        Assert.Contains("created_at", ex.Message);
        Assert.Empty(await target.ListAsync(CancellationToken.None));
    }

    /// <summary>
    /// Encryption header version 3 (Fixtures/v3-header-bridge, written before the tag covered the index entry) still
    /// lists, verifies and restores with --allow-legacy (LegacyEntryTests: refused without); verify says the entry is not
    /// covered, and an index entry that disagrees with the manifest is still refused.
    /// </summary>
    [Fact]
    public async Task VerifyAndRestore_HeaderVersion3Fixture_RestoresAndSaysTheEntryIsNotCovered()
    {
        LocalBridge bridge = CopyFixture("v3-header-bridge");
        var config = new BridgeConfig { Encryption = new EncryptionConfig { KeyFile = Path.Combine(s_fixtures, "v1-test.key") } };
        byte[] expected = File.ReadAllBytes(Path.Combine(s_fixtures, "v1.sql"));

        IReadOnlyList<DumpEntry> listed = await bridge.ListAsync(CancellationToken.None);
        var allowLegacy = new AllowLegacy(_ => { });
        VerifiedDump verified = await RestoreJob.VerifyAsync(bridge, null, config, CancellationToken.None, allowLegacy: allowLegacy);
        (_, long bytes) = await RestoreJob.RunAsync(bridge, "v3-header-aes", new FileDestination(OutputPath), config, CancellationToken.None,
            allowLegacy: allowLegacy);

        Assert.Equal(["v3-header-aes"], listed.Select(d => d.Name));
        Assert.Equal(ManifestAuthentication.Authenticated, verified.Manifest);
        Assert.Equal(expected.Length, bytes);
        Assert.Equal(expected, File.ReadAllBytes(OutputPath));

        EditJson(_dir.Combine("fixture", "index.json"), index => EntryOf(index, "v3-header-aes")["created_at"] = 1);
        var ex = await Assert.ThrowsAsync<IntegrityException>(() => RestoreJob.VerifyAsync(bridge, null, config, CancellationToken.None, allowLegacy: allowLegacy));
        Assert.Contains("created_at", ex.Message);
    }

    LocalBridge CopyFixture(string fixture) => new(_dir.CopyOf(Path.Combine(s_fixtures, fixture), "fixture"));
}

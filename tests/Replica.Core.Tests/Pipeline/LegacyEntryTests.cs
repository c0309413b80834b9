using System.Text.Json.Nodes;
using Replica.Bridges;
using Replica.Config;
using Replica.Core.Tests.Bridges;
using Replica.Destinations;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// An encrypted dump of encryption header version 3 or older (Fixtures/v3-header-bridge) has a tag that does not cover
/// its name, created_at and sizes: in index.json and in its manifest alike they are what anyone who can write to the
/// bridge made them, without the key. Found by review: such a dump dated ahead in both was restored by `--latest` in
/// place of the newest dump, silently. Now every reader by entry (restore, verify, leakcheck, export, import) refuses it
/// naming the dump and its header version, unless --allow-legacy, which reads it and warns once.
/// </summary>
public sealed partial class LegacyEntryTests : IDisposable
{
    const string Legacy = "v3-header-aes";
    static readonly string s_fixtures = Path.Combine(AppContext.BaseDirectory, "Bridges", "Fixtures");

    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;
    readonly BridgeConfig _config = new()
    {
        ChunkSize = 4096,
        Compression = new CompressionConfig { Algorithm = "none" },
        // The test-only key the fixture was written with.
        Encryption = new EncryptionConfig { KeyFile = Path.Combine(s_fixtures, "v1-test.key") },
    };

    public LegacyEntryTests()
    {
        _bridge = new LocalBridge(_dir.CopyOf(Path.Combine(s_fixtures, "v3-header-bridge"), "bridge"));
    }

    public void Dispose() => _dir.Dispose();

    string OutputPath => _dir.Combine("restored.sql");

    static byte[] FixtureSql => File.ReadAllBytes(Path.Combine(s_fixtures, "v1.sql"));

    static void AssertRefusedAsLegacy(IntegrityException ex)
    {
        Assert.Contains($"dump '{Legacy}' has encryption header version 3", ex.Message);
        Assert.Contains("its index entry (name and date) cannot be authenticated", ex.Message);
        Assert.Contains("pass --allow-legacy", ex.Message);
    }

    static void EditCreatedAt(string path, Func<JsonNode, JsonNode> of, long createdAt)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        of(node)["created_at"] = createdAt;
        File.WriteAllText(path, node.ToJsonString());
    }

    [Fact]
    public async Task RestoreAndVerify_HeaderVersion3Fixture_RefusedNamingItsHeaderVersionNothingWritten()
    {
        var byName = await Assert.ThrowsAsync<IntegrityException>(
            () => RestoreJob.RunAsync(_bridge, Legacy, new FileDestination(OutputPath), _config, CancellationToken.None));
        var latest = await Assert.ThrowsAsync<IntegrityException>(
            () => RestoreJob.RunAsync(_bridge, null, new FileDestination(OutputPath), _config, CancellationToken.None));
        var verify = await Assert.ThrowsAsync<IntegrityException>(() => RestoreJob.VerifyAsync(_bridge, null, _config, CancellationToken.None));

        AssertRefusedAsLegacy(byName);
        AssertRefusedAsLegacy(latest);
        AssertRefusedAsLegacy(verify);
        Assert.False(File.Exists(OutputPath));
    }

    /// <summary>
    /// The attack: a newer (header version 4) dump exists; the older legacy dump's created_at is moved past it in
    /// index.json and in its manifest (its tag does not cover it). `restore --latest` still picks the newest entry, and
    /// then refuses it naming it, rather than restoring it; the genuine newest dump restores by name without the flag.
    /// </summary>
    [Fact]
    public async Task RestoreLatest_LegacyDumpDatedAheadOfNewerDumpInIndexAndManifest_RefusedNotRestored()
    {
        byte[] newer = Bytes(2 * 4096 + 20, seed: 2);
        DumpEntry genuine = await WriteCodedDumpAsync(_bridge, "nightly-new", newer, _config);
        long ahead = genuine.CreatedAt + 60_000;
        EditCreatedAt(_dir.Combine("bridge", "index.json"), index => index["dumps"]!.AsArray().Single(d => d!["name"]!.GetValue<string>() == Legacy)!, ahead);
        EditCreatedAt(_dir.Combine("bridge", Legacy, "manifest.json"), manifest => manifest, ahead);

        var latest = await Assert.ThrowsAsync<IntegrityException>(
            () => RestoreJob.RunAsync(_bridge, null, new FileDestination(OutputPath), _config, CancellationToken.None));
        var verify = await Assert.ThrowsAsync<IntegrityException>(() => RestoreJob.VerifyAsync(_bridge, null, _config, CancellationToken.None));

        AssertRefusedAsLegacy(latest);
        AssertRefusedAsLegacy(verify);
        Assert.False(File.Exists(OutputPath));
        (DumpEntry restored, _) = await RestoreJob.RunAsync(_bridge, "nightly-new", new FileDestination(OutputPath), _config, CancellationToken.None);
        Assert.Equal("nightly-new", restored.Name);
        Assert.Equal(newer, File.ReadAllBytes(OutputPath));
        VerifiedDump verified = await RestoreJob.VerifyAsync(_bridge, "nightly-new", _config, CancellationToken.None);
        Assert.Equal(ManifestAuthentication.AuthenticatedWithEntry, verified.Manifest);
    }
}

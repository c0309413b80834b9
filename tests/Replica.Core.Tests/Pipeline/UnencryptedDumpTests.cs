using System.Text.Json.Nodes;
using Replica.Bridges;
using Replica.Config;
using Replica.Core.Tests.Bridges;
using Replica.Destinations;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// On a bridge configured for encryption, a dump without an encryption header has nothing secret behind it: anyone who
/// can write to the bridge, without the key, can write one (plain manifest, plain chunks with their SHA-256) and list
/// it as the newest. Restore and verify refuse it unless --allow-unencrypted (found by review: `restore --latest`
/// restored the forged SQL and exited 0; verify only said "not encrypted").
/// </summary>
public sealed class UnencryptedDumpTests : IDisposable
{
    const string Genuine = "nightly-1";
    const string Forged = "nightly-2";
    static readonly string s_key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i + 11)).ToArray());

    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;
    readonly BridgeConfig _encrypted = new()
    {
        ChunkSize = 4096,
        Compression = new CompressionConfig { Algorithm = "none" },
        Encryption = new EncryptionConfig { Key = s_key },
    };
    readonly BridgeConfig _plain = new()
    {
        ChunkSize = 4096,
        Compression = new CompressionConfig { Algorithm = "none" },
    };
    readonly byte[] _genuineData = Bytes(2 * 4096 + 30, seed: 3);
    readonly byte[] _forgedData = System.Text.Encoding.UTF8.GetBytes("CREATE TABLE forged (id integer);\nINSERT INTO forged VALUES (1);\n");

    public UnencryptedDumpTests()
    {
        _bridge = new LocalBridge(_dir.Combine("bridge"));
    }

    public void Dispose() => _dir.Dispose();

    string IndexPath => _dir.Combine("bridge", "index.json");

    string OutputPath => _dir.Combine("restored.sql");

    /// <summary>Writes a dump as replica does with <paramref name="config"/>: with bridge.encryption or without.</summary>
    Task<DumpEntry> WriteDumpAsync(string name, byte[] data, BridgeConfig config) => WriteCodedDumpAsync(_bridge, name, data, config);

    /// <summary>
    /// A genuine encrypted dump, then one written by someone without the key: unencrypted, its created_at in the manifest
    /// and the index one millisecond after now, so that --latest picks it.
    /// </summary>
    async Task WriteGenuineAndForgedAsync()
    {
        await WriteDumpAsync(Genuine, _genuineData, _encrypted);
        await WriteDumpAsync(Forged, _forgedData, _plain);
        long ahead = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1;
        foreach (string path in new[] { IndexPath, _dir.Combine("bridge", Forged, "manifest.json") })
        {
            var node = JsonNode.Parse(File.ReadAllText(path))!;
            JsonNode target = path == IndexPath ? node["dumps"]!.AsArray().Single(d => d!["name"]!.GetValue<string>() == Forged)! : node;
            target["created_at"] = ahead;
            File.WriteAllText(path, node.ToJsonString());
        }
    }

    Task<(DumpEntry Entry, long Bytes)> RestoreToFileAsync(string? name, BridgeConfig config, bool allowUnencrypted = false) =>
        RestoreJob.RunAsync(_bridge, name, new FileDestination(OutputPath), config, CancellationToken.None, allowUnencrypted: allowUnencrypted);

    [Fact]
    public async Task RestoreAndVerifyLatest_ForgedUnencryptedDumpOnEncryptedBridge_RefusedNothingWritten()
    {
        await WriteGenuineAndForgedAsync();

        var restore = await Assert.ThrowsAsync<IntegrityException>(() => RestoreToFileAsync(null, _encrypted));
        var verify = await Assert.ThrowsAsync<IntegrityException>(() => RestoreJob.VerifyAsync(_bridge, null, _encrypted, CancellationToken.None));

        foreach (var ex in new[] { restore, verify })
        {
            Assert.Contains($"dump '{Forged}' is not encrypted, although bridge.encryption is set", ex.Message);
            Assert.Contains("--allow-unencrypted", ex.Message);
            Assert.DoesNotContain(s_key, ex.Message);
        }
        Assert.False(File.Exists(OutputPath));
        // The genuine dump still restores by name.
        await RestoreToFileAsync(Genuine, _encrypted);
        Assert.Equal(_genuineData, File.ReadAllBytes(OutputPath));
    }

    [Fact]
    public async Task RestoreAndVerifyLatest_UnencryptedDumpWithAllowUnencrypted_Restores()
    {
        await WriteGenuineAndForgedAsync();

        (DumpEntry entry, long bytes) = await RestoreToFileAsync(null, _encrypted, allowUnencrypted: true);
        VerifiedDump verified = await RestoreJob.VerifyAsync(_bridge, null, _encrypted, CancellationToken.None, allowUnencrypted: true);

        Assert.Equal(Forged, entry.Name);
        Assert.Equal(_forgedData.Length, bytes);
        Assert.Equal(_forgedData, File.ReadAllBytes(OutputPath));
        Assert.Equal(ManifestAuthentication.NotEncrypted, verified.Manifest);
    }

    [Fact]
    public async Task RestoreAndVerifyLatest_UnencryptedDumpOnBridgeWithoutEncryption_RestoresAsBefore()
    {
        await WriteDumpAsync(Forged, _forgedData, _plain);

        (DumpEntry entry, _) = await RestoreToFileAsync(null, _plain);
        VerifiedDump verified = await RestoreJob.VerifyAsync(_bridge, null, _plain, CancellationToken.None);

        Assert.Equal(Forged, entry.Name);
        Assert.Equal(_forgedData, File.ReadAllBytes(OutputPath));
        Assert.Equal(ManifestAuthentication.NotEncrypted, verified.Manifest);
    }

    [Fact]
    public async Task RestoreLatest_EncryptedDumpStillRestoresWhenAllowUnencryptedIsGiven()
    {
        await WriteDumpAsync(Genuine, _genuineData, _encrypted);

        await RestoreToFileAsync(null, _encrypted, allowUnencrypted: true);

        Assert.Equal(_genuineData, File.ReadAllBytes(OutputPath));
    }
}

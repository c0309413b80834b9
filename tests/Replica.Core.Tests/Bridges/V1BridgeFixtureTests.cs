using Replica.Bridges;
using Replica.Config;
using Replica.Destinations;
using Replica.Pipeline;

namespace Replica.Core.Tests.Bridges;

/// <summary>
/// Dumps written before the bridge had parts (format v1, Fixtures/v1-bridge, see Fixtures/README.md) still list, verify
/// and restore byte for byte, unencrypted and encrypted.
/// </summary>
public sealed class V1BridgeFixtureTests : IDisposable
{
    static readonly string s_fixtures = Path.Combine(AppContext.BaseDirectory, "Bridges", "Fixtures");
    static readonly AllowLegacy s_allowLegacy = new(_ => { });

    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;
    readonly BridgeConfig _config = new()
    {
        // The test-only key committed beside the fixture.
        Encryption = new EncryptionConfig { KeyFile = Path.Combine(s_fixtures, "v1-test.key") },
    };

    public V1BridgeFixtureTests()
    {
        _bridge = new LocalBridge(_dir.CopyOf(Path.Combine(s_fixtures, "v1-bridge"), "bridge"));
    }

    public void Dispose() => _dir.Dispose();

    static byte[] ExpectedSql => File.ReadAllBytes(Path.Combine(s_fixtures, "v1.sql"));

    [Fact]
    public async Task ListAsync_V1Bridge_ListsBothDumpsWithTheirChunks()
    {
        IReadOnlyList<DumpEntry> dumps = await _bridge.ListAsync(CancellationToken.None);

        Assert.Equal(["v1-zstd", "v1-aes"], dumps.Select(d => d.Name));
        Assert.All(dumps, d => Assert.Equal(4, d.ChunkCount));
        Assert.All(dumps, d => Assert.Equal(ExpectedSql.Length, d.SizeIn));
        Assert.Equal([false, true], dumps.Select(d => d.Encrypted));
    }

    [Theory]
    [InlineData("v1-zstd", ManifestAuthentication.NotEncrypted)]
    [InlineData("v1-aes", ManifestAuthentication.Authenticated)]
    public async Task VerifyAsync_V1Dump_IntactWithEveryChunkChecked(string name, ManifestAuthentication authentication)
    {
        // The config encrypts, so the unencrypted dump is read only with --allow-unencrypted (UnencryptedDumpTests), and
        // the encrypted one (header version 2, its index entry not authenticated) only with --allow-legacy (LegacyEntryTests).
        VerifiedDump verified = await RestoreJob.VerifyAsync(_bridge, name, _config, CancellationToken.None, allowUnencrypted: true, s_allowLegacy);

        Assert.Equal(4, verified.ChunkCount);
        Assert.Equal(1, verified.PartCount);
        Assert.Equal(ExpectedSql.Length, verified.Bytes);
        Assert.Equal(authentication, verified.Manifest);
    }

    [Theory]
    [InlineData("v1-zstd")]
    [InlineData("v1-aes")]
    public async Task RunAsync_V1DumpToOutputFile_WritesTheOriginalSqlByteForByte(string name)
    {
        string output = _dir.Combine("restored.sql");

        (DumpEntry entry, long bytes) = await RestoreJob.RunAsync(_bridge, name, new FileDestination(output), _config, CancellationToken.None,
            allowUnencrypted: true, allowLegacy: s_allowLegacy);

        Assert.Equal(name, entry.Name);
        Assert.Equal(ExpectedSql.Length, bytes);
        Assert.Equal(ExpectedSql, File.ReadAllBytes(output));
    }

    [Fact]
    public async Task RunAsync_V1EncryptedDumpWithAnotherKey_FailsAndWritesNothing()
    {
        string output = _dir.Combine("restored.sql");
        var otherKey = new BridgeConfig { Encryption = new EncryptionConfig { Key = Convert.ToBase64String(new byte[32]) } };

        await Assert.ThrowsAsync<Replica.Codecs.Encryption.WrongKeyException>(
            () => RestoreJob.RunAsync(_bridge, "v1-aes", new FileDestination(output), otherKey, CancellationToken.None));

        Assert.False(File.Exists(output));
    }
}

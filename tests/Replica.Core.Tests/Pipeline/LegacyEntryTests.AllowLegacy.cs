using Replica.Bridges;
using Replica.Config;
using Replica.Core.Tests.Config;
using Replica.Destinations;
using Replica.Pipeline;
using Replica.Sources;

namespace Replica.Core.Tests.Pipeline;

/// <summary>--allow-legacy: the legacy dump is read, and the warning is told once for the dump read.</summary>
public sealed partial class LegacyEntryTests
{
    readonly List<string> _warnings = [];

    AllowLegacy Allowed => new(_warnings.Add);

    void AssertWarnedOnce() =>
        Assert.Equal([$"dump '{Legacy}' has encryption header version 3: its index entry (name and date) was not authenticated (--allow-legacy)"], _warnings);

    [Fact]
    public async Task RestoreAndVerify_HeaderVersion3FixtureWithAllowLegacy_RestoresByteForByteAndWarnsOnce()
    {
        (DumpEntry entry, long bytes) = await RestoreJob.RunAsync(_bridge, null, new FileDestination(OutputPath), _config, CancellationToken.None,
            allowLegacy: Allowed);

        Assert.Equal(Legacy, entry.Name);
        Assert.Equal(FixtureSql.Length, bytes);
        Assert.Equal(FixtureSql, File.ReadAllBytes(OutputPath));
        AssertWarnedOnce();

        _warnings.Clear();
        VerifiedDump verified = await RestoreJob.VerifyAsync(_bridge, Legacy, _config, CancellationToken.None, allowLegacy: Allowed);
        Assert.Equal(4, verified.ChunkCount);
        Assert.Equal(ManifestAuthentication.Authenticated, verified.Manifest);
        AssertWarnedOnce();
    }

    /// <summary>Only index.json edited: refused too (as legacy, and with --allow-legacy still as an entry that does not match its manifest).</summary>
    [Fact]
    public async Task RestoreLatest_LegacyDumpsCreatedAtEditedInIndexOnly_RefusedWithAndWithoutAllowLegacy()
    {
        EditCreatedAt(_dir.Combine("bridge", "index.json"), index => index["dumps"]![0]!, 4_102_444_800_000);

        var refused = await Assert.ThrowsAsync<IntegrityException>(
            () => RestoreJob.RunAsync(_bridge, null, new FileDestination(OutputPath), _config, CancellationToken.None));
        var allowed = await Assert.ThrowsAsync<IntegrityException>(
            () => RestoreJob.RunAsync(_bridge, null, new FileDestination(OutputPath), _config, CancellationToken.None, allowLegacy: Allowed));

        AssertRefusedAsLegacy(refused);
        Assert.Contains("index.json says created_at 4102444800000", allowed.Message);
        Assert.False(File.Exists(OutputPath));
    }

    [Fact]
    public async Task ExportAndImport_HeaderVersion3Fixture_RefusedUnlessAllowLegacy()
    {
        string archive = _dir.Combine("legacy.replica");
        var target = new LocalBridge(_dir.Combine("target"));

        var export = await Assert.ThrowsAsync<IntegrityException>(async () =>
        {
            await using var file = new FileDestination(archive);
            await ArchiveJob.ExportAsync(_bridge, null, file, CancellationToken.None);
        });
        AssertRefusedAsLegacy(export);
        Assert.False(File.Exists(archive));

        await using (var file = new FileDestination(archive))
        {
            await ArchiveJob.ExportAsync(_bridge, Legacy, file, CancellationToken.None, Allowed);
        }
        AssertWarnedOnce();
        _warnings.Clear();
        var import = await Assert.ThrowsAsync<IntegrityException>(() => ArchiveJob.ImportAsync(target, archive, CancellationToken.None));
        AssertRefusedAsLegacy(import);
        Assert.Empty(await target.ListAsync(CancellationToken.None));

        DumpEntry imported = await ArchiveJob.ImportAsync(target, archive, CancellationToken.None, Allowed);
        Assert.Equal(Legacy, imported.Name);
        AssertWarnedOnce();
    }

    /// <summary>leakcheck compares the dump it reads by its entry: a legacy one is refused as restore refuses it.</summary>
    [Fact]
    public async Task LeakCheck_HeaderVersion3Fixture_RefusedUnlessAllowLegacy()
    {
        ReplicaConfig config = ConfigTestHelpers.Parse($"""
            secret: ${"{"}REPLICA_SECRET{"}"}
            locale: en
            bridge:
              local:
                path: {_dir.Combine("bridge")}
              encryption:
                key_file: {Path.Combine(s_fixtures, "v1-test.key")}
            transformers:
              - table: public.customers
                columns:
                  email: email
            """);
        var original = new FileDumpSource(Path.Combine(s_fixtures, "v1.sql"));

        var refused = await Assert.ThrowsAsync<IntegrityException>(() => LeakCheckJob.RunAsync(config, _bridge, null, original, new LeakCheckOptions(), null, CancellationToken.None));
        LeakCheckResult result = await LeakCheckJob.RunAsync(config, _bridge, null, new FileDumpSource(Path.Combine(s_fixtures, "v1.sql")),
            new LeakCheckOptions { AllowLegacy = Allowed }, null, CancellationToken.None);

        AssertRefusedAsLegacy(refused);
        Assert.Equal(Legacy, result.Name);
        // The fixture was dumped without rules: its e-mails are the originals.
        Assert.True(result.Leaks > 0);
        AssertWarnedOnce();
    }
}

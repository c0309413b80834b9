using System.Text.Json.Nodes;
using Replica.Bridges;
using Replica.Config;
using Replica.Core.Tests.Bridges;
using Replica.Destinations;
using Replica.Pipeline;
using static Replica.Core.Tests.Bridges.BridgeTestSupport;

namespace Replica.Core.Tests.Pipeline;

/// <summary>
/// An encrypted dump whose header was edited to hold key slots replica never writes (two raw-key slots, more slots than
/// <see cref="Replica.Codecs.Encryption.EncryptionKeys.MaxKeySlots"/>). Found by review: only opening the dump refused
/// them, so export, import and share, which need no key, copied such a dump on. Now every reader of the header refuses it,
/// with the one message.
/// </summary>
public sealed class EditedKeySlotsTests : IDisposable
{
    const string Name = "edited-slots";
    static readonly string s_fixtures = Path.Combine(AppContext.BaseDirectory, "Bridges", "Fixtures");

    readonly TempDirectory _dir = new();
    readonly LocalBridge _bridge;
    readonly BridgeConfig _config = new()
    {
        ChunkSize = 4096,
        Compression = new CompressionConfig { Algorithm = "none" },
        Encryption = new EncryptionConfig { KeyFile = Path.Combine(s_fixtures, "v1-test.key") },
    };

    public EditedKeySlotsTests() => _bridge = new LocalBridge(_dir.Combine("bridge"));

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string> Edits => new()
    {
        { "second raw-key slot", "it has more than one raw-key slot, replica writes one at most (the header was altered)" },
        { "67 slots", "it has 67 key slots, replica writes at most 66 (the header was altered)" },
    };

    /// <summary>Edits the stored manifest's header as <paramref name="edit"/> says; the tags are left as they are.</summary>
    void EditKeySlots(string edit)
    {
        string path = _dir.Combine("bridge", Name, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(path))!;
        var slots = manifest["encryption"]!["key_slots"]!.AsArray();
        JsonNode real = slots[0]!;
        int extra = edit == "67 slots" ? 66 : 1;
        for (int i = 0; i < extra; i++)
        {
            slots.Add(real.DeepClone());
        }
        File.WriteAllText(path, manifest.ToJsonString());
    }

    [Theory]
    [MemberData(nameof(Edits))]
    public async Task EveryCommand_HeaderWithSlotsReplicaNeverWrites_RefusedWithTheSameMessage(string edit, string problem)
    {
        await WriteCodedDumpAsync(_bridge, Name, Bytes(2 * 4096 + 20, seed: 4), _config);
        // The archive of the edited dump, made below the check export runs (as an older replica made it).
        string archive = _dir.Combine("edited.replica");
        EditKeySlots(edit);
        await using (FileStream file = File.Create(archive))
        {
            await DumpArchive.ExportAsync(_bridge, Name, file, CancellationToken.None);
        }
        string expected = $"The dump's encryption header is invalid: {problem}.";
        var target = new LocalBridge(_dir.Combine("target"));
        string exported = _dir.Combine("exported.replica");

        var restore = await Assert.ThrowsAsync<IntegrityException>(
            () => RestoreJob.RunAsync(_bridge, Name, new FileDestination(_dir.Combine("restored.sql")), _config, CancellationToken.None));
        var verify = await Assert.ThrowsAsync<IntegrityException>(() => RestoreJob.VerifyAsync(_bridge, Name, _config, CancellationToken.None));
        var export = await Assert.ThrowsAsync<IntegrityException>(async () =>
        {
            await using var file = new FileDestination(exported);
            await ArchiveJob.ExportAsync(_bridge, Name, file, CancellationToken.None);
        });
        var import = await Assert.ThrowsAsync<IntegrityException>(() => ArchiveJob.ImportAsync(target, archive, CancellationToken.None));
        (DumpManifest manifest, _) = await _bridge.ReadListedManifestAsync(Name, CancellationToken.None);
        // What `replica share` runs on the manifest before it signs a link (ShareJob.ShareAsync; sharing needs S3).
        var share = Assert.Throws<IntegrityException>(() => BridgeCodecs.CheckEntryAuthenticated(manifest, null));

        Assert.All(new[] { restore, verify, export, import, share }, ex => Assert.Equal(expected, ex.Message));
        Assert.False(File.Exists(exported));
        Assert.Empty(await target.ListAsync(CancellationToken.None));
    }
}

using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Replica.Bridges.S3.Tests;

// Confinement: a bridge at a prefix reads, writes, lists and deletes nothing outside it, whatever its config says and
// whatever someone who can write to the bucket put in its index, manifests and share objects.
public abstract partial class S3BridgeTests
{
    [Theory]
    [InlineData("team-a/../team-b/")]
    [InlineData("../team-b/")]
    [InlineData("team-a/./")]
    [InlineData("team-a\\b/")]
    public async Task Constructor_PrefixThatALinkResolvesElsewhere_RefusedBeforeAnyRequest(string prefix)
    {
        string bucket = await Server.CreateBucketAsync();

        // S3 keeps "team-a/../team-b/x" as it is, but a shared link to it is "team-b/x" once .NET's Uri (or curl, or a
        // browser) has read it: another team's object.
        var ex = Assert.Throws<ConfigException>(() => new S3Bridge(Server.Options(bucket, prefix)));

        Assert.Equal("prefix", ex.Key);
        Assert.Contains($"'{prefix}'", ex.Message);
        Assert.Empty(await ListKeysAsync(bucket));
    }

    [Theory]
    [InlineData("%2e%2e/")]
    [InlineData("team-a/..b/")]
    [InlineData("team.a/")]
    public async Task Share_OddButPlainPrefix_LinksStayUnderThePrefix(string prefix)
    {
        string bucket = await Server.CreateBucketAsync();
        using var bridge = new S3Bridge(Server.Options(bucket, prefix));
        byte[] data = Bytes(3000, seed: 5);
        await WriteDumpAsync(bridge, "dump-1", data, chunkSize: 1000);

        SharedDump share = await DumpShare.ShareAsync(bridge, "dump-1", TimeSpan.FromHours(1), s_none);

        Assert.StartsWith($"/{bucket}/{Uri.EscapeDataString(prefix).Replace("%2F", "/", StringComparison.Ordinal)}.shares/", share.Url.AbsolutePath);
        Assert.Equal(data, await RestoreAsync(DumpShare.Open(share.Url.AbsoluteUri), "dump-1"));
        Assert.All(await ListKeysAsync(bucket), key => Assert.StartsWith(prefix, key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Share_ManifestChunkKeyEditedIntoAnotherPrefix_RefusedBeforeAnyLinkIsSigned()
    {
        string bucket = await Server.CreateBucketAsync();
        using var teamA = new S3Bridge(Server.Options(bucket, "team-a/"));
        using var teamB = new S3Bridge(Server.Options(bucket, "team-b/"));
        byte[] secret = Bytes(1000, seed: 9);
        await WriteDumpAsync(teamB, "dump-1", secret, chunkSize: 1000);
        await WriteDumpAsync(teamA, "dump-1", Bytes(1000, seed: 1), chunkSize: 1000);
        List<string> teamBKeys = await ListKeysAsync(bucket, "team-b/");
        // Someone who can write to team-a/ points its chunk at team-b's, with that chunk's size and SHA-256 (an
        // unencrypted manifest has no tag over its chunk list). Before, the share signed a link to
        // team-a/dump-1/../../team-b/... and its page held it as .NET's Uri writes it: .../team-b/dump-1/p000000-000000.chunk,
        // which a plain GET (on moto) answered with team-b's bytes.
        const string edited = "../../team-b/dump-1/p000000-000000.chunk";
        JsonNode manifest = JsonNode.Parse(await GetBytesAsync(bucket, "team-a/dump-1/manifest.json"))!;
        manifest["chunks"]![0]!["key"] = edited;
        manifest["chunks"]![0]!["sha256"] = Convert.ToHexStringLower(SHA256.HashData(secret));
        await PutAsync(bucket, "team-a/dump-1/manifest.json", manifest.ToJsonString());

        var share = await Assert.ThrowsAsync<IntegrityException>(() => DumpShare.ShareAsync(teamA, "dump-1", TimeSpan.FromHours(1), s_none));
        var restore = await Assert.ThrowsAsync<IntegrityException>(() => RestoreAsync(teamA, "dump-1"));
        var export = await Assert.ThrowsAsync<IntegrityException>(() => DumpArchive.ExportAsync(teamA, "dump-1", Stream.Null, s_none));
        using var elsewhere = new S3Bridge(Server.Options(bucket, "copies/"));
        var import = await Assert.ThrowsAsync<IntegrityException>(() => elsewhere.ImportAsync(teamA, "dump-1", s_none));

        foreach (IntegrityException ex in (IntegrityException[])[share, restore, export, import])
        {
            Assert.Contains($"({edited}) is not a plain file name", ex.Message);
        }
        Assert.Empty(await ListKeysAsync(bucket, "team-a/.shares/"));
        Assert.Empty(await ListKeysAsync(bucket, "copies/"));
        Assert.Equal(teamBKeys, await ListKeysAsync(bucket, "team-b/"));
        Assert.Equal(secret, await RestoreAsync(teamB, "dump-1"));
    }
}

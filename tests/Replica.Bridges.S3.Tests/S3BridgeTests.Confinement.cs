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
}

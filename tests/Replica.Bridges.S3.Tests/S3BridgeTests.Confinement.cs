using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Replica.Pipeline;

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

    [Fact]
    public async Task Share_ChunkListKeyEditedIntoAnotherPrefix_RefusedBeforeAnyLinkIsSigned()
    {
        string bucket = await Server.CreateBucketAsync();
        using var teamA = new S3Bridge(Server.Options(bucket, "team-a/") with { ChunkListLength = 2 });
        using var teamB = new S3Bridge(Server.Options(bucket, "team-b/") with { ChunkListLength = 2 });
        await WriteDumpAsync(teamB, "dump-1", Bytes(3000, seed: 9), chunkSize: 1000);
        await WriteDumpAsync(teamA, "dump-1", Bytes(3000, seed: 1), chunkSize: 1000);
        // Bridge format v3: chunk lists, named by the manifest, with their size and SHA-256: point the first at team-b's.
        const string edited = "../../team-b/dump-1/p000000-list000000.json";
        JsonNode manifest = JsonNode.Parse(await GetBytesAsync(bucket, "team-a/dump-1/manifest.json"))!;
        JsonNode list = manifest["parts"]![0]!["chunk_lists"]![0]!;
        byte[] theirs = await GetBytesAsync(bucket, "team-b/dump-1/p000000-list000000.json");
        list["key"] = edited;
        list["size"] = theirs.Length;
        list["sha256"] = Convert.ToHexStringLower(SHA256.HashData(theirs));
        await PutAsync(bucket, "team-a/dump-1/manifest.json", manifest.ToJsonString());

        var ex = await Assert.ThrowsAsync<IntegrityException>(() => DumpShare.ShareAsync(teamA, "dump-1", TimeSpan.FromHours(1), s_none));

        Assert.Contains($"chunk list {edited} is not a plain file name", ex.Message);
        Assert.Empty(await ListKeysAsync(bucket, "team-a/.shares/"));
    }

    [Theory]
    [InlineData("%2e%2e/")]
    [InlineData("team-a/..b/")]
    [InlineData("team.a/")]
    [InlineData("team?#a b+%/")]
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

    [Theory]
    [InlineData("../../team-b/dump-1/p000000-000000.chunk")]
    [InlineData("x/../../../team-b/dump-1/p000000-000000.chunk")]
    [InlineData("/team-b/dump-1/p000000-000000.chunk")]
    [InlineData("..\\..\\team-b\\dump-1\\p000000-000000.chunk")]
    public async Task Share_ManifestChunkKeyEditedIntoAnotherPrefix_RefusedBeforeAnyLinkIsSigned(string edited)
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

    [Fact]
    public async Task DeleteAbandonedAsync_AnotherBridgeNestedInTheRootBridge_IsNotALeftover()
    {
        string bucket = await Server.CreateBucketAsync();
        using var teamB = new S3Bridge(Server.Options(bucket, "team-b/"));
        await WriteDumpAsync(teamB, "dump-1", Bytes(100, seed: 2), chunkSize: 50);
        // "team-b/dump-2/" holds only a chunk: its folder in "team-b/" looks like a dump's as well.
        await PutAsync(bucket, "team-b/dump-2/p000000-000000.chunk", "chunk");
        // What a killed writer left at the root, beside it: that one is ours.
        await PutAsync(bucket, "killed/.writing", "pid 1 on host");
        await PutAsync(bucket, "killed/p000000-000000.chunk", "chunk");
        List<string> teamBKeys = await ListKeysAsync(bucket, "team-b/");
        // Two days later, a bridge at the bucket root: "team-b/" is a folder whose newest object is old. Before, it was
        // removed whole as an abandoned dump, index.json and all.
        using var root = new S3Bridge(Server.Options(bucket, "") with { TimeProvider = new ShiftedClock(TimeSpan.FromDays(2)) });

        Assert.Equal(["killed"], await root.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: true, s_none));
        Assert.Equal(["killed"], await root.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: false, s_none));

        // Only the root bridge's own (empty) index.json is new: removing a dead writer's marker rewrites it (see
        // ObjectBridge.RemoveAbandonedAsync), creating it when there is none.
        Assert.Equal(["index.json", .. teamBKeys], await ListKeysAsync(bucket));
        Assert.Equal(["dump-1"], await ListedNamesAsync(teamB));
    }

    [Fact]
    public async Task DisposeAsync_WriterAtTheRootWhileABridgeStartsInItsFolder_RemovesOnlyItsOwnObjects()
    {
        string bucket = await Server.CreateBucketAsync();
        using var root = new S3Bridge(Server.Options(bucket, ""));
        using var teamB = new S3Bridge(Server.Options(bucket, "team-b/"));
        // A dump named "team-b" at the bucket root, while "team-b/" is still empty; meanwhile a bridge starts there.
        await using (IDumpWriter writer = await root.BeginDumpAsync("team-b", s_none))
        {
            byte[] chunk = Bytes(10);
            await writer.WriteChunkAsync(chunk, SHA256.HashData(chunk), s_none);
            await WriteDumpAsync(teamB, "dump-1", Bytes(100, seed: 2), chunkSize: 50);
            // Never completed: disposing removes what the writer stored. Before, that was everything under "team-b/".
        }

        Assert.Equal(["dump-1"], await ListedNamesAsync(teamB));
        Assert.Equal(
            ["team-b/dump-1/manifest.json", "team-b/dump-1/p000000-000000.chunk", "team-b/dump-1/p000000-000001.chunk", "team-b/index.json"],
            await ListKeysAsync(bucket));
    }

    [Fact]
    public async Task DeleteAsync_IndexEditedToListAnotherBridgesFolder_RefusedAndNothingDeleted()
    {
        string bucket = await Server.CreateBucketAsync();
        using var teamB = new S3Bridge(Server.Options(bucket, "team-b/"));
        await WriteDumpAsync(teamB, "dump-1", Bytes(100, seed: 2), chunkSize: 50);
        using var root = new S3Bridge(Server.Options(bucket, ""));
        DumpEntry mine = await WriteDumpAsync(root, "dump-9", Bytes(100, seed: 3), chunkSize: 50);
        // Someone who can write to the bucket lists "team-b" in the root bridge's index, as its oldest dump.
        JsonNode index = JsonNode.Parse(await GetBytesAsync(bucket, "index.json"))!;
        JsonNode forged = index["dumps"]![0]!.DeepClone();
        forged["name"] = "team-b";
        forged["created_at"] = 0;
        index["dumps"]!.AsArray().Add(forged);
        await PutAsync(bucket, "index.json", index.ToJsonString());
        List<string> keys = await ListKeysAsync(bucket);

        // Retention keeping the newest dump picks "team-b"; before, deleting it removed every object under "team-b/".
        (IReadOnlyList<string> selected, _) = await DeleteRequest.SelectAsync(root, null, null, keepLast: 1, DateTimeOffset.UtcNow, s_none);
        Assert.Equal(["team-b"], selected);
        var ex = await Assert.ThrowsAsync<BridgeException>(() => root.DeleteAsync("team-b", s_none));

        Assert.Contains("'team-b' in S3 bucket", ex.Message);
        Assert.Contains($"s3://{bucket}/team-b/dump-1/", ex.Message);
        Assert.Contains("nothing was deleted", ex.Message);
        Assert.Equal(keys, await ListKeysAsync(bucket));
        Assert.Equal(["dump-1"], await ListedNamesAsync(teamB));
        // index rebuild drops the forged entry (no manifest at team-b/manifest.json) and keeps the real one.
        Assert.Equal([mine], await root.RebuildIndexAsync(s_none));
        Assert.Equal(keys, await ListKeysAsync(bucket));
    }

    [Fact]
    public async Task EveryCommand_PrefixThatStartsAnotherTeamsPrefix_SendsNoRequestOutsideIt()
    {
        string bucket = await Server.CreateBucketAsync();
        // "team/" is a string prefix of "team-b/"'s keys but for its '/': listing "team" would return both.
        using var teamB = new S3Bridge(Server.Options(bucket, "team-b/"));
        await WriteDumpAsync(teamB, "dump-1", Bytes(3000, seed: 2), chunkSize: 1000);
        SharedDump teamBShare = await DumpShare.ShareAsync(teamB, "dump-1", TimeSpan.FromHours(1), s_none);
        await PutAsync(bucket, "team-b/killed/.writing", "pid 1 on host");
        await PutAsync(bucket, "team-bkilled/.writing", "pid 1 on host");
        List<string> others = [.. (await ListKeysAsync(bucket)).Where(k => !k.StartsWith("team/", StringComparison.Ordinal))];
        var recorder = new KeyRecorder(bucket);
        using var team = new S3Bridge(Server.Options(bucket, "team/"), recorder);
        // Eight days later: past every share's expiry and every marker's staleness.
        using var later = new S3Bridge(Server.Options(bucket, "team/") with { TimeProvider = new ShiftedClock(TimeSpan.FromDays(8)) }, recorder);
        byte[] data = Bytes(3000, seed: 3);
        string file = Path.Combine(Path.GetTempPath(), $"replica-s3-confined-{Guid.NewGuid():N}.replica");
        try
        {
            await WriteDumpAsync(team, "dump-1", data, chunkSize: 1000);
            await WriteDumpAsync(team, "dump-2", data, chunkSize: 1000);
            Assert.Equal(["dump-1", "dump-2"], await ListedNamesAsync(team));
            Assert.Equal(data, await RestoreAsync(team, "dump-1"));
            SharedDump share = await DumpShare.ShareAsync(team, "dump-1", TimeSpan.FromHours(1), s_none);
            Assert.Equal(data, await RestoreAsync(DumpShare.Open(share.Url.AbsoluteUri), "dump-1"));
            Assert.Equal([share.Id], (await DumpShare.ListAsync(team, s_none)).Select(l => l.Id));
            await Assert.ThrowsAsync<ConfigException>(() => DumpShare.RevokeAsync(team, $"../team-b/.shares/{teamBShare.Id}", s_none));
            var notHere = await Assert.ThrowsAsync<BridgeException>(() => DumpShare.RevokeAsync(team, teamBShare.Id, s_none));
            Assert.Contains($"no share '{teamBShare.Id}'", notHere.Message);
            await DumpShare.ShareAsync(team, "dump-2", TimeSpan.FromHours(1), s_none);
            Assert.Equal(2, (await DumpShare.PruneAsync(later, s_none)).Count);
            await using (FileStream output = File.Create(file))
            {
                await DumpArchive.ExportAsync(team, "dump-1", output, s_none);
            }
            await team.DeleteAsync("dump-1", s_none);
            await ArchiveJob.ImportAsync(team, file, s_none);
            await PutAsync(bucket, "team/killed/.writing", "pid 1 on host");
            Assert.Equal(["killed"], await later.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: false, s_none));
            (IReadOnlyList<string> old, _) = await DeleteRequest.SelectAsync(team, null, null, keepLast: 1, DateTimeOffset.UtcNow, s_none);
            // The import kept dump-1's creation time: it is the older one.
            Assert.Equal(["dump-1"], old);
            await team.DeleteAsync("dump-1", s_none);
            Assert.Equal(["dump-2"], (await team.RebuildIndexAsync(s_none)).Select(e => e.Name));
        }
        finally
        {
            File.Delete(file);
        }

        Assert.NotEmpty(recorder.Keys);
        Assert.All(recorder.Keys, key => Assert.StartsWith("team/", key, StringComparison.Ordinal));
        Assert.Equal(others, [.. (await ListKeysAsync(bucket)).Where(k => !k.StartsWith("team/", StringComparison.Ordinal))]);
        Assert.Equal(["dump-1"], await ListedNamesAsync(teamB));
    }

    /// <summary>
    /// Every key and key prefix an S3 client's requests name (path-style): the object of a GET, PUT, HEAD or DELETE, the
    /// prefix of a listing, each key of a multi-object delete.
    /// </summary>
    sealed class KeyRecorder(string bucket) : DelegatingHandler(new SocketsHttpHandler())
    {
        readonly System.Collections.Concurrent.ConcurrentQueue<string> _keys = new();

        public IReadOnlyCollection<string> Keys => _keys;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Uri uri = request.RequestUri!;
            string path = Uri.UnescapeDataString(uri.AbsolutePath);
            string key = path.StartsWith($"/{bucket}/", StringComparison.Ordinal) ? path[(bucket.Length + 2)..] : "";
            var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
            // "?delete" is a value without a name to ParseQueryString.
            if (request.Method == HttpMethod.Post && (query.GetValues(null) ?? []).Contains("delete"))
            {
                await request.Content!.LoadIntoBufferAsync(cancellationToken);
                string body = await request.Content.ReadAsStringAsync(cancellationToken);
                foreach (System.Xml.Linq.XElement element in System.Xml.Linq.XDocument.Parse(body).Descendants().Where(e => e.Name.LocalName == "Key"))
                {
                    _keys.Enqueue(element.Value);
                }
            }
            else
            {
                _keys.Enqueue(key.Length > 0 ? key : query["prefix"] ?? $"{request.Method} {uri}");
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>A ListObjectsV2 answer of the bridge's prefix holding <paramref name="entries"/>.</summary>
    static string Listing(string delimiter, string entries) =>
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
        + $"<Prefix>replica/</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>{delimiter}<IsTruncated>false</IsTruncated>{entries}</ListBucketResult>";

    [Fact]
    public async Task DeleteAbandoned_ServerListsAFolderOutsideThePrefix_IsABridgeErrorAndNothingIsDeleted()
    {
        string bucket = await Server.CreateBucketAsync();
        var faults = new FaultInjector();
        using var bridge = new S3Bridge(Server.Options(bucket), faults);
        await WriteDumpAsync(bridge, "dump-1", Bytes(3000), chunkSize: 1000);
        var before = await ListKeysAsync(bucket);
        faults.Answer(FaultInjector.IsListing, times: 1,
            Listing("<Delimiter>/</Delimiter>", "<CommonPrefixes><Prefix>other/</Prefix></CommonPrefixes>"));

        var ex = await Assert.ThrowsAsync<BridgeException>(() => bridge.DeleteAbandonedAsync(TimeSpan.FromHours(1), dryRun: false, s_none));

        Assert.Contains("'other/'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, faults.Injected);
        Assert.Equal(before, await ListKeysAsync(bucket));
    }

    [Fact]
    public async Task Delete_ServerListsAKeyOutsideTheDumpsFolder_IsABridgeErrorAndNothingIsDeleted()
    {
        string bucket = await Server.CreateBucketAsync();
        var faults = new FaultInjector();
        using var bridge = new S3Bridge(Server.Options(bucket), faults);
        await WriteDumpAsync(bridge, "dump-1", Bytes(3000), chunkSize: 1000);
        var before = await ListKeysAsync(bucket);
        faults.Answer(FaultInjector.IsListing, times: 1,
            Listing("", "<Contents><Key>rep</Key><Size>1</Size></Contents>"));

        var ex = await Assert.ThrowsAsync<BridgeException>(() => bridge.DeleteAsync("dump-1", s_none));

        Assert.Contains("returned the key 'rep'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, await ListKeysAsync(bucket));
        Assert.Equal(Bytes(3000), await RestoreAsync(bridge, "dump-1"));
    }
}
